"""`fieldsvc demo`: build the Tehran demo database, plan the next working day, print logins, serve."""
from __future__ import annotations

import datetime as dt
import os
import time

import click
from tqdm import tqdm

from fieldsvc.demo.build import DEFAULT_MERCHANTS, DEFAULT_SEED, DemoResult, build_demo, tehran_today

#: Steps reported by build_demo (for the progress bar's length).
_STEPS = 2 + 1 + 13


def _normalise_url(url: str) -> str:
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def _parse_today(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date:
    if not value:
        return tehran_today()
    from fieldsvc.dates import parse_date_input

    try:
        return parse_date_input(value, "fa" if value[:2] in ("13", "14") else "en")
    except ValueError as e:
        raise click.BadParameter(str(e)) from None


def next_working_day(after: dt.date) -> dt.date:
    """The first day after ``after`` that is a working day of the Iranian week (not Friday, not a
    public holiday)."""
    from fieldsvc.calendar import CalendarSpec, is_working_day

    spec = CalendarSpec()
    day = after + dt.timedelta(days=1)
    while not is_working_day(spec, day):
        day += dt.timedelta(days=1)
    return day


def print_logins(result: DemoResult, password: str) -> None:
    """The demo users, one line each, with the shared password."""
    click.echo("")
    click.echo(f"Demo logins (password: {password}):")
    techs: dict[str, list[str]] = {}
    for username, role, scope in result.logins:
        if role == "technician":
            techs.setdefault(username.rsplit("-", 1)[0], []).append(username)
        else:
            click.echo(f"  {username:<22} {role:<11} {scope}")
    for users in techs.values():
        click.echo(f"  {users[0]} … {users[-1]:<8} technician  ({len(users)} technicians)")


def plan_day(day: dt.date, time_limit: int) -> None:
    """Plan ``day`` for every contractor with the planner, or say clearly that there is none."""
    try:
        from fieldsvc.visits.plans.runs import plan_all_contractors
    except ImportError:
        plan_all_contractors = None
    if plan_all_contractors is None:
        click.echo("no planner yet: routes are not planned")
        return
    from fieldsvc.db import db
    from fieldsvc.visits import models as m

    codes = {c.id: c.code for c in db.session.scalars(db.select(m.Contractor))}
    t0 = time.perf_counter()
    with tqdm(total=100, desc=f"planning {day.isoformat()}", unit="%", leave=True) as bar:
        def progress(frac: float, msg: str) -> None:
            bar.set_postfix_str(msg)
            bar.update(max(0, round(frac * 100) - bar.n))
        runs = plan_all_contractors(day, time_limit=time_limit, progress=progress)
    for run in runs:
        s = run.summary or {}
        code = codes.get(run.contractor_id, run.contractor_id)
        if run.status != m.PlanStatus.SUCCEEDED:
            click.echo(f"  {code}: {run.status} — {run.error or run.message}")
            continue
        click.echo(f"  {code}: served {s.get('served', 0)}/{s.get('visits', 0)} visits "
                   f"(PM {s.get('pm', 0)}, EM {s.get('em', 0)}) on {s.get('routes', 0)} routes, "
                   f"{s.get('distance_m', 0) / 1000:.1f} km; unassigned {s.get('unassigned', 0)}")
    click.echo(f"planned {day.isoformat()} in {time.perf_counter() - t0:.1f} s")


def refresh_pm_pool(today: dt.date) -> None:
    """Put the due and overdue PM work into the planning pool (fieldsvc.visits.plans.due)."""
    try:
        from fieldsvc.visits.plans.due import refresh_due_visits
    except ImportError:
        click.echo("no PM due pool yet: PM visits are not queued for planning")
        return
    counts = refresh_due_visits(today)
    click.echo(f"PM due pool: {counts.get('created', 0)} visits queued")


@click.command("demo")
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Random seed: same seed, same data.")
@click.option("--merchants", type=click.IntRange(10, 200_000), default=DEFAULT_MERCHANTS, show_default=True,
              help="Number of merchants (terminals, technicians and history scale with it).")
@click.option("--password", default="demo", show_default=True, help="Password of every demo user.")
@click.option("--today", "today", default=None, callback=_parse_today,
              help="Anchor date of the history (default: today in Tehran); 2026-11-22 or 1405/09/01.")
@click.option("--database-url", default=None, help="Database to (re)build (default: DATABASE_URL, else var/fieldsvc.sqlite).")
@click.option("--plan/--no-plan", default=True, show_default=True, help="Plan the next working day's routes.")
@click.option("--plan-time-limit", type=click.IntRange(1, 3600), default=20, show_default=True,
              help="Solver seconds per contractor when planning.")
@click.option("--serve/--no-serve", default=True, show_default=True, help="Serve the web UI afterwards.")
@click.option("--port", type=int, default=lambda: int(os.environ.get("PORT", "5000")), show_default="5000 or $PORT")
@click.option("--yes", is_flag=True, help="Do not ask before replacing a non-SQLite database.")
def demo(seed: int, merchants: int, password: str, today: dt.date, database_url: str | None, plan: bool,
         plan_time_limit: int, serve: bool, port: int, yes: bool) -> None:
    """Build the Tehran demo database FROM SCRATCH (every table is dropped), plan the next working
    day, print the logins and serve the web UI on http://127.0.0.1:PORT."""
    from fieldsvc.web import create_app

    overrides = {"SQLALCHEMY_DATABASE_URI": _normalise_url(database_url)} if database_url else {}
    app = create_app(overrides)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("sqlite") and not yes and os.isatty(0):
        click.confirm(f"Every table of {url.split('@')[-1]} will be dropped. Continue?", abort=True)
    click.echo(f"Building the demo: seed {seed}, {merchants} merchants, history to {today.isoformat()}")
    t0 = time.perf_counter()
    with app.app_context():
        with tqdm(total=_STEPS, desc="demo", unit="step", leave=True) as bar:
            def progress(label: str) -> None:
                bar.set_postfix_str(label)
                bar.update(1)
            result = build_demo(seed, merchants, password, today, progress=progress)
        c = result.counts
        click.echo(f"Built in {time.perf_counter() - t0:.1f} s (schema from {result.schema}): "
                   f"{c['merchant']} merchants, {c['terminal']} terminals, {c['technician']} technicians, "
                   f"{c['service_call']} EM calls, {c['visit']} visits, {c['user']} users")
        refresh_pm_pool(today)
        if plan:
            plan_day(next_working_day(today), plan_time_limit)
        print_logins(result, password)
    if serve:
        from fieldsvc.cli import serve_app

        click.echo("")
        serve_app(app, "127.0.0.1", port)
