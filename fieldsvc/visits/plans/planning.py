"""The bridge database → planner → database: build a contractor's day, solve it, store it.

:func:`build_day` turns the rows of one contractor's day into a pure planner
:class:`~fieldsvc.planner.problem.Problem` (technicians with shifts, breaks, skills, vehicles,
max visits, home or last known position; visits with the merchant's opening hours that weekday,
service minutes by kind and terminal count, terminal families as skills, EM deadlines, PM
overdue days, pins; finished work removed and checked-in work frozen at the head of its route;
locked routes left out). :func:`store_plan` writes routes, positions, ETAs and the PlanRun in
ONE transaction: a failed or cancelled run leaves the previous plan as it was.
:func:`plan_all_contractors` solves contractors in parallel worker processes (the planner is
pure, its Problems pickle); all database work stays in the calling process.
"""
from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import os
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from typing import Any, Callable
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import selectinload

from fieldsvc import config
from fieldsvc.calendar import WEEKDAY_NAMES, CalendarSpec, is_working_day
from fieldsvc.db import db, utcnow
from fieldsvc.planner.day import Progress, locked_day, solve_day
from fieldsvc.planner.horizon import HorizonParams, HorizonTechnician, HorizonVisit, spread
from fieldsvc.planner.params import SolveParams
from fieldsvc.planner.problem import Break, Point, Problem, Technician, TimeWindow, Visit
from fieldsvc.planner.solution import Solution
from fieldsvc.visits import models as m
from fieldsvc.visits.audit import record, transition_call
from fieldsvc.visits.lifecycle_models import WorkOrder
from fieldsvc.visits.orders.service import family_of_visit, mark_scheduled
from fieldsvc.visits.plans.day_over import ALL_OVER_MESSAGE, summary_entries
from fieldsvc.visits.plans.due import (contract_calendar, is_plannable_day, merchant_closed_on, opening_windows,
                                       plannable_days, service_minutes)
from fieldsvc.visits.states import CallStatus, VisitStatus

log = logging.getLogger(__name__)

ProgressFn = Callable[[float, str], None]

OPEN_STATES = (VisitStatus.PLANNED, VisitStatus.DISPATCHED)
DONE_STATES = (VisitStatus.COMPLETED, VisitStatus.FAILED)
#: Reasons the bridge itself gives (the planner's are in fieldsvc.planner.solution.REASONS).
BRIDGE_REASONS = {
    "merchant_closed": "the merchant is closed that day (weekday, holiday or its own closed date)",
    "no_technician": "no technician of the contractor works that day",
    "pinned_unavailable": "pinned to a technician who does not work that day or whose route is locked",
}
EM_PRIORITY = {"critical": 100, "urgent": 80, "normal": 60}
#: Calls waiting for a technician: the nightly plan gives them an EM visit on a route.
WAITING_CALL_STATES = (CallStatus.OPEN, CallStatus.ASSIGNED)
CALL_PREFIX = "call:"


class PlanCancelled(RuntimeError):
    """The PlanRun was cancelled before its result was stored."""


def local_tz() -> str:
    """The display/planning time zone (Config TIMEZONE)."""
    return config.TIMEZONE


def day_start_utc(day: dt.date, tz: str | None = None) -> dt.datetime:
    """Local midnight of ``day`` as aware UTC: second 0 of the planner's day."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=ZoneInfo(tz or local_tz())).astimezone(dt.timezone.utc)


def local_today(tz: str | None = None) -> dt.date:
    return utcnow().astimezone(ZoneInfo(tz or local_tz())).date()


def _secs(hhmm: str) -> int:
    h, mi = str(hhmm).split(":")
    return int(h) * 3600 + int(mi) * 60


def _offset(at: dt.datetime, start: dt.datetime) -> int:
    return int((at - start).total_seconds())


# --------------------------------------------------------------------------- who works, what to do


def technician_works(tech: m.Technician, day: dt.date, calendars: list[CalendarSpec]) -> bool:
    """Active, not a personal day off, Friday only if listed as a work day, and a working day of
    at least one of the contractor's contracts (Iranian public holidays are off)."""
    name = WEEKDAY_NAMES[day.weekday()]
    off = set(tech.days_off or [])
    if not tech.active or name in off:
        return False
    if not any(is_working_day(c, day) for c in calendars or [CalendarSpec()]):
        return False
    return True


def contract_calendars(contractor_id: int, day: dt.date) -> list[CalendarSpec]:
    """The calendars of the contractor's contracts in force on ``day`` (who works that day)."""
    rows = db.session.scalars(select(m.Contract).where(m.Contract.contractor_id == contractor_id,
                                                       m.Contract.valid_from <= day)).all()
    return [contract_calendar(c, day) for c in rows if c.active and (c.valid_to is None or c.valid_to >= day)]


def candidate_visits(contractor_id: int, day: dt.date) -> list[m.Visit]:
    """Open visits of the contractor that belong in ``day``'s plan: its routes' visits, PM visits
    planned for the day (or due/overdue and not given another day) and unscheduled EM/install work."""
    on_routes = select(m.Route.id).join(m.Technician).where(m.Route.date == day,
                                                               m.Technician.contractor_id == contractor_id)
    open_pool = (m.Visit.status.in_(OPEN_STATES) & m.Visit.route_id.is_(None)) & or_(
        m.Visit.planned_date == day,
        (m.Visit.kind == m.VisitKind.PM) & m.Visit.planned_date.is_(None) & (m.Visit.window_start <= day),
        (m.Visit.kind == m.VisitKind.PM) & (m.Visit.planned_date < day),
        (m.Visit.kind != m.VisitKind.PM) & (m.Visit.planned_date.is_(None) | (m.Visit.planned_date < day)))
    q = (select(m.Visit).where(m.Visit.contractor_id == contractor_id,
                               m.Visit.status.notin_((VisitStatus.CANCELLED, VisitStatus.MISSED)),
                               or_(m.Visit.route_id.in_(on_routes), open_pool))
         .options(selectinload(m.Visit.terminals), selectinload(m.Visit.merchant),
                  selectinload(m.Visit.service_call), selectinload(m.Visit.contract))
         .order_by(m.Visit.id))
    return list(db.session.scalars(q))


