"""Daily plans from the database: stored routes, atomic storage, cancellation, re-planning with locks."""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest

from fieldsvc.db import db
from fieldsvc.planner.day import solve_day
from fieldsvc.visits import models as m
from fieldsvc.visits.plans import planning
from fieldsvc.visits.audit import transition_visit
from tests.dispatch.conftest import DAY, c1_visits

TEHRAN = ZoneInfo("Asia/Tehran")


def _routes(day: dt.date = DAY) -> dict[int, list[int]]:
    out = {}
    for r in db.session.scalars(db.select(m.Route).where(m.Route.date == day)):
        out[r.technician_id] = [v.id for v in sorted(r.visits, key=lambda v: v.route_position)]
    return out


def test_plan_stores_routes_etas_and_run(pm_world):
    c1 = pm_world.contractors[0]
    run = planning.plan_contractor_day(c1.id, DAY, time_limit=1)
    assert run.status == "succeeded", run.error
    assert run.progress == 1.0
    visits = c1_visits(pm_world)
    assert run.summary["visits"] == 3 and run.summary["served"] == 3
    assert run.summary["travel_seconds"] > 0 and run.summary["distance_m"] > 0
    routes = _routes()
    assert sorted(v for ids in routes.values() for v in ids) == [v.id for v in visits]
    start = planning.day_start_utc(DAY)
    for v in visits:
        db.session.refresh(v)
        assert v.planned_date == DAY and v.technician_id in routes and v.route_position >= 1
        local = v.planned_start.astimezone(TEHRAN)
        # inside the shop's opening hours (09:00-13:00, 16:30-21:00) and the shift (08:00-17:00)
        assert dt.time(9) <= local.time() <= dt.time(13) or dt.time(16, 30) <= local.time() <= dt.time(17)
        assert v.eta >= start
    # c2 was not touched
    assert all(v.route_id is None for v in db.session.scalars(
        db.select(m.Visit).where(m.Visit.contractor_id == pm_world.contractors[1].id)))


def test_failed_store_leaves_previous_plan_intact(pm_world, monkeypatch):
    c1 = pm_world.contractors[0]
    first = planning.plan_contractor_day(c1.id, DAY, time_limit=1)
    before = _routes()
    etas = {v.id: v.eta for v in c1_visits(pm_world)}
    # the second run swaps the technicians' homes, then fails half-way through storing
    t1, t2 = pm_world.technicians[0], pm_world.technicians[1]
    t1.home_lat, t2.home_lat = 35.9, 35.5
    db.session.commit()
    real_record = planning.record

    def failing_record(action, *a, **kw):
        if action == "plan_stored":  # every route and visit is written by now, not committed
            raise RuntimeError("disk full")
        return real_record(action, *a, **kw)
    monkeypatch.setattr(planning, "record", failing_record)
    second = planning.plan_contractor_day(c1.id, DAY, time_limit=1)
    monkeypatch.undo()
    assert second.status == "failed" and "disk full" in second.error
    db.session.expire_all()
    assert _routes() == before
    assert {v.id: v.eta for v in c1_visits(pm_world)} == etas
    assert all(r.plan_run_id == first.id for r in db.session.scalars(db.select(m.Route)))


def test_cancelled_run_stores_nothing(pm_world, monkeypatch):
    c1 = pm_world.contractors[0]
    run = planning.new_run(DAY, c1.id)
    real_build = planning.build_day

    def build_then_cancel(*a, **kw):
        ctx = real_build(*a, **kw)
        planning.cancel_run(run.id)
        return ctx
    monkeypatch.setattr(planning, "build_day", build_then_cancel)
    out = planning.plan_contractor_day(c1.id, DAY, time_limit=1, plan_run=run)
    assert out.status == "cancelled"
    assert _routes() == {}


def test_replanning_keeps_finished_and_checked_in_work(pm_world):
    c1 = pm_world.contractors[0]
    planning.plan_contractor_day(c1.id, DAY, time_limit=1)
    routes = _routes()
    tech_id, ids = next((t, ids) for t, ids in routes.items() if ids)
    first = db.session.get(m.Visit, ids[0])
    start = planning.day_start_utc(DAY)
    transition_visit(first, "checked_in")
    first.checkin_at = start + dt.timedelta(hours=9, minutes=10)
    tech = db.session.get(m.Technician, tech_id)
    tech.last_lat, tech.last_lon = first.merchant.lat, first.merchant.lon
    tech.last_seen_at = first.checkin_at
    db.session.commit()
    first_eta = first.eta
    now = start + dt.timedelta(hours=9, minutes=30)
    ctx = planning.build_day(c1.id, DAY, now=now)
    moved = next(t for t in ctx.problem.technicians if t.id == tech_id)
    assert (moved.start.lat, moved.start.lon) == (tech.last_lat, tech.last_lon)  # from where it is
    assert (moved.end.lat, moved.end.lon) == (tech.home_lat, tech.home_lon)  # home tonight
    assert moved.shift.start == 9 * 3600 + 30 * 60 and moved.frozen_prefix == (first.id,)
    db.session.rollback()
    run = planning.plan_contractor_day(c1.id, DAY, time_limit=1, now=now)
    assert run.status == "succeeded", run.error
    assert run.summary["replanning"] is True
    db.session.expire_all()
    first = db.session.get(m.Visit, first.id)
    assert first.technician_id == tech_id and first.route_position == 1
    assert first.status == "checked_in"
    # the rest starts after now, from the technician's last known position
    others = [v for v in c1_visits(pm_world) if v.id != first.id and v.route_id is not None]
    assert others and all(v.planned_start >= now for v in others)
    assert first.eta == first_eta or first.eta >= start


