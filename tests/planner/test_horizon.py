"""Multi-day PM spreading: windows, capacity, overdue first, compact territories, reasons."""
from __future__ import annotations

import datetime as dt

import pytest

from fieldsvc.planner.horizon import HorizonParams, HorizonTechnician, HorizonVisit, spread
from fieldsvc.planner.problem import Point

D0 = dt.date(2026, 11, 21)  # a Saturday
DAYS = tuple(D0 + dt.timedelta(days=i) for i in range(5))
WEST, EAST = Point(35.70, 51.30), Point(35.70, 51.50)


def visit(i, loc=WEST, days=DAYS, best=None, end=None, overdue=0, skills=frozenset(), service=1200):
    return HorizonVisit(id=i, location=loc, days=tuple(days), best_day=best or days[0] if days else D0,
                        window_end=end or (days[-1] if days else D0), service=service,
                        overdue_days=overdue, skills=skills)


def tech(i, home=WEST, days=DAYS, max_visits=4, skills=frozenset({"pax"})):
    return HorizonTechnician(id=i, home=home, days=tuple(days), max_visits=max_visits, skills=skills)


def test_visits_land_inside_their_allowed_days():
    allowed = {1: DAYS[2:3], 2: DAYS[1:4], 3: DAYS[4:]}
    plan = spread([visit(i, days=d, best=d[0]) for i, d in allowed.items()], [tech("a")])
    assert set(plan.assigned) == {1, 2, 3}
    for vid, (day, _t) in plan.assigned.items():
        assert day in allowed[vid]


def test_capacity_per_technician_day_is_respected():
    visits = [visit(i, days=DAYS[:2], end=DAYS[1]) for i in range(10)]
    plan = spread(visits, [tech("a", days=DAYS[:2], max_visits=3)])
    per_day = plan.day_counts()
    assert all(n <= 3 for n in per_day.values())
    assert len(plan.assigned) == 6
    assert set(plan.unfitted.values()) == {"capacity"}
    assert len(plan.unfitted) == 4


def test_working_seconds_limit_a_day_too():
    visits = [visit(i, days=DAYS[:1], end=DAYS[0], service=3 * 3600) for i in range(4)]
    plan = spread(visits, [HorizonTechnician("a", WEST, DAYS[:1], max_visits=16, work_seconds=8 * 3600)],
                  HorizonParams(travel_per_visit=600, fill=1.0))
    assert len(plan.assigned) == 2


def test_overdue_visits_are_placed_first_and_early():
    late = [visit(f"late{i}", overdue=10 + i, end=DAYS[-1]) for i in range(3)]
    fresh = [visit(f"new{i}", best=DAYS[0], end=DAYS[0], days=DAYS[:1]) for i in range(3)]
    plan = spread(fresh + late, [tech("a", days=DAYS[:1], max_visits=3)])
    assert set(plan.assigned) == {"late0", "late1", "late2"}
    assert all(r == "capacity" for r in plan.unfitted.values())


def test_reasons_for_closed_skills_and_deferred():
    visits = [visit("closed", days=()), visit("verifone", skills=frozenset({"verifone"})),
              visit("later", end=DAYS[-1] + dt.timedelta(days=10), days=DAYS[:1])]
    blocker = [visit(f"b{i}", days=DAYS[:1], end=DAYS[0]) for i in range(2)]
    plan = spread(visits + blocker, [tech("a", days=DAYS[:1], max_visits=2)])
    assert plan.unfitted == {"closed": "no_open_day", "verifone": "skills", "later": "deferred"}


def test_days_stay_geographically_compact_per_technician():
    """Two clusters, two technicians living in each: no slot mixes west and east."""
    visits = [visit(f"w{i}", loc=Point(35.70 + 0.001 * i, 51.30)) for i in range(8)]
    visits += [visit(f"e{i}", loc=Point(35.70 + 0.001 * i, 51.50)) for i in range(8)]
    plan = spread(visits, [tech("west", home=WEST), tech("east", home=EAST)])
    assert len(plan.assigned) == 16
    for vid, (_day, tid) in plan.assigned.items():
        assert tid == ("west" if vid.startswith("w") else "east")
    for slot in plan.slots:
        assert len({v[0] for v in slot.visits}) == 1


def test_duplicate_ids_are_an_error():
    with pytest.raises(ValueError, match="duplicate"):
        spread([visit(1), visit(1)], [tech("a")])


def test_work_already_booked_on_a_day_reduces_its_room():
    visits = [visit(i, days=DAYS[:2], end=DAYS[1]) for i in range(4)]
    plan = spread(visits, [tech("a", days=DAYS[:2], max_visits=3)], booked={("a", DAYS[0]): (2, 3600)})
    assert plan.day_counts() == {DAYS[0]: 1, DAYS[1]: 3}