# --------------------------------------------------------------------------- building the problem


@dataclass
class DayContext:
    """A built day: the Problem and what the store needs to map the Solution back."""

    contractor_id: int
    day: dt.date
    start_utc: dt.datetime
    problem: Problem
    #: technician id → visit ids already finished today, in the order they were done.
    done: dict[int, list[int]] = field(default_factory=dict)
    #: technicians planned by this run (locked routes and absent technicians excluded).
    technician_ids: list[int] = field(default_factory=list)
    locked_technicians: list[int] = field(default_factory=list)
    #: visit id → reason code for visits the bridge left out.
    pre_unassigned: dict[int | str, str] = field(default_factory=dict)
    kinds: dict[int | str, str] = field(default_factory=dict)
    #: planner id "call:<id>" → service call id, for open calls that have no visit yet.
    calls: dict[str, int] = field(default_factory=dict)
    #: visit id → technician id of pins this run ignored (the technician is off or locked that day).
    dropped_pins: dict[int, int] = field(default_factory=dict)
    replanning: bool = False
    #: technician id → summary entry, for technicians whose working day is over (left out of the
    #: re-plan; their finished and checked-in visits stay as they are), see fieldsvc.visits.plans.day_over
    day_over: dict[int, dict] = field(default_factory=dict)


def visit_windows(merchant: m.Merchant, day: dt.date) -> tuple[TimeWindow, ...]:
    """Opening intervals of the merchant on ``day`` in planner seconds (empty: any time)."""
    wins = opening_windows(merchant, day)
    return tuple(TimeWindow(_secs(a), _secs(b)) for a, b in (wins or []))


def _sla_deadline(v: m.Visit, start: dt.datetime) -> int | None:
    when = v.deadline
    call = v.service_call
    if when is None and call is not None:
        when = call.response_by if call.responded_at is None else call.resolution_by
    if when is None:
        return None
    return max(0, _offset(when, start))


def to_planner_visit(v: m.Visit, day: dt.date, start: dt.datetime, pinned: int | None) -> Visit:
    """One database visit as a planner visit."""
    mer = v.merchant
    n_terms = len(v.terminals)
    skills = frozenset(t.family for t in v.terminals if t.family)
    if v.kind in (m.VisitKind.INSTALL, m.VisitKind.REMOVAL) and v.service_call_id is None:
        skills |= frozenset(family_of_visit([v.id]).values())  # a work order's terminal family
    overdue = 0
    priority = 10
    if v.kind == m.VisitKind.PM:
        if v.due_date is not None:
            overdue = max(0, (day - v.due_date).days)
        if v.window_end is not None and day >= v.window_end:
            priority = 20
    elif v.service_call is not None:
        priority = EM_PRIORITY.get(v.service_call.priority, 60)
    else:
        priority = 50
        if v.deadline is not None and v.deadline < start + dt.timedelta(days=1):
            priority = 70  # a work order due by the end of this day
    return Visit(
        id=v.id, location=Point(mer.lat, mer.lon), service=service_minutes(v.kind, n_terms) * 60,
        time_windows=visit_windows(mer, day), skills=skills, priority=priority, kind=str(v.kind),
        overdue_days=overdue, sla_deadline=_sla_deadline(v, start) if v.kind == m.VisitKind.EM or (
            v.deadline is not None and v.deadline < start + dt.timedelta(days=1)) else None,
        pinned_to=pinned, merchant=merchant_key(mer, pinned))


def merchant_key(mer: m.Merchant, pinned: int | None) -> tuple:
    """Visits with the same key are served as one stop: same building (or merchant) and the same
    pin — a pinned visit never shares a stop, or a territory, with one that may go elsewhere."""
    place = ("b", mer.building_key) if mer.building_key else ("m", mer.id)
    return place if pinned is None else ("pin", pinned, *place)


def to_planner_technician(t: m.Technician) -> Technician:
    """One technician's day: home to home inside the shift, one break inside its window."""
    home = Point(t.home_lat, t.home_lon)
    bs, be = _secs(t.break_start), _secs(t.break_end)
    dur = int(t.break_minutes or 0) * 60
    breaks = (Break(TimeWindow(bs, max(be, bs + dur)), dur),) if dur > 0 else ()
    return Technician(id=t.id, start=home, end=home, shift=TimeWindow(_secs(t.shift_start), _secs(t.shift_end)),
                      breaks=breaks, max_visits=t.max_visits, skills=frozenset(t.skills or []),
                      profile=t.vehicle if t.vehicle in ("car", "motorbike") else "car")


