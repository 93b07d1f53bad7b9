"""Multi-day PM spreading: give each due PM visit a day (and a technician's territory) before routing.

Pure: plain dataclasses in and out, dates as :class:`datetime.date`.  The caller states on which
days each visit may be planned (its due window ∩ the merchant's open days ∩ working days) and
which technicians work which days.

Method (greedy, earliest deadline first): visits are taken overdue first (most overdue first),
then by the end of their window, then by due date.  Each goes to the (technician, day) slot that
still has room (max visits, and working seconds for service plus an estimated travel per visit,
minus work already booked there) and is closest to the slot's current centre — the technician's
home for an empty slot — plus a small cost per day away from the visit's best day and a small
cost for a fuller slot (levelling).  Slots therefore grow as compact clusters around each
technician's home (territories), which is the material daily routing needs.
Visits that do not fit come back with a reason.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Hashable, Mapping

from .matrix import distance_m
from .problem import Point

Id = Hashable

#: Why a visit got no day.
REASONS = {
    "no_open_day": "no working day inside its window on which the merchant is open",
    "skills": "no technician working on its possible days has the required skills",
    "capacity": "every technician's day inside its window is full",
    "deferred": "no room now; its window continues after the horizon",
}


@dataclass(frozen=True)
class HorizonVisit:
    """A PM visit to place: ``days`` are the days it may be planned on (already filtered for
    working days and opening days); ``best_day`` is the day it would ideally be visited (its due
    date, or the first day for an overdue one); ``window_end`` decides the unfitted reason."""

    id: Id
    location: Point
    days: tuple[dt.date, ...]
    best_day: dt.date
    window_end: dt.date
    service: int = 1200
    overdue_days: int = 0
    skills: frozenset[str] = frozenset()


@dataclass(frozen=True)
class HorizonTechnician:
    """A technician's capacity: per working day at most ``max_visits`` visits and ``work_seconds``."""

    id: Id
    home: Point
    days: tuple[dt.date, ...]
    max_visits: int = 16
    work_seconds: int = 8 * 3600
    skills: frozenset[str] = frozenset()


@dataclass(frozen=True)
class HorizonParams:
    """``travel_per_visit`` seconds are reserved per visit for driving; ``fill`` is the share of a
    day's working seconds that may be booked; ``day_cost_km`` is the cost (in km) of each day away
    from a visit's best day; ``overdue_day_cost_km`` the cost of each day an overdue visit waits;
    ``fill_cost_km`` times a slot's fill (0..1) levels the load over technicians and days."""

    travel_per_visit: int = 900
    fill: float = 0.9
    day_cost_km: float = 0.3
    overdue_day_cost_km: float = 5.0
    fill_cost_km: float = 2.0


@dataclass
class Slot:
    technician_id: Id
    day: dt.date
    visits: list[Id] = field(default_factory=list)
    booked_visits: int = 0
    seconds: int = 0
    lat_sum: float = 0.0
    lon_sum: float = 0.0


@dataclass
class HorizonPlan:
    """``assigned`` maps visit id → (day, technician id); ``unfitted`` maps visit id → reason."""

    assigned: dict[Id, tuple[dt.date, Id]]
    unfitted: dict[Id, str]
    slots: list[Slot]

    def day_counts(self) -> dict[dt.date, int]:
        out: dict[dt.date, int] = {}
        for day, _t in self.assigned.values():
            out[day] = out.get(day, 0) + 1
        return dict(sorted(out.items()))


def spread(visits: list[HorizonVisit] | tuple[HorizonVisit, ...],
           technicians: list[HorizonTechnician] | tuple[HorizonTechnician, ...],
           params: HorizonParams | None = None,
           booked: Mapping[tuple[Id, dt.date], tuple[int, int]] | None = None) -> HorizonPlan:
    """Assign visits to (day, technician) slots; see the module docstring.

    ``booked`` maps (technician id, day) → (visits, seconds) already planned there (routes of
    those days), which the slot's room excludes."""
    params = params or HorizonParams()
    seen: set = set()
    for v in visits:
        if v.id in seen:
            raise ValueError(f"visit {v.id!r}: duplicate id")
        seen.add(v.id)
        if v.service < 0:
            raise ValueError(f"visit {v.id!r}: negative service duration")
    slots: dict[tuple[Id, dt.date], Slot] = {}
    tech_by_day: dict[dt.date, list[HorizonTechnician]] = {}
    for t in technicians:
        if t.max_visits < 0 or t.work_seconds < 0:
            raise ValueError(f"technician {t.id!r}: negative capacity")
        for d in t.days:
            tech_by_day.setdefault(d, []).append(t)
            n, secs = (booked or {}).get((t.id, d), (0, 0))
            slots[(t.id, d)] = Slot(t.id, d, booked_visits=n, seconds=secs)
    order = sorted(visits, key=lambda v: (-v.overdue_days, v.window_end, v.best_day, str(v.id)))
    assigned: dict[Id, tuple[dt.date, Id]] = {}
    unfitted: dict[Id, str] = {}
    last_day = max((d for t in technicians for d in t.days), default=None)
    for v in order:
        if not v.days:
            unfitted[v.id] = "no_open_day"
            continue
        best = None
        skilled = False
        for d in v.days:
            for t in tech_by_day.get(d, ()):
                if not v.skills <= t.skills:
                    continue
                skilled = True
                s = slots[(t.id, d)]
                need = v.service + params.travel_per_visit
                load = len(s.visits) + s.booked_visits
                if load >= t.max_visits or s.seconds + need > t.work_seconds * params.fill:
                    continue
                if s.visits:
                    n = len(s.visits)
                    dist = distance_m(v.location, Point(s.lat_sum / n, s.lon_sum / n)) / 1000
                else:
                    dist = distance_m(v.location, t.home) / 1000
                wait = (d - v.best_day).days
                day_cost = (params.overdue_day_cost_km * max(0, wait) if v.overdue_days > 0
                            else params.day_cost_km * abs(wait))
                fill = params.fill_cost_km * load / max(1, t.max_visits)
                score = (dist + day_cost + fill, d, str(t.id))
                if best is None or score < best[0]:
                    best = (score, s)
        if best is None:
            if not skilled:
                unfitted[v.id] = "skills"
            elif last_day is not None and v.window_end > last_day:
                unfitted[v.id] = "deferred"
            else:
                unfitted[v.id] = "capacity"
            continue
        s = best[1]
        s.visits.append(v.id)
        s.seconds += v.service + params.travel_per_visit
        s.lat_sum += v.location.lat
        s.lon_sum += v.location.lon
        assigned[v.id] = (s.day, s.technician_id)
    used = [s for s in slots.values() if s.visits]
    used.sort(key=lambda s: (s.day, str(s.technician_id)))
    return HorizonPlan(assigned, unfitted, used)
