"""Copies of the same events racing in parallel (a phone resending while the first answer is
still on its way): each event is applied exactly once and the visit ends completed."""
from __future__ import annotations

from sqlalchemy import select

from fieldsvc.db import db
from fieldsvc.visits import models as m
from tests.race import at_once, post_json
from tests.tech.conftest import checkin_body, checkout_body


def test_parallel_copies_of_check_in_and_check_out_apply_once(live_server, day):
    status, tok = post_json(f"{live_server}/api/v1/auth/token", {"username": "tech-c1-1", "password": "demo"})
    assert status == 200
    cin, cout = checkin_body(day.em), checkout_body("fixed")
    jobs = [(f"/api/v1/visits/{day.em.id}/check-in", cin), (f"/api/v1/visits/{day.em.id}/check-out", cout)] * 4
    results = at_once([lambda j=j: post_json(live_server + j[0], j[1], tok["token"]) for j in jobs])
    assert all(code in (200, 202) for code, _ in results), results
    db.session.expire_all()
    evs = db.session.scalars(select(m.ClientEvent).where(m.ClientEvent.visit_id == day.em.id)).all()
    assert sorted((e.client_event_id, e.result) for e in evs) == sorted(
        [(cin["client_event_id"], "applied"), (cout["client_event_id"], "applied")])
    assert db.session.get(m.Visit, day.em.id).status == "completed"
    assert db.session.get(m.ServiceCall, day.call.id).status == "resolved"
    moves = db.session.scalars(select(m.AuditEvent.to_state).where(
        m.AuditEvent.object_type == "visit", m.AuditEvent.object_id == day.em.id,
        m.AuditEvent.action == "status")).all()
    assert sorted(moves) == ["checked_in", "completed"]
