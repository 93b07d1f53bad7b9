"""A plan run stops when its search stops improving, not at the time limit (issue 19, point 5)."""
from __future__ import annotations

from fieldsvc import jobs
from fieldsvc.db import db
from fieldsvc.visits import models as m
from tests.dispatch.conftest import DAY
from tests.dispatch.test_board import login


def test_a_small_day_through_the_api_ends_on_stagnation(client, app, pm_world):
    app.config["PLAN_RUNNER"] = "queue"
    login(client, "dispatcher-c1")
    run_id = client.post("/api/v1/plans", json={"date": DAY.isoformat(), "time_limit": 600}).get_json()["id"]
    assert jobs.run_queued_plans() == 1  # without the rule this would search for 600 s
    run = db.session.get(m.PlanRun, run_id, populate_existing=True)
    assert run.status == "succeeded" and run.summary["served"] == 3
    assert run.summary["solver_stopped"] == "stagnation"
