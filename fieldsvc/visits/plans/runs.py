"""Plan runs, one owner: the API, the dispatcher's pages, the CLI and the scheduled jobs all start,
watch and cancel runs through this module.

A run started from the web is queued here and solved on a small background thread pool (each run
solves its territories in worker processes; the thread only waits for them). The caller passes the
context the thread needs to reach the database (``app.app_context`` in the web application), so
this module stays framework-free.
"""
from __future__ import annotations

import atexit
import datetime as dt
import logging
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from typing import Callable

from sqlalchemy import select

from fieldsvc.db import db, utcnow
from fieldsvc.visits import models as m
from fieldsvc.visits.plans.planning import (cancel_run, contractors_to_plan, new_run, plan_all_contractors,
                                            plan_contractor_day, plan_horizon)

__all__ = ["STALE_AFTER", "cancel_run", "contractors_to_plan", "new_run", "plan_all_contractors",
           "plan_contractor_day", "plan_horizon", "running_plan", "start_plan"]

log = logging.getLogger(__name__)

#: Background planning runs started from the web.
_EXECUTOR = ThreadPoolExecutor(max_workers=2, thread_name_prefix="plan")
atexit.register(_EXECUTOR.shutdown, wait=False, cancel_futures=True)
#: A queued/running run older than this is considered abandoned (e.g. the server restarted).
STALE_AFTER = dt.timedelta(minutes=30)

ContextFactory = Callable[[], AbstractContextManager]


def running_plan(contractor_id: int, day: dt.date) -> m.PlanRun | None:
    """A queued or running daily run of this contractor and day (abandoned ones ignored)."""
    return db.session.scalars(select(m.PlanRun).where(
        m.PlanRun.contractor_id == contractor_id, m.PlanRun.date == day, m.PlanRun.kind == "daily",
        m.PlanRun.status.in_((m.PlanStatus.QUEUED, m.PlanStatus.RUNNING)),
        m.PlanRun.created_at >= utcnow() - STALE_AFTER)).first()


def start_plan(user: m.User, contractor: m.Contractor, day: dt.date, time_limit: int,
               context: ContextFactory) -> m.PlanRun:
    """Queue a daily PlanRun and solve it in the background inside ``context()``."""
    run = new_run(day, contractor.id, params={"time_limit": time_limit, "source": "web"}, actor=user)
    _EXECUTOR.submit(_background, context, run.id, contractor.id, day, time_limit, user.id)
    return run


def _background(context: ContextFactory, run_id: int, contractor_id: int, day: dt.date, time_limit: int,
                user_id: int) -> None:
    with context():
        try:
            actor = db.session.get(m.User, user_id)
            plan_contractor_day(contractor_id, day, time_limit=time_limit, actor=actor,
                                plan_run=db.session.get(m.PlanRun, run_id))
        except Exception:
            log.exception("background plan run %s failed", run_id)
        finally:
            db.session.remove()