def waiting_calls(contractor_id: int) -> list[m.ServiceCall]:
    """Open or assigned EM calls of the contractor with no visit under way and no open pause."""
    active = select(m.Visit.service_call_id).where(
        m.Visit.service_call_id.is_not(None),
        m.Visit.status.in_((VisitStatus.PLANNED, VisitStatus.DISPATCHED, VisitStatus.CHECKED_IN)))
    paused = select(m.CallPause.call_id).where(m.CallPause.ended_at.is_(None))
    q = (select(m.ServiceCall).where(m.ServiceCall.contractor_id == contractor_id,
                                     m.ServiceCall.status.in_(WAITING_CALL_STATES),
                                     m.ServiceCall.id.notin_(active), m.ServiceCall.id.notin_(paused))
         .options(selectinload(m.ServiceCall.merchant), selectinload(m.ServiceCall.terminal))
         .order_by(m.ServiceCall.id))
    return list(db.session.scalars(q))


def call_visit(call: m.ServiceCall, day: dt.date, start: dt.datetime, pinned: int | None) -> Visit:
    """A waiting call as a planner EM visit (its response deadline is the soft SLA bound)."""
    mer = call.merchant
    family = call.terminal.family if call.terminal else None
    return Visit(
        id=f"{CALL_PREFIX}{call.id}", location=Point(mer.lat, mer.lon),
        service=service_minutes(m.VisitKind.EM, 1) * 60, time_windows=visit_windows(mer, day),
        skills=frozenset({family}) if family else frozenset(), priority=EM_PRIORITY.get(call.priority, 60),
        kind="em", sla_deadline=max(0, _offset(call.response_by, start)), pinned_to=pinned,
        merchant=merchant_key(mer, pinned))


def _visit_for_call(call_id: int, tid: int, day: dt.date, actor: m.User | None) -> m.Visit:
    """Create the EM visit of a waiting call placed on a route; the call becomes scheduled."""
    call = db.session.get(m.ServiceCall, call_id)
    if call is None or call.status not in WAITING_CALL_STATES:
        raise RuntimeError(f"service call {call_id} changed while planning; plan the day again")
    v = m.Visit(kind=m.VisitKind.EM, status=VisitStatus.PLANNED, merchant_id=call.merchant_id,
                contractor_id=call.contractor_id, contract_id=call.contract_id, service_call_id=call.id,
                technician_id=tid, planned_date=day, service_minutes=service_minutes(m.VisitKind.EM, 1),
                deadline=call.response_by, due_date=day)
    v.terminals = [call.terminal]
    db.session.add(v)
    db.session.flush()
    call.technician_id = tid
    transition_call(call, CallStatus.SCHEDULED.value, actor=actor, technician_id=tid, visit_id=v.id,
                    planned_date=day)
    return v


def build_day(contractor_id: int, day: dt.date, *, now: dt.datetime | None = None) -> DayContext:
    """The Problem of ``contractor_id``'s ``day`` (see the module docstring). Reads only."""
    tz = local_tz()
    start = day_start_utc(day, tz)
    now = now or utcnow()
    calendars = contract_calendars(contractor_id, day)
    techs = list(db.session.scalars(select(m.Technician).where(m.Technician.contractor_id == contractor_id)
                                    .order_by(m.Technician.id)))
    routes = {r.technician_id: r for r in db.session.scalars(
        select(m.Route).where(m.Route.date == day, m.Route.technician_id.in_([t.id for t in techs])))}
    locked = [t.id for t in techs if t.id in routes and routes[t.id].locked]
    working = [t for t in techs if t.id not in locked and technician_works(t, day, calendars)]
    work_ids = {t.id for t in working}
    ctx = DayContext(contractor_id, day, start, Problem((), ()), technician_ids=[t.id for t in working],
                     locked_technicians=locked)
    locked_route_ids = {routes[t].id for t in locked}
    visits = [v for v in candidate_visits(contractor_id, day) if v.route_id not in locked_route_ids]
    under_way: dict[int, list[m.Visit]] = {}
    done: dict[int, list[m.Visit]] = {}
    planner_visits: list[Visit] = []
    for v in visits:
        ctx.kinds[v.id] = str(v.kind)
        on_today_route = v.route_id is not None and v.route is not None and v.route.date == day
        if v.status in DONE_STATES or v.status == VisitStatus.CHECKED_IN:
            tid = v.technician_id if on_today_route else None
            if tid in work_ids:
                (done if v.status in DONE_STATES else under_way).setdefault(tid, []).append(v)
            continue  # finished or under way elsewhere: not ours to move
        if merchant_closed_on(v.merchant, day) or (
                v.kind == m.VisitKind.PM and v.contract is not None
                and not is_plannable_day(v.merchant, day, contract_calendar(v.contract, day))):
            if v.planned_date == day or on_today_route:
                ctx.pre_unassigned[v.id] = "merchant_closed"
            continue
        pinned = v.pinned_technician_id
        if pinned is not None and pinned not in work_ids:
            # a pin may name any technician of the contractor, but only those working and unlocked
            # enter the problem: the pin is dropped (and reported) rather than blocking the day
            ctx.dropped_pins[v.id] = pinned
            pinned = None
        if not working:
            ctx.pre_unassigned[v.id] = "no_technician"
            continue
        planner_visits.append(to_planner_visit(v, day, start, pinned))
    for v in (x for lst in under_way.values() for x in lst):
        pv = to_planner_visit(v, day, start, v.technician_id)
        if v.checkin_at is not None:  # only the rest of the job is still to do
            pv = replace(pv, service=max(0, pv.service - max(0, _offset(now, v.checkin_at))))
        planner_visits.append(pv)
    for call in waiting_calls(contractor_id):
        pid = f"{CALL_PREFIX}{call.id}"
        ctx.kinds[pid] = "em"
        ctx.calls[pid] = call.id
        if merchant_closed_on(call.merchant, day):
            ctx.pre_unassigned[pid] = "merchant_closed"
        elif not working:
            ctx.pre_unassigned[pid] = "no_technician"
        else:
            pinned = call.technician_id if call.technician_id in work_ids else None
            planner_visits.append(call_visit(call, day, start, pinned))
    problem = Problem(tuple(to_planner_technician(t) for t in working), tuple(planner_visits),
                      name=f"contractor {contractor_id} {day.isoformat()}")
    ctx.done = {tid: [v.id for v in sorted(lst, key=lambda x: (x.checkout_at or x.checkin_at or now, x.id))]
                for tid, lst in done.items()}
    today = now.astimezone(ZoneInfo(tz)).date()
    if working and day == today:
        ctx.replanning = True
        now_s = max(0, _offset(now, start))
        progress = []
        for t in working:
            pos = None
            if t.last_lat is not None and t.last_lon is not None and t.last_seen_at is not None \
                    and t.last_seen_at >= start:
                pos = Point(t.last_lat, t.last_lon)
            uw = sorted(under_way.get(t.id, []), key=lambda x: (x.checkin_at or now, x.id))
            progress.append(Progress(t.id, time=now_s, position=pos, done=tuple(ctx.done.get(t.id, [])),
                                     under_way=tuple(v.id for v in uw)))
        report = locked_day(problem, progress)
        problem = report.problem
        ctx.pre_unassigned.update(report.unassigned)
        ctx.day_over = summary_entries(report.day_over, working, ctx.done)
        ctx.technician_ids = [tid for tid in ctx.technician_ids if tid not in ctx.day_over]
    ctx.problem = problem
    return ctx


