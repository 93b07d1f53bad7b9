"""Login pages: the logins a user manages, a new login with a first password, deactivation."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import func, or_, select
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from fieldsvc.db import db
from fieldsvc.text import normalize_digits
from fieldsvc.visits import models as m
from fieldsvc.visits.master import users as accounts
from fieldsvc.visits.scope import NotFound, require_role, scoped
from fieldsvc.web.forms import normalize_filter
from fieldsvc.web.setup import bp
from fieldsvc.web.setup.specs import _contractors, _psps

ROLE_LABELS = {"admin": _l("Administrator"), "psp": _l("Payment company staff"), "dispatcher": _l("Dispatcher"),
               "technician": _l("Technician")}
PER_PAGE = 50


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), filters=[normalize_filter], validators=[DataRequired(), Length(max=80)])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    email = StringField(_l("E-mail"), validators=[Optional(), Length(max=200)])
    role = SelectField(_l("Role"))
    language = SelectField(_l("Language"), choices=[("fa", _l("Persian")), ("en", _l("English"))])
    psp_id = SelectField(_l("Payment company"), validate_choice=False)
    contractor_id = SelectField(_l("Contractor"), validate_choice=False)
    technician_id = SelectField(_l("Technician"), validate_choice=False)
    password = PasswordField(_l("First password (to be changed at first sign-in)"),
                             validators=[DataRequired(), Length(min=8, message=_l("Use at least 8 characters."))])


def _technicians() -> list[tuple[str, str]]:
    return [("", "—")] + [(str(t.id), f"{t.code} — {t.name}") for t in db.session.scalars(
        scoped(m.Technician, current_user).where(m.Technician.active.is_(True)).order_by(m.Technician.code))]


@bp.get("/users")
@login_required
def users_list():
    """The logins the user manages, searchable, 50 a page."""
    require_role(current_user, "admin", "psp", "dispatcher")
    q = normalize_digits(request.args.get("q", "") or "").strip().lower()[:80]
    stmt = select(m.User).where(accounts.users_clause(current_user))
    if q:
        stmt = stmt.where(or_(func.lower(m.User.username).contains(q, autoescape=True),
                              func.lower(m.User.name).contains(q, autoescape=True)))
    page_raw = normalize_digits(request.args.get("page", "1"))
    page = max(1, int(page_raw)) if page_raw.isdigit() and len(page_raw) < 7 else 1
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    users = db.session.scalars(stmt.order_by(m.User.username).offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()
    return render_template("setup/users.html", users=users, q=q, total=total, page=page,
                           pages=max(1, -(-total // PER_PAGE)), roles=ROLE_LABELS)


@bp.route("/users/new", methods=["GET", "POST"])
@login_required
def users_new():
    """A new login within the user's scope; its password must be changed at first sign-in."""
    require_role(current_user, "admin", "psp", "dispatcher")
    form = LoginForm()
    form.role.choices = [(r, ROLE_LABELS[r]) for r in accounts.manageable_roles(current_user)]
    form.psp_id.choices = [("", "—")] + _psps(current_user)
    form.contractor_id.choices = [("", "—")] + _contractors(current_user)
    form.technician_id.choices = _technicians()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            def _id(field: SelectField) -> int | None:
                raw = normalize_digits(field.data or "")
                return int(raw) if raw.isdigit() and len(raw) < 10 else None
            try:
                user = accounts.create_user(current_user, username=form.username.data, password=form.password.data,
                                            role=form.role.data, name=form.name.data or "",
                                            email=form.email.data or "", language=form.language.data,
                                            psp_id=_id(form.psp_id), contractor_id=_id(form.contractor_id),
                                            technician_id=_id(form.technician_id))
                flash(_("Login %(name)s created. Give the first password to its owner: it must be changed at "
                        "the first sign-in.", name=user.username), "success")
                return redirect(url_for("setup.users_list"))
            except accounts.UserError as e:
                db.session.rollback()
                target = form._fields.get(e.field)
                if target is not None:
                    target.errors = list(target.errors) + [e.message]
                else:
                    flash(e.message, "danger")
        status = 422
    return render_template("setup/user_form.html", form=form), status


@bp.post("/users/<int:user_id>/deactivate")
@login_required
def users_deactivate(user_id: int):
    """The login stops working on its next request, API tokens included."""
    require_role(current_user, "admin", "psp", "dispatcher")
    user = db.session.scalars(select(m.User).where(m.User.id == user_id, accounts.users_clause(current_user))).first()
    if user is None:
        raise NotFound("User", user_id)
    try:
        accounts.update_user(current_user, user, {"active": False})
        flash(_("Login %(name)s deactivated.", name=user.username), "success")
    except accounts.UserError as e:
        db.session.rollback()
        flash(e.message, "danger")
    return redirect(url_for("setup.users_list"))


class EditLoginForm(FlaskForm):
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    email = StringField(_l("E-mail"), validators=[Optional(), Length(max=200)])
    language = SelectField(_l("Language"), choices=[("fa", _l("Persian")), ("en", _l("English"))])
    password = PasswordField(_l("New first password (leave empty to keep the password)"),
                             validators=[Optional(), Length(min=8, message=_l("Use at least 8 characters."))])


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@login_required
def users_edit(user_id: int):
    """Name, e-mail, language; a new first password (to be changed at the next sign-in)."""
    require_role(current_user, "admin", "psp", "dispatcher")
    user = db.session.scalars(select(m.User).where(m.User.id == user_id, accounts.users_clause(current_user))).first()
    if user is None:
        raise NotFound("User", user_id)
    form = EditLoginForm(data={"name": user.name, "email": user.email, "language": user.language or "fa"})
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            changes = {"name": form.name.data or "", "email": form.email.data or "", "language": form.language.data}
            if form.password.data:
                changes["password"] = form.password.data
            try:
                accounts.update_user(current_user, user, changes)
                flash(_("Changes saved."), "success")
                return redirect(url_for("setup.users_list"))
            except accounts.UserError as e:
                db.session.rollback()
                flash(e.message, "danger")
        status = 422
    return render_template("setup/user_edit.html", form=form, user=user), status
