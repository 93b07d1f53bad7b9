"""Fixtures of the dispatcher area: the test world with PM visits due around a fixed week."""
from __future__ import annotations

import datetime as dt

import pytest

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.plans.due import refresh_due_visits

#: A Saturday; Wednesday 2026-12-23 is an Iranian public holiday, Friday 12-25 a weekend.
DAY = dt.date(2026, 12, 19)
LAST_PM = dt.date(2026, 9, 21)  # + 90 days = due 2026-12-20, window 12-05 .. 2027-01-04


@pytest.fixture
def pm_world(app, world):
    """The world with every terminal's last PM on LAST_PM and the due pool refreshed; plans
    started from the web solve for 1 s."""
    app.config["PLAN_TIME_LIMIT"] = 1
    for t in world.terminals:
        t.last_pm_on = LAST_PM
    db.session.commit()
    refresh_due_visits(DAY)
    return world


def c1_visits(world) -> list[m.Visit]:
    c1 = world.contractors[0]
    return list(db.session.scalars(db.select(m.Visit).where(m.Visit.contractor_id == c1.id).order_by(m.Visit.id)))
