"""`fieldsvc plan --dask` and the nightly job with FIELDSVC_DASK_SCHEDULER solve on a Dask cluster."""
from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner
from distributed import Client, get_task_stream

from fieldsvc import jobs
from fieldsvc.commands.plan import plan
from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.plans.planning import day_start_utc, plan_contractor_day
from tests.dispatch.conftest import DAY


@pytest.mark.slow
def test_plan_command_on_dask(pm_world, dask_cluster):
    with Client(dask_cluster.scheduler_address) as client, get_task_stream(client) as stream:
        out = CliRunner().invoke(plan, ["--date", DAY.isoformat(), "--time-limit", "1",
                                        "--dask", dask_cluster.scheduler_address])
    assert out.exit_code == 0, out.output
    assert "c1: served 3/3 visits" in out.output and "c2: served 3/3 visits" in out.output
    assert sum("solve_day" in str(t["key"]) for t in stream.data) == 2  # one task per contractor's day


@pytest.mark.slow
def test_nightly_job_uses_the_configured_dask_scheduler(app, pm_world, dask_cluster):
    app.config["DASK_SCHEDULER"] = dask_cluster.scheduler_address
    with Client(dask_cluster.scheduler_address) as client, get_task_stream(client) as stream:
        out = jobs.plan_tomorrow(now=day_start_utc(DAY) - dt.timedelta(hours=2))
    assert [r["status"] for r in out] == ["succeeded", "succeeded"]
    assert sum(r["served"] for r in out) == 6
    assert sum("solve_day" in str(t["key"]) for t in stream.data) == 2


@pytest.mark.slow
def test_unreachable_dask_scheduler_fails_the_run_with_the_address(app, pm_world):
    run = plan_contractor_day(pm_world.contractors[0].id, DAY, time_limit=1, dask_scheduler="tcp://127.0.0.1:1")
    assert run.status == m.PlanStatus.FAILED
    assert "tcp://127.0.0.1:1" in run.error and "dask scheduler" in run.error
    assert db.session.scalar(db.select(db.func.count()).select_from(m.Route)) == 0
