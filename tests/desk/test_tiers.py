"""Tiers before the field: open at tier 1, resolve remotely (→ QC close and survey), transfer,
dispatch; every step audited with actor, time and reason; bad input refused, nothing written."""
from __future__ import annotations

from datetime import timedelta

import pytest

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.desk import calls as svc
from fieldsvc.visits.desk import tiers
from fieldsvc.visits.desk.errors import CallError
from fieldsvc.visits.scope import Forbidden
from fieldsvc.visits.states import IllegalTransition
from fieldsvc.web.mail import read_outbox
from tests.desk.conftest import T0, audit, new_call


def test_a_call_opens_at_tier_1_with_a_first_response_deadline(desk, clock):
    call = new_call(desk)  # urgent: first response within 60 working minutes
    assert call.tier == "tier1" and call.assignee_id is None
    assert call.first_response_by == T0 + timedelta(minutes=60)
    assert call.first_responded_at is None


def test_tier_1_resolves_remotely_then_qc_close_and_survey(desk, clock, app):
    call = new_call(desk)
    clock(T0 + timedelta(minutes=20))
    tiers.resolve_remotely(call, desk.users["agent"], "remote_reset", "Restarted the terminal from the TMS")
    db.session.expire_all()
    assert call.status == "resolved" and call.resolution_code == "remote_reset"
    assert call.remote_resolved_tier == "tier1" and call.resolved_at == T0 + timedelta(minutes=20)
    assert call.first_responded_at == T0 + timedelta(minutes=20) and call.first_response_minutes == 20
    assert call.resolution_minutes == 20
    ev = audit(call, "status")[-1]
    assert (ev.from_state, ev.to_state, ev.actor) == ("open", "resolved", "agent")
    assert ev.data["remote"] is True and ev.data["reason"] == "Restarted the terminal from the TMS"
    assert ev.data["resolution_code"] == "remote_reset" and ev.at is not None
    # the same QC close and survey as a field fix
    svc.close_call(call, desk.users["psp-p1"], note="merchant confirmed by phone")
    assert call.status == "closed" and call.survey_token
    svc.submit_survey(call, call.survey_token, 5, "fast")
    assert call.survey_score == 5
    bodies = [msg.get_body(("plain",)).get_content() for msg in read_outbox(app.config["OUTBOX_DIR"])
              if msg["To"] == call.merchant.email]
    assert any(f"/survey/{call.survey_token}" in b for b in bodies)


def test_transfer_to_tier_2_then_the_expert_dispatches_to_the_field(desk, clock):
    call = new_call(desk)
    tiers.transfer(call, desk.users["agent"], to_tier="tier2", reason="needs key injection")
    assert call.tier == "tier2" and call.first_responded_at is None  # a transfer is no response
    ev = audit(call, "tier")[-1]
    assert (ev.from_state, ev.to_state, ev.actor, ev.data["reason"]) == ("tier1", "tier2", "agent",
                                                                         "needs key injection")
    clock(T0 + timedelta(minutes=45))
    tiers.dispatch(call, desk.users["expert"], reason="keypad broken, needs a swap")
    assert call.tier == "field" and call.dispatched_from_tier == "tier2" and call.status == "open"
    assert call.first_responded_at == T0 + timedelta(minutes=45)
    ev = audit(call, "tier")[-1]
    assert (ev.from_state, ev.to_state, ev.actor) == ("tier2", "field", "expert")
    told = db.session.scalars(db.select(m.Notification).where(m.Notification.kind == "dispatched")).all()
    assert [n.user_id for n in told] == [desk.users["dispatcher-c1"].id]
    # the field is the existing flow
    svc.assign_technician(call, desk.technicians[0].id, desk.users["dispatcher-c1"])
    assert call.status in ("scheduled", "assigned") and call.tier == "field"


def test_assigning_a_call_still_at_the_desk_dispatches_it(desk, clock):
    call = new_call(desk)
    clock(T0 + timedelta(minutes=10))
    svc.assign_technician(call, desk.technicians[0].id, desk.users["dispatcher-c1"])
    db.session.expire_all()
    assert call.tier == "field" and call.dispatched_from_tier == "tier1"
    assert call.first_responded_at is not None
    ev = audit(call, "tier")[-1]
    assert ev.to_state == "field" and ev.actor == "dispatcher-c1" and ev.data["implied"] is True


