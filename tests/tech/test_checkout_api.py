"""Check-out API: outcomes and their effects in one transaction, out-of-order and repeated
delivery, photos, confirmation codes, bad payloads."""
from __future__ import annotations

import base64
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from fieldsvc.db import db
from fieldsvc.visits.field import checkin as svc
from fieldsvc.visits import models as m
from fieldsvc.visits.states import IllegalTransition
from tests.conftest import login
from tests.tech.conftest import checkin_body, checkout_body, image_bytes, now, today_local

IN, OUT = "/api/v1/visits/{}/check-in", "/api/v1/visits/{}/check-out"


@pytest.fixture
def tech(client, day):
    login(client, "tech-c1-1")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def checked_in(client, visit: m.Visit, at=None):
    r = client.post(IN.format(visit.id), json=checkin_body(visit, at=at))
    assert r.status_code == 200, r.json
    return r


def multipart(body: dict, photos: list[tuple[bytes, str]]) -> dict:
    return {"payload": json.dumps(body), "photos": [(io.BytesIO(b), name) for b, name in photos]}


def test_pm_done_sets_last_pm_of_the_visit_terminals(tech, day):
    checked_in(tech, day.pm)
    r = tech.post(OUT.format(day.pm.id), json=checkout_body("pm_done", parts_used=["paper roll", " "]))
    assert r.status_code == 200, r.json
    assert r.json["status"] == "completed" and r.json["checkout"]["parts_used"] == ["paper roll"]
    db.session.expire_all()
    for t in db.session.get(m.Visit, day.pm.id).terminals:
        assert t.last_pm_on == today_local()
    # terminals of other visits are untouched
    assert all(t.last_pm_on < today_local() for t in db.session.get(m.Visit, day.pm2.id).terminals)


def test_fixed_resolves_the_em_call_with_device_times(tech, day):
    t_in, t_out = now() - timedelta(hours=2), now() - timedelta(hours=1, minutes=30)
    checked_in(tech, day.em, at=t_in)
    r = tech.post(OUT.format(day.em.id), json=checkout_body("fixed", at=t_out))
    assert r.status_code == 200, r.json
    db.session.expire_all()
    call = db.session.get(m.ServiceCall, day.call.id)
    visit = db.session.get(m.Visit, day.em.id)
    assert visit.status == "completed" and visit.outcome == "fixed"
    assert call.status == "resolved"
    assert abs((call.resolved_at - t_out).total_seconds()) < 0.01
    assert abs((call.responded_at - t_in).total_seconds()) < 0.01
    assert call.resolution_minutes is not None and call.resolution_minutes >= call.response_minutes


def test_em_completion_is_one_transaction(tech, day, monkeypatch):
    checked_in(tech, day.em)
    real = svc.transition_call

    def refuse_resolve(call, new, **kw):
        if new == "resolved":
            raise IllegalTransition("service call", call.status, new)
        return real(call, new, **kw)

    monkeypatch.setattr(svc, "transition_call", refuse_resolve)
    body = checkout_body("fixed")
    r = tech.post(OUT.format(day.em.id), json=body)
    assert r.status_code == 409
    db.session.expire_all()
    visit = db.session.get(m.Visit, day.em.id)
    assert visit.status == "checked_in" and visit.outcome is None and visit.checkout_at is None
    assert db.session.get(m.ServiceCall, day.call.id).status == "in_progress"
    assert db.session.scalars(select(m.ClientEvent).where(
        m.ClientEvent.client_event_id == body["client_event_id"])).first() is None


def test_merchant_closed_fails_the_visit_and_pauses_the_call_until_opening(tech, day):
    checked_in(tech, day.em)
    r = tech.post(OUT.format(day.em.id), json=checkout_body("merchant_closed", notes="Shutter down"))
    assert r.status_code == 200
    db.session.expire_all()
    visit = db.session.get(m.Visit, day.em.id)
    call = db.session.get(m.ServiceCall, day.call.id)
    assert visit.status == "failed" and "Shutter down" in visit.failure_reason
    assert call.status == "assigned"
    pause = call.pauses[-1]
    assert pause.reason == "merchant closed"
    assert pause.ended_at == svc.next_opening(visit, visit.checkout_at)
    assert pause.ended_at > pause.started_at


def test_needs_parts_sends_the_call_back_to_assigned(tech, day):
    checked_in(tech, day.em)
    assert tech.post(OUT.format(day.em.id), json=checkout_body("needs_parts")).json["status"] == "completed"
    assert db.session.get(m.ServiceCall, day.call.id).status == "assigned"


