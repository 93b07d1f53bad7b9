"""Whose help desk works tiers 1 and 2 is set per contract: set-up page, API, validation."""
from __future__ import annotations

from fieldsvc.db import db
from fieldsvc.visits import models as m
from tests.conftest import login


def test_help_desk_through_the_api(desk, client):
    login(client, "admin")
    body = {"code": "k-desk", "psp_id": desk.psps[0].id, "contractor_id": desk.contractors[0].id,
            "valid_from": "2026-01-01", "region_ids": [desk.regions[0].id], "preset": "24x7"}
    r = client.post("/api/v1/contracts", json={**body, "help_desk": "nobody"})
    assert r.status_code == 422 and "help_desk" in str(r.json)
    assert db.session.scalar(db.select(m.Contract).where(m.Contract.code == "K-DESK")) is None
    r = client.post("/api/v1/contracts", json={**body, "help_desk": "contractor"})
    assert r.status_code == 201 and r.json["help_desk"] == "contractor"
    r = client.patch(f"/api/v1/contracts/{r.json['id']}", json={"help_desk": "psp"})
    assert r.status_code == 200 and r.json["help_desk"] == "psp"
    assert client.get(f"/api/v1/contracts/{desk.contracts[0].id}").json["help_desk"] == "psp"  # the default


def test_help_desk_on_the_set_up_pages(desk, client):
    login(client, "admin")
    r = client.post("/setup/contracts/new", data={
        "code": "k-page", "psp_id": desk.psps[0].id, "contractor_id": desk.contractors[0].id, "kind": "uc",
        "help_desk": "contractor", "valid_from": "2026-01-01", "region_ids": [desk.regions[0].id],
        "preset": "24x7"})
    assert r.status_code in (302, 303), r.get_data(as_text=True)[:500]
    contract = db.session.scalars(db.select(m.Contract).where(m.Contract.code.in_(["K-PAGE", "k-page"]))).one()
    assert contract.help_desk == "contractor"
    html = client.get(f"/setup/contracts/{contract.id}").get_data(as_text=True)
    assert 'data-help-desk="contractor"' in html
