"""The first-response clock of a service call (issue 21).

* ``first_response_by``: the instant at which the priority's ``first_response_minutes`` of working
  time (the contract version in force at the report time, its calendar, minus pauses) have elapsed
  since the report; None when the contract sets no first-response target.
* The clock stops at the **first human action** on the call: a note to the merchant, a remote step
  (a ``remote_step`` note or a remote resolution) or a dispatch to the field (also implied when a
  dispatcher assigns a technician to a call still at a desk tier). Transfers between desk tiers
  and internal notes do not stop it. ``first_responded_at`` and ``first_response_minutes`` (working
  minutes) are set once and never move.

The session hook :func:`_field_work_leaves_the_desk` moves a call that a dispatcher assigns (or a
technician starts) while it is still at a desk tier to the field, with its own audit event, so the
existing field flow needs no change.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import event
from sqlalchemy.orm import Session

from fieldsvc.calendar import CalendarSpec, add_working_time
from fieldsvc.db import utcnow
from fieldsvc.visits.audit import record
from fieldsvc.visits.contracts.sla import SlaState, SlaTargets, elapsed_working_minutes, sla_state
from fieldsvc.visits.contracts.versions import version_in_force
from fieldsvc.visits.desk_models import Tier
from fieldsvc.visits.models import AuditEvent, ServiceCall, User

#: Statuses that mean the call is in the field team's hands.
FIELD_STATUSES = ("assigned", "scheduled", "in_progress")


def _terms(call: ServiceCall) -> tuple[SlaTargets, CalendarSpec]:
    version = version_in_force(call.contract, call.reported_at)
    return SlaTargets.from_dict(version.em_targets), CalendarSpec.from_dict(version.calendar)


def _pauses(call: ServiceCall) -> list[tuple[datetime, Optional[datetime]]]:
    return [(p.started_at, p.ended_at) for p in call.pauses]


def deadline(call: ServiceCall, now: datetime | None = None) -> Optional[datetime]:
    """The call's first-response deadline (an open pause counts until ``now``), or None."""
    targets, calendar = _terms(call)
    minutes = targets.for_priority(call.priority).first_response_minutes
    if minutes is None:
        return None
    now = max(now or utcnow(), call.reported_at)
    return add_working_time(calendar, call.reported_at, minutes * 60, _pauses(call), now=now)


def stop(call: ServiceCall, at: datetime | None = None) -> bool:
    """Stop the clock at ``at`` if it still runs (the caller commits). True when it stopped now."""
    if call.first_responded_at is not None:
        return False
    at = at or utcnow()
    _, calendar = _terms(call)
    call.first_responded_at = at
    call.first_response_tier = call.tier or Tier.TIER1.value
    call.first_response_minutes = max(0, round(elapsed_working_minutes(call.reported_at, at, calendar,
                                                                       _pauses(call))))
    return True


def state(call: ServiceCall, now: datetime | None = None) -> Optional[str]:
    """ok, at_risk, breached, met or missed (None without a target)."""
    if call.first_response_by is None:
        return None
    targets, calendar = _terms(call)
    done = call.first_responded_at
    if done is None and call.status == "cancelled":
        done = call.updated_at
    return sla_state(now or utcnow(), call.reported_at, call.first_response_by, done_at=done, calendar=calendar,
                     pauses=_pauses(call), at_risk_fraction=targets.at_risk_fraction).value


def is_met(call: ServiceCall) -> Optional[bool]:
    """True/False once the clock stopped (None while it runs or without a target)."""
    if call.first_response_by is None or call.first_responded_at is None:
        return None
    return call.first_responded_at <= call.first_response_by


@event.listens_for(Session, "before_flush")
def _field_work_leaves_the_desk(session: Session, flush_context: Any, instances: Any) -> None:
    """A call assigned, scheduled or started while at a desk tier is dispatched to the field."""
    with session.no_autoflush:
        _dispatch_field_work(session)


def _dispatch_field_work(session: Session) -> None:
    for ev in list(session.new):
        if not (isinstance(ev, AuditEvent) and ev.object_type == "service_call" and ev.action == "status"
                and ev.to_state in FIELD_STATUSES):
            continue
        call = session.get(ServiceCall, ev.object_id)
        if call is None or (call.tier or Tier.TIER1) == Tier.FIELD:
            continue
        actor = session.get(User, ev.actor_id) if ev.actor_id else None
        old = call.tier or Tier.TIER1
        stop(call, ev.at)  # a dispatcher's assignment answers the merchant: the desk tier's response
        call.tier = Tier.FIELD.value
        call.dispatched_from_tier = call.dispatched_from_tier or old
        record("tier", call, actor=actor, from_state=old, to_state=Tier.FIELD.value,
               reason="assigned to a technician", implied=True)


__all__ = ["deadline", "stop", "state", "is_met", "SlaState", "FIELD_STATUSES"]
