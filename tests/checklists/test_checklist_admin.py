"""Managing checklists: the PSP's page and API, refusals naming the field with nothing written,
replays that add nothing, scope."""
from __future__ import annotations

from sqlalchemy import func, select

from fieldsvc.db import db
from fieldsvc.visits.service_seed_models import Checklist, ChecklistItem
from tests.conftest import login

API = "/api/v1/checklists"


def _n(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_page_creates_a_checklist_and_manages_its_items(client, world):
    login(client, "psp-p1")
    r = client.post("/checklists", data={"family": "pax", "model": "", "name": "PAX PM"})
    assert r.status_code == 302
    cl = db.session.scalars(select(Checklist)).one()
    url = f"/checklists/{cl.id}"
    r = client.post(url, data={"action": "add", "label": "Battery voltage", "label_fa": "ولتاژ باتری",
                               "kind": "reading", "min_value": "۳٫۶", "max_value": "4.2", "unit": "V",
                               "required": "1", "on_fail": "order"})
    assert r.status_code == 302
    it = db.session.scalars(select(ChecklistItem)).one()
    assert (it.min_value, it.max_value, it.on_fail, it.required) == (3.6, 4.2, "order", True)
    # a reading without a range, a wrong number, the same item again: refused, named, nothing added
    for form, field in (({"label": "Paper", "kind": "reading"}, "item.min_value"),
                        ({"label": "Paper", "kind": "reading", "min_value": "abc"}, "min_value"),
                        ({"label": "battery voltage", "kind": "pass_fail"}, "item.label")):
        r = client.post(url, data={"action": "add", **form}, headers={"Accept-Language": "en"})
        assert r.status_code in (409, 422) and f'data-field="{field}"' in r.get_data(as_text=True), field
    assert _n(ChecklistItem) == 1
    html = client.get(url, headers={"Accept-Language": "fa"}).get_data(as_text=True)
    assert "ولتاژ باتری" in html
    assert client.post(url, data={"action": "retire", "item_id": it.id}).status_code == 302
    assert client.post(url, data={"action": "retire", "item_id": it.id}).status_code == 302
    db.session.expire_all()
    assert db.session.get(ChecklistItem, it.id).active is False
    # the dispatcher reads it but cannot change it; the other PSP does not see it
    login(client, "dispatcher-c1")
    assert client.get(url).status_code == 200
    assert client.post(url, data={"action": "add", "label": "X"}).status_code == 403
    login(client, "psp-p2")
    assert client.get(url).status_code == 404


def test_api_create_names_the_bad_field_and_a_replay_adds_nothing(client, world):
    login(client, "psp-p1")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    good = {"family": "pax", "name": "PAX", "items": [
        {"label": "Printer", "on_fail": "call"}, {"label": "Volts", "kind": "reading", "min_value": 3.6}]}
    bad = [
        (dict(good, family="toaster"), "family"),
        (dict(good, items=[{"label": "a"}, {"label": "b", "kind": "reading", "min_value": 5, "max_value": 1}]),
         "items[1].max_value"),
        (dict(good, items=[{"label": "a", "kind": "dance"}]), "items[0].kind"),
        (dict(good, items=[{"label": "a"}, {"label": "A"}]), "items"),
    ]
    for body, field in bad:
        r = client.post(API, json=body)
        assert r.status_code == 422, (field, r.json)
        assert r.json["error"]["field"] == field, r.json
    assert _n(Checklist) == 0 and _n(ChecklistItem) == 0
    r = client.post(API, json=good)
    assert r.status_code == 201 and [i["label"] for i in r.json["items"]] == ["Printer", "Volts"]
    again = client.post(API, json=good)
    assert again.status_code == 409 and again.json["error"]["field"] == "family"
    add = {"label": "Paper roll present"}
    assert client.post(f"{API}/{r.json['id']}/items", json=add).status_code == 201
    assert client.post(f"{API}/{r.json['id']}/items", json=add).status_code == 409
    assert _n(Checklist) == 1 and _n(ChecklistItem) == 3
    login(client, "tech-c1-1")
    assert client.post(API, json=dict(good, family="verifone")).status_code == 403
