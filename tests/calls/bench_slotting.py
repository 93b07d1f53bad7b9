"""Benchmark of EM slotting (run by hand, not collected by pytest):

    .venv/bin/python tests/calls/bench_slotting.py [--calls 200] [--technicians 40] [--stops 600] [--seed 1]

Builds a synthetic live Tehran day in memory (fieldsvc.planner.synth.city_day: 40 technicians,
600 stops with two opening windows, skills, EM deadlines), routes it greedily (each stop to the
nearest technician with the skill, at most 16 a day, nearest-neighbour order), freezes what is
done by 10:30, then asks the pure planner API (fieldsvc.planner.em.slot_options) for the options
of 200 new calls. Prints the median and 95th percentile latency, and how often the best option
misses the SLA although an independent brute-force insertion (every technician, every position,
full re-timing, no shortcuts) finds one that meets it. The same calls then go through
fieldsvc.visits.desk.slotting (re-timing with the lunch break) and, ``--db-calls`` of them, end to end
through a SQLite database (``BENCH_PROFILE=1`` prints a cProfile of one database call).
"""
from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from fieldsvc.planner.em import LiveRoute, LiveStop, slot_options
from fieldsvc.planner.matrix import travel_seconds
from fieldsvc.planner.params import SolveParams
from fieldsvc.planner.problem import Point, TimeWindow, Visit
from fieldsvc.planner.synth import FAMILIES, city_day, sample_points

H = 3600
NOW = 10 * H + 1800
PARAMS = SolveParams()


def travel(a: Point, b: Point, profile: str) -> int:
    return travel_seconds(a, b, profile, PARAMS)


def fit(arr: float, windows: tuple[TimeWindow, ...]) -> float | None:
    if not windows:
        return arr
    for w in windows:
        if arr <= w.end:
            return max(arr, w.start)
    return None


frozen_total = [0]


def live_day(n_stops: int, n_techs: int, seed: int) -> list[LiveRoute]:
    """A greedy but plausible day as of NOW: stops done by then are gone, each technician goes on
    from the last one (or from home), the rest of the day may move."""
    problem = city_day(n_stops, n_techs, seed=seed)
    techs = problem.technicians
    ids = {v.id: i + 1 for i, v in enumerate(problem.visits)}  # integer ids, as in the database
    load = {t.id: [] for t in techs}
    for v in problem.visits:
        cands = [t for t in techs if v.skills <= t.skills and len(load[t.id]) < (t.max_visits or 16)]
        if not cands:
            cands = [min(techs, key=lambda t: len(load[t.id]))]
        best = min(cands, key=lambda t: travel(t.start, v.location, t.profile))
        load[best.id].append(v)
    routes = []
    for t in techs:
        todo, here, order = list(load[t.id]), t.start, []
        while todo:  # nearest neighbour from home
            nxt = min(todo, key=lambda v: travel(here, v.location, t.profile))
            todo.remove(nxt)
            order.append(nxt)
            here = nxt.location
        clock, done, here = t.shift.start, 0, t.start
        for v in order:  # stops whose service ends before NOW are done: the day goes on from there
            st = fit(clock + travel(here, v.location, t.profile), v.time_windows)
            if st is None or st + v.service > NOW:
                break
            clock, done, here = st + v.service, done + 1, v.location
        rest = order[done:]
        stops = tuple(LiveStop(ids[v.id], v.location, v.service, v.time_windows, v.sla_deadline) for v in rest)
        routes.append(LiveRoute(t.id, here, max(clock, NOW), stops, frozen=0, end=t.end,
                                shift_end=t.shift.end, skills=t.skills, profile=t.profile,
                                max_visits=None if t.max_visits is None else t.max_visits - done))
        frozen_total[0] += done
    return routes


