"""Daily routing: :func:`solve` turns a :class:`Problem` into a :class:`Solution`.

Pipeline: validate → merge visits into stops → travel matrices → pre-checks (skills, windows)
→ OR-Tools model (:mod:`._ortools`) → routes with times and unassigned reasons.
"""
from __future__ import annotations

import time as _time
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Hashable

import numpy as np

from ._model import RawResult, RoutingModel, VehicleSpec
from .matrix import travel_matrices
from .params import SolveParams
from .problem import Break, Id, Point, Problem, Technician, Visit, validate
from .solution import Cost, Route, Solution, Stop, Unassigned
from .stops import StopSpec, merge_visits
from .timeshift import earliest_time, shift_problem, shift_solution

BIG_DAY = 7 * 24 * 3600


@dataclass
class Compiled:
    """A problem compiled to node arrays, with the maps back to ids."""

    model: RoutingModel
    stops: list[StopSpec]
    node_of_stop: dict[int, int]  # stop position -> node
    stop_of_node: dict[int, int]
    node_lat_lon: list[tuple[float, float] | None]
    node_loc_index: list[int | None]
    pre_unassigned: list[Unassigned]
    profiles: list[str]
    techs: tuple[Technician, ...]
    #: stop node -> its alternative copies (node, single window, lateness charge), see _expand_alternatives
    alts: dict[int, list[tuple[int, tuple[int, int], int]]] = field(default_factory=dict)


def drop_cost(stop: StopSpec, params: SolveParams) -> int | None:
    """Disjunction penalty of a stop; None when drops are disabled."""
    if not params.allow_drops:
        return None
    return sum(visit_drop_cost(v, params) for v in stop.visits)


def visit_drop_cost(v: Visit, params: SolveParams) -> int:
    """Drop cost of one visit: mandatory ≫ priority ≫ PM overdue days ≫ any detour."""
    if v.mandatory:
        return params.mandatory_drop
    cost = params.drop_base + v.priority * params.drop_per_priority
    if v.kind == "pm":
        cost += max(0, v.overdue_days) * params.pm_overdue_per_day
    return cost


