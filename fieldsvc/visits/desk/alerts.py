"""Escalation and before-breach alerts of service calls (issue 21), sent once each.

Scheduler job :func:`send_due_alerts` (every 5 minutes, after the escalation job raised levels):

* ``escalation`` — the call reached escalation level L (1–3, see
  :func:`fieldsvc.visits.desk.calls.escalation_level`): one alert for level L;
* ``breach_soon`` — a clock of an unfinished, unpaused call breaches within ``before_minutes``:
  level 1 first response, 2 technician on site, 3 fix.

Who is told: the supervisors of the call's tier (desk members with ``supervisor`` of tier 1 or 2 in
the call's help-desk organisation; for a call in the field, the contractor's dispatchers supervise)
and the contractor's dispatchers: an in-app notification each, and an e-mail (rendered and written
to the mail outbox after the commit by the web notifier, see :mod:`fieldsvc.visits.desk.notify`).

Once means once: a ``call_alert`` row with the unique key (call, kind, level) is inserted first in
a savepoint; when another scheduler, app server or a restarted job already has it, the insert fails
and nothing is sent. The job itself also runs in a job slot (fieldsvc.jobs).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from fieldsvc.db import db, utcnow
from fieldsvc.visits.audit import record
from fieldsvc.visits.desk import calls as svc
from fieldsvc.visits.desk import inbox
from fieldsvc.visits.desk.tiers import desk_org_clause
from fieldsvc.visits.desk_models import CallAlert, DeskMember, Tier
from fieldsvc.visits.models import Role, ServiceCall, User

#: ``breach_soon`` levels: which clock.
CLOCKS = {1: "first_response", 2: "response", 3: "resolution"}


def due_alerts(call: ServiceCall, now: datetime, before: timedelta) -> list[tuple[str, int]]:
    """The (kind, level) alerts a call deserves now (sent or not)."""
    if call.status not in svc.OPEN_CALL_STATES or svc.is_paused(call):
        return []
    out: list[tuple[str, int]] = []
    if call.escalation_level:
        out.append(("escalation", call.escalation_level))
    clocks = {1: (call.first_response_by, call.first_responded_at), 2: (call.response_by, call.responded_at),
              3: (call.resolution_by, call.resolved_at)}
    for level, (deadline, done) in clocks.items():
        if deadline is not None and done is None and now < deadline <= now + before:
            out.append(("breach_soon", level))
    return out


def recipients(call: ServiceCall) -> list[User]:
    """The tier's supervisors and the contractor's dispatchers (active users), without repeats."""
    dispatchers = list(db.session.scalars(select(User).where(
        User.role == Role.DISPATCHER, User.contractor_id == call.contractor_id, User.is_active_user.is_(True))
        .order_by(User.id)))
    supervisors: list[User] = []
    if (call.tier or Tier.TIER1) != Tier.FIELD:
        supervisors = list(db.session.scalars(select(User).join(DeskMember, DeskMember.user_id == User.id).where(
            DeskMember.tier == (call.tier or Tier.TIER1.value), DeskMember.supervisor.is_(True),
            desk_org_clause(call), User.is_active_user.is_(True)).order_by(User.id)))
    return list({u.id: u for u in supervisors + dispatchers}.values())


def _claim(call: ServiceCall, kind: str, level: int, now: datetime) -> CallAlert | None:
    """Insert the alert's row in a savepoint; None when it exists already (sent by someone)."""
    exists = db.session.scalar(select(CallAlert.id).where(CallAlert.call_id == call.id, CallAlert.kind == kind,
                                                           CallAlert.level == level))
    if exists is not None:
        return None
    alert = CallAlert(call_id=call.id, kind=kind, level=level, tier=call.tier or Tier.TIER1.value, created_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(alert)
            db.session.flush()
    except IntegrityError:
        return None
    return alert


def send_due_alerts(now: datetime | None = None, before_minutes: int = 30) -> int:
    """Scheduler job: send every alert due and not yet sent; returns how many were sent. Commits
    after each alert (so a concurrent sender waits for at most one)."""
    now = now or utcnow()
    before = timedelta(minutes=max(0, before_minutes))
    call_ids = list(db.session.scalars(select(ServiceCall.id).where(
        ServiceCall.status.in_([str(s) for s in svc.OPEN_CALL_STATES])).order_by(ServiceCall.id)))
    sent = 0
    for call_id in call_ids:
        call = db.session.get(ServiceCall, call_id)
        if call is None:
            continue
        for kind, level in due_alerts(call, now, before):
            alert = _claim(call, kind, level, now)
            if alert is None:
                continue
            people = recipients(call)
            alert.recipients = [u.id for u in people]
            inbox.notify([u.id for u in people], kind, call, tracking_number=call.tracking_number, level=level,
                         tier=alert.tier)
            record("alert", call, kind=kind, level=level, recipients=[u.username for u in people])
            db.session.commit()
            sent += 1
    db.session.commit()
    return sent
