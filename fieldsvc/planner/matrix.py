"""Travel time and distance matrices.

Default: vectorised haversine (numpy) × detour factor ÷ profile speed.  ``geodesic`` uses
geopy; ``osrm`` asks an OSRM ``/table`` service at ``FIELDSVC_OSRM_URL`` and falls back to
haversine with a warning when it is unset or unreachable.
"""
from __future__ import annotations

import math
import os
import warnings
from typing import Sequence

import numpy as np

from .params import SolveParams
from .problem import Point

EARTH_RADIUS_M = 6_371_008.8


def haversine_pairs(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Haversine metres between the i-th radian coordinates of the first and of the second arrays."""
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def distance_m(a: Point, b: Point) -> float:
    """Great-circle (haversine) metres between two points: the project's one distance function."""
    la1, lo1, la2, lo2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, h)))


def travel_seconds(a: Point, b: Point, profile: str, params: SolveParams) -> int:
    """Seconds from a to b by the default travel model: haversine × detour factor ÷ profile speed."""
    speed = params.speeds_mps.get(profile, params.speeds_mps["car"])
    return int(round(distance_m(a, b) * params.detour_factor / speed))


def haversine_matrix(a: Sequence[Point], b: Sequence[Point] | None = None) -> np.ndarray:
    """Great-circle distances in metres (float array ``len(a) × len(b)``)."""
    b = a if b is None else b
    la = np.radians(np.array([[p.lat, p.lon] for p in a], dtype=float).reshape(-1, 2))
    lb = np.radians(np.array([[p.lat, p.lon] for p in b], dtype=float).reshape(-1, 2))
    return haversine_arrays(la[:, 0], la[:, 1], lb[:, 0], lb[:, 1])


def haversine_arrays(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Haversine between all pairs of radian coordinate arrays (metres)."""
    dlat = lat2[None, :] - lat1[:, None]
    dlon = lon2[None, :] - lon1[:, None]
    h = np.sin(dlat / 2) ** 2 + np.cos(lat1)[:, None] * np.cos(lat2)[None, :] * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def geodesic_matrix(a: Sequence[Point]) -> np.ndarray:
    """WGS84 geodesic distances in metres (geopy; slower, exact)."""
    from geopy.distance import geodesic

    n = len(a)
    out = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            out[i, j] = out[j, i] = geodesic((a[i].lat, a[i].lon), (a[j].lat, a[j].lon)).meters
    return out


def osrm_table(points: Sequence[Point], url: str | None = None, timeout: float = 30.0) -> tuple[np.ndarray, np.ndarray] | None:
    """Durations (s) and distances (m) from an OSRM ``/table`` service, or None on failure."""
    url = url or os.environ.get("FIELDSVC_OSRM_URL")
    if not url:
        warnings.warn("FIELDSVC_OSRM_URL is not set; falling back to haversine", RuntimeWarning, stacklevel=2)
        return None
    import requests

    coords = ";".join(f"{p.lon:.6f},{p.lat:.6f}" for p in points)
    try:
        r = requests.get(f"{url.rstrip('/')}/table/v1/driving/{coords}",
                         params={"annotations": "duration,distance"}, timeout=timeout)
        r.raise_for_status()
        body = r.json()
        if body.get("code") != "Ok":
            raise RuntimeError(body.get("message", body.get("code")))
        return np.array(body["durations"], dtype=float), np.array(body["distances"], dtype=float)
    except Exception as exc:  # noqa: BLE001 - any transport or format failure falls back
        warnings.warn(f"OSRM table failed ({exc}); falling back to haversine", RuntimeWarning, stacklevel=2)
        return None


def travel_matrices(points: Sequence[Point], profiles: dict[str, float], detour_factor: float = 1.35,
                    metric: str = "haversine") -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Integer duration matrices per profile (seconds) and one distance matrix (metres).

    ``profiles`` maps profile name to speed in m/s.  With ``metric='osrm'`` the OSRM durations
    are used for every profile scaled by the car speed ratio.
    """
    if metric == "osrm":
        table = osrm_table(points)
        if table is not None:
            dur, dist = table
            car = profiles.get("car") or next(iter(profiles.values()))
            durs = {p: np.rint(dur * car / s).astype(np.int64) for p, s in profiles.items()}
            return durs, np.rint(dist).astype(np.int64)
        metric = "haversine"
    dist = geodesic_matrix(points) if metric == "geodesic" else haversine_matrix(points)
    road = dist * detour_factor
    durs = {p: np.rint(road / s).astype(np.int64) for p, s in profiles.items()}
    return durs, np.rint(road).astype(np.int64)
