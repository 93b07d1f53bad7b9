"""Frozen input dataclasses of the planner: a :class:`Problem` of technicians and visits.

Units: integer seconds from the start of the planning day, integer metres,
locations as :class:`Point` (lat, lon in degrees) or as indices into explicit matrices.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Hashable

Id = Hashable

VISIT_KINDS = ("pm", "em", "install", "removal", "swap", "other")


@dataclass(frozen=True)
class Point:
    """A WGS84 position (degrees)."""

    lat: float
    lon: float


@dataclass(frozen=True)
class TimeWindow:
    """Closed interval ``[start, end]`` in seconds from the day's start."""

    start: int
    end: int


@dataclass(frozen=True)
class Break:
    """A break of ``duration`` seconds that must start and end inside ``window``.

    ``starts`` (optional, VROOM's break ``time_windows``) further restricts when it may start:
    inside one of them.
    """

    window: TimeWindow
    duration: int
    id: Id = "break"
    starts: tuple[TimeWindow, ...] = ()


@dataclass(frozen=True)
class Visit:
    """One job at one place.

    ``location`` or ``location_index`` (into :class:`Matrices`) must be given.  Service starts
    inside one of ``time_windows`` (empty: any time).  ``priority`` is 0–100 (VROOM semantics:
    the objective serves the most total priority first).  PM visits are optional and their drop
    cost grows with ``overdue_days``; an EM visit's ``sla_deadline`` is a soft upper bound on the
    start of service.  ``mandatory`` visits are dropped only if no route can take them.
    ``pinned_to`` restricts the visit to one technician.  Visits sharing ``merchant`` (or within
    :attr:`SolveParams.merge_radius_m`) are merged into one stop.
    """

    id: Id
    location: Point | None = None
    location_index: int | None = None
    service: int = 0
    time_windows: tuple[TimeWindow, ...] = ()
    skills: frozenset[str] = frozenset()
    priority: int = 0
    kind: str = "pm"
    mandatory: bool = False
    overdue_days: int = 0
    sla_deadline: int | None = None
    pinned_to: Id | None = None
    merchant: Id | None = None
    demand: int = 0
    #: seconds spent before service when arriving from another location (VROOM ``setup``)
    setup: int = 0
    #: amount picked up here (VROOM job ``pickup``); ``demand`` is the amount delivered
    pickup: int = 0
    description: str | None = None


@dataclass(frozen=True)
class Shipment:
    """A pickup and its delivery, served by one technician, pickup first (VROOM ``shipments``).

    ``pickup`` and ``delivery`` are visits (their own place, service, setup and windows; their
    ``demand``, ``pickup``, ``kind`` extras are not used).  ``amount`` rides in the vehicle from the
    pickup to the delivery and counts against :attr:`Technician.capacity`.  ``skills`` and
    ``priority`` apply to both; ``pinned_to`` restricts the pair to one technician.  Field use: a
    replacement terminal taken at the contractor's warehouse before the merchant.
    """

    pickup: Visit
    delivery: Visit
    amount: int = 0
    skills: frozenset[str] = frozenset()
    priority: int = 0
    pinned_to: Id | None = None

    @property
    def visits(self) -> tuple[Visit, Visit]:
        return (self.pickup, self.delivery)


