"""The first-response clock: per priority from the contract, in working time (across a holiday
and a pause), stopped by the first human action only."""
from __future__ import annotations

from datetime import timedelta

from fieldsvc.db import db
from fieldsvc.visits.desk import calls as svc
from fieldsvc.visits.desk import first_response, notes, tiers
from tests.desk.conftest import DAY, T0, new_call, tehran


def test_deadline_skips_a_holiday_and_the_night(desk, clock):
    contract = desk.contracts[0]
    monday = DAY + timedelta(days=1)
    contract.calendar = dict(contract.calendar, extra_holidays=[monday.isoformat()])
    db.session.commit()
    at = tehran(DAY, "16:30")  # Sunday: 30 working minutes left; Monday a holiday
    clock(at)
    call = new_call(desk, priority="normal", at=at)  # 120 working minutes
    assert call.first_response_by == tehran(DAY + timedelta(days=2), "09:30")  # Tuesday 08:00 + 90 min


def test_a_pause_pushes_the_deadline_back(desk, clock):
    call = new_call(desk)  # urgent: 10:30
    assert call.first_response_by == tehran(DAY, "10:30")
    clock(tehran(DAY, "09:40"))
    svc.pause_call(call, "shop closed for prayers", desk.users["psp-p1"])
    clock(tehran(DAY, "10:10"))
    svc.resume_call(call, desk.users["psp-p1"])
    assert call.first_response_by == tehran(DAY, "11:00")
    clock(tehran(DAY, "10:40"))
    notes.add_note(call, desk.users["agent"], "Asked the merchant to reseat the SIM", "remote_step")
    assert call.first_responded_at == tehran(DAY, "10:40")
    assert call.first_response_minutes == 40  # 70 minutes less the 30 paused
    assert first_response.is_met(call) is True and first_response.state(call) == "met"


def test_internal_notes_and_transfers_do_not_stop_it_but_a_note_to_the_merchant_does(desk, clock):
    call = new_call(desk)
    notes.add_note(call, desk.users["agent"], "looks like the printer head", "internal")
    tiers.transfer(call, desk.users["agent"], to_tier="tier2", reason="printer expert")
    assert call.first_responded_at is None
    clock(T0 + timedelta(minutes=55))
    assert first_response.state(call) == "at_risk"
    clock(T0 + timedelta(minutes=70))
    assert first_response.state(call) == "breached"
    notes.add_note(call, desk.users["expert"], "We are checking your terminal remotely.", "merchant")
    assert call.first_responded_at == T0 + timedelta(minutes=70)
    assert first_response.is_met(call) is False and first_response.state(call) == "missed"
    clock(T0 + timedelta(minutes=90))
    tiers.dispatch(call, desk.users["expert"], "printer head broken")
    assert call.first_responded_at == T0 + timedelta(minutes=70)  # set once, never moves


def test_no_target_means_no_clock(world, clock):
    call = new_call(world)  # the factory's contracts have no first-response target
    assert call.first_response_by is None and first_response.state(call) is None
