"""Benchmark of the support desk (run by hand, not collected by pytest):

    .venv/bin/python tests/desk/bench_desk.py [--calls 300]

On a fresh SQLite database (the test world plus ``--calls`` terminals with an open urgent call
each): the tier 1 queue page as the agent sees it (median of 5 loads), and the alert job over all
calls once they are escalated (first run sends one alert per call, the second sends nothing).
Prints the figures beside the machine's load average (figures under load are pessimistic).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from fieldsvc.db import db  # noqa: E402
from fieldsvc.visits import models as m  # noqa: E402
from fieldsvc.visits.desk import calls as svc  # noqa: E402
from fieldsvc.visits.desk.alerts import send_due_alerts  # noqa: E402
from fieldsvc.visits.desk_models import DeskMember  # noqa: E402
from fieldsvc.web import create_app  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=300)
    args = ap.parse_args()
    from tests.calls.conftest import T0, tehran, DAY
    from tests.desk.conftest import DESK_TARGETS
    from tests.factories import build_world, user

    tmp = tempfile.mkdtemp()
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite",
                      "SECRET_KEY": "bench", "OUTBOX_DIR": f"{tmp}/outbox", "UPLOAD_DIR": f"{tmp}/up",
                      "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False, "TILE_URL": "none"})
    with app.app_context():
        db.create_all()
        w = build_world()
        for c in w.contracts:
            c.em_targets = DESK_TARGETS
        agent = user("agent", "psp", psp_id=w.psps[0].id, email="agent@example.com", language="en")
        sup = user("sup1", "psp", psp_id=w.psps[0].id, email="sup1@example.com")
        db.session.flush()
        db.session.add_all([DeskMember(user_id=agent.id, tier="tier1"),
                            DeskMember(user_id=sup.id, tier="tier1", supervisor=True)])
        shop = w.merchants[0]
        for i in range(args.calls):
            db.session.add(m.Terminal(serial=f"BENCH{i:05d}", model="PAX S90", family="pax", merchant=shop,
                                      psp_id=shop.psp_id))
        db.session.commit()
        t0 = time.perf_counter()
        for i in range(args.calls):
            svc.open_call(w.users["psp-p1"], priority="urgent", symptom_code="printer",
                          terminal_serial=f"BENCH{i:05d}", reported_at=T0)
        intake = time.perf_counter() - t0
        client = app.test_client()
        client.post("/login", data={"username": "agent", "password": "demo"})
        loads = []
        for _ in range(5):
            t0 = time.perf_counter()
            r = client.get("/desk/queue/tier1")
            loads.append(time.perf_counter() - t0)
            assert r.status_code == 200
        late = tehran(DAY, "12:50")
        svc.escalate_due_calls(late)
        t0 = time.perf_counter()
        sent = send_due_alerts(late, before_minutes=0)
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = send_due_alerts(late + timedelta(minutes=5), before_minutes=0)
        second = time.perf_counter() - t0
    print(f"load average {os.getloadavg()} (figures under this load are pessimistic)")
    print(f"intake of {args.calls} calls: {intake:.1f} s ({1000 * intake / args.calls:.0f} ms a call)")
    print(f"tier 1 queue page with {args.calls} calls: median {statistics.median(loads):.2f} s "
          f"(min {min(loads):.2f}, max {max(loads):.2f})")
    print(f"alert job: {sent} alerts sent in {first:.1f} s; rerun sent {again} in {second:.1f} s")


if __name__ == "__main__":
    main()
