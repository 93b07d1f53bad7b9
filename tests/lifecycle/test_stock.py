"""Stock: receiving, transfers, one place per terminal (a database constraint), consumables, the
last spare taken by two technicians at once, and bad input refused with nothing written."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.stock import places
from tests.conftest import login
from tests.lifecycle.helpers import spare, van_of
from tests.race import at_once, post_json


def _moves() -> int:
    return db.session.scalar(select(func.count()).select_from(m.StockMove))


def _place_of(serial: str) -> m.StockPlace:
    t = db.session.scalars(select(m.Terminal).where(m.Terminal.serial == serial)).one()
    return db.session.get(m.TerminalPlace, t.id, populate_existing=True).place


def test_receive_transfer_and_every_move_is_a_row(client, world):
    wh = places.contractor_warehouse(world.contractors[0])
    db.session.commit()
    login(client, "dispatcher-c1")
    r = client.post("/api/v1/stock/receive", json={"place_id": wh.id, "serials": ["NP-۰۰۱", "NP-002"],
                                                   "model": "PAX A920", "psp_id": world.psps[0].id})
    assert r.status_code == 200 and r.json["moved"] == 2, r.json
    van = van_of(world.technicians[0])
    r = client.post("/api/v1/stock/transfers", json={"from_place_id": wh.id, "to_place_id": van.id,
                                                     "serials": ["NP-001"], "reason": "for tomorrow"})
    assert r.status_code == 200, r.json
    assert _place_of("NP-001").id == van.id and _place_of("NP-002").id == wh.id
    moves = db.session.scalars(select(m.StockMove).order_by(m.StockMove.id)).all()
    assert [(mv.from_place_id, mv.to_place_id, mv.reason, mv.actor) for mv in moves] == [
        (None, wh.id, "received", "dispatcher-c1"), (None, wh.id, "received", "dispatcher-c1"),
        (wh.id, van.id, "for tomorrow", "dispatcher-c1")]
    body = client.get(f"/api/v1/stock/places/{van.id}").json
    assert [t["serial"] for t in body["terminals"]] == ["NP-001"]
    client.get("/logout")
    login(client, "tech-c1-1")
    assert [t["serial"] for t in client.get("/api/v1/stock/van").json["terminals"]] == ["NP-001"]
    client.get("/logout")
    login(client, "dispatcher-c2")
    assert client.get(f"/api/v1/stock/places/{van.id}").status_code == 404


def test_a_terminal_cannot_be_in_two_places_by_database_constraint(world):
    wh = places.contractor_warehouse(world.contractors[0])
    t = spare("NP-100", world.psps[0], wh)
    other = places.psp_warehouse(world.psps[0])
    db.session.commit()
    db.session.add(m.TerminalPlace(terminal_id=t.id, place_id=other.id))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_move_out_of_a_place_the_terminal_is_not_in_is_refused_and_nothing_moves(client, world):
    wh = places.contractor_warehouse(world.contractors[0])
    spare("NP-200", world.psps[0], wh)
    van = van_of(world.technicians[0])
    spare("NP-201", world.psps[0], van)
    before = _moves()
    login(client, "dispatcher-c1")
    r = client.post("/api/v1/stock/transfers", json={"from_place_id": wh.id, "to_place_id": van.id,
                                                     "serials": ["NP-200", "NP-201"]})
    assert r.status_code in (409, 422) and r.json["error"]["field"] == "serials"
    assert "NP-201" in r.json["error"]["message"]
    assert _moves() == before and _place_of("NP-200").id == wh.id  # all or nothing


def test_receiving_a_serial_installed_elsewhere_is_refused(client, world):
    wh = places.contractor_warehouse(world.contractors[0])
    db.session.commit()
    login(client, "dispatcher-c1")
    before = _moves()
    r = client.post("/api/v1/stock/receive", json={"place_id": wh.id, "serials": ["NEW-1", "SN100"],
                                                   "model": "PAX A920", "psp_id": world.psps[0].id})
    assert r.status_code == 422 and r.json["error"]["field"] == "serials" and "SN100" in r.json["error"]["message"]
    assert _moves() == before
    assert db.session.scalars(select(m.Terminal).where(m.Terminal.serial == "NEW-1")).first() is None


def test_consumables_are_counted_never_negative_and_flag_low_stock(client, world):
    wh = places.contractor_warehouse(world.contractors[0])
    van = van_of(world.technicians[0])
    login(client, "dispatcher-c1")
    assert client.post("/api/v1/stock/parts", json={"item": "paper_roll", "quantity": 20,
                                                    "to_place_id": wh.id}).status_code == 200
    r = client.post("/api/v1/stock/parts", json={"item": "paper_roll", "quantity": -5, "to_place_id": wh.id})
    assert r.status_code == 422 and r.json["error"]["field"] == "quantity"
    r = client.post("/api/v1/stock/parts", json={"item": "paper_roll", "quantity": 30, "from_place_id": wh.id,
                                                 "to_place_id": van.id})
    assert r.status_code == 422 and r.json["error"]["field"] == "quantity"
    assert client.post("/api/v1/stock/parts", json={"item": "paper_roll", "quantity": 18, "from_place_id": wh.id,
                                                    "to_place_id": van.id}).status_code == 200
    row = db.session.scalars(select(m.ConsumableStock).where(m.ConsumableStock.place_id == wh.id)).one()
    row.min_quantity = 5
    db.session.commit()
    levels = {lv["item"]: lv for lv in client.get(f"/api/v1/stock/places/{wh.id}").json["consumables"]}
    assert levels["paper_roll"]["quantity"] == 2 and levels["paper_roll"]["low"] is True
    assert levels["battery"]["quantity"] == 0 and levels["battery"]["low"] is False
    row.quantity = -1
    with pytest.raises(IntegrityError):  # the database refuses a negative count too
        db.session.commit()
    db.session.rollback()


def test_two_technicians_taking_the_last_spare_at_once_one_wins(live_server, world):
    wh = places.contractor_warehouse(world.contractors[0])
    spare("LAST-1", world.psps[0], wh)
    for tech in world.technicians[:2]:
        van_of(tech)
    tokens = [post_json(f"{live_server}/api/v1/auth/token", {"username": u, "password": "demo"})[1]["token"]
              for u in ("tech-c1-1", "tech-c1-2")]
    results = at_once([lambda tok=tok: post_json(f"{live_server}/api/v1/stock/spares", {"family": "pax"}, tok)
                       for tok in tokens])
    codes = sorted(code for code, _ in results)
    assert codes == [200, 409], results
    loser = next(body for code, body in results if code == 409)
    assert loser["error"]["code"] == "no_spare" and loser["error"]["field"] == "family"
    db.session.expire_all()
    vans = [places.van(t).id for t in world.technicians[:2]]
    assert _place_of("LAST-1").id in vans
    moves = db.session.scalars(select(m.StockMove).where(m.StockMove.reason == "spare taken")).all()
    assert len(moves) == 1


def test_faulty_terminal_goes_to_repair_then_back_to_stock_or_to_scrap(client, world):
    psp = world.psps[0]
    van = van_of(world.technicians[0])
    wh, repair, scrap = places.psp_warehouse(psp), places.repair_place(psp), places.scrap_place(psp)
    db.session.commit()
    a, b = spare("FX-1", psp, wh), spare("FX-2", psp, wh)
    for t in (a, b):
        db.session.get(m.TerminalPlace, t.id).faulty = True
    db.session.commit()
    login(client, "psp-p1")
    assert client.post("/api/v1/stock/transfers", json={"from_place_id": wh.id, "to_place_id": repair.id,
                                                        "serials": ["FX-1", "FX-2"]}).status_code == 200
    assert client.post("/api/v1/stock/transfers", json={"from_place_id": repair.id, "to_place_id": wh.id,
                                                        "serials": ["FX-1"], "reason": "repaired"}).status_code == 200
    assert client.post("/api/v1/stock/transfers", json={"from_place_id": repair.id, "to_place_id": scrap.id,
                                                        "serials": ["FX-2"], "reason": "beyond repair"}).status_code == 200
    db.session.expire_all()
    fixed, dead = _place_of("FX-1"), _place_of("FX-2")
    assert fixed.id == wh.id and db.session.get(m.Terminal, a.id).status == "in_stock"
    assert db.session.get(m.TerminalPlace, a.id).faulty is False
    assert dead.id == scrap.id and db.session.get(m.Terminal, b.id).status == "scrapped"
    assert van.id not in (fixed.id, dead.id)
