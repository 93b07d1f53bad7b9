"""Planning a whole day: territory decomposition for big days, and re-planning under way.

:func:`solve_day` is the entry point the dispatcher uses for a day's routes;
:func:`lock_day` / :func:`replan_day` re-plan a day in progress: finished visits leave the
problem, work under way becomes a frozen route prefix, each technician restarts from the
current position and time, and pinned visits stay with their technician.
"""
from __future__ import annotations

import time
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from typing import Iterable, Mapping

from .day_over import DayOver, days_over, leave_out
from .params import SolveParams
from .partition import ROUNDS, merge, solve_partitioned, solve_parts, towns
from .pm import solve
from .problem import Id, Point, Problem, TimeWindow, validate
from .solution import Solution, Unassigned


def solve_day(problem: Problem, params: SolveParams | None = None, executor: Executor | None = None,
              max_part_visits: int = 150, workers: int | None = None,
              initial: Mapping[Id, list[Id]] | Solution | None = None, part_visits: int = 50,
              rounds: int = ROUNDS) -> Solution:
    """Route a day.

    Days above ``max_part_visits`` visits are split into territories of about ``part_visits``
    visits solved in parallel on ``executor`` (processes by default); then up to ``rounds``
    rounds (fewer when the time limit is short) re-optimise groups of neighbouring routes,
    moving work across territory borders (see
    :func:`fieldsvc.planner.partition.solve_partitioned`).  ``initial``
    (technician id → visit ids, or a previous Solution; by default the technicians' given
    ``steps``) warm-starts a single model directly.  Days with shipments are one model.
    A day of technicians stationed in several towns is solved town by town (see
    :func:`fieldsvc.planner.partition.towns`). A small day (at most ``params.small_day_visits``)
    stops when it stops improving, see :func:`small_day_params`.
    """
    params = params or SolveParams()
    validate(problem)  # bad input is refused before it is cut into towns or territories
    if not initial and any(t.steps for t in problem.technicians):  # given steps: the warm start
        initial = {t.id: [sid for typ, sid in t.steps if typ != "break"] for t in problem.technicians}
    if initial or problem.shipments:
        return solve(problem, small_day_params(problem, params), initial or None)
    if len(problem.visits) <= max_part_visits:
        parts = towns(problem)
        if len(parts) == 1:
            return solve(problem, small_day_params(problem, params))
        t0 = time.perf_counter()
        sols = solve_parts(parts, small_day_params(problem, params), executor, workers)
        sol = merge(problem, sols)
        sol.statistics.update(towns=len(parts), wall_seconds=round(time.perf_counter() - t0, 3))
        if all(s.statistics.get("stopped") == "stagnation" for s in sols):
            sol.statistics["stopped"] = "stagnation"
        return sol
    return solve_partitioned(problem, params, executor, part_visits, workers, rounds=rounds)


def small_day_params(problem: Problem, params: SolveParams) -> SolveParams:
    """``params`` with the small-day stagnation rule when ``problem`` is a small day and no
    ``stagnation`` was asked for: such a day's search ends ``params.small_day_stagnation``
    seconds of search after its last better solution, ``time_limit`` staying the upper bound.
    A search bounded by ``solution_limit`` (repeatable to the visit) keeps that bound only."""
    if (params.stagnation is None and params.small_day_stagnation and params.solution_limit is None
            and len(problem.visits) <= params.small_day_visits):
        return replace(params, stagnation=params.small_day_stagnation)
    return params


@dataclass(frozen=True)
class Progress:
    """Where a technician is in a day under way.

    ``done`` visits are finished (removed from the plan); ``under_way`` visits are committed
    next stops, in order (a frozen prefix); the technician restarts from ``position`` (or
    ``position_index``) at ``time``.  ``break_taken`` drops the remaining breaks.
    """

    technician_id: Id
    time: int
    position: Point | None = None
    position_index: int | None = None
    done: tuple[Id, ...] = ()
    under_way: tuple[Id, ...] = ()
    break_taken: bool = False


@dataclass(frozen=True)
class LockedDay:
    """The rest of a day under way: the ``problem`` to solve, the technicians left out because
    their working day is over, and the visits left unassigned with them (visit id → reason)."""

    problem: Problem
    day_over: tuple[DayOver, ...] = ()
    unassigned: Mapping[Id, str] = field(default_factory=dict)


