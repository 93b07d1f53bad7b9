"""Positions for decomposing a day: from coordinates, or from the travel matrix alone.

Territories and regrouping rounds need a position for every visit and technician (k-means
centres, barycentres of routes, distances to centres). With coordinates these are flat
projected metres. A problem given as a duration matrix with ``location_index`` only (what
users of OSRM or Valhalla matrices send) gets positions from classical multidimensional scaling
of the symmetrised matrix: Euclidean distances between the embedded points approximate travel
seconds. Above :data:`LANDMARKS` locations, landmark MDS (de Silva & Tenenbaum, 2004) embeds a
random sample exactly and places the others by their travel times to the sample, so the cost
stays linear in the number of locations.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .problem import Point, Problem, Technician

#: metres per degree of latitude (flat projection inside a city or a province)
METRES_PER_DEGREE = 111_320.0
#: embedding dimensions for matrix-only problems (2 lose too much of a road network's structure)
DIMENSIONS = 4
#: above this many locations, landmark MDS on a sample of this size
LANDMARKS = 2000


@dataclass(frozen=True)
class Positions:
    """Positions of the visits and of the technicians' homes, in one unit (``metres`` or
    ``seconds``), as rows of ``visits`` and ``technicians`` in problem order."""

    visits: np.ndarray
    technicians: np.ndarray
    unit: str


def flat_metres(p: Point) -> tuple[float, float]:
    """A point projected to flat metres (longitude shrunk by the cosine of the latitude)."""
    return (p.lon * math.cos(math.radians(p.lat)) * METRES_PER_DEGREE, p.lat * METRES_PER_DEGREE)


def _home(t: Technician) -> Point | None:
    return t.start or t.end


def _home_index(t: Technician) -> int | None:
    return t.start_index if t.start_index is not None else t.end_index


def has_coordinates(problem: Problem) -> bool:
    return all(v.location is not None for v in problem.visits) and all(_home(t) for t in problem.technicians)


def has_matrix(problem: Problem) -> bool:
    m = problem.matrices
    return (m is not None and bool(m.durations or m.distances)
            and all(v.location_index is not None for v in problem.visits)
            and all(_home_index(t) is not None for t in problem.technicians))


def positions(problem: Problem, seed: int = 0) -> Positions | None:
    """Coordinates when every visit and home has them, else the matrix embedding, else None."""
    if has_coordinates(problem):
        return Positions(np.array([flat_metres(v.location) for v in problem.visits]).reshape(-1, 2),
                         np.array([flat_metres(_home(t)) for t in problem.technicians]).reshape(-1, 2), "metres")
    if not has_matrix(problem):
        return None
    matrices = problem.matrices
    table = matrices.durations or matrices.distances
    profile = problem.technicians[0].profile if problem.technicians[0].profile in table else next(iter(table))
    full = np.asarray(table[profile], dtype=float)
    used = sorted({v.location_index for v in problem.visits} | {_home_index(t) for t in problem.technicians})
    xy = embed(full[np.ix_(used, used)], seed=seed)
    row = {loc: i for i, loc in enumerate(used)}
    return Positions(xy[[row[v.location_index] for v in problem.visits]],
                     xy[[row[_home_index(t)] for t in problem.technicians]],
                     "seconds")


def embed(matrix: np.ndarray, dims: int = DIMENSIONS, seed: int = 0, landmarks: int = LANDMARKS) -> np.ndarray:
    """Rows of points whose Euclidean distances approximate the (symmetrised) ``matrix``."""
    d = (matrix + matrix.T) / 2.0
    n = len(d)
    if n <= 1:
        return np.zeros((n, dims))
    if n <= landmarks:
        return _classical(d ** 2, dims)[0]
    rng = np.random.default_rng(seed)
    marks = np.sort(rng.choice(n, size=landmarks, replace=False))
    sq_marks = d[np.ix_(marks, marks)] ** 2
    base, vecs, vals = _classical(sq_marks, dims, with_basis=True)
    # triangulate every point from its squared distances to the landmarks
    # dimensions the landmarks do not span (eigenvalue ~0) place nobody
    scale = np.where(vals > 1e-9 * vals.max(), 1.0 / np.sqrt(vals), 0.0)
    pinv = vecs * scale[None, :]
    mean = sq_marks.mean(axis=0)
    out = -0.5 * (d[:, marks] ** 2 - mean[None, :]) @ pinv
    out[marks] = base
    return out


def _classical(sq: np.ndarray, dims: int, with_basis: bool = False, seed: int = 0) -> tuple:
    """Torgerson's classical MDS of a matrix of squared distances: the top ``dims`` eigenpairs of
    the double-centred matrix by subspace iteration (a few matrix products, where a full
    eigendecomposition of a 1,000-row matrix takes seconds)."""
    n = len(sq)
    b = -0.5 * (sq - sq.mean(axis=0)[None, :] - sq.mean(axis=1)[:, None] + sq.mean())
    k = min(n, dims + 6)
    q = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, k)))[0]
    for _ in range(12):
        q = np.linalg.qr(b @ q)[0]
    vals, small = np.linalg.eigh(q.T @ b @ q)
    order = np.argsort(vals)[::-1][:min(dims, n)]
    vals = np.maximum(vals[order], 1e-9)
    vecs = q @ small[:, order]
    xy = vecs * np.sqrt(vals)[None, :]
    if xy.shape[1] < dims:  # fewer locations than dimensions
        xy = np.hstack([xy, np.zeros((n, dims - xy.shape[1]))])
        vecs = np.hstack([vecs, np.zeros((n, dims - vecs.shape[1]))])
        vals = np.concatenate([vals, np.ones(dims - len(vals))])
    return (xy, vecs, vals) if with_basis else (xy, None, None)
