"""PM due lists: windows, statuses, grouping per merchant, plannable days, the idempotent pool."""
from __future__ import annotations

import datetime as dt

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.plans.due import (contract_calendar, is_plannable_day, plannable_days, pm_due_list,
                                 refresh_due_visits)
from fieldsvc.visits.contracts.sla import PmStatus
from tests.dispatch.conftest import DAY, LAST_PM


def _set_last_pm(world, day: dt.date) -> None:
    for t in world.terminals:
        t.last_pm_on = day
    db.session.commit()


def test_due_list_statuses_and_grouping(world):
    _set_last_pm(world, LAST_PM)
    c1 = world.contractors[0]
    due = pm_due_list(DAY, contractor_id=c1.id)
    assert [g.merchant_name for g in due] == ["Shop 1-0", "Shop 1-1", "Shop 1-2"]
    first = due[0]
    assert sorted(t.serial for t in first.terminals) == ["SN100", "SN101"]  # two terminals, one visit
    assert first.due == dt.date(2026, 12, 20)
    assert (first.window_start, first.window_end) == (dt.date(2026, 12, 5), dt.date(2027, 1, 4))
    assert first.status == PmStatus.DUE
    assert {g.status for g in pm_due_list(dt.date(2027, 1, 5), contractor_id=c1.id)} == {PmStatus.OVERDUE}
    upcoming = pm_due_list(dt.date(2026, 11, 20), contractor_id=c1.id, lookahead_days=20)
    assert {g.status for g in upcoming} == {PmStatus.UPCOMING}
    assert pm_due_list(dt.date(2026, 11, 1), contractor_id=c1.id, lookahead_days=20) == []


def test_overdue_terminal_makes_the_merchant_overdue(world):
    _set_last_pm(world, LAST_PM)
    world.terminals[0].last_pm_on = dt.date(2026, 8, 1)  # SN100: window ended 2026-11-14
    db.session.commit()
    due = pm_due_list(DAY, contractor_id=world.contractors[0].id)
    assert due[0].merchant_name == "Shop 1-0"
    assert due[0].status == PmStatus.OVERDUE
    assert due[0].window_end == dt.date(2026, 11, 14)


def test_never_planned_on_fridays_holidays_or_closed_days(world):
    mer = world.merchants[0]
    mer.closed_dates = ["2026-12-20"]
    db.session.commit()
    cal = contract_calendar(world.contracts[0])
    days = plannable_days(mer, dt.date(2026, 12, 19), dt.date(2026, 12, 26), cal)
    assert days == [dt.date(2026, 12, 19), dt.date(2026, 12, 21), dt.date(2026, 12, 22),
                    dt.date(2026, 12, 24), dt.date(2026, 12, 26)]
    assert not is_plannable_day(mer, dt.date(2026, 12, 23), cal)  # Birthday of Imam Ali
    assert not is_plannable_day(mer, dt.date(2026, 12, 25), cal)  # Friday
    mer.opening_hours = {**mer.opening_hours, "sat": []}
    assert not is_plannable_day(mer, dt.date(2026, 12, 19), cal)  # shop shut on Saturdays


def test_refresh_due_visits_is_idempotent(world):
    _set_last_pm(world, LAST_PM)
    assert refresh_due_visits(DAY) == {"created": 6, "updated": 0, "cancelled": 0, "unchanged": 0}
    assert refresh_due_visits(DAY) == {"created": 0, "updated": 0, "cancelled": 0, "unchanged": 6}
    visits = db.session.scalars(db.select(m.Visit).order_by(m.Visit.id)).all()
    assert len(visits) == 6 and all(v.kind == "pm" and v.status == "planned" for v in visits)
    assert sorted(t.serial for t in visits[0].terminals) == ["SN100", "SN101"]
    assert visits[0].service_minutes == 30
    # SN101 done meanwhile: the visit keeps only SN100; when SN100 is done too, it is cancelled
    world.terminals[1].last_pm_on = DAY
    db.session.commit()
    assert refresh_due_visits(DAY)["updated"] == 1
    assert [t.serial for t in db.session.get(m.Visit, visits[0].id).terminals] == ["SN100"]
    world.terminals[0].last_pm_on = DAY
    db.session.commit()
    assert refresh_due_visits(DAY)["cancelled"] == 1
    assert db.session.get(m.Visit, visits[0].id).status == "cancelled"
