"""VROOM-style JSON in and out (https://github.com/VROOM-Project/vroom/blob/master/docs/API.md).

Reads ``jobs``, ``vehicles`` and optional ``matrices.<profile>.durations/distances`` (or the
legacy top-level ``matrix``); locations are ``[lon, lat]`` or ``location_index``; times are
seconds.  Without matrices, travel is computed from coordinates (haversine × detour ÷ speed).
Extensions (all optional, prefixed ``x_``) are documented in ``fieldsvc/planner/README.md``.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .params import SolveParams
from .problem import Break, Matrices, Point, Problem, Technician, TimeWindow, Visit
from .solution import Solution

DAY_END = 10 * 365 * 24 * 3600


def _pt(loc: Any, where: str) -> Point | None:
    if loc is None:
        return None
    if not (isinstance(loc, (list, tuple)) and len(loc) == 2):
        raise ValueError(f"{where}: location must be [lon, lat]")
    return Point(lat=float(loc[1]), lon=float(loc[0]))


def _tw(pair: Any, where: str) -> TimeWindow:
    if not (isinstance(pair, (list, tuple)) and len(pair) == 2):
        raise ValueError(f"{where}: a time window is [start, end]")
    return TimeWindow(int(pair[0]), int(pair[1]))


def _skills(xs: Any) -> frozenset[str]:
    return frozenset(str(x) for x in (xs or ()))


def problem_from_dict(data: dict) -> tuple[Problem, dict]:
    """Parse a VROOM problem dict; returns the Problem and the ``x_options`` overrides."""
    if not isinstance(data, dict):
        raise ValueError("problem: a JSON object is expected")
    if data.get("shipments"):
        raise ValueError("shipments: pickup-and-delivery is not supported by this planner")
    visits = []
    for k, j in enumerate(data.get("jobs", [])):
        where = f"jobs[{k}] (id {j.get('id')!r})"
        if "id" not in j:
            raise ValueError(f"jobs[{k}]: id is required")
        delivery = j.get("delivery") or j.get("amount") or []
        visits.append(Visit(
            id=j["id"], location=_pt(j.get("location"), where), location_index=j.get("location_index"),
            service=int(j.get("service", 0)) + int(j.get("setup", 0)),
            time_windows=tuple(_tw(w, where) for w in j.get("time_windows", [])),
            skills=_skills(j.get("skills")), priority=int(j.get("priority", 0)),
            kind=str(j.get("x_kind", "pm")), mandatory=bool(j.get("x_mandatory", False)),
            overdue_days=int(j.get("x_overdue_days", 0)), sla_deadline=j.get("x_sla_deadline"),
            pinned_to=j.get("x_pinned_to"), merchant=j.get("x_merchant"),
            demand=int(delivery[0]) if delivery else 0))
    techs = []
    for k, v in enumerate(data.get("vehicles", [])):
        where = f"vehicles[{k}] (id {v.get('id')!r})"
        if "id" not in v:
            raise ValueError(f"vehicles[{k}]: id is required")
        tw = _tw(v["time_window"], where) if "time_window" in v else TimeWindow(0, DAY_END)
        breaks = []
        for b in v.get("breaks", []):
            wins = [_tw(w, f"{where} break {b.get('id')!r}") for w in b.get("time_windows", [])] or [tw]
            breaks.append(Break(TimeWindow(min(w.start for w in wins), max(w.end for w in wins)),
                                int(b.get("service", 0)), b.get("id", "break")))
        cap = v.get("capacity")
        has_end = "end" in v or "end_index" in v
        techs.append(Technician(
            id=v["id"], start=_pt(v.get("start"), where), end=_pt(v.get("end"), where),
            start_index=v.get("start_index"), end_index=v.get("end_index"), shift=tw,
            breaks=tuple(breaks), max_visits=v.get("max_tasks"), skills=_skills(v.get("skills")),
            profile=str(v.get("profile", "car")), capacity=int(cap[0]) if cap else None,
            frozen_prefix=tuple(v.get("x_frozen_prefix", ())),
            open_end=bool(v.get("x_open_end", not has_end and ("start" in v or "start_index" in v)))))
    # VROOM: a vehicle without end is open-ended, one without start starts at its end
    matrices = None
    if data.get("matrices") or data.get("matrix"):
        mats = data.get("matrices") or {"car": {"durations": data["matrix"]}}
        durs, dists = {}, {}
        for prof, mm in mats.items():
            if "durations" in mm:
                durs[prof] = tuple(tuple(int(x) for x in row) for row in mm["durations"])
            if "distances" in mm:
                dists[prof] = tuple(tuple(int(x) for x in row) for row in mm["distances"])
        if not durs:
            raise ValueError("matrices: a durations matrix is required")
        matrices = Matrices(durs, dists)
    if not techs:
        raise ValueError("vehicles: empty fleet")
    return Problem(tuple(techs), tuple(visits), matrices, name=str(data.get("x_name", "day"))), dict(data.get("x_options", {}))


def params_with_options(params: SolveParams, options: dict) -> SolveParams:
    """Apply ``x_options`` (field names of :class:`SolveParams`) onto ``params``."""
    from dataclasses import fields, replace

    known = {f.name for f in fields(SolveParams)}
    bad = set(options) - known
    if bad:
        raise ValueError(f"x_options: unknown option(s) {sorted(bad)}")
    return replace(params, **options)


def solution_to_dict(sol: Solution, problem: Problem) -> dict:
    """VROOM-style solution dict with ``x_`` extensions."""
    pri = {v.id: v.priority for v in problem.visits}
    svc = {v.id: v.service for v in problem.visits}
    routes = []
    tot = dict(cost=0, service=0, duration=0, waiting_time=0, distance=0, priority=0)
    for r in sol.routes:
        if not r.visit_ids:
            continue
        steps = []
        travel_acc = 0
        for s in r.stops:
            travel_acc += s.travel
            loc = {}
            if s.location_index is not None:
                loc["location_index"] = s.location_index
            if s.lat is not None:
                loc["location"] = [s.lon, s.lat]
            if s.type == "job":
                t = s.start
                for k, vid in enumerate(s.visit_ids):
                    step = {"type": "job", "id": vid, "job": vid, **loc,
                            "arrival": s.arrival if k == 0 else t, "service": svc[vid],
                            "waiting_time": s.waiting if k == 0 else 0, "distance": s.distance,
                            "duration": travel_acc}
                    if s.late_seconds:
                        step["x_late_seconds"] = s.late_seconds
                    steps.append(step)
                    t += svc[vid]
            elif s.type == "break":
                steps.append({"type": "break", "id": s.id, "arrival": s.arrival, "service": s.service,
                              "waiting_time": 0, "distance": s.distance, "duration": travel_acc})
            else:
                steps.append({"type": s.type, **loc, "arrival": s.arrival, "service": 0,
                              "waiting_time": 0, "distance": s.distance, "duration": travel_acc})
        rp = sum(pri[v] for v in r.visit_ids)
        routes.append({"vehicle": r.technician_id, "cost": r.travel_seconds, "service": r.service_seconds,
                       "duration": r.travel_seconds, "waiting_time": r.waiting_seconds, "distance": r.distance_m,
                       "priority": rp, "steps": steps})
        tot["cost"] += r.travel_seconds
        tot["service"] += r.service_seconds
        tot["duration"] += r.travel_seconds
        tot["waiting_time"] += r.waiting_seconds
        tot["distance"] += r.distance_m
        tot["priority"] += rp
    by_id = {v.id: v for v in problem.visits}
    unassigned = []
    for u in sol.unassigned:
        v = by_id.get(u.visit_id)
        item = {"id": u.visit_id, "type": "job", "reason": u.reason, "x_message": u.message}
        if v is not None and v.location is not None:
            item["location"] = [v.location.lon, v.location.lat]
        if v is not None and v.location_index is not None:
            item["location_index"] = v.location_index
        unassigned.append(item)
    return {
        "code": 0 if sol.status == "ok" else 1,
        "summary": {**tot, "routes": len(routes), "unassigned": len(unassigned),
                    "x_status": sol.status, "x_cost": {"travel": sol.cost.travel, "lateness": sol.cost.lateness,
                                                       "drops": sol.cost.drops, "total": sol.cost.total},
                    "x_statistics": sol.statistics},
        "unassigned": unassigned,
        "routes": routes,
    }


def read_problem(path: str | Path) -> tuple[Problem, dict]:
    """Read a VROOM-style problem file (``ValueError`` with the field on bad JSON)."""
    try:
        data = json.loads(Path(path).read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: invalid JSON at line {exc.lineno}: {exc.msg}") from exc
    return problem_from_dict(data)


def problem_to_dict(problem: Problem) -> dict:
    """Write a Problem as VROOM-style JSON (round-trips with :func:`problem_from_dict`)."""
    def loc(pt: Point | None, idx: int | None, key: str) -> dict:
        out = {}
        if pt is not None:
            out[key] = [pt.lon, pt.lat]
        if idx is not None:
            out[key + "_index" if key != "location" else "location_index"] = idx
        return out

    jobs = []
    for v in problem.visits:
        j = {"id": v.id, **loc(v.location, v.location_index, "location"), "service": v.service,
             "priority": v.priority, "time_windows": [[w.start, w.end] for w in v.time_windows]}
        if v.skills:
            j["skills"] = sorted(v.skills)
        if v.demand:
            j["delivery"] = [v.demand]
        if v.kind != "pm":
            j["x_kind"] = v.kind
        if v.mandatory:
            j["x_mandatory"] = True
        if v.overdue_days:
            j["x_overdue_days"] = v.overdue_days
        if v.sla_deadline is not None:
            j["x_sla_deadline"] = v.sla_deadline
        if v.pinned_to is not None:
            j["x_pinned_to"] = v.pinned_to
        if v.merchant is not None:
            j["x_merchant"] = v.merchant
        jobs.append(j)
    vehicles = []
    for t in problem.technicians:
        d = {"id": t.id, **loc(t.start, t.start_index, "start"), "time_window": [t.shift.start, t.shift.end],
             "profile": t.profile}
        if not t.open_end:
            d.update(loc(t.end or t.start, t.end_index if t.end_index is not None else t.start_index, "end"))
        if t.skills:
            d["skills"] = sorted(t.skills)
        if t.breaks:
            d["breaks"] = [{"id": b.id, "time_windows": [[b.window.start, b.window.end]], "service": b.duration}
                           for b in t.breaks]
        if t.max_visits is not None:
            d["max_tasks"] = t.max_visits
        if t.capacity is not None:
            d["capacity"] = [t.capacity]
        if t.frozen_prefix:
            d["x_frozen_prefix"] = list(t.frozen_prefix)
        vehicles.append(d)
    out: dict = {"vehicles": vehicles, "jobs": jobs}
    if problem.matrices is not None:
        out["matrices"] = {p: {"durations": [list(r) for r in m]} for p, m in problem.matrices.durations.items()}
        for p, m in problem.matrices.distances.items():
            out["matrices"].setdefault(p, {})["distances"] = [list(r) for r in m]
    return out


def to_vroom_input(problem: Problem, params: SolveParams | None = None) -> dict:
    """Problem as strict VROOM input (matrices computed, integer skills) for pyvroom/vroom."""
    from .matrix import travel_matrices

    params = params or SolveParams()
    d = problem_to_dict(problem)
    skill_ids = {s: i + 1 for i, s in enumerate(sorted({s for v in problem.visits for s in v.skills}
                                                         | {s for t in problem.technicians for s in t.skills}))}
    if problem.matrices is None:
        pts: list[Point] = []
        index: dict = {}

        def idx(p: Point) -> int:
            key = (p.lat, p.lon)
            if key not in index:
                index[key] = len(pts)
                pts.append(p)
            return index[key]

        for j, v in zip(d["jobs"], problem.visits):
            j["location_index"] = idx(v.location)
        for veh, t in zip(d["vehicles"], problem.technicians):
            if t.start is not None:
                veh["start_index"] = idx(t.start)
            if "end" in veh:
                veh["end_index"] = idx(t.end or t.start)
        profiles = {t.profile for t in problem.technicians}
        durs, dist = travel_matrices(pts, {p: params.speeds_mps[p] for p in profiles}, params.detour_factor)
        d["matrices"] = {p: {"durations": durs[p].tolist(), "distances": dist.tolist()} for p in profiles}
    for j in d["jobs"]:
        for k in [k for k in j if k.startswith("x_")]:
            del j[k]
        if "skills" in j:
            j["skills"] = [skill_ids[s] for s in j["skills"]]
        if not j["time_windows"]:
            del j["time_windows"]
    for veh in d["vehicles"]:
        for k in [k for k in veh if k.startswith("x_")]:
            del veh[k]
        if "skills" in veh:
            veh["skills"] = [skill_ids[s] for s in veh["skills"]]
    return d
