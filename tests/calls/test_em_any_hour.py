"""EM calls at any hour (issue 19 point 6): after the shift, on a Friday or an Iranian holiday the
options come from the next working day's plan; a 7×24 contract's on-call technician takes the call
today; an empty answer always says why, in the API JSON and on the page. The clock is frozen."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from fieldsvc.calendar import CalendarSpec, is_holiday, is_working_day
from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.desk import slotting
from tests.calls.conftest import DAY, new_call, tehran
from tests.conftest import login
from tests.factories import DEFAULT_CALENDAR


def _answer(client, call_id: int) -> dict:
    res = client.get(f"/api/v1/service-calls/{call_id}/slot-options")
    assert res.status_code == 200, res.get_json()
    return res.get_json()


def _next_working_day(after: date) -> date:
    spec = CalendarSpec.from_dict(DEFAULT_CALENDAR)
    day = after + timedelta(days=1)
    while not is_working_day(spec, day):
        day += timedelta(days=1)
    return day


def _assert_next_day_options(answer: dict, call: m.ServiceCall, day: date) -> None:
    assert answer["options"], answer
    for o in answer["options"]:
        assert o["date"] == day.isoformat() and o["on_call"] is False
        eta = tehran(day, "09:00").__class__.fromisoformat(o["eta"])
        assert eta >= tehran(day, "09:00")  # the shop opens at 09:00
        assert o["late_seconds"] == max(0, int((eta - call.response_by).total_seconds()))
        assert o["sla_met"] is (o["late_seconds"] == 0)


def test_a_call_at_20_gets_options_on_the_next_working_day(client, world, fixed_now):
    fixed_now(tehran(DAY, "20:00"))
    call = new_call(world, at=tehran(DAY, "20:00"))
    login(client, "dispatcher-c1")
    answer = _answer(client, call.id)
    assert answer["reason"] == "shift_over" and answer["message"] == "شیفت‌های امروز تمام شده است."  # Persian first
    _assert_next_day_options(answer, call, DAY + timedelta(days=1))
    assert slotting.slot_options(call.id, world.users["dispatcher-c1"]) == []  # today's routes alone: none
    page = client.get(f"/psp/calls/{call.id}")
    assert b'data-reason="shift_over"' in page.data and b'id="slot-options"' in page.data
    # accepting the first option (the page's form) puts the call on tomorrow's route, pinned
    first = answer["options"][0]
    res = client.post(f"/psp/calls/{call.id}/assign", data={
        "technician_id": first["technician_id"], "position": first["position"], "date": first["date"],
        "version": call.version})
    assert res.status_code == 303
    db.session.expire_all()
    visit = db.session.scalars(select(m.Visit).where(m.Visit.service_call_id == call.id)).one()
    assert call.status == "scheduled" and visit.planned_date == DAY + timedelta(days=1)
    assert visit.route.date == DAY + timedelta(days=1) and visit.pinned_technician_id == first["technician_id"]
    assert visit.eta == tehran(DAY, "09:00").__class__.fromisoformat(first["eta"])


def test_a_call_on_a_friday_gets_the_next_working_day(client, world, fixed_now):
    friday = DAY + timedelta(days=(4 - DAY.weekday()) % 7)
    assert friday.weekday() == 4
    fixed_now(tehran(friday, "10:00"))
    call = new_call(world, at=tehran(friday, "10:00"))
    login(client, "dispatcher-c1")
    answer = _answer(client, call.id)
    assert answer["reason"] == "not_working_day"
    _assert_next_day_options(answer, call, _next_working_day(friday))


def test_a_call_on_an_iranian_holiday_gets_the_next_working_day(client, world, fixed_now):
    spec = CalendarSpec.from_dict(DEFAULT_CALENDAR)
    holiday = next(d for d in (DAY + timedelta(days=i) for i in range(400))
                   if d.weekday() != 4 and is_holiday(spec, d))
    fixed_now(tehran(holiday, "10:00"))
    call = new_call(world, at=tehran(holiday, "10:00"))
    login(client, "dispatcher-c1")
    answer = _answer(client, call.id)
    assert answer["reason"] == "not_working_day" and is_holiday(spec, holiday, "fa") in answer["message"]
    _assert_next_day_options(answer, call, _next_working_day(holiday))


def _run_24x7(world) -> None:
    world.contracts[0].calendar = {"tz": "Asia/Tehran", "mode": "24x7", "iran_holidays": True}
    db.session.commit()


def test_a_24x7_contract_with_an_on_call_technician_gets_an_option_today(client, world, fixed_now):
    _run_24x7(world)
    on_call = world.technicians[1]
    on_call.on_call = True
    db.session.commit()
    fixed_now(tehran(DAY, "20:00"))
    call = new_call(world, at=tehran(DAY, "20:00"))
    login(client, "dispatcher-c1")
    answer = _answer(client, call.id)
    first = answer["options"][0]
    assert answer["reason"] == "shift_over"
    assert (first["technician_id"], first["on_call"], first["date"]) == (on_call.id, True, DAY.isoformat())
    eta = tehran(DAY, "20:00").__class__.fromisoformat(first["eta"])
    assert tehran(DAY, "20:00") <= eta <= tehran(DAY, "20:30") and first["sla_met"]
    assert any(o["date"] == (DAY + timedelta(days=1)).isoformat() for o in answer["options"][1:])
    page = client.get(f"/psp/calls/{call.id}")
    assert b'name="on_call" value="1"' in page.data
    res = client.post(f"/api/v1/service-calls/{call.id}/assign", json={
        "technician_id": on_call.id, "position": first["position"], "date": first["date"], "on_call": True,
        "version": call.version})
    assert res.status_code == 200, res.get_json()
    db.session.expire_all()
    visit = db.session.scalars(select(m.Visit).where(m.Visit.service_call_id == call.id)).one()
    assert call.status == "scheduled" and visit.technician_id == on_call.id and visit.route.date == DAY
    assert tehran(DAY, "20:00") <= visit.eta <= tehran(DAY, "20:30")


def test_on_call_needs_a_24x7_contract_and_the_flag(client, world, fixed_now):
    world.technicians[1].on_call = True  # the contract runs business hours: no on-call duty
    db.session.commit()
    fixed_now(tehran(DAY, "20:00"))
    call = new_call(world, at=tehran(DAY, "20:00"))
    login(client, "dispatcher-c1")
    answer = _answer(client, call.id)
    assert answer["options"] and not any(o["on_call"] for o in answer["options"])
    res = client.post(f"/api/v1/service-calls/{call.id}/assign", json={
        "technician_id": world.technicians[1].id, "position": 0, "on_call": True})
    assert res.status_code == 422 and res.get_json()["error"]["field"] == "on_call"
    _run_24x7(world)
    world.technicians[1].on_call = False
    db.session.commit()
    assert not any(o["on_call"] for o in _answer(client, call.id)["options"])


def test_no_technician_at_all_gives_an_empty_list_with_the_reason(client, world, fixed_now):
    for t in world.technicians[:2]:
        t.active = False
    db.session.commit()
    call = new_call(world)
    login(client, "dispatcher-c1")
    answer = _answer(client, call.id)
    assert answer == {"options": [], "reason": "no_technician", "message": "پیمانکار هیچ تکنسین فعالی ندارد."}
    page = client.get(f"/psp/calls/{call.id}")
    assert 'data-reason="no_technician"' in page.text and "پیمانکار هیچ تکنسین فعالی ندارد." in page.text
    world.users["dispatcher-c1"].language = "en"
    db.session.commit()
    en = _answer(client, call.id)
    assert en["reason"] == "no_technician" and en["message"] == "The contractor has no active technician."
    assert "The contractor has no active technician." in client.get(f"/psp/calls/{call.id}").text


def test_other_empty_answers_say_why(client, world, fixed_now):
    call = new_call(world)
    login(client, "dispatcher-c1")
    call.terminal.family = "ingenico"
    db.session.commit()
    assert _answer(client, call.id)["reason"] == "no_skill"
    call.terminal.family = "pax"
    world.merchants[0].opening_hours = {"sun": [], "mon": [], "tue": [], "wed": [], "thu": [], "fri": [], "sat": []}
    db.session.commit()
    answer = _answer(client, call.id)
    assert answer["options"] == [] and answer["reason"] == "merchant_closed" and answer["message"]
    world.merchants[0].opening_hours = {"sun": [["09:00", "21:00"]]}  # open today only
    for t in world.technicians[:2]:
        t.max_visits = 0  # no room anywhere
    db.session.commit()
    answer = _answer(client, call.id)
    assert answer["options"] == [] and answer["reason"] == "no_room"


def test_the_dispatcher_marks_a_technician_on_call_on_the_form_and_in_the_api(client, world):
    tech = world.technicians[0]
    login(client, "dispatcher-c1")
    form = client.get(f"/setup/technicians/{tech.id}").text
    assert 'name="on_call"' in form and 'type="checkbox"' in form
    r = client.post(f"/setup/technicians/{tech.id}", data={
        "contractor_id": tech.contractor_id, "code": tech.code, "name": tech.name, "home_lat": "35.70",
        "home_lon": "51.40", "skills": "pax", "shift_start": "08:00", "shift_end": "17:00",
        "vehicle": "motorbike", "days_off": "fri", "on_call": "y"})
    assert r.status_code == 302, r.text[-2000:]
    db.session.refresh(tech)
    assert tech.on_call is True
    r = client.patch(f"/api/v1/technicians/{tech.id}", json={"on_call": False})
    assert r.status_code == 200 and r.get_json()["on_call"] is False
    db.session.refresh(tech)
    assert tech.on_call is False


def test_the_technicians_file_sets_the_on_call_flag(world, tmp_path):
    from fieldsvc.visits.master.importer import import_file

    path = tmp_path / "techs.csv"
    path.write_text("contractor,code,name,phone,home_lat,home_lon,skills,on_call\n"
                    "c1,t8,Night Tech,09351234567,35.70,51.40,pax,yes\n"
                    "c1,t1,Tech 1-1,09350001100,35.70,51.40,pax,no\n", encoding="utf-8")
    r = import_file("technicians", path, path.name)
    assert r.ok, r.errors
    techs = {t.code: t for t in db.session.scalars(select(m.Technician).where(m.Technician.contractor_id
                                                                           == world.contractors[0].id))}
    assert techs["t8"].on_call is True and techs["t1"].on_call is False
    bad = tmp_path / "bad.csv"
    bad.write_text("contractor,code,name,phone,home_lat,home_lon,skills,on_call\n"
                   "c1,t7,X,09351234567,35.70,51.40,pax,perhaps\n", encoding="utf-8")
    r = import_file("technicians", bad, bad.name)
    assert not r.ok and r.errors[0].column == "on_call"


def test_assigning_an_option_checks_the_day(client, world, fixed_now):
    call = new_call(world)
    tech = world.technicians[0]
    login(client, "dispatcher-c1")
    for day, field in ((DAY - timedelta(days=1), "date"), (DAY + timedelta(days=30), "date")):
        res = client.post(f"/api/v1/service-calls/{call.id}/assign",
                          json={"technician_id": tech.id, "date": day.isoformat()})
        assert res.status_code == 422 and res.get_json()["error"]["field"] == field
    friday = DAY + timedelta(days=(4 - DAY.weekday()) % 7)
    res = client.post(f"/api/v1/service-calls/{call.id}/assign",
                      json={"technician_id": tech.id, "date": friday.isoformat()})
    assert res.status_code == 422 and res.get_json()["error"]["code"] == "day_off"
    res = client.post(f"/psp/calls/{call.id}/assign", data={"technician_id": tech.id, "date": "tomorrow"})
    assert res.status_code == 303
    db.session.expire_all()
    assert call.status == "open"  # nothing written