def brute_force_sla_possible(routes: list[LiveRoute], visit: Visit) -> bool:
    """Is there any insertion (same feasibility rules as the planner) whose service starts by the
    deadline? Every technician, every position, the whole route re-timed from scratch."""
    for r in routes:
        if not visit.skills <= r.skills:
            continue
        stops = list(r.stops)
        # the unchanged plan, stops past every window served on arrival (as the planner does)
        t, here, base_dep = float(r.time), r.position, [float(r.time)]
        for s in stops:
            arr = t + travel(here, s.location, r.profile)
            st = fit(arr, s.time_windows)
            t = (st if st is not None else arr) + s.service
            here = s.location
            base_dep.append(t)
        base_end = t + travel(here, r.end or r.position, r.profile)
        for p in range(r.frozen, len(stops) + 1):
            here = r.position if p == 0 else stops[p - 1].location
            arr = base_dep[p] + travel(here, visit.location, r.profile)
            start = fit(arr, visit.time_windows)
            if start is None or start > visit.sla_deadline:
                continue
            t, here, displaced = start + visit.service, visit.location, 0
            for s in stops[p:]:
                st = fit(t + travel(here, s.location, r.profile), s.time_windows)
                if st is None:
                    displaced += 1
                    continue
                t, here = st + s.service, s.location
            t_end = t + travel(here, r.end or r.position, r.profile)
            if t_end > max(r.shift_end, base_end):
                continue
            if r.max_visits is not None and len(stops) + 1 - displaced > r.max_visits:
                continue
            return True
    return False


def new_calls(n: int, seed: int) -> list[Visit]:
    rng = np.random.default_rng(seed + 1000)
    pts = sample_points(n, rng)
    out = []
    for i, p in enumerate(pts):
        wins = ((TimeWindow(9 * H, 13 * H), TimeWindow(16 * H + 1800, 21 * H)) if rng.random() < 0.75
                else (TimeWindow(9 * H, 20 * H),))
        out.append(Visit(f"NEW{i:04d}", location=p, service=int(rng.integers(30, 46)) * 60, time_windows=wins,
                         skills=frozenset({str(rng.choice(FAMILIES))}), kind="em", priority=100,
                         sla_deadline=NOW + int(rng.integers(20, 361)) * 60))
    return out


def _hhmm(sec: int) -> str:
    return f"{sec // H:02d}:{sec % H // 60:02d}"


def visits_layer(routes: list[LiveRoute], calls: list[Visit]) -> tuple[list[float], int, int]:
    """The same calls through fieldsvc.visits.desk.slotting.options_for (rows mapped to the planner's
    engine, with the lunch break and the rules on other EM calls), on transient objects."""
    import datetime as dt

    from fieldsvc.visits import models as m
    from fieldsvc.planner.problem import Break, TimeWindow
    from fieldsvc.visits.desk.slotting import LiveTech, day_origin, options_for

    day = dt.date(2026, 11, 22)  # a Sunday
    origin = day_origin(day)
    live = []
    for i, r in enumerate(routes, start=1):
        tech = m.Technician(id=i, name=str(r.technician_id), skills=sorted(r.skills), vehicle=r.profile)
        brk = Break(TimeWindow(12 * H, 14 * H + 1800), 1800) if r.time + 1800 <= 14 * H + 1800 else None
        lt = LiveTech(tech, None, r.position, r.time, r.end or r.position, r.shift_end, brk,
                      r.max_visits if r.max_visits is not None else 10 ** 6)
        lt.stops = [LiveStop(s.visit_id, s.location, s.service, s.time_windows, s.sla_deadline,
                             movable=s.sla_deadline is None) for s in r.stops]
        live.append(lt)
    latencies, met, empty = [], 0, 0
    for i, v in enumerate(calls, start=1):
        merchant = m.Merchant(lat=v.location.lat, lon=v.location.lon, closed_dates=[],
                              opening_hours={"sun": [[_hhmm(w.start), _hhmm(w.end)] for w in v.time_windows]})
        call = m.ServiceCall(id=i, response_by=origin + dt.timedelta(seconds=v.sla_deadline))
        call.merchant, call.terminal = merchant, m.Terminal(family=next(iter(v.skills)))
        t0 = time.perf_counter()
        options = options_for(call, live, day, limit=5, params=PARAMS)
        latencies.append((time.perf_counter() - t0) * 1000)
        met += bool(options) and options[0].sla_met
        empty += not options
    return sorted(latencies), met, empty


def _p95(values: list[float]) -> float:
    return values[min(len(values) - 1, math.ceil(0.95 * len(values)) - 1)]