def solve_context(ctx: DayContext, params: SolveParams) -> Solution:
    """Solve a built day in this process (empty days need no solver)."""
    if not ctx.problem.technicians or not ctx.problem.visits:
        return Solution([], [])
    return solve_day(ctx.problem, params)


# --------------------------------------------------------------------------- storing


def set_progress(run_id: int, progress: float, message: str, **values: Any) -> None:
    """Record a PlanRun's progress in its own short transaction (the progress endpoint reads it)."""
    values = {"progress": round(max(0.0, min(1.0, progress)), 3), "message": message[:300],
              "heartbeat_at": utcnow(), **values}
    table = m.PlanRun.__table__
    stmt = update(table).where(table.c.id == run_id)
    if values.get("status") != m.PlanStatus.CANCELLED:  # a cancelled run stays cancelled
        stmt = stmt.where(table.c.status != m.PlanStatus.CANCELLED)
    with db.engine.begin() as conn:
        conn.execute(stmt.values(**values))


def _summary(ctx: DayContext, sol: Solution, unassigned: list[dict]) -> dict[str, Any]:
    served = [v for r in sol.routes for v in r.visit_ids]
    served += [v for e in ctx.day_over.values() for v in e["under_way"]]  # under way, kept as it is
    done = [v for lst in ctx.done.values() for v in lst]
    kinds = ctx.kinds
    by_reason: dict[str, int] = {}
    for u in unassigned:
        by_reason[u["reason"]] = by_reason.get(u["reason"], 0) + 1
    total = len(served) + len(done) + len(unassigned)
    return {
        "visits": total, "served": len(served) + len(done), "done_before": len(done),
        "unassigned": len(unassigned), "by_reason": by_reason,
        "pm": sum(1 for v in served if kinds.get(v) == "pm"), "em": sum(1 for v in served if kinds.get(v) == "em"),
        "technicians": len(ctx.technician_ids), "routes": sum(1 for r in sol.routes if r.visit_ids),
        "locked_technicians": len(ctx.locked_technicians),
        "travel_seconds": sol.travel_seconds, "distance_m": sol.distance_m,
        "served_share": round((len(served) + len(done)) / total, 4) if total else 1.0,
        "replanning": ctx.replanning, "solver_status": sol.status,
        "solver_seconds": sol.statistics.get("solver_seconds"),
        # "stagnation" when the search ended because it stopped improving (else the time limit)
        "solver_stopped": sol.statistics.get("stopped", "time limit"),
        "day_over": list(ctx.day_over.values()),
        "all_day_over": bool(ctx.day_over) and not ctx.technician_ids,
    }


