"""Ticket types: faults, change requests, information requests and installation requests; a queue
per type (filter and counts), splitting a call holding several faults into linked calls, and
turning an installation request into a work order.

Each type has its own SLA targets in the contract (``type_targets`` of the version in force, see
:mod:`fieldsvc.visits.desk.call_targets`).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from fieldsvc.db import db
from fieldsvc.visits.audit import record, transition_call
from fieldsvc.visits.desk import calls as svc
from fieldsvc.visits.desk.call_targets import ticket_type_of
from fieldsvc.visits.desk.errors import CallError
from fieldsvc.visits.i18n_text import gettext as _
from fieldsvc.visits.models import Role, ServiceCall, User
from fieldsvc.visits.scope import Forbidden, require_role, scoped
from fieldsvc.visits.service_models import CallProfile, TicketType
from fieldsvc.visits.states import OPEN_CALL_STATES, CallStatus

TICKET_TYPES: dict[str, Any] = {
    TicketType.FAULT.value: _l("Fault"),
    TicketType.CHANGE.value: _l("Change request"),
    TicketType.INFORMATION.value: _l("Information request"),
    TicketType.INSTALLATION.value: _l("Installation request"),
}

_TYPE_COL = func.coalesce(CallProfile.ticket_type, TicketType.FAULT.value)


def _typed(q: Any) -> Any:
    return q.outerjoin(CallProfile, CallProfile.call_id == ServiceCall.id)


def list_calls(user: User, ticket_type: str | None = None, status: str | None = None,
               open_only: bool = False) -> list[ServiceCall]:
    """:func:`fieldsvc.visits.desk.calls.list_calls` limited to one ticket type (the type's queue)."""
    if user.role == Role.TECHNICIAN:
        raise Forbidden("technicians see their calls on their route")
    q = _typed(scoped(ServiceCall, user)).order_by(ServiceCall.escalation_level.desc(),
                                                     ServiceCall.reported_at.desc())
    if ticket_type:
        q = q.where(_TYPE_COL == ticket_type)
    if status:
        q = q.where(ServiceCall.status == status)
    elif open_only:
        q = q.where(ServiceCall.status.in_([str(s) for s in OPEN_CALL_STATES]))
    return list(db.session.scalars(q.limit(500)))


def queue_counts(user: User, open_only: bool = True) -> dict[str, int]:
    """Calls per ticket type the user may see (unfinished ones by default); every type present."""
    q = _typed(scoped(ServiceCall, user)).with_only_columns(_TYPE_COL, func.count(ServiceCall.id)).group_by(_TYPE_COL)
    if open_only:
        q = q.where(ServiceCall.status.in_([str(s) for s in OPEN_CALL_STATES]))
    counts = {k: 0 for k in TICKET_TYPES}
    for kind, n in db.session.execute(q):
        counts[kind] = n
    return counts


# --------------------------------------------------------------------------- links


def split_from(call: ServiceCall) -> ServiceCall | None:
    """The call this one was split from."""
    profile = getattr(call, "profile", None)
    return profile.split_from if profile is not None else None


def split_into(call: ServiceCall) -> list[ServiceCall]:
    """The calls split off this one, oldest first."""
    return list(db.session.scalars(select(ServiceCall).join(CallProfile, CallProfile.call_id == ServiceCall.id)
                                   .where(CallProfile.split_from_id == call.id).order_by(ServiceCall.id)))


def split_call(call: ServiceCall, parts: Sequence[Mapping[str, Any]], actor: User) -> list[ServiceCall]:
    """Split the other faults of ``call`` off into linked calls on the same terminal, reported at the
    same time (the SLA clocks run from the first report): ``parts`` is a list of {symptom, priority
    (default: the call's), symptom_text}. Everything is checked before anything is written; each
    new call and the original get a ``split`` event naming the other side."""
    require_role(actor, Role.PSP, Role.ADMIN)
    if call.status not in OPEN_CALL_STATES:
        raise CallError(409, "not_open", _("Only an unfinished call can be split."), "parts")
    if not parts:
        raise CallError(422, "parts", _("Give at least one other fault to split off."), "parts")
    seen = {call.symptom_code}
    checked = []
    for i, part in enumerate(parts):
        symptom = str(part.get("symptom") or "")
        priority = str(part.get("priority") or call.priority)
        if symptom not in svc.SYMPTOMS:
            raise CallError(422, "symptom", _("Choose a symptom from the list."), f"parts[{i}].symptom")
        if symptom in seen:
            raise CallError(422, "symptom", _("Each split-off call needs a symptom of its own, other than the "
                                              "call's."), f"parts[{i}].symptom")
        if priority not in svc.PRIORITIES:
            raise CallError(422, "priority", _("Choose a priority: critical, urgent or normal."),
                            f"parts[{i}].priority")
        dup = svc.open_duplicate(call.terminal_id, symptom)
        if dup is not None:
            raise CallError(409, "duplicate_call", _("Terminal %(serial)s already has an open call %(number)s for "
                                                     "this symptom; follow that call instead.",
                                                     serial=call.terminal.serial, number=dup.tracking_number),
                            f"parts[{i}].symptom", call_id=dup.id)
        seen.add(symptom)
        checked.append((symptom, priority, str(part.get("symptom_text") or "")[:2000]))
    kind = ticket_type_of(call)
    out = []
    for symptom, priority, text in checked:
        new = svc.open_call(actor, priority=priority, symptom_code=symptom, channel=call.channel,
                            terminal_id=call.terminal_id, symptom_text=text, reported_at=call.reported_at,
                            caller_name=call.caller_name, caller_phone=call.caller_phone, ticket_type=kind)
        new.profile.split_from_id = call.id
        record("split", new, actor=actor, split_from=call.tracking_number, split_from_id=call.id)
        record("split", call, actor=actor, split_into=new.tracking_number, split_into_id=new.id)
        db.session.commit()
        out.append(new)
    return out


# --------------------------------------------------------------------------- installation requests


def convert_to_order(call: ServiceCall, actor: User, *, model: str, family: str = "", notes: str = "") -> Any:
    """An installation request becomes an install work order for the call's merchant (visits,
    deadline and stock follow the orders' rules); the call ends, cancelled with a reason naming the
    order, and keeps a link to it. Returns the order; commits both or neither."""
    from fieldsvc.visits.orders.service import OrderError, OrderInput, create, validate

    require_role(actor, Role.PSP, Role.ADMIN)
    if ticket_type_of(call) != TicketType.INSTALLATION:
        raise CallError(422, "ticket_type", _("Only an installation request becomes a work order."), "ticket_type")
    if call.status not in OPEN_CALL_STATES:
        raise CallError(409, "not_open", _("This call is already finished."), "status")
    try:
        values = validate(OrderInput(kind="install", merchant=call.merchant.code, model=model, family=family,
                                     notes=notes or call.symptom_text), actor)
        order = create(values, actor, commit=False)
    except OrderError as e:
        db.session.rollback()
        raise CallError(e.status, "order", e.message, e.field) from None
    reason = _("Became work order %(number)s.", number=order.number)
    transition_call(call, CallStatus.CANCELLED.value, actor=actor, reason=reason, work_order=order.number)
    call.cancel_reason = reason
    if call.profile is None:
        call.profile = CallProfile(ticket_type=TicketType.INSTALLATION.value)
    call.profile.work_order_id = order.id
    record("from_call", order, actor=actor, call=call.tracking_number)
    db.session.commit()
    return order
