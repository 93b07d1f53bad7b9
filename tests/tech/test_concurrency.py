"""Copies of the same events racing in parallel (a phone resending while the first answer is
still on its way): each event is applied exactly once and the visit ends completed."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from fieldsvc.db import db
from fieldsvc.visits import models as m
from tests.tech.conftest import checkin_body, checkout_body


def _post(url: str, body: dict, token: str | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_parallel_copies_of_check_in_and_check_out_apply_once(live_server, day):
    status, tok = _post(f"{live_server}/api/v1/auth/token", {"username": "tech-c1-1", "password": "demo"})
    assert status == 200
    cin, cout = checkin_body(day.em), checkout_body("fixed")
    jobs = [(f"/api/v1/visits/{day.em.id}/check-in", cin), (f"/api/v1/visits/{day.em.id}/check-out", cout)] * 4
    with ThreadPoolExecutor(len(jobs)) as pool:
        results = list(pool.map(lambda j: _post(live_server + j[0], j[1], tok["token"]), jobs))
    assert all(code in (200, 202) for code, _ in results), results
    db.session.expire_all()
    evs = db.session.scalars(select(m.ClientEvent).where(m.ClientEvent.visit_id == day.em.id)).all()
    assert sorted((e.client_event_id, e.result) for e in evs) == sorted(
        [(cin["client_event_id"], "applied"), (cout["client_event_id"], "applied")])
    assert db.session.get(m.Visit, day.em.id).status == "completed"
    assert db.session.get(m.ServiceCall, day.call.id).status == "resolved"
    moves = db.session.scalars(select(m.AuditEvent.to_state).where(
        m.AuditEvent.object_type == "visit", m.AuditEvent.object_id == day.em.id,
        m.AuditEvent.action == "status")).all()
    assert sorted(moves) == ["checked_in", "completed"]
