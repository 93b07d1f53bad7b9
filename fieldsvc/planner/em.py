"""EM slotting: time and rank every feasible insertion of one new visit into live routes.

The one engine for EM calls: the desk (``fieldsvc.visits.desk.slotting``) only maps database rows
to :class:`LiveRoute` / :class:`LiveStop` and maps the chosen :class:`SlotOption` back.

* **Timing** (:func:`retime`): forward from the technician's place and time, waiting for opening
  windows; the break is taken as late as possible (before the first stop that would end after the
  break's latest start), so calls come before lunch; a stop past all its windows or the shift end
  no longer fits (``None``).
* **Options** (:func:`evaluate`, :func:`slot_options`): every technician with the skills, every
  position after the frozen prefix, re-timed (the old schedule is reused from the first later
  stop that leaves in the same state: a few tens of ms for 40 technicians / 600 stops). An option is refused when the new visit does
  not fit, when it would push a stop that may not move (an EM call, an installation) out of the
  day, when another EM stop that met its deadline would miss it, or above ``max_visits``.
* **Ranking** (:func:`rank_key`): SLA met first, then least lateness, least added travel, fewest
  displaced visits, earliest start; then the best option of each technician comes first.

Routes of several days (or on-call technicians outside their shift) are ranked together when
their times count from one origin (:func:`shifted`): ``LiveRoute.day`` is carried to the
options.  Travel is the default model of :mod:`fieldsvc.planner.matrix` (haversine × detour ÷
the profile's speed, one numpy matrix per route).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Callable, Hashable, Sequence

import numpy as np

from .matrix import haversine_matrix, travel_seconds
from .params import SolveParams
from .problem import Break, Id, Point, TimeWindow, Visit


@dataclass(frozen=True)
class LiveStop:
    """A planned, not yet started stop of a live route.

    ``movable``: may be pushed out of the day by a new call (a PM visit); an option that would
    push out a stop that is not movable is refused."""

    visit_id: Id
    location: Point
    service: int
    time_windows: tuple[TimeWindow, ...] = ()
    sla_deadline: int | None = None
    movable: bool = True


@dataclass(frozen=True)
class LiveRoute:
    """A technician's remainder of the day.

    The technician is free at ``position`` from ``time`` (if a visit is under way, pass its
    expected finish and place).  The first ``frozen`` stops are fixed (dispatched / committed):
    options insert after them.  ``max_visits`` counts the remaining stops allowed.  ``break_``
    is the break still to take (None: taken or none).  ``day`` (0 = today) and ``on_call`` only
    label the options.
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
    break_: Break | None = None
    day: int = 0
    on_call: bool = False


@dataclass(frozen=True)
class Timing:
    """Times of one stop in a re-timed route."""

    arrival: int
    start: int
    end: int
    travel: int


@dataclass(frozen=True)
class _State:
    """Where the technician is before a stop: free at ``t`` at ``here``, travel so far, break."""

    t: int
    here: Point
    travel: int
    break_at: int | None


@dataclass(frozen=True)
class Timed:
    """A re-timed route: per stop its timing or None (no longer fits); totals; the break start."""

    times: tuple[Timing | None, ...]
    travel: int
    end: int
    break_at: int | None
    #: the state before each stop and after the last (lets an insertion rejoin this schedule)
    states: tuple[_State, ...] = field(default=(), repr=False, compare=False)


@dataclass(frozen=True)
class SlotOption:
    """One way to serve the new visit: insert at ``position`` (index among the route's stops) of
    ``technician_id``'s route of ``day``; ``eta`` is the expected start of service."""

    technician_id: Id
    position: int
    eta: int
    arrival: int
    added_travel_seconds: int
    sla_met: bool
    displaced_visits: tuple[Id, ...] = ()
    late_seconds: int = 0
    day: int = 0
    on_call: bool = False

    def as_dict(self) -> dict:
        d = asdict(self)
        d["displaced_visits"] = list(self.displaced_visits)
        return d


Key = Hashable
Leg = Callable[[Key, Key], int]


def _fit(arr: int, windows: tuple[TimeWindow, ...]) -> int | None:
    """Service start for an arrival (waiting for the next window), or None if past all."""
    if not windows:
        return arr
    for w in windows:
        if arr <= w.end:
            return max(arr, w.start)
    return None


