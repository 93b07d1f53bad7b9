"""The rows behind each scorecard number: the calls or visits a KPI counted.

:func:`drill` builds the same filters as :mod:`fieldsvc.visits.scorecards.kpis` (same period, scope and
definitions), so a number on a page links to a list of exactly that many rows. :func:`open_work`
is the live dashboard: open calls per contractor with their SLA flags, overdue PM and late
installations.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, false, func, or_, select

from fieldsvc.db import db, utcnow
from fieldsvc.visits import models as m
from fieldsvc.visits.scorecards.kpis import KpiQuery, Period, scope_filter
from fieldsvc.visits.scorecards.sql_time import epoch
from fieldsvc.visits.states import CallStatus, VisitStatus

__all__ = ["CALL_DRILLS", "VISIT_DRILLS", "DRILLS", "drill", "done_by_kind", "open_work",
           "OpenWork", "unresolved_calls", "overdue_visits", "KPI_DRILL", "LIST_LIMIT"]

CALL_DRILLS = ("em_calls", "response_met", "response_missed", "resolution_met", "resolution_missed",
               "first_time_fixes", "not_first_time_fix", "repeat_calls_7d", "open_over_24h",
               "open_over_48h", "open_over_72h", "surveys")
VISIT_DRILLS = ("pm_due", "pm_done_in_window", "pm_done_late", "pm_missed", "pm_pending",
                "installs_due", "installs_on_time", "installs_late", "checkins", "checkins_flagged",
                "done")
DRILLS = CALL_DRILLS + VISIT_DRILLS
#: KPI fields → the list their number links to.
KPI_DRILL = {
    "pm_compliance_pct": "pm_due", "response_decided": "em_calls", "response_met_pct": "response_missed",
    "resolution_decided": "em_calls", "resolution_met_pct": "resolution_missed",
    "response_median_h": "em_calls", "response_p90_h": "em_calls", "resolution_median_h": "em_calls",
    "resolution_p90_h": "em_calls", "resolved_with_visit": "first_time_fixes",
    "first_time_fix_pct": "not_first_time_fix", "installs_decided": "installs_due",
    "installs_on_time_pct": "installs_late", "geofence_flagged_pct": "checkins_flagged",
    "satisfaction_avg": "surveys",
} | {k: k for k in DRILLS}
LIST_LIMIT = 500
_OPEN = tuple(s.value for s in (CallStatus.OPEN, CallStatus.ASSIGNED, CallStatus.SCHEDULED,
                                CallStatus.IN_PROGRESS))


def _call_filter(q: KpiQuery, name: str) -> Any:
    c = m.ServiceCall
    age = q.now_epoch - epoch(c.reported_at)
    resp_met = and_(c.responded_at.is_not(None), c.responded_at <= c.response_by)
    resp_dec = or_(c.responded_at.is_not(None), c.response_by < q.now)
    res_met = and_(c.resolved_at.is_not(None), c.resolved_at <= c.resolution_by)
    res_dec = or_(c.resolved_at.is_not(None), c.resolution_by < q.now)
    attempts = (select(m.Visit.service_call_id).where(m.Visit.service_call_id.is_not(None),
                                                      m.Visit.status.in_((VisitStatus.COMPLETED, VisitStatus.FAILED)))
                .group_by(m.Visit.service_call_id))
    if name == "em_calls":
        return None
    if name == "response_met":
        return resp_met
    if name == "response_missed":
        return and_(resp_dec, ~resp_met)
    if name == "resolution_met":
        return res_met
    if name == "resolution_missed":
        return and_(res_dec, ~res_met)
    if name == "first_time_fixes":
        return and_(c.resolved_at.is_not(None), c.id.in_(attempts.having(func.count() == 1)))
    if name == "not_first_time_fix":
        return and_(c.resolved_at.is_not(None), c.id.in_(attempts.having(func.count() > 1)))
    if name == "repeat_calls_7d":
        inner = q.calls(select(c.id.label("id"), c.reported_at.label("at"), func.lag(c.reported_at).over(
            partition_by=c.terminal_id, order_by=(c.reported_at, c.id)).label("prev")),
            reported_in_period=False).where(
            c.reported_at >= q.p.start_utc - dt.timedelta(days=7), c.reported_at < q.p.end_utc).subquery()
        return c.id.in_(select(inner.c.id).where(inner.c.prev.is_not(None),
                                                 epoch(inner.c.at) - epoch(inner.c.prev) < 7 * 86400.0))
    if name.startswith("open_over_"):
        hours = int(name.removeprefix("open_over_").removesuffix("h"))
        return and_(c.status.in_(_OPEN), age > hours * 3600)
    if name == "surveys":
        return c.survey_score.is_not(None)
    raise ValueError(name)


def _visit_filter(q: KpiQuery, name: str) -> tuple[str | None, Any]:
    v = m.Visit
    done_at = func.coalesce(v.checkout_at, v.checkin_at)
    last_day = func.coalesce(v.window_end, v.due_date)
    completed = v.status == VisitStatus.COMPLETED
    due = and_(v.due_date >= q.p.start, v.due_date <= q.p.end)
    inst_due = and_(v.deadline >= q.p.start_utc, v.deadline < q.p.end_utc)
    in_period = and_(v.checkin_at >= q.p.start_utc, v.checkin_at < q.p.end_utc)
    pm = {
        "pm_due": due,
        "pm_done_in_window": and_(due, completed, epoch(done_at) < q.local_day_end(last_day)),
        "pm_done_late": and_(due, completed, epoch(done_at) >= q.local_day_end(last_day)),
        "pm_missed": and_(due, or_(v.status == VisitStatus.MISSED, and_(~completed, last_day < q.today))),
        "pm_pending": and_(due, ~completed, v.status != VisitStatus.MISSED, last_day >= q.today),
    }
    if name in pm:
        return "pm", pm[name]
    if name == "installs_due":
        return "install", inst_due
    if name == "installs_on_time":
        return "install", and_(inst_due, completed, done_at <= v.deadline)
    if name == "installs_late":
        return "install", and_(inst_due, or_(and_(completed, done_at > v.deadline),
                                             and_(~completed, v.deadline < q.now)))
    if name == "checkins":
        return None, and_(in_period, v.checkin_verified.is_not(None))
    if name == "checkins_flagged":
        return None, and_(in_period, v.checkin_verified == false())
    if name == "done":
        return None, and_(completed, v.checkout_at >= q.p.start_utc, v.checkout_at < q.p.end_utc)
    raise ValueError(name)


def drill(name: str, start: dt.date, end: dt.date, *, user: m.User | None, group_by: str = "contractor",
          key: int | None = None, kind: str | None = None, now: dt.datetime | None = None
          ) -> tuple[str, Select, Select]:
    """("calls" or "visits", a select of the rows behind KPI ``name``, a count of them) for one
    contractor/region/technician ``key`` (None: all in scope). ``kind`` narrows visits."""
    if name not in DRILLS:
        raise ValueError(f"unknown list {name!r}; expected one of {', '.join(DRILLS)}")
    q = KpiQuery(Period(start, end), user, group_by, now or utcnow(), None, None)
    if name in CALL_DRILLS:
        k, _join = q.keys.call()
        cond = _call_filter(q, name)
        stmt = q.calls(select(m.ServiceCall))
        if cond is not None:
            stmt = stmt.where(cond)
        if key is not None:
            stmt = stmt.where(k == key)
        count = select(func.count()).select_from(stmt.subquery())
        return "calls", stmt.order_by(m.ServiceCall.reported_at.desc()).limit(LIST_LIMIT), count
    k, _join = q.keys.visit()
    vkind, cond = _visit_filter(q, name)
    stmt = q.visits(select(m.Visit), vkind or kind).where(cond)
    if key is not None:
        stmt = stmt.where(k == key)
    count = select(func.count()).select_from(stmt.subquery())
    order = m.Visit.due_date.desc() if vkind == "pm" else m.Visit.id.desc()
    return "visits", stmt.order_by(order).limit(LIST_LIMIT), count


def done_by_kind(start: dt.date, end: dt.date, *, user: m.User | None) -> dict[int, dict[str, int]]:
    """Completed visits (checked out in the period) per contractor id and kind."""
    q = KpiQuery(Period(start, end), user, "contractor", utcnow(), None, None)
    v = m.Visit
    stmt = q.visits(select(v.contractor_id, v.kind, func.count())).where(
        v.status == VisitStatus.COMPLETED, v.checkout_at >= q.p.start_utc, v.checkout_at < q.p.end_utc
    ).group_by(v.contractor_id, v.kind)
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for con, kind, n in db.session.execute(stmt):
        out[con][kind] = int(n)
    return dict(out)


@dataclass
class OpenWork:
    """A contractor's open work now."""

    contractor_id: int
    code: str
    name: str
    name_fa: str
    open_calls: int = 0
    at_risk: int = 0
    breached: int = 0
    paused: int = 0
    pm_overdue: int = 0
    installs_late: int = 0
    call_ids: dict[str, list[int]] = field(default_factory=lambda: {"at_risk": [], "breached": []})


