"""Support tiers before the field (issue 21): a call opens at tier 1, the help desk of the PSP or of
the contractor (``Contract.help_desk``). Tier 1 or tier 2 (an expert) can

* **resolve remotely** (a resolution code and a note): open → resolved; the call then goes through
  the same QC close and survey as a field fix (:func:`fieldsvc.visits.desk.calls.close_call`);
* **transfer** to the other desk tier or to a named colleague of the desk (hand-over);
* **dispatch** to the field: the call stays open for the dispatcher, who assigns a technician as
  before (assigning a call still at a desk tier dispatches it too, see
  :mod:`fieldsvc.visits.desk.first_response`).

Each step is an audit event (``tier`` for moves between tiers, ``status`` for the resolution)
with actor, time and reason. Remote resolution and dispatch stop the first-response clock.
Errors name the field at fault and write nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from fieldsvc.db import db, utcnow
from fieldsvc.visits.audit import record, transition_call
from fieldsvc.visits.contracts.sla import elapsed_working_minutes
from fieldsvc.visits.desk import calls as svc
from fieldsvc.visits.desk import first_response, inbox
from fieldsvc.visits.desk.errors import CallError
from fieldsvc.visits.desk_models import DeskMember, HelpDesk, Tier
from fieldsvc.visits.i18n_text import gettext as _
from fieldsvc.visits.models import Contract, Role, ServiceCall, User
from fieldsvc.visits.scope import Forbidden, scoped
from fieldsvc.visits.states import IllegalTransition, CallStatus

TIER_LABELS: dict[str, Any] = {"tier1": _l("Tier 1 · help desk"), "tier2": _l("Tier 2 · expert"),
                               "field": _l("Field")}
DESK_TIERS = (Tier.TIER1.value, Tier.TIER2.value)
#: Moves between tiers; the field hands a call back to an expert only while it is still open.
TIER_MOVES: dict[str, frozenset[str]] = {
    "tier1": frozenset({"tier2", "field"}),
    "tier2": frozenset({"tier1", "field"}),
    "field": frozenset({"tier1", "tier2"}),
}
#: How a call was fixed without a visit.
RESOLUTION_CODES: dict[str, Any] = {
    "guided_merchant": _l("Merchant guided by phone"),
    "remote_reset": _l("Terminal reset remotely"),
    "config_pushed": _l("Configuration or keys pushed remotely"),
    "software_update": _l("Software updated remotely"),
    "network_restored": _l("Network or SIM restored"),
    "host_side": _l("Fixed on the host / switch side"),
    "no_fault_found": _l("No fault found"),
    "duplicate": _l("Duplicate of another call"),
}
#: Actions of the call's `transition` endpoint handled here.
DESK_ACTIONS = ("resolve_remotely", "transfer", "dispatch")


# --------------------------------------------------------------------------- who is the desk


def desk_org_clause(call: ServiceCall) -> Any:
    """Users of the organisation whose help desk works the call (role and tenancy)."""
    if (call.contract.help_desk or HelpDesk.PSP) == HelpDesk.CONTRACTOR:
        return (User.role == Role.DISPATCHER) & (User.contractor_id == call.contractor_id)
    return (User.role == Role.PSP) & (User.psp_id == call.psp_id)


def is_desk_staff(user: User, call: ServiceCall) -> bool:
    """Admins, and the users of the call's help desk organisation, work its desk tiers."""
    if user.role == Role.ADMIN:
        return True
    if (call.contract.help_desk or HelpDesk.PSP) == HelpDesk.CONTRACTOR:
        return user.role == Role.DISPATCHER and user.contractor_id == call.contractor_id
    return user.role == Role.PSP and user.psp_id == call.psp_id


def require_desk_staff(user: User, call: ServiceCall) -> None:
    if not is_desk_staff(user, call):
        raise Forbidden("only the call's help desk works its tiers")


def desk_colleagues(call: ServiceCall) -> list[User]:
    """Active users a call can be handed to, by name."""
    return list(db.session.scalars(select(User).where(desk_org_clause(call), User.is_active_user.is_(True))
                                   .order_by(User.name, User.username)))


def member_tiers(user_id: int) -> set[str]:
    return set(db.session.scalars(select(DeskMember.tier).where(DeskMember.user_id == user_id)))


