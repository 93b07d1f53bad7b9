"""Logins: create (with a first password to change at first login), edit, deactivate; audited.

Who manages whom: an admin manages every login; PSP staff the logins of their PSP; a dispatcher
the technician logins of their contractor. Deactivation takes effect on the next request (the
session loader and the token loader both check ``User.is_active``).
"""
from __future__ import annotations

from typing import Any, Optional

from sqlalchemy import func, or_, select

from fieldsvc.db import db
from fieldsvc.text import normalize_digits
from fieldsvc.visits.audit import record
from fieldsvc.visits.i18n_text import gettext as _
from fieldsvc.visits.models import Contractor, Psp, Role, Technician, User

MIN_PASSWORD = 8
LANGUAGES = ("fa", "en")


class UserError(ValueError):
    """Bad user data; ``field`` names the input, ``status`` the HTTP status to answer."""

    def __init__(self, field: str, message: str, status: int = 422) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message, self.status = field, message, status


def manageable_roles(actor: User) -> tuple[str, ...]:
    """The roles of the logins ``actor`` may create and edit."""
    if actor.role == Role.ADMIN:
        return tuple(r.value for r in Role)
    if actor.role == Role.PSP:
        return (Role.PSP.value,)
    if actor.role == Role.DISPATCHER:
        return (Role.DISPATCHER.value, Role.TECHNICIAN.value)
    return ()


def users_clause(actor: User) -> Any:
    """WHERE clause: the logins ``actor`` may see and manage."""
    if actor.role == Role.ADMIN:
        return User.id.isnot(None)
    if actor.role == Role.PSP and actor.psp_id is not None:
        return User.psp_id == actor.psp_id
    if actor.role == Role.DISPATCHER and actor.contractor_id is not None:
        return or_(User.contractor_id == actor.contractor_id,
                   User.technician_id.in_(select(Technician.id).where(Technician.contractor_id == actor.contractor_id)))
    return User.id.is_(None)


def check_password(password: Optional[str], field: str = "password") -> str:
    if not password or len(password) < MIN_PASSWORD:
        raise UserError(field, _("Use at least %(count)s characters.", count=MIN_PASSWORD))
    return password


def _scope(actor: User, role: str, psp_id: Optional[int], contractor_id: Optional[int],
           technician_id: Optional[int]) -> tuple[Optional[int], Optional[int], Optional[int]]:
    """The (psp, contractor, technician) of a login of ``role``, checked against the actor's scope."""
    if role not in manageable_roles(actor):
        raise UserError("role", _("You may not manage logins with the role %(role)s.", role=role), 403)
    if actor.role == Role.PSP:
        psp_id = actor.psp_id
    if actor.role == Role.DISPATCHER:
        contractor_id = actor.contractor_id
    if role == Role.ADMIN:
        return None, None, None
    if role == Role.PSP:
        if psp_id is None or db.session.get(Psp, psp_id) is None:
            raise UserError("psp_id", _("Choose the payment company this login works for."))
        return psp_id, None, None
    if role == Role.DISPATCHER:
        if contractor_id is None or db.session.get(Contractor, contractor_id) is None:
            raise UserError("contractor_id", _("Choose the contractor this dispatcher works for."))
        return None, contractor_id, None
    tech = db.session.get(Technician, technician_id) if technician_id is not None else None
    if tech is None or (contractor_id is not None and tech.contractor_id != contractor_id):
        raise UserError("technician_id", _("Choose the technician this login belongs to."))
    return None, tech.contractor_id, tech.id


def create_user(actor: Optional[User], *, username: str, password: str, role: str, name: str = "",
                email: str = "", language: Optional[str] = None, psp_id: Optional[int] = None,
                contractor_id: Optional[int] = None, technician_id: Optional[int] = None,
                must_change_password: bool = True, commit: bool = True) -> User:
    """A new login; ``actor`` None is the command line (first admin). The password is a first
    password the user must change at first login unless ``must_change_password`` is False."""
    username = normalize_digits(username or "").strip().lower()
    if not username or len(username) > 80 or any(c.isspace() for c in username):
        raise UserError("username", _("Give a username without spaces (at most 80 characters)."))
    if db.session.scalar(select(func.count()).select_from(User).where(func.lower(User.username) == username)):
        raise UserError("username", _("The username %(name)s is taken; choose another.", name=username), 409)
    if role not in {r.value for r in Role}:
        raise UserError("role", f"choose one of {[r.value for r in Role]}")
    if language is not None and language not in LANGUAGES:
        raise UserError("language", "choose fa or en")
    check_password(password)
    if actor is None:
        scope = (psp_id, contractor_id, technician_id) if role != Role.ADMIN else (None, None, None)
    else:
        scope = _scope(actor, role, psp_id, contractor_id, technician_id)
    user = User(username=username, name=(name or "").strip(), email=(email or "").strip(), role=role,
                language=language, psp_id=scope[0], contractor_id=scope[1], technician_id=scope[2],
                must_change_password=must_change_password)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    record("user_created", user, actor=actor, role=role)
    if commit:
        db.session.commit()
    return user


def update_user(actor: User, user: User, changes: dict[str, Any], commit: bool = True) -> User:
    """Change name, e-mail, language, role/scope, active flag or set a new first password."""
    allowed = {"name", "email", "language", "role", "psp_id", "contractor_id", "technician_id", "active", "password"}
    unknown = set(changes) - allowed
    if unknown:
        raise UserError(sorted(unknown)[0], "cannot be changed here")
    if user.id == actor.id and changes.get("active") is False:
        raise UserError("active", _("You cannot deactivate your own login."))
    if "language" in changes and changes["language"] not in (None, *LANGUAGES):
        raise UserError("language", "choose fa or en")
    role = changes.get("role", user.role)
    if {"role", "psp_id", "contractor_id", "technician_id"} & set(changes):
        user.psp_id, user.contractor_id, user.technician_id = _scope(
            actor, role, changes.get("psp_id", user.psp_id), changes.get("contractor_id", user.contractor_id),
            changes.get("technician_id", user.technician_id))
        user.role = role
    for key in ("name", "email", "language"):
        if key in changes:
            setattr(user, key, (changes[key] or "").strip() if key != "language" else changes[key])
    if "password" in changes:
        user.set_password(check_password(changes["password"]))
        user.must_change_password = True
    if "active" in changes:
        user.is_active_user = bool(changes["active"])
    record("user_updated", user, actor=actor, fields=sorted(k for k in changes if k != "password"))
    if commit:
        db.session.commit()
    return user