def store_plan(ctx: DayContext, sol: Solution, run_id: int, actor: m.User | None = None) -> m.PlanRun:
    """Write routes, positions, ETAs and the PlanRun result in one transaction.

    Raises :class:`PlanCancelled` (nothing written) if the run was cancelled meanwhile; any error
    rolls everything back, so the previous plan stays intact."""
    session = db.session
    try:
        run = session.get(m.PlanRun, run_id, populate_existing=True)
        if run is None:
            raise LookupError(f"plan run {run_id} vanished")
        if run.status == m.PlanStatus.CANCELLED:
            raise PlanCancelled(f"plan run {run_id} was cancelled")
        start, day = ctx.start_utc, ctx.day
        tech_ids = set(ctx.technician_ids)
        routes = {r.technician_id: r for r in session.scalars(
            select(m.Route).where(m.Route.date == day, m.Route.technician_id.in_(tech_ids)))}
        # a technician whose day is over keeps the route with its finished and checked-in visits;
        # only the visits not started go back to the plan
        over_routes = list(session.scalars(select(m.Route).where(
            m.Route.date == day, m.Route.technician_id.in_(list(ctx.day_over))))) if ctx.day_over else []
        problem_ids = {v.id for v in ctx.problem.visits if v.id not in ctx.calls}
        touched = problem_ids | {v for v in ctx.pre_unassigned if v not in ctx.calls}
        keep_done = {v for lst in ctx.done.values() for v in lst}
        # take every open visit off this day's unlocked routes; the new plan puts them back
        if routes:
            for v in session.scalars(select(m.Visit).where(m.Visit.route_id.in_([r.id for r in routes.values()]))):
                if v.id not in keep_done:
                    touched.add(v.id)
        touched |= {v.id for r in over_routes for v in r.visits if v.status in OPEN_STATES}
        visits = {v.id: v for v in session.scalars(select(m.Visit).where(m.Visit.id.in_(touched | keep_done)))}
        for vid in touched:
            v = visits.get(vid)
            if v is None or v.status not in OPEN_STATES and v.status != VisitStatus.CHECKED_IN:
                continue
            v.route_id, v.route_position, v.eta, v.planned_start, v.planned_end = None, None, None, None, None
            if v.status in OPEN_STATES:
                v.technician_id = None
        for r in over_routes:
            if all(v.status in OPEN_STATES for v in r.visits):  # nothing of it stays: no route left
                session.delete(r)
        unassigned: list[dict] = []
        by_tech = {r.technician_id: r for r in sol.routes}
        for tid in sorted((tech_ids | set(ctx.done)) - set(ctx.day_over)):
            pr = by_tech.get(tid)
            done_ids = ctx.done.get(tid, [])
            if (pr is None or not pr.visit_ids) and not done_ids:
                if tid in routes:
                    session.delete(routes[tid])
                continue
            row = routes.get(tid)
            if row is None:
                row = m.Route(technician_id=tid, date=day)
                session.add(row)
            row.plan_run_id = run_id
            row.travel_seconds = pr.travel_seconds if pr else 0
            row.distance_m = pr.distance_m if pr else 0
            row.service_seconds = pr.service_seconds if pr else 0
            row.waiting_seconds = pr.waiting_seconds if pr else 0
            stops = pr.stops if pr else []
            first = next((s for s in stops if s.type == "start"), None)
            last = next((s for s in reversed(stops) if s.type == "end"), None)
            brk = next((s for s in stops if s.type == "break"), None)
            row.start_at = start + dt.timedelta(seconds=first.start) if first else None
            row.end_at = start + dt.timedelta(seconds=last.arrival) if last else None
            row.break_start = start + dt.timedelta(seconds=brk.start) if brk else None
            row.break_end = start + dt.timedelta(seconds=brk.end) if brk else None
            session.flush()
            pos = 0
            for vid in done_ids:
                pos += 1
                v = visits[vid]
                v.route_id, v.route_position = row.id, pos
            for s in stops:
                if s.type != "job":
                    continue
                for vid in s.visit_ids:
                    pos += 1
                    v = visits[vid] if vid not in ctx.calls else _visit_for_call(ctx.calls[vid], tid, day, actor)
                    v.route_id, v.route_position, v.technician_id = row.id, pos, tid
                    v.planned_date = day
                    v.eta = start + dt.timedelta(seconds=s.arrival)
                    v.planned_start = start + dt.timedelta(seconds=s.start)
                    v.planned_end = start + dt.timedelta(seconds=s.end)
                    v.unassigned_reason = ""
        dropped = drop_pins(ctx, visits, actor)
        for u in sol.unassigned:
            unassigned.append({"visit_id": u.visit_id, "reason": u.reason})
        for vid, reason in ctx.pre_unassigned.items():
            unassigned.append({"visit_id": vid, "reason": reason})
        calls = {c.id: c for c in session.scalars(select(m.ServiceCall).where(
            m.ServiceCall.id.in_(list(ctx.calls.values()))))} if ctx.calls else {}
        for u in unassigned:
            if u["visit_id"] in ctx.calls:  # a waiting call left without a visit
                call = calls[ctx.calls[u["visit_id"]]]
                u.update(visit_id=None, call_id=call.id, tracking_number=call.tracking_number,
                         merchant=call.merchant.name, kind="em")
                continue
            v = visits.get(u["visit_id"])
            if v is not None:
                v.unassigned_reason = u["reason"]
                u["merchant"] = v.merchant.name
                u["kind"] = str(v.kind)
        mark_scheduled(list(visits.values()), actor)  # work orders follow their visits
        run.summary = {**_summary(ctx, sol, unassigned), "dropped_pins": dropped}
        run.unassigned = unassigned
        run.objective = int(sol.cost.total)
        run.status = m.PlanStatus.SUCCEEDED
        run.progress = 1.0
        run.message = ALL_OVER_MESSAGE if run.summary["all_day_over"] else "stored"
        run.finished_at = utcnow()
        record("plan_stored", run, actor=actor, contractor_id=ctx.contractor_id, date=day,
               served=run.summary["served"], unassigned=len(unassigned))
        session.commit()
        return run
    except BaseException:
        session.rollback()
        raise


def drop_pins(ctx: DayContext, visits: dict[int, m.Visit], actor: m.User | None) -> list[dict[str, Any]]:
    """Clear the pins ``ctx`` ignored (audited); returns them for the run summary."""
    out = []
    for vid, tid in sorted(ctx.dropped_pins.items()):
        v = visits.get(vid)
        if v is None or v.pinned_technician_id != tid:
            continue
        tech = db.session.get(m.Technician, tid)
        v.pinned_technician_id = None
        record("pin_dropped", v, actor=actor, technician_id=tid, date=ctx.day)
        out.append({"visit_id": vid, "technician_id": tid, "technician": tech.name if tech else str(tid),
                    "merchant": v.merchant.name})
    return out


