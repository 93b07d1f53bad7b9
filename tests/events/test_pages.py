"""The monitoring page (rules added and edited with errors under the field), the call page's ticket
card with its split and work-order forms, and the intake form's ticket type."""
from __future__ import annotations

from sqlalchemy import func, select

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.desk import calls as svc
from fieldsvc.visits.lifecycle_models import WorkOrder
from tests.conftest import login
from tests.events.conftest import T0, add_rule


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_monitoring_page_adds_and_edits_rules(client, world):
    login(client, "psp-p1")
    assert client.get("/psp/service/monitoring").status_code == 200
    r = client.post("/psp/service/monitoring", data={"kind": "error", "code": "e 42", "priority": "urgent",
                                                     "symptom": "software", "throttle_minutes": "30", "active": "y"})
    assert r.status_code == 302
    rule = db.session.scalars(select(m.TerminalEventRule)).one()
    assert (rule.kind, rule.code, rule.throttle_minutes, rule.psp_id) == ("error", "E42", 30, world.psps[0].id)
    # the same kind and code again: refused under the code field, nothing written
    r = client.post("/psp/service/monitoring", data={"kind": "error", "code": "E42", "priority": "urgent",
                                                     "symptom": "printer", "throttle_minutes": "30"})
    assert r.status_code == 422 and "invalid-feedback" in r.get_data(as_text=True)
    # silent hours on an error rule: refused
    r = client.post("/psp/service/monitoring", data={"kind": "error", "code": "E7", "priority": "urgent",
                                                     "symptom": "printer", "throttle_minutes": "30", "silent_hours": "4"})
    assert r.status_code == 422 and _count(m.TerminalEventRule) == 1
    r = client.post(f"/psp/service/monitoring?rule={rule.id}", data={
        "kind": "error", "code": "E42", "priority": "critical", "symptom": "software", "throttle_minutes": "15"})
    assert r.status_code == 302
    db.session.refresh(rule)
    assert rule.priority == "critical" and rule.active is False  # the box was left unticked
    # another PSP's rule is not reachable
    other = add_rule(world, psp_id=world.psps[1].id)
    assert client.get(f"/psp/service/monitoring?rule={other.id}").status_code == 404


def test_rules_api_names_bad_fields(client, world):
    login(client, "psp-p1")
    cases = [({"kind": "smoke", "symptom": "printer"}, "kind"),
             ({"kind": "error", "symptom": "fire"}, "symptom"),
             ({"kind": "error", "symptom": "printer", "priority": "now"}, "priority"),
             ({"kind": "error", "symptom": "printer", "throttle_minutes": -1}, "throttle_minutes"),
             ({"kind": "silent", "symptom": "no_connection", "silent_hours": 0}, "silent_hours"),
             ({"kind": "silent", "symptom": "no_connection", "code": "X"}, "code"),
             ({"symptom": "printer"}, "kind")]
    for body, field in cases:
        r = client.post("/api/v1/terminal-event-rules", json=body)
        assert r.status_code == 422 and r.json["error"]["field"] == field, (body, r.json)
    assert _count(m.TerminalEventRule) == 0
    r = client.post("/api/v1/terminal-event-rules", json={"kind": "silent", "symptom": "no_connection",
                                                          "silent_hours": 8, "priority": "urgent"})
    assert r.status_code == 201 and r.json["silent_hours"] == 8
    rid = r.json["id"]
    r = client.patch(f"/api/v1/terminal-event-rules/{rid}", json={"silent_hours": "many"})
    assert r.status_code == 422 and r.json["error"]["field"] == "silent_hours"
    assert client.get(f"/api/v1/terminal-event-rules/{rid}").json["silent_hours"] == 8
    assert [x["id"] for x in client.get("/api/v1/terminal-event-rules").json] == [rid]
    login(client, "dispatcher-c1")
    assert client.get("/api/v1/terminal-event-rules").status_code == 403


def test_call_page_split_and_work_order_forms(client, world):
    user = world.users["psp-p1"]
    call = svc.open_call(user, priority="urgent", symptom_code="printer", terminal_serial="SN100", reported_at=T0)
    install = svc.open_call(user, priority="normal", symptom_code="new_terminal", terminal_serial="SN110",
                            reported_at=T0, ticket_type="installation")
    login(client, "psp-p1")
    page = client.get(f"/psp/calls/{call.id}").get_data(as_text=True)
    assert 'id="split-form"' in page and 'id="order-form"' not in page
    r = client.post(f"/psp/service/calls/{call.id}/split", data={"symptom": ["keypad", "", "card_reader"]})
    assert r.status_code == 302 and _count(m.ServiceCall) == 4
    page = client.get(f"/psp/calls/{call.id}").get_data(as_text=True)
    assert 'id="split-into"' in page
    r = client.post(f"/psp/service/calls/{call.id}/split", data={"symptom": ["keypad"]})  # an open duplicate now
    assert r.status_code == 302 and _count(m.ServiceCall) == 4
    page = client.get(f"/psp/calls/{install.id}").get_data(as_text=True)
    assert 'id="order-form"' in page
    r = client.post(f"/psp/service/calls/{install.id}/work-order", data={"model": "PAX S90"})
    assert r.status_code == 302 and _count(WorkOrder) == 1
    login(client, "dispatcher-c1")
    assert client.post(f"/psp/service/calls/{call.id}/split", data={"symptom": ["battery"]}).status_code == 403


def test_intake_form_opens_a_change_request(client, world):
    login(client, "psp-p1")
    r = client.post("/psp/calls/new", data={"terminal_serial": "SN100", "channel": "phone", "priority": "normal",
                                            "symptom": "add_sim", "ticket_type": "change"})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    call = db.session.scalars(select(m.ServiceCall)).one()
    assert call.profile.ticket_type == "change"


def test_monitoring_page_lists_events_with_their_result(client, world, bearer):
    from tests.events.conftest import event

    add_rule(world)
    client.post("/api/v1/terminal-events", json={"events": [event("pg-1"), event("pg-2", serial="NOPE")]},
                headers=bearer)
    login(client, "psp-p1")
    page = client.get("/psp/service/monitoring").get_data(as_text=True)
    assert "pg-1" in page and "pg-2" in page
    page = client.get("/psp/service/monitoring?outcome=unknown_terminal").get_data(as_text=True)
    assert "pg-2" in page and "pg-1" not in page
