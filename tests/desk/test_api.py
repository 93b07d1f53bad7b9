"""The API of the desk: tier and first_response_by in a call's JSON, the desk actions of
`transition`, the notes endpoints, all in the OpenAPI document; bad input names the field."""
from __future__ import annotations

from fieldsvc.db import db
from fieldsvc.visits import models as m
from tests.conftest import login
from tests.desk.conftest import new_call


def _act(client, call, **body):
    return client.post(f"/api/v1/service-calls/{call.id}/transition", json=body)


def test_call_json_carries_tier_and_first_response(desk, clock, client):
    call = new_call(desk)
    login(client, "agent")
    body = client.get(f"/api/v1/service-calls/{call.id}").json
    assert body["tier"] == "tier1" and body["first_response_by"].startswith(call.first_response_by.isoformat()[:16])
    assert body["first_responded_at"] is None and body["sla"]["first_response"] == "ok"
    assert body["assignee"] is None and body["resolution_code"] is None


def test_resolve_remotely_transfer_and_dispatch_through_the_api(desk, clock, client):
    login(client, "agent")
    a, b = new_call(desk, serial="SN100"), new_call(desk, serial="SN101")
    r = _act(client, a, action="resolve_remotely", resolution_code="remote_reset", reason="rebooted via TMS")
    assert r.status_code == 200 and r.json["status"] == "resolved" and r.json["resolution_code"] == "remote_reset"
    assert r.json["first_responded_at"] and r.json["sla"]["first_response"] == "met"
    expert = desk.users["expert"]
    r = _act(client, b, action="transfer", to_user_id=expert.id, reason="keys")
    assert r.status_code == 200 and r.json["tier"] == "tier2" and r.json["assignee"]["id"] == expert.id
    r = _act(client, b, action="dispatch", reason="needs a swap")
    assert r.status_code == 200 and r.json["tier"] == "field" and r.json["status"] == "open"
    tiers = [(h["from_state"], h["to_state"], h["actor"]) for h in r.json["history"] if h["action"] == "tier"]
    assert tiers == [("tier1", "tier2", "agent"), ("tier2", "field", "agent")]


def test_bad_desk_input_names_the_field_and_writes_nothing(desk, clock, client):
    login(client, "agent")
    call = new_call(desk)
    before = db.session.scalar(db.select(db.func.count(m.AuditEvent.id)))
    cases = [
        ({"action": "resolve_remotely", "reason": "done"}, "resolution_code"),
        ({"action": "transfer", "to_user_id": desk.users["psp-p2"].id, "reason": "x"}, "to_user_id"),
        ({"action": "transfer", "to_user_id": 2**40, "reason": "x"}, "to_user_id"),
        ({"action": "transfer", "to_tier": "tier9", "reason": "x"}, "to_tier"),
        ({"action": "teleport"}, "action"),
    ]
    for body, field in cases:
        r = _act(client, call, **body)
        assert r.status_code == 422, (body, r.json)
        assert r.json["error"]["field"] == field, (body, r.json)
    db.session.expire_all()
    assert call.status == "open" and call.tier == "tier1"
    assert db.session.scalar(db.select(db.func.count(m.AuditEvent.id))) == before


def test_desk_actions_need_the_call_s_help_desk(desk, clock, client):
    call = new_call(desk)
    login(client, "dispatcher-c1")  # sees the call, but the PSP runs this contract's desk
    assert _act(client, call, action="dispatch", reason="x").status_code == 403
    client.post("/logout")
    login(client, "psp-p2")  # another tenant does not even see it
    assert _act(client, call, action="dispatch", reason="x").status_code == 404


def test_notes_api(desk, clock, client):
    call = new_call(desk)
    login(client, "agent")
    r = client.post(f"/api/v1/service-calls/{call.id}/notes", json={"body": "@expert look at this please"})
    assert r.status_code == 201 and r.json["kind"] == "internal" and r.json["mentions"] == [desk.users["expert"].id]
    r = client.post(f"/api/v1/service-calls/{call.id}/notes", json={"body": "@psp-p2 hi"})
    assert r.status_code == 422 and r.json["error"]["field"] == "body"
    r = client.post(f"/api/v1/service-calls/{call.id}/notes", json={"body": "x", "kind": "gossip"})
    assert r.status_code == 422 and r.json["error"]["field"] == "kind"
    r = client.post(f"/api/v1/service-calls/{call.id}/notes", json={"body": "Called the merchant", "kind": "remote_step"})
    assert r.status_code == 201
    listed = client.get(f"/api/v1/service-calls/{call.id}/notes").json
    assert [n["kind"] for n in listed] == ["internal", "remote_step"] and listed[0]["author"] == "agent"
    client.post("/logout")
    login(client, "tech-c1-1")
    assert client.get(f"/api/v1/service-calls/{call.id}/notes").status_code in (403, 404)
    client.post("/logout")
    login(client, "psp-p2")
    assert client.get(f"/api/v1/service-calls/{call.id}/notes").status_code == 404


def test_openapi_documents_the_desk(client, app):
    spec = client.get("/api/v1/openapi.json").json
    assert "/api/v1/service-calls/{call_id}/notes" in spec["paths"]
    notes = spec["paths"]["/api/v1/service-calls/{call_id}/notes"]
    assert {"get", "post"} <= set(notes)
    schemas = spec["components"]["schemas"]
    call = schemas["Call"]["properties"]
    assert {"tier", "first_response_by", "first_responded_at", "assignee", "resolution_code"} <= set(call)
    transition = schemas["Transition"]["properties"]
    assert {"resolve_remotely", "transfer", "dispatch"} <= set(transition["action"]["enum"])
    assert {"resolution_code", "to_tier", "to_user_id"} <= set(transition)
