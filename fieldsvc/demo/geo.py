"""Tehran geography for the demo: the county polygon, commercial hot spots and service regions.

The polygon is read at run time from ``fieldsvc.config.TEHRAN_COUNTIES_GEOJSON`` (OpenStreetMap
data, ODbL); nothing is copied into the project. Shop locations are a mixture of Gaussians around
real commercial centres plus a wide, thin background, clipped to the polygon.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import Point, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry

from fieldsvc import config
from fieldsvc.planner.matrix import distance_m
from fieldsvc.planner.problem import Point as PlanPoint

COUNTY_NAME_EN = "Tehran County"
#: Centre used for the region sectors (near Enghelab Square / the old city).
CITY_CENTRE = (35.700, 51.400)
KM_PER_DEG_LAT = 110.57


@dataclass(frozen=True)
class Hotspot:
    """A commercial area: centre, spread (km) and share of the shops."""

    name: str
    lat: float
    lon: float
    sigma_km: float
    weight: float


#: Real commercial centres of Tehran (approximate), with their share of shops.
HOTSPOTS: tuple[Hotspot, ...] = (
    Hotspot("Grand Bazaar", 35.6745, 51.4205, 0.9, 0.14),
    Hotspot("Enghelab / Ferdowsi", 35.7010, 51.4050, 1.1, 0.10),
    Hotspot("Haft-e Tir / Karimkhan", 35.7170, 51.4250, 1.0, 0.07),
    Hotspot("Valiasr / Vanak", 35.7570, 51.4100, 1.2, 0.08),
    Hotspot("Tehranpars", 35.7380, 51.5350, 1.2, 0.07),
    Hotspot("Sadeghieh", 35.7190, 51.3350, 1.1, 0.07),
    Hotspot("Naziabad", 35.6450, 51.4000, 1.2, 0.05),
    Hotspot("Narmak", 35.7470, 51.4980, 1.0, 0.05),
    Hotspot("Shahrak-e Gharb", 35.7580, 51.3720, 1.0, 0.05),
    Hotspot("Jannat Abad", 35.7550, 51.3050, 1.0, 0.04),
    Hotspot("Piroozi", 35.6930, 51.4700, 1.1, 0.05),
    Hotspot("Sattarkhan", 35.7100, 51.3650, 1.0, 0.04),
    Hotspot("Molavi / Shoush", 35.6620, 51.4320, 0.9, 0.04),
)
#: Wide background around the city centre for the remaining shops (sparse areas).
BACKGROUND = Hotspot("background", 35.705, 51.405, 7.0, 0.15)


@dataclass(frozen=True)
class RegionDef:
    """A demo service region: the centre disc or one compass sector of Tehran County."""

    code: str
    name: str
    name_fa: str
    #: None for the centre disc; otherwise the sector's bearing range in degrees (0 = north).
    bearings: tuple[float, float] | None


CENTRE_RADIUS_KM = 3.5
REGIONS: tuple[RegionDef, ...] = (
    RegionDef("thr-c", "Central Tehran", "مرکز تهران", None),
    RegionDef("thr-n", "North Tehran", "شمال تهران", (-45.0, 45.0)),
    RegionDef("thr-e", "East Tehran", "شرق تهران", (45.0, 135.0)),
    RegionDef("thr-s", "South Tehran", "جنوب تهران", (135.0, 225.0)),
    RegionDef("thr-w", "West Tehran", "غرب تهران", (225.0, 315.0)),
)


@lru_cache(maxsize=4)
def tehran_county(path: str | None = None) -> BaseGeometry:
    """The (multi)polygon of Tehran County from the province counties GeoJSON."""
    p = Path(path) if path else config.TEHRAN_COUNTY_GEOJSON
    if not p.exists():
        raise FileNotFoundError(f"{p}: the Tehran County boundary is missing from the package; "
                                "reinstall fieldsvc (it ships in fieldsvc/data/)")
    data = json.loads(p.read_text(encoding="utf-8"))
    for feature in data.get("features", []):
        tags = (feature.get("properties") or {}).get("tags") or {}
        if tags.get("name:en") == COUNTY_NAME_EN:
            geom = shape(feature["geometry"])
            shapely.prepare(geom)
            return geom
    raise ValueError(f"{p}: no feature tagged name:en={COUNTY_NAME_EN!r}")


def _km_per_deg_lon(lat: float) -> float:
    return KM_PER_DEG_LAT * math.cos(math.radians(lat))


def sample_shop_points(n: int, rng: np.random.Generator, polygon: BaseGeometry | None = None,
                       hotspots: tuple[Hotspot, ...] = HOTSPOTS) -> np.ndarray:
    """``n`` points (rows of ``[lat, lon]``) inside ``polygon``: dense around the hot spots,
    sparse elsewhere. Deterministic for a given generator state."""
    poly = polygon if polygon is not None else tehran_county()
    spots = hotspots + (BACKGROUND,)
    weights = np.array([h.weight for h in spots], dtype=float)
    weights /= weights.sum()
    out = np.empty((0, 2))
    while len(out) < n:
        k = max(64, int(1.3 * (n - len(out))))
        which = rng.choice(len(spots), size=k, p=weights)
        lat0 = np.array([spots[i].lat for i in which])
        lon0 = np.array([spots[i].lon for i in which])
        sig = np.array([spots[i].sigma_km for i in which])
        lat = lat0 + rng.normal(0.0, 1.0, k) * sig / KM_PER_DEG_LAT
        lon = lon0 + rng.normal(0.0, 1.0, k) * sig / _km_per_deg_lon(35.7)
        inside = shapely.contains_xy(poly, lon, lat)
        out = np.vstack([out, np.column_stack([lat[inside], lon[inside]])])
    return np.round(out[:n], 6)


def bearing_deg(lat: float, lon: float, origin: tuple[float, float] = CITY_CENTRE) -> float:
    """Compass bearing from ``origin`` in degrees [0, 360), on a local flat projection."""
    dy = (lat - origin[0]) * KM_PER_DEG_LAT
    dx = (lon - origin[1]) * _km_per_deg_lon(origin[0])
    return math.degrees(math.atan2(dx, dy)) % 360.0


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km (the planner's :func:`~fieldsvc.planner.matrix.distance_m`)."""
    return distance_m(PlanPoint(lat1, lon1), PlanPoint(lat2, lon2)) / 1000.0


