"""Starting a plan run from a web request (the API and the dispatcher's board share it)."""
from __future__ import annotations

import datetime as dt

from flask import current_app

from fieldsvc.visits import models as m
from fieldsvc.visits.plans import runs


def start_plan(user: m.User, contractor: m.Contractor, day: dt.date, time_limit: int | None = None) -> m.PlanRun:
    """Queue a daily run (the server's PLAN_TIME_LIMIT unless given): solved by a worker process when
    PLAN_RUNNER is "queue", else in a background thread of this process."""
    app = current_app._get_current_object()
    return runs.start_plan(user, contractor, day, time_limit or app.config["PLAN_TIME_LIMIT"], app.app_context,
                           queue_only=app.config.get("PLAN_RUNNER") == "queue")