def test_transfer_to_a_named_expert_hands_it_over_and_tells_them(desk, clock):
    call = new_call(desk)
    expert = desk.users["expert"]
    tiers.transfer(call, desk.users["agent"], to_user_id=expert.id, reason="you know this model")
    assert call.tier == "tier2" and call.assignee_id == expert.id
    n = db.session.scalars(db.select(m.Notification).where(m.Notification.user_id == expert.id)).one()
    assert n.kind == "handover" and n.call_id == call.id and n.data["by"] == "agent"
    rows = tiers.queue(expert, "tier2", mine=True)
    assert [r.call.id for r in rows] == [call.id]
    assert tiers.queue_counts(expert) == {"tier1": 0, "tier2": 1, "field": 0}


def _unchanged(call, events_before):
    db.session.expire_all()
    assert call.status == "open" and call.tier == "tier1" and call.assignee_id is None
    assert call.first_responded_at is None and call.resolution_code is None
    assert len(audit(call)) == events_before


@pytest.mark.parametrize("kwargs, field", [
    ({"action": "resolve_remotely", "reason": "fixed"}, "resolution_code"),
    ({"action": "resolve_remotely", "resolution_code": "magic", "reason": "fixed"}, "resolution_code"),
    ({"action": "resolve_remotely", "resolution_code": "remote_reset"}, "reason"),
    ({"action": "transfer", "to_tier": "tier2"}, "reason"),
    ({"action": "transfer", "reason": "x"}, "to_tier"),
    ({"action": "transfer", "to_tier": "field", "reason": "x"}, "to_tier"),
    ({"action": "transfer", "to_tier": "tier1", "reason": "x"}, "to_tier"),
    ({"action": "transfer", "to_user": "psp-p2", "reason": "x"}, "to_user_id"),
    ({"action": "transfer", "to_user": "tech-c1-1", "reason": "x"}, "to_user_id"),
    ({"action": "transfer", "to_user": "dispatcher-c1", "reason": "x"}, "to_user_id"),
    ({"action": "dispatch"}, "reason"),
    ({"action": "fly"}, "action"),
])
def test_bad_input_names_the_field_and_writes_nothing(desk, clock, kwargs, field):
    call = new_call(desk)
    before = len(audit(call))
    to_user = kwargs.pop("to_user", None)
    if to_user:
        kwargs["to_user_id"] = desk.users[to_user].id
    with pytest.raises(CallError) as e:
        tiers.apply_desk_action(call, desk.users["agent"], **kwargs)
    assert e.value.field == field
    _unchanged(call, before)


def test_only_the_call_s_help_desk_works_its_tiers(desk, clock):
    call = new_call(desk)
    with pytest.raises(Forbidden):  # the PSP's desk by default, not the contractor
        tiers.dispatch(call, desk.users["dispatcher-c1"], "x")
    call.contract.help_desk = "contractor"
    db.session.commit()
    with pytest.raises(Forbidden):
        tiers.dispatch(call, desk.users["agent"], "x")
    with pytest.raises(CallError) as e:  # the contractor's desk hands over within the contractor only
        tiers.transfer(call, desk.users["dispatcher-c1"], to_user_id=desk.users["agent"].id, reason="x")
    assert e.value.field == "to_user_id"
    tiers.dispatch(call, desk.users["dispatcher-c1"], "the contractor's desk sends its own technician")
    assert call.tier == "field"


def test_a_call_in_the_field_is_not_resolved_remotely_and_field_resolve_needs_a_visit(desk, clock):
    call = new_call(desk)
    tiers.dispatch(call, desk.users["agent"], "needs a visit")
    with pytest.raises(CallError) as e:
        tiers.resolve_remotely(call, desk.users["agent"], "remote_reset", "x")
    assert e.value.field == "action"
    with pytest.raises(IllegalTransition):  # the field's "resolve" is for a call a technician works
        svc.resolve_call(call, desk.users["dispatcher-c1"])
    # an expert can take it back while no technician has it
    tiers.transfer(call, desk.users["agent"], to_tier="tier2", reason="merchant found the SIM loose")
    assert call.tier == "tier2"


def test_two_agents_at_once_one_wins_the_other_is_told(desk, clock):
    call = new_call(desk)
    db.session.refresh(call)
    with db.engine.begin() as conn:  # another agent changed the call meanwhile
        conn.execute(m.ServiceCall.__table__.update().where(m.ServiceCall.id == call.id)
                     .values(version=m.ServiceCall.version + 1, tier="tier2"))
    with pytest.raises(CallError) as e:
        tiers.apply_desk_action(call, desk.users["agent"], "dispatch", reason="needs a visit")
    assert (e.value.status, e.value.field) == (409, "version")
    db.session.expire_all()
    assert call.tier == "tier2" and call.dispatched_from_tier is None
    assert [ev.to_state for ev in audit(call, "tier")] == []