def _point_leg(route: LiveRoute, params: SolveParams) -> Leg:
    """Travel seconds between points by the route's profile, memoised."""
    cache: dict[tuple[Key, Key], int] = {}

    def leg(a: Key, b: Key) -> int:
        v = cache.get((a, b))
        if v is None:
            v = cache[(a, b)] = travel_seconds(a, b, route.profile, params)  # type: ignore[arg-type]
        return v
    return leg


def _step(route: LiveRoute, s: LiveStop, key: Key, st: _State, leg: Leg) -> tuple[Timing | None, _State]:
    """Time stop ``s`` (at place ``key``) from state ``st``: the break first if the stop would end
    after the break's latest start, then travel and the window; None when it no longer fits."""
    lg = leg(st.here, key)
    t, break_at = st.t, st.break_at
    brk = route.break_
    if brk is not None and break_at is None:
        guess = _fit(t + lg, s.time_windows)
        if guess is not None and guess + s.service > brk.window.end - brk.duration:
            break_at = max(t, brk.window.start)
            t = break_at + brk.duration
    arr = t + lg
    start = _fit(arr, s.time_windows)
    if start is None or start + s.service > route.shift_end:
        return None, _State(t, st.here, st.travel, break_at)
    return Timing(arr, start, start + s.service, lg), _State(start + s.service, key, st.travel + lg, break_at)


def _retime(route: LiveRoute, stops: Sequence[LiveStop], keys: Sequence[Key], start: Key, end: Key,
            leg: Leg) -> Timed:
    st = _State(route.time, start, 0, None)
    states, out = [st], []
    for s, key in zip(stops, keys):
        tm, st = _step(route, s, key, st, leg)
        out.append(tm)
        states.append(st)
    back = leg(st.here, end)
    return Timed(tuple(out), st.travel + back, st.t + back, st.break_at, tuple(states))


def retime(route: LiveRoute, stops: Sequence[LiveStop], params: SolveParams | None = None) -> Timed:
    """Forward timing of ``stops`` (in this order) from the route's place and time, with the break
    and windows; stops that no longer fit (past all windows or the shift end) are None."""
    leg = _point_leg(route, params or SolveParams())
    return _retime(route, stops, [s.location for s in stops], route.position, route.end or route.position, leg)


class _Insertion:
    """One route and one new visit: integer legs between its places (0 = the technician's
    position, k = stop k-1, n+1 = the end, n+2 = the new visit) and the current schedule."""

    def __init__(self, route: LiveRoute, visit: Visit, params: SolveParams) -> None:
        self.route, self.new = route, as_stop(visit)
        n = len(route.stops)
        pts = [route.position, *(s.location for s in route.stops), route.end or route.position, self.new.location]
        speed = params.speeds_mps.get(route.profile, params.speeds_mps["car"])
        secs = np.rint(haversine_matrix(pts) * params.detour_factor / speed).astype(np.int64).tolist()
        self.leg: Leg = lambda a, b: secs[a][b]  # noqa: E731 - the hot path
        self.keys, self.end, self.new_key = list(range(1, n + 1)), n + 1, n + 2
        self.base = _retime(route, route.stops, self.keys, 0, self.end, self.leg)
        self.out = sum(tm is None for tm in self.base.times)  # stops already out of the day

    def timed(self, k: int) -> Timed | None:
        """``retime`` with the new visit at index ``k``, reusing the current schedule: the prefix
        is the same, and once a later stop leaves in the same state the rest is too."""
        route, base, leg = self.route, self.base, self.leg
        tm, st = _step(route, self.new, self.new_key, base.states[k], leg)
        if tm is None:
            return None
        times = list(base.times[:k]) + [tm]
        for j in range(k, len(route.stops)):
            tm, st = _step(route, route.stops[j], j + 1, st, leg)
            times.append(tm)
            b = base.states[j + 1]
            if st.t == b.t and st.here == b.here and (st.break_at is None) == (b.break_at is None):
                times.extend(base.times[j + 1:])
                return Timed(tuple(times), st.travel + base.travel - b.travel, base.end,
                             st.break_at if st.break_at is not None else base.break_at)
        back = leg(st.here, self.end)
        return Timed(tuple(times), st.travel + back, st.t + back, st.break_at)

    def option(self, k: int, allow_displacement: bool = True) -> tuple[SlotOption, Timed] | None:
        """The option of the new visit at index ``k``, or None when it is refused."""
        route, base, new = self.route, self.base, self.new
        stops = route.stops
        if not route.frozen <= k <= len(stops):
            return None
        timed = self.timed(k)
        if timed is None:
            return None
        mine = timed.times[k]
        displaced: list[Id] = []
        for j in range(k, len(stops)):  # the prefix is unchanged
            s, old, tm = stops[j], base.times[j], timed.times[j + 1]
            if tm is None:
                if old is None:
                    continue  # out of the day already
                if not s.movable or not allow_displacement:
                    return None
                displaced.append(s.visit_id)
            elif s.sla_deadline is not None and old is not None and old.start <= s.sla_deadline < tm.start:
                return None  # another EM stop that met its deadline must still meet it
        if route.max_visits is not None and len(stops) + 1 - len(displaced) - self.out > route.max_visits:
            return None
        late = max(0, mine.start - new.sla_deadline) if new.sla_deadline is not None else 0
        option = SlotOption(route.technician_id, k, mine.start, mine.arrival, max(0, timed.travel - base.travel),
                            late == 0, tuple(displaced), late, route.day, route.on_call)
        return option, timed