def region_of(lat: float, lon: float) -> str:
    """Code of the demo region holding a point (centre disc, else compass sector)."""
    if distance_km(lat, lon, *CITY_CENTRE) <= CENTRE_RADIUS_KM:
        return REGIONS[0].code
    b = bearing_deg(lat, lon)
    for r in REGIONS[1:]:
        lo, hi = r.bearings  # type: ignore[misc]
        if lo <= b < hi or lo <= b - 360.0 < hi:
            return r.code
    raise AssertionError(f"bearing {b} in no sector")


def _sector(lo: float, hi: float, radius_km: float = 80.0) -> Polygon:
    lat0, lon0 = CITY_CENTRE
    pts = [(lon0, lat0)]
    for i in range(33):
        b = math.radians(lo + (hi - lo) * i / 32)
        pts.append((lon0 + radius_km * math.sin(b) / _km_per_deg_lon(lat0),
                    lat0 + radius_km * math.cos(b) / KM_PER_DEG_LAT))
    return Polygon(pts)


def _centre_disc() -> BaseGeometry:
    lat0, lon0 = CITY_CENTRE
    disc = Point(0.0, 0.0).buffer(CENTRE_RADIUS_KM, quad_segs=16)
    return shapely.transform(disc, lambda xy: np.column_stack([
        lon0 + xy[:, 0] / _km_per_deg_lon(lat0), lat0 + xy[:, 1] / KM_PER_DEG_LAT]))


@lru_cache(maxsize=4)
def region_geometries(polygon: BaseGeometry | None = None) -> dict[str, dict]:
    """GeoJSON geometry of each region (its part of Tehran County), simplified to ~50 m."""
    poly = polygon if polygon is not None else tehran_county()
    centre = _centre_disc()
    out: dict[str, dict] = {}
    for r in REGIONS:
        part = centre if r.bearings is None else _sector(*r.bearings).difference(centre)
        geom = part.intersection(poly).simplify(0.0005, preserve_topology=True)
        out[r.code] = mapping(shapely.set_precision(geom, 1e-6))
    return out


def region_centre(code: str, polygon: BaseGeometry | None = None) -> tuple[float, float]:
    """A representative point ``(lat, lon)`` inside a region."""
    geom = shape(region_geometries(polygon)[code])
    p = geom.representative_point()
    return round(p.y, 6), round(p.x, 6)


def jitter_point(lat: float, lon: float, metres: float, rng: np.random.Generator) -> tuple[float, float, float]:
    """A point about ``metres`` away in a random direction: ``(lat, lon, actual distance m)``."""
    angle = rng.uniform(0.0, 2 * math.pi)
    dlat = metres * math.cos(angle) / 1000.0 / KM_PER_DEG_LAT
    dlon = metres * math.sin(angle) / 1000.0 / _km_per_deg_lon(lat)
    lat2, lon2 = round(lat + dlat, 6), round(lon + dlon, 6)
    return lat2, lon2, distance_km(lat, lon, lat2, lon2) * 1000.0
