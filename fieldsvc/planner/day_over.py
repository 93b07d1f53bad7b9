"""Technicians whose working day is over when a day under way is re-planned.

A technician restarts at ``Progress.time`` from their position; the work under way (the frozen
prefix) comes first and the route ends at home.  When that earliest return home is at or after
the end of the shift, no new work fits: the technician leaves the problem, with the work under
way (it stays as it is), and visits pinned to them come back unassigned.  Keeping them would
give the solver a route it cannot close — a shift that ends before it starts, or a frozen
prefix past the shift end — and one such technician would sink the whole contractor's re-plan.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np

from .matrix import travel_matrices
from .params import SolveParams
from .problem import Id, Point, Problem, Technician, Visit

#: Why a technician takes no new work.
DAY_OVER_REASONS = {
    "shift_over": "the shift has ended",
    "no_time_left": "the work under way (and the way home) reaches the end of the shift",
}


@dataclass(frozen=True)
class DayOver:
    """A technician left out of a re-plan: ``reason`` (a key of :data:`DAY_OVER_REASONS`),
    the shift end, the earliest return home (after ``under_way``, the work kept as it is)."""

    technician_id: Id
    reason: str
    shift_end: int
    free_at: int
    under_way: tuple[Id, ...] = ()


def _leg_seconds(problem: Problem, pairs: list[tuple[Technician, list[tuple[Point | None, int | None]]]],
                 params: SolveParams) -> dict[Id, int]:
    """Travel seconds along each technician's path (start, prefix visits, end), with the travel
    model of the solver: the problem's matrices, else :func:`travel_matrices` on the points."""
    out: dict[Id, int] = {}
    mats = problem.matrices
    if mats is not None and mats.durations:
        for t, path in pairs:
            src = mats.durations.get(t.profile) or next(iter(mats.durations.values()))
            d = np.asarray(src)
            out[t.id] = int(sum(d[a[1], b[1]] for a, b in zip(path, path[1:])))
        return out
    points: list[Point] = []
    index: dict[Point, int] = {}
    for _t, path in pairs:
        for pt, _idx in path:
            if pt not in index:
                index[pt] = len(points)
                points.append(pt)
    if len(points) < 2:
        return {t.id: 0 for t, _ in pairs}
    profiles = {t.profile for t, _ in pairs}
    unknown = profiles - set(params.speeds_mps)
    if unknown:
        raise ValueError(f"profile {sorted(unknown)[0]!r}: unknown vehicle profile (have {sorted(params.speeds_mps)})")
    durs, _dist = travel_matrices(points, {p: params.speeds_mps[p] for p in profiles}, params.detour_factor,
                                  params.metric)
    for t, path in pairs:
        d = durs[t.profile]
        out[t.id] = int(sum(d[index[a[0]], index[b[0]]] for a, b in zip(path, path[1:])))
    return out


def days_over(problem: Problem, times: Mapping[Id, int], params: SolveParams | None = None) -> dict[Id, DayOver]:
    """Technicians of ``problem`` (already locked: start = current position, frozen prefix set)
    whose earliest return home, from ``times[id]`` after their frozen prefix, is at or after the
    shift end.  Technicians without a time are not under way and never over."""
    params = params or SolveParams()
    visits: dict[Id, Visit] = {v.id: v for v in problem.visits}
    pairs = []
    for t in problem.technicians:
        if t.id not in times:
            continue
        start = (t.start or t.end, t.start_index if t.start_index is not None else t.end_index)
        path = [start] + [(visits[v].location, visits[v].location_index) for v in t.frozen_prefix if v in visits]
        if not (t.open_end and t.end is None and t.end_index is None):
            path.append((t.end or t.start, t.end_index if t.end_index is not None else t.start_index))
        pairs.append((t, path))
    legs = _leg_seconds(problem, pairs, params)
    out: dict[Id, DayOver] = {}
    for t, _path in pairs:
        now = times[t.id]
        free = now + legs[t.id] + sum(visits[v].service for v in t.frozen_prefix if v in visits)
        if now >= t.shift.end:
            out[t.id] = DayOver(t.id, "shift_over", t.shift.end, free, t.frozen_prefix)
        elif free >= t.shift.end:
            out[t.id] = DayOver(t.id, "no_time_left", t.shift.end, free, t.frozen_prefix)
    return out


def leave_out(problem: Problem, over: Iterable[DayOver]) -> tuple[Problem, dict[Id, str]]:
    """``problem`` without the technicians whose day is over and their work under way; returns it
    and the visits left unassigned (visit id → reason): pinned to such a technician
    ("pinned_day_over"), or every visit when no technician is left ("day_over")."""
    over = {d.technician_id: d for d in over}
    if not over:
        return problem, {}
    kept_work = {v for d in over.values() for v in d.under_way}
    techs = tuple(t for t in problem.technicians if t.id not in over)
    visits, unassigned = [], {}
    for v in problem.visits:
        if v.id in kept_work:
            continue
        if v.pinned_to in over:
            unassigned[v.id] = "pinned_day_over"
        elif not techs:
            unassigned[v.id] = "day_over"
        else:
            visits.append(v)
    return Problem(techs, tuple(visits), problem.matrices, problem.name), unassigned