def compile_problem(problem: Problem, params: SolveParams) -> Compiled:
    """Validate and compile ``problem``; raises ``ValueError`` on bad input."""
    validate(problem)
    techs = problem.technicians
    stops = merge_visits(problem.visits, params.merge_radius_m)
    n_job_stops = len(stops)
    stops += [StopSpec((v,), v.time_windows) for v in shipment_visits(problem)]
    index_mode = problem.matrices is not None and bool(problem.matrices.durations)

    # locations of depots (start/end) and stops, as keys
    def tkey(t: Technician, end: bool):
        idx = (t.end_index if t.end_index is not None else t.start_index) if end else \
            (t.start_index if t.start_index is not None else t.end_index)
        pt = (t.end or t.start) if end else (t.start or t.end)
        return _key(idx, pt, index_mode, f"technician {t.id!r}")

    keys: list = []
    key_node: dict = {}

    def node_for(key: Hashable) -> int:
        if key not in key_node:
            key_node[key] = len(keys)
            keys.append(key)
        return key_node[key]

    t_start = [node_for(tkey(t, False)) for t in techs]
    t_end = [None if (t.open_end and t.end is None and t.end_index is None) else node_for(tkey(t, True))
             for t in techs]
    stop_keys = [_key(s.lead.location_index, s.lead.location, index_mode, f"visit {s.lead.id!r}") for s in stops]
    shared_place = Counter(stop_keys + [keys[x] for x in t_start])  # stops that may be reached without setup
    n_depot = len(keys)
    n = n_depot + len(stops) + (1 if any(e is None for e in t_end) else 0)
    dummy = n - 1 if any(e is None for e in t_end) else None
    t_end = [dummy if e is None else e for e in t_end]
    all_keys = keys + stop_keys

    profiles = sorted({t.profile for t in techs})
    places = {k: i for i, k in enumerate(dict.fromkeys(all_keys))}
    place = [places[k] for k in all_keys]
    if index_mode:
        mats = problem.matrices
        idx = np.array([k[1] for k in all_keys], dtype=np.int64)
        avail = list(mats.durations)
        durs = []
        for p in profiles:
            src = mats.durations.get(p, mats.durations[avail[0]] if len(avail) == 1 else None)
            if src is None:
                raise ValueError(f"profile {p!r}: no durations matrix (have {avail})")
            durs.append(np.asarray(src, dtype=np.int64)[np.ix_(idx, idx)])
        dsrc = mats.distances.get(profiles[0]) if mats.distances else None
        if dsrc is None and mats.distances and len(mats.distances) == 1:
            dsrc = next(iter(mats.distances.values()))
        dist = np.asarray(dsrc, dtype=np.int64)[np.ix_(idx, idx)] if dsrc is not None else None
        lat_lon = [None] * len(all_keys)
        loc_index = [int(k[1]) for k in all_keys]
    else:
        pts = [Point(k[1], k[2]) for k in all_keys]
        speeds = {}
        for p in profiles:
            if p not in params.speeds_mps:
                raise ValueError(f"profile {p!r}: unknown vehicle profile (have {sorted(params.speeds_mps)})")
            speeds[p] = params.speeds_mps[p]
        dmap, dist = travel_matrices(pts, speeds, params.detour_factor, params.metric)
        durs = [dmap[p] for p in profiles]
        lat_lon = [(k[1], k[2]) for k in all_keys]
        loc_index = [None] * len(all_keys)
    if dummy is not None:
        durs = [_pad(d) for d in durs]
        dist = _pad(dist) if dist is not None else None
        lat_lon.append(None)
        loc_index.append(None)
        place.append(len(places))

    prof_of = {p: i for i, p in enumerate(profiles)}
    # one travel matrix per (profile, speed_factor): VROOM divides travel times by the factor
    classes = sorted({(t.profile, float(t.speed_factor)) for t in techs})
    class_of = {c: i for i, c in enumerate(classes)}
    durs = [durs[prof_of[p]] if sf == 1 else np.rint(durs[prof_of[p]] / sf).astype(np.int64) for p, sf in classes]
    vehicles = []
    for i, t in enumerate(techs):
        if dist is None and (t.max_distance is not None or t.per_km):
            field_name = "max_distance" if t.max_distance is not None else "costs.per_km"
            raise ValueError(f"technician {t.id!r}: {field_name} needs distances (give matrices with distances)")
        vehicles.append(VehicleSpec(
            start=t_start[i], end=t_end[i], tw=(t.shift.start, t.shift.end),
            profile=class_of[(t.profile, float(t.speed_factor))],
            max_visits=t.max_visits, capacity=t.capacity,
            breaks=[_break_window(t, b) for b in t.breaks], break_starts=[_break_starts(t, b) for b in t.breaks],
            max_travel=t.max_travel_time, max_distance=t.max_distance, fixed_cost=int(t.fixed_cost),
            per_hour=int(t.per_hour), per_km=int(t.per_km), name=f"technician {t.id!r}"))
    service = np.zeros(n, dtype=np.int64)
    tasks = np.zeros(n, dtype=np.int64)
    setup = np.zeros(n, dtype=np.int64)
    windows: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    demand = np.zeros(n, dtype=np.int64)
    names = [f"location {all_keys[x][1:]} (a technician's start or end)" if x < n_depot else "" for x in range(n)]
    ship_amount = {v.id: a for v, a in shipment_amounts(problem)}
    # VROOM loads job deliveries at the start; alone, they count like pickups (the peak is the total)
    mixed = any(v.demand for v in problem.visits) and bool(problem.shipments or any(v.pickup for v in problem.visits))
    delivered = np.zeros(n, dtype=np.int64)
    visit_stop = {v.id: si for si, s in enumerate(stops) for v in s.visits}
    prefix_stops: dict[int, int] = {}
    for i, t in enumerate(techs):
        for vid in t.frozen_prefix:
            prefix_stops[visit_stop[vid]] = i

    pre: list[Unassigned] = []
    node_of_stop, stop_of_node, allowed, penalty, sla = {}, {}, {}, {}, {}
    horizon = _horizon(techs, stops, durs)
    oks: list[list[int]] = []
    reasons: list[str | None] = []
    for si, s in enumerate(stops):
        node = n_depot + si
        service[node] = s.service
        tasks[node] = len(s.visits)
        setup[node] = max(v.setup for v in s.visits)
        if si >= n_job_stops:
            demand[node] = ship_amount[s.lead.id]
        elif mixed:
            demand[node] = sum(v.pickup - v.demand for v in s.visits)
            delivered[node] = s.demand
        else:
            demand[node] = sum(v.demand + v.pickup for v in s.visits)
        kind = "visit" if si < n_job_stops else ("pickup" if (si - n_job_stops) % 2 == 0 else "delivery")
        names[node] = f"{kind} {s.ids[0]!r}" if len(s.ids) == 1 else f"visits {', '.join(map(repr, s.ids))}"
        ok = [i for i, t in enumerate(techs) if s.skills <= t.skills]
        if s.pinned_to is not None:
            ok = [i for i in ok if techs[i].id == s.pinned_to]
        if si in prefix_stops:
            ok = [prefix_stops[si]]
            windows[node] = []
        else:
            windows[node] = _setup_windows(s.windows, int(setup[node]), shared_place[stop_keys[si]] > 1)
        reason = None
        if not ok:
            reason = "skills"
        elif s.windows and not windows[node] and si not in prefix_stops:
            reason = "time_window"
            ok = []
        elif si not in prefix_stops:
            ok2 = [i for i in ok if _reachable(durs[vehicles[i].profile], vehicles[i], node, s.service, windows[node])]
            if not ok2:
                reason = "time_window"
            ok = ok2
            if ok and all(techs[i].max_visits is not None and techs[i].max_visits < len(s.visits) for i in ok):
                reason = "capacity"
        oks.append(ok)
        reasons.append(reason)
    pairs: list[tuple[int, int]] = []
    for k in range(len(problem.shipments)):  # a shipment goes to a technician both of its stops allow
        a, b = n_job_stops + 2 * k, n_job_stops + 2 * k + 1
        both = [i for i in oks[a] if i in oks[b]]
        reason = reasons[a] or reasons[b] or (None if both else "time_window")
        if reason is None and abs(int(demand[n_depot + a])) > 0 and all(
                techs[i].capacity is not None and techs[i].capacity < abs(int(demand[n_depot + a])) for i in both):
            reason = "capacity"
        reasons[a] = reasons[b] = reason
        oks[a] = oks[b] = both
        if reason is None:
            pairs.append((n_depot + a, n_depot + b))
    for si, s in enumerate(stops):
        node = n_depot + si
        ok, reason = oks[si], reasons[si]
        if reason:
            pre.extend(Unassigned(vid, reason) for vid in s.ids)
            continue
        node_of_stop[si] = node
        stop_of_node[node] = si
        if len(ok) < len(techs):
            allowed[node] = ok
        penalty[node] = None if si in prefix_stops else drop_cost(s, params)
        if s.sla_deadline is not None:
            sla[node] = s.sla_deadline
    for i, t in enumerate(techs):
        vehicles[i].prefix = [node_of_stop[visit_stop[vid]] for vid in t.frozen_prefix]
    # compact: keep depots, routable stops and the dummy end
    keep = [x for x in range(n) if x < n_depot or x in stop_of_node or x == dummy]
    new_of = {old: i for i, old in enumerate(keep)}
    kk = np.array(keep, dtype=np.int64)
    durs = [d[np.ix_(kk, kk)] for d in durs]
    dist = dist[np.ix_(kk, kk)] if dist is not None else None
    pairs = [(new_of[a], new_of[b]) for a, b in pairs]
    for spec in vehicles:
        spec.start, spec.end = new_of[spec.start], new_of[spec.end]
        spec.prefix = [new_of[x] for x in spec.prefix]
    node_of_stop = {si: new_of[x] for si, x in node_of_stop.items()}
    stop_of_node = {node: si for si, node in node_of_stop.items()}
    model = RoutingModel(
        durations=durs, distances=dist, service=service[kk], windows=[windows[x] for x in keep],
        vehicles=vehicles, stop_nodes=sorted(stop_of_node),
        allowed={new_of[x]: a for x, a in allowed.items()}, penalty={new_of[x]: p for x, p in penalty.items()},
        sla={new_of[x]: d for x, d in sla.items()},
        demand=demand[kk] if demand.any() or delivered.any() else None, late_cost=params.em_late_per_second,
        delivered=delivered[kk] if mixed else None,
        fixed_cost=params.vehicle_fixed_cost, horizon=horizon,
        setup=setup[kk] if setup.any() else None, place=np.asarray(place, dtype=np.int64)[kk], pairs=pairs,
        names=[names[x] for x in keep], tasks=tasks[kk])
    comp = Compiled(model, stops, node_of_stop, stop_of_node, [lat_lon[x] for x in keep],
                    [loc_index[x] for x in keep], pre, profiles, techs)
    _expand_alternatives(comp, params)
    return comp


