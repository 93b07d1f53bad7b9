"""Login, logout, language switch, the role-aware home page and the user's own account page
(language, Rial/Toman, password, API tokens)."""
from __future__ import annotations

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request, session,
                   url_for)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

from fieldsvc.db import db, utcnow
from fieldsvc.visits.master.accounts import LoginError, authenticate, change_password
from fieldsvc.visits.master.accounts import logout as end_all_sessions
from fieldsvc.visits.audit import record
from fieldsvc.visits.models import ApiToken, Role
from fieldsvc.web.extensions import limiter
from fieldsvc.web.ratelimits import username_key
from fieldsvc.web.forms import text_filter
from fieldsvc.web.redirects import safe_redirect_target
from fieldsvc.web.security import client_address, issue_token, start_session
from fieldsvc.web.unlock import mail_unlock_link

bp = Blueprint("auth", __name__)

HOME_BY_ROLE = {Role.ADMIN: "dispatch.board", Role.PSP: "psp.home",
                Role.DISPATCHER: "dispatch.board", Role.TECHNICIAN: "tech.route"}


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class _AccountForm(FlaskForm):
    """Forms of the account page; CSRF is checked for every POST by fieldsvc.web.security."""

    class Meta:
        csrf = False


class SettingsForm(_AccountForm):
    language = SelectField(_l("Language"), choices=[SelectChoice("fa", "فارسی", render_kw={"lang": "fa"}),
                                                    SelectChoice("en", "English", render_kw={"lang": "en"})])
    show_toman = BooleanField(_l("Show amounts in Toman (1 Toman = 10 Rial)"))


class PasswordForm(_AccountForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password"), validators=[
        DataRequired(), Length(min=8, message=_l("Use at least 8 characters."))])
    repeat = PasswordField(_l("Repeat the new password"), validators=[
        DataRequired(), EqualTo("new", message=_l("The two new passwords differ."))])


class TokenForm(_AccountForm):
    name = StringField(_l("Token name (what it is for)"), filters=[text_filter],
                       validators=[DataRequired(), Length(max=100)])


#: Login attempts (the login page and the API token endpoint together): per address, and per
#: account whatever the address (the account itself also locks for 15 minutes after 5 wrong
#: passwords in a row, see fieldsvc.visits.master.accounts).
LOGIN_LIMITS = [limiter.shared_limit("20 per minute", scope="login-address", methods=["POST"]),
                limiter.shared_limit("10 per minute", scope="login-account", methods=["POST"],
                                     key_func=username_key)]


@bp.route("/login", methods=["GET", "POST"])
@LOGIN_LIMITS[0]
@LOGIN_LIMITS[1]
def login():
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            user = authenticate(form.username.data, form.password.data, client_address())
        except LoginError as e:
            error = _(str(e))
            if e.new_lock:
                mail_unlock_link(*e.new_lock)
        else:
            start_session(user)
            return redirect(safe_redirect_target(request.args.get("next")) or url_for("auth.home"))
    return render_template("auth/login.html", form=form, error=error), (401 if error else 200)


@bp.post("/logout")
@login_required
def logout():
    end_all_sessions(current_user._get_current_object())
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.post("/lang/<code>")
def set_language(code: str):
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
        if current_user.is_authenticated:
            current_user.language = code
            db.session.commit()
    return redirect(safe_redirect_target(request.form.get("next")) or url_for("auth.home"))


@bp.get("/")
@login_required
def home():
    endpoint = HOME_BY_ROLE.get(current_user.role, "auth.login")
    if endpoint not in current_app.view_functions:
        return render_template("home.html")
    return redirect(url_for(endpoint))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    """The user's own settings: language, Toman, password; their API tokens."""
    user = current_user._get_current_object()
    settings = SettingsForm(prefix="s", language=user.language or lang_default(), show_toman=user.show_toman)
    password = PasswordForm(prefix="p")
    token_form = TokenForm(prefix="t")
    new_token = None
    status = 200
    if request.method == "POST":
        action = request.form.get("action")
        if action not in ("settings", "password", "token"):
            abort(400)
        if action == "settings" and settings.validate_on_submit():
            user.language, user.show_toman = settings.language.data, bool(settings.show_toman.data)
            session["lang"] = user.language
            record("settings_changed", user, actor=user, language=user.language, show_toman=user.show_toman)
            db.session.commit()
            flash(_("Your settings were saved."), "success")
            return redirect(url_for("auth.account"))
        if action == "password" and password.validate_on_submit():
            try:
                change_password(user, password.current.data, password.new.data)
            except LoginError as e:
                password.current.errors = [_(str(e))]
            else:
                start_session(user)  # this session goes on; every other one (and every token) ended
                flash(_("Your password was changed."), "success")
                return redirect(url_for("auth.account"))
        if action == "token" and token_form.validate_on_submit():
            new_token, _row = issue_token(user, current_app.config["TOKEN_TTL_DAYS"], token_form.name.data)
            record("token_issued", user, actor=user, name=token_form.name.data)
            db.session.commit()
            token_form = TokenForm(prefix="t", formdata=None)
        else:
            status = 422
    tokens = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                .order_by(ApiToken.created_at.desc())).all()
    return render_template("auth/account.html", settings=settings, password=password, token_form=token_form,
                           tokens=tokens, new_token=new_token, now=utcnow()), status


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    """Revoke one of the user's own API tokens (another user's token is not found)."""
    user = current_user._get_current_object()
    row = db.session.scalars(select(ApiToken).where(ApiToken.id == token_id,
                                                    ApiToken.user_id == user.id)).first()
    if row is None:
        abort(404)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        record("token_revoked", user, actor=user, token_id=row.id, name=row.name)
        db.session.commit()
        flash(_("The token was revoked; it no longer works."), "success")
    return redirect(url_for("auth.account"))


def lang_default() -> str:
    from fieldsvc.web.i18n import lang
    return lang()

