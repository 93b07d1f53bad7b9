"""The phone-system webhook: token per PSP, Iranian number formats, the merchant found, the agent's
pre-filled form, idempotent rings, and bad input refused with nothing written."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from fieldsvc.db import db
from fieldsvc.visits.channel_models import IncomingPhoneCall
from fieldsvc.visits.desk import calls as svc
from fieldsvc.visits.desk import telephony
from fieldsvc.visits.master import requesters
from tests.conftest import login

URL = "/api/v1/telephony/incoming"


@pytest.fixture
def token(world):
    return telephony.set_token(world.psps[0])


def _rings() -> int:
    return db.session.scalar(select(func.count()).select_from(IncomingPhoneCall))


@pytest.mark.parametrize("caller", ["09120001000", "+989120001000", "00989120001000", "۰۹۱۲۰۰۰۱۰۰۰",
                                    "9120001000", "+98 912 000 1000"])
def test_every_iranian_form_of_the_number_finds_the_merchant(client, world, token, caller):
    r = client.post(URL, json={"caller": caller, "agent": "psp-p1"}, headers={"X-Telephony-Token": token})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["caller"] == "09120001000" and body["merchant"]["code"] == "m10"
    assert sorted(t["serial"] for t in body["terminals"]) == ["SN100", "SN101"]
    assert body["agent_known"] is True and body["form_url"].endswith(f"/psp/calls/new?incoming={body['id']}")


def test_open_calls_are_listed_and_the_form_is_prefilled_for_the_agent(client, world, token):
    call = svc.open_call(world.users["psp-p1"], priority="urgent", symptom_code="printer", terminal_serial="SN110")
    r = client.post(URL, data={"caller": "0912 000 1100", "agent": "psp-p1", "call_id": "1700000000.42",
                               "token": token})  # form-encoded, as an Asterisk CURL() posts it
    body = r.get_json()
    assert r.status_code == 201 and [c["tracking_number"] for c in body["open_calls"]] == [call.tracking_number]
    login(client, "psp-p1")
    page = client.get("/psp/desk/incoming")
    assert page.status_code == 200 and "09120001100" in page.get_data(as_text=True)
    form = client.get(f"/psp/calls/new?incoming={body['id']}").get_data(as_text=True)
    assert 'id="ring-panel"' in form and call.tracking_number in form
    assert 'value="SN110"' in form and 'value="09120001100"' in form  # the only terminal, the caller


def test_a_retried_webhook_is_one_ring(client, world, token):
    for _ in range(3):
        r = client.post(URL, json={"caller": "09120001000", "agent": "psp-p1", "call_id": "abc.1"},
                        headers={"X-Telephony-Token": token})
        assert r.status_code == 201
    assert _rings() == 1


@pytest.mark.parametrize("headers,body", [
    ({}, {"caller": "09120001000", "agent": "psp-p1"}),
    ({"X-Telephony-Token": "wrong"}, {"caller": "09120001000", "agent": "psp-p1"}),
])
def test_without_the_token_nothing_is_recorded(client, world, token, headers, body):
    r = client.post(URL, json=body, headers=headers)
    assert r.status_code == 401 and r.get_json()["error"]["field"] == "token"
    assert _rings() == 0


def test_one_psps_token_never_shows_another_psps_merchants(client, world):
    other = telephony.set_token(world.psps[1])
    r = client.post(URL, json={"caller": "09120001000", "agent": "psp-p1"}, headers={"X-Telephony-Token": other})
    body = r.get_json()
    assert r.status_code == 201 and body["merchant"] is None and body["agent_known"] is False
    assert db.session.scalars(select(IncomingPhoneCall)).one().psp_id == world.psps[1].id


@pytest.mark.parametrize("body,field", [
    ({"agent": "psp-p1"}, "caller"),
    ({"caller": "12345", "agent": "psp-p1"}, "caller"),
    ({"caller": "+4915112345678", "agent": "psp-p1"}, "caller"),
    ({"caller": "09120001000"}, "agent"),
    ({"caller": "09120001000", "agent": "x" * 81}, "agent"),
    ({"caller": "09120001000", "agent": "psp-p1", "call_id": "y" * 81}, "call_id"),
])
def test_bad_input_names_the_field_and_writes_nothing(client, world, token, body, field):
    r = client.post(URL, json=body, headers={"X-Telephony-Token": token})
    assert r.status_code == 422 and r.get_json()["error"]["field"] == field
    assert _rings() == 0


def test_a_caller_not_designated_by_the_chain_is_flagged(client, world, token):
    user = world.users["psp-p1"]
    group = requesters.create_group(user, "chain", "Chain A")
    requesters.add_merchant(user, group, "m10")
    requesters.add_requester(user, group, "Boss", phone="09351112233")
    shop = client.post(URL, json={"caller": "09120001000", "agent": "psp-p1"},
                       headers={"X-Telephony-Token": token}).get_json()
    boss = client.post(URL, json={"caller": "+98 935 111 2233", "agent": "psp-p1"},
                       headers={"X-Telephony-Token": token}).get_json()
    assert shop["designated"] is False
    assert boss["designated"] is True and boss["merchant"]["code"] == "m10"  # found through the chain


def test_the_token_is_stored_only_as_a_digest_and_a_new_one_replaces_it(app, world):
    from fieldsvc.visits.channel_models import ChannelSetting
    first = telephony.set_token(world.psps[0])
    stored = db.session.get(ChannelSetting, world.psps[0].id).telephony_token_hash
    assert first not in stored and len(stored) == 64
    second = telephony.set_token(world.psps[0])
    assert telephony.psp_for_token(first) is None and telephony.psp_for_token(second) == world.psps[0].id


def test_the_cli_makes_a_token(app, world):
    from fieldsvc.cli import main
    out = app.test_cli_runner().invoke(main, ["channels", "telephony-token", "--psp", "p1"])
    assert out.exit_code == 0, out.output
    assert telephony.psp_for_token(out.output.strip().splitlines()[-1]) == world.psps[0].id
    bad = app.test_cli_runner().invoke(main, ["channels", "telephony-token", "--psp", "nope"])
    assert bad.exit_code != 0 and "--psp" in bad.output
