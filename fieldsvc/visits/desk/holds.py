"""Calls held for confirmation: a request from someone a merchant's group did not designate (or an
e-mail whose terminal is not clear) waits in the PSP desk's hold queue; PSP staff confirm it (a real
call is opened, its SLA clock starting at the confirmation) or reject it with a reason.

:func:`open_or_hold` is the one intake door for every channel (form, API, e-mail, phone).
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Optional

from sqlalchemy import update

from fieldsvc.db import db, utcnow
from fieldsvc.text import normalize_digits
from fieldsvc.visits import uploads
from fieldsvc.visits.audit import record
from fieldsvc.visits.channel_models import HeldCall, HoldStatus
from fieldsvc.visits.desk import calls as svc
from fieldsvc.visits.desk.errors import CallError
from fieldsvc.visits.i18n_text import gettext as _
from fieldsvc.visits.master import requesters
from fieldsvc.visits.models import Merchant, Role, ServiceCall, Terminal, User
from fieldsvc.visits.scope import get_scoped, require_role, scoped

REASONS = ("not_designated", "terminal_unknown")


def hold(*, psp_id: int, reason: str, channel: str, merchant: Optional[Merchant] = None,
         terminal: Optional[Terminal] = None, priority: str = "normal", symptom_code: str = "other",
         symptom_text: str = "", caller_name: str = "", caller_phone: str = "", caller_email: str = "",
         inbound_email_id: int | None = None, actor: User | None = None,
         received_at: datetime | None = None, ticket_type: str = "fault",
         photo_path: str | None = None) -> HeldCall:
    """Put a request in the hold queue (added to the session and audited; the caller commits)."""
    held = HeldCall(psp_id=psp_id, merchant_id=merchant.id if merchant else None,
                    terminal_id=terminal.id if terminal else None, channel=channel, priority=priority,
                    symptom_code=symptom_code, symptom_text=(symptom_text or "").strip()[:4000],
                    caller_name=(caller_name or "").strip()[:120],
                    caller_phone=normalize_digits(caller_phone or "").strip()[:32],
                    caller_email=(caller_email or "").strip().lower()[:200], reason=reason, ticket_type=ticket_type,
                    photo_path=photo_path,
                    status=HoldStatus.PENDING, received_at=received_at or utcnow(),
                    inbound_email_id=inbound_email_id)
    db.session.add(held)
    db.session.flush()
    record("held", held, actor=actor, to_state=HoldStatus.PENDING.value, reason=reason, channel=channel)
    return held


def open_or_hold(user: User, *, priority: str, symptom_code: str, channel: str = "phone",
                 terminal_serial: str | None = None, terminal_id: int | None = None,
                 merchant_id: int | None = None, symptom_text: str = "", photo_path: str | None = None,
                 caller_name: str = "", caller_phone: str = "",
                 caller_email: str = "", ticket_type: str = "fault") -> ServiceCall | HeldCall:
    """Open the call (:func:`fieldsvc.visits.desk.calls.open_call`) when the caller may open calls for
    the terminal's merchant, else hold it for confirmation; commits either way."""
    require_role(user, Role.PSP, Role.ADMIN)
    svc.check_choices(priority, symptom_code, channel, ticket_type)
    terminal = svc._terminal_for_intake(user, terminal_serial, terminal_id, merchant_id)
    if terminal.merchant_id is not None and not requesters.may_open(terminal.merchant_id, caller_phone, caller_email):
        held = hold(psp_id=terminal.psp_id, reason="not_designated", channel=channel, merchant=terminal.merchant,
                    terminal=terminal, priority=priority, symptom_code=symptom_code, symptom_text=symptom_text,
                    caller_name=caller_name, caller_phone=caller_phone, caller_email=caller_email, actor=user,
                    ticket_type=ticket_type, photo_path=photo_path)
        db.session.commit()
        return held
    return svc.open_call(user, priority=priority, symptom_code=symptom_code, channel=channel,
                         terminal_id=terminal.id, symptom_text=symptom_text, photo_path=photo_path,
                         caller_name=caller_name, caller_phone=caller_phone, ticket_type=ticket_type)