def _break_window(t: Technician, b: Break) -> tuple[int, int, int]:
    """(earliest start, latest start, duration) of a break inside both its window and the shift."""
    lo, hi = max(b.window.start, t.shift.start), min(b.window.end, t.shift.end) - b.duration
    if hi < lo:
        raise ValueError(f"technician {t.id!r}: break {b.id!r} ({b.duration} s) does not fit inside both its window "
                         f"{b.window.start}..{b.window.end} and the shift {t.shift.start}..{t.shift.end}")
    return lo, hi, b.duration


def _setup_windows(windows: list[tuple[int, int]], setup: int, shared: bool) -> list[tuple[int, int]]:
    """Windows for the service start of a stop whose windows, as VROOM's, bound the *task* start
    (before setup).  Reached from another place, service starts ``setup`` later: exact.  At a
    place it may also be reached from without setup (another stop or a start there), the
    windows that hold either way: ``[start + setup, end]``."""
    if not setup:
        return [(w.start, w.end) for w in windows]
    out = [(w.start + setup, w.end if shared else w.end + setup) for w in windows]
    return [(a, b) for a, b in out if a <= b]


def _break_starts(t: Technician, b: Break) -> list[tuple[int, int]]:
    """The intervals a break may start in (its ``starts`` clipped to its window and the shift)."""
    if not b.starts:
        return []
    lo, hi, _ = _break_window(t, b)
    out = sorted((max(lo, w.start), min(hi, w.end)) for w in b.starts if max(lo, w.start) <= min(hi, w.end))
    if not out:
        raise ValueError(f"technician {t.id!r}: break {b.id!r} cannot start in any of its time windows "
                         f"inside the shift {t.shift.start}..{t.shift.end}")
    return out


