"""Evaluating a given plan without optimising it (VROOM's "plan mode", ``fieldsvc solve --check``).

Each technician's :attr:`~fieldsvc.planner.problem.Technician.steps` are driven in order from the
start of the shift: travel, waiting for the next window, setup when arriving from another place,
service (as in VROOM, windows bound the task's start, before setup); a break starts as soon as
its window allows.  Nothing is moved or dropped; what breaks a
rule is reported per step and per route under VROOM's violation names:

``delay`` (a task starts after its last window, a break after its window, or the route ends
after the shift; with the seconds late), ``skills`` (the technician lacks a skill or the visit
is pinned to someone else), ``load`` (over capacity), ``max_tasks``, ``precedence`` (a delivery
before its pickup, or without it on the same route), ``missing_break``, ``max_travel_time``,
``max_distance``.  A plan is feasible when there is no violation.  Visits in no plan are
listed as unassigned (they are not a violation).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Hashable

import numpy as np

from .matrix import travel_matrices
from .params import SolveParams
from .problem import Id, Point, Problem, Technician, Visit, validate


@dataclass
class CheckedStep:
    type: str  # start / job / pickup / delivery / break / end
    id: Id | None
    arrival: int
    setup: int = 0
    waiting: int = 0
    service: int = 0
    distance: int = 0  # cumulated metres
    duration: int = 0  # cumulated travel seconds
    late: int = 0  # seconds of delay (the "delay" violation)
    violations: list[str] = field(default_factory=list)


@dataclass
class CheckedRoute:
    technician_id: Id
    steps: list[CheckedStep] = field(default_factory=list)
    travel: int = 0
    distance: int = 0
    cost: int = 0
    violations: list[str] = field(default_factory=list)  # route-level (max_tasks, missing_break, ...)

    @property
    def all_violations(self) -> set[str]:
        return set(self.violations).union(*(s.violations for s in self.steps))


@dataclass
class PlanCheck:
    routes: list[CheckedRoute]
    unassigned: list[Id]

    @property
    def violations(self) -> list[str]:
        return sorted(set().union(*(r.all_violations for r in self.routes)))

    @property
    def feasible(self) -> bool:
        return not self.violations

    @property
    def cost(self) -> int:
        return sum(r.cost for r in self.routes)


class _Travel:
    """Travel seconds and metres between technicians' places and visits, per technician."""

    def __init__(self, problem: Problem, params: SolveParams) -> None:
        mats = problem.matrices
        self.index_mode = mats is not None and bool(mats.durations)
        self.keys: dict = {}
        pts: list[Point] = []
        things = [(t.start, t.start_index) for t in problem.technicians] + \
                 [(t.end, t.end_index) for t in problem.technicians] + \
                 [(v.location, v.location_index) for v in problem.all_visits]
        for pt, idx in things:
            key = self.key(pt, idx)
            if key is not None and key not in self.keys and not self.index_mode:
                self.keys[key] = len(pts)
                pts.append(pt)
        if self.index_mode:
            self.durs = {p: np.asarray(m, dtype=np.int64) for p, m in mats.durations.items()}
            dist = next(iter(mats.distances.values()), None) if mats.distances else None
            self.dist = None if dist is None else np.asarray(dist, dtype=np.int64)
        else:
            profiles = {t.profile for t in problem.technicians}
            unknown = profiles - set(params.speeds_mps)
            if unknown:
                raise ValueError(f"profile {sorted(unknown)[0]!r}: unknown vehicle profile")
            self.durs, self.dist = travel_matrices(pts, {p: params.speeds_mps[p] for p in profiles},
                                                   params.detour_factor, params.metric)

    def key(self, pt: Point | None, idx: int | None):
        if self.index_mode:
            return None if idx is None else int(idx)
        return None if pt is None else (pt.lat, pt.lon)

    def row(self, key: Hashable) -> int:
        return key if self.index_mode else self.keys[key]

    def between(self, tech: Technician, a: Hashable | None, b: Hashable | None) -> tuple[int, int]:
        if a is None or b is None or a == b:
            return 0, 0
        durs = self.durs.get(tech.profile)
        if durs is None:
            durs = next(iter(self.durs.values()))
        i, j = self.row(a), self.row(b)
        secs = int(durs[i, j])
        if tech.speed_factor != 1:
            secs = int(round(secs / tech.speed_factor))
        return secs, int(self.dist[i, j]) if self.dist is not None else 0


def check_plan(problem: Problem, params: SolveParams | None = None) -> PlanCheck:
    """Drive every technician's given steps; report times, violations and cost (see module doc)."""
    validate(problem)
    travel = _Travel(problem, params or SolveParams())
    visits = {v.id: v for v in problem.visits}
    partner: dict[Id, tuple[str, Id, int]] = {}
    skills: dict[Id, frozenset] = {}
    pins: dict[Id, Id | None] = {v.id: v.pinned_to for v in problem.visits}
    for s in problem.shipments:
        partner[s.pickup.id] = ("pickup", s.delivery.id, s.amount)
        partner[s.delivery.id] = ("delivery", s.pickup.id, s.amount)
        for v in s.visits:
            visits[v.id] = v
            skills[v.id] = s.skills | v.skills
            pins[v.id] = s.pinned_to
    routes = [_drive(t, visits, partner, skills, pins, travel) for t in problem.technicians]
    planned = {sid for t in problem.technicians for typ, sid in t.steps if typ != "break"}
    return PlanCheck(routes, [v.id for v in problem.all_visits if v.id not in planned])