def open_work(user: m.User | None, now: dt.datetime | None = None, tz: str = "Asia/Tehran") -> list[OpenWork]:
    """Per contractor in scope: open calls with SLA flags (at risk / breached, by the contract
    calendar via :func:`fieldsvc.visits.desk.calls.sla_flags`), overdue PM visits, late installations."""
    from fieldsvc.visits.desk.calls import sla_flags

    now = now or utcnow()
    cons = db.session.execute(select(m.Contractor.id, m.Contractor.code, m.Contractor.name,
                                     m.Contractor.name_fa).where(scope_filter(m.Contractor, user))
                              .order_by(m.Contractor.code)).all()
    rows = {c.id: OpenWork(c.id, c.code, c.name, c.name_fa or "") for c in cons}
    calls = db.session.scalars(select(m.ServiceCall).where(scope_filter(m.ServiceCall, user),
                                                           m.ServiceCall.status.in_(_OPEN))).all()
    for call in calls:
        row = rows.get(call.contractor_id)
        if row is None:
            continue
        row.open_calls += 1
        flags = sla_flags(call, now)
        states = {flags.response, flags.resolution}
        if flags.paused:
            row.paused += 1
        if "breached" in states:
            row.breached += 1
            row.call_ids["breached"].append(call.id)
        elif "at_risk" in states:
            row.at_risk += 1
            row.call_ids["at_risk"].append(call.id)
    v = m.Visit
    today = now.astimezone(ZoneInfo(tz)).date()
    open_v = v.status.in_((VisitStatus.PLANNED, VisitStatus.DISPATCHED, VisitStatus.CHECKED_IN))
    for con, n in db.session.execute(
            select(v.contractor_id, func.count()).where(scope_filter(v, user), open_v, v.kind == "pm",
                                                        func.coalesce(v.window_end, v.due_date) < today)
            .group_by(v.contractor_id)):
        if con in rows:
            rows[con].pm_overdue = int(n)
    for con, n in db.session.execute(
            select(v.contractor_id, func.count()).where(scope_filter(v, user), open_v, v.kind == "install",
                                                        v.deadline < now).group_by(v.contractor_id)):
        if con in rows:
            rows[con].installs_late = int(n)
    return list(rows.values())


