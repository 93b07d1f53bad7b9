"""The e-mail that lets a locked-out user lift the lock themselves.

When five wrong passwords lock a real, active account from one address, the account's e-mail (if
it has one) receives a link valid for the lock's 15 minutes; opening it lifts that lock (that
username, that address) — only the mailbox's owner can, and it also warns them that someone tried
their password."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer

from fieldsvc.visits.master import accounts
from fieldsvc.visits.models import User
from fieldsvc.web.mail import Mail, deliver

bp = Blueprint("unlock", __name__)
SALT = "fieldsvc-login-unlock"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def mail_unlock_link(user: User, address: str) -> None:
    """Send `user` the link that lifts the lock from `address` (no mail address: nothing sent)."""
    if not user.email:
        return
    token = _serializer().dumps({"u": user.username, "a": address})
    link = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url_for("unlock.unlock", token=token)
    language = user.language if user.language in current_app.config["LANGUAGES"] else \
        current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(language):
        values = {"user": user, "address": address, "link": link, "minutes": int(accounts.LOCKOUT.total_seconds() // 60),
                  "lang_code": language, "direction": "rtl" if language == "fa" else "ltr"}
        mail = Mail(user.email, _("Your fieldsvc account was locked"), render_template("email/unlock.txt", **values),
                    render_template("email/unlock.html", **values), f"unlock-{user.id}", language)
    try:
        deliver([mail])
    except Exception:
        current_app.logger.exception("could not mail the unlock link to user %s", user.id)


@bp.get("/login/unlock/<token>")
def unlock(token: str):
    try:
        data = _serializer().loads(token, max_age=int(accounts.LOCKOUT.total_seconds()))
    except BadSignature:
        abort(404)
    if accounts.unlock_address(str(data.get("u", "")), str(data.get("a", ""))):
        flash(_("Your account is unlocked. Log in again; if the failed logins were not yours, change your "
                "password."), "success")
    return redirect(url_for("auth.login"))