def _window_start(v: Visit, ready: int) -> tuple[int, int]:
    """(service start, seconds late): the first window still open at ``ready``, else late past the last."""
    if not v.time_windows:
        return ready, 0
    for w in sorted(v.time_windows, key=lambda w: w.start):
        if ready <= w.end:
            return max(ready, w.start), 0
    last = max(w.end for w in v.time_windows)
    return ready, ready - last


def _drive(tech: Technician, visits: dict, partner: dict, skills: dict, pins: dict, travel: _Travel) -> CheckedRoute:
    route = CheckedRoute(tech.id)
    if not tech.steps:
        return route
    tasks = [sid for typ, sid in tech.steps if typ != "break"]
    load = sum(visits[sid].demand for sid in tasks if sid not in partner)  # job deliveries ride from the start
    start_key = travel.key(tech.start, tech.start_index)
    end_key = travel.key(tech.end, tech.end_index)
    if end_key is None and not tech.open_end:
        end_key = start_key
    clock, here, metres, secs = tech.shift.start, start_key, 0, 0
    route.steps.append(CheckedStep("start", None, clock))
    breaks = {b.id: b for b in tech.breaks}
    seen: set = set()
    for typ, sid in tech.steps:
        if typ == "break":
            b = breaks[sid]
            begin = max(clock, b.window.start)
            opens = [w for w in sorted(b.starts, key=lambda w: w.start) if w.end >= begin]
            if b.starts:
                begin = max(begin, opens[0].start) if opens else begin
                late = 0 if opens else begin - max(w.end for w in b.starts)
            late = max(0, begin - (b.window.end - b.duration)) if not b.starts else late
            step = CheckedStep("break", sid, clock, waiting=begin - clock, service=b.duration,
                               distance=metres, duration=secs, late=late, violations=["delay"] if late else [])
            clock = begin + b.duration
            seen.add(("break", sid))
            route.steps.append(step)
            continue
        v = visits[sid]
        key = travel.key(v.location, v.location_index)
        if here is None:
            here = key  # no start: the route begins at its first task
        t, d = travel.between(tech, here, key)
        arrival = clock + t
        setup = v.setup if key != here else 0
        begin, late = _window_start(v, arrival)  # windows bound the task start; setup follows
        metres += d
        secs += t
        step = CheckedStep(typ, sid, arrival, setup, begin - arrival, v.service, metres, secs, late)
        begin += setup  # service start
        if late:
            step.violations.append("delay")
        if not skills.get(sid, v.skills) <= tech.skills or pins.get(sid) not in (None, tech.id):
            step.violations.append("skills")
        if sid in partner:
            role, other, amount = partner[sid]
            if role == "delivery" and other not in seen or role == "pickup" and other not in tasks:
                step.violations.append("precedence")
            if role == "pickup":
                load += amount
            elif other in seen:  # a delivery before its pickup never had the amount on board
                load -= amount
        else:
            load += v.pickup - v.demand
        if tech.capacity is not None and load > tech.capacity:
            step.violations.append("load")
        seen.add(sid)
        clock, here = begin + v.service, key
        route.steps.append(step)
    t, d = travel.between(tech, here, end_key) if end_key is not None else (0, 0)
    metres += d
    secs += t
    end = CheckedStep("end", None, clock + t, distance=metres, duration=secs)
    if end.arrival > tech.shift.end:
        end.late = end.arrival - tech.shift.end
        end.violations.append("delay")
    route.steps.append(end)
    if tech.capacity is not None and sum(visits[sid].demand for sid in tasks if sid not in partner) > tech.capacity:
        route.steps[0].violations.append("load")
    route.travel, route.distance = secs, metres
    route.cost = int(tech.fixed_cost + round(secs * tech.per_hour / 3600 + metres * tech.per_km / 1000))
    if tech.max_visits is not None and len(tasks) > tech.max_visits:
        route.violations.append("max_tasks")
    if any(("break", b.id) not in seen for b in tech.breaks):
        route.violations.append("missing_break")
    if tech.max_travel_time is not None and secs > tech.max_travel_time:
        route.violations.append("max_travel_time")
    if tech.max_distance is not None and metres > tech.max_distance:
        route.violations.append("max_distance")
    return route


def check_to_dict(check: PlanCheck) -> dict:
    """VROOM-style output of a checked plan: steps with ``violations`` ([{cause, duration}])."""
    routes = []
    for r in check.routes:
        if not r.steps:
            continue
        steps = []
        for s in r.steps:
            d = {"type": s.type, "arrival": s.arrival, "setup": s.setup, "service": s.service,
                 "waiting_time": s.waiting, "distance": s.distance, "duration": s.duration,
                 "violations": [{"cause": c, **({"duration": s.late} if c == "delay" else {})} for c in s.violations]}
            if s.id is not None:
                d["id"] = s.id
            steps.append(d)
        routes.append({"vehicle": r.technician_id, "cost": r.cost, "duration": r.travel, "distance": r.distance,
                       "violations": [{"cause": c} for c in r.violations], "steps": steps})
    return {"code": 0,
            "summary": {"cost": check.cost, "routes": len(routes), "unassigned": len(check.unassigned),
                        "violations": [{"cause": c} for c in check.violations], "x_feasible": check.feasible},
            "unassigned": [{"id": x} for x in check.unassigned], "routes": routes}
