"""Login, logout, language switch and the role-aware home page."""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

from fieldsvc.db import db
from fieldsvc.visits.accounts import LoginError, authenticate
from fieldsvc.visits.audit import record
from fieldsvc.visits.models import Role
from fieldsvc.web.extensions import limiter

bp = Blueprint("auth", __name__)

HOME_BY_ROLE = {Role.ADMIN: "dispatch.board", Role.PSP: "psp.home",
                Role.DISPATCHER: "dispatch.board", Role.TECHNICIAN: "tech.route"}


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


def _safe_next(target: str | None) -> str | None:
    return target if target and target.startswith("/") and not target.startswith("//") else None


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def login():  # noqa: ANN201
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            user = authenticate(form.username.data, form.password.data)
        except LoginError as e:
            error = _(str(e))
        else:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")) or url_for("auth.home"))
    return render_template("auth/login.html", form=form, error=error), (401 if error else 200)


@bp.post("/logout")
@login_required
def logout():  # noqa: ANN201
    record("logout", current_user._get_current_object(), actor=current_user._get_current_object())
    db.session.commit()
    logout_user()
    return redirect(url_for("auth.login"))


@bp.post("/lang/<code>")
def set_language(code: str):  # noqa: ANN201
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
        if current_user.is_authenticated:
            current_user.language = code
            db.session.commit()
    return redirect(_safe_next(request.form.get("next")) or url_for("auth.home"))


@bp.get("/")
@login_required
def home():  # noqa: ANN201
    endpoint = HOME_BY_ROLE.get(current_user.role, "auth.login")
    if endpoint not in current_app.view_functions:
        return render_template("home.html")
    return redirect(url_for(endpoint))
