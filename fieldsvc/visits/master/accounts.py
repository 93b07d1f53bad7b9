"""Authentication rules: password check with lockout after repeated failures, audited."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from fieldsvc.db import db, utcnow
from fieldsvc.visits.audit import record
from fieldsvc.visits.models import User
from fieldsvc.text import normalize_digits

def N_(message: str) -> str:
    """Marks a message for the translation catalogue; the web layer translates it when shown."""
    return message


MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)


class LoginError(ValueError):
    """Wrong credentials or a locked account; the message is safe to show."""


def authenticate(username: str, password: str) -> User:
    """The user if the password is right; LoginError otherwise. Commits the audit either way."""
    username = normalize_digits(username or "").strip().lower()
    user = db.session.scalars(select(User).where(func.lower(User.username) == username)).first()
    now = utcnow()
    if user is not None and user.locked_until and user.locked_until > now:
        record("login_locked", user, actor=user)
        db.session.commit()
        raise LoginError(N_("This account is locked after repeated failed logins. Try again in 15 minutes."))
    if user is None or not user.is_active or not user.check_password(password or ""):
        if user is not None:
            user.failed_logins += 1
            if user.failed_logins >= MAX_FAILURES:
                user.locked_until = now + LOCKOUT
                user.failed_logins = 0
        record("login_failed", user, object_type="user", actor=None, username=username)
        db.session.commit()
        raise LoginError(N_("Wrong username or password."))
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    record("login", user, actor=user)
    db.session.commit()
    return user


def change_password(user: User, current: str, new: str) -> None:
    """Set a new password after checking the current one (LoginError if wrong); audited, committed."""
    if not user.check_password(current or ""):
        record("password_change_failed", user, actor=user)
        db.session.commit()
        raise LoginError(N_("The current password is wrong."))
    user.set_password(new)
    user.must_change_password = False
    record("password_changed", user, actor=user)
    db.session.commit()
