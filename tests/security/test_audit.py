"""The audit trail (issue 8, point 5): logins, failed logins, state changes and penalty decisions
are recorded; the admin page lists and filters them; audit rows cannot be changed or deleted."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import delete, select, update

from fieldsvc.db import db, utcnow
from fieldsvc.visits.audit import record
from fieldsvc.visits.models import AppendOnlyError, AuditEvent, User
from tests.conftest import login


def _events(action: str | None = None) -> list[AuditEvent]:
    q = select(AuditEvent).order_by(AuditEvent.id)
    if action:
        q = q.where(AuditEvent.action == action)
    return list(db.session.scalars(q))


def test_audit_rows_cannot_be_changed_or_deleted(world) -> None:
    ev = record("test_event", world.users["admin"], actor=world.users["admin"])
    db.session.commit()
    ev.action = "tampered"
    with pytest.raises(AppendOnlyError):
        db.session.commit()
    db.session.rollback()
    db.session.delete(ev)
    with pytest.raises(AppendOnlyError):
        db.session.commit()
    db.session.rollback()
    table = AuditEvent.__table__
    for stmt in (update(AuditEvent).values(action="tampered"), delete(AuditEvent),
                 table.update().values(action="tampered"), table.delete()):
        with pytest.raises(AppendOnlyError):
            db.session.execute(stmt)
        db.session.rollback()
    assert [e.action for e in _events("test_event")] == ["test_event"]
    # a Core update of any other table goes through (it once raised KeyError: 'parententity')
    db.session.execute(User.__table__.update().where(User.__table__.c.id == -1).values(name="x"))
    db.session.rollback()


def test_state_changes_and_penalty_decisions_are_audited(client, tenants) -> None:
    """A check-in through the API and a penalty confirmation leave their AuditEvents."""
    a = tenants.a
    tech = client.application.test_client()
    assert login(tech, "tech-c1-1").status_code == 302
    r = tech.post(f"/api/v1/visits/{a.visit.id}/check-in",
                  json={"lat": a.merchant.lat, "lon": a.merchant.lon, "accuracy_m": 8,
                        "at": utcnow().isoformat(), "client_event_id": uuid.uuid4().hex,
                        "reason": "may be outside the shop's hours at the time the test runs"})
    assert r.status_code == 200, r.get_data(as_text=True)
    visit_events = [e for e in _events("status") if e.object_type == "visit" and e.object_id == a.visit.id]
    assert [(e.from_state, e.to_state, e.actor) for e in visit_events] == [("dispatched", "checked_in", "tech-c1-1")]
    psp = client.application.test_client()
    assert login(psp, "psp-p1").status_code == 302
    r = psp.post(f"/api/v1/penalties/{a.penalty.id}/confirm", json={"reason": "agreed"})
    assert r.status_code == 200, r.get_data(as_text=True)
    decided = [e for e in _events("status") if e.object_type == "penalty_line"]
    assert [(e.object_id, e.to_state, e.actor) for e in decided] == [(a.penalty.id, "confirmed", "psp-p1")]


def test_admin_page_lists_and_filters(client, world) -> None:
    other = client.application.test_client()
    login(other, "psp-p1", "wrong")
    login(other, "psp-p1")
    login(client, "admin")
    html = client.get("/admin/audit", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "login_failed" in html and "psp-p1" in html
    r = client.get("/admin/audit", query_string={"action": "login_failed"}, headers={"Accept-Language": "en"})
    rows = r.get_data(as_text=True).split('id="audit-table"', 1)[1]
    assert "failed login" in rows and "logged in" not in rows  # actions in words (issue 17.8)
    r = client.get("/admin/audit", query_string={"actor": "ADMIN"}, headers={"Accept-Language": "en"})
    rows = r.get_data(as_text=True).split('id="audit-table"', 1)[1]
    assert ">admin<" in rows and "psp-p1" not in rows
    # dates in Jalali on Persian pages (today is within 1405/09/01 – 1499/01/01)
    r = client.get("/admin/audit", query_string={"from": "۱۴۰۰/۰۱/۰۱", "to": "۱۴۹۹/۰۱/۰۱"},
                   headers={"Accept-Language": "fa"})
    assert r.status_code == 200 and "login_failed" in r.get_data(as_text=True)
    r = client.get("/admin/audit", query_string={"from": "1300/01/01", "to": "1300/01/02"})
    assert "login_failed" not in r.get_data(as_text=True).split('id="audit-table"', 1)[1]
    r = client.get("/admin/audit", query_string={"from": "yesterday"}, headers={"Accept-Language": "en"})
    assert r.status_code == 422 and "Enter a date like 2026-11-22" in r.get_data(as_text=True)


def test_audit_page_is_for_admins_only(client, world) -> None:
    login(client, "psp-p1")
    assert client.get("/admin/audit").status_code == 403
