"""Orders planned like any visit and finished at check-out: serials installed/removed (Persian
digits accepted), the merchant's confirmation, stock moved van ⇄ merchant, a swap from the van."""
from __future__ import annotations

import datetime as dt
from datetime import datetime, timezone

from sqlalchemy import select

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.orders import service as svc
from fieldsvc.visits.plans.planning import plan_contractor_day
from fieldsvc.visits.stock import places
from tests.conftest import login
from tests.lifecycle.helpers import spare, van_of
from tests.tech.conftest import TEHRAN, checkin_body, checkout_body, today_local


def _on_todays_route(visit: m.Visit, tech: m.Technician) -> None:
    route = db.session.scalars(select(m.Route).where(m.Route.technician_id == tech.id,
                                                     m.Route.date == today_local())).first()
    if route is None:
        route = m.Route(technician_id=tech.id, date=today_local())
        db.session.add(route)
        db.session.flush()
    visit.route_id, visit.technician_id, visit.planned_date = route.id, tech.id, today_local()
    visit.route_position, visit.status = 1, "dispatched"
    start = datetime.now(timezone.utc)
    visit.eta = visit.planned_start = start
    svc.mark_scheduled([visit])
    db.session.commit()


def _place_of(serial: str) -> m.TerminalPlace:
    t = db.session.scalars(select(m.Terminal).where(m.Terminal.serial == serial)).one()
    return db.session.get(m.TerminalPlace, t.id, populate_existing=True)


def test_an_open_order_is_planned_and_becomes_scheduled(world):
    order = svc.create_order(svc.OrderInput("install", "m10", model="PAX S90"), world.users["psp-p1"])
    day = (datetime.now(TEHRAN) + dt.timedelta(days=1)).date()
    while day.weekday() == 4:  # Friday is off
        day += dt.timedelta(days=1)
    run = plan_contractor_day(world.contractors[0].id, day, time_limit=2)
    assert run.status == "succeeded", run.error
    db.session.expire_all()
    order = db.session.get(svc.WorkOrder, order.id)
    assert order.visit.route_id is not None and order.visit.planned_date == day
    assert order.status == "scheduled"
    states = db.session.scalars(select(m.AuditEvent.to_state).where(
        m.AuditEvent.object_type == "work_order").order_by(m.AuditEvent.id)).all()
    assert states == ["open", "scheduled"]


def test_install_checkout_records_the_serial_from_the_van_and_the_confirmation(client, world):
    tech = world.technicians[0]
    van = van_of(tech)
    spare("NP-555", world.psps[0], van)
    order = svc.create_order(svc.OrderInput("install", "m11", model="PAX A920"), world.users["psp-p1"])
    _on_todays_route(order.visit, tech)
    login(client, "tech-c1-1")
    vid = order.visit_id
    assert client.post(f"/api/v1/visits/{vid}/check-in", json=checkin_body(order.visit)).status_code == 200
    r = client.post(f"/api/v1/visits/{vid}/check-out", json=checkout_body("installed"))
    assert r.status_code == 422 and r.json["error"]["field"] == "new_serial"
    r = client.post(f"/api/v1/visits/{vid}/check-out", json=checkout_body("installed", new_serial="SN100"))
    assert r.status_code == 422 and r.json["error"]["field"] == "new_serial"  # installed at another merchant
    r = client.post(f"/api/v1/visits/{vid}/check-out", json=checkout_body("installed", new_serial="np-۵۵۵"))
    assert r.status_code == 200, r.json
    db.session.expire_all()
    order = db.session.get(svc.WorkOrder, order.id)
    assert order.status == "done" and order.installed_serial == "NP-555" and order.done_at is not None
    where = _place_of("NP-555")
    assert where.place.kind == "merchant" and where.place.merchant_id == order.merchant_id
    t = where.terminal
    assert t.merchant_id == order.merchant_id and t.status == "active" and t.installed_on == today_local()
    move = db.session.scalars(select(m.StockMove).where(m.StockMove.terminal_id == t.id)
                              .order_by(m.StockMove.id.desc())).first()
    assert (move.from_place_id, move.actor, move.visit_id, move.work_order_id) == (van.id, "tech-c1-1", vid, order.id)


def test_removal_of_a_terminal_the_merchant_does_not_have_is_refused_then_done_to_the_van(client, world):
    tech = world.technicians[0]
    van = van_of(tech)
    order = svc.create_order(svc.OrderInput("removal", "m11", terminal_serial="SN110"), world.users["psp-p1"])
    _on_todays_route(order.visit, tech)
    login(client, "tech-c1-1")
    vid = order.visit_id
    client.post(f"/api/v1/visits/{vid}/check-in", json=checkin_body(order.visit))
    r = client.post(f"/api/v1/visits/{vid}/check-out", json=checkout_body("removed", old_serial="SN100"))
    assert r.status_code == 422 and r.json["error"]["field"] == "old_serial"
    assert db.session.scalars(select(m.StockMove)).first() is None
    r = client.post(f"/api/v1/visits/{vid}/check-out", json=checkout_body("removed", old_serial="sn۱۱۰"))
    assert r.status_code == 200, r.json
    db.session.expire_all()
    assert db.session.get(svc.WorkOrder, order.id).status == "done"
    where = _place_of("SN110")
    assert where.place_id == van.id and where.terminal.merchant_id is None and where.terminal.status == "removed"


