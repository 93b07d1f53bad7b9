"""A first password set by an administrator must be replaced before anything else is done."""
from __future__ import annotations

from flask import Flask, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from fieldsvc.web.errors import ApiError

#: What a user with a first password may still reach: the account page (to change it), sign-out,
#: the language switch and static files.
ALLOWED = frozenset({"auth.account", "auth.logout", "auth.set_language", "static", "vendor"})


def init_first_password(app: Flask) -> None:
    @app.before_request
    def _must_change_password():
        if request.endpoint in ALLOWED or not current_user.is_authenticated:
            return None
        if not getattr(current_user, "must_change_password", False):
            return None
        message = _("Choose your own password first: the one you were given is only for the first sign-in.")
        if request.path.startswith("/api/"):
            raise ApiError(403, "password_change_required", message, "password")
        flash(message, "warning")
        return redirect(url_for("auth.account"))
