"""Plan runs in production: the web only queues them, a worker process solves them (so they survive
the web worker that started them), and a run whose worker died is failed, never left running."""
from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time

import pytest

from fieldsvc import jobs
from fieldsvc.db import db, utcnow
from fieldsvc.visits import models as m
from fieldsvc.visits.plans import runs
from tests.dispatch.conftest import DAY
from tests.dispatch.test_board import login


def _run(run_id: int) -> m.PlanRun:
    return db.session.get(m.PlanRun, run_id, populate_existing=True)


def test_queue_mode_web_only_queues_and_the_scheduler_job_solves(client, app, pm_world):
    app.config["PLAN_RUNNER"] = "queue"
    login(client, "dispatcher-c1")
    run_id = client.post("/api/v1/plans", json={"date": DAY.isoformat(), "time_limit": 1}).get_json()["id"]
    time.sleep(1.0)  # a background thread (the demo's mode) would have started by now
    body = client.get(f"/api/v1/plans/{run_id}").get_json()
    assert body["status"] == "queued" and body["progress"] == 0.0
    assert jobs.run_queued_plans() == 1
    run = _run(run_id)
    assert run.status == "succeeded" and run.summary["served"] == 3
    assert run.worker and run.heartbeat_at is not None
    assert jobs.run_queued_plans() == 0  # nothing left; a solved run is never taken again


def test_a_run_is_claimed_by_one_worker_only(app, pm_world):
    run = runs.new_run(DAY, pm_world.contractors[0].id, params={"time_limit": 1})
    assert runs.claim_run(run.id) is True
    assert runs.claim_run(run.id) is False
    assert runs.run_next_queued() is None  # running, so not in the queue


def test_dead_worker_run_is_failed_and_says_to_start_again(app, pm_world):
    run = runs.new_run(DAY, pm_world.contractors[0].id, params={"time_limit": 1})
    assert runs.claim_run(run.id)
    timeout = dt.timedelta(minutes=5)
    assert runs.reap_dead_runs(timeout) == 0  # it just beat
    assert runs.reap_dead_runs(timeout, now=utcnow() + dt.timedelta(minutes=6)) == 1
    run = _run(run.id)
    assert run.status == "failed" and "start the plan again" in run.message
    # a run queued long ago that no worker took is failed too, saying which process to start
    old = runs.new_run(DAY, pm_world.contractors[1].id)
    assert runs.reap_dead_runs(timeout, now=utcnow() + runs.STALE_AFTER + dt.timedelta(minutes=1)) == 1
    assert "fieldsvc worker" in _run(old.id).message


FIELDSVC = os.path.join(os.path.dirname(sys.executable), "fieldsvc")


def _worker(app) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": "test-secret",
           "FIELDSVC_PLAN_RUNNER": "queue"}
    return subprocess.Popen([FIELDSVC, "worker", "--every", "0.5"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)


def _wait_status(run_id: int, statuses: set[str], timeout: float = 90) -> m.PlanRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = _run(run_id)
        db.session.rollback()
        if run.status in statuses:
            return run
        time.sleep(0.3)
    raise AssertionError(f"plan run {run_id} still {run.status}, expected {statuses}")


@pytest.mark.slow
def test_worker_process_solves_web_runs_and_its_death_fails_the_run(client, app, pm_world):
    app.config["PLAN_RUNNER"] = "queue"
    login(client, "dispatcher-c1")
    first = client.post("/api/v1/plans", json={"date": DAY.isoformat(), "time_limit": 1}).get_json()["id"]
    worker = _worker(app)
    try:
        run = _wait_status(first, {"succeeded", "failed"})
        assert run.status == "succeeded", run.error
        assert run.worker.endswith(f":{worker.pid}")  # solved by the worker process, not by the web
        # a long run: the worker is killed in the middle of it
        second = client.post("/api/v1/plans", json={"date": DAY.isoformat(), "time_limit": 120}).get_json()["id"]
        run = _wait_status(second, {"running"})
        assert runs.reap_dead_runs(dt.timedelta(minutes=5)) == 0
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    assert _run(second).status == "running"
    assert runs.reap_dead_runs(dt.timedelta(minutes=5), now=utcnow() + dt.timedelta(minutes=6)) == 1
    run = _run(second)
    assert run.status == "failed" and "start the plan again" in run.message
    assert _run(first).status == "succeeded"  # the first plan stays stored
    assert db.session.scalar(db.select(db.func.count()).select_from(m.Route).where(
        m.Route.plan_run_id == first)) >= 1