def test_relocation_removes_then_installs_at_the_target(client, world):
    tech = world.technicians[0]
    van_of(tech)
    order = svc.create_order(svc.OrderInput("relocation", "m11", terminal_serial="SN110", target_merchant="m12"),
                             world.users["psp-p1"])
    _on_todays_route(order.visit, tech)
    login(client, "tech-c1-1")
    first = order.visit
    client.post(f"/api/v1/visits/{first.id}/check-in", json=checkin_body(first))
    assert client.post(f"/api/v1/visits/{first.id}/check-out",
                       json=checkout_body("removed", old_serial="SN110")).status_code == 200
    db.session.expire_all()
    order = db.session.get(svc.WorkOrder, order.id)
    assert order.status == "open" and order.visit.kind == "install" and order.visit.merchant_id == world.merchants[2].id
    second = order.visit
    _on_todays_route(second, tech)
    second.route_position = 2
    db.session.commit()
    client.post(f"/api/v1/visits/{second.id}/check-in", json=checkin_body(second))
    assert client.post(f"/api/v1/visits/{second.id}/check-out", json=checkout_body("installed")).status_code == 200
    db.session.expire_all()
    order = db.session.get(svc.WorkOrder, order.id)
    assert order.status == "done" and (order.removed_serial, order.installed_serial) == ("SN110", "SN110")
    assert _place_of("SN110").place.merchant_id == world.merchants[2].id


def test_em_swap_takes_the_new_terminal_from_the_van_and_returns_the_old_one_faulty(client, world):
    tech = world.technicians[0]
    van = van_of(tech)
    wh = places.contractor_warehouse(world.contractors[0])
    spare("SP-1", world.psps[0], van)
    spare("SP-2", world.psps[0], wh)
    mer = world.merchants[1]
    visit = m.Visit(kind="em", status="planned", merchant=mer, contractor_id=tech.contractor_id,
                    contract=world.contracts[0], terminals=[mer.terminals[0]])
    db.session.add(visit)
    db.session.commit()
    _on_todays_route(visit, tech)
    login(client, "tech-c1-1")
    client.post(f"/api/v1/visits/{visit.id}/check-in", json=checkin_body(visit))
    r = client.post(f"/api/v1/visits/{visit.id}/check-out",
                    json=checkout_body("swapped", old_serial="SN110", new_serial="SP-2"))
    assert r.status_code == 422 and r.json["error"]["field"] == "new_serial"  # in the warehouse, not the van
    r = client.post(f"/api/v1/visits/{visit.id}/check-out",
                    json=checkout_body("swapped", old_serial="SN110", new_serial="SP-1"))
    assert r.status_code == 200, r.json
    db.session.expire_all()
    old, new = _place_of("SN110"), _place_of("SP-1")
    assert old.place_id == van.id and old.faulty is True
    assert new.place.merchant_id == mer.id and new.terminal.status == "active"


def test_the_horizon_spreads_open_orders_before_their_deadline(world):
    from zoneinfo import ZoneInfo

    from fieldsvc.visits.plans.planning import plan_horizon
    zone = ZoneInfo("Asia/Tehran")
    pax = svc.create_order(svc.OrderInput("install", "m10", model="PAX S90"), world.users["psp-p1"])
    ing = svc.create_order(svc.OrderInput("install", "m11", model="Ingenico Move5000"), world.users["psp-p1"])
    start = datetime.now(TEHRAN).date()
    run = plan_horizon(start, 7, contractor_id=world.contractors[0].id)[0]
    assert run.status == "succeeded", run.error
    db.session.expire_all()
    pax, ing = db.session.get(svc.WorkOrder, pax.id), db.session.get(svc.WorkOrder, ing.id)
    assert pax.visit.planned_date is not None
    assert start <= pax.visit.planned_date <= pax.deadline.astimezone(zone).date()
    assert ing.visit.planned_date is None and ing.visit.unassigned_reason  # nobody knows ingenico
    assert {u["visit_id"]: u["kind"] for u in run.unassigned} == {ing.visit_id: "install"}


def test_a_failed_visit_fails_the_order_with_its_reason_and_reopening_makes_a_new_visit(client, world):
    tech = world.technicians[0]
    van_of(tech)
    order = svc.create_order(svc.OrderInput("install", "m11", model="PAX S90"), world.users["psp-p1"])
    _on_todays_route(order.visit, tech)
    login(client, "tech-c1-1")
    first = order.visit_id
    client.post(f"/api/v1/visits/{first}/check-in", json=checkin_body(order.visit))
    r = client.post(f"/api/v1/visits/{first}/check-out", json=checkout_body("merchant_closed", notes="Shutter down"))
    assert r.status_code == 200, r.json
    db.session.expire_all()
    order = db.session.get(svc.WorkOrder, order.id)
    assert order.status == "failed" and "Shutter down" in order.reason
    client.get("/logout")
    login(client, "psp-p1")
    r = client.post(f"/api/v1/work-orders/{order.id}/reopen")
    assert r.status_code == 200 and r.json["status"] == "open" and r.json["visit_id"] != first
    db.session.expire_all()
    assert db.session.get(m.Visit, r.json["visit_id"]).status == "planned"
    states = db.session.scalars(select(m.AuditEvent.to_state).where(
        m.AuditEvent.object_type == "work_order", m.AuditEvent.action == "status").order_by(m.AuditEvent.id)).all()
    assert states == ["scheduled", "failed", "open"]
