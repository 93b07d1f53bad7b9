"""Work orders: deadlines in the contract calendar (holidays skipped), the API, the state machine,
bad input refused with the field named and nothing written."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.orders import service as svc
from fieldsvc.visits.plans.order_risks import orders_at_risk
from fieldsvc.visits.plans.planning import build_day
from fieldsvc.visits.states import IllegalTransition
from tests.conftest import login

TEHRAN = ZoneInfo("Asia/Tehran")


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_deadline_counts_working_hours_and_skips_nowruz(world):
    world.contracts[0].install_deadline_hours = 24
    db.session.commit()
    asked = dt.datetime(2026, 3, 17, 10, 0, tzinfo=TEHRAN)  # Tuesday before Nowruz
    order = svc.create_order(svc.OrderInput("install", "m10", model="PAX S90"), world.users["psp-p1"],
                             requested_at=asked)
    # Tue 10-17 (7 h), Wed 8-17 (9 h), Thu 8-13 (5 h) = 21 h; Fri 20 Mar and Nowruz 21-24 Mar are off;
    # Wed 25 Mar 08:00 + 3 h
    assert order.deadline.astimezone(TEHRAN) == dt.datetime(2026, 3, 25, 11, 0, tzinfo=TEHRAN)
    assert order.status == "open" and order.number.startswith("WO-")
    assert order.visit.kind == "install" and order.visit.deadline == order.deadline
    audit = db.session.scalars(select(m.AuditEvent).where(m.AuditEvent.object_type == "work_order")).all()
    assert [a.action for a in audit] == ["created"]


def test_api_creates_and_lists_orders_in_scope(client, world):
    login(client, "psp-p1")
    r = client.post("/api/v1/work-orders", json={"kind": "removal", "merchant": "m11", "terminal_serial": "sn۱۱۰"})
    assert r.status_code == 201, r.json
    assert r.json["terminal_serial"] == "SN110" and r.json["status"] == "open"
    r = client.post("/api/v1/work-orders", json={"kind": "install", "merchant": "m12", "model": "Verifone V240m"})
    assert r.status_code == 201 and r.json["family"] == "verifone"
    assert [o["kind"] for o in client.get("/api/v1/work-orders?kind=install&status=open").json] == ["install"]
    assert len(client.get("/api/v1/work-orders").json) == 2
    assert client.get("/api/v1/work-orders?status=done").json == []
    client.get("/logout")
    login(client, "dispatcher-c1")
    assert len(client.get("/api/v1/work-orders").json) == 2
    assert client.post("/api/v1/work-orders", json={"kind": "install", "merchant": "m12",
                                                    "model": "PAX S90"}).status_code == 403
    client.get("/logout")
    login(client, "psp-p2")
    assert client.get("/api/v1/work-orders").json == []
    assert client.get(f"/api/v1/work-orders/{r.json['id']}").status_code == 404


@pytest.mark.parametrize("body, field", [
    ({"kind": "removal", "merchant": "m11", "terminal_serial": "SN100"}, "terminal_serial"),  # m10's terminal
    ({"kind": "removal", "merchant": "m11", "terminal_serial": ""}, "terminal_serial"),
    ({"kind": "install", "merchant": "m99", "model": "PAX S90"}, "merchant"),
    ({"kind": "install", "merchant": "m20", "model": "PAX S90"}, "merchant"),  # another PSP's merchant
    ({"kind": "install", "merchant": "m10", "model": ""}, "model"),
    ({"kind": "install", "merchant": "m10", "model": "Toaster 3000"}, "family"),
    ({"kind": "relocation", "merchant": "m11", "terminal_serial": "SN110", "target_merchant": "m11"},
     "target_merchant"),
    ({"kind": "upgrade", "merchant": "m10"}, "kind"),
])
def test_bad_orders_are_refused_with_the_field_and_nothing_written(client, world, body, field):
    login(client, "psp-p1")
    before = (_count(m.Visit), _count(m.AuditEvent))
    r = client.post("/api/v1/work-orders", json=body)
    assert r.status_code == 422, r.json
    assert r.json["error"]["field"] == field
    assert _count(svc.WorkOrder) == 0 and (_count(m.Visit), _count(m.AuditEvent)) == before


def test_a_terminal_with_an_open_order_gets_no_second_one(client, world):
    login(client, "psp-p1")
    body = {"kind": "removal", "merchant": "m11", "terminal_serial": "SN110"}
    assert client.post("/api/v1/work-orders", json=body).status_code == 201
    r = client.post("/api/v1/work-orders", json=body)
    assert r.status_code == 409 and r.json["error"]["field"] == "terminal_serial"


def test_open_order_enters_the_day_with_its_family_as_skill_and_cancel_is_audited(client, world):
    order = svc.create_order(svc.OrderInput("install", "m10", model="Ingenico Move5000"), world.users["psp-p1"])
    day = (dt.datetime.now(TEHRAN) + dt.timedelta(days=1)).date()
    ctx = build_day(world.contractors[0].id, day)
    pv = next(v for v in ctx.problem.visits if v.id == order.visit_id)
    assert pv.skills == frozenset({"ingenico"}) and pv.kind == "install"
    # nobody of contractor 1 knows ingenico: listed at risk with the reason
    risks = orders_at_risk(world.users["psp-p1"])
    assert [(r.order.id, r.reason) for r in risks] == [(order.id, "no_skill")]
    login(client, "psp-p1")
    assert client.post(f"/api/v1/work-orders/{order.id}/cancel", json={"reason": "merchant withdrew"}).status_code == 200
    db.session.expire_all()
    order = db.session.get(svc.WorkOrder, order.id)
    assert order.status == "cancelled" and order.visit.status == "cancelled"
    assert client.post(f"/api/v1/work-orders/{order.id}/cancel", json={"reason": "again"}).status_code == 409
    with pytest.raises(IllegalTransition):
        svc.reopen_order(order, world.users["psp-p1"])


def test_past_deadline_and_no_working_day_are_reasons(world):
    asked = dt.datetime(2026, 3, 19, 12, 0, tzinfo=TEHRAN)  # Thursday noon before Nowruz
    world.contracts[0].install_deadline_hours = 1
    db.session.commit()
    order = svc.create_order(svc.OrderInput("install", "m10", model="PAX S90"), world.users["psp-p1"],
                             requested_at=asked)
    assert order.deadline.astimezone(TEHRAN) == dt.datetime(2026, 3, 19, 13, 0, tzinfo=TEHRAN)
    after = dt.datetime(2026, 3, 19, 14, 0, tzinfo=TEHRAN)
    assert [r.reason for r in orders_at_risk(world.users["admin"], now=after)] == ["past_deadline"]
    world.contracts[0].install_deadline_hours = 2
    db.session.commit()
    # asked on Thursday 12:40: 20 min that day, the rest after Nowruz; the merchant is shut then
    late = svc.create_order(svc.OrderInput("install", "m11", model="PAX S90"), world.users["psp-p1"],
                            requested_at=dt.datetime(2026, 3, 19, 12, 40, tzinfo=TEHRAN))
    late.merchant.closed_dates = ["2026-03-25"]
    db.session.commit()
    now = dt.datetime(2026, 3, 20, 9, 0, tzinfo=TEHRAN)
    assert {(r.order.id, r.reason) for r in orders_at_risk(world.users["admin"], now=now)} == {
        (order.id, "past_deadline"), (late.id, "no_working_day")}
