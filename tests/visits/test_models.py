"""Domain model: relations, state machines with audited transitions, append-only audit, passwords."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.audit import transition_call, transition_visit
from fieldsvc.visits.states import (CALL_TRANSITIONS, VISIT_TRANSITIONS, CallStatus, IllegalTransition,
                                    VisitStatus)

T0 = datetime(2026, 11, 22, 6, 0, tzinfo=timezone.utc)


def _call(world) -> m.ServiceCall:
    t = world.terminals[0]
    call = m.ServiceCall(tracking_number="EM-TEST-1", terminal=t, merchant=t.merchant, psp=world.psps[0],
                         contractor=world.contractors[0], contract=world.contracts[0], priority="urgent",
                         symptom_code="no_power", reported_at=T0, response_by=T0, resolution_by=T0)
    db.session.add(call)
    db.session.commit()
    return call


def _visit(world) -> m.Visit:
    v = m.Visit(kind="pm", merchant=world.merchants[0], contractor=world.contractors[0],
                terminals=[world.terminals[0], world.terminals[1]])
    db.session.add(v)
    db.session.commit()
    return v


def test_world_relations(world):
    k1 = world.contracts[0]
    assert k1.psp.code == "p1" and k1.contractor.code == "c1" and [r.code for r in k1.regions] == ["r1"]
    assert len(world.merchants[0].terminals) == 2
    assert world.terminals[0].psp.code == "p1"


def test_times_come_back_aware_utc(world):
    call = _call(world)
    db.session.expire_all()
    again = db.session.get(m.ServiceCall, call.id)
    assert again.reported_at == T0 and again.reported_at.tzinfo is not None


def test_naive_datetime_is_refused(world):
    call = _call(world)
    call.resolved_at = datetime(2026, 11, 22, 8, 0)
    with pytest.raises(Exception, match="naive datetime"):
        db.session.commit()
    db.session.rollback()


def test_call_lifecycle_is_audited(world):
    call = _call(world)
    actor = world.users["dispatcher-c1"]
    for new in ("assigned", "scheduled", "in_progress", "resolved", "closed", "open"):
        transition_call(call, new, actor=actor, note=f"to {new}")
    db.session.commit()
    events = db.session.scalars(select(m.AuditEvent).where(m.AuditEvent.object_type == "service_call",
                                                           m.AuditEvent.object_id == call.id,
                                                           m.AuditEvent.action == "status")  # not "tier" (issue 21)
                                .order_by(m.AuditEvent.id)).all()
    assert [(e.from_state, e.to_state) for e in events] == [
        ("open", "assigned"), ("assigned", "scheduled"), ("scheduled", "in_progress"),
        ("in_progress", "resolved"), ("resolved", "closed"), ("closed", "open")]
    assert all(e.actor == "dispatcher-c1" and e.actor_id == actor.id for e in events)
    assert events[0].data == {"note": "to assigned"}
    assert events[0].psp_id == world.psps[0].id and events[0].contractor_id == world.contractors[0].id


def test_illegal_call_transition_names_both_states(world):
    call = _call(world)
    transition_call(call, "cancelled", cancel_reason="duplicate")
    with pytest.raises(IllegalTransition, match="from 'cancelled' to 'assigned'"):
        transition_call(call, "assigned")
    assert call.status == "cancelled"


def test_visit_lifecycle_and_illegal_transition(world):
    v = _visit(world)
    assert [t.serial for t in v.terminals] == ["SN100", "SN101"]
    transition_visit(v, "dispatched")
    transition_visit(v, "checked_in")
    transition_visit(v, "completed")
    db.session.commit()
    with pytest.raises(IllegalTransition, match="visit from 'completed' to 'planned'"):
        transition_visit(v, "planned")
    n = db.session.scalar(select(db.func.count()).select_from(m.AuditEvent).where(
        m.AuditEvent.object_type == "visit"))
    assert n == 3


@pytest.mark.parametrize("table,enum", [(CALL_TRANSITIONS, CallStatus), (VISIT_TRANSITIONS, VisitStatus)])
def test_every_state_has_a_transition_row(table, enum):
    assert set(table) == set(enum)
    for targets in table.values():
        assert targets <= set(enum)


def test_audit_rows_are_append_only(world):
    call = _call(world)
    transition_call(call, "assigned")
    db.session.commit()
    ev = db.session.scalars(select(m.AuditEvent)).first()
    ev.action = "tampered"
    with pytest.raises(m.AppendOnlyError):
        db.session.commit()
    db.session.rollback()
    with pytest.raises(m.AppendOnlyError):
        db.session.delete(db.session.scalars(select(m.AuditEvent)).first())
        db.session.commit()
    db.session.rollback()


def test_passwords_are_hashed(world):
    u = world.users["admin"]
    assert "demo" not in u.password_hash and u.check_password("demo") and not u.check_password("wrong")


def test_concurrent_edit_of_a_call_is_detected(app, world):
    from sqlalchemy.orm import Session
    from sqlalchemy.orm.exc import StaleDataError
    call = _call(world)
    with Session(db.engine) as other:
        twin = other.get(m.ServiceCall, call.id)
        twin.escalation_level = 1
        other.commit()
    call.escalation_level = 2
    with pytest.raises(StaleDataError):
        db.session.commit()
    db.session.rollback()
