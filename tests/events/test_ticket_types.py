"""Ticket types: own SLA targets in the contract, own queue with counts, split into linked calls,
installation request → work order."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.desk import calls as svc
from fieldsvc.visits.desk import ticket_types as tt
from fieldsvc.visits.desk.errors import CallError
from fieldsvc.visits.lifecycle_models import WorkOrder
from tests.conftest import login
from tests.events.conftest import T0
from tests.factories import DEFAULT_CALENDAR, DEFAULT_PENALTIES, DEFAULT_TARGETS

CHANGE_TARGETS = {"critical": {"response_minutes": 30, "resolution_minutes": 60},
                  "urgent": {"response_minutes": 60, "resolution_minutes": 120},
                  "normal": {"response_minutes": 90, "resolution_minutes": 180}, "at_risk_fraction": 0.8}


def _version_with_type_targets(contract: m.Contract) -> None:
    db.session.add(m.ContractVersion(contract=contract, number=1, effective_from=date(2026, 1, 1),
                                     em_targets=DEFAULT_TARGETS, calendar=DEFAULT_CALENDAR,
                                     penalty_terms=DEFAULT_PENALTIES, pm_intervals={},
                                     type_targets={"change": CHANGE_TARGETS}))
    db.session.commit()


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_each_type_has_its_own_targets(app, world):
    _version_with_type_targets(world.contracts[0])
    user = world.users["psp-p1"]
    change = svc.open_call(user, priority="urgent", symptom_code="change_merchant_id", terminal_serial="SN100",
                           reported_at=T0, ticket_type="change")
    fault = svc.open_call(user, priority="urgent", symptom_code="printer", terminal_serial="SN100", reported_at=T0)
    info = svc.open_call(user, priority="urgent", symptom_code="info_request", terminal_serial="SN110",
                         reported_at=T0, ticket_type="information")
    assert change.response_by == T0 + timedelta(minutes=60) and change.resolution_by == T0 + timedelta(minutes=120)
    assert fault.response_by == T0 + timedelta(minutes=240)
    assert info.response_by == fault.response_by  # no targets of its own: the contract's em_targets
    assert change.profile.ticket_type == "change" and fault.profile.ticket_type == "fault"
    # a new priority recomputes from the type's targets
    svc.change_priority(change, "critical", user)
    assert change.response_by == T0 + timedelta(minutes=30)


def test_bad_ticket_type_and_bad_type_targets_name_the_field(client, world):
    login(client, "psp-p1")
    r = client.post("/api/v1/call-queues", json={"ticket_type": "repair", "terminal_serial": "SN100",
                                                 "priority": "urgent", "symptom": "printer"})
    assert r.status_code == 422 and r.json["error"]["field"] == "ticket_type"
    base = {"code": "p1-typed", "contractor_id": world.contractors[0].id, "valid_from": "2026-01-01"}
    bad = [({"repair": CHANGE_TARGETS}, "type_targets.repair"),
           ({"change": {**CHANGE_TARGETS, "urgent": {"response_minutes": 100, "resolution_minutes": 50}}},
            "type_targets.change.urgent.resolution_minutes"),
           ({"change": {"critical": {"response_minutes": 5, "resolution_minutes": 10}}}, "type_targets.change.urgent")]
    for targets, field in bad:
        r = client.post("/api/v1/contracts", json={**base, "terms": {"type_targets": targets}})
        assert r.status_code == 422 and r.json["error"]["field"] == field, r.json
    assert _count(m.Contract) == 2
    r = client.post("/api/v1/contracts", json={**base, "terms": {"type_targets": {"change": CHANGE_TARGETS}}})
    assert r.status_code == 201 and r.json["in_force"]["type_targets"]["change"]["urgent"]["response_minutes"] == 60


def test_queues_filter_by_type_with_counts(client, world):
    user = world.users["psp-p1"]
    svc.open_call(user, priority="urgent", symptom_code="printer", terminal_serial="SN100", reported_at=T0)
    svc.open_call(user, priority="normal", symptom_code="add_sim", terminal_serial="SN100", reported_at=T0,
                  ticket_type="change")
    svc.open_call(user, priority="normal", symptom_code="new_terminal", terminal_serial="SN110", reported_at=T0,
                  ticket_type="installation")
    svc.open_call(world.users["psp-p2"], priority="normal", symptom_code="add_sim", terminal_serial="SN200",
                  reported_at=T0, ticket_type="change")
    login(client, "psp-p1")
    r = client.get("/api/v1/call-queues?type=change")
    assert r.status_code == 200
    assert r.json["counts"] == {"fault": 1, "change": 1, "information": 0, "installation": 1}
    assert [c["symptom"] for c in r.json["items"]] == ["add_sim"] and r.json["items"][0]["ticket_type"] == "change"
    assert client.get("/api/v1/call-queues?type=nonsense").json["error"]["field"] == "type"
    page = client.get("/psp/calls/?type=installation").get_data(as_text=True)
    assert 'data-type="installation"' in page and 'data-type="change"' in page
    rows = page.split('id="calls"', 1)[1]
    assert "SN110" in rows and "SN100" not in rows  # only the installation request's terminal


def test_split_into_linked_calls_both_ways(client, world):
    user = world.users["psp-p1"]
    call = svc.open_call(user, priority="urgent", symptom_code="printer", terminal_serial="SN100", reported_at=T0,
                         symptom_text="printer and card reader and keypad")
    login(client, "psp-p1")
    # a bad part: nothing written
    r = client.post(f"/api/v1/service-calls/{call.id}/split",
                    json={"parts": [{"symptom": "card_reader"}, {"symptom": "printer"}]})
    assert r.status_code == 422 and r.json["error"]["field"] == "parts[1].symptom"
    assert _count(m.ServiceCall) == 1
    r = client.post(f"/api/v1/service-calls/{call.id}/split",
                    json={"parts": [{"symptom": "card_reader"}, {"symptom": "keypad", "priority": "normal"}]})
    assert r.status_code == 201, r.json
    new = r.json
    assert [c["split_from"] for c in new] == [call.tracking_number] * 2
    assert [c["priority"] for c in new] == ["urgent", "normal"]
    assert all(c["reported_at"] == new[0]["reported_at"] for c in new)
    one = client.get(f"/api/v1/call-queues/{call.id}").json
    assert one["split_into"] == [c["tracking_number"] for c in new]
    assert [e["data"].get("split_into") for e in one["history"] if e["action"] == "split"] == \
        [c["tracking_number"] for c in new]
    child = db.session.get(m.ServiceCall, new[0]["id"])
    assert any(e.action == "split" and e.data["split_from"] == call.tracking_number for e in svc.history(child))
    page = client.get(f"/psp/calls/{call.id}").get_data(as_text=True)
    assert new[0]["tracking_number"] in page and new[1]["tracking_number"] in page
    page = client.get(f"/psp/calls/{child.id}").get_data(as_text=True)
    assert call.tracking_number in page


def test_installation_request_becomes_a_work_order(client, world):
    user = world.users["psp-p1"]
    call = svc.open_call(user, priority="normal", symptom_code="new_terminal", terminal_serial="SN100",
                         reported_at=T0, ticket_type="installation")
    fault = svc.open_call(user, priority="normal", symptom_code="printer", terminal_serial="SN100", reported_at=T0)
    login(client, "psp-p1")
    r = client.post(f"/api/v1/service-calls/{fault.id}/work-order", json={"model": "PAX S90"})
    assert r.status_code == 422 and r.json["error"]["field"] == "ticket_type"
    r = client.post(f"/api/v1/service-calls/{call.id}/work-order", json={"model": "PAX S90", "family": "nosuch"})
    assert r.status_code == 422 and r.json["error"]["field"] == "family"
    assert _count(WorkOrder) == 0 and db.session.get(m.ServiceCall, call.id).status == "open"
    r = client.post(f"/api/v1/service-calls/{call.id}/work-order", json={"model": "PAX S90"})
    assert r.status_code == 201, r.json
    order = db.session.get(WorkOrder, r.json["id"])
    assert order.kind == "install" and order.merchant_id == call.merchant_id and order.visit_id is not None
    db.session.expire_all()
    call = db.session.get(m.ServiceCall, call.id)
    assert call.status == "cancelled" and order.number in call.cancel_reason
    assert client.get(f"/api/v1/call-queues/{call.id}").json["work_order"] == order.number
    again = client.post(f"/api/v1/service-calls/{call.id}/work-order", json={"model": "PAX S90"})
    assert again.status_code == 409 and _count(WorkOrder) == 1


def test_split_refuses_finished_calls_and_other_roles(app, world):
    user = world.users["psp-p1"]
    call = svc.open_call(user, priority="urgent", symptom_code="printer", terminal_serial="SN100", reported_at=T0)
    svc.cancel_call(call, user, "merchant called back")
    try:
        tt.split_call(call, [{"symptom": "keypad"}], user)
        raise AssertionError("split a cancelled call")
    except CallError as e:
        assert e.field == "parts"
