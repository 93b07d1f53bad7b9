"""A day of technicians stationed in towns far apart is solved town by town."""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from fieldsvc.planner.day import solve_day
from fieldsvc.planner.params import SolveParams
from fieldsvc.planner.partition import towns
from fieldsvc.planner.problem import Matrices, Point, Problem, Technician, TimeWindow, Visit

WEST, EAST = Point(33.64, 46.42), Point(33.64, 47.18)  # two towns about 70 km apart
SHIFT = TimeWindow(8 * 3600, 17 * 3600)


def _around(town: Point, rng: np.random.Generator) -> Point:
    return Point(town.lat + rng.uniform(-0.03, 0.03), town.lon + rng.uniform(-0.03, 0.03))


def _two_towns() -> Problem:
    rng = np.random.default_rng(5)
    techs = (Technician("w1", start=WEST, end=WEST, shift=SHIFT, skills=frozenset({"pax"})),
             Technician("w2", start=_around(WEST, rng), end=WEST, shift=SHIFT, skills=frozenset({"pax"})),
             Technician("e1", start=EAST, end=EAST, shift=SHIFT, skills=frozenset({"pax", "verifone"})),
             Technician("e2", start=_around(EAST, rng), end=EAST, shift=SHIFT, skills=frozenset({"pax"})))
    visits = [Visit(f"{name}{i}", location=_around(town, rng), service=900, skills=frozenset({"pax"}), priority=20)
              for name, town in (("west", WEST), ("east", EAST)) for i in range(12)]
    spot = _around(WEST, rng)
    visits += [
        # in the west, but only the east has the skill; pinned to the eastern technician who has it
        Visit("needs-verifone", location=_around(WEST, rng), service=600, skills=frozenset({"verifone"})),
        Visit("pinned-east", location=_around(WEST, rng), service=600, pinned_to="e1"),
        # one merchant: its two terminals stay together, with its pinned one
        Visit("shop-a", location=spot, service=600, merchant="shop", pinned_to="e1"),
        Visit("shop-b", location=spot, service=600, merchant="shop"),
    ]
    return Problem(techs, tuple(visits), name="two towns")


def _by_matrix(problem: Problem) -> Problem:
    """The same day given as a travel-time matrix only (50 km/h as the crow flies)."""
    places = [t.start for t in problem.technicians] + [v.location for v in problem.visits]

    def km(a: Point, b: Point) -> float:
        dy, dx = (a.lat - b.lat) * 111.32, (a.lon - b.lon) * 111.32 * math.cos(math.radians(a.lat))
        return math.hypot(dx, dy)

    secs = tuple(tuple(int(km(a, b) / 50 * 3600) for b in places) for a in places)
    n = len(problem.technicians)
    techs = tuple(Technician(t.id, start_index=i, end_index=i, shift=t.shift, skills=t.skills)
                  for i, t in enumerate(problem.technicians))
    visits = tuple(Visit(v.id, location_index=n + i, service=v.service, skills=v.skills, priority=v.priority,
                         pinned_to=v.pinned_to, merchant=v.merchant) for i, v in enumerate(problem.visits))
    return Problem(techs, visits, Matrices(durations={"car": secs}), name="two towns by matrix")


def _town_of(parts: list[Problem]) -> dict:
    return {x.id: j for j, p in enumerate(parts) for x in (*p.technicians, *p.visits)}


def test_homes_far_apart_make_towns_and_visits_go_to_the_nearest_that_can_serve_them():
    for problem in (_two_towns(), _by_matrix(_two_towns())):
        parts = towns(problem)
        assert len(parts) == 2, problem.name
        town = _town_of(parts)
        assert town["w1"] == town["w2"] != town["e1"] == town["e2"]
        assert all(town[f"west{i}"] == town["w1"] and town[f"east{i}"] == town["e1"] for i in range(12))
        # the skill, the pin and the merchant's pinned terminal take these western visits east
        assert town["needs-verifone"] == town["pinned-east"] == town["shop-a"] == town["shop-b"] == town["e1"]
        assert sorted(town) == sorted([t.id for t in problem.technicians] + [v.id for v in problem.visits])


def test_homes_in_one_town_stay_one_problem():
    problem = _two_towns()
    west = Problem(problem.technicians[:2], tuple(v for v in problem.visits if v.id.startswith("west")))
    assert towns(west) == [west]


def test_a_day_over_two_towns_is_solved_town_by_town():
    problem = _two_towns()
    sol = solve_day(problem, SolveParams(time_limit=4))
    assert sol.statistics["towns"] == 2
    town = _town_of(towns(problem))
    for r in sol.routes:
        assert all(town[v] == town[r.technician_id] for v in r.visit_ids), r.technician_id
    assert sorted(sol.served + [u.visit_id for u in sol.unassigned]) == sorted(v.id for v in problem.visits)
    assert len(sol.served) == len(problem.visits)  # an easy day: every visit fits its town's technicians


def test_bad_input_is_refused_before_the_day_is_cut():
    """An index outside the matrix names the technician, whether the day is cut into towns or
    into territories (before, placing the homes failed first with an IndexError)."""
    day = _by_matrix(_two_towns())
    bad = replace(day, technicians=(replace(day.technicians[0], start_index=999), *day.technicians[1:]))
    for max_part_visits in (150, 5):
        with pytest.raises(ValueError, match="technician 'w1': location_index 999 outside the matrix"):
            solve_day(bad, SolveParams(time_limit=1), max_part_visits=max_part_visits)
