"""Two `fieldsvc scheduler` processes (two machines) run each scheduled job once per slot."""
from __future__ import annotations

import datetime as dt
import threading
import time

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from fieldsvc import jobs
from fieldsvc.db import db
from fieldsvc.visits import job_slots
from fieldsvc.visits import models as m

DAY = dt.timedelta(days=1)


def test_a_guarded_job_fired_by_two_schedulers_at_once_runs_once(app):
    calls = []

    def nightly() -> None:
        calls.append(threading.get_ident())
        time.sleep(0.5)  # still running when the other scheduler fires

    trigger = CronTrigger(hour=22, minute=0, timezone="Asia/Tehran")
    # what each scheduler runs when the trigger fires: two copies, as two processes would build them
    fired = [jobs._in_app(app, nightly, trigger, DAY), jobs._in_app(app, nightly, trigger, DAY)]
    start = threading.Barrier(2)

    def fire(job) -> None:
        start.wait()
        job()

    threads = [threading.Thread(target=fire, args=(job,)) for job in fired]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(calls) == 1
    rows = db.session.scalars(db.select(m.JobRun)).all()
    assert [(r.job, r.status) for r in rows] == [("nightly", "succeeded")]
    assert rows[0].host and rows[0].finished_at is not None


def test_a_failed_job_is_recorded_and_not_rerun_in_its_slot(app):
    calls = []

    def broken() -> None:
        calls.append(1)
        raise RuntimeError("boom")

    job = jobs._in_app(app, broken, CronTrigger(minute="*/5"), dt.timedelta(minutes=5))
    job()
    job()
    assert len(calls) == 1
    assert db.session.scalar(db.select(m.JobRun.status)) == "failed"


def test_slots_are_named_alike_despite_clock_skew_and_differ_from_day_to_day():
    trigger = CronTrigger(hour=22, minute=0, timezone="Asia/Tehran")
    fire = dt.datetime(2026, 12, 18, 18, 30, tzinfo=dt.timezone.utc)  # 22:00 in Tehran
    early = jobs.nearest_fire_time(trigger, fire - dt.timedelta(seconds=3), DAY)
    late = jobs.nearest_fire_time(trigger, fire + dt.timedelta(seconds=40), DAY)
    assert early == late and early.astimezone(dt.timezone.utc) == fire
    assert jobs.nearest_fire_time(trigger, fire + DAY, DAY) != early


def test_claim_is_unique_per_job_and_slot(app):
    assert job_slots.claim("plan_tomorrow", "2026-12-18T18:30:00Z") is not None
    assert job_slots.claim("plan_tomorrow", "2026-12-18T18:30:00Z") is None
    assert job_slots.claim("refresh_due_visits", "2026-12-18T18:30:00Z") is not None
    assert job_slots.claim("plan_tomorrow", "2026-12-19T18:30:00Z") is not None


def test_every_scheduled_job_is_guarded_and_the_queue_is_polled(app):
    sched = jobs.build_scheduler(app, BackgroundScheduler(timezone="Asia/Tehran"))
    assert "run_queued_plans" in {j.id for j in sched.get_jobs()}
    assert str(sched.get_job("escalate_due_calls").trigger).startswith("cron")  # on the clock's marks
