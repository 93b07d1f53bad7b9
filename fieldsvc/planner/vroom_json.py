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
from .problem import MAX_SECONDS, Break, Matrices, Point, Problem, Shipment, Technician, TimeWindow, Visit
from .solution import Solution

def _pt(loc: Any, where: str) -> Point | None:
    if loc is None:
        return None
    if not (isinstance(loc, (list, tuple)) and len(loc) == 2
            and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in loc)):
        raise ValueError(f"{where}: location must be [lon, lat]")
    return Point(lat=float(loc[1]), lon=float(loc[0]))


def _tw(pair: Any, where: str) -> TimeWindow:
    if not (isinstance(pair, (list, tuple)) and len(pair) == 2):
        raise ValueError(f"{where}: a time window is [start, end]")
    return TimeWindow(_int(pair[0], f"{where} time window"), _int(pair[1], f"{where} time window"))


def _skills(xs: Any, where: str = "skills") -> frozenset[str]:
    if xs is not None and not isinstance(xs, list):
        raise ValueError(f"{where}: skills must be a list")
    return frozenset(str(x) for x in (xs or ()))


def _id(obj: dict, where: str):
    """VROOM ids are integers; strings are accepted too."""
    if "id" not in obj:
        raise ValueError(f"{where}: id is required")
    val = obj["id"]
    if isinstance(val, bool) or not isinstance(val, (int, str)):
        raise ValueError(f"{where}: id must be an integer or a string (got {val!r})")
    return val


JOB_FIELDS = {"id", "description", "location", "location_index", "setup", "service", "delivery", "pickup",
              "amount", "skills", "priority", "time_windows"}
VEHICLE_FIELDS = {"id", "profile", "description", "start", "start_index", "end", "end_index", "capacity", "costs",
                  "skills", "time_window", "breaks", "speed_factor", "max_tasks", "max_travel_time",
                  "max_distance", "steps"}
SHIPMENT_FIELDS = {"amount", "skills", "priority", "pickup", "delivery"}
SHIPMENT_STEP_FIELDS = {"id", "description", "location", "location_index", "setup", "service", "time_windows"}
BREAK_FIELDS = {"id", "time_windows", "service", "description"}
STEP_FIELDS = {"type", "id"}
COST_FIELDS = {"fixed", "per_hour", "per_km"}
TOP_FIELDS = {"jobs", "shipments", "vehicles", "matrices", "matrix"}
#: fields VROOM reads that this planner refuses, with what to do instead
REFUSED = {
    "service_at": "fixed service times in steps are not supported; give the job a time window instead",
    "service_after": "fixed service times in steps are not supported; give the job a time window instead",
    "service_before": "fixed service times in steps are not supported; give the job a time window instead",
    "max_load": "a load limit during breaks is not supported; remove it",
    "per_task_hour": "a cost per hour of service is not supported; remove it",
    "costs": "custom cost matrices are not supported; travel cost follows the durations (and costs.per_km)",
}


def _fields(obj: Any, allowed: set[str], where: str) -> dict:
    """``obj`` as a dict whose every key is known (VROOM or ``x_``); refused fields say why."""
    if not isinstance(obj, dict):
        raise ValueError(f"{where}: a JSON object is expected")
    for key in obj:
        if key in allowed or key.startswith("x_"):
            continue
        if key in REFUSED:
            raise ValueError(f"{where}.{key}: {REFUSED[key]}")
        raise ValueError(f"{where}.{key}: unknown field (known: {', '.join(sorted(allowed))}, or x_ extensions)")
    return obj


def _int(val: Any, where: str) -> int:
    if isinstance(val, bool) or not isinstance(val, (int, float)) or val != int(val):
        raise ValueError(f"{where}: an integer is expected (got {val!r})")
    return int(val)


def _list(obj: dict, key: str, where: str) -> list:
    val = obj.get(key)
    if val is None:
        return []
    if not isinstance(val, list):
        raise ValueError(f"{where}.{key}: a list is expected")
    return val


def _opt_int(obj: dict, key: str, where: str) -> int | None:
    return None if obj.get(key) is None else _int(obj[key], f"{where}.{key}")


def _number(val: Any, where: str) -> float:
    if isinstance(val, bool) or not isinstance(val, (int, float)):
        raise ValueError(f"{where}: a number is expected (got {val!r})")
    return float(val)


def _amount(val: Any, where: str) -> int:
    """VROOM amounts are arrays; this planner has one capacity dimension."""
    if val is None or val == []:
        return 0
    if not isinstance(val, list) or len(val) != 1:
        raise ValueError(f"{where}: only one capacity dimension is supported (give [n])")
    return _int(val[0], where)