def shipment_visits(problem: Problem) -> list:
    """Every shipment's pickup then delivery as a visit carrying the shipment's skills, priority, pin."""
    out = []
    for s in problem.shipments:
        for v in s.visits:
            out.append(replace(v, skills=v.skills | s.skills, priority=s.priority, pinned_to=s.pinned_to,
                               demand=0, pickup=0, kind="pm", mandatory=False, overdue_days=0))
    return out


def shipment_amounts(problem: Problem) -> list:
    """(visit, load change): +amount at each pickup, -amount at its delivery."""
    return [(v, a) for s in problem.shipments for v, a in ((s.pickup, s.amount), (s.delivery, -s.amount))]


def _horizon(techs: list[Technician], stops: list[StopSpec], durs: list[np.ndarray]) -> int:
    """The time dimension's upper bound.

    As before: the latest shift or window end plus the longest trip, capped at a week — but never
    below a bound on any feasible schedule (latest given time + all work + every trip at its
    longest), so that problems spanning more than a week, in absolute times, still fit.
    """
    longest = max(int(d.max(initial=0)) for d in durs)
    ends = [t.shift.end for t in techs] + [w.end for s in stops for w in s.windows]
    plain = max(ends + [1]) + longest + 1
    if plain <= BIG_DAY:
        return int(plain)
    latest = max([t.shift.start for t in techs] + [w.end for s in stops for w in s.windows]
                 + [b.window.end for t in techs for b in t.breaks]
                 + [v.sla_deadline for s in stops for v in s.visits if v.sla_deadline is not None] + [0])
    work = sum(s.service + max(v.setup for v in s.visits) for s in stops)
    work += sum(b.duration for t in techs for b in t.breaks) + (len(stops) + 2) * longest
    return int(min(plain, max(BIG_DAY, latest + work + 1)))


