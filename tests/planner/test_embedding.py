"""Decomposition from the travel matrix alone: embedding, territories, single-depot fleets."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from fieldsvc.planner import SolveParams, solve_day
from fieldsvc.planner.bench import matrix_only
from fieldsvc.planner.embedding import embed, positions
from fieldsvc.planner.partition import split
from fieldsvc.planner.synth import city_day


def _pairwise(x: np.ndarray) -> np.ndarray:
    return np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))


@pytest.mark.parametrize("landmarks", [1000, 40])
def test_embedding_reproduces_plane_distances(landmarks):
    pts = np.random.default_rng(3).uniform(0, 5000, size=(120, 2))
    d = _pairwise(pts)
    got = _pairwise(embed(d, landmarks=landmarks))
    assert np.allclose(got, d, atol=1e-3 * d.max())


def test_matrix_only_day_is_split_like_the_coordinate_day():
    day = city_day(300, 20, seed=1)
    flat = matrix_only(day)
    assert all(v.location is None for v in flat.visits) and positions(flat).unit == "seconds"
    parts = split(flat, 50)
    assert len(parts) == len(split(day, 50)) > 1
    ids = sorted(str(v.id) for part in parts for v in part.visits)
    assert ids == sorted(str(v.id) for v in day.visits)
    assert sorted(str(t.id) for part in parts for t in part.technicians) == sorted(str(t.id) for t in day.technicians)


def test_single_depot_fleet_is_split_by_its_visits():
    day = matrix_only(city_day(300, 20, seed=2))
    depot = replace(day, technicians=tuple(replace(t, start_index=0, end_index=0) for t in day.technicians))
    parts = split(depot, 50)
    assert len(parts) > 1 and all(p.technicians for p in parts)


@pytest.mark.slow
def test_solve_day_decomposes_a_matrix_only_day():
    day = matrix_only(city_day(240, 16, seed=4))
    sol = solve_day(day, SolveParams(time_limit=8), max_part_visits=100, workers=1)
    assert sol.statistics["parts"] > 1
    assert len(sol.served) + len(sol.unassigned) == 240 and len(set(sol.served)) == len(sol.served)


def test_parts_travel_with_their_own_rows_of_the_matrix():
    from fieldsvc.planner.partition import _widen, shrink
    from fieldsvc.planner.pm import solve

    day = matrix_only(city_day(120, 8, seed=5))
    part = split(day, 40)[0]
    small, used = shrink(part)
    size = len(small.matrices.durations["car"])
    assert size == len(used) < len(day.matrices.durations["car"])
    assert {v.location_index for v in small.visits} <= set(range(size))
    params = SolveParams(time_limit=2)
    wide = _widen(solve(small, params), used)
    by_visit = {v.id: v.location_index for v in part.visits}
    profile = {t.id: t.profile for t in part.technicians}
    for r in wide.routes:
        steps = [s.location_index for s in r.stops if s.location_index is not None]
        rows = day.matrices.durations[profile[r.technician_id]]
        assert r.travel_seconds == sum(rows[a][b] for a, b in zip(steps, steps[1:]))  # original indices
        for s in r.stops:
            if s.visit_ids:
                assert s.location_index == by_visit[s.visit_ids[0]]