def _each(val: Any) -> list:
    """``val`` if it is a list, else nothing (the pre-pass below reads before validation)."""
    return val if isinstance(val, list) else []


def _earliest(data: dict) -> int:
    """The earliest time given anywhere in a VROOM problem (0 if none): a vehicle without a
    time_window is available from then on. Malformed parts are skipped here and refused by name
    when they are read."""
    times = []
    windows: list = []
    for v in _each(data.get("vehicles")):
        if isinstance(v, dict):
            tw = v.get("time_window")
            if isinstance(tw, list) and tw:
                times.append(tw[0])
            for b in _each(v.get("breaks")):
                if isinstance(b, dict):
                    windows += _each(b.get("time_windows"))
    steps = list(_each(data.get("jobs")))
    for sh in _each(data.get("shipments")):
        if isinstance(sh, dict):
            steps += [sh.get("pickup") or {}, sh.get("delivery") or {}]
    for j in steps:
        if isinstance(j, dict):
            windows += _each(j.get("time_windows"))
    times += [w[0] for w in windows if isinstance(w, list) and w]
    times = [t for t in times if isinstance(t, (int, float)) and not isinstance(t, bool)]
    return int(min(times)) if times else 0


def _visit(j: Any, where: str, fields: set[str]) -> Visit:
    j = _fields(j, fields, where)
    _id(j, where)
    if "amount" in j and "delivery" in j:
        raise ValueError(f"{where}.amount: give delivery only (amount is its old name)")
    desc = j.get("description")
    return Visit(
        id=j["id"], location=_pt(j.get("location"), where), location_index=_opt_int(j, "location_index", where),
        service=_int(j.get("service", 0), f"{where}.service"), setup=_int(j.get("setup", 0), f"{where}.setup"),
        time_windows=tuple(_tw(w, where) for w in _list(j, "time_windows", where)),
        skills=_skills(j.get("skills")), priority=_int(j.get("priority", 0), f"{where}.priority"),
        kind=str(j.get("x_kind", "pm")), mandatory=bool(j.get("x_mandatory", False)),
        overdue_days=_int(j.get("x_overdue_days", 0), f"{where}.x_overdue_days"),
        sla_deadline=_opt_int(j, "x_sla_deadline", where),
        pinned_to=j.get("x_pinned_to"), merchant=j.get("x_merchant"),
        demand=_amount(j.get("delivery", j.get("amount")), f"{where}.delivery"),
        pickup=_amount(j.get("pickup"), f"{where}.pickup"), description=None if desc is None else str(desc))


def _shipment(sh: Any, where: str) -> Shipment:
    sh = _fields(sh, SHIPMENT_FIELDS, where)
    for part in ("pickup", "delivery"):
        if part not in sh:
            raise ValueError(f"{where}.{part}: required")
    return Shipment(pickup=_visit(sh["pickup"], f"{where}.pickup", SHIPMENT_STEP_FIELDS),
                    delivery=_visit(sh["delivery"], f"{where}.delivery", SHIPMENT_STEP_FIELDS),
                    amount=_amount(sh.get("amount"), f"{where}.amount"), skills=_skills(sh.get("skills")),
                    priority=_int(sh.get("priority", 0), f"{where}.priority"), pinned_to=sh.get("x_pinned_to"))


def _steps(steps: Any, where: str) -> tuple:
    out = []
    for k, st in enumerate(steps or []):
        st = _fields(st, STEP_FIELDS, f"{where}.steps[{k}]")
        typ = st.get("type")
        if typ in ("start", "end"):
            continue
        if typ not in ("job", "pickup", "delivery", "break") or "id" not in st:
            raise ValueError(f"{where}.steps[{k}]: type start/job/pickup/delivery/break with an id is expected")
        out.append((typ, st["id"]))
    return tuple(out)