def _fail(run_id: int, exc: BaseException) -> None:
    status = m.PlanStatus.CANCELLED if isinstance(exc, PlanCancelled) else m.PlanStatus.FAILED
    msg = str(exc) or exc.__class__.__name__
    set_progress(run_id, 1.0, msg, status=status, error=f"{exc.__class__.__name__}: {msg}",
                 finished_at=utcnow())


# --------------------------------------------------------------------------- runs


def new_run(day: dt.date, contractor_id: int | None, *, kind: str = "daily", days: int = 1,
            params: dict | None = None, actor: m.User | None = None) -> m.PlanRun:
    """A queued PlanRun, committed (so progress can be polled at once)."""
    run = m.PlanRun(kind=kind, date=day, days=days, contractor_id=contractor_id, params=params or {},
                    status=m.PlanStatus.QUEUED, progress=0.0, message="queued",
                    created_by_id=actor.id if actor else None)
    db.session.add(run)
    db.session.commit()
    return run


def cancel_run(run_id: int, actor: m.User | None = None) -> m.PlanRun:
    """Mark a queued or running PlanRun cancelled: its result will not be stored."""
    run = db.session.get(m.PlanRun, run_id)
    if run is None:
        raise LookupError(f"plan run {run_id} not found")
    if run.status in (m.PlanStatus.QUEUED, m.PlanStatus.RUNNING):
        run.status = m.PlanStatus.CANCELLED
        run.message = "cancelled"
        run.finished_at = utcnow()
        record("plan_cancelled", run, actor=actor, contractor_id=run.contractor_id)
        db.session.commit()
    return run


#: a re-plan warm-started from the day's routes ends this many seconds after its last improvement
REPLAN_STAGNATION = 2.0


def _params(time_limit: float) -> SolveParams:
    return SolveParams(time_limit=max(1.0, float(time_limit)), stagnation=REPLAN_STAGNATION)


def _workers(n: int) -> int:
    return max(1, min(n, os.cpu_count() or 1))


