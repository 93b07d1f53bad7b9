"""Merging visits at the same merchant (or within a few metres) into one stop."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .matrix import haversine_matrix
from .problem import Id, TimeWindow, Visit

DAY = 24 * 3600


@dataclass(frozen=True)
class StopSpec:
    """One routing node: one or more visits served together."""

    visits: tuple[Visit, ...]
    windows: tuple[TimeWindow, ...]

    @property
    def ids(self) -> tuple[Id, ...]:
        return tuple(v.id for v in self.visits)

    @property
    def lead(self) -> Visit:
        return self.visits[0]

    @property
    def service(self) -> int:
        return sum(v.service for v in self.visits)

    @property
    def skills(self) -> frozenset[str]:
        return frozenset().union(*(v.skills for v in self.visits))

    @property
    def sla_deadline(self) -> int | None:
        ds = [v.sla_deadline for v in self.visits if v.sla_deadline is not None]
        return min(ds) if ds else None

    @property
    def pinned_to(self) -> Id | None:
        return self.lead.pinned_to

    @property
    def demand(self) -> int:
        return sum(v.demand for v in self.visits)


def intersect_windows(a: tuple[TimeWindow, ...], b: tuple[TimeWindow, ...]) -> tuple[TimeWindow, ...]:
    """Intersection of two unions of windows (empty tuple means 'any time')."""
    if not a:
        return b
    if not b:
        return a
    out = []
    for x in a:
        for y in b:
            lo, hi = max(x.start, y.start), min(x.end, y.end)
            if lo <= hi:
                out.append(TimeWindow(lo, hi))
    return tuple(sorted(out, key=lambda w: w.start))


_NONE = (TimeWindow(1, 0),)  # marker for 'no common window'


def merge_visits(visits: tuple[Visit, ...], radius_m: float = 0.0) -> list[StopSpec]:
    """Group visits by ``merchant`` (or location within ``radius_m``) into stops.

    A visit joins a group only if the group's windows still intersect with its own and the pin
    is the same; otherwise it becomes its own stop.
    """
    groups: list[list[Visit]] = []
    wins: list[tuple[TimeWindow, ...]] = []
    by_key: dict = {}
    pts = [v.location for v in visits]
    near = None
    if radius_m > 0 and all(p is not None for p in pts) and len(visits) > 1:
        near = haversine_matrix(pts) <= radius_m
    for i, v in enumerate(visits):
        cands: list[int] = []
        if v.merchant is not None:
            cands = by_key.get(("m", v.merchant), [])
        elif v.location_index is not None and v.location is None:
            cands = by_key.get(("i", v.location_index), []) if radius_m > 0 else []
        elif near is not None:
            cands = sorted({g for j in np.flatnonzero(near[i, :i]) for g in by_key.get(("v", int(j)), [])})
        placed = None
        for g in cands:
            if groups[g][0].pinned_to != v.pinned_to:
                continue
            w = intersect_windows(wins[g], v.time_windows)
            if (wins[g] or v.time_windows) and not w:
                continue
            groups[g].append(v)
            wins[g] = w
            placed = g
            break
        if placed is None:
            groups.append([v])
            wins.append(v.time_windows)
            placed = len(groups) - 1
        if v.merchant is not None:
            key = ("m", v.merchant)
        elif v.location_index is not None and v.location is None:
            key = ("i", v.location_index)
        else:
            key = None
        if key is not None and placed not in by_key.setdefault(key, []):
            by_key[key].append(placed)
        by_key[("v", i)] = [placed]
    return [StopSpec(tuple(g), w) for g, w in zip(groups, wins)]
