"""Absolute times: a problem in any integer time scale (e.g. Unix seconds) is solved shifted so
that its earliest time is 0, and its solution is shifted back."""
from __future__ import annotations

from dataclasses import replace

from .problem import Break, Problem, Technician, TimeWindow, Visit
from .solution import Solution


def earliest_time(problem: Problem) -> int:
    """The earliest time anywhere in ``problem`` (shift, window, break or deadline); 0 if none."""
    times = [t.shift.start for t in problem.technicians]
    times += [b.window.start for t in problem.technicians for b in t.breaks]
    for v in problem.all_visits:
        times += [w.start for w in v.time_windows]
        if v.sla_deadline is not None:
            times.append(v.sla_deadline)
    return int(min(times, default=0))


def _tw(w: TimeWindow, d: int) -> TimeWindow:
    return TimeWindow(w.start - d, w.end - d)


def _visit(v: Visit, d: int) -> Visit:
    return replace(v, time_windows=tuple(_tw(w, d) for w in v.time_windows),
                   sla_deadline=None if v.sla_deadline is None else v.sla_deadline - d)


def _tech(t: Technician, d: int) -> Technician:
    return replace(t, shift=_tw(t.shift, d), breaks=tuple(
        Break(_tw(b.window, d), b.duration, b.id, tuple(_tw(w, d) for w in b.starts)) for b in t.breaks))


def shift_problem(problem: Problem, offset: int) -> Problem:
    """``problem`` with ``offset`` subtracted from every time (durations unchanged)."""
    if not offset:
        return problem
    return replace(problem, technicians=tuple(_tech(t, offset) for t in problem.technicians),
                   visits=tuple(_visit(v, offset) for v in problem.visits),
                   shipments=tuple(replace(s, pickup=_visit(s.pickup, offset), delivery=_visit(s.delivery, offset))
                                   for s in problem.shipments))


def shift_solution(sol: Solution, offset: int) -> Solution:
    """Add ``offset`` to every time of ``sol`` (in place; returns it)."""
    if offset:
        for r in sol.routes:
            for s in r.stops:
                s.arrival += offset
                s.start += offset
                s.end += offset
    return sol