def _solver_process() -> ProcessPoolExecutor:
    """One worker process for one day. Forkserver: it never inherits the parent's database
    connections or web threads; the server imports the solver once, so each process starts warm."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["fieldsvc.planner.day", "fieldsvc.planner._ortools"])
    return ProcessPoolExecutor(max_workers=1, mp_context=ctx)


#: what a day's run says when the process solving it died (OR-Tools ends its process on a failed
#: internal check): only that day is lost, the others are solved in processes of their own
SOLVER_DIED_MESSAGE = ("the process solving this day stopped abruptly (the solver ended it); the other "
                       "contractors' days were planned. Start this plan again; if it stops again, report the run number")


def _run_days(items: list[tuple[m.PlanRun, DayContext]], time_limit: float, progress: ProgressFn | None,
              actor: m.User | None, dask_scheduler: str | None = None) -> None:
    """Solve built days, each in a worker process of its own (or, given ``dask_scheduler``, on that Dask cluster:
    territories and regrouping rounds as tasks), reporting progress, and store each as it finishes."""
    params = _params(time_limit)
    todo = [(run.id, ctx) for run, ctx in items]
    solvable = [(rid, ctx) for rid, ctx in todo if ctx.problem.technicians and ctx.problem.visits]
    finished = 0
    total = max(1, len(todo))

    def report(rid: int, frac: float, msg: str) -> None:
        try:
            set_progress(rid, frac, msg)
        except OperationalError:  # a busy database must not end the run: the next report catches up
            log.warning("progress of plan run %s not recorded this time", rid, exc_info=True)
        if progress:
            progress((finished + frac) / total, msg)

    for rid, ctx in todo:
        if (rid, ctx) not in solvable:
            try:
                report(rid, 0.9, "storing")
                store_plan(ctx, Solution([], []), rid, actor)
            except Exception as exc:  # noqa: BLE001 - recorded on the run
                _fail(rid, exc)
            finished += 1
    if not solvable:
        if progress:
            progress(1.0, "done")
        return
    t0 = time.monotonic()
    cluster = None
    if dask_scheduler:
        from concurrent.futures import ThreadPoolExecutor

        from fieldsvc.planner.cluster import DaskPool

        try:
            cluster = DaskPool(dask_scheduler)
        except ConnectionError as exc:
            for rid, _ctx in solvable:
                _fail(rid, exc)
            if progress:
                progress(1.0, "failed")
            return
        pool = ThreadPoolExecutor(max_workers=len(solvable), thread_name_prefix="dask-day")
    else:
        pool = None
    solve_one = cluster.solve_day if cluster else solve_day
    # locally, each day in a process of its own, as many at once as there are cores, the biggest
    # days first (they take longest): a process that dies takes only its own day with it
    slots = len(solvable) if cluster else _workers(len(solvable))
    queue = sorted(solvable, key=lambda item: -len(item[1].problem.visits))
    # expected wall time: waves of contractors over the workers, each up to its time limit
    expected = params.time_limit * -(-len(solvable) // slots) * 1.15 + 2
    running: dict[Future, tuple[int, DayContext, ProcessPoolExecutor | None]] = {}
    try:
        for rid, ctx in queue:
            set_progress(rid, 0.1, f"solving {len(ctx.problem.visits)} visits", status=m.PlanStatus.RUNNING)
        while queue or running:
            while queue and len(running) < slots:
                rid, ctx = queue.pop(0)
                own = None if pool else _solver_process()
                running[(pool or own).submit(solve_one, ctx.problem, params)] = (rid, ctx, own)
            done, _ = wait(running, timeout=1.0, return_when=FIRST_COMPLETED)
            frac = 0.1 + 0.8 * min(1.0, (time.monotonic() - t0) / expected)
            for f in set(running) - done:
                report(running[f][0], frac, "solving")
            for f in done:
                rid, ctx, own = running.pop(f)
                if own is not None:
                    own.shutdown(wait=False)
                try:
                    sol = f.result()
                    report(rid, 0.92, "storing")
                    store_plan(ctx, sol, rid, actor)
                except BrokenProcessPool:
                    log.error("plan run %s: its solver process died", rid)
                    _fail(rid, RuntimeError(SOLVER_DIED_MESSAGE))
                except Exception as exc:
                    log.exception("plan run %s failed", rid)
                    _fail(rid, exc)
                finished += 1
    finally:
        for _f, (_rid, _ctx, own) in running.items():
            if own is not None:
                own.shutdown(cancel_futures=True)
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        if cluster is not None:
            cluster.close()
    if progress:
        progress(1.0, "done")


def plan_contractor_day(contractor_id: int, day: dt.date, *, time_limit: float = 30,
                        progress: ProgressFn | None = None, actor: m.User | None = None,
                        plan_run: m.PlanRun | None = None, now: dt.datetime | None = None,
                        dask_scheduler: str | None = None) -> m.PlanRun:
    """Plan one contractor's day and store it; returns the PlanRun (succeeded, failed or cancelled).
    ``dask_scheduler`` (``tcp://host:8786``) solves it on that Dask cluster."""
    run = plan_run or new_run(day, contractor_id, params={"time_limit": time_limit}, actor=actor)
    rid = run.id
    set_progress(rid, 0.02, "loading", status=m.PlanStatus.RUNNING, started_at=utcnow())
    try:
        ctx = build_day(contractor_id, day, now=now)
        db.session.rollback()  # end the read transaction before the solver runs
    except Exception as exc:  # noqa: BLE001 - any failure is recorded on the run for the dispatcher
        db.session.rollback()
        _fail(rid, exc)
        return db.session.get(m.PlanRun, rid, populate_existing=True)
    _run_days([(run, ctx)], time_limit, progress, actor, dask_scheduler)
    return db.session.get(m.PlanRun, rid, populate_existing=True)


def contractors_to_plan(contractor_code: str | None = None) -> list[m.Contractor]:
    """Every contractor (or the one with ``contractor_code``; LookupError if unknown)."""
    q = select(m.Contractor).order_by(m.Contractor.code)
    if contractor_code:
        q = q.where(m.Contractor.code == contractor_code)
    rows = list(db.session.scalars(q))
    if contractor_code and not rows:
        raise LookupError(f"unknown contractor code {contractor_code!r}")
    return rows


def plan_all_contractors(day: dt.date, *, time_limit: int = 30, progress: ProgressFn | None = None,
                         actor: m.User | None = None, contractor_code: str | None = None,
                         now: dt.datetime | None = None, dask_scheduler: str | None = None) -> list[m.PlanRun]:
    """Plan ``day`` for every contractor, solving them in parallel processes (or on the Dask cluster at
    ``dask_scheduler``); one PlanRun each."""
    contractors = contractors_to_plan(contractor_code)
    runs = [new_run(day, c.id, params={"time_limit": time_limit}, actor=actor) for c in contractors]
    items = []
    for i, run in enumerate(runs):
        set_progress(run.id, 0.02, "loading", status=m.PlanStatus.RUNNING, started_at=utcnow())
        try:
            items.append((run, build_day(run.contractor_id, day, now=now)))
        except Exception as exc:  # noqa: BLE001 - recorded on the run
            db.session.rollback()
            _fail(run.id, exc)
        if progress:
            progress(0.05 * (i + 1) / len(runs), "loading")
    db.session.rollback()
    _run_days(items, time_limit, progress, actor, dask_scheduler)
    return [db.session.get(m.PlanRun, r.id, populate_existing=True) for r in runs]


# --------------------------------------------------------------------------- dispatcher actions


def pin_visit(visit: m.Visit, technician: m.Technician | None, actor: m.User | None = None) -> None:
    """Pin ``visit`` to ``technician`` (None unpins); the next re-optimisation honours it. Commits."""
    if visit.status not in OPEN_STATES:
        raise ValueError(f"visit {visit.id} is {visit.status}: only planned visits can be moved")
    if technician is not None and technician.contractor_id != visit.contractor_id:
        raise ValueError(f"technician {technician.id} does not work for this visit's contractor")
    old = visit.pinned_technician_id
    visit.pinned_technician_id = technician.id if technician else None
    record("visit_pinned", visit, actor=actor, technician_id=visit.pinned_technician_id, previous=old)
    db.session.commit()


def lock_route(route: m.Route, locked: bool, actor: m.User | None = None) -> None:
    """Lock (or unlock) a technician's route: re-optimising the day keeps it as it is. Commits."""
    route.locked = bool(locked)
    record("route_locked" if locked else "route_unlocked", route, actor=actor,
           contractor_id=route.technician.contractor_id, technician_id=route.technician_id)
    db.session.commit()


# --------------------------------------------------------------------------- horizon


def plan_horizon(start: dt.date, days: int, *, contractor_id: int | None = None,
                 actor: m.User | None = None, params: HorizonParams | None = None) -> list[m.PlanRun]:
    """Spread the due PM pool over ``days`` days from ``start`` per contractor and store each
    visit's planned day (Visit.planned_date); one PlanRun of kind "horizon" per contractor."""
    if days < 1:
        raise ValueError("days must be at least 1")
    last = start + dt.timedelta(days=days - 1)
    horizon = [start + dt.timedelta(days=i) for i in range(days)]
    q = select(m.Contractor).order_by(m.Contractor.code)
    if contractor_id is not None:
        q = q.where(m.Contractor.id == contractor_id)
    out = []
    for con in db.session.scalars(q).all():
        run = new_run(start, con.id, kind="horizon", days=days, params={"days": days}, actor=actor)
        try:
            out.append(_plan_horizon_one(con, run, horizon, last, actor, params))
        except Exception as exc:  # noqa: BLE001 - any failure is recorded on the run for the dispatcher
            db.session.rollback()
            _fail(run.id, exc)
            out.append(db.session.get(m.PlanRun, run.id, populate_existing=True))
    return out


def _plan_horizon_one(con: m.Contractor, run: m.PlanRun, horizon: list[dt.date], last: dt.date,
                      actor: m.User | None, params: HorizonParams | None) -> m.PlanRun:
    start = horizon[0]
    pool = list(db.session.scalars(
        select(m.Visit).where(m.Visit.contractor_id == con.id, or_(  # PM visits and work orders' visits
                              m.Visit.kind == m.VisitKind.PM, m.Visit.id.in_(select(WorkOrder.visit_id))),
                              m.Visit.status.in_(OPEN_STATES), m.Visit.route_id.is_(None),
                              m.Visit.window_start <= last)
        .options(selectinload(m.Visit.terminals), selectinload(m.Visit.merchant),
                 selectinload(m.Visit.contract)).order_by(m.Visit.id)))
    calendars = contract_calendars(con.id, start)
    techs = list(db.session.scalars(select(m.Technician).where(m.Technician.contractor_id == con.id,
                                                              m.Technician.active.is_(True))))
    htechs = []
    for t in techs:
        work = _secs(t.shift_end) - _secs(t.shift_start) - int(t.break_minutes or 0) * 60
        htechs.append(HorizonTechnician(
            id=t.id, home=Point(t.home_lat, t.home_lon), max_visits=t.max_visits, work_seconds=max(0, work),
            days=tuple(d for d in horizon if technician_works(t, d, calendars)), skills=frozenset(t.skills or [])))
    hvisits = []
    for v in pool:
        cal = contract_calendar(v.contract, v.due_date or start) if v.contract else CalendarSpec()
        w_end = v.window_end or last
        overdue = max(0, (start - v.window_end).days) if v.window_end else 0
        lo = start if overdue else max(start, v.window_start or start)
        hi = last if overdue else min(last, w_end)
        days = tuple(plannable_days(v.merchant, lo, hi, cal)) if lo <= hi else ()
        hvisits.append(HorizonVisit(
            id=v.id, location=Point(v.merchant.lat, v.merchant.lon), days=days,
            best_day=days[0] if days else lo, window_end=w_end, overdue_days=overdue,
            service=service_minutes(v.kind, len(v.terminals)) * 60,
            skills=frozenset(t.family for t in v.terminals if t.family) | frozenset(
                family_of_visit([v.id]).values() if v.kind != m.VisitKind.PM else ())))
    hp = params or HorizonParams()
    booked: dict[tuple[int, dt.date], tuple[int, int]] = {}
    routed = db.session.execute(
        select(m.Route.technician_id, m.Route.date, m.Visit.service_minutes)
        .join(m.Visit, m.Visit.route_id == m.Route.id)
        .where(m.Route.date.in_(horizon), m.Route.technician_id.in_([t.id for t in techs]),
               m.Visit.status.notin_((VisitStatus.CANCELLED, VisitStatus.MISSED)))).all()
    for tid, day, minutes in routed:  # work already on the routes of those days
        n, secs = booked.get((tid, day), (0, 0))
        booked[(tid, day)] = (n + 1, secs + int(minutes or 0) * 60 + hp.travel_per_visit)
    plan = spread(hvisits, htechs, hp, booked)
    by_id = {v.id: v for v in pool}
    for vid, (day, _tid) in plan.assigned.items():
        by_id[vid].planned_date = day
        by_id[vid].unassigned_reason = ""
    unfitted = []
    for vid, reason in plan.unfitted.items():
        v = by_id[vid]
        v.planned_date = None
        v.unassigned_reason = reason
        unfitted.append({"visit_id": vid, "reason": reason, "merchant": v.merchant.name, "kind": str(v.kind),
                         "window_end": v.window_end.isoformat() if v.window_end else None})
    run = db.session.get(m.PlanRun, run.id)
    run.summary = {"visits": len(pool), "assigned": len(plan.assigned), "unfitted": len(unfitted),
                   "per_day": {d.isoformat(): n for d, n in plan.day_counts().items()},
                   "technicians": len(htechs)}
    run.unassigned = unfitted
    run.status, run.progress, run.message = m.PlanStatus.SUCCEEDED, 1.0, "stored"
    run.started_at = run.started_at or run.created_at
    run.finished_at = utcnow()
    record("horizon_stored", run, actor=actor, contractor_id=con.id, assigned=len(plan.assigned),
           unfitted=len(unfitted))
    db.session.commit()
    return run
