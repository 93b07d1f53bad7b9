"""Authentication rules: password check with lockout after repeated failures, audited; the end of
every session and token of a user (logout, password change, deactivation).

Lockout is kept per typed username *and* client address (:class:`LoginLock`): five wrong passwords
in a row from one address lock that username from that address for 15 minutes, whether or not the
account exists, so the answer does not tell real accounts from unknown ones and nobody can lock a
real user out from elsewhere. An unknown username costs one password hash like a known one (the
time of the answer does not tell them apart either). An administrator can lift every lock of a user.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, event, func, select, update
from sqlalchemy.orm import object_session
from werkzeug.security import check_password_hash

from fieldsvc.db import db, utcnow
from fieldsvc.text import normalize_code
from fieldsvc.visits import models as m
from fieldsvc.visits.audit import record
from fieldsvc.visits.models import ApiToken, LoginLock, User

def N_(message: str) -> str:
    """Marks a message for the translation catalogue; the web layer translates it when shown."""
    return message


MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
WRONG_CREDENTIALS = N_("Wrong username or password.")
LOCKED = N_("Too many failed logins for this username from your network. Try again in 15 minutes, "
            "or ask an administrator to unlock your account.")


class LoginError(ValueError):
    """Wrong credentials or a locked account; the message is safe to show. `new_lock` is set when
    this attempt locked a real, active user (the web layer mails them a link to lift it)."""

    def __init__(self, message: str, new_lock: tuple[User, str] | None = None) -> None:
        super().__init__(message)
        self.new_lock = new_lock


def normalize_username(text: str) -> str:
    """The one spelling of a typed username: NFKC, ASCII digits, no spaces, lower case."""
    return normalize_code(text or "").lower()


_dummy_hashes: dict[object, str] = {}


def _dummy_hash() -> str:
    """A hash made like real ones (same method and cost), checked when the username is unknown."""
    maker = m.generate_password_hash
    if maker not in _dummy_hashes:
        _dummy_hashes[maker] = maker("not a password of anyone")
    return _dummy_hashes[maker]


def authenticate(username: str, password: str, address: str = "") -> User:
    """The user if the password is right; LoginError otherwise. Commits the audit either way.

    `address` is the client's address (the lockout is per username and address)."""
    username = normalize_username(username)
    address = (address or "")[:64]
    user = db.session.scalars(select(User).where(func.lower(User.username) == username)).first()
    now = utcnow()
    lock = db.session.get(LoginLock, (username[:80], address))
    if lock is not None and lock.locked_until and lock.locked_until > now:
        record("login_locked", user, object_type="user", actor=None, username=username, address=address)
        db.session.commit()
        raise LoginError(LOCKED)
    right = check_password_hash(user.password_hash if user else _dummy_hash(), password or "")
    if user is None or not user.is_active or not right:
        if lock is None:
            lock = LoginLock(username=username[:80], address=address, failures=0)
            db.session.add(lock)
        lock.failures = (lock.failures or 0) + 1
        lock.updated_at = now
        new_lock = None
        if lock.failures >= MAX_FAILURES:
            lock.locked_until, lock.failures = now + LOCKOUT, 0
            new_lock = (user, address) if user is not None and user.is_active else None
        record("login_failed", user, object_type="user", actor=None, username=username, address=address)
        db.session.commit()
        raise LoginError(WRONG_CREDENTIALS, new_lock)
    if lock is not None:
        db.session.delete(lock)
    user.last_login_at = now
    record("login", user, actor=user)
    db.session.commit()
    return user


def unlock(user: User, actor: User) -> int:
    """Lift every login lock of `user` (all addresses); the number lifted. Audited, committed."""
    result = db.session.execute(delete(LoginLock).where(LoginLock.username == normalize_username(user.username)))
    record("login_unlocked", user, actor=actor, locks=result.rowcount)
    db.session.commit()
    return result.rowcount or 0


def unlock_address(username: str, address: str) -> bool:
    """Lift the lock of one username from one address (the user's e-mailed link); audited, committed."""
    lock = db.session.get(LoginLock, (normalize_username(username)[:80], (address or "")[:64]))
    if lock is None or lock.locked_until is None:
        return False
    user = db.session.scalars(select(User).where(func.lower(User.username) == lock.username)).first()
    db.session.delete(lock)
    record("login_unlocked", user, object_type="user", actor=user, address=address, by="e-mail")
    db.session.commit()
    return True


def end_sessions(user: User, *, revoke_tokens: bool) -> None:
    """End every session of `user` (cookies made before are refused) and, if asked, revoke every
    API token. The caller commits."""
    user.session_generation = (user.session_generation or 0) + 1
    if revoke_tokens:
        db.session.execute(update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                           .values(revoked_at=utcnow()))


def logout(user: User) -> None:
    """Log out: every session of the user ends (on every device). API tokens stay valid: they are
    separate credentials of scripts and integrations, revoked one by one on the account page."""
    end_sessions(user, revoke_tokens=False)
    record("logout", user, actor=user)
    db.session.commit()


def change_password(user: User, current: str, new: str) -> None:
    """Set a new password after checking the current one (LoginError if wrong); every session and
    token of the user ends. Audited, committed."""
    if not user.check_password(current or ""):
        record("password_change_failed", user, actor=user)
        db.session.commit()
        raise LoginError(N_("The current password is wrong."))
    user.set_password(new)
    user.must_change_password = False
    end_sessions(user, revoke_tokens=True)
    record("password_changed", user, actor=user)
    db.session.commit()


@event.listens_for(User.is_active_user, "set")
def _deactivated(user: User, value: bool, old: object, _initiator: object) -> None:
    """Deactivating a user (by any code path) ends their sessions and revokes their tokens."""
    if value is False and old is True and user.id is not None:
        user.session_generation = (user.session_generation or 0) + 1
        session = object_session(user) or db.session
        with session.no_autoflush:
            for row in session.scalars(select(ApiToken).where(ApiToken.user_id == user.id,
                                                              ApiToken.revoked_at.is_(None))):
                row.revoked_at = utcnow()
