"""A terminal silent for N business hours opens one call (Iranian week and holidays), once per
silence, and the job runs once per slot even with two schedulers."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select

from fieldsvc import jobs
from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.desk import terminal_events as ev
from tests.events.conftest import TEHRAN, add_rule


def _at(y, mo, d, h, mi=0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=TEHRAN).astimezone(timezone.utc)


def _heartbeat(world, serial: str, at: datetime, event_id: str) -> None:
    ev.ingest(world.psps[0].id, [{"event_id": event_id, "terminal_serial": serial, "kind": "heartbeat",
                                  "time": at.isoformat()}], now=at + timedelta(minutes=1))


def _calls() -> int:
    return db.session.scalar(select(func.count()).select_from(m.ServiceCall))


def test_silent_for_n_business_hours_opens_one_call_per_silence(app, world):
    add_rule(world, kind="silent", symptom_code="no_connection", priority="urgent", silent_hours=4,
             throttle_minutes=0)
    _heartbeat(world, "SN100", _at(2026, 11, 22, 9), "hb-1")     # Sunday 09:00
    _heartbeat(world, "SN110", _at(2026, 11, 22, 12), "hb-2")    # Sunday 12:00
    assert ev.open_calls_for_silent_terminals(_at(2026, 11, 22, 12, 30)) == 0   # 3.5 business hours
    assert ev.open_calls_for_silent_terminals(_at(2026, 11, 22, 13, 5)) == 1    # SN100: 4 h 5 min
    call = db.session.scalars(select(m.ServiceCall)).one()
    assert call.terminal.serial == "SN100" and call.channel == "monitoring" and call.symptom_code == "no_connection"
    assert ev.open_calls_for_silent_terminals(_at(2026, 11, 22, 16)) == 1       # SN110 now; SN100 not again
    assert _calls() == 2
    # SN100 is fixed and closed, speaks again, then falls silent again: a new silence, a new call
    first = db.session.scalars(select(m.ServiceCall).join(m.Terminal).where(m.Terminal.serial == "SN100")).one()
    first.status = "cancelled"
    db.session.commit()
    _heartbeat(world, "SN100", _at(2026, 11, 23, 9), "hb-3")
    assert ev.open_calls_for_silent_terminals(_at(2026, 11, 23, 12)) == 0
    assert ev.open_calls_for_silent_terminals(_at(2026, 11, 23, 14)) == 1
    assert _calls() == 3


def test_holiday_and_weekend_do_not_count_as_silence(app, world):
    add_rule(world, kind="silent", symptom_code="no_connection", silent_hours=4)
    # Tuesday 16:00; Wednesday 2 Dey 1405 (23 Dec 2026) is a public holiday
    _heartbeat(world, "SN100", _at(2026, 12, 22, 16), "hb-h")
    # Thursday 09:30: 41.5 hours later on the wall clock, 2.5 business hours
    assert ev.open_calls_for_silent_terminals(_at(2026, 12, 24, 9, 30)) == 0
    assert ev.open_calls_for_silent_terminals(_at(2026, 12, 24, 11, 30)) == 1


def test_rule_without_silent_hours_or_inactive_opens_nothing(app, world):
    rule = add_rule(world, kind="silent", symptom_code="no_connection", silent_hours=None)
    _heartbeat(world, "SN100", _at(2026, 11, 22, 9), "hb-x")
    assert ev.open_calls_for_silent_terminals(_at(2026, 11, 24, 16)) == 0
    rule.silent_hours, rule.active = 2, False
    db.session.commit()
    assert ev.open_calls_for_silent_terminals(_at(2026, 11, 24, 16)) == 0


def test_silent_job_is_scheduled_and_claims_its_slot(app):
    sched = jobs.build_scheduler(app, BackgroundScheduler(timezone="Asia/Tehran"))
    job = sched.get_job("open_calls_for_silent_terminals")
    assert job is not None and str(job.trigger).startswith("cron")
    from fieldsvc.visits import job_slots
    assert job_slots.claim("open_calls_for_silent_terminals", "2026-11-22T06:30:00Z") is not None
    assert job_slots.claim("open_calls_for_silent_terminals", "2026-11-22T06:30:00Z") is None
