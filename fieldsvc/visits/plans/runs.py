"""Plan runs, one owner: the API, the dispatcher's pages, the CLI and the scheduled jobs all start,
watch and cancel runs through this module.

A run started from the web is queued here. In production (``queue_only``) that is all the web
does: a `fieldsvc scheduler` or `fieldsvc worker` process claims queued runs
(:func:`run_next_queued`, an atomic ``queued → running`` update, so two workers never take the same
run) and solves them, so a run survives the web worker that started it. In the one-process demo
the run is solved on a small background thread pool of the web process instead (the caller passes
the context the thread needs to reach the database, ``app.app_context``, so this module stays
framework-free). Whoever solves a run beats its heartbeat every few seconds; a running run whose
heartbeat is too old lost its worker and is failed by :func:`reap_dead_runs`, with a message that
says to start it again.
"""
from __future__ import annotations

import atexit
import datetime as dt
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from typing import Callable, Iterator

from sqlalchemy import and_, or_, select, update
from sqlalchemy.engine import Engine

from fieldsvc import config
from fieldsvc.db import db, utcnow
from fieldsvc.visits import models as m
from fieldsvc.visits.plans.planning import (cancel_run, contractors_to_plan, new_run, plan_all_contractors,
                                            plan_contractor_day, plan_horizon)

__all__ = ["HEARTBEAT_EVERY", "STALE_AFTER", "cancel_run", "claim_run", "contractors_to_plan", "new_run",
           "plan_all_contractors", "plan_contractor_day", "plan_horizon", "reap_dead_runs", "run_next_queued",
           "running_plan", "start_plan"]

log = logging.getLogger(__name__)

#: Background planning runs started from the web.
_EXECUTOR = ThreadPoolExecutor(max_workers=2, thread_name_prefix="plan")
atexit.register(_EXECUTOR.shutdown, wait=False, cancel_futures=True)
#: A queued/running run older than this is considered abandoned (e.g. the server restarted).
STALE_AFTER = dt.timedelta(minutes=30)
#: How often the process solving a run says it is alive.
HEARTBEAT_EVERY = 10.0
DEAD_WORKER_MESSAGE = ("the process solving this plan stopped (no sign of life since {since}); "
                       "start the plan again")
NO_WORKER_MESSAGE = ("no planning worker took this plan within {minutes} minutes; check that "
                     "`fieldsvc scheduler` or `fieldsvc worker` is running, then start the plan again")

ContextFactory = Callable[[], AbstractContextManager]


def running_plan(contractor_id: int, day: dt.date) -> m.PlanRun | None:
    """A queued or running daily run of this contractor and day (abandoned ones ignored)."""
    reap_dead_runs()
    return db.session.scalars(select(m.PlanRun).where(
        m.PlanRun.contractor_id == contractor_id, m.PlanRun.date == day, m.PlanRun.kind == "daily",
        m.PlanRun.status.in_((m.PlanStatus.QUEUED, m.PlanStatus.RUNNING)),
        m.PlanRun.created_at >= utcnow() - STALE_AFTER)).first()


def start_plan(user: m.User, contractor: m.Contractor, day: dt.date, time_limit: int,
               context: ContextFactory, queue_only: bool = False) -> m.PlanRun:
    """Queue a daily PlanRun; unless ``queue_only``, also solve it in a background thread of this
    process inside ``context()`` (the demo; in production a worker process picks it up)."""
    run = new_run(day, contractor.id, params={"time_limit": time_limit, "source": "web"}, actor=user)
    if not queue_only:
        _EXECUTOR.submit(_background, context, run.id)
    return run


def _background(context: ContextFactory, run_id: int) -> None:
    with context():
        try:
            if claim_run(run_id):
                _solve_claimed(run_id)
        except Exception:
            log.exception("background plan run %s failed", run_id)
        finally:
            db.session.remove()