def test_swap_moves_terminals(tech, day):
    checked_in(tech, day.em)
    old = day.em.terminals[0].serial
    r = tech.post(OUT.format(day.em.id), json=checkout_body("swapped", old_serial=old, new_serial="new-777"))
    assert r.status_code == 200, r.json
    db.session.expire_all()
    old_t = db.session.scalars(select(m.Terminal).where(m.Terminal.serial == old)).one()
    new_t = db.session.scalars(select(m.Terminal).where(m.Terminal.serial == "NEW-777")).one()
    assert old_t.status == "removed" and old_t.merchant_id is None
    assert new_t.status == "active" and new_t.merchant_id == day.em.merchant_id and new_t.model == old_t.model
    assert db.session.get(m.ServiceCall, day.call.id).status == "resolved"


def test_swap_needs_both_serials_of_this_merchant(tech, day):
    checked_in(tech, day.em)
    assert tech.post(OUT.format(day.em.id), json=checkout_body("swapped", new_serial="N1")).json["error"]["field"] \
        == "old_serial"
    r = tech.post(OUT.format(day.em.id), json=checkout_body("swapped", old_serial="SN200", new_serial="N1"))
    assert r.status_code == 422 and r.json["error"]["field"] == "old_serial"


def test_check_out_before_check_in_is_held_then_applied(tech, day):
    t_in, t_out = now() - timedelta(minutes=50), now() - timedelta(minutes=20)
    out = checkout_body("fixed", at=t_out)
    r = tech.post(OUT.format(day.em.id), json=out)
    assert r.status_code == 202 and r.json["event"]["status"] == "pending"
    assert r.json["status"] == "dispatched"
    again = tech.post(OUT.format(day.em.id), json=out)  # repeated while pending: still held, once
    assert again.status_code == 202 and again.json["event"]["duplicate"] is True
    r = tech.post(IN.format(day.em.id), json=checkin_body(day.em, at=t_in))
    assert r.status_code == 200
    assert r.json["status"] == "completed" and r.json["checkout"]["outcome"] == "fixed"
    db.session.expire_all()
    evs = db.session.scalars(select(m.ClientEvent).where(m.ClientEvent.visit_id == day.em.id)).all()
    assert sorted((e.kind, e.result) for e in evs) == [("check_in", "applied"), ("check_out", "applied")]
    visit = db.session.get(m.Visit, day.em.id)
    assert abs((visit.checkout_at - t_out).total_seconds()) < 0.01
    assert db.session.get(m.ServiceCall, day.call.id).status == "resolved"
    final = tech.post(OUT.format(day.em.id), json=out)  # and after: 200, the same visit
    assert final.status_code == 200 and final.json["event"]["status"] == "applied"


def test_check_out_stamped_before_its_check_in_is_clamped(tech, day):
    tech.post(OUT.format(day.pm.id), json=checkout_body("pm_done", at=now() - timedelta(hours=2)))
    checked_in(tech, day.pm, at=now() - timedelta(hours=1))
    visit = db.session.get(m.Visit, day.pm.id)
    assert visit.checkout_at == visit.checkin_at


def test_same_check_out_twice_applies_once(tech, day, app):
    checked_in(tech, day.em)
    body = checkout_body("fixed")
    photo = image_bytes("PNG")
    first = tech.post(OUT.format(day.em.id), data=multipart(body, [(photo, "a.png")]))
    second = tech.post(OUT.format(day.em.id), data=multipart(body, [(photo, "a.png")]))
    assert first.status_code == second.status_code == 200
    assert second.json["event"]["duplicate"] is True
    assert len(db.session.scalars(select(m.ClientEvent).where(
        m.ClientEvent.client_event_id == body["client_event_id"])).all()) == 1
    assert len(db.session.get(m.Visit, day.em.id).photos) == 1
    assert len(list((Path(app.config["UPLOAD_DIR"]) / "visits" / str(day.em.id)).iterdir())) == 1
    other = tech.post(OUT.format(day.em.id), json=checkout_body("no_fault_found"))
    assert other.status_code == 409  # a different second check-out is refused


def test_photos_stored_outside_the_database(tech, day, app):
    checked_in(tech, day.pm)
    jpg, webp = image_bytes("JPEG"), image_bytes("WEBP")
    r = tech.post(OUT.format(day.pm.id), data=multipart(checkout_body("pm_done"), [(jpg, "a.jpg"), (webp, "b.webp")]))
    assert r.status_code == 200, r.json
    photos = db.session.get(m.Visit, day.pm.id).photos
    assert sorted(p.content_type for p in photos) == ["image/jpeg", "image/webp"]
    for p in photos:
        assert p.path.startswith(f"visits/{day.pm.id}/")
        assert (Path(app.config["UPLOAD_DIR"]) / p.path).read_bytes() in (jpg, webp)