def lock_day(problem: Problem, progress: Iterable[Progress] = (), pins: Mapping[Id, Id] | None = None,
             params: SolveParams | None = None) -> Problem:
    """The remaining problem of a day under way (see :class:`Progress`); ``pins`` maps visit → technician.
    Technicians whose day is over are left out (:func:`locked_day` reports them)."""
    return locked_day(problem, progress, pins, params).problem


def locked_day(problem: Problem, progress: Iterable[Progress] = (), pins: Mapping[Id, Id] | None = None,
               params: SolveParams | None = None) -> LockedDay:
    """:func:`lock_day` with its report: who was left out (their shift is over, or the work under
    way and the way home reach its end) and which visits went unassigned with them.  ``params``
    gives the travel model for that check (the solver's defaults otherwise)."""
    prog = {p.technician_id: p for p in progress}
    tech_ids = {t.id for t in problem.technicians}
    for tid in prog:
        if tid not in tech_ids:
            raise ValueError(f"progress: unknown technician {tid!r}")
    done = {v for p in prog.values() for v in p.done}
    pins = dict(pins or {})
    techs = []
    for t in problem.technicians:
        p = prog.get(t.id)
        if p is None:
            techs.append(t)
            continue
        keep_end = t.end if t.end is not None else t.start
        keep_end_idx = t.end_index if t.end_index is not None else t.start_index
        start_changes = {"start": p.position, "start_index": None} if p.position is not None else {}
        if p.position_index is not None:
            start_changes = {"start_index": p.position_index, "start": None}
        techs.append(replace(
            t, **start_changes, end=keep_end, end_index=keep_end_idx,
            shift=TimeWindow(max(t.shift.start, p.time), t.shift.end),
            breaks=() if p.break_taken else tuple(b for b in t.breaks if b.window.end - b.duration >= p.time),
            frozen_prefix=tuple(v for v in p.under_way if v not in done),
            max_visits=None if t.max_visits is None else max(0, t.max_visits - len([v for v in p.done]))))
    visits = []
    for v in problem.visits:
        if v.id in done:
            continue
        if v.id in pins:
            if pins[v.id] not in tech_ids:
                raise ValueError(f"pins: visit {v.id!r} pinned to unknown technician {pins[v.id]!r}")
            v = replace(v, pinned_to=pins[v.id])
        visits.append(v)
    locked = replace(problem, technicians=tuple(techs), visits=tuple(visits))
    over = days_over(locked, {tid: p.time for tid, p in prog.items()}, params)
    rest, unassigned = leave_out(locked, over.values())
    return LockedDay(rest, tuple(over.values()), unassigned)


def replan_day(problem: Problem, progress: Iterable[Progress] = (), pins: Mapping[Id, Id] | None = None,
               params: SolveParams | None = None, previous: Solution | None = None,
               executor: Executor | None = None) -> Solution:
    """Re-plan the rest of a day; ``previous`` (the current plan) warm-starts the search.

    Technicians whose day is over get no route; ``statistics["day_over"]`` lists them (technician
    id, reason, shift end, earliest return home) and the visits pinned to them (or all, when no
    technician is left) come back unassigned with reason "pinned_day_over" / "day_over"."""
    report = locked_day(problem, progress, pins, params)
    locked = report.problem
    if report.day_over and not locked.technicians:
        sol = Solution([], [])
    else:
        sol = _replan_locked(locked, params, previous, executor)
    sol.unassigned = [Unassigned(v, r) for v, r in report.unassigned.items()] + list(sol.unassigned)
    sol.statistics["day_over"] = [{"technician_id": d.technician_id, "reason": d.reason,
                                   "shift_end": d.shift_end, "free_at": d.free_at} for d in report.day_over]
    return sol


def _replan_locked(locked: Problem, params: SolveParams | None, previous: Solution | None,
                   executor: Executor | None) -> Solution:
    initial = None
    if previous is not None:
        left = {v.id for v in locked.visits}
        initial = {r.technician_id: [v for v in r.visit_ids if v in left] for r in previous.routes}
        for t in locked.technicians:  # frozen prefixes first
            if t.frozen_prefix:
                rest = [v for v in initial.get(t.id, []) if v not in t.frozen_prefix]
                initial[t.id] = list(t.frozen_prefix) + rest
        for tid, ids in list(initial.items()):
            initial[tid] = [v for v in ids if not any(v in t.frozen_prefix and t.id != tid for t in locked.technicians)]
    return solve_day(locked, params, executor, initial=initial)