def database_path(routes_problem_seed: int, n_stops: int, n_techs: int, n_calls: int) -> tuple[list[float], int]:
    """End to end through the database (SQLite file in a temporary directory): the same kind of
    day stored as Route/Visit rows, each call registered with open_call, then
    fieldsvc.visits.desk.slotting.slot_options(call_id, dispatcher, now) timed — queries included."""
    import datetime as dt
    import tempfile
    from zoneinfo import ZoneInfo

    from fieldsvc.db import db
    from fieldsvc.visits.desk import calls as svc
    from fieldsvc.visits import models as m
    from fieldsvc.visits.desk import slotting
    from fieldsvc.web import create_app

    tmp = Path(tempfile.mkdtemp(prefix="bench-slotting-"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'bench.sqlite'}", "TESTING": True,
                      "OUTBOX_DIR": str(tmp / "outbox"), "SECRET_KEY": "bench"})
    tz = ZoneInfo("Asia/Tehran")
    day = dt.date(2026, 11, 22)  # a Sunday
    origin = dt.datetime.combine(day, dt.time(0), tzinfo=tz).astimezone(dt.timezone.utc)
    problem = city_day(n_stops, n_techs, seed=routes_problem_seed)
    routes = live_day(n_stops, n_techs, routes_problem_seed)
    done_by_tech = {}
    latencies: list[float] = []
    met = 0
    with app.app_context():
        db.create_all()
        psp = m.Psp(code="p", name="PSP")
        con = m.Contractor(code="c", name="Contractor")
        reg = m.Region(code="r", name="Tehran")
        ctr = m.Contract(code="k", psp=psp, contractor=con, valid_from=day, regions=[reg],
                         em_targets={}, calendar={"mode": "24x7", "tz": "Asia/Tehran"})
        db.session.add_all([psp, con, reg, ctr])
        db.session.flush()
        hhmm = _hhmm
        techs = {}
        for t in problem.technicians:
            tech = m.Technician(contractor_id=con.id, code=str(t.id), name=str(t.id), home_lat=t.start.lat,
                                home_lon=t.start.lon, shift_start="08:00", shift_end="18:00", break_start="12:00",
                                break_end="14:30", break_minutes=30, skills=sorted(t.skills), vehicle=t.profile,
                                max_visits=t.max_visits or 16)
            db.session.add(tech)
            techs[t.id] = tech
        db.session.flush()
        by_id = {v.id: v for v in problem.visits}
        ids = {v.id: i + 1 for i, v in enumerate(problem.visits)}
        rev = {i: vid for vid, i in ids.items()}
        planned_of = {r.technician_id: [rev[s.visit_id] for s in r.stops] for r in routes}
        # rebuild each technician's whole order: the done stops are those not in the live remainder
        for t in problem.technicians:
            rest = planned_of[t.id]
            route = m.Route(technician_id=techs[t.id].id, date=day)
            db.session.add(route)
            db.session.flush()
            order = [v for v in _greedy_order(problem, t.id) if v not in rest] + rest
            done = len(order) - len(rest)
            done_by_tech[t.id] = done
            for pos, vid in enumerate(order):
                v = by_id[vid]
                mer = m.Merchant(psp_id=psp.id, region_id=reg.id, code=f"m{vid}", name=f"Shop {vid}",
                                 lat=v.location.lat, lon=v.location.lon, closed_dates=[],
                                 opening_hours={"sun": [[hhmm(w.start), hhmm(w.end)] for w in v.time_windows]})
                db.session.add(mer)
                db.session.flush()
                status = "completed" if pos < done else "planned"
                visit = m.Visit(kind=v.kind, status=status, merchant_id=mer.id, contractor_id=con.id,
                                technician_id=techs[t.id].id, route_id=route.id, route_position=pos,
                                planned_date=day, service_minutes=v.service // 60,
                                deadline=(origin + dt.timedelta(seconds=v.sla_deadline)) if v.sla_deadline else None)
                if status == "completed":
                    visit.checkin_at = origin + dt.timedelta(seconds=NOW - 3600)
                    visit.checkout_at = origin + dt.timedelta(seconds=NOW - 600 - (done - pos) * 60)
                db.session.add(visit)
        user = m.User(username="psp", role="psp", psp_id=psp.id, password_hash="x")
        disp = m.User(username="dispatcher", role="dispatcher", contractor_id=con.id, password_hash="x")
        db.session.add_all([user, disp])
        db.session.commit()
        now = origin + dt.timedelta(seconds=NOW)
        for i, v in enumerate(new_calls(n_calls, routes_problem_seed)):
            mer = m.Merchant(psp_id=psp.id, region_id=reg.id, code=f"n{i}", name=f"Caller {i}",
                             lat=v.location.lat, lon=v.location.lon, closed_dates=[],
                             opening_hours={"sun": [[hhmm(w.start), hhmm(w.end)] for w in v.time_windows]})
            term = m.Terminal(serial=f"BENCH{i:05d}", model="x", family=next(iter(v.skills)), merchant=mer,
                              psp_id=psp.id)
            db.session.add_all([mer, term])
            db.session.commit()
            call = svc.open_call(user, priority="critical", symptom_code="no_power", terminal_serial=term.serial,
                                 reported_at=now)
            call.response_by = origin + dt.timedelta(seconds=v.sla_deadline)
            db.session.commit()
            db.session.expire_all()
            t0 = time.perf_counter()
            if os.environ.get("BENCH_PROFILE") and i == 5:
                import cProfile
                import pstats
                prof = cProfile.Profile()
                prof.enable()
                slotting.slot_options(call.id, disp, now=now)
                prof.disable()
                pstats.Stats(prof).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(30)
                db.session.expire_all()
                t0 = time.perf_counter()
            options = slotting.slot_options(call.id, disp, now=now)
            latencies.append((time.perf_counter() - t0) * 1000)
            met += bool(options) and options[0].sla_met
        db.session.remove()
    return sorted(latencies), met