def _clip(windows: list[tuple[int, int]], hi: int | None, horizon: int) -> list[tuple[int, int]]:
    ws = windows or [(0, horizon)]
    if hi is None:
        return list(ws)
    return [(a, min(b, hi)) for a, b in ws if a <= min(b, hi)]


def _expand_alternatives(comp: Compiled, params: SolveParams) -> None:
    """Give every stop one time window by replacing it with alternative copies.

    A stop open twice a day (a midday closure) becomes one copy per window; with the "tiers"
    SLA model an EM stop also becomes copies per lateness tier (on time / a bit late / later),
    each copy's fixed lateness charge sitting on its outgoing arcs.  Exactly one copy may be
    served (one disjunction).  Single-interval windows keep OR-Tools' time filters exact; a
    window with a hole makes its search crawl on a full day.
    """
    m = comp.model
    tiers = params.sla_model == "tiers"
    m.soft_sla = not tiers
    frozen = {x for v in m.vehicles for x in v.prefix} | {x for pair in m.pairs for x in pair}
    extra_src: list[int] = []
    extra_win: list[list[tuple[int, int]]] = []
    charge: dict[int, int] = {}
    n = len(m.service)
    for node in list(m.stop_nodes):
        if node in frozen:
            continue
        deadline = m.sla.get(node) if tiers else None
        alts: list[tuple[tuple[int, int], int]] = []
        for max_late, charged in (params.sla_tiers if deadline is not None else ((None, 0),)):
            hi = None if max_late is None else deadline + max_late
            for w in _clip(m.windows[node], hi, m.horizon):
                if all(w != a[0] for a in alts):
                    alts.append((w, charged * params.em_late_per_second))
        if len(alts) <= 1 and not any(c for _, c in alts):
            continue
        m.windows[node] = [alts[0][0]]
        charge[node] = alts[0][1]
        comp.alts[node] = [(node, *alts[0])]
        for w, c in alts[1:]:
            new = n + len(extra_src)
            extra_src.append(node)
            extra_win.append([w])
            charge[new] = c
            comp.alts[node].append((new, w, c))
        if len(alts) > 1:
            m.groups[node] = [x for x, _, _ in comp.alts[node]]
            for x in m.groups[node]:
                m.alt_of[x] = node
    if not extra_src and not any(charge.values()):
        return
    idx = np.array(list(range(n)) + extra_src, dtype=np.int64)
    m.durations = [d[np.ix_(idx, idx)] for d in m.durations]
    m.distances = m.distances[np.ix_(idx, idx)] if m.distances is not None else None
    m.service = m.service[idx]
    m.tasks = m.tasks[idx] if m.tasks is not None else None
    m.demand = m.demand[idx] if m.demand is not None else None
    m.delivered = m.delivered[idx] if m.delivered is not None else None
    m.setup = m.setup[idx] if m.setup is not None else None
    m.place = m.place[idx]
    m.names = [m.names[x] for x in idx]
    m.windows = m.windows + extra_win
    if any(charge.values()):
        m.cost = [d.copy() for d in m.durations]
        for x, c in charge.items():
            for cm in m.cost:
                cm[x, :] += c
    for k, src in enumerate(extra_src):
        new = n + k
        m.stop_nodes.append(new)
        if src in m.allowed:
            m.allowed[new] = m.allowed[src]
        if src in m.sla:
            m.sla[new] = m.sla[src]
        comp.stop_of_node[new] = comp.stop_of_node[src]
        comp.node_lat_lon.append(comp.node_lat_lon[src])
        comp.node_loc_index.append(comp.node_loc_index[src])


