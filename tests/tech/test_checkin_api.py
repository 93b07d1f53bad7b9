"""Check-in API: GPS proof, reasons, idempotency, device time, bad payloads, scope."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from fieldsvc.db import db
from fieldsvc.visits import models as m
from tests.conftest import login
from tests.tech.conftest import checkin_body, iso, now

URL = "/api/v1/visits/{}/check-in"


def events(client_event_id: str | None = None) -> list[m.ClientEvent]:
    q = select(m.ClientEvent)
    if client_event_id:
        q = q.where(m.ClientEvent.client_event_id == client_event_id)
    return list(db.session.scalars(q))


def status_audits(visit_id: int) -> list[m.AuditEvent]:
    return list(db.session.scalars(select(m.AuditEvent).where(
        m.AuditEvent.object_type == "visit", m.AuditEvent.object_id == visit_id, m.AuditEvent.action == "status")))


@pytest.fixture
def tech(client, day):
    login(client, "tech-c1-1")
    return client


def test_check_in_at_the_shop_is_verified(tech, day):
    r = tech.post(URL.format(day.pm.id), json=checkin_body(day.pm, dlat=0.0005))  # about 56 m north
    assert r.status_code == 200, r.json
    v = r.json
    assert v["status"] == "checked_in"
    assert v["checkin"]["verified"] is True and v["checkin"]["flags"] == []
    assert 50 < v["checkin"]["distance_m"] < 60
    assert v["event"]["status"] == "applied" and v["event"]["duplicate"] is False
    db.session.expire_all()
    visit = db.session.get(m.Visit, day.pm.id)
    assert visit.checkin_verified is True and visit.checkin_lat == pytest.approx(day.pm.merchant.lat + 0.0005)
    tech_row = db.session.get(m.Technician, day.pm.technician_id)
    assert tech_row.last_lat == pytest.approx(visit.checkin_lat) and tech_row.last_seen_at == visit.checkin_at


@pytest.mark.parametrize("over, flag", [
    ({"dlat": 0.01}, "distance"),                                   # about 1.1 km away
    ({"accuracy_m": 450.0}, "accuracy"),                            # worse than the 200 m radius
    ({"fix_at": iso(now() - timedelta(minutes=15))}, "stale_fix"),  # fix 5 min older than `at`
])
def test_unverified_check_in_needs_a_reason_and_is_flagged(tech, day, over, flag):
    body = checkin_body(day.pm, **over)
    r = tech.post(URL.format(day.pm.id), json=body)
    assert r.status_code == 422
    assert r.json["error"]["field"] == "reason"
    assert events() == []
    body["reason"] = "Shop moved to the next building"
    r = tech.post(URL.format(day.pm.id), json=body)
    assert r.status_code == 200, r.json
    assert r.json["checkin"]["verified"] is False
    assert flag in r.json["checkin"]["flags"]
    assert r.json["checkin"]["reason"] == "Shop moved to the next building"


def test_contract_geofence_radius_is_used(tech, day, world):
    world.contracts[0].geofence_m = 2000
    db.session.commit()
    r = tech.post(URL.format(day.pm.id), json=checkin_body(day.pm, dlat=0.01))
    assert r.status_code == 200 and r.json["checkin"]["verified"] is True


def test_location_denied_gives_a_flagged_check_in_with_reason(tech, day):
    body = checkin_body(day.pm, lat=None, lon=None, accuracy_m=None, fix_at=None, position_error="denied")
    assert tech.post(URL.format(day.pm.id), json=body).json["error"]["field"] == "reason"
    body["reason"] = "Phone GPS broken"
    r = tech.post(URL.format(day.pm.id), json=body)
    assert r.status_code == 200
    assert r.json["checkin"]["verified"] is False and r.json["checkin"]["flags"] == ["no_position"]
    assert r.json["checkin"]["lat"] is None


def test_same_event_twice_is_applied_once(tech, day):
    body = checkin_body(day.em)
    first = tech.post(URL.format(day.em.id), json=body)
    second = tech.post(URL.format(day.em.id), json=body)
    assert first.status_code == second.status_code == 200
    assert second.json["event"]["duplicate"] is True
    assert second.json["checkin"] == first.json["checkin"]
    assert len(events(body["client_event_id"])) == 1
    assert [a.to_state for a in status_audits(day.em.id)] == ["checked_in"]
    call_moves = db.session.scalars(select(func.count()).select_from(m.AuditEvent).where(
        m.AuditEvent.object_type == "service_call", m.AuditEvent.object_id == day.call.id,
        m.AuditEvent.action == "status")).one()
    assert call_moves == 1


def test_late_arrival_keeps_device_time_for_the_sla(tech, day):
    at = now() - timedelta(hours=3)
    r = tech.post(URL.format(day.em.id), json=checkin_body(day.em, at=at))
    assert r.status_code == 200
    db.session.expire_all()
    visit = db.session.get(m.Visit, day.em.id)
    call = db.session.get(m.ServiceCall, day.call.id)
    assert abs((visit.checkin_at - at).total_seconds()) < 0.01
    assert visit.checkin_received_at - visit.checkin_at > timedelta(hours=2, minutes=59)
    assert call.status == "in_progress"
    assert call.responded_at == visit.checkin_at
    assert 0 <= call.response_minutes <= 180


def test_device_time_in_the_future_is_clamped_and_recorded(tech, day):
    at = now() + timedelta(hours=2)
    body = checkin_body(day.pm, at=at, fix_at=iso(at))
    r = tech.post(URL.format(day.pm.id), json=body)
    assert r.status_code == 200
    assert r.json["event"]["clamped"] == "future"
    ev = events(body["client_event_id"])[0]
    assert ev.device_at == ev.received_at
    assert ev.payload["at"].startswith(at.isoformat()[:16])
    assert db.session.get(m.Visit, day.pm.id).checkin_at == ev.received_at


def test_earlier_check_in_arriving_later_becomes_the_arrival(tech, day):
    late = checkin_body(day.pm, at=now() - timedelta(minutes=10))
    early = checkin_body(day.pm, at=now() - timedelta(minutes=30))
    tech.post(URL.format(day.pm.id), json=late)
    r = tech.post(URL.format(day.pm.id), json=early)
    assert r.status_code == 200
    db.session.expire_all()
    assert events(late["client_event_id"])[0].result == "superseded"
    assert events(early["client_event_id"])[0].result == "applied"
    visit = db.session.get(m.Visit, day.pm.id)
    assert abs((visit.checkin_at - (now() - timedelta(minutes=30))).total_seconds()) < 60
    # a later repeat from another tap changes nothing
    again = checkin_body(day.pm, at=now() - timedelta(minutes=5))
    assert tech.post(URL.format(day.pm.id), json=again).json["event"]["status"] == "superseded"
    assert len(status_audits(day.pm.id)) == 1


@pytest.mark.parametrize("change, field", [
    ({"client_event_id": None}, "client_event_id"),
    ({"at": None}, "at"),
    ({"lat": None}, "lat"),
    ({"lon": None}, "lon"),
    ({"accuracy_m": None}, "accuracy_m"),
    ({"lat": 90.5}, "lat"),
    ({"lon": -180.01}, "lon"),
    ({"accuracy_m": -1}, "accuracy_m"),
    ({"at": "yesterday"}, "at"),
    ({"position_error": "lost"}, "position_error"),
])
def test_bad_check_in_payload_is_422_naming_the_field(tech, day, change, field):
    body = checkin_body(day.pm)
    for k, v in change.items():
        if v is None:
            body.pop(k)
        else:
            body[k] = v
    r = tech.post(URL.format(day.pm.id), json=body)
    assert r.status_code == 422
    assert r.json["error"]["field"] == field
    assert events() == []


def test_visit_of_another_technician_is_not_found(tech, day):
    r = tech.post(URL.format(day.other.id), json=checkin_body(day.other))
    assert r.status_code == 404
    assert tech.get(f"/api/v1/visits/{day.other.id}").status_code == 404
    assert tech.post(f"/api/v1/visits/{day.other.id}/check-out",
                     json={"outcome": "pm_done", "at": iso(now()), "client_event_id": "x" * 12}).status_code == 404
    assert db.session.get(m.Visit, day.other.id).status == "dispatched"


def test_only_technicians_check_in(client, day):
    login(client, "dispatcher-c1")
    assert client.post(URL.format(day.pm.id), json=checkin_body(day.pm)).status_code == 403
    assert client.get(f"/api/v1/visits/{day.pm.id}").status_code == 200


def test_reused_event_id_for_another_visit_is_a_conflict(tech, day):
    body = checkin_body(day.pm)
    tech.post(URL.format(day.pm.id), json=body)
    r = tech.post(URL.format(day.pm2.id), json=checkin_body(day.pm2, client_event_id=body["client_event_id"]))
    assert r.status_code == 409 and r.json["error"]["field"] == "client_event_id"
