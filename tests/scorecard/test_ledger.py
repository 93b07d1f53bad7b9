"""The penalty ledger: amounts and caps, idempotent recompute, corrections, confirm/waive, scope."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.scorecards.ledger import (confirm_line, ledger_lines, recompute_period, ticket_key,
                                            waive_line)
from fieldsvc.visits.scope import Forbidden, NotFound
from fieldsvc.visits.states import IllegalTransition
from tests.scorecard.dataset import END, NOW, START, refs


def _lines() -> dict[str, m.PenaltyLine]:
    return {x.reference: x for x in db.session.scalars(
        select(m.PenaltyLine).where(m.PenaltyLine.corrects_id.is_(None)))}


def test_amounts_caps_and_lateness(month):
    res = recompute_period(START, END, user=None, now=NOW)
    assert res.created == 10
    lines = _lines()
    for ref, (minutes, amount) in refs(month).items():
        assert lines[ref].amount_rial == amount, ref
        if minutes is not None:
            assert lines[ref].minutes_late == minutes, ref
        assert lines[ref].status == "proposed"
    call6 = month.calls["call6"].id
    assert ticket_key(f"call:{call6}:response") == f"call:{call6}"
    # the open call is hundreds of working hours late: far over the 20M ticket cap
    assert lines[f"call:{call6}:response"].minutes_late > 40 * 60
    # Jalali billing months: 2026-05-21 is 1405-02-31, 2026-05-22 is 1405-03-01
    assert lines[f"call:{month.calls['call2'].id}:resolution"].period == "1405-02"
    assert lines[f"call:{month.calls['call1'].id}:response"].period == "1405-03"


def test_monthly_cap_is_allocated_chronologically(month, world):
    k1 = world.contracts[0]
    k1.penalty_terms = {**k1.penalty_terms, "monthly_cap": 3_500_000}
    db.session.commit()
    recompute_period(START, END, user=None, now=NOW)
    lines = _lines()
    d, c, v = month, month.calls, month.visits
    amounts = {k: lines[r].amount_rial for k, r in {
        "call2.res": f"call:{c['call2'].id}:resolution", "in2": f"visit:{v['in2'].id}:install",
        "pm3": f"visit:{v['pm3'].id}:pm", "pm7": f"visit:{v['pm7'].id}:pm",
        "pm2": f"visit:{v['pm2'].id}:pm", "call1.resp": f"call:{c['call1'].id}:response",
        "call1.res": f"call:{c['call1'].id}:resolution", "call6.resp": f"call:{c['call6'].id}:response",
        "pm4": f"visit:{v['pm4'].id}:pm"}.items()}
    # 1405-02 in deadline order: call2 1M, in2 2M, pm3 0.5M of 2M, then nothing
    # 1405-03: call1 1M + 1M, call6 1.5M of 20M, pm4 nothing
    assert amounts == {"call2.res": 1_000_000, "in2": 2_000_000, "pm3": 500_000, "pm7": 0, "pm2": 0,
                       "call1.resp": 1_000_000, "call1.res": 1_000_000, "call6.resp": 1_500_000,
                       "pm4": 0}
    assert d is month


def test_recompute_is_idempotent_and_updates_proposed_in_place(month):
    recompute_period(START, END, user=None, now=NOW)
    before = {x.id: (x.reference, x.amount_rial) for x in db.session.scalars(select(m.PenaltyLine))}
    again = recompute_period(START, END, user=None, now=NOW)
    assert not again.changed and again.unchanged == 10
    assert {x.id: (x.reference, x.amount_rial) for x in db.session.scalars(select(m.PenaltyLine))} == before
    # call1 was on site an hour later than recorded: 150 working minutes late → 3 started hours
    call1 = month.calls["call1"]
    call1.responded_at = call1.responded_at + dt.timedelta(hours=1)
    db.session.commit()
    res = recompute_period(START, END, user=None, now=NOW)
    assert (res.updated, res.created, res.corrections) == (1, 0, 0)
    line = _lines()[f"call:{call1.id}:response"]
    assert (line.amount_rial, line.minutes_late) == (1_500_000, 150)
    assert db.session.scalar(select(db.func.count()).select_from(m.PenaltyLine)) == 10
    # the breach disappears (data corrected): the proposed line goes
    call1.responded_at = call1.response_by
    db.session.commit()
    res = recompute_period(START, END, user=None, now=NOW)
    assert res.deleted == 1 and f"call:{call1.id}:response" not in _lines()


def test_confirmed_line_is_corrected_by_a_new_line(month, world):
    psp = world.users["psp-p1"]
    recompute_period(START, END, user=psp, now=NOW)
    call1 = month.calls["call1"]
    ref = f"call:{call1.id}:response"
    line = _lines()[ref]
    confirm_line(line.id, psp)
    call1.responded_at = call1.responded_at + dt.timedelta(hours=1)
    db.session.commit()
    res = recompute_period(START, END, user=psp, now=NOW)
    assert res.corrections == 1
    rows = db.session.scalars(select(m.PenaltyLine).where(m.PenaltyLine.reference == ref)
                              .order_by(m.PenaltyLine.id)).all()
    assert [(r.status, r.amount_rial, r.corrects_id) for r in rows] == [
        ("confirmed", 1_000_000, None), ("proposed", 500_000, line.id)]
    # recomputing again changes nothing; a further change moves the proposed correction only
    assert not recompute_period(START, END, user=psp, now=NOW).changed
    call1.responded_at = call1.responded_at + dt.timedelta(hours=1)
    db.session.commit()
    res = recompute_period(START, END, user=psp, now=NOW)
    rows = db.session.scalars(select(m.PenaltyLine).where(m.PenaltyLine.reference == ref)
                              .order_by(m.PenaltyLine.id)).all()
    assert res.updated == 1 and [r.amount_rial for r in rows] == [1_000_000, 1_000_000]
    assert rows[0].status == "confirmed" and rows[0].decided_by_id == psp.id
    audit = db.session.scalars(select(m.AuditEvent).where(m.AuditEvent.object_type == "penalty_line",
                                                          m.AuditEvent.action == "status")).all()
    assert [(a.from_state, a.to_state, a.actor) for a in audit] == [("proposed", "confirmed", "psp-p1")]
    # a waived correction is not proposed again
    waive_line(rows[1].id, psp, "agreed with the contractor")
    assert not recompute_period(START, END, user=psp, now=NOW).changed


def test_waive_needs_a_reason_and_stays_waived(month, world):
    psp = world.users["psp-p1"]
    recompute_period(START, END, user=psp, now=NOW)
    line = _lines()[f"visit:{month.visits['pm3'].id}:pm"]
    with pytest.raises(ValueError):
        waive_line(line.id, psp, "  ")
    waive_line(line.id, psp, "merchant closed for renovation")
    assert (line.status, line.reason, line.decided_by_id) == ("waived", "merchant closed for renovation", psp.id)
    with pytest.raises(IllegalTransition):
        confirm_line(line.id, psp)
    assert not recompute_period(START, END, user=psp, now=NOW).changed
    assert _lines()[line.reference].status == "waived"


def test_scope_of_the_ledger(month, world):
    recompute_period(START, END, user=None, now=NOW)
    line = _lines()[f"visit:{month.visits['pm3'].id}:pm"]
    with pytest.raises(NotFound):
        confirm_line(line.id, world.users["psp-p2"])
    with pytest.raises(Forbidden):
        confirm_line(line.id, world.users["dispatcher-c1"])
    assert ledger_lines(START, END, user=world.users["psp-p2"]) == []
    assert len(ledger_lines(START, END, user=world.users["dispatcher-c1"])) == 10
    # a PSP recomputing only touches its own contractors' lines
    res = recompute_period(START, END, user=world.users["psp-p2"], now=NOW)
    assert not res.changed and len(ledger_lines(START, END, user=world.users["psp-p1"])) == 10
