"""Periodic jobs (APScheduler): nightly planning of tomorrow, due PM refresh, call escalation.

The jobs are plain functions that need an app context (tests call them directly);
`fieldsvc scheduler` runs them on a BlockingScheduler at the times of the configuration:
``NIGHTLY_PLAN_AT`` (local "HH:MM", Config TIMEZONE) plans tomorrow for every contractor,
``DUE_REFRESH_AT`` refreshes the PM due pool daily, and, when the calls module provides them,
``escalate_due_calls`` runs every 5 minutes, ``send_call_alerts`` a minute later (escalation
and before-breach alerts, once each) and ``auto_close_resolved_calls`` hourly.

Every scheduled job runs once per slot even when several schedulers run (two machines for
availability): the first to insert its (job, slot) row runs it, see fieldsvc.visits.job_slots.
Plan runs queued by the web (``FIELDSVC_PLAN_RUNNER=queue``) are solved here too, every few
seconds, one at a time per scheduler (a run is claimed atomically, so two schedulers never solve
the same run); runs whose worker died are failed.
"""
from __future__ import annotations

import datetime as dt
import importlib
import logging
from typing import Any, Callable
from zoneinfo import ZoneInfo

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from fieldsvc.db import utcnow

log = logging.getLogger(__name__)


def _tz() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("TIMEZONE", "Asia/Tehran"))


