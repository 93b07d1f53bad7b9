"""Re-planning today once technicians' shifts are over (issue 25): the ended technician is left
out and named, keeps the route of their finished and checked-in work, and the others are planned;
after every shift the run succeeds with an empty plan and says so on the API and the board."""
from __future__ import annotations

import datetime as dt

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.plans import planning
from fieldsvc.visits.audit import transition_visit
from fieldsvc.visits.plans.day_over import ALL_OVER_MESSAGE
from tests.conftest import login
from tests.dispatch.conftest import DAY, c1_visits


def _at(hours: int, minutes: int = 0) -> dt.datetime:
    return planning.day_start_utc(DAY) + dt.timedelta(hours=hours, minutes=minutes)


def _morning_plan(world) -> tuple[m.Technician, m.Technician, list[m.Visit]]:
    """Tech 1-1 works 08:00-13:00 and is planned two of c1's three visits; Tech 1-2 works to 21:00."""
    part_timer, other = world.technicians[0], world.technicians[1]
    part_timer.shift_end, other.shift_end = "13:00", "21:00"
    db.session.commit()
    visits = c1_visits(world)
    for v in visits[:2]:
        planning.pin_visit(v, part_timer)
    run = planning.plan_contractor_day(world.contractors[0].id, DAY, time_limit=1, now=_at(7))
    assert run.status == "succeeded", run.error
    planning.pin_visit(db.session.get(m.Visit, visits[1].id), None)  # free to move to someone else
    db.session.expire_all()
    assert {db.session.get(m.Visit, v.id).technician_id for v in visits[:2]} == {part_timer.id}
    return part_timer, other, visits


def _finish(visit: m.Visit, checkin: dt.datetime, checkout: dt.datetime | None) -> None:
    transition_visit(visit, "checked_in")
    visit.checkin_at = checkin
    if checkout is not None:
        transition_visit(visit, "completed")
        visit.checkout_at = checkout
    db.session.commit()


def _where(visit_id: int) -> tuple:
    v = db.session.get(m.Visit, visit_id)
    return v.status, v.route_id, v.route_position, v.technician_id, v.eta


def test_replan_at_14_after_a_shift_ended_at_13(pm_world):
    part_timer, other, visits = _morning_plan(pm_world)
    done = db.session.get(m.Visit, visits[0].id)
    _finish(done, _at(9), _at(9, 30))
    kept = _where(done.id)
    run = planning.plan_contractor_day(pm_world.contractors[0].id, DAY, time_limit=1, now=_at(14))
    assert run.status == "succeeded", run.error
    db.session.expire_all()
    assert _where(done.id) == kept  # the finished visit stays where it was
    assert db.session.get(m.Route, kept[1]).technician_id == part_timer.id
    # the part-timer gets nothing new; the other technician takes the rest of the day
    assert [v.id for v in db.session.get(m.Route, kept[1]).visits] == [done.id]
    for v in visits[1:]:
        v = db.session.get(m.Visit, v.id)
        assert v.technician_id == other.id and v.planned_start >= _at(16, 30)
    entry, = run.summary["day_over"]
    assert (entry["technician_id"], entry["name"], entry["reason"], entry["shift_end"]) == (
        part_timer.id, "Tech 1-1", "shift_over", "13:00")
    assert run.summary["all_day_over"] is False and run.summary["served"] == 3
    assert run.message == "stored"


def test_replan_after_every_shift_is_empty_succeeds_and_says_so(pm_world, client):
    part_timer, other, visits = _morning_plan(pm_world)
    done = db.session.get(m.Visit, visits[0].id)
    _finish(done, _at(9), _at(9, 30))
    kept = _where(done.id)
    run = planning.plan_contractor_day(pm_world.contractors[0].id, DAY, time_limit=1, now=_at(21, 38))
    assert run.status == "succeeded" and not run.error
    assert run.message == ALL_OVER_MESSAGE and run.summary["all_day_over"] is True
    assert {e["technician_id"] for e in run.summary["day_over"]} == {part_timer.id, other.id}
    db.session.expire_all()
    assert _where(done.id) == kept
    assert all(db.session.get(m.Visit, v.id).route_id is None for v in visits[1:])  # nothing new planned
    assert {u["visit_id"]: u["reason"] for u in run.unassigned} == {v.id: "day_over" for v in visits[1:]}
    assert [r.technician_id for r in db.session.scalars(db.select(m.Route).where(m.Route.date == DAY))] \
        == [part_timer.id]

    login(client, "dispatcher-c1")
    en = client.get(f"/api/v1/plans/{run.id}", headers={"Accept-Language": "en"}).get_json()
    assert en["status"] == "succeeded"
    assert en["message"] == "The working day is over for all technicians; plan tomorrow."
    assert en["notices"][0]["code"] == "day_over_all"
    assert "Tech 1-1: the shift ended at 13:00" in en["notices"][1]["text"]
    fa = client.get(f"/api/v1/plans/{run.id}", headers={"Accept-Language": "fa"}).get_json()
    assert fa["message"] == "روز کاری همه تکنسین‌ها تمام شده است؛ برای فردا برنامه‌ریزی کنید."
    assert "۱۳:۰۰" in fa["notices"][1]["text"]
    board = client.get(f"/dispatch/?date={DAY.isoformat()}&contractor=c1", headers={"Accept-Language": "en"})
    html = board.get_data(as_text=True)
    assert 'id="plan-notices"' in html and "The working day is over for all technicians; plan tomorrow." in html
    assert "The working day is over for every technician; plan it tomorrow." in html  # unassigned reason
    fa_html = client.get(f"/dispatch/?date={DAY.isoformat()}&contractor=c1",
                         headers={"Accept-Language": "fa"}).get_data(as_text=True)
    assert "روز کاری همه تکنسین‌ها تمام شده است؛ برای فردا برنامه‌ریزی کنید." in fa_html


def test_replan_with_a_checked_in_job_running_past_the_shift_end(pm_world):
    part_timer, other, visits = _morning_plan(pm_world)
    busy = db.session.get(m.Visit, visits[0].id)  # 2 terminals: 30 minutes on site
    _finish(busy, _at(12, 40), None)
    part_timer.last_lat, part_timer.last_lon = busy.merchant.lat, busy.merchant.lon
    part_timer.last_seen_at = _at(12, 40)
    db.session.commit()
    kept = _where(busy.id)
    run = planning.plan_contractor_day(pm_world.contractors[0].id, DAY, time_limit=1, now=_at(12, 45))
    assert run.status == "succeeded", run.error
    db.session.expire_all()
    assert _where(busy.id) == kept  # still checked in, same route, same place
    assert [v.id for v in db.session.get(m.Route, kept[1]).visits] == [busy.id]
    assert all(db.session.get(m.Visit, v.id).technician_id == other.id for v in visits[1:])
    entry, = run.summary["day_over"]
    assert (entry["technician_id"], entry["reason"], entry["under_way"]) == (part_timer.id, "no_time_left",
                                                                             [busy.id])
    assert entry["free_at"] > "13:00" and run.summary["served"] == 3