def test_completed_visit_stays_first_and_locked_route_untouched(pm_world):
    c1 = pm_world.contractors[0]
    planning.plan_contractor_day(c1.id, DAY, time_limit=1)
    routes = _routes()
    tech_id, ids = next((t, ids) for t, ids in routes.items() if ids)
    done = db.session.get(m.Visit, ids[0])
    start = planning.day_start_utc(DAY)
    transition_visit(done, "checked_in")
    transition_visit(done, "completed")
    done.checkin_at, done.checkout_at = start + dt.timedelta(hours=9), start + dt.timedelta(hours=9, minutes=30)
    db.session.commit()
    run = planning.plan_contractor_day(c1.id, DAY, time_limit=1, now=start + dt.timedelta(hours=10))
    assert run.status == "succeeded", run.error
    db.session.expire_all()
    done = db.session.get(m.Visit, done.id)
    assert done.route.technician_id == tech_id and done.route_position == 1
    # lock that route: another re-plan changes nothing on it even with new work to place
    route = done.route
    planning.lock_route(route, True)
    kept = _routes()[tech_id]
    run = planning.plan_contractor_day(c1.id, DAY, time_limit=1, now=start + dt.timedelta(hours=10))
    assert run.summary["locked_technicians"] == 1
    assert _routes()[tech_id] == kept


def test_pinned_visit_goes_to_its_technician(pm_world):
    c1 = pm_world.contractors[0]
    t2 = pm_world.technicians[1]
    visits = c1_visits(pm_world)
    for v in visits:
        planning.pin_visit(v, t2)
    ctx = planning.build_day(c1.id, DAY)
    db.session.rollback()
    # a pinned visit never shares a stop key (nor a territory) with visits that may go elsewhere
    assert {pv.merchant[:2] for pv in ctx.problem.visits} == {("pin", t2.id)}
    run = planning.plan_contractor_day(c1.id, DAY, time_limit=1)
    assert run.status == "succeeded"
    db.session.expire_all()
    assert all(db.session.get(m.Visit, v.id).technician_id == t2.id for v in visits)
    other_tech = pm_world.technicians[2]  # a c2 technician
    with pytest.raises(ValueError, match="contractor"):
        planning.pin_visit(visits[0], other_tech)


def test_a_pin_to_a_technician_off_that_day_is_dropped_not_blocking_the_day(pm_world):
    """Issue 17: the board offers every technician of the contractor, but only those working
    (and unlocked) enter the problem; a pin naming another one is dropped with a message and
    the day is planned."""
    c1 = pm_world.contractors[0]
    t1, t2 = pm_world.technicians[0], pm_world.technicians[1]
    visits = c1_visits(pm_world)
    planning.pin_visit(visits[0], t2)
    t2.days_off = [planning.WEEKDAY_NAMES[DAY.weekday()]]
    db.session.commit()
    ctx = planning.build_day(c1.id, DAY)
    db.session.rollback()
    assert t2.id not in ctx.technician_ids and ctx.dropped_pins == {visits[0].id: t2.id}
    assert all(v.pinned_to in (None, *ctx.technician_ids) for v in ctx.problem.visits)
    run = planning.plan_contractor_day(c1.id, DAY, time_limit=1)
    assert run.status == "succeeded", run.error
    assert run.summary["dropped_pins"] == [{"visit_id": visits[0].id, "technician_id": t2.id,
                                            "technician": t2.name, "merchant": visits[0].merchant.name}]
    db.session.expire_all()
    visit = db.session.get(m.Visit, visits[0].id)
    assert visit.pinned_technician_id is None and visit.technician_id == t1.id
    assert db.session.scalars(db.select(m.AuditEvent).where(m.AuditEvent.action == "pin_dropped")).first()


def test_closed_merchant_and_holiday_are_not_planned(pm_world):
    c1 = pm_world.contractors[0]
    mer = pm_world.merchants[0]
    mer.closed_dates = [DAY.isoformat()]
    visit = next(v for v in c1_visits(pm_world) if v.merchant_id == mer.id)
    visit.planned_date = DAY
    db.session.commit()
    run = planning.plan_contractor_day(c1.id, DAY, time_limit=1)
    assert {"visit_id": visit.id, "reason": "merchant_closed", "merchant": mer.name, "kind": "pm"} in run.unassigned
    holiday = planning.plan_contractor_day(c1.id, dt.date(2026, 12, 23), time_limit=1)
    assert holiday.status == "succeeded" and holiday.summary["served"] == 0
    assert _routes(dt.date(2026, 12, 23)) == {}


