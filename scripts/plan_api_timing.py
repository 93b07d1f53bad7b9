"""Time planning the demo's next working day for every contractor through the API.

Usage: ``PYTHONPATH=. python scripts/plan_api_timing.py sqlite:////tmp/demo.sqlite [--time-limit S]``
on a database built by ``fieldsvc demo --no-serve``. Logs in as the demo's admin through the
login form, starts one ``POST /api/v1/plans`` per contractor (the server's PLAN_TIME_LIMIT unless
``--time-limit``), polls ``GET /api/v1/plans/<id>`` until every run has finished and prints, per
contractor, the visits, served, solver seconds and how the search ended, then the wall time from
the first request to the last finished run, with the load average.
"""
from __future__ import annotations

import argparse
import os
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("database_url")
    ap.add_argument("--time-limit", type=int, default=None)
    ap.add_argument("--password", default="demo")
    args = ap.parse_args()

    from sqlalchemy import select

    from fieldsvc.commands.demo import next_working_day
    from fieldsvc.demo.build import tehran_today
    from fieldsvc.db import db
    from fieldsvc.visits import models as m
    from fieldsvc.web import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database_url, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        codes = list(db.session.scalars(select(m.Contractor.code).order_by(m.Contractor.code)))
    day = next_working_day(tehran_today())
    client = app.test_client()
    res = client.post("/login", data={"username": "admin", "password": args.password})
    if res.status_code not in (200, 302):
        raise SystemExit(f"login failed: HTTP {res.status_code}")
    body = {"date": day.isoformat(), **({"time_limit": args.time_limit} if args.time_limit else {})}
    load = os.getloadavg()
    t0 = time.perf_counter()
    ids = {}
    for code in codes:
        r = client.post("/api/v1/plans", json={**body, "contractor": code})
        if r.status_code != 202:
            raise SystemExit(f"{code}: HTTP {r.status_code} {r.get_data(as_text=True)}")
        ids[code] = r.get_json()["id"]
    done: dict[str, tuple[float, dict]] = {}
    while len(done) < len(ids):
        time.sleep(0.2)
        for code, rid in ids.items():
            if code in done:
                continue
            run = client.get(f"/api/v1/plans/{rid}").get_json()
            if run["status"] in ("succeeded", "failed", "cancelled"):
                done[code] = (time.perf_counter() - t0, run)
    wall = time.perf_counter() - t0
    print(f"day {day}, {len(codes)} contractors, time limit {args.time_limit or app.config['PLAN_TIME_LIMIT']} s")
    print("| contractor | status | visits | served | solver s | search ended by | finished after s |")
    print("|---|---|---|---|---|---|---|")
    for code in codes:
        after, run = done[code]
        s = run["summary"]
        print(f"| {code} | {run['status']} | {s.get('visits')} | {s.get('served')} | {s.get('solver_seconds')} | "
              f"{s.get('solver_stopped', '–')} | {after:.1f} |")
    print(f"all contractors planned in {wall:.1f} s through the API; load average before "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, after {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