def solve(problem: Problem, params: SolveParams | None = None,
          initial: dict[Id, list[Id]] | Solution | None = None) -> Solution:
    """Route one day.

    ``initial`` warm-starts the search: technician id → ordered visit ids, or a previous
    :class:`Solution` (whose service starts then pick the right window and EM tier copies).
    """
    params = params or SolveParams()
    t0 = _time.perf_counter()
    offset = earliest_time(problem)  # absolute times (e.g. Unix seconds): solve from 0, shift back
    problem = shift_problem(problem, offset)
    comp = compile_problem(problem, params)
    if initial:
        starts = None
        if isinstance(initial, Solution):
            starts = {v: s.start - offset for r in initial.routes for s in r.stops for v in s.visit_ids}
            initial = {r.technician_id: r.visit_ids for r in initial.routes}
        comp.model.initial_routes = initial_node_routes(comp, initial, starts)
    if comp.model.stop_nodes:
        from ._ortools import solve_model

        budget = max(0.5, params.time_limit - (_time.perf_counter() - t0))  # the limit is wall time
        raw = solve_model(comp.model, budget, params.first_solution, params.metaheuristic,
                          params.solution_limit, params.log_search, ruin=(params.ruin_visits, params.ruin_string),
                          temperatures=params.temperatures, stagnation=params.stagnation)
    else:
        raw = _empty_result(comp)
    sol = to_solution(comp, raw, params)
    sol.statistics.update({"wall_seconds": round(_time.perf_counter() - t0, 3),
                           "solver_seconds": round(raw.wall, 3), "objective": raw.objective,
                           "stops": len(comp.stops), "visits": len(problem.visits), "search": raw.search})
    if raw.warm_start:
        sol.statistics["warm_start"] = raw.warm_start
    if raw.stagnated:
        sol.statistics["stopped"] = "stagnation"
    if raw.search_cpu is not None:
        sol.statistics["search_cpu_seconds"] = raw.search_cpu
        sol.statistics["improvements"] = [list(x) for x in raw.trace]
    if offset:
        sol.statistics["time_offset"] = offset
    return shift_solution(sol, offset)


def initial_node_routes(comp: Compiled, initial: dict[Id, list[Id]],
                        starts: dict[Id, int] | None = None) -> list[list[int]]:
    """Translate technician → visit ids into per-vehicle node lists (unknown ids skipped).

    A stop with alternative copies (windows, EM tiers) takes the cheapest copy whose window
    holds its service start: the start in ``starts`` (visit id → start in the previous plan)
    or, without one, the earliest start found by driving the route in order.
    """
    m = comp.model
    visit_stop = {v.id: si for si, s in enumerate(comp.stops) for v in s.visits}
    starts = starts or {}
    used: set[int] = set()  # a stop appears only once overall
    routes = []
    for vi, t in enumerate(comp.techs):
        spec = m.vehicles[vi]
        d = m.durations[spec.profile]
        nodes: list[int] = []
        prev, clock = spec.start, spec.tw[0]
        for vid in initial.get(t.id, []):
            si = visit_stop.get(vid)
            node = comp.node_of_stop.get(si) if si is not None else None
            ok = m.allowed.get(node) if node is not None else None
            if node is None or node in used or (ok is not None and vi not in ok):
                continue
            used.add(node)
            arrival = clock + int(d[prev, node])
            start = max(arrival, min((w[0] for w in m.windows[node]), default=arrival))
            if node in comp.alts:
                node, start = _pick_alternative(comp.alts[node], starts.get(vid), arrival)
            nodes.append(node)
            prev, clock = node, start + int(m.service[node])
        routes.append(nodes)
    return routes