def test_all_contractors_in_parallel(pm_world):
    runs = planning.plan_all_contractors(DAY, time_limit=1)
    assert [r.status for r in runs] == ["succeeded", "succeeded"]
    assert {r.contractor_id for r in runs} == {c.id for c in pm_world.contractors}
    assert sum(r.summary["served"] for r in runs) == 6
    techs_with_routes = {db.session.get(m.Technician, t).contractor_id for t in _routes()}
    assert techs_with_routes == {c.id for c in pm_world.contractors}


def _dies_or_solves(problem, params):
    """The day's solve as a worker process runs it, except that a day named "die …" ends its
    process the way OR-Tools does on a failed internal check."""
    if problem.name.startswith("die "):
        os._exit(134)
    return solve_day(problem, params)


def test_a_solver_process_that_dies_fails_its_own_day_only(pm_world, monkeypatch):
    c1, c2 = pm_world.contractors
    real_build = planning.build_day

    def build(contractor_id, day, **kw):
        ctx = real_build(contractor_id, day, **kw)
        if contractor_id == c1.id:
            ctx = replace(ctx, problem=replace(ctx.problem, name="die " + ctx.problem.name))
        return ctx

    monkeypatch.setattr(planning, "build_day", build)
    monkeypatch.setattr(planning, "solve_day", _dies_or_solves)
    runs = {r.contractor_id: r for r in planning.plan_all_contractors(DAY, time_limit=1)}
    assert runs[c1.id].status == "failed" and "stopped abruptly" in runs[c1.id].message
    assert runs[c2.id].status == "succeeded" and runs[c2.id].summary["served"] == 3
    assert {db.session.get(m.Technician, t).contractor_id for t in _routes()} == {c2.id}


def test_horizon_stores_days_inside_windows(pm_world):
    runs = planning.plan_horizon(DAY, 7)
    assert all(r.kind == "horizon" and r.status == "succeeded" for r in runs)
    visits = db.session.scalars(db.select(m.Visit)).all()
    assert all(v.planned_date is not None for v in visits)
    for v in visits:
        assert v.window_start <= v.planned_date <= v.window_end
        assert v.planned_date not in (dt.date(2026, 12, 23), dt.date(2026, 12, 25))
    assert sum(r.summary["assigned"] for r in runs) == 6


def test_waiting_em_call_gets_a_visit_on_a_route(pm_world):
    c1, k1 = pm_world.contractors[0], pm_world.contracts[0]
    term = pm_world.terminals[2]  # SN110 at Shop 1-1
    start = planning.day_start_utc(DAY)
    call = m.ServiceCall(tracking_number="T-1", terminal_id=term.id, merchant_id=term.merchant_id,
                         psp_id=term.psp_id, contractor_id=c1.id, contract_id=k1.id, priority="critical",
                         symptom_code="no_power", reported_at=start - dt.timedelta(hours=14),
                         response_by=start + dt.timedelta(hours=10), resolution_by=start + dt.timedelta(hours=14))
    db.session.add(call)
    db.session.commit()
    run = planning.plan_contractor_day(c1.id, DAY, time_limit=1)
    assert run.status == "succeeded", run.error
    assert run.summary["em"] == 1 and run.summary["served"] == 4
    db.session.expire_all()
    call = db.session.get(m.ServiceCall, call.id)
    assert call.status == "scheduled" and call.technician_id is not None
    em = db.session.scalars(db.select(m.Visit).where(m.Visit.service_call_id == call.id)).all()
    assert len(em) == 1 and em[0].route_id is not None and em[0].technician_id == call.technician_id
    assert [t.serial for t in em[0].terminals] == ["SN110"]
    # planning again moves the visit but never makes a second one
    planning.plan_contractor_day(c1.id, DAY, time_limit=1)
    assert db.session.scalar(db.select(db.func.count()).select_from(m.Visit)
                             .where(m.Visit.service_call_id == call.id)) == 1


def test_a_busy_database_at_a_progress_report_does_not_end_the_run(pm_world, monkeypatch):
    """SQLite answered "database is locked" to a progress write while another run stored its plan:
    the report is skipped, the run goes on and stores its routes."""
    from sqlalchemy.exc import OperationalError

    real = planning.set_progress

    def busy(run_id: int, progress: float, message: str, **values):
        if message in ("solving", "storing"):
            raise OperationalError("UPDATE plan_run", {}, Exception("database is locked"))
        return real(run_id, progress, message, **values)

    monkeypatch.setattr(planning, "set_progress", busy)
    run = planning.plan_contractor_day(pm_world.contractors[0].id, DAY, time_limit=1)
    assert run.status == "succeeded", run.error
    assert run.summary["served"] == 3


def test_the_embedded_database_lets_readers_go_on_and_writers_wait(tmp_path):
    """WAL (a long plan store does not block the pages) and a 30 s busy wait (no "database is
    locked" for a second writer)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
    with engine.connect() as c:
        assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert c.execute(text("PRAGMA busy_timeout")).scalar() == 30_000
    engine.dispose()
