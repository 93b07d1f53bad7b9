"""Benchmark: a month of generated work → KPIs, penalty ledger and the workbook.

    .venv/bin/python tests/scorecard/bench_scorecard.py                      # SQLite in /tmp
    .venv/bin/python tests/scorecard/bench_scorecard.py --url postgresql://postgres@127.0.0.1:5432/bench

Generates (in a child process, so its memory is not counted) 20 contractors, 200,000 visits and
30,000 EM calls for May 2026 unless the database already holds them (--regenerate to force), then
measures in this process: wall time of the KPIs (compute_scorecard), of the ledger recompute and of
the workbook (scorecard + ledger lines + openpyxl), and the peak resident memory (ru_maxrss).
Prints the figures; not collected by pytest (no test_ prefix).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

START, END = dt.date(2026, 5, 1), dt.date(2026, 5, 31)
NOW = dt.datetime(2026, 6, 3, 12, tzinfo=dt.timezone.utc)


def _url(args: argparse.Namespace) -> str:
    if args.url:
        return "postgresql+psycopg://" + args.url.removeprefix("postgresql://") if args.url.startswith("postgresql://") else args.url
    return f"sqlite:///{args.db}"


def _app(url: str):
    from fieldsvc.web import create_app
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False})


def generate_only(args: argparse.Namespace) -> None:
    from fieldsvc.db import db
    from tests.scorecard.generate import generate
    app = _app(_url(args))
    with app.app_context():
        db.drop_all()
        db.create_all()
        t = time.perf_counter()
        g = generate(args.contractors, args.visits, args.calls, START, now=NOW)
        print(f"generated {g.contractors} contractors, {g.visits:,} visits, {g.calls:,} calls "
              f"in {time.perf_counter() - t:.1f} s", flush=True)


def measure(args: argparse.Namespace) -> None:
    from sqlalchemy import func, inspect, select

    from fieldsvc.db import db
    from fieldsvc.visits import models as m
    app = _app(_url(args))
    with app.app_context():
        has = inspect(db.engine).has_table("visit") and db.session.scalar(select(func.count()).select_from(m.Visit))
        db.session.remove()
    if args.regenerate or not has:
        cmd = [sys.executable, __file__, "--generate-only", "--contractors", str(args.contractors),
               "--visits", str(args.visits), "--calls", str(args.calls)]
        cmd += ["--url", args.url] if args.url else ["--db", args.db]
        subprocess.run(cmd, check=True, cwd=ROOT)
    from fieldsvc.visits.scorecards.workbook import build_workbook
    from fieldsvc.visits.scorecards.ledger import ledger_lines, recompute_period
    from fieldsvc.visits.scorecards.kpis import compute_scorecard

    with app.app_context(), app.test_request_context():
        visits = db.session.scalar(select(func.count()).select_from(m.Visit))
        calls = db.session.scalar(select(func.count()).select_from(m.ServiceCall))
        print(f"database: {db.engine.dialect.name}, {visits:,} visits, {calls:,} calls")
        db.session.query(m.PenaltyLine).delete()
        db.session.commit()
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        cpu = time.process_time
        c0 = cpu()
        t0 = time.perf_counter()
        card = compute_scorecard(START, END, user=None, now=NOW, with_breaches=False)
        t1 = time.perf_counter()
        c1 = cpu()
        res = recompute_period(START, END, user=None, now=NOW)
        t2 = time.perf_counter()
        again = recompute_period(START, END, user=None, now=NOW)
        t3 = time.perf_counter()
        c3 = cpu()
        db.session.expunge_all()
        card = compute_scorecard(START, END, user=None, now=NOW)
        ta = time.perf_counter()
        lines = ledger_lines(START, END, user=None)
        tb = time.perf_counter()
        out = Path(args.out)
        wb = build_workbook(card, lines, lang=args.lang)
        tc = time.perf_counter()
        wb.save(out)
        t4 = time.perf_counter()
        c4 = cpu()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        breaches = sum(len(v) for v in card.breaches.values())
        print(f"KPIs (SQL aggregates, {len(card.rows)} contractors):      {t1 - t0:6.2f} s")
        print(f"penalty ledger, first run ({res.created:,} lines):        {t2 - t1:6.2f} s")
        print(f"penalty ledger, recompute (changed: {again.changed}):       {t3 - t2:6.2f} s")
        print(f"workbook (KPIs + {breaches:,} breaches + {len(lines):,} lines, openpyxl): {t4 - t3:6.2f} s "
              f"-> {out} ({out.stat().st_size / 1e6:.1f} MB)")
        print(f"  of which: scorecard with breaches {ta - t3:.2f} s, ledger lines {tb - ta:.2f} s, "
              f"sheets {tc - tb:.2f} s, save {t4 - tc:.2f} s")
        print(f"KPIs + workbook: {t1 - t0 + t4 - t3:.2f} s; everything: {t4 - t0:.2f} s; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"CPU time of this process (what an idle core would take): KPIs {c1 - c0:.2f} s, "
              f"workbook {c4 - c3:.2f} s, KPIs + workbook {c1 - c0 + c4 - c3:.2f} s")
        print(f"peak memory (ru_maxrss): {rss:.0f} MB (before measuring: {rss0:.0f} MB)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", default="/tmp/fieldsvc_bench_scorecard.sqlite")
    p.add_argument("--url", default=None, help="a PostgreSQL URL instead of the SQLite file")
    p.add_argument("--contractors", type=int, default=20)
    p.add_argument("--visits", type=int, default=200_000)
    p.add_argument("--calls", type=int, default=30_000)
    p.add_argument("--lang", default="en", choices=["en", "fa"])
    p.add_argument("--out", default="/tmp/fieldsvc_bench_scorecard.xlsx")
    p.add_argument("--regenerate", action="store_true")
    p.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    os.chdir(ROOT)
    if args.generate_only:
        generate_only(args)
    else:
        measure(args)


if __name__ == "__main__":
    main()
