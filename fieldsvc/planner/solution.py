"""Output dataclasses of the planner: routes with times, unassigned visits with reasons."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Hashable

if TYPE_CHECKING:
    from .problem import Problem

Id = Hashable

#: Why a visit was left unassigned.
REASONS = {
    "skills": "no technician has the required skills (or the pinned technician lacks them)",
    "time_window": "outside every time window or shift reachable by a suitable technician",
    "capacity": "every suitable technician is at max visits / capacity",
    "cost": "not worth the detour (dropped for a cheaper plan)",
    "pinned_day_over": "pinned to a technician whose working day is over",
    "day_over": "the working day is over for every technician",
}


@dataclass
class Stop:
    """One step of a route: ``type`` is start, job, break or end.

    ``visit_ids`` lists the visits served at this stop (several if merged at one merchant).
    ``arrival`` ≤ ``start`` (service start, after waiting) ≤ ``end`` (service end).
    """

    type: str
    arrival: int
    start: int
    end: int
    visit_ids: tuple[Id, ...] = ()
    location_index: int | None = None
    lat: float | None = None
    lon: float | None = None
    distance: int = 0  # cumulated metres at arrival
    late_seconds: int = 0  # past the SLA deadline (EM)
    travel: int = 0  # travel seconds on the arc into this stop
    id: Id | None = None  # break id for breaks
    setup: int = 0  # seconds of setup between arrival and service (arriving from another place)

    @property
    def waiting(self) -> int:
        return self.start - self.arrival - self.setup

    @property
    def service(self) -> int:
        return self.end - self.start


@dataclass
class Route:
    technician_id: Id
    stops: list[Stop] = field(default_factory=list)
    travel_seconds: int = 0
    distance_m: int = 0
    service_seconds: int = 0
    waiting_seconds: int = 0

    @property
    def visit_ids(self) -> list[Id]:
        return [v for s in self.stops if s.type == "job" for v in s.visit_ids]

    @property
    def duration(self) -> int:
        return self.stops[-1].end - self.stops[0].start if self.stops else 0


@dataclass
class Unassigned:
    visit_id: Id
    reason: str  # a key of REASONS

    @property
    def message(self) -> str:
        return REASONS.get(self.reason, self.reason)


@dataclass
class Cost:
    """Objective breakdown in the solver's integer units."""

    travel: int = 0
    lateness: int = 0
    drops: int = 0
    fixed: int = 0

    @property
    def total(self) -> int:
        return self.travel + self.lateness + self.drops + self.fixed


@dataclass
class Solution:
    routes: list[Route]
    unassigned: list[Unassigned]
    cost: Cost = field(default_factory=Cost)
    status: str = "ok"
    statistics: dict = field(default_factory=dict)

    @property
    def served(self) -> list[Id]:
        return [v for r in self.routes for v in r.visit_ids]

    @property
    def travel_seconds(self) -> int:
        return sum(r.travel_seconds for r in self.routes)

    @property
    def distance_m(self) -> int:
        return sum(r.distance_m for r in self.routes)

    def route_of(self, technician_id: Id) -> Route | None:
        return next((r for r in self.routes if r.technician_id == technician_id), None)

    def served_priority(self, problem: Problem) -> int:
        """Sum of the priorities of served visits of ``problem``."""
        pri = {v.id: v.priority for v in problem.visits}
        return sum(pri[v] for v in self.served)
