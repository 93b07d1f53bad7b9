"""In-app notifications (the bell): mentions, hand-overs, dispatches and escalation alerts.

A notification belongs to one user and is shown in that user's language from its ``kind`` and
``data`` (see ``fieldsvc.web.desk``); reading marks it read. Functions that only add rows leave
the commit to the caller's transaction.
"""
from __future__ import annotations

from typing import Any, Iterable, Optional

from sqlalchemy import func, select, update

from fieldsvc.db import db, utcnow
from fieldsvc.visits.desk_models import Notification
from fieldsvc.visits.models import ServiceCall, User

#: What a notification says happened.
KINDS = ("mention", "handover", "dispatched", "escalation", "breach_soon")


def notify(user_ids: Iterable[int], kind: str, call: Optional[ServiceCall] = None, **data: Any) -> list[Notification]:
    """Add one notification per distinct user (the caller commits)."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    out = []
    for uid in dict.fromkeys(user_ids):
        n = Notification(user_id=uid, kind=kind, call_id=call.id if call is not None else None, data=data,
                         created_at=utcnow())
        db.session.add(n)
        out.append(n)
    return out


def unread_count(user: User) -> int:
    """How many notifications the user has not read."""
    return db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def latest(user: User, limit: int = 100) -> list[Notification]:
    """The user's notifications, unread first, newest first."""
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id).order_by(
        Notification.read_at.is_not(None), Notification.created_at.desc(), Notification.id.desc()).limit(limit)))


def mark_read(user: User, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications read (all of them when ``ids`` is None); commits. Returns how
    many changed; ids of other users' notifications are ignored."""
    q = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if ids is not None:
        ids = list(ids)
        if not ids:
            return 0
        q = q.where(Notification.id.in_(ids))
    changed = db.session.execute(q.values(read_at=utcnow())).rowcount or 0
    db.session.commit()
    return changed