def plan_tomorrow(now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Plan tomorrow (local date) for every contractor; returns one summary dict per PlanRun."""
    from fieldsvc.visits.plans.due import refresh_due_visits
    from fieldsvc.visits.plans.runs import plan_all_contractors

    now = now or utcnow()
    today = now.astimezone(_tz()).date()
    tomorrow = today + dt.timedelta(days=1)
    refresh_due_visits(today)
    runs = plan_all_contractors(tomorrow, time_limit=current_app.config["PLAN_TIME_LIMIT"],
                                dask_scheduler=current_app.config.get("DASK_SCHEDULER") or None)
    out = [{"id": r.id, "contractor_id": r.contractor_id, "date": r.date.isoformat(), "status": r.status,
            "served": (r.summary or {}).get("served"), "visits": (r.summary or {}).get("visits")} for r in runs]
    log.info("nightly plan of %s: %s", tomorrow, out)
    return out


def refresh_due(now: dt.datetime | None = None) -> dict[str, int]:
    """Refresh the PM due pool as of today (local date)."""
    from fieldsvc.visits.plans.due import refresh_due_visits

    today = (now or utcnow()).astimezone(_tz()).date()
    return refresh_due_visits(today)


def send_call_alerts(now: dt.datetime | None = None) -> int:
    """Escalation and before-breach alerts of service calls (``ALERT_BEFORE_BREACH_MINUTES``),
    each sent once (fieldsvc.visits.desk.alerts)."""
    from fieldsvc.visits.desk.alerts import send_due_alerts

    return send_due_alerts(now, before_minutes=int(current_app.config.get("ALERT_BEFORE_BREACH_MINUTES", 30)))


def optional_job(module: str, name: str) -> Callable[..., Any] | None:
    """``module.name`` if it can be imported, else None (logged, so a missing feature is visible)."""
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as e:
        log.warning("job %s.%s not scheduled: %s", module, name, e)
        return None


def _in_app(app: Flask, fn: Callable[..., Any], trigger: Any = None,
            period: dt.timedelta | None = None) -> Callable[[], None]:
    """``fn`` inside an app context; with a ``trigger`` and its ``period``, only when this process
    wins the job's current slot (the trigger's fire time nearest to now)."""
    name = getattr(fn, "__name__", "job")

    def run() -> None:
        from fieldsvc.visits import job_slots

        with app.app_context():
            claimed = None
            if trigger is not None and period is not None:
                slot = nearest_fire_time(trigger, utcnow(), period).astimezone(dt.timezone.utc)
                claimed = job_slots.claim(name, slot.strftime("%Y-%m-%dT%H:%M:%SZ"))
                if claimed is None:
                    log.info("job %s of %s: another scheduler runs it", name, slot)
                    return
            status = "failed"
            try:
                fn()
                status = "succeeded"
            except Exception:
                log.exception("job %s failed", name)
            finally:
                if claimed is not None:
                    job_slots.finish(claimed, status)
    run.__name__ = name
    return run


def nearest_fire_time(trigger: Any, now: dt.datetime, period: dt.timedelta) -> dt.datetime:
    """The fire time of ``trigger`` nearest to ``now`` (fire times ``period`` apart)."""
    return trigger.get_next_fire_time(None, now - period / 2)


def run_queued_plans() -> int:
    """Fail runs whose worker died, then solve the queued plan runs one after another; returns
    how many were solved."""
    from fieldsvc.visits.plans.runs import reap_dead_runs, run_next_queued

    reap_dead_runs()
    solved = 0
    while run_next_queued(current_app.config["DASK_SCHEDULER"] or None) is not None:
        solved += 1
    return solved


def _hhmm(value: str, name: str) -> tuple[int, int]:
    try:
        h, m = (int(x) for x in value.split(":"))
        if not (0 <= h < 24 and 0 <= m < 60):
            raise ValueError
    except ValueError:
        raise click.BadParameter(f"{name} must be HH:MM, got {value!r}") from None
    return h, m


def build_scheduler(app: Flask, scheduler: Any = None) -> Any:
    """A scheduler (BlockingScheduler by default) with every job added; not started."""
    from apscheduler.schedulers.blocking import BlockingScheduler
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    tz = ZoneInfo(app.config.get("TIMEZONE", "Asia/Tehran"))
    sched = scheduler or BlockingScheduler(timezone=tz)
    day, five, hour = dt.timedelta(days=1), dt.timedelta(minutes=5), dt.timedelta(hours=1)

    def add(fn: Callable[..., Any], trigger: Any, period: dt.timedelta, job_id: str, **kw: Any) -> None:
        sched.add_job(_in_app(app, fn, trigger, period), trigger, id=job_id, replace_existing=True,
                      coalesce=True, **kw)

    h, m = _hhmm(app.config["NIGHTLY_PLAN_AT"], "NIGHTLY_PLAN_AT")
    add(plan_tomorrow, CronTrigger(hour=h, minute=m, timezone=tz), day, "plan_tomorrow", misfire_grace_time=3600)
    dh, dm = _hhmm(app.config.get("DUE_REFRESH_AT", "02:00"), "DUE_REFRESH_AT")
    add(refresh_due, CronTrigger(hour=dh, minute=dm, timezone=tz), day, "refresh_due_visits",
        misfire_grace_time=3600)
    escalate = optional_job("fieldsvc.visits.desk.calls", "escalate_due_calls")
    if escalate is not None:  # on the clock's 5-minute marks, so that every scheduler names the same slot
        add(escalate, CronTrigger(minute="*/5", timezone=tz), five, "escalate_due_calls")
    # a minute after the escalation job, so that levels raised in a slot are announced in the same one
    add(send_call_alerts, CronTrigger(minute="1-59/5", timezone=tz), five, "send_call_alerts")
    close = optional_job("fieldsvc.visits.desk.calls", "auto_close_resolved_calls")
    if close is not None:
        add(close, CronTrigger(minute=7, timezone=tz), hour, "auto_close_resolved_calls")
    silent = optional_job("fieldsvc.visits.desk.terminal_events", "open_calls_for_silent_terminals")
    if silent is not None:  # terminals silent for N business hours (issue 23), every quarter hour
        add(silent, CronTrigger(minute="*/15", timezone=tz), dt.timedelta(minutes=15), "open_calls_for_silent_terminals")
    poll = optional_job("fieldsvc.web.intake_mail", "poll_support_mailbox")
    if poll is not None and app.config.get("IMAP_HOST"):  # every minute on the minute: one slot per minute
        add(poll, CronTrigger(minute="*", timezone=tz), dt.timedelta(minutes=1), "poll_support_mailbox")
    sched.add_job(_in_app(app, run_queued_plans), IntervalTrigger(seconds=5), id="run_queued_plans",
                  replace_existing=True, coalesce=True, max_instances=1)
    return sched


@click.command("worker")
@click.option("--every", type=click.FloatRange(0.5, 600), default=5.0, show_default=True,
              help="Seconds between looks at the queue.")
@with_appcontext
def worker(every: float) -> None:
    """Solve plan runs queued by the web (FIELDSVC_PLAN_RUNNER=queue) until stopped; start as many
    as you like, on any machine that reaches the database."""
    import time

    click.echo("plan worker running (Ctrl+C to stop)")
    try:
        while True:
            solved = run_queued_plans()
            if solved:
                click.echo(f"solved {solved} plan run(s)")
            time.sleep(every)
    except (KeyboardInterrupt, SystemExit):
        click.echo("plan worker stopped")


@click.command("scheduler")
@with_appcontext
def scheduler() -> None:
    """Run the periodic jobs (nightly planning, due PM refresh, call escalation) until stopped."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    sched = build_scheduler(app)
    for job in sched.get_jobs():
        click.echo(f"scheduled {job.id}: {job.trigger}")
    click.echo("scheduler running (Ctrl+C to stop)")
    try:
        sched.start()
    except (KeyboardInterrupt, SystemExit):
        click.echo("scheduler stopped")
