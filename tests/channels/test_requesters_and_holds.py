"""Designated requesters: calls from others (form, API, e-mail, phone) are held; the desk confirms
or rejects each once; groups and people are managed by API and pages with clear errors."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.channel_models import DesignatedRequester, HeldCall, RequesterGroup
from fieldsvc.visits.desk import holds
from fieldsvc.visits.desk.errors import CallError
from fieldsvc.visits.master import requesters
from tests.conftest import login
from tests.tech.conftest import image_bytes


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def chain(world):
    user = world.users["psp-p1"]
    group = requesters.create_group(user, "chain", "Chain A")
    requesters.add_merchant(user, group, "m11")
    requesters.add_merchant(user, group, "m12")
    requesters.add_requester(user, group, "Boss", phone="۰۹۳۵ ۱۱۱ ۲۲۳۳", email="boss@chain.test")
    return group


def _post_call(client, **extra):
    return client.post("/api/v1/service-calls", json={"terminal_serial": "SN110", "priority": "urgent",
                                                      "symptom": "printer", **extra})


def test_api_calls_from_others_are_held_and_from_designated_people_open(client, world, chain):
    login(client, "psp-p1")
    held = _post_call(client, caller_name="Clerk", caller_phone="09127778899")
    assert held.status_code == 202 and held.get_json()["reason"] == "not_designated"
    assert _count(m.ServiceCall) == 0
    ok = _post_call(client, caller_name="Boss", caller_phone="+989351112233")
    assert ok.status_code == 201 and ok.get_json()["tracking_number"].startswith("EM-")
    by_mail = client.post("/api/v1/service-calls", json={"terminal_serial": "SN120", "priority": "normal",
                                                         "symptom": "printer", "caller_email": "BOSS@chain.test"})
    assert by_mail.status_code == 201


def test_merchants_outside_groups_accept_anyone(client, world, chain):
    login(client, "psp-p1")
    r = client.post("/api/v1/service-calls", json={"terminal_serial": "SN100", "priority": "urgent",
                                                   "symptom": "printer", "caller_phone": "09127778899"})
    assert r.status_code == 201


def test_the_desk_confirms_a_held_call_once(client, world, chain):
    login(client, "psp-p1")
    hid = _post_call(client, caller_phone="09127778899").get_json()["id"]
    assert [h["id"] for h in client.get("/api/v1/held-calls").get_json()] == [hid]
    r = client.post(f"/api/v1/held-calls/{hid}/confirm", json={"priority": "critical"})
    body = r.get_json()
    assert r.status_code == 200 and body["status"] == "confirmed" and body["tracking_number"].startswith("EM-")
    call = db.session.get(m.ServiceCall, body["call_id"])
    assert (call.priority, call.caller_phone, call.terminal.serial) == ("critical", "09127778899", "SN110")
    again = client.post(f"/api/v1/held-calls/{hid}/confirm", json={})
    assert again.status_code == 409 and _count(m.ServiceCall) == 1
    assert client.post(f"/api/v1/held-calls/{hid}/reject", json={"reason": "x"}).status_code == 409
    assert client.get("/api/v1/held-calls").get_json() == []


def test_a_confirmation_that_cannot_open_the_call_changes_nothing(client, world, chain):
    login(client, "psp-p1")
    hid = _post_call(client, caller_phone="09127778899").get_json()["id"]
    r = client.post(f"/api/v1/held-calls/{hid}/confirm", json={"terminal_serial": "NOPE1"})
    assert r.status_code == 404 and r.get_json()["error"]["field"] == "terminal_serial"
    assert db.session.get(HeldCall, hid).status == "pending" and _count(m.ServiceCall) == 0


def test_two_agents_deciding_at_once_cannot_both_win(app, world, chain):
    user = world.users["psp-p1"]
    held = holds.open_or_hold(user, priority="urgent", symptom_code="printer", terminal_serial="SN110",
                              caller_phone="09127778899")
    assert held.status == "pending"  # what this agent's page shows
    db.session.commit()
    with db.engine.begin() as conn:  # meanwhile another agent rejects it
        conn.execute(update(HeldCall).where(HeldCall.id == held.id).values(status="rejected"))
    with pytest.raises(CallError) as e:
        holds.confirm(user, held)
    assert e.value.status == 409 and _count(m.ServiceCall) == 0


def test_reject_needs_a_reason(client, world, chain):
    login(client, "psp-p1")
    hid = _post_call(client, caller_phone="09127778899").get_json()["id"]
    r = client.post(f"/api/v1/held-calls/{hid}/reject", json={"reason": ""})
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "reason"
    assert client.post(f"/api/v1/held-calls/{hid}/reject", json={"reason": "unknown person"}).status_code == 200
    assert db.session.get(HeldCall, hid).decision_note == "unknown person"


def test_another_psp_cannot_see_or_decide_held_calls(client, world, chain):
    login(client, "psp-p1")
    hid = _post_call(client, caller_phone="09127778899").get_json()["id"]
    client.get("/logout")
    login(client, "psp-p2")
    assert client.get("/api/v1/held-calls").get_json() == []
    assert client.post(f"/api/v1/held-calls/{hid}/confirm", json={}).status_code == 404
    login(client, "dispatcher-c1")
    assert client.get("/api/v1/held-calls").status_code == 403


def test_the_intake_form_holds_and_the_desk_page_confirms(client, world, chain):
    login(client, "psp-p1")
    r = client.post("/psp/calls/new", data={"terminal_serial": "SN110", "priority": "urgent", "symptom": "printer",
                                            "channel": "phone", "caller_phone": "09127778899",
                                            "photo": (io.BytesIO(image_bytes("PNG")), "jam.png")})
    assert r.status_code == 302 and r.headers["Location"].endswith("/psp/desk/")
    page = client.get("/psp/desk/").get_data(as_text=True)
    held = db.session.scalars(select(HeldCall)).one()
    assert f"/psp/desk/held/{held.id}/confirm" in page
    assert f"/psp/desk/held/{held.id}/photo" in page  # the desk sees the photo before deciding
    assert client.get(f"/psp/desk/held/{held.id}/photo").data == image_bytes("PNG")
    r = client.post(f"/psp/desk/held/{held.id}/confirm", data={"terminal_serial": "SN110", "priority": "urgent",
                                                                "symptom": "printer"})
    assert r.status_code == 302 and _count(m.ServiceCall) == 1
    call = db.session.scalars(select(m.ServiceCall)).one()  # the photo sent with the request came along
    assert call.photo_path and call.photo_path == held.photo_path
    assert client.get(f"/psp/calls/{call.id}/photo").data == image_bytes("PNG")


def test_a_rejected_requests_photo_is_deleted(client, world, chain, app):
    login(client, "psp-p1")
    client.post("/psp/calls/new", data={"terminal_serial": "SN110", "priority": "urgent", "symptom": "printer",
                                        "channel": "phone", "caller_phone": "09127778899",
                                        "photo": (io.BytesIO(image_bytes("PNG")), "jam.png")})
    held = db.session.scalars(select(HeldCall)).one()
    path = Path(app.config["UPLOAD_DIR"]) / held.photo_path
    assert path.exists()
    r = client.post(f"/psp/desk/held/{held.id}/reject", data={"reason": "not the owner"})
    assert r.status_code == 302
    db.session.refresh(held)
    assert held.status == "rejected" and held.photo_path is None and not path.exists()
    assert client.get(f"/psp/desk/held/{held.id}/photo").status_code == 404
    # a rejection that does not happen (already decided) deletes nothing
    other = _post_call(client, caller_phone="09120001111").get_json()["id"]
    kept = Path(app.config["UPLOAD_DIR"]) / "calls" / "kept.png"
    kept.write_bytes(image_bytes("PNG"))
    db.session.execute(update(HeldCall).where(HeldCall.id == other).values(photo_path="calls/kept.png",
                                                                          status="rejected"))
    db.session.commit()
    assert client.post(f"/api/v1/held-calls/{other}/reject", json={"reason": "again"}).status_code == 409
    assert kept.exists() and db.session.get(HeldCall, other).photo_path == "calls/kept.png"


def test_a_held_request_keeps_its_ticket_type_through_either_door(client, world, chain):
    login(client, "psp-p1")
    typed = client.post("/api/v1/call-queues", json={"ticket_type": "change", "terminal_serial": "SN110",
                                                     "priority": "normal", "symptom": "other",
                                                     "caller_phone": "09127778899"})
    assert typed.status_code == 202 and typed.get_json()["ticket_type"] == "change"
    assert _count(m.ServiceCall) == 0  # the typed door holds strangers too
    plain = _post_call(client, caller_phone="09127778899", ticket_type="installation", symptom="other",
                       terminal_serial="SN120")
    assert plain.status_code == 202 and plain.get_json()["ticket_type"] == "installation"
    kept = client.post(f"/api/v1/held-calls/{typed.get_json()['id']}/confirm", json={}).get_json()
    assert client.get(f"/api/v1/call-queues/{kept['call_id']}").get_json()["ticket_type"] == "change"
    changed = client.post(f"/api/v1/held-calls/{plain.get_json()['id']}/confirm",
                          json={"ticket_type": "information"}).get_json()
    assert client.get(f"/api/v1/call-queues/{changed['call_id']}").get_json()["ticket_type"] == "information"


def test_a_bad_ticket_type_or_channel_is_refused_before_anything_is_held(client, world, chain):
    login(client, "psp-p1")
    r = _post_call(client, caller_phone="09127778899", ticket_type="repair")
    assert r.status_code == 422 and "ticket_type" in r.get_data(as_text=True)
    r = client.post("/api/v1/call-queues", json={"ticket_type": "change", "terminal_serial": "SN110",
                                                 "priority": "normal", "symptom": "other", "channel": "fax",
                                                 "caller_phone": "09127778899"})
    assert r.status_code == 422 and "channel" in r.get_data(as_text=True)
    user = world.users["psp-p1"]
    with pytest.raises(CallError) as e:
        holds.open_or_hold(user, priority="urgent", symptom_code="printer", terminal_serial="SN110",
                           caller_phone="09127778899", ticket_type="repair")
    assert e.value.field == "ticket_type" and _count(HeldCall) == 0


def test_the_desk_page_shows_and_can_change_a_held_requests_type(client, world, chain):
    login(client, "psp-p1")
    hid = _post_call(client, caller_phone="09127778899", ticket_type="change", symptom="other").get_json()["id"]
    page = client.get("/psp/desk/").get_data(as_text=True)
    assert f'id="ticket-type-{hid}"' in page and '<option value="change" selected>' in page
    r = client.post(f"/psp/desk/held/{hid}/confirm", data={"terminal_serial": "SN110", "priority": "normal",
                                                            "symptom": "other", "ticket_type": "installation"})
    assert r.status_code == 302
    call = db.session.get(m.ServiceCall, db.session.get(HeldCall, hid).call_id)
    assert call.profile.ticket_type == "installation"


@pytest.mark.parametrize("body,status,field", [
    ({"kind": "shop", "name": "X"}, 422, "kind"),
    ({"kind": "chain", "name": ""}, 422, "name"),
    ({"kind": "chain"}, 422, "name"),
    ({"kind": "chain", "name": "Chain A"}, 409, "name"),
])
def test_group_creation_refuses_bad_input(client, world, chain, body, status, field):
    login(client, "psp-p1")
    r = client.post("/api/v1/requester-groups", json=body)
    assert r.status_code == status and r.get_json()["error"]["field"] == field
    assert _count(RequesterGroup) == 1


@pytest.mark.parametrize("body,status,field", [
    ({"name": "", "phone": "09121112233"}, 422, "name"),
    ({"name": "X"}, 422, "phone"),
    ({"name": "X", "phone": "123"}, 422, "phone"),
    ({"name": "X", "email": "not-an-address"}, 422, "email"),
    ({"name": "X", "phone": "+98 935 111 2233"}, 409, "phone"),
])
def test_people_are_refused_with_the_field_named(client, world, chain, body, status, field):
    login(client, "psp-p1")
    r = client.post(f"/api/v1/requester-groups/{chain.id}/requesters", json=body)
    assert r.status_code == status and r.get_json()["error"]["field"] == field
    assert _count(DesignatedRequester) == 1


def test_merchants_join_one_group_only_and_of_their_own_psp(client, world, chain):
    login(client, "psp-p1")
    other = client.post("/api/v1/requester-groups", json={"kind": "branch", "name": "North branch"}).get_json()
    r = client.post(f"/api/v1/requester-groups/{other['id']}/merchants", json={"merchant_code": "m11"})
    assert r.status_code == 409 and r.get_json()["error"]["field"] == "merchant_code"
    r = client.post(f"/api/v1/requester-groups/{other['id']}/merchants", json={"merchant_code": "m20"})
    assert r.status_code == 404  # PSP 2's merchant
    r = client.post(f"/api/v1/requester-groups/{other['id']}/merchants", json={"merchant_code": "m10"})
    assert r.status_code == 200 and [x["code"] for x in r.get_json()["merchants"]] == ["m10"]


def test_removing_the_last_person_lifts_the_restriction(client, world, chain):
    login(client, "psp-p1")
    pid = chain.requesters[0].id
    r = client.delete(f"/api/v1/requester-groups/{chain.id}/requesters/{pid}")
    assert r.status_code == 200 and r.get_json()["requesters"][0]["active"] is False
    assert _post_call(client, caller_phone="09127778899").status_code == 201


def test_the_group_pages_manage_people_and_merchants(client, world):
    login(client, "psp-p1")
    assert client.post("/psp/desk/requesters", data={"kind": "chain", "name": ""}).status_code == 422
    r = client.post("/psp/desk/requesters", data={"kind": "branch", "name": "Karaj branch"})
    assert r.status_code == 302
    gid = db.session.scalars(select(RequesterGroup.id)).one()
    url = f"/psp/desk/requesters/{gid}"
    assert client.post(url, data={"action": "merchant", "m-merchant_code": "m10"}).status_code == 302
    bad = client.post(url, data={"action": "person", "p-name": "Ali", "p-phone": "12"})
    assert bad.status_code == 422
    assert client.post(url, data={"action": "person", "p-name": "Ali", "p-phone": "09121110000"}).status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Ali" in page and "09121110000" in page and "Shop 1-0" in page
    assert requesters.restricted(world.merchants[0].id)


def test_an_admin_naming_a_psp_that_does_not_exist_is_told_so(client, world, chain):
    """Found by the API fuzzer on PostgreSQL (a foreign key error answered 500)."""
    login(client, "admin")
    r = client.post("/api/v1/requester-groups", json={"kind": "chain", "name": "Z", "psp_id": 987654})
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "psp_id"
    assert _count(RequesterGroup) == 1
