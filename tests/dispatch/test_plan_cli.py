"""`fieldsvc plan` and `fieldsvc plan-horizon` from the command line."""
from __future__ import annotations

from click.testing import CliRunner

from fieldsvc.db import db
from fieldsvc.commands.plan import plan, plan_horizon
from fieldsvc.visits import models as m
from tests.dispatch.conftest import DAY


def test_plan_command_prints_a_summary(pm_world):
    out = CliRunner().invoke(plan, ["--date", "1405/09/28", "--contractor", "c1", "--time-limit", "1"])  # Jalali
    assert out.exit_code == 0, out.output
    assert "c1: served 3/3 visits (PM 3, EM 0)" in out.output
    assert "total: served 3/3 (100.0%)" in out.output
    assert db.session.scalar(db.select(db.func.count()).select_from(m.Route).where(m.Route.date == DAY)) >= 1


def test_plan_command_rejects_bad_input(pm_world):
    out = CliRunner().invoke(plan, ["--date", "tomorrow-ish"])
    assert out.exit_code == 2 and "invalid date" in out.output
    out = CliRunner().invoke(plan, ["--date", DAY.isoformat(), "--contractor", "nope"])
    assert out.exit_code == 2 and "unknown contractor code 'nope'" in out.output


def test_plan_horizon_command_stores_days(pm_world):
    out = CliRunner().invoke(plan_horizon, ["--start", DAY.isoformat(), "--days", "7", "--contractor", "c2"])
    assert out.exit_code == 0, out.output
    assert "c2: 3/3 PM visits given a day" in out.output
    run = db.session.scalars(db.select(m.PlanRun).where(m.PlanRun.kind == "horizon")).one()
    assert run.days == 7 and run.summary["assigned"] == 3
    c2_visits = db.session.scalars(db.select(m.Visit).where(m.Visit.contractor_id == pm_world.contractors[1].id))
    assert all(v.planned_date is not None for v in c2_visits)
