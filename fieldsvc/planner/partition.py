"""Split big days into territories solved in parallel on a ``concurrent.futures`` executor.

Territory centres come from k-means on visit positions (flat metres from coordinates, or an
embedding of the travel matrix when only ``location_index`` is given, see
:mod:`fieldsvc.planner.embedding`); technicians are shared out in
proportion to the visits and then visits to the technicians, both by min-cost flow (least
total distance to the centres), so every territory has the same work per technician; a visit
whose skills no technician of its territory has moves to the nearest territory that has them.
Pinned visits and frozen prefixes stay with their technician.  Parts are pickled to worker
processes by default; any ``Executor`` (threads, a Dask/Ray cluster's) can be injected.
"""
from __future__ import annotations

import math
import os
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from typing import Callable, Sequence

import numpy as np

from .embedding import Positions, positions
from .params import SolveParams
from .problem import Problem
from .solution import Cost, Solution


def kmeans(xy: np.ndarray, k: int, seed: int = 0, iters: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """Plain k-means (k-means++ seeding): returns (labels, centroids)."""
    rng = np.random.default_rng(seed)
    cent = [xy[rng.integers(len(xy))]]
    for _ in range(1, k):
        d2 = np.min(((xy[:, None, :] - np.array(cent)[None]) ** 2).sum(-1), axis=1)
        cent.append(xy[rng.choice(len(xy), p=d2 / d2.sum())] if d2.sum() > 0 else xy[rng.integers(len(xy))])
    c = np.array(cent, dtype=float)
    labels = np.zeros(len(xy), dtype=int)
    for _ in range(iters):
        labels = np.argmin(((xy[:, None, :] - c[None]) ** 2).sum(-1), axis=1)
        new = np.array([xy[labels == j].mean(0) if np.any(labels == j) else c[j] for j in range(k)])
        if np.allclose(new, c):
            break
        c = new
    return labels, c


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rounded straight-line distances between every row of ``a`` and of ``b`` (one unit, see
    :class:`~fieldsvc.planner.embedding.Positions`)."""
    return np.rint(np.sqrt(((a[:, None, :] - b[None]) ** 2).sum(-1))).astype(np.int64)


def split(problem: Problem, max_visits: int = 150, seed: int = 0, pos: Positions | None = None) -> list[Problem]:
    """Territories of at most about ``max_visits`` visits each (one part if small, or when the
    problem has neither coordinates nor a matrix to place its visits)."""
    visits, techs = problem.visits, problem.technicians
    k = min(len(techs), math.ceil(len(visits) / max_visits)) if visits else 1
    pos = pos if pos is not None or k <= 1 else positions(problem, seed)
    if k <= 1 or pos is None:
        return [problem]
    vxy, txy = pos.visits, pos.technicians
    labels, cent = kmeans(vxy, k, seed)
    counts = np.bincount(labels, minlength=k).astype(float)
    quota = np.maximum(1, np.floor(counts / counts.sum() * len(techs))).astype(int)
    while quota.sum() < len(techs):
        quota[np.argmax(counts / quota)] += 1
    while quota.sum() > len(techs):
        quota[np.argmax(np.where(quota > 1, quota - counts / counts.sum() * len(techs), -1e9))] -= 1
    from ._ortools import assign_capacitated

    tech_part = assign_capacitated(_distances(txy, cent), quota)
    # as many visits per technician in every territory: no territory gets more work than its
    # technicians can do while a neighbour's technicians idle
    labels = assign_capacitated(_distances(vxy, cent), np.ceil(quota * len(visits) / len(techs)).astype(int))
    return _cut(problem, labels, tech_part, k, lambda i: np.argsort(((cent - vxy[i]) ** 2).sum(-1)))


def _cut(problem: Problem, labels: np.ndarray, tech_part: np.ndarray, k: int,
         nearest: Callable[[int], Sequence[int]]) -> list[Problem]:
    """``problem`` in ``k`` parts: technician ``i`` in part ``tech_part[i]``, visit ``i`` in part
    ``labels[i]``, except that a pinned visit or one in a frozen prefix goes with its technician,
    a visit whose skills its part lacks goes to the first part of ``nearest(i)`` (parts, nearest
    first) that has them, and a merchant's visits stay together. Parts without technicians are left out."""
    visits, techs = problem.visits, problem.technicians
    labels = np.array(labels)
    tid_part = {t.id: int(tech_part[i]) for i, t in enumerate(techs)}
    skills = [frozenset().union(*(t.skills for i, t in enumerate(techs) if tech_part[i] == j)) for j in range(k)]
    locked: set[int] = set()
    for vid_i, v in enumerate(visits):
        prefixed = next((t.id for t in techs if v.id in t.frozen_prefix), None)
        if prefixed is not None or v.pinned_to is not None:
            labels[vid_i] = tid_part[prefixed if prefixed is not None else v.pinned_to]
            locked.add(vid_i)
        elif not v.skills <= skills[labels[vid_i]]:
            ok = [j for j in nearest(vid_i) if v.skills <= skills[j]]
            if ok:
                labels[vid_i] = ok[0]
    # merchant groups stay together, in the part of their pinned or frozen visit if they have one
    first: dict = {visits[i].merchant: labels[i] for i in sorted(locked, reverse=True)
                   if visits[i].merchant is not None}
    for vid_i, v in enumerate(visits):
        if v.merchant is not None and vid_i not in locked:
            labels[vid_i] = first.setdefault(v.merchant, labels[vid_i])
    parts = []
    for j in range(k):
        pv = tuple(v for i, v in enumerate(visits) if labels[i] == j)
        pt = tuple(t for i, t in enumerate(techs) if tech_part[i] == j)
        if pt:
            parts.append(replace(problem, technicians=pt, visits=pv, name=f"{problem.name}#{j}"))
    return parts


#: technicians' homes farther apart than this (straight-line metres, or travel seconds when only a
#: matrix is given), with no home between them, are in different towns
TOWN_GAP = {"metres": 30_000.0, "seconds": 1_800.0}


def towns(problem: Problem, pos: Positions | None = None) -> list[Problem]:
    """A day over several towns, cut town by town: technicians whose homes lie within
    :data:`TOWN_GAP` of one another (through other homes) form a town, and each visit goes to the
    town of the home nearest it (see :func:`_cut` for pins, skills and merchants). One part when the
    homes are all in one town. One model over towns 70 km apart searches routes between them that
    no good plan has (see the README's national benchmark for what cutting saves)."""
    techs = problem.technicians
    pos = pos if pos is not None or len(techs) < 2 else positions(problem)
    if len(techs) < 2 or pos is None or not problem.visits:
        return [problem]
    home = pos.technicians
    near = np.sqrt(((home[:, None] - home[None]) ** 2).sum(-1)) <= TOWN_GAP[pos.unit]
    town = np.full(len(techs), -1)
    k = 0
    for i in range(len(techs)):  # connected components of "homes within the gap"
        if town[i] >= 0:
            continue
        town[i], todo = k, [i]
        while todo:
            j = todo.pop()
            for n in np.flatnonzero(near[j] & (town < 0)):
                town[n] = k
                todo.append(int(n))
        k += 1
    if k == 1:
        return [problem]
    to_home = np.sqrt(((pos.visits[:, None] - home[None]) ** 2).sum(-1))
    to_town = np.stack([to_home[:, town == j].min(1) for j in range(k)], axis=1)
    return _cut(problem, np.argmin(to_town, 1), town, k, lambda i: np.argsort(to_town[i]))


#: territories this many times bigger when the whole fleet leaves from one depot: every route
#: then starts at the same place, a territory of 50 visits holds only a handful of routes and
#: the routes through its border are many (measured on the 400-customer Gehring & Homberger
#: instances, 60 s: R1_4_2 8.4 → 5.5 %, R2_4_2 7.8 → 6.9 %, C1_4_2 0.8 → 0.3 % above the best known)
SINGLE_DEPOT_FACTOR = 2


def single_depot(problem: Problem) -> bool:
    """Whether every technician starts and ends at one place (a depot's fleet)."""
    places = set()
    for t in problem.technicians:
        for i, p in ((t.start_index, t.start), (t.end_index, t.end)):
            places.add(i if i is not None else p)
    return len(places - {None}) == 1 and len(problem.technicians) > 1


#: seconds of search a regrouped model needs at least, and the margin for building it
MIN_SOLVE, BUILD_MARGIN = 0.5, 0.4
#: share of the time limit for the regrouping rounds, and their number at most: the territories'
#: first plan only needs to be a sound start; the rounds, each re-solving groups of neighbouring
#: routes from scratch, do most of the work (tuned on the 400-customer Gehring & Homberger
#: instances R1_4_2 and RC1_4_2 at 60 s, single runs: with groups solved from scratch, 0.6 and 8
#: rounds 3.1 % and 4.3 % above the best known, 0.8 and 16 rounds 2.5 % and 3.4 %)
IMPROVE_SHARE, ROUNDS = 0.8, 16
#: regrouping rounds in a row that gain less than ROUND_GAIN of the plan's travel and lateness
#: cost (one more visit served always counts) before the rounds stop, when the parameters ask the
#: search to stop once it stops improving (``SolveParams.stagnation``)
STALE_ROUNDS, ROUND_GAIN = 2, 0.005


def _can_fork() -> bool:
    """False inside a daemonic worker, which may not start a process pool of its own."""
    import multiprocessing

    return not multiprocessing.current_process().daemon


def shrink(problem: Problem) -> tuple[Problem, list[int] | None]:
    """``problem`` with its matrices cut down to the locations it uses, and the original index of
    each new one (None when nothing was cut). A part of a 1,000-location day then travels to a
    worker with a 60-row matrix instead of the whole one."""
    m = problem.matrices
    if m is None:
        return problem, None
    used = sorted({v.location_index for v in problem.visits} | {
        i for t in problem.technicians for i in (t.start_index, t.end_index)} - {None})
    size = len(next(iter((m.durations or m.distances).values())))
    if len(used) == size:
        return problem, None
    local = {g: i for i, g in enumerate(used)}

    def cut(table: dict) -> dict:
        return {name: tuple(tuple(rows[a][b] for b in used) for a in used) for name, rows in table.items()}

    def at(i: int | None) -> int | None:
        return None if i is None else local[i]

    techs = tuple(replace(t, start_index=at(t.start_index), end_index=at(t.end_index)) for t in problem.technicians)
    visits = tuple(replace(v, location_index=at(v.location_index)) for v in problem.visits)
    return replace(problem, technicians=techs, visits=visits,
                   matrices=replace(m, durations=cut(m.durations), distances=cut(m.distances))), used


def _widen(sol: Solution, used: list[int] | None) -> Solution:
    """A solution of a :func:`shrink`-ed problem with the original location indices."""
    if used is not None:
        for r in sol.routes:
            r.stops = [s if s.location_index is None else replace(s, location_index=used[s.location_index])
                       for s in r.stops]
    return sol


def _solve_part(args: tuple[Problem, SolveParams, list[int] | None]) -> Solution:
    from .pm import solve

    problem, params, used = args
    return _widen(solve(problem, params), used)


def solve_parts(parts: list[Problem], params: SolveParams, executor: Executor | None = None,
                workers: int | None = None) -> list[Solution]:
    """Solve parts concurrently; each part's time limit is scaled so the wall time stays ~the limit."""
    serial = executor is None and (len(parts) == 1 or not _can_fork())
    workers = 1 if serial else workers or min(len(parts), os.cpu_count() or 1)
    waves = math.ceil(len(parts) / max(1, workers))
    p = replace(params, time_limit=max(0.5, params.time_limit / waves - (0.4 if waves > 1 else 0)))
    if serial:  # inside a worker process (a day among others): one part after another
        return [_solve_part((part, p, None)) for part in parts]
    own = executor is None
    ex = executor or ProcessPoolExecutor(max_workers=workers)
    try:
        return list(ex.map(_solve_part, [(small, p, used) for small, used in map(shrink, parts)]))
    finally:
        if own:
            ex.shutdown()


def merge(problem: Problem, sols: list[Solution]) -> Solution:
    """One Solution from part solutions, routes in the problem's technician order."""
    routes = {r.technician_id: r for s in sols for r in s.routes}
    cost = Cost(*(sum(getattr(s.cost, f) for s in sols) for f in ("travel", "lateness", "drops", "fixed")))
    status = "ok" if all(s.status == "ok" for s in sols) else next(s.status for s in sols if s.status != "ok")
    stats = {"parts": len(sols), "part_visits": [s.statistics.get("visits") for s in sols],
             "solver_seconds": round(max((s.statistics.get("solver_seconds", 0) for s in sols), default=0), 3)}
    return Solution([routes[t.id] for t in problem.technicians if t.id in routes],
                    [u for s in sols for u in s.unassigned], cost, status, stats)


def solve_partitioned(problem: Problem, params: SolveParams | None = None, executor: Executor | None = None,
                      max_visits: int = 50, workers: int | None = None, improve_share: float = IMPROVE_SHARE,
                      rounds: int = ROUNDS, group_size: int = 5) -> Solution:
    """Split ``problem`` into territories, solve them in parallel, merge the solutions, then
    spend ``improve_share`` of the time limit on :func:`improve` rounds over regrouped routes.
    A depot's fleet (:func:`single_depot`) gets territories :data:`SINGLE_DEPOT_FACTOR` times
    ``max_visits``."""
    params = params or SolveParams()
    t0 = time.perf_counter()
    pos = positions(problem)
    if single_depot(problem):
        max_visits *= SINGLE_DEPOT_FACTOR
    parts = split(problem, max_visits, pos=pos)
    if len(parts) <= 1:
        return merge(problem, solve_parts(parts, params, executor, workers))
    first = replace(params, time_limit=params.time_limit * (1 - improve_share))
    sol = merge(problem, solve_parts(parts, first, executor, workers))
    _recost(sol, problem, params)
    if os.environ.get("FIELDSVC_DEBUG"):
        print(f"parts: served {len(sol.served)} cost {sol.cost.total} at {time.perf_counter() - t0:.1f}", flush=True)
    left = params.time_limit - (time.perf_counter() - t0)
    if rounds > 0 and left >= 1:
        sol = improve(problem, sol, replace(params, time_limit=left), rounds, group_size, executor, workers,
                      pos=pos)
    sol.statistics.setdefault("improve_rounds", 0)
    sol.statistics.update({"parts": len(parts), "wall_seconds": round(time.perf_counter() - t0, 3)})
    return sol


def _route_xy(problem: Problem, sol: Solution, pos: Positions) -> dict:
    """Technician id → the barycentre of its route's visits (its home when the route is empty).

    The home is left out of a route that has visits: in a single-depot fleet every home is the
    depot, and the routes, not the homes, make the neighbourhoods."""
    at = {v.id: pos.visits[i] for i, v in enumerate(problem.visits)}
    out = {}
    for i, t in enumerate(problem.technicians):
        r = sol.route_of(t.id)
        rows = [at[v] for v in (r.visit_ids if r else [])]
        out[t.id] = np.mean(rows, axis=0) if rows else pos.technicians[i]
    return out


def _sub_cost(problem: Problem, sol: Solution, tech_ids: set, visit_ids: set, params: SolveParams) -> int:
    """Objective of ``sol`` restricted to some technicians' routes and some visits."""
    from .pm import visit_drop_cost

    by_id = {v.id: v for v in problem.visits}
    cost = 0
    for r in sol.routes:
        if r.technician_id in tech_ids:
            cost += r.travel_seconds + sum(s.late_seconds for s in r.stops) * params.em_late_per_second
    served = set(sol.served)
    cost += sum(visit_drop_cost(by_id[v], params) for v in visit_ids if v not in served)
    return cost


def improve(problem: Problem, sol: Solution, params: SolveParams, rounds: int, group_size: int = 5,
            executor: Executor | None = None, workers: int | None = None, seed: int = 1,
            pos: Positions | None = None) -> Solution:
    """Re-optimise groups of neighbouring routes (plus nearby unassigned visits) with new
    groupings each round (see :func:`_solve_group`); a group's result is kept only if it lowers
    that group's cost.  ``params.time_limit`` is the wall-time budget of all rounds; with
    ``params.stagnation`` the rounds also stop after :data:`STALE_ROUNDS` rounds in a row that
    gained little (:data:`ROUND_GAIN`)."""
    deadline = time.perf_counter() + params.time_limit
    techs = problem.technicians
    pos = pos if pos is not None else positions(problem)
    if math.ceil(len(techs) / group_size) <= 1 or rounds <= 0 or pos is None:
        return sol
    # groups are made of the routes that have visits; technicians without any join the nearest
    # groups, at most SPARE_PER_GROUP each (a 100-vehicle fleet with 40 routes is 8 groups of 5
    # routes and 2 spare vehicles, not 20 groups of which 12 are empty)
    busy, idle = _busy_idle(techs, sol)
    k = max(1, math.ceil(len(busy) / group_size))
    home = {t.id: pos.technicians[i] for i, t in enumerate(techs)}
    by_id = {v.id: v for v in problem.visits}
    at = {v.id: pos.visits[i] for i, v in enumerate(problem.visits)}
    own = executor is None
    workers = workers or min(k, os.cpu_count() or 1)
    if executor is None and not _can_fork():
        from concurrent.futures import ThreadPoolExecutor

        workers, executor = 1, ThreadPoolExecutor(max_workers=1)
    # many short rounds beat few long ones (new groupings open new moves), down to about
    # MIN_SOLVE seconds of search per group model
    waves = math.ceil(k / max(1, workers))
    rounds = max(1, min(rounds, int(params.time_limit / (waves * (MIN_SOLVE + BUILD_MARGIN)))))
    ex = executor or ProcessPoolExecutor(max_workers=workers)
    done = stale = 0
    try:
        for rnd in range(rounds):
            if rnd:
                busy, idle = _busy_idle(techs, sol)
                k = max(1, math.ceil(len(busy) / group_size))
            cent = _route_xy(problem, sol, pos)
            txy = np.array([cent[t.id] for t in busy])
            labels, gcent = kmeans(txy, k, seed + rnd)
            groups = [[t for i, t in enumerate(busy) if labels[i] == j] for j in range(k)]
            _add_spares(groups, gcent, idle, home)
            gskills = [frozenset().union(*(t.skills for t in g)) for g in groups]
            extra: list[list] = [[] for _ in range(k)]
            group_of = {t.id: j for j, g in enumerate(groups) for t in g}
            for u in sol.unassigned:
                v = by_id[u.visit_id]
                if not any(v.skills <= t.skills for t in techs):
                    continue
                if v.pinned_to is not None:  # a pinned visit may only join its technician's group
                    if v.pinned_to in group_of:
                        extra[group_of[v.pinned_to]].append(v)
                    continue
                order = np.argsort(((gcent - at[v.id]) ** 2).sum(-1))
                j = next((int(j) for j in order if v.skills <= gskills[j] and groups[j]), None)
                if j is not None:
                    extra[j].append(v)
            jobs = []
            for j, g in enumerate(groups):
                if not g:
                    continue
                ids = {t.id for t in g}
                routes = Solution([r for r in sol.routes if r.technician_id in ids], [])
                vids = routes.served
                visits = tuple(by_id[v] for v in vids) + tuple(extra[j])
                sub = replace(problem, technicians=tuple(g), visits=visits, name=f"{problem.name}@{rnd}.{j}")
                jobs.append((sub, routes))
            waves = math.ceil(len(jobs) / max(1, workers))
            per_wave = (deadline - time.perf_counter()) / (rounds - rnd) / waves - BUILD_MARGIN
            if per_wave < MIN_SOLVE:
                break
            p = replace(params, time_limit=per_wave)
            try:
                results = list(ex.map(_solve_group, [(*shrink(sub), p, routes) for sub, routes in jobs]))
            except BrokenProcessPool:  # a solver process died (OR-Tools aborts on a failed CHECK)
                if not own:
                    raise
                ex.shutdown(cancel_futures=True)
                ex = ProcessPoolExecutor(max_workers=workers)
                sol.statistics["lost_rounds"] = sol.statistics.get("lost_rounds", 0) + 1
                continue  # the plan so far stands; the next round regroups
            before = sol.cost
            sol = _splice(problem, sol, jobs, results, params)
            done += 1
            gain = before.total - sol.cost.total
            stale = stale + 1 if gain < ROUND_GAIN * max(1, before.travel + before.lateness) else 0
            if params.stagnation is not None and stale >= STALE_ROUNDS:
                sol.statistics["stopped"] = "stagnation"
                break
            if os.environ.get("FIELDSVC_DEBUG"):
                print(f"round {rnd}: served {len(sol.served)} cost {sol.cost.total} left {deadline - time.perf_counter():.1f} warm "
                      f"{[r.statistics.get('warm_start') for r in results]}", flush=True)
    finally:
        if own:
            ex.shutdown()
    sol.statistics["improve_rounds"] = done
    return sol


def _busy_idle(techs: tuple, sol: Solution) -> tuple[list, list]:
    """The technicians with visits in ``sol`` (all when none has any) and the others."""
    in_use = {r.technician_id for r in sol.routes if r.visit_ids}
    busy = [t for t in techs if t.id in in_use] or list(techs)
    ids = {t.id for t in busy}
    return busy, [t for t in techs if t.id not in ids]


#: technicians without visits that join each regrouped model
SPARE_PER_GROUP = 2


def _add_spares(groups: list[list], centres: np.ndarray, idle: list, home: dict) -> None:
    """Give each group up to :data:`SPARE_PER_GROUP` of the idle technicians nearest its centre
    (in turns, group by group, so that no group takes them all)."""
    free = list(idle)
    for _ in range(SPARE_PER_GROUP):
        for j, g in enumerate(groups):
            if not free or not g:
                continue
            near = min(range(len(free)), key=lambda i: float(((home[free[i].id] - centres[j]) ** 2).sum()))
            g.append(free.pop(near))


def _solve_group(args: tuple) -> Solution:
    """Solve one regrouped group: from scratch with the iterated local search (the 9.15 wheel's
    ILS cannot start from given routes, and a guided local search from them moves little: on
    Solomon R107, 10 s, it lowered a 1,137.8 plan to 1,130.8 where ILS from scratch found
    1,073.2), warm-started from the group's routes with any other metaheuristic."""
    from .params import Metaheuristic
    from .pm import solve

    problem, used, params, routes = args
    start = None if params.metaheuristic == Metaheuristic.ITERATED_LOCAL_SEARCH else routes
    try:
        return _widen(solve(problem, params, start), used)
    except RuntimeError as e:  # OR-Tools refused this group's model: the group keeps its routes
        return Solution([], [], status="rejected", statistics={"error": str(e)})


def _splice(problem: Problem, sol: Solution, jobs: list, results: list, params: SolveParams) -> Solution:
    routes = {r.technician_id: r for r in sol.routes}
    unassigned = {u.visit_id: u for u in sol.unassigned}
    for (sub, _), new in zip(jobs, results):
        tids = {t.id for t in sub.technicians}
        vids = {v.id for v in sub.visits}
        if new.status != "ok" or _sub_cost(sub, new, tids, vids, params) >= _sub_cost(problem, sol, tids, vids, params):
            continue
        for r in new.routes:
            routes[r.technician_id] = r
        for v in vids:
            unassigned.pop(v, None)
        for u in new.unassigned:
            unassigned[u.visit_id] = u
    out = Solution([routes[t.id] for t in problem.technicians if t.id in routes], list(unassigned.values()),
                   sol.cost, sol.status, dict(sol.statistics))
    _recost(out, problem, params)
    return out


def _recost(sol: Solution, problem: Problem, params: SolveParams) -> None:
    from .pm import visit_drop_cost

    by_id = {v.id: v for v in problem.visits}
    sol.cost = Cost(travel=sol.travel_seconds,
                    lateness=sum(s.late_seconds for r in sol.routes for s in r.stops) * params.em_late_per_second,
                    drops=sum(visit_drop_cost(by_id[u.visit_id], params) for u in sol.unassigned))