@dataclass(frozen=True)
class Technician:
    """One technician's day.

    ``start``/``end`` (or ``start_index``/``end_index``) default to each other; a route may be
    open-ended if both end fields are None and ``open_end`` is set.  ``shift`` bounds departure
    and return.  ``frozen_prefix`` lists visit ids that must be this technician's first stops
    in this order (work under way when re-planning; set ``start``/``shift.start`` to the
    technician's current position and time).
    """

    id: Id
    start: Point | None = None
    end: Point | None = None
    start_index: int | None = None
    end_index: int | None = None
    shift: TimeWindow = TimeWindow(0, 24 * 3600)
    breaks: tuple[Break, ...] = ()
    max_visits: int | None = None
    skills: frozenset[str] = frozenset()
    profile: str = "car"
    capacity: int | None = None
    frozen_prefix: tuple[Id, ...] = ()
    open_end: bool = False
    #: travel times of this technician are the matrix's divided by this (VROOM ``speed_factor``)
    speed_factor: float = 1.0
    #: limits on the route's total travel seconds / metres (VROOM ``max_travel_time``/``max_distance``)
    max_travel_time: int | None = None
    max_distance: int | None = None
    #: VROOM ``costs``: fixed cost when used, cost per hour of travel, per km travelled
    fixed_cost: int = 0
    per_hour: int = 3600
    per_km: int = 0
    #: a given plan, ``(type, id)`` pairs (job/pickup/delivery/break) in order (VROOM ``steps``):
    #: the warm start of :func:`~fieldsvc.planner.day.solve_day`, the plan :mod:`.plan_check` evaluates
    steps: tuple[tuple[str, Id], ...] = ()
    description: str | None = None


@dataclass(frozen=True)
class Matrices:
    """Explicit travel matrices per vehicle profile, indexed by ``location_index``.

    ``durations[profile][i][j]`` seconds and ``distances[profile][i][j]`` metres; asymmetric
    matrices are fine.  ``distances`` may be empty (then distance is reported as 0).
    """

    durations: dict[str, tuple[tuple[int, ...], ...]] = field(default_factory=dict)
    distances: dict[str, tuple[tuple[int, ...], ...]] = field(default_factory=dict)

    def __hash__(self) -> int:  # dict fields: identity hash is enough for a frozen holder
        return id(self)


@dataclass(frozen=True)
class Problem:
    """A day to plan: technicians, visits and optionally explicit matrices."""

    technicians: tuple[Technician, ...]
    visits: tuple[Visit, ...]
    matrices: Matrices | None = None
    name: str = "day"
    shipments: tuple[Shipment, ...] = ()

    @property
    def all_visits(self) -> tuple[Visit, ...]:
        """Jobs, then every shipment's pickup and delivery."""
        return self.visits + tuple(v for s in self.shipments for v in s.visits)


def validate(problem: Problem, known_skills: frozenset[str] | None = None) -> None:
    """Raise ``ValueError`` naming the visit or technician for bad input.

    Checks: empty fleet, duplicate ids, windows that end before they start, negative
    durations, missing locations, unknown skills (a visit skill no technician has is *not* an
    error – it becomes an unassigned reason – unless ``known_skills`` is given), pins and
    frozen prefixes naming unknown ids, matrix indices out of range.
    """
    if not problem.technicians:
        raise ValueError("empty fleet: the problem has no technicians")
    n_loc = None
    if problem.matrices is not None and problem.matrices.durations:
        sizes = {len(m) for m in problem.matrices.durations.values()}
        for prof, m in problem.matrices.durations.items():
            if any(len(row) != len(m) for row in m):
                raise ValueError(f"matrices.{prof}.durations is not square")
        n_loc = min(sizes)
    seen: set = set()
    for t in problem.technicians:
        who = f"technician {t.id!r}"
        if t.id in seen:
            raise ValueError(f"{who}: duplicate id")
        seen.add(t.id)
        if t.shift.end < t.shift.start:
            raise ValueError(f"{who}: shift ends ({t.shift.end}) before it starts ({t.shift.start})")
        if t.start is None and t.start_index is None and t.end is None and t.end_index is None:
            raise ValueError(f"{who}: needs a start or an end location")
        for b in t.breaks:
            if b.duration < 0:
                raise ValueError(f"{who}: break {b.id!r} has a negative duration")
            if b.window.end < b.window.start:
                raise ValueError(f"{who}: break {b.id!r} window ends before it starts")
        if t.max_visits is not None and t.max_visits < 0:
            raise ValueError(f"{who}: negative max_visits")
        for idx in (t.start_index, t.end_index):
            _check_index(idx, n_loc, who)
        if known_skills is not None and not t.skills <= known_skills:
            raise ValueError(f"{who}: unknown skill(s) {sorted(t.skills - known_skills)}")
    tech_ids = {t.id for t in problem.technicians}
    vseen: set = set()
    for v in problem.visits:
        who = f"visit {v.id!r}"
        if v.id in vseen:
            raise ValueError(f"{who}: duplicate id")
        vseen.add(v.id)
        if v.service < 0:
            raise ValueError(f"{who}: negative service duration {v.service}")
        if v.demand < 0:
            raise ValueError(f"{who}: negative demand")
        if not 0 <= v.priority <= 100:
            raise ValueError(f"{who}: priority {v.priority} outside 0..100")
        for w in v.time_windows:
            if w.end < w.start:
                raise ValueError(f"{who}: time window ends ({w.end}) before it starts ({w.start})")
        if v.location is None and v.location_index is None:
            raise ValueError(f"{who}: needs a location or a location_index")
        _check_index(v.location_index, n_loc, who)
        if v.location_index is not None and n_loc is None and v.location is None:
            raise ValueError(f"{who}: location_index given but the problem has no matrices")
        if v.pinned_to is not None and v.pinned_to not in tech_ids:
            raise ValueError(f"{who}: pinned to unknown technician {v.pinned_to!r}")
        if known_skills is not None and not v.skills <= known_skills:
            raise ValueError(f"{who}: unknown skill(s) {sorted(v.skills - known_skills)}")
    for t in problem.technicians:
        for vid in t.frozen_prefix:
            if vid not in vseen:
                raise ValueError(f"technician {t.id!r}: frozen_prefix names unknown visit {vid!r}")
    _validate_extras(problem, tech_ids, n_loc, known_skills)