def test_photos_as_base64_json(tech, day):
    checked_in(tech, day.pm)
    data = "data:image/png;base64," + base64.b64encode(image_bytes("PNG")).decode()
    r = tech.post(OUT.format(day.pm.id), json=checkout_body("pm_done", photos=[{"filename": "x.png", "data": data}]))
    assert r.status_code == 200 and len(r.json["checkout"]["photos"]) == 1


@pytest.mark.parametrize("photos, why", [
    ([(image_bytes("GIF"), "a.jpg")], "GIF"),
    ([(b"%PDF-1.4 not an image", "a.jpg")], "not a readable image"),
    ([(b"\xff\xd8\xff" + b"0" * (8 * 1024 * 1024), "big.jpg")], "8 MB"),
    ([(image_bytes(), f"{i}.jpg") for i in range(4)], "at most 3"),
])
def test_bad_photos_are_refused(tech, day, app, photos, why):
    checked_in(tech, day.pm)
    app.config["MAX_CONTENT_LENGTH"] = 32 * 1024 * 1024
    r = tech.post(OUT.format(day.pm.id), data=multipart(checkout_body("pm_done"), photos))
    assert r.status_code == 422
    assert r.json["error"]["field"] == "photos" and why in r.json["error"]["message"]
    assert db.session.get(m.Visit, day.pm.id).status == "checked_in"
    folder = Path(app.config["UPLOAD_DIR"]) / "visits" / str(day.pm.id)
    assert not folder.exists() or not any(folder.iterdir())


def test_refusals_are_in_the_technicians_language(tech, day):
    checked_in(tech, day.pm)
    r = tech.post(OUT.format(day.pm.id), data=multipart(checkout_body("pm_done"), [(b"not an image", "a.jpg")]),
                  headers={"Accept-Language": "fa"})
    assert r.status_code == 422 and "تصویر قابل خواندنی نیست" in r.json["error"]["message"]
    far = checkin_body(day.em, dlat=0.02)
    r = tech.post(IN.format(day.em.id), json=far, headers={"Accept-Language": "fa"})
    assert r.status_code == 422 and r.json["error"]["field"] == "reason"
    assert "موقعیت تأیید نشد" in r.json["error"]["message"] and "متر از فروشگاه" in r.json["error"]["message"]


def test_confirmation_code_when_the_contract_asks(tech, day, world):
    world.contracts[0].require_confirmation_code = True
    day.call.confirmation_code = "123456"
    db.session.commit()
    checked_in(tech, day.em)
    r = tech.post(OUT.format(day.em.id), json=checkout_body("fixed"))
    assert r.status_code == 422 and r.json["error"]["field"] == "confirmation_code"
    r = tech.post(OUT.format(day.em.id), json=checkout_body("fixed", confirmation_code="654321"))
    assert r.status_code == 422 and r.json["error"]["code"] == "confirmation_mismatch"
    r = tech.post(OUT.format(day.em.id), json=checkout_body("fixed", confirmation_code="۱۲۳۴۵۶"))
    assert r.status_code == 200 and r.json["checkout"]["merchant_confirmed"] is True


def test_pm_visit_gets_its_own_code_at_check_in(tech, day, world):
    world.contracts[0].require_confirmation_code = True
    db.session.commit()
    checked_in(tech, day.pm)
    code = db.session.get(m.Visit, day.pm.id).confirmation_code
    assert code and len(code) == 6
    r = tech.post(OUT.format(day.pm.id), json=checkout_body("pm_done", confirmation_code=code))
    assert r.status_code == 200


@pytest.mark.parametrize("change, field", [
    ({"outcome": None}, "outcome"),
    ({"outcome": "exploded"}, "outcome"),
    ({"at": None}, "at"),
    ({"client_event_id": None}, "client_event_id"),
    ({"parts_used": "paper"}, "parts_used"),
])
def test_bad_check_out_payload_is_422_naming_the_field(tech, day, change, field):
    checked_in(tech, day.pm)
    body = checkout_body("pm_done")
    for k, v in change.items():
        if v is None:
            body.pop(k)
        else:
            body[k] = v
    r = tech.post(OUT.format(day.pm.id), json=body)
    assert r.status_code == 422 and r.json["error"]["field"] == field
    r = tech.post(OUT.format(day.pm.id), data=multipart(body, []))
    assert r.status_code == 422 and r.json["error"]["field"] == field


