"""Who is told when a service call changes: the after-commit notification hooks.

Any code that changes a call's status through :func:`fieldsvc.visits.audit.transition_call` (or
creates a call) writes an AuditEvent. The session hooks here collect those events, let the
configured :class:`Notifier` prepare its messages just before the transaction commits (so they see
the committed state) and deliver them only once the commit succeeded. A rolled-back change sends
nothing; a failing notifier is logged and never blocks the business change.

This module is framework-free: the web application installs its notifier (rendered e-mails, see
:mod:`fieldsvc.web.mail`) with :func:`configure`; without one, nothing is sent.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Optional, Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

_PENDING = "fieldsvc_call_events"
_READY = "fieldsvc_call_messages"


@dataclass(frozen=True)
class CallChange:
    """A service call went from ``old`` to ``new`` (``old`` is None when it was created)."""

    call_id: int
    old: Optional[str]
    new: str


@dataclass(frozen=True)
class DeskEvent:
    """A desk row to announce by e-mail: an escalation alert (``call_alert``) or a note to the
    merchant (``call_note``); prepared by the notifier's optional ``prepare_desk``."""

    table: str
    row_id: int


class Notifier(Protocol):
    """Prepares messages inside the transaction and delivers them after the commit."""

    def prepare(self, session: Session, change: CallChange) -> list[Any]: ...

    def deliver(self, messages: list[Any]) -> None: ...


_notifier: Optional[Notifier] = None


def configure(notifier: Optional[Notifier]) -> None:
    """Install the notifier every later commit uses (None: send nothing)."""
    global _notifier
    _notifier = notifier


@event.listens_for(Session, "after_flush")
def _collect(session: Session, flush_context: Any) -> None:
    from fieldsvc.visits.desk_models import CallAlert, CallNote, NoteKind
    from fieldsvc.visits.models import AuditEvent

    for obj in session.new:
        if isinstance(obj, CallAlert) or (isinstance(obj, CallNote) and obj.kind == NoteKind.MERCHANT):
            session.info.setdefault(_PENDING, []).append(DeskEvent(obj.__tablename__, obj.id))
        elif isinstance(obj, AuditEvent) and obj.object_type == "service_call" and (
                obj.action == "status" or (obj.action == "created" and obj.to_state)):
            session.info.setdefault(_PENDING, []).append(CallChange(obj.object_id, obj.from_state, obj.to_state))


@event.listens_for(Session, "before_commit")
def _prepare(session: Session) -> None:
    if session.in_nested_transaction() or _notifier is None:
        return
    session.flush()
    changes = session.info.pop(_PENDING, [])
    ready = session.info.setdefault(_READY, [])
    with session.no_autoflush:
        for change in changes:
            try:
                if isinstance(change, DeskEvent):
                    prepare_desk = getattr(_notifier, "prepare_desk", None)
                    if prepare_desk is not None:
                        ready.extend(prepare_desk(session, change))
                else:
                    ready.extend(_notifier.prepare(session, change))
            except Exception:
                log.exception("could not prepare the notification %s", change)


@event.listens_for(Session, "after_commit")
def _deliver(session: Session) -> None:
    messages = session.info.pop(_READY, [])
    if not messages or _notifier is None:
        return
    try:
        _notifier.deliver(messages)
    except Exception:
        log.exception("could not deliver %d call notification(s)", len(messages))


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
        session.info.pop(_READY, None)
