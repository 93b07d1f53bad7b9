"""Benchmark (not a test): post a bounded load of terminal health events through the WSGI app and
check that none is lost.

A fresh database gets one PSP with a contract, merchants, ``--terminals`` terminals, a rule that
opens calls for error E42 and a PSP login with an API token. Then ``--clients`` threads post
``--events`` events with unique ids in batches of ``--batch`` to ``POST /api/v1/terminal-events``
(each thread its own WSGI test client; about 90 % heartbeats, the rest error codes and low paper,
``--e42`` of them (1 %) matching the rule), and ``--replay`` of the batches are sent a second time. It prints events/s accepted, the load
average, and whether the stored count equals the count of distinct events sent (exit status 1 if not).

    .venv/bin/python scripts/bench_events.py [--events 20000] [--batch 500] [--clients 1]
        [--database-url postgresql://… --reset]   # default: a temporary SQLite file
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path


def _setup(terminals: int) -> str:
    """The world of the benchmark; returns the PSP login's bearer token."""
    from fieldsvc.db import db
    from fieldsvc.visits import models as m
    from fieldsvc.visits.contracts.versions import preset_terms
    from fieldsvc.web.security import issue_token

    psp = m.Psp(code="bench", name="Bench PSP")
    con = m.Contractor(code="bench-c", name="Bench contractor")
    reg = m.Region(code="bench-r", name="Bench region")
    terms = preset_terms("business_hours")
    terms.pop("pm_intervals")
    ctr = m.Contract(code="bench-k", psp=psp, contractor=con, valid_from=dt.date(2020, 1, 1), regions=[reg], **terms)
    db.session.add_all([psp, con, reg, ctr])
    db.session.flush()
    merchants = [m.Merchant(psp_id=psp.id, region_id=reg.id, code=f"bm{i}", name=f"Shop {i}", lat=35.7, lon=51.4)
                 for i in range(max(1, terminals // 10))]
    db.session.add_all(merchants)
    db.session.flush()
    db.session.add_all([m.Terminal(serial=f"BT{i:07d}", model="PAX S90", family="pax", psp_id=psp.id,
                                   merchant_id=merchants[i % len(merchants)].id) for i in range(terminals)])
    db.session.add(m.TerminalEventRule(psp_id=psp.id, kind="error", code="E42", priority="urgent",
                                       symptom_code="software", throttle_minutes=60))
    user = m.User(username="bench-psp", role="psp", psp_id=psp.id, name="bench", password_hash="!")
    db.session.add(user)
    db.session.flush()
    token, _row = issue_token(user, 1, "bench")
    db.session.commit()
    return token


def _batches(n: int, size: int, terminals: int, e42: float, seed: int = 7) -> list[list[dict]]:
    rng = random.Random(seed)
    now = dt.datetime.now(dt.timezone.utc)
    events = []
    for i in range(n):
        r = rng.random()
        at = (now - dt.timedelta(seconds=rng.randint(1, 3600))).isoformat()
        e = {"event_id": f"bench-{i:08d}", "terminal_serial": f"BT{rng.randrange(terminals):07d}", "time": at}
        if r < 0.90:
            e["kind"] = "heartbeat"
        elif r > 1 - e42:
            e.update(kind="error", code="E42")
        elif r < 0.97:
            e.update(kind="error", code=f"E{rng.randint(1, 9)}")
        else:
            e["kind"] = "low_paper"
        events.append(e)
    return [events[i:i + size] for i in range(0, n, size)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=20_000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--terminals", type=int, default=5_000)
    ap.add_argument("--clients", type=int, default=1, help="threads posting at once")
    ap.add_argument("--replay", type=float, default=0.05, help="fraction of batches sent twice")
    ap.add_argument("--e42", type=float, default=0.01, help="fraction of events matching the rule (error E42)")
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--reset", action="store_true", help="drop every table of --database-url first")
    args = ap.parse_args()
    if not 1 <= args.batch <= 1000 or args.events < 1 or args.clients < 1:
        ap.error("--batch must be 1..1000, --events and --clients at least 1")

    from sqlalchemy import func, select

    from fieldsvc.db import db
    from fieldsvc.visits import models as m
    from fieldsvc.web import create_app

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": False})
        with app.app_context():
            if args.database_url:
                if db.inspect(db.engine).get_table_names() and not args.reset:
                    ap.error("the database has tables; add --reset to drop them (everything in it is lost)")
                db.drop_all()
            db.create_all()
            token = _setup(args.terminals)
        headers = {"Authorization": f"Bearer {token}"}
        batches = _batches(args.events, args.batch, args.terminals, args.e42)
        rng = random.Random(11)
        sends = batches + [b for b in batches if rng.random() < args.replay]
        rng.shuffle(sends)
        failures: list[str] = []
        accepted = [0]
        lock = threading.Lock()

        def worker(mine: list[list[dict]]) -> None:
            client = app.test_client()
            for batch in mine:
                r = client.post("/api/v1/terminal-events", json={"events": batch}, headers=headers)
                with lock:
                    if r.status_code != 200:
                        failures.append(f"{r.status_code}: {r.get_data(as_text=True)[:300]}")
                    else:
                        accepted[0] += r.json["accepted"]

        threads = [threading.Thread(target=worker, args=(sends[i::args.clients],)) for i in range(args.clients)]
        t0 = time.perf_counter()
        if args.clients == 1:
            worker(sends)
        else:
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        seconds = time.perf_counter() - t0
        with app.app_context():
            stored = db.session.scalar(select(func.count()).select_from(m.TerminalEvent))
            calls = db.session.scalar(select(func.count()).select_from(m.ServiceCall))
            dialect = db.engine.dialect.name
        posted = sum(len(b) for b in sends)
        load = os.getloadavg()
        print(f"database: {dialect}; {args.clients} client(s); batches of {args.batch}")
        print(f"posted {posted:,} events ({args.events:,} distinct, {posted - args.events:,} replayed) "
              f"in {seconds:.2f} s = {posted / seconds:,.0f} events/s posted, "
              f"{accepted[0] / seconds:,.0f} new events/s accepted")
        print(f"stored {stored:,} events; distinct sent {args.events:,}; calls opened {calls:,}; "
              f"failed requests {len(failures)}")
        print(f"load average (1, 5, 15 min): {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
              f"on {os.cpu_count()} CPUs — a shared machine makes this figure pessimistic")
        for f in failures[:5]:
            print("  failure:", f)
        ok = stored == args.events == accepted[0] and not failures
        print("OK: every event stored exactly once" if ok else "LOST OR DUPLICATED EVENTS")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