def unresolved_calls(user: m.User | None, hours: int, now: dt.datetime | None = None,
                     contractor_id: int | None = None) -> list[m.ServiceCall]:
    """Open calls reported more than ``hours`` wall-clock hours ago, oldest first."""
    now = now or utcnow()
    stmt = select(m.ServiceCall).where(scope_filter(m.ServiceCall, user), m.ServiceCall.status.in_(_OPEN),
                                       m.ServiceCall.reported_at < now - dt.timedelta(hours=hours))
    if contractor_id is not None:
        stmt = stmt.where(m.ServiceCall.contractor_id == contractor_id)
    return list(db.session.scalars(stmt.order_by(m.ServiceCall.reported_at).limit(LIST_LIMIT)))


def overdue_visits(user: m.User | None, what: str, contractor_id: int | None = None,
                   now: dt.datetime | None = None, tz: str = "Asia/Tehran") -> list[m.Visit]:
    """Open visits past due now: ``what`` "pm_overdue" (window closed) or "installs_late"
    (deadline passed), as counted by :func:`open_work`."""
    now = now or utcnow()
    v = m.Visit
    open_v = v.status.in_((VisitStatus.PLANNED, VisitStatus.DISPATCHED, VisitStatus.CHECKED_IN))
    stmt = select(v).where(scope_filter(v, user), open_v)
    if what == "pm_overdue":
        today = now.astimezone(ZoneInfo(tz)).date()
        stmt = stmt.where(v.kind == "pm", func.coalesce(v.window_end, v.due_date) < today)
    elif what == "installs_late":
        stmt = stmt.where(v.kind == "install", v.deadline < now)
    else:
        raise ValueError(f"unknown list {what!r}")
    if contractor_id is not None:
        stmt = stmt.where(v.contractor_id == contractor_id)
    return list(db.session.scalars(stmt.order_by(v.due_date, v.deadline, v.id).limit(LIST_LIMIT)))