def _vehicle(v: Any, where: str, default_start: int) -> Technician:
    v = _fields(v, VEHICLE_FIELDS, where)
    _id(v, where)
    tw = _tw(v["time_window"], where) if "time_window" in v else TimeWindow(default_start, MAX_SECONDS)
    breaks = []
    for k, b in enumerate(_list(v, "breaks", where)):
        bw = f"{where}.breaks[{k}]"
        b = _fields(b, BREAK_FIELDS, bw)
        wins = [_tw(w, bw) for w in _list(b, "time_windows", bw)] or [tw]
        service = _int(b.get("service", 0), f"{bw}.service")
        # VROOM's windows bound the break's start; ours bound the whole break, several become `starts`
        breaks.append(Break(TimeWindow(min(w.start for w in wins), max(w.end for w in wins) + service),
                            service, b.get("id", "break"), tuple(wins) if len(wins) > 1 else ()))
    costs = _fields(v.get("costs") or {}, COST_FIELDS, f"{where}.costs")
    has_end = "end" in v or "end_index" in v
    cap = v.get("capacity")
    desc = v.get("description")
    return Technician(
        id=v["id"], start=_pt(v.get("start"), where), end=_pt(v.get("end"), where),
        start_index=_opt_int(v, "start_index", where), end_index=_opt_int(v, "end_index", where), shift=tw,
        breaks=tuple(breaks), max_visits=_opt_int(v, "max_tasks", where), skills=_skills(v.get("skills")),
        profile=str(v.get("profile", "car")), capacity=_amount(cap, f"{where}.capacity") if cap else None,
        frozen_prefix=tuple(v.get("x_frozen_prefix", ())),
        open_end=bool(v.get("x_open_end", not has_end and ("start" in v or "start_index" in v))),
        speed_factor=_number(v.get("speed_factor", 1.0), f"{where}.speed_factor"),
        max_travel_time=_opt_int(v, "max_travel_time", where), max_distance=_opt_int(v, "max_distance", where),
        fixed_cost=_int(costs.get("fixed", 0), f"{where}.costs.fixed"),
        per_hour=_int(costs.get("per_hour", 3600), f"{where}.costs.per_hour"),
        per_km=_int(costs.get("per_km", 0), f"{where}.costs.per_km"),
        steps=_steps(_list(v, "steps", where), where), description=None if desc is None else str(desc))


def problem_from_dict(data: dict) -> tuple[Problem, dict]:
    """Parse a VROOM problem dict; returns the Problem and the ``x_options`` overrides.

    Every field is read or refused by name (see the README's table of VROOM fields).  A vehicle
    without ``time_window`` is available from the earliest time in the problem on.
    """
    data = _fields(data, TOP_FIELDS, "problem")
    visits = [_visit(j, f"jobs[{k}] (id {j.get('id')!r})" if isinstance(j, dict) else f"jobs[{k}]", JOB_FIELDS)
              for k, j in enumerate(_list(data, "jobs", "problem"))]
    shipments = [_shipment(sh, f"shipments[{k}]") for k, sh in enumerate(_list(data, "shipments", "problem"))]
    start = _earliest(data)
    techs = [_vehicle(v, f"vehicles[{k}] (id {v.get('id')!r})" if isinstance(v, dict) else f"vehicles[{k}]", start)
             for k, v in enumerate(_list(data, "vehicles", "problem"))]
    # VROOM: a vehicle without end is open-ended, one without start starts at its end
    matrices = None
    if data.get("matrices") or data.get("matrix"):
        mats = data.get("matrices") or {"car": {"durations": data["matrix"]}}
        durs, dists = {}, {}
        for prof, mm in mats.items():
            mm = _fields(mm, {"durations", "distances"}, f"matrices.{prof}")
            for kind, out in (("durations", durs), ("distances", dists)):
                if kind in mm:
                    try:
                        out[prof] = tuple(tuple(int(x) for x in row) for row in mm[kind])
                    except (TypeError, ValueError) as exc:
                        raise ValueError(f"matrices.{prof}.{kind}: rows of integers are expected ({exc})") from exc
        if not durs:
            raise ValueError("matrices: a durations matrix is required")
        matrices = Matrices(durs, dists)
    if not techs:
        raise ValueError("vehicles: empty fleet")
    return (Problem(tuple(techs), tuple(visits), matrices, name=str(data.get("x_name", "day")),
                    shipments=tuple(shipments)),
            dict(data.get("x_options", {})))


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
    pri.update({v.id: s.priority for s in problem.shipments for v in s.visits})
    svc = {v.id: v.service for v in problem.all_visits}
    desc = {v.id: v.description for v in problem.all_visits if v.description is not None}
    kind = {s.pickup.id: "pickup" for s in problem.shipments}
    kind.update({s.delivery.id: "delivery" for s in problem.shipments})
    techs = {t.id: t for t in problem.technicians}
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
                    typ = kind.get(vid, "job")
                    step = {"type": typ, "id": vid, **({"job": vid} if typ == "job" else {}), **loc,
                            "arrival": s.arrival if k == 0 else t, "setup": s.setup if k == 0 else 0,
                            "service": svc[vid], "waiting_time": s.waiting if k == 0 else 0,
                            "distance": s.distance, "duration": travel_acc}
                    if vid in desc:
                        step["description"] = desc[vid]
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
        tech = techs.get(r.technician_id)
        rcost = route_cost(tech, r.travel_seconds, r.distance_m) if tech is not None else r.travel_seconds
        route = {"vehicle": r.technician_id, "cost": rcost, "setup": sum(s.setup for s in r.stops),
                 "service": r.service_seconds, "duration": r.travel_seconds, "waiting_time": r.waiting_seconds,
                 "distance": r.distance_m, "priority": rp, "steps": steps}
        if tech is not None and tech.description is not None:
            route["description"] = tech.description
        routes.append(route)
        tot["cost"] += rcost
        tot["service"] += r.service_seconds
        tot["duration"] += r.travel_seconds
        tot["waiting_time"] += r.waiting_seconds
        tot["distance"] += r.distance_m
        tot["priority"] += rp
    by_id = {v.id: v for v in problem.all_visits}
    unassigned = []
    for u in sol.unassigned:
        v = by_id.get(u.visit_id)
        item = {"id": u.visit_id, "type": kind.get(u.visit_id, "job"), "reason": u.reason, "x_message": u.message}
        if u.visit_id in desc:
            item["description"] = desc[u.visit_id]
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