def list_held(user: User, status: str = HoldStatus.PENDING) -> list[HeldCall]:
    """Held requests the user may see (PSP staff: their PSP's), oldest first."""
    require_role(user, Role.PSP, Role.ADMIN)
    q = scoped(HeldCall, user)
    if status:
        q = q.where(HeldCall.status == status)
    return list(db.session.scalars(q.order_by(HeldCall.received_at, HeldCall.id).limit(500)))


def get_held(user: User, held_id: int) -> HeldCall:
    require_role(user, Role.PSP, Role.ADMIN)
    return get_scoped(HeldCall, held_id, user)


def _claim(held: HeldCall, to: HoldStatus) -> None:
    """Move a pending request to ``to`` atomically (two desk agents cannot both decide it)."""
    done = db.session.execute(update(HeldCall).where(HeldCall.id == held.id, HeldCall.status == HoldStatus.PENDING)
                              .values(status=to.value).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        db.session.rollback()
        raise CallError(409, "already_decided", _("This request was already confirmed or rejected."), "status")


def confirm(user: User, held: HeldCall, *, terminal_serial: str | None = None, priority: str | None = None,
            symptom_code: str | None = None, note: str = "", ticket_type: str | None = None) -> ServiceCall:
    """Open the held request as a real call (the desk may fill in the terminal, priority, symptom,
    ticket type; by default the call has the ticket type asked for); nothing changes if the call
    cannot be opened; commits."""
    require_role(user, Role.PSP, Role.ADMIN)
    if held.status != HoldStatus.PENDING:
        raise CallError(409, "already_decided", _("This request was already confirmed or rejected."), "status")
    terminal_id = None if terminal_serial else held.terminal_id
    if not terminal_serial and terminal_id is None:
        raise CallError(422, "terminal_required", _("Give the terminal's serial, or choose the merchant "
                                                     "and the terminal."), "terminal_serial")
    _claim(held, HoldStatus.CONFIRMED)
    try:
        call = svc.open_call(user, priority=priority or held.priority, symptom_code=symptom_code or held.symptom_code,
                             channel=held.channel, terminal_serial=terminal_serial or None, terminal_id=terminal_id,
                             symptom_text=held.symptom_text, photo_path=held.photo_path, caller_name=held.caller_name,
                             caller_phone=held.caller_phone, ticket_type=ticket_type or held.ticket_type or "fault")
    except Exception:
        db.session.rollback()
        raise
    db.session.refresh(held)
    held.call_id, held.decided_at, held.decided_by_id = call.id, utcnow(), user.id
    held.decision_note = (note or "").strip()[:1000]
    record("status", held, actor=user, from_state=HoldStatus.PENDING.value, to_state=HoldStatus.CONFIRMED.value,
           call_id=call.id, tracking_number=call.tracking_number)
    db.session.commit()
    return call


def reject(user: User, held: HeldCall, reason: str, upload_dir: str | Path) -> None:
    """Turn the request down with a reason; commits. The photo sent with it, if any, is deleted
    from ``upload_dir`` once the rejection is committed (a stranger's picture is not kept)."""
    require_role(user, Role.PSP, Role.ADMIN)
    reason = (reason or "").strip()
    if not reason:
        raise CallError(422, "reason", _("Say why the request is rejected."), "reason")
    _claim(held, HoldStatus.REJECTED)
    db.session.refresh(held)
    held.decided_at, held.decided_by_id, held.decision_note = utcnow(), user.id, reason[:1000]
    if held.photo_path:
        uploads.discard(db.session, upload_dir, held.photo_path)
        held.photo_path = None
    record("status", held, actor=user, from_state=HoldStatus.PENDING.value, to_state=HoldStatus.REJECTED.value,
           reason=reason)
    db.session.commit()

