"""Each KPI on the hand-built month, with answers worked out by hand (tests/scorecard/dataset.py)."""
from __future__ import annotations

import datetime as dt

import pytest

from fieldsvc.calendar import CalendarSpec
from fieldsvc.visits.scope import Forbidden, NotFound
from fieldsvc.visits.scorecards.kpis import compute_scorecard, find_breaches, kpi_status
from fieldsvc.visits.contracts.sla import SlaTargets, deadlines
from tests.factories import DEFAULT_CALENDAR, DEFAULT_TARGETS
from tests.scorecard.dataset import END, EXPECTED_C1, NOW, START, teh


def _row(card, code):
    return next(r for r in card.rows if r.code == code)


def test_dataset_deadlines_follow_the_calendar():
    cal, targets = CalendarSpec.from_dict(DEFAULT_CALENDAR), SlaTargets.from_dict(DEFAULT_TARGETS)
    # across Eid al-Adha (Wed 2026-05-27): Tue 16:00 + 2 working hours = Thu 09:00
    d = deadlines(teh(2026, 5, 26, 16), "critical", targets, cal)
    assert d == (teh(2026, 5, 28, 9), teh(2026, 5, 28, 11))
    # a 2-hour pause pushes both clocks back
    d = deadlines(teh(2026, 5, 9, 9), "urgent", targets, cal, [(teh(2026, 5, 9, 10), teh(2026, 5, 9, 12))])
    assert d == (teh(2026, 5, 9, 15), teh(2026, 5, 10, 10))


def test_contractor_kpis_match_hand_computed_answers(month):
    card = compute_scorecard(START, END, user=None, now=NOW)
    c1 = _row(card, "c1")
    got = {k: getattr(c1, k) for k in EXPECTED_C1}
    assert got == EXPECTED_C1


def test_score_weights_and_rank(month):
    card = compute_scorecard(START, END, user=None, now=NOW)
    c1, c2 = _row(card, "c1"), _row(card, "c2")
    # 0.25·0.3333 + 0.2·0.6 + 0.25·0.4 + 0.1·0.75 + 0.1·0.5 + 0.05·(1−0.25) + 0.05·(4−1)/4
    assert c1.score == 50.33
    assert c2.score == 100.0          # everything met, no installations (weights re-normalised)
    assert [r.code for r in card.rows] == ["c2", "c1"]
    assert (c2.rank, c1.rank) == (1, 2)
    assert kpi_status("response_met_pct", 60.0) == "breached"
    assert kpi_status("response_met_pct", 87.0) == "at_risk"
    assert kpi_status("geofence_flagged_pct", 2.0) == "met"


def test_penalties_by_kind_come_from_the_ledger(month):
    from fieldsvc.visits.scorecards.ledger import recompute_period
    recompute_period(START, END, user=None, now=NOW)
    c1 = _row(compute_scorecard(START, END, user=None, now=NOW), "c1")
    assert c1.penalties == {"late_response": 21_000_000, "late_resolution": 2_000_000,
                            "late_pm": 600_000, "missed_pm": 4_000_000, "late_install": 2_000_000}
    assert c1.penalties_total == 29_600_000


def test_per_region_and_per_technician(month, world):
    by_region = compute_scorecard(START, END, user=None, group_by="region", now=NOW)
    r1 = _row(by_region, "r1")
    # every call and visit of c1's month is at a merchant of region r1, so r1's row is c1's
    c1 = next(c for c in world.contractors if c.code == "c1")
    rows = [*month.calls.values(), *month.visits.values()]
    assert {x.merchant.region.code for x in rows if x.contractor_id == c1.id} == {"r1"}
    assert (r1.em_calls, r1.pm_due, r1.response_met) == (
        EXPECTED_C1["em_calls"], EXPECTED_C1["pm_due"], EXPECTED_C1["response_met"])
    disp = world.users["dispatcher-c1"]
    techs = compute_scorecard(START, END, user=disp, group_by="technician", now=NOW)
    assert {r.code for r in techs.rows} == {"t1", "t2"}
    t1 = _row(techs, "t1")
    # t1 answered calls 1, 3, 4 (call6 has no technician)
    assert (t1.em_calls, t1.response_met, t1.first_time_fixes, t1.resolved_with_visit) == (3, 2, 2, 3)
    with pytest.raises(Forbidden):
        compute_scorecard(START, END, user=world.users["psp-p1"], group_by="technician", now=NOW)


def test_scope_psp_sees_only_its_contractors(month, world):
    card = compute_scorecard(START, END, user=world.users["psp-p2"], now=NOW)
    assert [r.code for r in card.rows] == ["c2"]
    assert set(card.breaches) == {"c2"} and card.breaches["c2"] == []
    with pytest.raises(NotFound):
        compute_scorecard(START, END, user=world.users["psp-p2"], contractor_code="c1", now=NOW)
    mine = compute_scorecard(START, END, user=world.users["dispatcher-c1"], now=NOW)
    assert [r.code for r in mine.rows] == ["c1"]


def test_breaches_list(month):
    got = {b.reference: (b.kind, b.minutes_late, b.days_late)
           for b in find_breaches(START, END, user=None, now=NOW)}
    d = month
    assert got[f"call:{d.calls['call1'].id}:response"] == ("late_response", 90, 0)
    assert got[f"call:{d.calls['call2'].id}:resolution"] == ("late_resolution", 60, 0)
    assert got[f"visit:{d.visits['pm7'].id}:pm"] == ("late_pm", 0, 1)
    assert got[f"visit:{d.visits['pm4'].id}:pm"] == ("missed_pm", 0, 0)
    assert got[f"visit:{d.visits['in2'].id}:install"] == ("late_install", 0, 2)
    assert len(got) == 10


def test_weekly_trend(month):
    card = compute_scorecard(START, END, user=None, now=NOW)
    weeks = card.trends["c1"]
    assert [w.week_start for w in weeks] == [dt.date(2026, 5, d) for d in (1, 8, 15, 22, 29)]
    assert [w.em_calls for w in weeks] == [0, 3, 0, 1, 1]
    # week 2 (05-08..05-14): calls 2, 3, 4 all answered on time, call2 resolved late
    assert (weeks[1].response_met_pct, weeks[1].resolution_met_pct) == (100.0, 66.67)
    # due dates 05-05 | 05-10 | 05-15, 05-18, 05-20 | 05-25 | 05-31
    assert [w.pm_due for w in weeks] == [1, 1, 3, 1, 1]


def test_empty_period_lists_contractors_without_numbers(world):
    card = compute_scorecard(START, END, user=None, now=NOW)
    assert {r.code for r in card.rows} == {"c1", "c2"}
    assert all(r.score is None and r.rank is None and r.em_calls == 0 for r in card.rows)