def route_cost(tech: Technician, travel: int, metres: int) -> int:
    """VROOM's route cost: fixed + travel hours × per_hour + km × per_km (travel seconds by default)."""
    return int(tech.fixed_cost + round(travel * tech.per_hour / 3600 + metres * tech.per_km / 1000))


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

    def step(v: Visit) -> dict:
        out = {"id": v.id, **loc(v.location, v.location_index, "location"), "service": v.service,
               "time_windows": [[w.start, w.end] for w in v.time_windows]}
        if v.setup:
            out["setup"] = v.setup
        if v.description is not None:
            out["description"] = v.description
        return out

    jobs = []
    for v in problem.visits:
        j = {**step(v), "priority": v.priority}
        if v.skills:
            j["skills"] = sorted(v.skills)
        if v.demand:
            j["delivery"] = [v.demand]
        if v.pickup:
            j["pickup"] = [v.pickup]
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
            d["breaks"] = [{"id": b.id, "time_windows": [[w.start, w.end] for w in b.starts]
                            or [[b.window.start, b.window.end - b.duration]], "service": b.duration}
                           for b in t.breaks]
        if t.max_visits is not None:
            d["max_tasks"] = t.max_visits
        if t.capacity is not None:
            d["capacity"] = [t.capacity]
        if t.frozen_prefix:
            d["x_frozen_prefix"] = list(t.frozen_prefix)
        if t.speed_factor != 1:
            d["speed_factor"] = t.speed_factor
        for name in ("max_travel_time", "max_distance", "description"):
            if getattr(t, name) is not None:
                d[name] = getattr(t, name)
        if (t.fixed_cost, t.per_hour, t.per_km) != (0, 3600, 0):
            d["costs"] = {"fixed": t.fixed_cost, "per_hour": t.per_hour, "per_km": t.per_km}
        if t.steps:
            d["steps"] = [{"type": typ, "id": sid} for typ, sid in t.steps]
        vehicles.append(d)
    out: dict = {"vehicles": vehicles, "jobs": jobs}
    if problem.shipments:
        out["shipments"] = []
        for s in problem.shipments:
            sh = {"pickup": step(s.pickup), "delivery": step(s.delivery), "amount": [s.amount],
                  "priority": s.priority}
            if s.skills:
                sh["skills"] = sorted(s.skills)
            if s.pinned_to is not None:
                sh["x_pinned_to"] = s.pinned_to
            out["shipments"].append(sh)
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
                                                         | {s for t in problem.technicians for s in t.skills}
                                                         | {s for sh in problem.shipments for s in sh.skills}))}
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
        for sh, s in zip(d.get("shipments", []), problem.shipments):
            sh["pickup"]["location_index"] = idx(s.pickup.location)
            sh["delivery"]["location_index"] = idx(s.delivery.location)
        for veh, t in zip(d["vehicles"], problem.technicians):
            if t.start is not None:
                veh["start_index"] = idx(t.start)
            if "end" in veh:
                veh["end_index"] = idx(t.end or t.start)
        profiles = {t.profile for t in problem.technicians}
        durs, dist = travel_matrices(pts, {p: params.speeds_mps[p] for p in profiles}, params.detour_factor)
        d["matrices"] = {p: {"durations": durs[p].tolist(), "distances": dist.tolist()} for p in profiles}
    for j in d["jobs"] + [x[part] for x in d.get("shipments", []) for part in ("pickup", "delivery")] \
            + d.get("shipments", []):
        for k in [k for k in j if k.startswith("x_")]:
            del j[k]
        if "skills" in j:
            j["skills"] = [skill_ids[s] for s in j["skills"]]
        if "time_windows" in j and not j["time_windows"]:
            del j["time_windows"]
    for veh in d["vehicles"]:
        for k in [k for k in veh if k.startswith("x_")]:
            del veh[k]
        if "skills" in veh:
            veh["skills"] = [skill_ids[s] for s in veh["skills"]]
    return d
