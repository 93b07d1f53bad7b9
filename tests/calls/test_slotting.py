"""Slot options in the live day and committing one: skills, shifts, frozen visits, ranking,
later ETAs, displaced PM visits, and two dispatchers racing for the same call."""
from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select

from fieldsvc.db import db
from fieldsvc.visits.desk import calls as svc
from fieldsvc.visits import models as m
from fieldsvc.visits.desk import slotting
from fieldsvc.visits.desk.calls import CallError
from tests.calls.conftest import DAY, T0, add_route, new_call, tehran
from tests.conftest import login


def _only_tech1(world) -> None:
    world.technicians[1].skills = []
    db.session.commit()


def test_options_respect_skills(world, fixed_now):
    call = new_call(world)
    disp = world.users["dispatcher-c1"]
    assert {o.technician_id for o in slotting.slot_options(call.id, disp)} == {
        world.technicians[0].id, world.technicians[1].id}
    world.technicians[1].skills = ["verifone"]
    db.session.commit()
    assert {o.technician_id for o in slotting.slot_options(call.id, disp)} == {world.technicians[0].id}
    call.terminal.family = "ingenico"
    db.session.commit()
    assert slotting.slot_options(call.id, disp) == []


def test_options_respect_the_shift_and_opening_hours(world, fixed_now):
    call = new_call(world)
    disp = world.users["dispatcher-c1"]
    assert slotting.slot_options(call.id, disp)
    fixed_now(tehran(DAY, "16:50"))  # shift ends at 17:00; a 30-minute visit no longer fits
    assert slotting.slot_options(call.id, disp) == []
    fixed_now(tehran(DAY, "13:10"))  # the shop is closed until 16:30: service starts then
    for o in slotting.slot_options(call.id, disp):
        assert o.eta >= tehran(DAY, "16:30")


def test_options_never_move_visits_done_or_under_way(world, fixed_now):
    _only_tech1(world)
    tech = world.technicians[0]
    mer = world.merchants
    route = add_route(tech, DAY, [(mer[1], "pm", "completed"), (mer[2], "pm", "checked_in"),
                                  (mer[1], "pm", "planned")], start="08:30")
    call = new_call(world)
    options = slotting.slot_options(call.id, world.users["dispatcher-c1"])
    assert options and {o.position for o in options} <= {0, 1}
    # the technician is busy at shop 2 until 09:30, then rides to shop 0: never before that
    assert all(o.arrival >= T0 + timedelta(minutes=5) for o in options)
    slotting.assign_call(call.id, tech.id, 0, world.users["dispatcher-c1"], call.version)
    visits = sorted(route.visits, key=lambda v: v.route_position)
    assert [(v.kind, v.status) for v in visits] == [("pm", "completed"), ("pm", "checked_in"), ("em", "planned"),
                                                    ("pm", "planned")]
    assert [v.route_position for v in visits] == [0, 1, 2, 3]
    assert visits[0].eta == tehran(DAY, "08:30") and visits[1].eta == tehran(DAY, "09:10")


def test_ranking_puts_sla_met_before_less_travel(world, fixed_now):
    tech1, tech2 = world.technicians[0], world.technicians[1]
    tech1.home_lat, tech1.home_lon = 35.73, 51.43  # farther away, but free now
    db.session.commit()
    # tech2 is at the very shop, busy with a long job until 12:00
    add_route(tech2, DAY, [(world.merchants[0], "pm", "checked_in")], start="09:00")
    busy = db.session.scalars(select(m.Visit).where(m.Visit.technician_id == tech2.id)).one()
    busy.service_minutes = 180
    db.session.commit()
    call = new_call(world, "SN101", priority="critical")  # respond by 11:30
    options = slotting.slot_options(call.id, world.users["dispatcher-c1"], limit=10)
    met = [o.sla_met for o in options]
    assert met[0] is True and False in met and met == sorted(met, reverse=True)
    assert options[0].technician_id == tech1.id and options[0].added_travel_seconds > 0
    late = next(o for o in options if not o.sla_met)
    assert late.technician_id == tech2.id and late.added_travel_seconds == 0
    assert late.eta == tehran(DAY, "12:00") and late.late_seconds == 30 * 60