#: the largest time or duration accepted (VROOM's unsigned 32-bit seconds)
MAX_SECONDS = 2**32 - 1


def _check_time(x: int, who: str, what: str, duration: bool = False) -> None:
    if isinstance(x, bool) or not hasattr(x, "__index__"):  # int or numpy integer
        raise ValueError(f"{who}: {what} must be an integer (got {x!r})")
    if duration and x < 0:
        raise ValueError(f"{who}: negative {what} {x}")
    if abs(int(x)) > MAX_SECONDS:
        raise ValueError(f"{who}: {what} {x} is beyond {MAX_SECONDS} (VROOM's 32-bit seconds)")


def _validate_extras(problem: Problem, tech_ids: set, n_loc: int | None,
                     known_skills: frozenset[str] | None) -> None:
    """Shipments, VROOM vehicle fields, steps, and the range of every time and duration."""
    if problem.matrices is not None:
        for kind, mats in (("durations", problem.matrices.durations), ("distances", problem.matrices.distances)):
            for prof, m in mats.items():
                lo = min((min(row) for row in m if row), default=0)
                hi = max((max(row) for row in m if row), default=0)
                if lo < 0 or hi > MAX_SECONDS:
                    raise ValueError(f"matrices.{prof}.{kind}: entries must be 0..{MAX_SECONDS} (found {lo}..{hi})")
    for t in problem.technicians:
        who = f"technician {t.id!r}"
        _check_time(t.shift.start, who, "shift start")
        _check_time(t.shift.end, who, "shift end")
        for b in t.breaks:
            _check_time(b.window.start, who, f"break {b.id!r} window start")
            _check_time(b.window.end - b.duration, who, f"break {b.id!r} latest start")
            for w in b.starts:
                _check_time(w.start, who, f"break {b.id!r} time window start")
                _check_time(w.end, who, f"break {b.id!r} time window end")
                if w.end < w.start:
                    raise ValueError(f"{who}: break {b.id!r} time window ends before it starts")
            _check_time(b.duration, who, f"break {b.id!r} duration", duration=True)
        if not 0 < t.speed_factor <= 5:
            raise ValueError(f"{who}: speed_factor {t.speed_factor} outside (0, 5]")
        for name in ("max_travel_time", "max_distance", "capacity"):
            val = getattr(t, name)
            if val is not None:
                _check_time(val, who, name, duration=True)
        for name in ("fixed_cost", "per_hour", "per_km"):
            _check_time(getattr(t, name), who, f"costs.{name}", duration=True)
    visits = problem.all_visits
    ids = [v.id for v in visits]
    dup = {x for x in ids if ids.count(x) > 1} if len(set(ids)) != len(ids) else set()
    if dup:
        raise ValueError(f"visit {sorted(dup, key=str)[0]!r}: duplicate id (jobs, pickups and deliveries share ids)")
    for v in visits:
        who = f"visit {v.id!r}"
        _check_time(v.service, who, "service", duration=True)
        _check_time(v.setup, who, "setup", duration=True)
        if v.pickup < 0:
            raise ValueError(f"{who}: negative pickup amount")
        for w in v.time_windows:
            _check_time(w.start, who, "time window start")
            _check_time(w.end, who, "time window end")
        if v.sla_deadline is not None:
            _check_time(v.sla_deadline, who, "sla_deadline")
    for s in problem.shipments:
        for v in s.visits:
            who = f"shipment visit {v.id!r}"
            if v.time_windows and any(w.end < w.start for w in v.time_windows):
                raise ValueError(f"{who}: time window ends before it starts")
            if v.location is None and v.location_index is None:
                raise ValueError(f"{who}: needs a location or a location_index")
            _check_index(v.location_index, n_loc, who)
            if v.location_index is not None and n_loc is None and v.location is None:
                raise ValueError(f"{who}: location_index given but the problem has no matrices")
            if v.service < 0:
                raise ValueError(f"{who}: negative service duration {v.service}")
            for name in ("sla_deadline", "pinned_to", "merchant"):
                if getattr(v, name) is not None:
                    raise ValueError(f"{who}: {name} is not supported on a shipment's pickup or delivery")
        who = f"shipment {s.pickup.id!r}"
        if s.amount < 0:
            raise ValueError(f"{who}: negative amount")
        if not 0 <= s.priority <= 100:
            raise ValueError(f"{who}: priority {s.priority} outside 0..100")
        if s.pinned_to is not None and s.pinned_to not in tech_ids:
            raise ValueError(f"{who}: pinned to unknown technician {s.pinned_to!r}")
        if known_skills is not None and not s.skills <= known_skills:
            raise ValueError(f"{who}: unknown skill(s) {sorted(s.skills - known_skills)}")
    kinds = {v.id: "job" for v in problem.visits}
    kinds.update({s.pickup.id: "pickup" for s in problem.shipments})
    kinds.update({s.delivery.id: "delivery" for s in problem.shipments})
    in_steps: dict = {}
    for t in problem.technicians:
        who = f"technician {t.id!r}"
        breaks = {b.id for b in t.breaks}
        for typ, sid in t.steps:
            if typ == "break":
                if sid not in breaks:
                    raise ValueError(f"{who}: steps name unknown break {sid!r}")
                continue
            if kinds.get(sid) != typ:
                raise ValueError(f"{who}: steps name unknown {typ} {sid!r}")
            if sid in in_steps:
                raise ValueError(f"{who}: steps name {typ} {sid!r}, already in the steps of technician "
                                 f"{in_steps[sid]!r}")
            in_steps[sid] = t.id
        shipment_ids = {v.id for s in problem.shipments for v in s.visits}
        if shipment_ids & set(t.frozen_prefix):
            raise ValueError(f"{who}: frozen_prefix cannot hold shipment steps")


def _check_index(idx: int | None, n_loc: int | None, who: str) -> None:
    if idx is None:
        return
    if n_loc is None:
        return
    if not 0 <= idx < n_loc:
        raise ValueError(f"{who}: location_index {idx} outside the matrix (size {n_loc})")