def _greedy_order(problem, tech_id) -> list:
    """The full greedy order of one technician (as live_day builds it), as visit ids."""
    techs = problem.technicians
    load = {t.id: [] for t in techs}
    for v in problem.visits:
        cands = [t for t in techs if v.skills <= t.skills and len(load[t.id]) < (t.max_visits or 16)]
        if not cands:
            cands = [min(techs, key=lambda t: len(load[t.id]))]
        best = min(cands, key=lambda t: travel(t.start, v.location, t.profile))
        load[best.id].append(v)
    t = next(t for t in techs if t.id == tech_id)
    todo, here, order = list(load[t.id]), t.start, []
    while todo:
        nxt = min(todo, key=lambda v: travel(here, v.location, t.profile))
        todo.remove(nxt)
        order.append(nxt.id)
        here = nxt.location
    return order


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--technicians", type=int, default=40)
    ap.add_argument("--stops", type=int, default=600)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--db-calls", type=int, default=50,
                    help="calls timed end to end through the database (0 to skip)")
    args = ap.parse_args(argv)
    routes = live_day(args.stops, args.technicians, args.seed)
    n_stops = sum(len(r.stops) for r in routes)
    n_frozen = frozen_total[0]
    calls = new_calls(args.calls, args.seed)
    slot_options(routes, calls[0], PARAMS, limit=5)  # warm-up (numpy, imports)
    latencies, misses, possible, met, empty = [], 0, 0, 0, 0
    for call in calls:
        t0 = time.perf_counter()
        options = slot_options(routes, call, PARAMS, limit=5)
        latencies.append((time.perf_counter() - t0) * 1000)
        best_met = bool(options) and options[0].sla_met
        met += best_met
        empty += not options
        if brute_force_sla_possible(routes, call):
            possible += 1
            misses += not best_met
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, math.ceil(0.95 * len(latencies)) - 1)]
    print(f"live day: {len(routes)} technicians, {n_stops + n_frozen} stops ({n_frozen} of them done by 10:30, {n_stops} still to do)")
    print(f"{len(calls)} new calls: slot options latency median {statistics.median(latencies):.1f} ms, "
          f"p95 {p95:.1f} ms, max {latencies[-1]:.1f} ms")
    print(f"best option meets the SLA: {met}/{len(calls)}; no option at all: {empty}")
    full, full_met, full_empty = visits_layer(routes, calls)
    print(f"with break re-timing (fieldsvc.visits.desk.slotting.options_for): median {statistics.median(full):.1f} ms, "
          f"p95 {_p95(full):.1f} ms; best option meets the SLA: {full_met}/{len(calls)}; no option: {full_empty}")
    if args.db_calls:
        db_lat, db_met = database_path(args.seed, args.stops, args.technicians, args.db_calls)
        print(f"end to end through the database (SQLite, {args.db_calls} calls): median "
              f"{statistics.median(db_lat):.1f} ms, p95 {_p95(db_lat):.1f} ms; best option meets the SLA: "
              f"{db_met}/{args.db_calls}")
    print(f"brute force finds an SLA-meeting insertion for {possible} calls; the best option misses the SLA "
          f"in {misses} of them ({(100 * misses / possible) if possible else 0:.1f} %)")


if __name__ == "__main__":
    main()