# --------------------------------------------------------------------------- steps


def _require_open_at_desk(call: ServiceCall, field: str = "action") -> str:
    if call.status != CallStatus.OPEN:
        raise CallError(409, "not_open", _("Only an open call that is not with a technician can be handled by the "
                                           "desk."), field)
    return call.tier or Tier.TIER1.value


def _move(call: ServiceCall, new_tier: str, actor: User, reason: str, **data: Any) -> str:
    old = call.tier or Tier.TIER1.value
    if new_tier not in TIER_MOVES[old]:
        raise IllegalTransition("service call tier", old, new_tier)
    call.tier = new_tier
    record("tier", call, actor=actor, from_state=old, to_state=new_tier, reason=reason, **data)
    return old


def resolve_remotely(call: ServiceCall, actor: User, resolution_code: str, note: str,
                     at: datetime | None = None) -> None:
    """Fixed without a visit (tier 1 or 2): open → resolved with the code and note; commits."""
    require_desk_staff(actor, call)
    tier = _require_open_at_desk(call)
    if tier not in DESK_TIERS:
        raise CallError(409, "in_field", _("This call is with the field team; the technician resolves it."),
                        "action")
    code = (resolution_code or "").strip()
    if not code:
        raise CallError(422, "resolution_code", _("Choose a resolution code."), "resolution_code")
    if code not in RESOLUTION_CODES:
        raise CallError(422, "resolution_code", _("Unknown resolution code %(code)s.", code=code), "resolution_code")
    note = (note or "").strip()
    if not note:
        raise CallError(422, "reason", _("Write a note: what was done to fix it."), "reason")
    at = at or utcnow()
    transition_call(call, CallStatus.RESOLVED.value, actor=actor, reason=note[:1000], remote=True, tier=tier,
                    resolution_code=code)
    for p in call.pauses:
        if p.ended_at is None:
            p.ended_at = max(at, p.started_at)
    calendar = svc.calendar_of(call.contract, call.reported_at)
    minutes = max(0, round(elapsed_working_minutes(call.reported_at, at, calendar, svc.pause_intervals(call))))
    call.resolved_at, call.resolution_minutes = at, minutes
    if call.responded_at is None:
        call.responded_at, call.response_minutes = at, minutes
    call.resolution_code = code
    call.remote_resolved_tier = tier
    first_response.stop(call, at)
    db.session.commit()


def transfer(call: ServiceCall, actor: User, *, to_tier: str | None = None, to_user_id: int | None = None,
             reason: str = "") -> None:
    """Hand the call to a desk tier's queue or to a named colleague (its tier: ``to_tier``, else
    the colleague's expert membership, else tier 2); commits."""
    require_desk_staff(actor, call)
    current = _require_open_at_desk(call)
    reason = (reason or "").strip()
    if not reason:
        raise CallError(422, "reason", _("Say why the call is transferred."), "reason")
    if to_tier is not None and to_tier not in DESK_TIERS:
        raise CallError(422, "to_tier", _("Transfer to tier 1 or tier 2; to send a technician, dispatch the call."),
                        "to_tier")
    target: Optional[User] = None
    if to_user_id is not None:
        target = db.session.scalars(select(User).where(User.id == to_user_id, desk_org_clause(call),
                                                       User.is_active_user.is_(True))).first()
        if target is None:
            raise CallError(422, "to_user_id", _("Choose an active colleague of this call's help desk."),
                            "to_user_id")
        if to_tier is None:
            tiers = member_tiers(target.id)
            to_tier = Tier.TIER1.value if tiers == {Tier.TIER1.value} else Tier.TIER2.value
    if to_tier is None:
        raise CallError(422, "to_tier", _("Choose a tier or a colleague to transfer to."), "to_tier")
    if to_tier == current and (target is None or target.id == call.assignee_id):
        raise CallError(422, "to_tier", _("The call is already there."), "to_tier")
    if to_tier != current:
        _move(call, to_tier, actor, reason, to_user=target.username if target else None)
    else:
        record("handover", call, actor=actor, from_state=current, to_state=to_tier, reason=reason,
               to_user=target.username if target else None)
    call.assignee_id = target.id if target else None
    if target is not None and target.id != actor.id:
        inbox.notify([target.id], "handover", call, tracking_number=call.tracking_number, by=actor.username,
                     reason=reason[:300], tier=to_tier)
    db.session.commit()