def claim_run(run_id: int) -> bool:
    """Take a queued run for this process (atomically: False when another process took it, or it
    was cancelled)."""
    from fieldsvc.visits.job_slots import host_id

    table = m.PlanRun.__table__
    now = utcnow()
    with db.engine.begin() as conn:
        taken = conn.execute(update(table).where(table.c.id == run_id, table.c.status == m.PlanStatus.QUEUED)
                             .values(status=m.PlanStatus.RUNNING, worker=host_id(), heartbeat_at=now,
                                     started_at=now, message="starting")).rowcount
    return taken == 1


def run_next_queued(dask_scheduler: str | None = None) -> m.PlanRun | None:
    """Claim the oldest queued daily run and solve it here (its territories on the Dask cluster at
    ``dask_scheduler`` when given); None when nothing is queued."""
    while True:
        run_id = db.session.scalar(select(m.PlanRun.id).where(
            m.PlanRun.status == m.PlanStatus.QUEUED, m.PlanRun.kind == "daily").order_by(m.PlanRun.id).limit(1))
        db.session.rollback()
        if run_id is None:
            return None
        if claim_run(run_id):
            return _solve_claimed(run_id, dask_scheduler)


def _solve_claimed(run_id: int, dask_scheduler: str | None = None) -> m.PlanRun:
    run = db.session.get(m.PlanRun, run_id, populate_existing=True)
    params = run.params or {}
    actor = db.session.get(m.User, run.created_by_id) if run.created_by_id else None
    with heartbeat(db.engine, run_id):
        return plan_contractor_day(run.contractor_id, run.date, time_limit=params.get("time_limit", 30),
                                   actor=actor, plan_run=run, dask_scheduler=dask_scheduler)


@contextmanager
def heartbeat(engine: Engine, run_id: int, every: float = HEARTBEAT_EVERY) -> Iterator[None]:
    """Beat ``run_id``'s heartbeat every ``every`` seconds on a thread while the block runs."""
    stop = threading.Event()
    table = m.PlanRun.__table__

    def beat() -> None:
        while not stop.wait(every):
            try:
                with engine.begin() as conn:
                    conn.execute(update(table).where(table.c.id == run_id).values(heartbeat_at=utcnow()))
            except Exception:
                log.warning("heartbeat of plan run %s failed", run_id, exc_info=True)

    thread = threading.Thread(target=beat, name=f"plan-{run_id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def reap_dead_runs(timeout: dt.timedelta | None = None, now: dt.datetime | None = None) -> int:
    """Fail running runs whose worker stopped beating for ``timeout`` (FIELDSVC_PLAN_HEARTBEAT_TIMEOUT
    by default), and queued runs no worker
    took within :data:`STALE_AFTER`; returns how many. Their previous plan stays as it was."""
    now = now or utcnow()
    timeout = timeout if timeout is not None else dt.timedelta(seconds=config.PLAN_HEARTBEAT_TIMEOUT)
    table = m.PlanRun.__table__
    dead = (table.c.status == m.PlanStatus.RUNNING) & or_(
        table.c.heartbeat_at < now - timeout,
        and_(table.c.heartbeat_at.is_(None), table.c.created_at < now - STALE_AFTER))
    forgotten = (table.c.status == m.PlanStatus.QUEUED) & (table.c.created_at < now - STALE_AFTER)
    with db.engine.begin() as conn:
        rows = conn.execute(select(table.c.id, table.c.heartbeat_at).where(dead)).all()
        count = 0
        for run_id, beat in rows:
            msg = DEAD_WORKER_MESSAGE.format(since=(beat or now).strftime("%Y-%m-%d %H:%M UTC"))
            count += conn.execute(update(table).where(table.c.id == run_id, dead).values(
                status=m.PlanStatus.FAILED, message=msg[:300], error=f"worker died: {msg}",
                finished_at=now)).rowcount
        msg = NO_WORKER_MESSAGE.format(minutes=int(STALE_AFTER.total_seconds() // 60))
        count += conn.execute(update(table).where(forgotten).values(
            status=m.PlanStatus.FAILED, message=msg[:300], error=msg, finished_at=now)).rowcount
    if count:
        log.warning("%d plan run(s) failed: their worker stopped or never started", count)
    return count
