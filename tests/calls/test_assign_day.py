"""Issue 17.2: a call assigned "without a route" is on the technician's day at once, with an ETA."""
from __future__ import annotations

from datetime import timedelta

from fieldsvc.db import db
from fieldsvc.visits import models as m
from tests.calls.conftest import DAY, add_route, new_call, tehran
from tests.conftest import login


def _assign_on_call_page(client, call, tech):
    login(client, "dispatcher-c1")
    r = client.post(f"/psp/calls/{call.id}/action", data={"action": "assign", "technician_id": tech.id,
                                                       "version": call.version})
    assert r.status_code in (302, 303)
    client.post("/logout")


def _technicians_routes(client, day):
    login(client, "tech-c1-1")
    r = client.get(f"/api/v1/routes?date={day.isoformat()}")
    assert r.status_code == 200
    return r.json


def test_assigned_call_is_on_todays_route_at_once_with_its_eta(client, world, fixed_now):
    tech = world.technicians[0]
    add_route(tech, DAY, [(world.merchants[1], "pm", "planned"), (world.merchants[2], "pm", "planned")],
              start="10:00")
    call = new_call(world)
    _assign_on_call_page(client, call, tech)
    db.session.expire_all()
    call = db.session.get(m.ServiceCall, call.id)
    assert call.status == "scheduled" and call.technician_id == tech.id
    routes = _technicians_routes(client, DAY)
    stops = [s for r in routes for s in r["stops"] if s["tracking_number"] == call.tracking_number]
    assert len(stops) == 1 and stops[0]["eta"] and stops[0]["kind"] == "em"
    assert routes[0]["technician"]["id"] == tech.id
    visit = db.session.get(m.Visit, stops[0]["visit_id"])
    assert visit.pinned_technician_id == tech.id and visit.planned_date == DAY


def test_assigned_after_the_shift_goes_on_the_next_working_day(client, world, fixed_now):
    tech = world.technicians[0]
    fixed_now(tehran(DAY, "21:30"))  # Sunday night, the shift is over
    call = new_call(world, at=tehran(DAY, "21:30"))
    _assign_on_call_page(client, call, tech)
    db.session.expire_all()
    call = db.session.get(m.ServiceCall, call.id)
    assert call.status == "scheduled"
    monday = DAY + timedelta(days=1)
    assert _technicians_routes(client, DAY) == []
    stop = next(s for r in _technicians_routes(client, monday) for s in r["stops"])
    assert stop["tracking_number"] == call.tracking_number and stop["eta"]


def test_no_room_in_the_coming_week_keeps_the_call_assigned(client, world, fixed_now):
    tech = world.technicians[0]
    tech.max_visits = 0
    db.session.commit()
    call = new_call(world)
    _assign_on_call_page(client, call, tech)
    db.session.expire_all()
    call = db.session.get(m.ServiceCall, call.id)
    assert call.status == "assigned" and call.technician_id == tech.id
    assert not db.session.scalars(db.select(m.Visit).where(m.Visit.service_call_id == call.id)).all()