def dispatch(call: ServiceCall, actor: User, reason: str = "") -> None:
    """Send the call to the field: the contractor's dispatchers slot it into a technician's day;
    commits."""
    require_desk_staff(actor, call)
    current = _require_open_at_desk(call)
    if current == Tier.FIELD:
        raise CallError(409, "in_field", _("This call is already with the field team."), "action")
    reason = (reason or "").strip()
    if not reason:
        raise CallError(422, "reason", _("Say why a technician must go (what was tried remotely)."), "reason")
    first_response.stop(call)  # before the move: the desk tier that dispatched made the response
    _move(call, Tier.FIELD.value, actor, reason)
    call.dispatched_from_tier = call.dispatched_from_tier or current
    call.assignee_id = None
    dispatchers = db.session.scalars(select(User.id).where(
        User.role == Role.DISPATCHER, User.contractor_id == call.contractor_id, User.is_active_user.is_(True)))
    inbox.notify([u for u in dispatchers if u != actor.id], "dispatched", call,
                 tracking_number=call.tracking_number, by=actor.username, reason=reason[:300])
    db.session.commit()


def apply_desk_action(call: ServiceCall, user: User, action: str, *, reason: str = "",
                      resolution_code: str | None = None, to_tier: str | None = None,
                      to_user_id: int | None = None) -> None:
    """One desk action (the API's `transition` and the queue and call pages)."""
    try:
        if action == "resolve_remotely":
            resolve_remotely(call, user, resolution_code or "", reason)
        elif action == "transfer":
            transfer(call, user, to_tier=to_tier or None, to_user_id=to_user_id, reason=reason)
        elif action == "dispatch":
            dispatch(call, user, reason)
        else:
            raise CallError(422, "action", _("Unknown action %(action)s.", action=action), "action")
    except StaleDataError:
        db.session.rollback()
        raise CallError(409, "stale", _("Someone else changed this call meanwhile; reload the page and try "
                                        "again."), "version", call_id=call.id) from None
    except Exception:
        db.session.rollback()
        raise


# --------------------------------------------------------------------------- queues


@dataclass(frozen=True)
class QueueRow:
    call: ServiceCall
    flags: svc.SlaFlags
    first_response: Optional[str]


def queue_counts(user: User) -> dict[str, int]:
    """Open calls per tier among those the user may see."""
    q = (select(ServiceCall.tier, func.count(ServiceCall.id)).where(
        ServiceCall.id.in_(scoped(ServiceCall, user).with_only_columns(ServiceCall.id)),
        ServiceCall.status.in_([str(s) for s in svc.OPEN_CALL_STATES])).group_by(ServiceCall.tier))
    counts = {t: 0 for t in TIER_LABELS}
    for tier, n in db.session.execute(q):
        counts[tier or Tier.TIER1.value] = counts.get(tier or Tier.TIER1.value, 0) + n
    return counts


def queue(user: User, tier: str, mine: bool = False, now: datetime | None = None) -> list[QueueRow]:
    """Open calls at ``tier`` the user may see (only those handed to the user when ``mine``), most
    urgent first: escalation, then the nearest deadline."""
    if user.role == Role.TECHNICIAN:
        raise Forbidden("technicians see their calls on their route")
    now = now or utcnow()
    q = scoped(ServiceCall, user).where(ServiceCall.tier == tier,
                                        ServiceCall.status.in_([str(s) for s in svc.OPEN_CALL_STATES]))
    if mine:
        q = q.where(ServiceCall.assignee_id == user.id)
    q = q.options(selectinload(ServiceCall.pauses), selectinload(ServiceCall.contract).selectinload(Contract.versions),
                  selectinload(ServiceCall.merchant), selectinload(ServiceCall.terminal),
                  selectinload(ServiceCall.assignee))
    calls = list(db.session.scalars(q.limit(500)))
    rows = [QueueRow(c, svc.sla_flags(c, now), first_response.state(c, now)) for c in calls]

    def urgency(row: QueueRow) -> tuple:
        c = row.call
        nearest = c.first_response_by if (c.first_response_by and c.first_responded_at is None) else c.response_by
        return (-c.escalation_level, nearest or c.resolution_by, c.id)

    return sorted(rows, key=urgency)
