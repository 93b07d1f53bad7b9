"""Split big days into territories solved in parallel on a ``concurrent.futures`` executor.

Territories come from k-means on visit positions; technicians are shared out to territories
in proportion to their visits, nearest home first; a visit whose skills no technician of its
territory has moves to the nearest territory that has them.  Pinned visits and frozen
prefixes stay with their technician.  Parts are pickled to worker processes by default; any
``Executor`` (threads, a Dask/Ray cluster's) can be injected.
"""
from __future__ import annotations

import math
import os
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import replace

import numpy as np

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


def _xy(p) -> tuple[float, float]:
    return (p.lon * math.cos(math.radians(p.lat)), p.lat)


def split(problem: Problem, max_visits: int = 150, seed: int = 0) -> list[Problem]:
    """Territories of at most about ``max_visits`` visits each (one part if small or no coords)."""
    visits, techs = problem.visits, problem.technicians
    k = min(len(techs), math.ceil(len(visits) / max_visits)) if visits else 1
    if k <= 1 or any(v.location is None for v in visits) or any((t.start or t.end) is None for t in techs):
        return [problem]
    vxy = np.array([_xy(v.location) for v in visits])
    labels, cent = kmeans(vxy, k, seed)
    counts = np.bincount(labels, minlength=k).astype(float)
    quota = np.maximum(1, np.floor(counts / counts.sum() * len(techs))).astype(int)
    while quota.sum() < len(techs):
        quota[np.argmax(counts / quota)] += 1
    while quota.sum() > len(techs):
        quota[np.argmax(np.where(quota > 1, quota - counts / counts.sum() * len(techs), -1e9))] -= 1
    txy = np.array([_xy(t.start or t.end) for t in techs])
    dist = ((txy[:, None, :] - cent[None]) ** 2).sum(-1)
    tech_part = -np.ones(len(techs), dtype=int)
    for flat in np.argsort(dist, axis=None):
        ti, pj = divmod(int(flat), k)
        if tech_part[ti] < 0 and quota[pj] > 0:
            tech_part[ti] = pj
            quota[pj] -= 1
    tid_part = {t.id: int(tech_part[i]) for i, t in enumerate(techs)}
    skills = [frozenset().union(*(t.skills for i, t in enumerate(techs) if tech_part[i] == j)) for j in range(k)]
    for vid_i, v in enumerate(visits):
        prefixed = next((t.id for t in techs if v.id in t.frozen_prefix), None)
        if prefixed is not None or v.pinned_to is not None:
            labels[vid_i] = tid_part[prefixed if prefixed is not None else v.pinned_to]
        elif not v.skills <= skills[labels[vid_i]]:
            order = np.argsort(((cent - vxy[vid_i]) ** 2).sum(-1))
            ok = [j for j in order if v.skills <= skills[j]]
            if ok:
                labels[vid_i] = ok[0]
    # merchant groups must stay together
    first: dict = {}
    for vid_i, v in enumerate(visits):
        if v.merchant is not None:
            labels[vid_i] = first.setdefault(v.merchant, labels[vid_i])
    parts = []
    for j in range(k):
        pv = tuple(v for i, v in enumerate(visits) if labels[i] == j)
        pt = tuple(t for i, t in enumerate(techs) if tech_part[i] == j)
        if pt:
            parts.append(replace(problem, technicians=pt, visits=pv, name=f"{problem.name}#{j}"))
    return parts


def _solve_part(args: tuple[Problem, SolveParams]) -> Solution:
    from .pm import solve

    problem, params = args
    return solve(problem, params)


def solve_parts(parts: list[Problem], params: SolveParams, executor: Executor | None = None,
                workers: int | None = None) -> list[Solution]:
    """Solve parts concurrently; each part's time limit is scaled so the wall time stays ~the limit."""
    workers = workers or min(len(parts), os.cpu_count() or 1)
    waves = math.ceil(len(parts) / max(1, workers))
    p = replace(params, time_limit=max(1.0, params.time_limit / waves))
    if len(parts) == 1 and executor is None:
        return [_solve_part((parts[0], p))]
    own = executor is None
    ex = executor or ProcessPoolExecutor(max_workers=workers)
    try:
        return list(ex.map(_solve_part, [(part, p) for part in parts]))
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
                      max_visits: int = 150, workers: int | None = None) -> Solution:
    """Split ``problem`` into territories, solve them in parallel, merge the solutions."""
    params = params or SolveParams()
    parts = split(problem, max_visits)
    return merge(problem, solve_parts(parts, params, executor, workers))
