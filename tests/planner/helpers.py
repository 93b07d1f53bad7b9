"""Tiny hand-checkable instances on a line (explicit matrices: 1 unit = 1 second = 1 metre)."""
from __future__ import annotations

from fieldsvc.planner import Matrices, Problem, SolveParams, Technician, TimeWindow, Visit

FAST = SolveParams(time_limit=1)


def line_matrix(xs: list[int], asym: dict[tuple[int, int], int] | None = None) -> Matrices:
    """Locations on a line at positions ``xs``; travel = |xi - xj| (with optional overrides)."""
    m = [[abs(a - b) for b in xs] for a in xs]
    for (i, j), val in (asym or {}).items():
        m[i][j] = val
    rows = tuple(tuple(r) for r in m)
    return Matrices({"car": rows}, {"car": rows})


def tech(tid="t1", idx=0, **kw) -> Technician:
    kw.setdefault("shift", TimeWindow(0, 10_000))
    return Technician(tid, start_index=idx, end_index=idx, **kw)


def visit(vid, idx, **kw) -> Visit:
    return Visit(vid, location_index=idx, **kw)


def problem(techs, visits, xs, asym=None) -> Problem:
    return Problem(tuple(techs), tuple(visits), line_matrix(xs, asym))
