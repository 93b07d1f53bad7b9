"""EM slotting: rank every feasible insertion of one new visit into a live day.

Exhaustive cheapest-feasible-insertion over all technicians and positions after each frozen
prefix, with forward time propagation (waiting for windows, stops pushed out of all their
windows are reported as ``displaced_visits``).  Pure numpy/python, no solver: a few ms for
40 technicians / 600 stops.  Breaks are not modelled here; accept an option, then re-plan
with :func:`fieldsvc.planner.day.replan_day` if the day needs reshuffling.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from .matrix import haversine_pairs, travel_seconds
from .params import SolveParams
from .problem import Id, Point, TimeWindow, Visit


@dataclass(frozen=True)
class LiveStop:
    """A planned, not yet finished stop of a live route."""

    visit_id: Id
    location: Point
    service: int
    time_windows: tuple[TimeWindow, ...] = ()
    sla_deadline: int | None = None


@dataclass(frozen=True)
class LiveRoute:
    """A technician's remainder of the day.

    The technician is free at ``position`` from ``time`` (if a visit is under way, pass its
    expected finish and place).  The first ``frozen`` stops are fixed (dispatched / committed):
    options insert after them.  ``max_visits`` counts the remaining stops allowed.
    """

    technician_id: Id
    position: Point
    time: int
    stops: tuple[LiveStop, ...] = ()
    frozen: int = 0
    end: Point | None = None
    shift_end: int = 24 * 3600
    skills: frozenset[str] = frozenset()
    profile: str = "car"
    max_visits: int | None = None


@dataclass(frozen=True)
class SlotOption:
    """One way to serve the new visit: insert at ``position`` (0 = next) of ``technician_id``."""

    technician_id: Id
    position: int
    eta: int  # service start
    arrival: int
    added_travel_seconds: int
    sla_met: bool
    displaced_visits: tuple[Id, ...] = ()
    late_seconds: int = 0

    def as_dict(self) -> dict:
        d = asdict(self)
        d["displaced_visits"] = list(self.displaced_visits)
        return d


def _fit(arr: float, windows: tuple[TimeWindow, ...]) -> float | None:
    """Service start for an arrival (waiting for the next window), or None if past all."""
    if not windows:
        return arr
    for w in windows:
        if arr <= w.end:
            return max(arr, w.start)
    return None


class _Travel:
    """Haversine × detour ÷ speed, vectorised for the base arcs and scalar for the odd pair."""

    def __init__(self, params: SolveParams) -> None:
        self.params = params
        self.k = params.detour_factor
        self.speeds = params.speeds_mps

    def metres(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Element-wise road metres between radian (lat, lon) rows of a and b."""
        return haversine_pairs(a[:, 0], a[:, 1], b[:, 0], b[:, 1]) * self.k

    def seconds_pair(self, a: Point, b: Point, profile: str) -> int:
        return travel_seconds(a, b, profile, self.params)


def slot_options(routes: list[LiveRoute], visit: Visit, params: SolveParams | None = None,
                 limit: int | None = 10, allow_displacement: bool = True) -> list[SlotOption]:
    """Ranked insertion options for ``visit`` (best first).

    Ranking: SLA met first, then fewest displaced visits, least lateness, least added travel,
    earliest ETA.  Technicians lacking ``visit.skills`` (or not ``visit.pinned_to``) are skipped,
    as are insertions that break the shift end or ``max_visits``.
    """
    params = params or SolveParams()
    if visit.location is None:
        raise ValueError(f"visit {visit.id!r}: a location is required for slotting")
    tr = _Travel(params)
    new = (math.radians(visit.location.lat), math.radians(visit.location.lon))
    cand = [r for r in routes if visit.skills <= r.skills and (visit.pinned_to is None or visit.pinned_to == r.technician_id)]
    for r in cand:
        if r.profile not in params.speeds_mps:
            raise ValueError(f"technician {r.technician_id!r}: unknown profile {r.profile!r}")
    if not cand:
        return []
    # one vectorised pass: every node of every candidate route (position, stops, end)
    nodes, owner = [], []
    for r in cand:
        pts = [r.position, *[s.location for s in r.stops], r.end or r.position]
        nodes.extend((p.lat, p.lon) for p in pts)
        owner.append(len(pts))
    rad = np.radians(np.array(nodes, dtype=float))
    to_new = tr.metres(rad, np.repeat(np.array([new]), len(rad), axis=0))
    arcs = tr.metres(rad[:-1], rad[1:])
    out: list[SlotOption] = []
    off = 0
    for r, n_pts in zip(cand, owner):
        speed = params.speeds_mps[r.profile]
        d_new = np.rint(to_new[off:off + n_pts] / speed).astype(np.int64).tolist()
        d_arc = np.rint(arcs[off:off + n_pts - 1] / speed).astype(np.int64).tolist()
        coords = [r.position, *[s.location for s in r.stops], r.end or r.position]
        off += n_pts
        out.extend(_route_options(r, visit, d_new, d_arc, coords, tr, allow_displacement))
    out.sort(key=lambda o: (not o.sla_met, len(o.displaced_visits), o.late_seconds, o.added_travel_seconds, o.eta))
    return out[:limit] if limit else out


def _route_options(r: LiveRoute, visit: Visit, d_new: list[int], d_arc: list[int], coords: list,
                   tr: _Travel, allow_displacement: bool) -> list[SlotOption]:
    """Options for one route.  Nodes: 0 = current position, k = stop k-1, n+1 = end."""
    stops = r.stops
    n = len(stops)
    dep = [float(r.time)]  # departure from node k in the current plan
    for k, s in enumerate(stops):
        arr = dep[-1] + d_arc[k]
        st = _fit(arr, s.time_windows)
        dep.append((st if st is not None else arr) + s.service)
    suffix = [0] * (n + 2)  # travel from node k to the end in the current plan
    for k in range(n, -1, -1):
        suffix[k] = suffix[k + 1] + d_arc[k]

    def leg(a: int, b: int) -> int:
        if a < 0:
            return d_new[b]
        if b == a + 1:
            return d_arc[a]
        return tr.seconds_pair(coords[a], coords[b], r.profile)

    res = []
    for p in range(r.frozen, n + 1):
        arr = dep[p] + d_new[p]
        start = _fit(arr, visit.time_windows)
        if start is None:
            break  # later positions only arrive later
        t = start + visit.service
        acc, prev = d_new[p], -1
        displaced: list[Id] = []
        ok, t_end = True, None
        for node in range(p + 1, n + 1):
            s = stops[node - 1]
            lg = leg(prev, node)
            st = _fit(t + lg, s.time_windows)
            if st is None:
                if not allow_displacement:
                    ok = False
                    break
                displaced.append(s.visit_id)
                continue
            acc += lg
            t = st + s.service
            if prev == node - 1 and t <= dep[node]:  # back on the old schedule
                acc += suffix[node]
                t_end = dep[n] + d_arc[n]
                break
            prev = node
        if not ok:
            continue
        if t_end is None:
            lg = leg(prev, n + 1)
            acc += lg
            t_end = t + lg
        if t_end > max(r.shift_end, dep[n] + d_arc[n]):  # never worse than the plan already is
            continue
        if r.max_visits is not None and n + 1 - len(displaced) > r.max_visits:
            continue
        late = max(0, int(start) - visit.sla_deadline) if visit.sla_deadline is not None else 0
        res.append(SlotOption(r.technician_id, p, int(start), int(arr), int(acc - suffix[p]), late == 0,
                              tuple(displaced), late))
    return res