def test_outcome_must_fit_the_visit_kind(tech, day):
    checked_in(tech, day.em)
    r = tech.post(OUT.format(day.em.id), json=checkout_body("pm_done"))
    assert r.status_code == 422 and r.json["error"]["field"] == "outcome"


def test_route_api_lists_own_stops_in_order(tech, day):
    r = tech.get("/api/v1/tech/route")
    assert r.status_code == 200
    assert [s["id"] for s in r.json["stops"]] == [day.pm.id, day.em.id, day.pm2.id]
    em = r.json["stops"][1]
    assert em["service_call"]["symptom_code"] == "printer" and em["deadline"]
    assert [t["serial"] for t in r.json["stops"][0]["terminals"]] == [t.serial for t in day.pm.terminals]
    assert tech.get(f"/api/v1/tech/route?date={(today_local() + timedelta(days=1)).isoformat()}").json["stops"] == []


def test_check_out_api_is_documented(client, day):
    spec = client.get("/api/v1/openapi.json").json
    op = spec["paths"]["/api/v1/visits/{visit_id}/check-out"]["post"]
    assert set(op["requestBody"]["content"]) == {"application/json", "multipart/form-data"}
    assert "202" in op["responses"]
    assert "/api/v1/visits/{visit_id}/check-in" in spec["paths"]



def _van_levels(technician: m.Technician) -> dict[str, int]:
    from fieldsvc.visits.stock.moves import levels
    from fieldsvc.visits.stock.places import van

    db.session.expire_all()
    return {lv.item: lv.quantity for lv in levels(van(technician))}


def test_counted_parts_used_are_taken_from_the_van_once(tech, day, world):
    from fieldsvc.visits.lifecycle_models import StockMove
    from fieldsvc.visits.stock.moves import move_consumable
    from fieldsvc.visits.stock.places import van

    technician = world.technicians[0]
    move_consumable("paper_roll", 5, None, van(technician), actor=None, reason="loaded")
    db.session.commit()
    # the check-out arrives before its check-in, then twice: the van gives its parts once
    body = checkout_body("pm_done", consumables_used={"paper_roll": 2, "battery": 0})
    assert tech.post(OUT.format(day.pm.id), json=body).status_code == 202
    assert _van_levels(technician)["paper_roll"] == 5  # held: nothing taken yet
    checked_in(tech, day.pm)
    again = tech.post(OUT.format(day.pm.id), json=body)
    assert again.status_code == 200 and again.json["checkout"]["consumables_used"] == {"paper_roll": 2}
    assert _van_levels(technician) == {"paper_roll": 3, "battery": 0, "sim_card": 0}
    moves = db.session.scalars(select(StockMove).where(StockMove.visit_id == day.pm.id)).all()
    assert [(mv.item, mv.quantity, mv.to_place_id) for mv in moves] == [("paper_roll", 2, None)]


def test_a_part_the_van_did_not_hold_is_a_shortfall_not_a_refused_check_out(tech, day, world):
    from fieldsvc.visits.stock.moves import move_consumable
    from fieldsvc.visits.stock.places import van

    technician = world.technicians[0]
    move_consumable("sim_card", 1, None, van(technician), actor=None, reason="loaded")
    db.session.commit()
    checked_in(tech, day.em)
    r = tech.post(OUT.format(day.em.id), json=checkout_body("fixed", consumables_used={"sim_card": 3}))
    assert r.status_code == 200 and r.json["status"] == "completed"
    assert _van_levels(technician)["sim_card"] == 0
    short = db.session.scalars(select(m.AuditEvent).where(m.AuditEvent.action == "van_stock_short")).all()
    assert [(e.object_id, e.data["item"], e.data["used"], e.data["in_van"]) for e in short] == \
        [(day.em.id, "sim_card", 3, 1)]


@pytest.mark.parametrize("used,field", [
    ({"toner": 1}, "consumables_used.toner"),
    ({"paper_roll": -1}, "consumables_used.paper_roll"),
    ({"paper_roll": 51}, "consumables_used.paper_roll"),
    ({"paper_roll": 1.5}, "consumables_used.paper_roll"),
])
def test_bad_counted_parts_are_refused_naming_the_part(tech, day, world, used, field):
    checked_in(tech, day.pm)
    r = tech.post(OUT.format(day.pm.id), json=checkout_body("pm_done", consumables_used=used))
    assert r.status_code == 422 and r.json["error"]["field"] == field, r.json
    db.session.expire_all()
    assert db.session.get(m.Visit, day.pm.id).status == "checked_in"
