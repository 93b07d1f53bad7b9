"""Reliability benchmark (issue 8, point 6) — a script, not a test.

100 technicians check in and out of their visits for 60 s against gunicorn + PostgreSQL on this
machine, through the real API (`POST /api/v1/visits/<id>/check-in|check-out`, bearer tokens);
one gunicorn worker is killed with SIGKILL in the middle of the run. Every event carries a
`client_event_id`; a request that fails (connection reset by the kill, 5xx, timeout) is sent again
with the same id until the server acknowledges it, as the phone's outbox does. Afterwards the
database is counted: every acknowledged event must be stored exactly once and applied exactly once
(one `dispatched → checked_in` and one `checked_in → completed` per visit), and replaying events
already acknowledged must change nothing.

    .venv/bin/python tests/bench_reliability.py                      # 100 technicians, 60 s
    .venv/bin/python tests/bench_reliability.py --technicians 20 --seconds 15 --workers 2

Needs PostgreSQL (default postgresql://postgres@127.0.0.1:5432/fieldsvc_bench — the database is
dropped and created again) and prints requests per second, median and 99th percentile latency,
retries, and the lost / duplicated counts. Exit status 1 when an event was lost or duplicated.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/fieldsvc_bench"


# --------------------------------------------------------------------------- database


def recreate_database(url: str) -> None:
    """Drop and create the benchmark database (never one of the test databases)."""
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    name = u.database
    if not name or not name.startswith("fieldsvc_bench"):
        raise SystemExit(f"refusing to recreate database {name!r}: its name must start with fieldsvc_bench")
    admin = u.set(database="postgres", drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def seed(url: str, technicians: int, visits_each: int) -> dict[str, list[int]]:
    """One PSP, one contractor and contract; `technicians` technicians, each with a user, a bearer
    token and `visits_each` dispatched PM visits for today at merchants of their own. Returns
    {token: [visit ids in order]}."""
    from sqlalchemy import insert

    from fieldsvc.db import db, utcnow
    from fieldsvc.visits import models as m
    from fieldsvc.web import create_app
    from fieldsvc.web.security import issue_token

    app = create_app({"SQLALCHEMY_DATABASE_URI": sqlalchemy_url(url)})
    plan: dict[str, list[int]] = {}
    with app.app_context():
        db.create_all()
        today = dt.datetime.now(dt.timezone(dt.timedelta(hours=3, minutes=30))).date()
        psp = m.Psp(code="bp", name="Bench PSP")
        con = m.Contractor(code="bc", name="Bench contractor")
        reg = m.Region(code="br", name="Bench region")
        ctr = m.Contract(code="bk", psp=psp, contractor=con, valid_from=today - dt.timedelta(days=30),
                         em_targets={}, calendar={"tz": "Asia/Tehran"}, penalty_terms={}, regions=[reg])
        db.session.add_all([psp, con, reg, ctr])
        db.session.flush()
        techs, users = [], []
        for i in range(technicians):
            t = m.Technician(contractor_id=con.id, code=f"t{i}", name=f"Bench tech {i}", home_lat=35.7,
                             home_lon=51.4, skills=["pax"])
            techs.append(t)
        db.session.add_all(techs)
        db.session.flush()
        for i, t in enumerate(techs):
            u = m.User(username=f"bench-tech-{i}", role="technician", contractor_id=con.id, technician_id=t.id,
                       password_hash="!")  # no password: the benchmark uses bearer tokens
            users.append(u)
        db.session.add_all(users)
        db.session.flush()
        now = utcnow()
        merchant_rows = [{"psp_id": psp.id, "region_id": reg.id, "code": f"m{i}-{j}", "name": f"Bench shop {i}-{j}",
                          "lat": 35.6 + 0.0001 * j, "lon": 51.3 + 0.001 * i, "opening_hours": {},
                          "closed_dates": [], "address": "", "phone": "", "email": "", "contact_name": "",
                          "language": "fa", "created_at": now, "updated_at": now}
                         for i in range(technicians) for j in range(visits_each)]
        merchant_ids = list(db.session.scalars(insert(m.Merchant).returning(m.Merchant.id, sort_by_parameter_order=True),
                                               merchant_rows))
        terminal_rows = [{"serial": f"BENCH{k:07d}", "model": "PAX S90", "family": "pax", "merchant_id": mid,
                          "psp_id": psp.id, "status": "active", "created_at": now, "updated_at": now}
                         for k, mid in enumerate(merchant_ids)]
        terminal_ids = list(db.session.scalars(insert(m.Terminal).returning(m.Terminal.id, sort_by_parameter_order=True),
                                               terminal_rows))
        visit_rows = []
        for k, mid in enumerate(merchant_ids):
            i, j = divmod(k, visits_each)
            visit_rows.append({"kind": "pm", "status": "dispatched", "merchant_id": mid, "contractor_id": con.id,
                               "contract_id": ctr.id, "technician_id": techs[i].id, "planned_date": today,
                               "route_position": j, "service_minutes": 20, "unassigned_reason": "",
                               "checkin_reason": "", "failure_reason": "", "notes": "", "parts_used": [],
                               "merchant_confirmed": False, "version": 1, "created_at": now, "updated_at": now})
        visit_ids = list(db.session.scalars(insert(m.Visit).returning(m.Visit.id, sort_by_parameter_order=True),
                                            visit_rows))
        db.session.execute(insert(m.visit_terminal), [{"visit_id": v, "terminal_id": t}
                                                       for v, t in zip(visit_ids, terminal_ids)])
        for i, u in enumerate(users):
            token, _row = issue_token(u, 1, "bench")
            plan[token] = visit_ids[i * visits_each:(i + 1) * visits_each]
        db.session.commit()
        coords = {v: (r["lat"], r["lon"]) for v, r in zip(visit_ids, merchant_rows)}
        db.session.remove()
        db.engine.dispose()
    seed.coords = coords  # type: ignore[attr-defined]
    return plan


def sqlalchemy_url(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1] if url.startswith("postgresql://") else url


# --------------------------------------------------------------------------- server


def start_gunicorn(url: str, port: int, workers: int, var_dir: Path) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-" + uuid.uuid4().hex,
           "FIELDSVC_VAR_DIR": str(var_dir), "FIELDSVC_UPLOAD_DIR": str(var_dir / "uploads")}
    cmd = [str(REPO / ".venv" / "bin" / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}",
           "--timeout", "60", "--graceful-timeout", "5", "--log-level", "warning", "fieldsvc.web:create_app()"]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("gunicorn did not start")


def worker_pids(master: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


# --------------------------------------------------------------------------- load


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    transport_errors: int = 0
    retries: int = 0
    acked: dict[str, tuple[str, int]] = field(default_factory=dict)  # client_event_id -> (kind, visit)
    bodies: dict[str, dict] = field(default_factory=dict)
    unexpected: list[str] = field(default_factory=list)


async def send(client: httpx.AsyncClient, token: str, visit: int, kind: str, body: dict, stats: Stats,
               give_up_at: float) -> bool:
    """POST one event until the server acknowledges it (2xx), retrying with the same id."""
    url = f"/api/v1/visits/{visit}/{'check-in' if kind == 'check_in' else 'check-out'}"
    headers = {"Authorization": f"Bearer {token}"}
    attempt = 0
    while time.monotonic() < give_up_at:
        if attempt:
            stats.retries += 1
            await asyncio.sleep(min(2.0, 0.1 * 2 ** attempt))
        attempt += 1
        t0 = time.perf_counter()
        try:
            r = await client.post(url, json=body, headers=headers)
        except httpx.TransportError:
            stats.transport_errors += 1
            continue
        stats.latencies.append(time.perf_counter() - t0)
        stats.statuses[r.status_code] = stats.statuses.get(r.status_code, 0) + 1
        if r.status_code in (200, 202):
            stats.acked[body["client_event_id"]] = (kind, visit)
            stats.bodies[body["client_event_id"]] = {"url": url, "body": body, "token": token}
            return True
        if r.status_code >= 500 or r.status_code == 409 and r.json().get("error", {}).get("code") == "conflict":
            continue
        stats.unexpected.append(f"{r.status_code} {url}: {r.text[:200]}")
        return False
    return False


async def technician(client: httpx.AsyncClient, token: str, visits: list[int], coords: dict, stats: Stats,
                     stop_at: float, give_up_at: float) -> None:
    for visit in visits:
        if time.monotonic() >= stop_at:
            return
        lat, lon = coords[visit]
        now = dt.datetime.now(dt.timezone.utc)
        ok = await send(client, token, visit, "check_in",
                        {"lat": lat, "lon": lon, "accuracy_m": 12, "at": now.isoformat(),
                         "client_event_id": uuid.uuid4().hex}, stats, give_up_at)
        if not ok:
            return
        await send(client, token, visit, "check_out",
                   {"outcome": "pm_done", "notes": "", "at": (now + dt.timedelta(seconds=1)).isoformat(),
                    "client_event_id": uuid.uuid4().hex}, stats, give_up_at)


async def killer(master: int, at: float, log: list[str]) -> None:
    await asyncio.sleep(at)
    pids = worker_pids(master)
    if pids:
        os.kill(pids[0], signal.SIGKILL)
        log.append(f"t={at:.0f}s: SIGKILL worker {pids[0]} (of {len(pids)})")


async def run_load(port: int, plan: dict[str, list[int]], coords: dict, seconds: float, master: int,
                   kill_at: float) -> tuple[Stats, float, list[str]]:
    stats, log = Stats(), []
    limits = httpx.Limits(max_connections=len(plan) + 10, max_keepalive_connections=len(plan) + 10)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30, limits=limits) as client:
        t0 = time.monotonic()
        stop_at, give_up_at = t0 + seconds, t0 + seconds + 60
        kill = asyncio.create_task(killer(master, kill_at, log))
        await asyncio.gather(*(technician(client, tok, vs, coords, stats, stop_at, give_up_at)
                               for tok, vs in plan.items()))
        elapsed = time.monotonic() - t0
        await kill
    return stats, elapsed, log


async def replay(port: int, stats: Stats, sample: int) -> tuple[int, int]:
    """Send acknowledged events again with the same ids: each must answer 2xx and change nothing."""
    ids = list(stats.bodies)[:sample]
    ok = 0
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        for cid in ids:
            b = stats.bodies[cid]
            r = await client.post(b["url"], json=b["body"], headers={"Authorization": f"Bearer {b['token']}"})
            if r.status_code in (200, 202) and r.json().get("event", {}).get("duplicate") is True:
                ok += 1
    return len(ids), ok


# --------------------------------------------------------------------------- counting


def count(url: str, stats: Stats) -> dict[str, int]:
    from sqlalchemy import create_engine, text

    eng = create_engine(sqlalchemy_url(url))
    with eng.connect() as c:
        stored = {r[0]: (r[1], r[2], r[3]) for r in c.execute(text(
            "select client_event_id, kind, visit_id, applied from client_event"))}
        transitions = c.execute(text(
            "select object_id, from_state, to_state, count(*) from audit_event "
            "where object_type = 'visit' and action = 'status' group by object_id, from_state, to_state")).all()
        visits = {r[0]: r[1] for r in c.execute(text("select id, status from visit where status != 'dispatched'"))}
    eng.dispose()
    acked_in = {v for k, v in stats.acked.values() if k == "check_in"}
    acked_out = {v for k, v in stats.acked.values() if k == "check_out"}
    lost = [cid for cid in stats.acked if cid not in stored]
    not_applied = [cid for cid in stats.acked if cid in stored and not stored[cid][2]]
    dup_transitions = sum(1 for _v, _a, _b, n in transitions if n > 1)
    wrong_state = [v for v in acked_out if visits.get(v) != "completed"] + \
                  [v for v in acked_in - acked_out if visits.get(v) not in ("checked_in", "completed")]
    return {"events_acknowledged": len(stats.acked), "events_stored": len(stored), "lost": len(lost),
            "stored_not_applied": len(not_applied), "duplicated_transitions": dup_transitions,
            "visits_in_wrong_state": len(wrong_state), "visits_checked_in": len(acked_in),
            "visits_completed": len(acked_out),
            "stored_but_never_acknowledged": len(set(stored) - set(stats.acked))}


# --------------------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", default=os.environ.get("FIELDSVC_BENCH_DB", DEFAULT_DB))
    ap.add_argument("--technicians", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--kill-at", type=float, default=None, help="seconds into the run (default: half)")
    ap.add_argument("--visits-each", type=int, default=150)
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--replay", type=int, default=1000, help="acknowledged events to send again")
    a = ap.parse_args()

    print(f"preparing {a.db}: {a.technicians} technicians × {a.visits_each} visits …", flush=True)
    recreate_database(a.db)
    plan = seed(a.db, a.technicians, a.visits_each)
    coords = seed.coords  # type: ignore[attr-defined]
    with tempfile.TemporaryDirectory() as var:
        server = start_gunicorn(a.db, a.port, a.workers, Path(var))
        try:
            print(f"gunicorn {a.workers} sync workers on :{a.port}; load for {a.seconds:.0f} s …", flush=True)
            stats, elapsed, log = asyncio.run(run_load(a.port, plan, coords, a.seconds, server.pid,
                                                       a.kill_at if a.kill_at is not None else a.seconds / 2))
            load = os.getloadavg()
            before = count(a.db, stats)
            replayed, replay_ok = asyncio.run(replay(a.port, stats, a.replay))
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    after = count(a.db, stats)
    lat = sorted(stats.latencies)
    ok_requests = sum(n for s, n in stats.statuses.items() if s in (200, 202))
    print("\n".join(log))
    print(f"requests answered: {len(lat)} in {elapsed:.1f} s = {len(lat) / elapsed:.1f} req/s "
          f"({ok_requests} acknowledged); statuses {dict(sorted(stats.statuses.items()))}")
    print(f"latency: median {statistics.median(lat) * 1000:.0f} ms, "
          f"p99 {lat[int(0.99 * (len(lat) - 1))] * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms")
    print(f"transport errors (killed worker, resets): {stats.transport_errors}; retries with the same "
          f"client_event_id: {stats.retries}; unexpected answers: {len(stats.unexpected)}")
    for line in stats.unexpected[:5]:
        print("  ", line)
    print(f"replayed {replayed} acknowledged events: {replay_ok} answered as duplicates; database "
          f"{'unchanged' if after == before else 'CHANGED: ' + str(after)}")
    for k, v in before.items():
        print(f"{k}: {v}")
    print(f"load average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} (2 cores)")
    bad = before["lost"] or before["duplicated_transitions"] or before["stored_not_applied"] \
        or before["visits_in_wrong_state"] or replay_ok != replayed or before["stored_but_never_acknowledged"] \
        or after != before
    print("RESULT:", "FAIL" if bad else "OK — no event lost, none duplicated, retries applied once")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