def test_assign_updates_later_etas_and_pushes_displaced_pm_back(client, world, fixed_now):
    _only_tech1(world)
    tech = world.technicians[0]
    mer = world.merchants
    mer[2].opening_hours = {"sun": [["09:00", "10:20"]]}
    route = add_route(tech, DAY, [(mer[1], "pm", "planned"), (mer[2], "pm", "dispatched")],
                      start="09:40", gap_min=30)
    pm1, pm2 = sorted(route.visits, key=lambda v: v.route_position)
    old_eta = pm1.eta
    call = new_call(world)
    login(client, "dispatcher-c1")
    options = client.get(f"/api/v1/service-calls/{call.id}/slot-options").json["options"]
    first = next(o for o in options if o["position"] == 0)
    assert first["displaced_visits"] == [pm2.id] and first["sla_met"]
    r = client.post(f"/api/v1/service-calls/{call.id}/assign",
                    json={"technician_id": tech.id, "position": 0, "version": call.version})
    assert r.status_code == 200, r.json
    stops = r.json["stops"]
    assert [s["kind"] for s in stops] == ["em", "pm"]
    assert stops[0]["service_call"] == call.tracking_number and stops[0]["terminals"] == ["SN100"]
    db.session.expire_all()
    assert pm1.eta > old_eta and pm1.route_position == 1
    assert pm2.route_id is None and pm2.technician_id is None and pm2.status == "planned"
    assert call.tracking_number in pm2.unassigned_reason and pm2.eta is None
    assert call.status == "scheduled" and call.technician_id == tech.id
    em = db.session.scalars(select(m.Visit).where(m.Visit.service_call_id == call.id)).one()
    assert em.route_position == 0 and em.deadline == call.response_by and em.eta <= call.response_by
    assert em.planned_end == em.eta + timedelta(minutes=30)
    assert pm1.eta > em.planned_end  # the PM visit now follows the EM visit, after the ride


def test_assign_refuses_bad_choices(world, fixed_now):
    call = new_call(world)
    disp = world.users["dispatcher-c1"]
    other = world.technicians[2]  # contractor c2
    import pytest
    with pytest.raises(CallError) as e:
        slotting.assign_call(call.id, other.id, 0, disp)
    assert e.value.status == 422
    with pytest.raises(CallError) as e:
        slotting.assign_call(call.id, world.technicians[0].id, 5, disp)
    assert e.value.field == "position"
    with pytest.raises(CallError) as e:
        slotting.assign_call(call.id, world.technicians[0].id, 0, disp, expected_version=call.version + 1)
    assert e.value.status == 409
    assert call.status == "open"


def test_cancel_takes_the_visit_off_the_route(world, fixed_now):
    _only_tech1(world)
    tech = world.technicians[0]
    route = add_route(tech, DAY, [(world.merchants[1], "pm", "planned")], start="10:30")
    call = new_call(world)
    slotting.assign_call(call.id, tech.id, 0, world.users["dispatcher-c1"])
    pm = next(v for v in route.visits if v.kind == "pm")
    delayed = pm.eta
    svc.cancel_call(call, world.users["psp-p1"], "merchant found a spare terminal")
    em = db.session.scalars(select(m.Visit).where(m.Visit.service_call_id == call.id)).one()
    assert em.status == "cancelled" and em.route_id is None
    assert pm.route_position == 0 and pm.eta < delayed


def test_two_dispatchers_assigning_at_once_one_wins(app, world, fixed_now):
    call = new_call(world)
    call_id, version = call.id, call.version
    techs = [world.technicians[0].id, world.technicians[1].id]
    user_id = world.users["dispatcher-c1"].id
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def worker(i: int) -> None:
        with app.app_context():
            user = db.session.get(m.User, user_id)
            db.session.get(m.ServiceCall, call_id)  # both have read the open call
            barrier.wait()
            try:
                slotting.assign_call(call_id, techs[i], 0, user, version)
                results[i] = "ok"
            except CallError as e:
                results[i] = e.status
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results, key=str) == [409, "ok"]
    db.session.expire_all()
    visits = db.session.scalars(select(m.Visit).where(m.Visit.service_call_id == call_id)).all()
    assert len(visits) == 1
    winner = techs[results.index("ok")]
    assert visits[0].technician_id == winner and db.session.get(m.ServiceCall, call_id).technician_id == winner


def test_second_assign_through_the_api_is_a_clear_conflict(client, world, fixed_now):
    call = new_call(world)
    login(client, "dispatcher-c1")
    body = {"technician_id": world.technicians[0].id, "version": call.version}
    assert client.post(f"/api/v1/service-calls/{call.id}/assign", json=body).status_code == 200
    r = client.post(f"/api/v1/service-calls/{call.id}/assign",
                    json={"technician_id": world.technicians[1].id, "version": 1})
    assert r.status_code == 409 and r.json["error"]["code"] in ("already_assigned", "stale")
    assert "Tech 1-1" in r.json["error"]["message"]


