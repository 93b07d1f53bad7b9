"""Issue 17.7: the new-call form searches terminals on the server as the desk types, and records
the caller's name and phone."""
from __future__ import annotations

from fieldsvc.db import db
from fieldsvc.visits import models as m
from tests.conftest import login


def _search(client, q: str) -> list[dict]:
    r = client.get("/psp/calls/terminals", query_string={"q": q})
    assert r.status_code == 200
    return r.json


def test_form_has_no_list_of_every_terminal(client, world):
    login(client, "psp-p1")
    html = client.get("/psp/calls/new").get_data(as_text=True)
    assert "<option value=\"%d\"" % world.terminals[0].id not in html
    assert 'id="terminal-search"' in html and 'name="caller_name"' in html and 'name="caller_phone"' in html


def test_search_by_serial_name_phone_and_id_within_the_scope(client, world):
    login(client, "psp-p1")
    shop = world.merchants[1]  # "Shop 1-1", phone 09120001100, terminal SN110
    assert [t["serial"] for t in _search(client, "sn11")] == ["SN110"]
    assert [t["serial"] for t in _search(client, "ٍSN۱۱۰".strip("ٍ"))] == ["SN110"]  # Persian digits
    assert {t["merchant"]["name"] for t in _search(client, "shop 1-1")} == {shop.name}
    assert [t["serial"] for t in _search(client, "0912 000 1100")] == ["SN110"]
    tid = shop.terminals[0].id
    assert _search(client, str(tid))[0]["id"] == tid
    assert _search(client, "Shop 2") == []  # another payment company's merchants stay hidden
    assert _search(client, "s") == []  # too short to search
    client.post("/logout")
    login(client, "tech-c1-1")
    assert client.get("/psp/calls/terminals?q=SN110").status_code == 403


def test_caller_name_and_phone_are_recorded(client, world):
    login(client, "psp-p1")
    tid = world.merchants[1].terminals[0].id
    r = client.post("/psp/calls/new", data={"terminal_id": str(tid), "channel": "phone", "priority": "urgent",
                                            "symptom": "printer", "caller_name": "Maryam Karimi",
                                            "caller_phone": "۰۹۱۲ ۳۴۵ ۶۷۸۹"})
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    call = db.session.scalars(db.select(m.ServiceCall)).one()
    assert call.terminal_id == tid and call.caller_name == "Maryam Karimi" and call.caller_phone == "0912 345 6789"
    assert "Maryam Karimi" in client.get(f"/psp/calls/{call.id}").get_data(as_text=True)
    r = client.post("/psp/calls/new", data={"terminal_id": str(tid), "channel": "phone", "priority": "urgent",
                                            "symptom": "network", "caller_phone": "call me"})
    assert r.status_code == 422 and 'class="form-control is-invalid" dir="ltr" id="caller_phone"' in r.get_data(as_text=True)
    assert db.session.scalars(db.select(m.ServiceCall)).all() == [call]
