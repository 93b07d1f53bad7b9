"""Synthetic Tehran days for demos, tests and the city benchmark.

Visits and technician homes are sampled uniformly inside the Tehran County polygon (read from
``../shared/data/geo/tehran_province_counties.osm.min.geojson``; a bounding box is used when the
file is missing).  Most shops open twice a day (09:00–13:00 and 16:30–21:00), three terminal
families are the skills, technicians have a lunch break and at most 16 visits, about 8 % of the
visits are EM calls with a 2–6 h deadline.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
from shapely.geometry.base import BaseGeometry

from .problem import Break, Point, Problem, Technician, TimeWindow, Visit

REPO_ROOT = Path(__file__).resolve().parents[2]
#: Tehran County (OpenStreetMap, ODbL), shipped in the package.
GEOJSON = REPO_ROOT / "fieldsvc" / "data" / "tehran_county.geojson"
FAMILIES = ("pax", "verifone", "ingenico")
H = 3600
TEHRAN_BBOX = (51.20, 35.55, 51.60, 35.80)  # lon_min, lat_min, lon_max, lat_max (fallback)


@lru_cache(maxsize=4)
def tehran_polygon(path: str | None = None) -> BaseGeometry:
    """The shapely (multi)polygon of Tehran County, or its bounding box when unavailable."""
    from shapely.geometry import box, shape

    p = Path(path) if path else GEOJSON
    if p.exists():
        data = json.loads(p.read_text())
        for f in data.get("features", []):
            tags = (f.get("properties") or {}).get("tags") or {}
            if tags.get("name:en") == "Tehran County":
                return shape(f["geometry"])
    return box(*TEHRAN_BBOX)


def sample_points(n: int, rng: np.random.Generator, polygon: BaseGeometry | None = None) -> list[Point]:
    """``n`` uniform random points inside ``polygon`` (default Tehran County)."""
    import shapely

    poly = polygon if polygon is not None else tehran_polygon()
    minx, miny, maxx, maxy = poly.bounds
    out: list[Point] = []
    while len(out) < n:
        k = max(64, 2 * (n - len(out)))
        xs = rng.uniform(minx, maxx, k)
        ys = rng.uniform(miny, maxy, k)
        inside = shapely.contains_xy(poly, xs, ys)
        out.extend(Point(float(y), float(x)) for x, y in zip(xs[inside], ys[inside]))
    return out[:n]


def city_day(n_visits: int = 600, n_technicians: int = 40, seed: int = 0, em_share: float = 0.08,
             polygon: BaseGeometry | None = None) -> Problem:
    """A realistic synthetic Tehran day (seconds from midnight)."""
    rng = np.random.default_rng(seed)
    techs = technicians_at(sample_points(n_technicians, rng, polygon), rng)
    visits = visits_at(sample_points(n_visits, rng, polygon), rng, em_share)
    return Problem(tuple(techs), tuple(visits), name=f"tehran-{n_visits}-{n_technicians}-s{seed}")


def technicians_at(homes: list[Point], rng: np.random.Generator, prefix: str = "T") -> list[Technician]:
    """The city day's technicians at ``homes``: 08:00–18:00, a lunch break, at most 16 visits,
    two or three terminal families as skills, 60 % on motorbikes."""
    techs = []
    for i, home in enumerate(homes):
        fams = set(rng.choice(FAMILIES, size=int(rng.integers(2, 4)), replace=False).tolist())
        techs.append(Technician(
            id=f"{prefix}{i + 1:03d}", start=home, end=home, shift=TimeWindow(8 * H, 18 * H),
            breaks=(Break(TimeWindow(12 * H, 14 * H + 1800), 1800, "lunch"),), max_visits=16,
            skills=frozenset(fams), profile="motorbike" if rng.random() < 0.6 else "car"))
    return techs


def visits_at(pts: list[Point], rng: np.random.Generator, em_share: float = 0.08, prefix: str = "V",
              merchant_prefix: str = "M") -> list[Visit]:
    """The city day's visit mix at ``pts``: 8 % second terminals at the previous merchant, three
    shops in four open twice a day, ``em_share`` EM calls with a 2–6 h deadline, PM overdue days."""
    visits = []
    merchant = 0
    for i, p in enumerate(pts):
        if i > 0 and rng.random() < 0.08:  # a second terminal at the previous merchant, same place
            p = visits[-1].location
        else:
            merchant += 1
        fam = str(rng.choice(FAMILIES))
        em = rng.random() < em_share
        if rng.random() < 0.75:
            wins = (TimeWindow(9 * H, 13 * H), TimeWindow(16 * H + 1800, 21 * H))
        else:
            wins = (TimeWindow(9 * H, 20 * H),)
        if em:
            opened = int(rng.integers(8 * H, 11 * H))
            visits.append(Visit(f"{prefix}{i + 1:05d}", location=p, service=int(rng.integers(20, 46)) * 60,
                                time_windows=wins, skills=frozenset({fam}), priority=int(rng.integers(80, 101)),
                                kind="em", sla_deadline=opened + int(rng.integers(2, 7)) * H,
                                merchant=f"{merchant_prefix}{merchant:05d}"))
        else:
            overdue = int(max(0, rng.normal(0, 10)))
            visits.append(Visit(f"{prefix}{i + 1:05d}", location=p, service=int(rng.integers(15, 31)) * 60,
                                time_windows=wins, skills=frozenset({fam}), priority=min(60, 5 + overdue * 2),
                                kind="pm", overdue_days=overdue, merchant=f"{merchant_prefix}{merchant:05d}"))
    return visits
