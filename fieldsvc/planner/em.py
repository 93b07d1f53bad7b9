"""EM slotting: time and rank every feasible insertion of one new visit into live routes.

The one engine for EM calls: the desk (``fieldsvc.visits.desk.slotting``) only maps database rows
to :class:`LiveRoute` / :class:`LiveStop` and maps the chosen :class:`SlotOption` back.

* **Timing** (:func:`retime`): forward from the technician's place and time, waiting for opening
  windows; the break is taken as late as possible (before the first stop that would end after the
  break's latest start), so calls come before lunch; a stop past all its windows or the shift end
  no longer fits (``None``).
* **Options** (:func:`evaluate`, :func:`slot_options`): every technician with the skills, every
  position after the frozen prefix, fully re-timed. An option is refused when the new visit does
  not fit, when it would push a stop that may not move (an EM call, an installation) out of the
  day, when another EM stop that met its deadline would miss it, or above ``max_visits``.
* **Ranking** (:func:`rank_key`): SLA met first, then least lateness, least added travel, fewest
  displaced visits, earliest start; then the best option of each technician comes first.

Routes of several days (or on-call technicians outside their shift) are ranked together when
their times count from one origin: ``LiveRoute.day`` is carried to the options.  Travel is the
default model of :func:`fieldsvc.planner.matrix.travel_seconds`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Callable

from .matrix import travel_seconds
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
class Timed:
    """A re-timed route: per stop its timing or None (no longer fits); totals; the break start."""

    times: tuple[Timing | None, ...]
    travel: int
    end: int
    break_at: int | None


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


Leg = Callable[[Point, Point], int]


def _fit(arr: int, windows: tuple[TimeWindow, ...]) -> int | None:
    """Service start for an arrival (waiting for the next window), or None if past all."""
    if not windows:
        return arr
    for w in windows:
        if arr <= w.end:
            return max(arr, w.start)
    return None


def _leg_fn(route: LiveRoute, params: SolveParams) -> Leg:
    """Travel seconds by the route's profile, memoised for one ranking."""
    cache: dict[tuple[Point, Point], int] = {}

    def leg(a: Point, b: Point) -> int:
        key = (a, b)
        v = cache.get(key)
        if v is None:
            v = cache[key] = travel_seconds(a, b, route.profile, params)
        return v
    return leg


def retime(route: LiveRoute, stops: tuple[LiveStop, ...] | list[LiveStop], params: SolveParams | None = None,
           leg: Leg | None = None) -> Timed:
    """Forward timing of ``stops`` (in this order) from the route's place and time, with the break
    and windows; stops that no longer fit (past all windows or the shift end) are None."""
    params = params or SolveParams()
    leg = leg or _leg_fn(route, params)
    t, here, travel = route.time, route.position, 0
    brk = route.break_
    break_at: int | None = None
    out: list[Timing | None] = []
    for s in stops:
        lg = leg(here, s.location)
        if brk is not None and break_at is None:
            start_guess = _fit(t + lg, s.time_windows)
            if start_guess is not None and start_guess + s.service > brk.window.end - brk.duration:
                break_at = max(t, brk.window.start)
                t = break_at + brk.duration
        arr = t + lg
        st = _fit(arr, s.time_windows)
        if st is None or st + s.service > route.shift_end:
            out.append(None)
            continue
        out.append(Timing(arr, st, st + s.service, lg))
        t, here, travel = st + s.service, s.location, travel + lg
    back = leg(here, route.end or route.position)
    return Timed(tuple(out), travel + back, t + back, break_at)


def as_stop(visit: Visit) -> LiveStop:
    """The new visit as a stop (never movable: it is the call being placed)."""
    if visit.location is None:
        raise ValueError(f"visit {visit.id!r}: a location is required for slotting")
    return LiveStop(visit.id, visit.location, visit.service, visit.time_windows, visit.sla_deadline, movable=False)


def evaluate(route: LiveRoute, visit: Visit, position: int, params: SolveParams | None = None,
             base: Timed | None = None, allow_displacement: bool = True, leg: Leg | None = None
             ) -> tuple[SlotOption, Timed] | None:
    """The option of inserting ``visit`` at ``position`` (an index into the stops, not inside the
    frozen prefix) of ``route`` and the re-timed route, or None when it is refused."""
    params = params or SolveParams()
    leg = leg or _leg_fn(route, params)
    stops = route.stops
    k = position
    if not route.frozen <= k <= len(stops):
        return None
    base = base or retime(route, stops, params, leg)
    new = as_stop(visit)
    order = stops[:k] + (new,) + stops[k:]
    timed = retime(route, order, params, leg)
    mine = timed.times[k]
    if mine is None:
        return None
    was_out = {s.visit_id for s, tm in zip(stops, base.times) if tm is None}
    displaced: list[Id] = []
    for s, tm in zip(order, timed.times):
        if s is new or tm is not None or s.visit_id in was_out:
            continue
        if not s.movable or not allow_displacement:
            return None
        displaced.append(s.visit_id)
    if route.max_visits is not None and len(order) - len(displaced) - len(was_out) > route.max_visits:
        return None
    before = {s.visit_id: tm for s, tm in zip(stops, base.times)}
    for s, tm in zip(order, timed.times):  # another EM stop that met its deadline must still meet it
        if s is new or tm is None or s.sla_deadline is None:
            continue
        old = before.get(s.visit_id)
        if old is not None and old.start <= s.sla_deadline < tm.start:
            return None
    late = max(0, mine.start - visit.sla_deadline) if visit.sla_deadline is not None else 0
    option = SlotOption(route.technician_id, position, mine.start, mine.arrival, max(0, timed.travel - base.travel),
                        late == 0, tuple(displaced), late, route.day, route.on_call)
    return option, timed


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
        leg = _leg_fn(r, params)
        base = retime(r, r.stops, params, leg)
        for p in range(r.frozen, len(r.stops) + 1):
            found = evaluate(r, visit, p, params, base, allow_displacement, leg)
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
