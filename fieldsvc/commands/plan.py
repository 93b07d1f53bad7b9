"""`fieldsvc plan` (a day's routes from the database) and `fieldsvc plan-horizon` (PM spreading)."""
from __future__ import annotations

import datetime as dt
import time

import click
from flask import current_app
from flask.cli import with_appcontext
from tqdm import tqdm

from fieldsvc.dates import parse_date_input
from fieldsvc.planner.horizon import REASONS as HORIZON_REASONS
from fieldsvc.planner.solution import REASONS as PLANNER_REASONS
from fieldsvc.visits import models as m
from fieldsvc.visits.plans.planning import BRIDGE_REASONS
from fieldsvc.visits.plans.runs import contractors_to_plan, plan_all_contractors
from fieldsvc.visits.plans.runs import plan_horizon as _plan_horizon
from fieldsvc.visits.plans.day_over import notices

DAY_REASONS = {**PLANNER_REASONS, **BRIDGE_REASONS}


def _date(ctx: click.Context, param: click.Parameter, value: str) -> dt.date:
    lang = "fa" if any(ord(c) > 127 for c in value) or value[:2] in ("13", "14") else "en"
    try:
        return parse_date_input(value, lang)
    except ValueError as e:
        raise click.BadParameter(str(e)) from None


def _hm(seconds: int) -> str:
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def _contractor_names() -> dict[int, str]:
    from fieldsvc.db import db

    return {c.id: c.code for c in db.session.scalars(db.select(m.Contractor))}


def _print_unassigned(rows: list[dict], reasons: dict[str, str], limit: int = 20) -> None:
    for u in rows[:limit]:
        what = f"visit {u['visit_id']}" if u.get("visit_id") is not None else f"call {u.get('tracking_number')}"
        click.echo(f"    {what} ({u.get('kind', '')}, {u.get('merchant', '')}): "
                   f"{reasons.get(u['reason'], u['reason'])}")
    if len(rows) > limit:
        click.echo(f"    … and {len(rows) - limit} more")


@click.command("plan")
@click.option("--date", "day", required=True, callback=_date, help="Day to plan: 2026-11-23 or Jalali 1405/09/02.")
@click.option("--contractor", "contractor", default=None, help="Contractor code (default: all).")
@click.option("--time-limit", type=click.IntRange(1, 3600), default=None,
              help="Solver seconds per contractor (default: Config PLAN_TIME_LIMIT).")
@click.option("--dask", "dask_scheduler", default=None, metavar="ADDRESS",
              help="Dask scheduler (tcp://host:8786) to solve territories on (default: $FIELDSVC_DASK_SCHEDULER; "
                   "unset: local processes).")
@with_appcontext
def plan(day: dt.date, contractor: str | None, time_limit: int | None, dask_scheduler: str | None) -> None:
    """Plan a day's routes from the database and store them (contractors in parallel)."""
    limit = time_limit or current_app.config["PLAN_TIME_LIMIT"]
    dask_scheduler = dask_scheduler or current_app.config.get("DASK_SCHEDULER") or None
    try:
        contractors_to_plan(contractor)
    except LookupError as e:
        raise click.BadParameter(str(e), param_hint="--contractor") from None
    t0 = time.perf_counter()
    with tqdm(total=100, desc=f"planning {day.isoformat()}", unit="%", leave=True) as bar:
        def progress(frac: float, msg: str) -> None:
            bar.set_postfix_str(msg)
            bar.update(max(0, round(frac * 100) - bar.n))
        runs = plan_all_contractors(day, time_limit=limit, progress=progress, contractor_code=contractor,
                                    dask_scheduler=dask_scheduler)
    wall = time.perf_counter() - t0
    names = _contractor_names()
    served = total = 0
    failed = False
    for run in runs:
        s = run.summary or {}
        code = names.get(run.contractor_id, run.contractor_id)
        if run.status != m.PlanStatus.SUCCEEDED:
            failed = True
            click.echo(f"{code}: {run.status} — {run.error or run.message}")
            continue
        served += s.get("served", 0)
        total += s.get("visits", 0)
        click.echo(f"{code}: served {s.get('served', 0)}/{s.get('visits', 0)} visits "
                   f"(PM {s.get('pm', 0)}, EM {s.get('em', 0)}) on {s.get('routes', 0)} routes, "
                   f"travel {_hm(s.get('travel_seconds', 0))}, {s.get('distance_m', 0) / 1000:.1f} km; "
                   f"unassigned {s.get('unassigned', 0)}")
        for notice in notices(s):
            click.echo(f"    {notice['text']}")
        _print_unassigned(run.unassigned or [], DAY_REASONS)
    share = served / total if total else 1.0
    click.echo(f"total: served {served}/{total} ({share:.1%}) in {wall:.1f} s wall time")
    if failed:
        raise SystemExit(1)


@click.command("plan-horizon")
@click.option("--start", "start", required=True, callback=_date, help="First day: 2026-11-23 or 1405/09/02.")
@click.option("--days", type=click.IntRange(1, 92), required=True, help="Number of days.")
@click.option("--contractor", "contractor", default=None, help="Contractor code (default: all).")
@with_appcontext
def plan_horizon(start: dt.date, days: int, contractor: str | None) -> None:
    """Spread due PM visits over days (within their windows and each day's capacity) and store the days."""
    try:
        cons = contractors_to_plan(contractor)
    except LookupError as e:
        raise click.BadParameter(str(e), param_hint="--contractor") from None
    runs = []
    for con in tqdm(cons, desc="spreading PM", unit="contractor"):
        runs.extend(_plan_horizon(start, days, contractor_id=con.id))
    names = _contractor_names()
    for run in runs:
        s = run.summary or {}
        code = names.get(run.contractor_id, run.contractor_id)
        if run.status != m.PlanStatus.SUCCEEDED:
            click.echo(f"{code}: {run.status} — {run.error or run.message}")
            continue
        per_day = ", ".join(f"{d}: {n}" for d, n in s.get("per_day", {}).items())
        click.echo(f"{code}: {s.get('assigned', 0)}/{s.get('visits', 0)} PM visits given a day ({per_day}); "
                   f"unfitted {s.get('unfitted', 0)}")
        _print_unassigned(run.unassigned or [], HORIZON_REASONS)
