"""Scheduler jobs are plain functions: nightly planning of tomorrow, the due pool refresh."""
from __future__ import annotations

import datetime as dt

from apscheduler.schedulers.background import BackgroundScheduler

from fieldsvc import jobs
from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.plans.planning import day_start_utc
from tests.dispatch.conftest import DAY, LAST_PM


def test_plan_tomorrow_plans_every_contractor(app, world):
    app.config["PLAN_TIME_LIMIT"] = 1
    for t in world.terminals:
        t.last_pm_on = LAST_PM
    db.session.commit()
    evening = day_start_utc(DAY) - dt.timedelta(hours=2)  # 22:00 the night before, Tehran
    out = jobs.plan_tomorrow(now=evening)
    assert {r["date"] for r in out} == {DAY.isoformat()}
    assert [r["status"] for r in out] == ["succeeded", "succeeded"]
    assert sum(r["served"] for r in out) == 6  # the due pool was refreshed first, then planned
    assert db.session.scalar(db.select(db.func.count()).select_from(m.Route).where(m.Route.date == DAY)) >= 2


def test_refresh_due_job(app, world):
    for t in world.terminals:
        t.last_pm_on = LAST_PM
    db.session.commit()
    assert jobs.refresh_due(now=day_start_utc(DAY) + dt.timedelta(hours=3))["created"] == 6


def test_scheduler_has_the_jobs_at_the_configured_time(app):
    app.config["NIGHTLY_PLAN_AT"] = "21:30"
    sched = jobs.build_scheduler(app, BackgroundScheduler(timezone="Asia/Tehran"))
    ids = {j.id for j in sched.get_jobs()}
    assert {"plan_tomorrow", "refresh_due_visits", "escalate_due_calls", "auto_close_resolved_calls"} <= ids
    trigger = str(sched.get_job("plan_tomorrow").trigger)
    assert "hour='21'" in trigger and "minute='30'" in trigger
    assert not sched.running
