"""Notes on a service call by staff (issue 21): never shown on the merchant's tracking page.

Three kinds (:class:`~fieldsvc.visits.desk_models.NoteKind`): ``internal`` (staff only),
``remote_step`` (something done remotely; staff only) and ``merchant`` (a message e-mailed to the
merchant through the mail outbox). A remote step and a note to the merchant are human actions that
stop the first-response clock. ``@username`` mentions a colleague who may see the call: that user
gets an in-app notification; a mention of anyone else refuses the whole note.
"""
from __future__ import annotations

import re

from sqlalchemy import select

from fieldsvc.db import db, utcnow
from fieldsvc.visits.audit import record
from fieldsvc.visits.desk import first_response, inbox
from fieldsvc.visits.desk.errors import CallError
from fieldsvc.visits.desk_models import CallNote, NoteKind
from fieldsvc.visits.i18n_text import gettext as _
from fieldsvc.visits.models import Role, ServiceCall, User
from fieldsvc.visits.scope import require_role, scoped

NOTE_MAX = 4000
#: ``@username`` not preceded by a word character (so e-mail addresses are no mentions).
MENTION = re.compile(r"(?<![\w@.])@([A-Za-z0-9][A-Za-z0-9_.-]{0,79})")
STAFF_ROLES = (Role.ADMIN, Role.PSP, Role.DISPATCHER)


def mentioned_usernames(body: str) -> list[str]:
    """The usernames mentioned in ``body``, in order, without repeats (a trailing dot is punctuation)."""
    return list(dict.fromkeys(m.rstrip(".") for m in MENTION.findall(body or "")))


def _can_see(user: User, call: ServiceCall) -> bool:
    return db.session.scalars(scoped(ServiceCall, user).where(ServiceCall.id == call.id)).first() is not None


def add_note(call: ServiceCall, author: User, body: str, kind: str = NoteKind.INTERNAL) -> CallNote:
    """Add a note (the author must see the call); notify the mentioned colleagues; commits."""
    require_role(author, *STAFF_ROLES)
    body = (body or "").strip()
    if not body:
        raise CallError(422, "body", _("Write the note."), "body")
    if len(body) > NOTE_MAX:
        raise CallError(422, "body", _("A note has at most %(n)s characters.", n=NOTE_MAX), "body")
    if kind not in {k.value for k in NoteKind}:
        raise CallError(422, "kind", _("Choose the kind of note: internal, remote step or to the merchant."), "kind")
    if kind == NoteKind.MERCHANT and not (call.merchant.email or "").strip():
        raise CallError(422, "kind", _("The merchant has no e-mail address: phone them and record a remote step."),
                        "kind")
    mentioned: list[User] = []
    for name in mentioned_usernames(body):
        user = db.session.scalars(select(User).where(User.username == name)).first()
        if (user is None or not user.is_active_user or user.role not in STAFF_ROLES
                or not _can_see(user, call)):
            raise CallError(422, "body", _("@%(name)s is not a colleague who can see this call.", name=name), "body")
        mentioned.append(user)
    now = utcnow()
    note = CallNote(call_id=call.id, author_id=author.id, kind=str(kind), body=body,
                    mentions=[u.id for u in mentioned], created_at=now)
    db.session.add(note)
    db.session.flush()
    record("note", call, actor=author, kind=str(kind), note_id=note.id, mentions=[u.username for u in mentioned])
    if kind in (NoteKind.REMOTE_STEP, NoteKind.MERCHANT):
        first_response.stop(call, now)
    inbox.notify([u.id for u in mentioned if u.id != author.id], "mention", call,
                 tracking_number=call.tracking_number, by=author.username, note_id=note.id, excerpt=body[:200])
    db.session.commit()
    return note


def notes_of(call: ServiceCall) -> list[CallNote]:
    """The call's notes, oldest first."""
    return list(db.session.scalars(select(CallNote).where(CallNote.call_id == call.id)
                                   .order_by(CallNote.created_at, CallNote.id)))