def test_dispatcher_accepts_an_option_on_the_call_page(client, world, fixed_now):
    call = new_call(world)
    login(client, "dispatcher-c1")
    page = client.get(f"/psp/calls/{call.id}")
    assert page.status_code == 200 and b'id="slot-options"' in page.data
    assert f'action="/psp/calls/{call.id}/assign"'.encode() in page.data
    r = client.post(f"/psp/calls/{call.id}/assign", data={
        "technician_id": world.technicians[1].id, "position": 0, "version": call.version})
    assert r.status_code == 303
    db.session.expire_all()
    assert call.status == "scheduled" and call.technician_id == world.technicians[1].id
    page = client.get(f"/psp/calls/{call.id}")
    assert b'id="slot-options"' not in page.data and b"Tech 1-2" in page.data


def test_another_em_call_is_never_pushed_out(world, fixed_now):
    _only_tech1(world)
    tech = world.technicians[0]
    mer = world.merchants
    mer[2].opening_hours = {"sun": [["09:00", "10:05"]]}
    db.session.commit()
    other = new_call(world, "SN120", priority="critical")
    slotting.assign_call(other.id, tech.id, 0, world.users["dispatcher-c1"])  # EM at shop 2 right away
    em_other = db.session.scalars(select(m.Visit).where(m.Visit.service_call_id == other.id)).one()
    call = new_call(world, "SN100", priority="urgent")
    options = slotting.slot_options(call.id, world.users["dispatcher-c1"], limit=10)
    # going to shop 0 first (30 min) would make the other call miss its shop's opening hours
    assert options and all(o.position == 1 for o in options)
    import pytest
    with pytest.raises(CallError) as e:
        slotting.assign_call(call.id, tech.id, 0, world.users["dispatcher-c1"])
    assert e.value.code == "no_slot"
    db.session.expire_all()
    assert em_other.route_id is not None and em_other.route_position == 0


def test_the_break_is_kept(world, fixed_now):
    _only_tech1(world)
    tech = world.technicians[0]
    tech.break_start, tech.break_end, tech.break_minutes = "12:00", "12:45", 45
    world.merchants[0].opening_hours = {"sun": [["09:00", "20:00"]]}
    db.session.commit()
    call = new_call(world)
    fixed_now(tehran(DAY, "11:50"))  # a 30-minute job now would run into the fixed 12:00-12:45 break
    options = slotting.slot_options(call.id, world.users["dispatcher-c1"])
    assert options and options[0].eta >= tehran(DAY, "12:45")
    fixed_now(tehran(DAY, "11:00"))
    assert slotting.slot_options(call.id, world.users["dispatcher-c1"])[0].eta < tehran(DAY, "11:30")


def test_max_visits_and_closed_shops(world, fixed_now):
    tech1, tech2 = world.technicians[0], world.technicians[1]
    tech1.max_visits = 2
    add_route(tech1, DAY, [(world.merchants[1], "pm", "planned"), (world.merchants[2], "em", "planned")],
              start="10:00")
    call = new_call(world)
    disp = world.users["dispatcher-c1"]
    assert {o.technician_id for o in slotting.slot_options(call.id, disp, limit=10)} == {tech2.id}
    world.merchants[0].closed_dates = [DAY.isoformat()]
    db.session.commit()
    assert slotting.slot_options(call.id, disp) == []
    import pytest
    with pytest.raises(CallError) as e:
        slotting.assign_call(call.id, tech2.id, None, disp)
    assert e.value.code == "closed"


def test_api_documents_the_call_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for p in ("/api/v1/service-calls", "/api/v1/service-calls/{call_id}",
              "/api/v1/service-calls/{call_id}/slot-options", "/api/v1/service-calls/{call_id}/assign",
              "/api/v1/service-calls/{call_id}/transition"):
        assert p in paths


def test_unassign_then_assign_to_another_technician(client, world, fixed_now):
    call = new_call(world)
    tech1, tech2 = world.technicians[0], world.technicians[1]
    slotting.assign_call(call.id, tech1.id, 0, world.users["dispatcher-c1"])
    login(client, "dispatcher-c1")
    r = client.post(f"/api/v1/service-calls/{call.id}/transition",
                    json={"action": "unassign", "reason": "tech1 has a flat tyre"})
    assert r.status_code == 200 and r.json["status"] == "open" and r.json["technician"] is None
    first = db.session.scalars(select(m.Visit).where(m.Visit.service_call_id == call.id)).one()
    assert first.status == "cancelled" and first.route_id is None
    r = client.post(f"/api/v1/service-calls/{call.id}/assign", json={"technician_id": tech2.id})
    assert r.status_code == 200 and r.json["technician"]["id"] == tech2.id
    active = db.session.scalars(select(m.Visit).where(m.Visit.service_call_id == call.id,
                                                      m.Visit.status == "planned")).all()
    assert [v.technician_id for v in active] == [tech2.id]
