"""Desk KPIs in the scorecard and its workbook: first response, remote resolution and field
dispatch rates per contractor and per tier."""
from __future__ import annotations

import io
from datetime import timedelta

from openpyxl import load_workbook

from fieldsvc.visits.desk import calls as svc
from fieldsvc.visits.desk import tiers
from fieldsvc.visits.scorecards.kpis import compute_scorecard
from fieldsvc.visits.scorecards.workbook import workbook_bytes
from tests.desk.conftest import DAY, T0, new_call


def _four_calls(desk, clock):
    """c1 resolved remotely at tier 1 in time; c2 to tier 2 then resolved remotely late;
    c3 dispatched by tier 1 in time; c4 assigned by the dispatcher straight from tier 1."""
    agent, expert = desk.users["agent"], desk.users["expert"]
    c1 = new_call(desk, serial="SN100")
    c2 = new_call(desk, serial="SN101")
    c3 = new_call(desk, serial="SN110")
    c4 = new_call(desk, serial="SN120")
    clock(T0 + timedelta(minutes=10))
    tiers.resolve_remotely(c1, agent, "guided_merchant", "paper roll was upside down")
    tiers.transfer(c2, agent, to_tier="tier2", reason="keys")
    tiers.dispatch(c3, agent, "screen broken")
    svc.assign_technician(c4, desk.technicians[0].id, desk.users["dispatcher-c1"])
    clock(T0 + timedelta(minutes=90))  # past the 60-minute first response of c2
    tiers.resolve_remotely(c2, expert, "config_pushed", "keys injected remotely")
    return c1, c2, c3, c4


def test_desk_kpis_per_contractor_and_tier(desk, clock):
    _four_calls(desk, clock)
    card = compute_scorecard(DAY, DAY, user=None, now=T0 + timedelta(hours=3))
    row = next(r for r in card.rows if r.code == "c1")
    assert row.em_calls == 4
    assert (row.first_response_met, row.first_response_decided, row.first_response_met_pct) == (3, 4, 75.0)
    assert row.first_response_avg_min == (10 + 90 + 10 + 10) / 4
    assert (row.remote_resolved, row.remote_resolution_pct) == (2, 50.0)
    assert (row.field_dispatched, row.field_dispatch_pct) == (2, 50.0)
    desk_rows = {d.tier: d for d in card.desk if d.code == "c1"}
    t1, t2 = desk_rows["tier1"], desk_rows["tier2"]
    assert (t1.calls, t1.remote_resolved, t1.field_dispatched) == (4, 1, 2)
    assert (t1.first_response_met, t1.first_response_decided) == (3, 3)
    assert (t2.calls, t2.remote_resolved, t2.remote_resolution_pct, t2.field_dispatched) == (1, 1, 100.0, 0)
    assert (t2.first_response_met, t2.first_response_decided, t2.first_response_avg_min) == (0, 1, 90.0)
    assert card.to_dict()["desk"][0]["tier"] in ("tier1", "tier2")


def test_the_workbook_has_the_desk_sheet(desk, clock, app):
    _four_calls(desk, clock)
    card = compute_scorecard(DAY, DAY, user=None, now=T0 + timedelta(hours=3))
    for lang, sheet in (("en", "Desk"), ("fa", None)):
        wb = load_workbook(io.BytesIO(workbook_bytes(card, [], lang=lang)))
        ws = wb[sheet] if sheet else wb.worksheets[-2]
        values = [[c.value for c in r] for r in ws.iter_rows()]
        c1 = [v for v in values[1:] if v[0] == "c1"]
        assert len(c1) == 2
        assert [v[3] for v in c1] == [4, 1]  # calls at tier 1 and at tier 2
        assert c1[0][9] == 25.0 and c1[0][11] == 50.0  # tier 1: remote 1/4, dispatch 2/4
        assert c1[1][9] == 100.0
    summary = load_workbook(io.BytesIO(workbook_bytes(card, [], lang="en")))["c1"]
    keys = [r[1].value for r in summary.iter_rows(min_row=4) if len(r) > 1]
    assert {"first_response_met_pct", "remote_resolution_pct", "field_dispatch_pct"} <= set(keys)


def test_a_reopened_remote_fix_no_longer_counts(desk, clock):
    c1, *_ = _four_calls(desk, clock)
    svc.reopen_call(c1, desk.users["psp-p1"], "printer fails again")
    card = compute_scorecard(DAY, DAY, user=None, now=T0 + timedelta(hours=3))
    row = next(r for r in card.rows if r.code == "c1")
    assert (row.remote_resolved, row.remote_resolution_pct) == (1, 25.0)
    t1 = next(d for d in card.desk if d.code == "c1" and d.tier == "tier1")
    assert t1.remote_resolved == 0