def _pick_alternative(alts: list[tuple[int, tuple[int, int], int]], start: int | None,
                      arrival: int) -> tuple[int, int]:
    """(copy, service start): the copy holding ``start``, else the cheapest one open after ``arrival``."""
    if start is not None:
        held = [(c, x) for x, (a, b), c in alts if a <= start <= b]
        if held:
            return min(held)[1], start
    open_ = [(c, max(a, arrival), x) for x, (a, b), c in alts if b >= arrival]
    if not open_:
        x = max(alts, key=lambda alt: alt[1][1])[0]
        return x, arrival
    c, st, x = min(open_)
    return x, st


def _empty_result(comp: Compiled) -> RawResult:
    from ._model import RawRoute

    routes = [RawRoute(v, [], [], spec.tw[0], spec.tw[0], []) for v, spec in enumerate(comp.model.vehicles)]
    return RawResult(routes, [], 0, "success", 0.0)


def to_solution(comp: Compiled, raw: RawResult, params: SolveParams) -> Solution:
    """Turn raw node routes into a :class:`Solution` with times, costs and reasons."""
    m = comp.model
    routes: list[Route] = []
    cost = Cost()
    setup_in = m.setup_matrix()
    for rr in raw.routes:
        spec = m.vehicles[rr.vehicle]
        tech = comp.techs[rr.vehicle]
        d = m.durations[spec.profile]
        route = Route(tech.id)
        depart = rr.depart
        if rr.nodes and not any(b[0] < rr.starts[0] for b in rr.breaks):
            first_setup = int(setup_in[spec.start, rr.nodes[0]]) if setup_in is not None else 0
            depart = max(depart, rr.starts[0] - int(d[spec.start, rr.nodes[0]]) - first_setup)  # as late as useful
        depart = min([depart] + [b[0] for b in rr.breaks])  # a break before leaving starts the day
        route.stops.append(_stop(comp, "start", spec.start, depart, depart, depart, 0))
        prev, prev_end, dist_acc = spec.start, depart, 0
        pending = list(rr.breaks)
        seq = list(zip(rr.nodes, rr.starts)) + [(spec.end, None)]
        for node, start in seq:
            travel = int(d[prev, node])
            arc_dist = int(m.distances[prev, node]) if m.distances is not None else 0
            arrival = prev_end + travel
            brk_before = [b for b in pending if start is None or b[0] + b[1] <= start]  # breaks never overlap service
            for b in brk_before:
                bstart = max(b[0], prev_end)
                arrival = max(arrival, bstart + b[1] + travel) if start is None else arrival
                k = len(rr.breaks) - len(pending)
                bid = tech.breaks[k].id if k < len(tech.breaks) else "break"
                route.stops.append(Stop("break", bstart, bstart, bstart + b[1], distance=dist_acc, id=bid))
                arrival += b[1]
                pending.remove(b)
            if start is None:
                route.stops.append(_stop(comp, "end", node, arrival, arrival, arrival, dist_acc + arc_dist))
                route.stops[-1].travel = travel
            else:
                setup = int(setup_in[prev, node]) if setup_in is not None else 0
                arrival = min(arrival, start - setup)
                svc = int(m.service[node])
                st = _stop(comp, "job", node, arrival, start, start + svc, dist_acc + arc_dist)
                st.setup = setup
                deadline = m.sla.get(node)
                if deadline is not None and start > deadline:
                    st.late_seconds = start - deadline
                    cost.lateness += st.late_seconds * m.late_cost
                st.travel = travel
                route.stops.append(st)
                route.service_seconds += svc
                route.waiting_seconds += start - arrival - setup
                prev_end = start + svc
            route.travel_seconds += travel
            cost.travel += arc_cost(spec, travel, arc_dist)
            dist_acc += arc_dist
            prev = node
        route.distance_m = dist_acc
        if rr.nodes and (m.fixed_cost or spec.fixed_cost):
            cost.fixed += m.fixed_cost + spec.fixed_cost
        routes.append(route)
    unassigned = list(comp.pre_unassigned)
    loads = {rr.vehicle: int(sum(m.tasks[x] for x in rr.nodes)) if m.tasks is not None else len(rr.nodes)
             for rr in raw.routes}
    dem = {rr.vehicle: int(sum(m.demand[x] for x in rr.nodes)) if m.demand is not None else 0 for rr in raw.routes}
    for node in raw.dropped:
        s = comp.stops[comp.stop_of_node[node]]
        cands = m.allowed.get(node, range(len(m.vehicles)))
        need = int(m.tasks[node]) if m.tasks is not None else 1
        full = all((m.vehicles[v].max_visits is not None and loads.get(v, 0) + need > m.vehicles[v].max_visits)
                   or (m.vehicles[v].capacity is not None and m.demand is not None
                       and dem.get(v, 0) + m.demand[node] > m.vehicles[v].capacity) for v in cands)
        unassigned.extend(Unassigned(vid, "capacity" if full else "cost") for vid in s.ids)
        cost.drops += m.penalty.get(node) or 0
    if params.allow_drops and comp.pre_unassigned:
        by_id = {v.id: v for s in comp.stops for v in s.visits}
        cost.drops += sum(visit_drop_cost(by_id[u.visit_id], params) for u in comp.pre_unassigned)
    status = "ok" if raw.status in ("success", "optimal") else raw.status
    return Solution(routes, unassigned, cost, status, {"solver_status": raw.status})


