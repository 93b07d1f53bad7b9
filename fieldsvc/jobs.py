"""Periodic jobs (APScheduler): nightly planning of tomorrow, due PM refresh, call escalation.

The jobs are plain functions that need an app context (tests call them directly);
`fieldsvc scheduler` runs them on a BlockingScheduler at the times of the configuration:
``NIGHTLY_PLAN_AT`` (local "HH:MM", Config TIMEZONE) plans tomorrow for every contractor,
``DUE_REFRESH_AT`` refreshes the PM due pool daily, and, when the calls module provides them,
``escalate_due_calls`` runs every 5 minutes and ``auto_close_resolved_calls`` hourly.
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
    runs = plan_all_contractors(tomorrow, time_limit=current_app.config["PLAN_TIME_LIMIT"])
    out = [{"id": r.id, "contractor_id": r.contractor_id, "date": r.date.isoformat(), "status": r.status,
            "served": (r.summary or {}).get("served"), "visits": (r.summary or {}).get("visits")} for r in runs]
    log.info("nightly plan of %s: %s", tomorrow, out)
    return out


def refresh_due(now: dt.datetime | None = None) -> dict[str, int]:
    """Refresh the PM due pool as of today (local date)."""
    from fieldsvc.visits.plans.due import refresh_due_visits

    today = (now or utcnow()).astimezone(_tz()).date()
    return refresh_due_visits(today)


def optional_job(module: str, name: str) -> Callable[..., Any] | None:
    """``module.name`` if it can be imported, else None (logged, so a missing feature is visible)."""
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as e:
        log.warning("job %s.%s not scheduled: %s", module, name, e)
        return None


def _in_app(app: Flask, fn: Callable[..., Any]) -> Callable[[], None]:
    def run() -> None:
        with app.app_context():
            try:
                fn()
            except Exception:
                log.exception("job %s failed", getattr(fn, "__name__", fn))
    run.__name__ = getattr(fn, "__name__", "job")
    return run


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
    h, m = _hhmm(app.config["NIGHTLY_PLAN_AT"], "NIGHTLY_PLAN_AT")
    sched.add_job(_in_app(app, plan_tomorrow), CronTrigger(hour=h, minute=m, timezone=tz),
                  id="plan_tomorrow", replace_existing=True, coalesce=True, misfire_grace_time=3600)
    dh, dm = _hhmm(app.config.get("DUE_REFRESH_AT", "02:00"), "DUE_REFRESH_AT")
    sched.add_job(_in_app(app, refresh_due), CronTrigger(hour=dh, minute=dm, timezone=tz),
                  id="refresh_due_visits", replace_existing=True, coalesce=True, misfire_grace_time=3600)
    escalate = optional_job("fieldsvc.visits.desk.calls", "escalate_due_calls")
    if escalate is not None:
        sched.add_job(_in_app(app, escalate), IntervalTrigger(minutes=5), id="escalate_due_calls",
                      replace_existing=True, coalesce=True)
    close = optional_job("fieldsvc.visits.desk.calls", "auto_close_resolved_calls")
    if close is not None:
        sched.add_job(_in_app(app, close), IntervalTrigger(hours=1), id="auto_close_resolved_calls",
                      replace_existing=True, coalesce=True)
    return sched


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
