"""A routed installation whose technician carries no terminal of its family is named on the board;
calls held for parts are listed with their waiting time."""
from __future__ import annotations

from datetime import timedelta

from fieldsvc.db import db, utcnow
from fieldsvc.visits import models as m
from fieldsvc.visits.desk.parts_wait import held_for_parts
from fieldsvc.visits.orders import service as svc
from fieldsvc.visits.plans.van_check import missing_terminals
from tests.conftest import login
from tests.lifecycle.helpers import spare, van_of
from tests.lifecycle.test_checkout import _on_todays_route
from tests.tech.conftest import today_local


def test_board_names_installs_whose_van_lacks_the_terminal(client, world):
    tech = world.technicians[0]
    van = van_of(tech)
    spare("VX-1", world.psps[0], van)  # one pax terminal for two pax installs
    a = svc.create_order(svc.OrderInput("install", "m10", model="PAX S90"), world.users["psp-p1"])
    b = svc.create_order(svc.OrderInput("install", "m11", model="PAX S910"), world.users["psp-p1"])
    _on_todays_route(a.visit, tech)
    _on_todays_route(b.visit, tech)
    b.visit.route_position = 2
    db.session.commit()
    warnings = missing_terminals(world.contractors[0].id, today_local())
    assert [(w["visit_id"], w["needs"]) for w in warnings] == [(b.visit_id, "pax")]
    login(client, "dispatcher-c1")
    page = client.get(f"/dispatch/?contractor=c1&date={today_local().isoformat()}").get_data(as_text=True)
    assert f'data-visit="{b.visit_id}"' in page and f'data-visit="{a.visit_id}"' not in page
    spare("VX-2", world.psps[0], van)
    assert missing_terminals(world.contractors[0].id, today_local()) == []


def test_calls_held_for_parts_with_their_waiting_time(client, world):
    tech = world.technicians[0]
    mer = world.merchants[1]
    reported = utcnow() - timedelta(hours=30)
    call = m.ServiceCall(tracking_number="EM-P-1", terminal_id=mer.terminals[0].id, merchant_id=mer.id,
                         psp_id=mer.psp_id, contractor_id=tech.contractor_id, contract_id=world.contracts[0].id,
                         priority="normal", symptom_code="printer", status="assigned", reported_at=reported,
                         response_by=reported + timedelta(hours=8), resolution_by=reported + timedelta(hours=48),
                         technician_id=tech.id)
    db.session.add(call)
    db.session.flush()
    db.session.add(m.Visit(kind="em", status="completed", merchant=mer, contractor_id=tech.contractor_id,
                           service_call_id=call.id, technician_id=tech.id, outcome="needs_parts",
                           parts_used=["printer head"], checkin_at=reported + timedelta(hours=1),
                           checkout_at=reported + timedelta(hours=2)))
    db.session.commit()
    held = held_for_parts(world.users["psp-p1"], now=reported + timedelta(hours=26))
    assert [(h.call.tracking_number, h.waiting_hours, h.parts) for h in held] == [("EM-P-1", 24.0, ["printer head"])]
    assert held_for_parts(world.users["psp-p2"]) == []
    login(client, "dispatcher-c1")
    body = client.get("/api/v1/stock/held-calls").json
    assert [c["tracking_number"] for c in body] == ["EM-P-1"] and body[0]["waiting_hours"] >= 28
    assert "EM-P-1" in client.get("/stock").get_data(as_text=True)
    call.status = "resolved"
    db.session.commit()
    assert held_for_parts(world.users["psp-p1"]) == []