def as_stop(visit: Visit) -> LiveStop:
    """The new visit as a stop (never movable: it is the call being placed)."""
    if visit.location is None:
        raise ValueError(f"visit {visit.id!r}: a location is required for slotting")
    return LiveStop(visit.id, visit.location, visit.service, visit.time_windows, visit.sla_deadline, movable=False)


def evaluate(route: LiveRoute, visit: Visit, position: int, params: SolveParams | None = None,
             allow_displacement: bool = True) -> tuple[SlotOption, Timed] | None:
    """The option of inserting ``visit`` at ``position`` (an index into the stops, not inside the
    frozen prefix) of ``route`` and the re-timed route, or None when it is refused."""
    return _Insertion(route, visit, params or SolveParams()).option(position, allow_displacement)


def rank_key(o: SlotOption) -> tuple:
    """SLA met first, then least lateness, least added travel, fewest displaced, earliest start."""
    return (not o.sla_met, o.late_seconds, o.added_travel_seconds, len(o.displaced_visits), o.eta)


def _eligible(route: LiveRoute, visit: Visit, params: SolveParams) -> bool:
    if route.profile not in params.speeds_mps:
        raise ValueError(f"technician {route.technician_id!r}: unknown profile {route.profile!r}")
    return visit.skills <= route.skills and (visit.pinned_to is None or visit.pinned_to == route.technician_id)


def slot_options(routes: list[LiveRoute], visit: Visit, params: SolveParams | None = None,
                 limit: int | None = 10, allow_displacement: bool = True) -> list[SlotOption]:
    """Ranked insertion options for ``visit`` (best first, see :func:`rank_key`); the best
    option of each technician comes before any technician's second best.  Technicians lacking
    ``visit.skills`` (or not ``visit.pinned_to``) are skipped."""
    params = params or SolveParams()
    as_stop(visit)  # the location check
    out: list[SlotOption] = []
    for r in routes:
        if not _eligible(r, visit, params):
            continue
        ins = _Insertion(r, visit, params)
        for p in range(r.frozen, len(r.stops) + 1):
            found = ins.option(p, allow_displacement)
            if found is not None:
                out.append(found[0])
    out.sort(key=rank_key)
    firsts: list[SlotOption] = []
    seen: set[Id] = set()
    for o in out:
        if o.technician_id not in seen:
            seen.add(o.technician_id)
            firsts.append(o)
    taken = {id(o) for o in firsts}
    ranked = firsts + [o for o in out if id(o) not in taken]
    return ranked[:limit] if limit else ranked


def shifted(route: LiveRoute, seconds: int, day: int) -> LiveRoute:
    """``route`` with every time moved by ``seconds`` (to rank routes of several days together)."""
    if not seconds:
        return replace(route, day=day)

    def win(ws: tuple[TimeWindow, ...]) -> tuple[TimeWindow, ...]:
        return tuple(TimeWindow(w.start + seconds, w.end + seconds) for w in ws)

    brk = route.break_
    return replace(
        route, time=route.time + seconds, shift_end=route.shift_end + seconds, day=day,
        stops=tuple(replace(s, time_windows=win(s.time_windows),
                            sla_deadline=None if s.sla_deadline is None else s.sla_deadline + seconds)
                    for s in route.stops),
        break_=None if brk is None else replace(brk, window=win((brk.window,))[0]))
