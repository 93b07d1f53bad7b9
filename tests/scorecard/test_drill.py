"""Every number links to its list: the drill-down lists hold exactly the counted rows."""
from __future__ import annotations

from fieldsvc.db import db
from fieldsvc.visits.scorecards.drill import DRILLS, done_by_kind, drill, open_work, unresolved_calls
from fieldsvc.visits.scorecards.kpis import compute_scorecard
from tests.scorecard.dataset import END, NOW, START


def test_each_list_has_as_many_rows_as_its_number(month, world):
    card = compute_scorecard(START, END, user=None, now=NOW)
    c1 = next(r for r in card.rows if r.code == "c1")
    for name in DRILLS:
        if not hasattr(c1, name):
            continue
        _what, stmt, count = drill(name, START, END, user=None, key=c1.key, now=NOW)
        n = db.session.scalar(count)
        assert n == getattr(c1, name), name
        assert len(db.session.scalars(stmt).all()) == n
    _w, _s, count = drill("response_missed", START, END, user=None, key=c1.key, now=NOW)
    assert db.session.scalar(count) == c1.response_decided - c1.response_met
    _w, stmt, _c = drill("repeat_calls_7d", START, END, user=None, key=c1.key, now=NOW)
    assert [c.id for c in db.session.scalars(stmt)] == [month.calls["call4"].id]


def test_lists_respect_scope(month, world):
    _w, _s, count = drill("em_calls", START, END, user=world.users["psp-p2"], now=NOW)
    assert db.session.scalar(count) == 1
    _w, _s, count = drill("pm_due", START, END, user=world.users["psp-p2"], now=NOW)
    assert db.session.scalar(count) == 1


def test_done_by_kind_and_open_work(month, world):
    c1 = world.contractors[0].id
    # checked out in May: em1, em2, em3, em4b, pm1, pm8, in1, in2 (pm2 and pm7 in June)
    assert done_by_kind(START, END, user=None)[c1] == {"em": 4, "pm": 2, "install": 2}
    rows = {r.code: r for r in open_work(world.users["psp-p1"], NOW)}
    assert set(rows) == {"c1"}
    c1row = rows["c1"]
    assert (c1row.open_calls, c1row.breached, c1row.at_risk) == (1, 1, 0)
    assert c1row.call_ids["breached"] == [month.calls["call6"].id]
    # pm4's window closed on 06-09, pm6's closes today (06-15); in3 (deadline 06-20) is not late
    assert (c1row.pm_overdue, c1row.installs_late) == (1, 0)
    assert [c.id for c in unresolved_calls(world.users["psp-p1"], 72, NOW)] == [month.calls["call6"].id]
    assert unresolved_calls(world.users["psp-p2"], 72, NOW) == []