def arc_cost(spec: VehicleSpec, travel: int, metres: int) -> int:
    """VROOM's travel cost: seconds × per_hour / 3600 + metres × per_km / 1000 (= seconds by default)."""
    if spec.per_hour == 3600 and not spec.per_km:
        return int(travel)
    return int(round(travel * spec.per_hour / 3600 + metres * spec.per_km / 1000))


def _stop(comp: Compiled, typ: str, node: int, arrival: int, start: int, end: int, dist: int) -> Stop:
    ll = comp.node_lat_lon[node]
    ids = comp.stops[comp.stop_of_node[node]].ids if typ == "job" else ()
    return Stop(typ, int(arrival), int(start), int(end), ids, comp.node_loc_index[node],
                ll[0] if ll else None, ll[1] if ll else None, int(dist))


def _reachable(d: np.ndarray, v: VehicleSpec, node: int, service: int, wins: list[tuple[int, int]]) -> bool:
    """Can vehicle ``v`` alone go start → node → end inside its shift and one window?"""
    earliest = v.tw[0] + int(d[v.start, node])
    ws = wins or [(earliest, v.tw[1])]
    for a, b in ws:
        s = max(earliest, a)
        if s <= b and s + service + int(d[node, v.end]) <= v.tw[1]:
            return True
    return False


def _key(idx: int | None, pt: Point | None, index_mode: bool, who: str) -> Hashable:
    if index_mode:
        if idx is None:
            raise ValueError(f"{who}: the problem has matrices, so a location_index is required")
        return ("i", int(idx))
    if pt is None:
        raise ValueError(f"{who}: needs a location (lat/lon) when the problem has no matrices")
    return ("p", float(pt.lat), float(pt.lon))


def _pad(a: np.ndarray) -> np.ndarray:
    out = np.zeros((a.shape[0] + 1, a.shape[1] + 1), dtype=a.dtype)
    out[:-1, :-1] = a
    return out
