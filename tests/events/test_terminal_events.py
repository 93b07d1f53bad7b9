"""POST /api/v1/terminal-events: events stored once by id, rules open calls (deduplicated, throttled),
bad input names the field and stores nothing, replays answer the first result."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from fieldsvc.db import db
from fieldsvc.visits import models as m
from tests.events.conftest import add_rule, event


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_rule_opens_a_call_and_replay_returns_the_same_result(client, world, bearer):
    add_rule(world, code="E42")
    r = client.post("/api/v1/terminal-events", json=event("ev-1"), headers=bearer)
    assert r.status_code == 200, r.json
    res = r.json["results"][0]
    assert res["outcome"] == "call_opened" and res["replay"] is False and res["tracking_number"].startswith("EM-")
    call = db.session.get(m.ServiceCall, res["call_id"])
    assert call.channel == "monitoring" and call.priority == "urgent" and call.symptom_code == "software"
    assert call.profile.ticket_type == "fault" and call.profile.event_id is not None
    again = client.post("/api/v1/terminal-events", json=event("ev-1"), headers=bearer)
    assert again.json["results"][0] == {**res, "replay": True}
    assert again.json["accepted"] == 0 and again.json["replayed"] == 1
    assert _count(m.ServiceCall) == 1 and _count(m.TerminalEvent) == 1


def test_batch_deduplicates_against_open_call_and_throttles_per_terminal(client, world, bearer):
    add_rule(world, code="E42", symptom_code="software", throttle_minutes=60)
    add_rule(world, kind="low_paper", code="", symptom_code="printer", priority="normal", throttle_minutes=60)
    now = datetime.now(timezone.utc)
    batch = [event("a1", at=now - timedelta(minutes=5)),
             event("a2", at=now - timedelta(minutes=4)),                         # same symptom: duplicate
             event("a3", kind="low_paper", code=None, at=now - timedelta(minutes=3)),  # other symptom: throttled
             event("a4", serial="SN110", at=now - timedelta(minutes=2)),          # other terminal: a call
             event("a5", code="E99", at=now - timedelta(minutes=1)),              # no rule for E99? any-code rule absent
             event("a6", serial="NOPE1"),
             event("a7", kind="heartbeat", code=None)]
    r = client.post("/api/v1/terminal-events", json={"events": batch}, headers=bearer)
    assert r.status_code == 200, r.json
    outcomes = [x["outcome"] for x in r.json["results"]]
    assert outcomes == ["call_opened", "duplicate", "throttled", "call_opened", "ignored", "unknown_terminal",
                        "ignored"]
    first = r.json["results"][0]["call_id"]
    assert r.json["results"][1]["call_id"] == first
    assert r.json["calls_opened"] == 2 and _count(m.ServiceCall) == 2 and _count(m.TerminalEvent) == 7
    # the whole batch again: nothing new
    r2 = client.post("/api/v1/terminal-events", json={"events": batch}, headers=bearer)
    assert [x["outcome"] for x in r2.json["results"]] == outcomes
    assert all(x["replay"] for x in r2.json["results"])
    assert _count(m.ServiceCall) == 2 and _count(m.TerminalEvent) == 7


def test_same_id_twice_in_one_batch_is_one_event(client, world, bearer):
    add_rule(world)
    r = client.post("/api/v1/terminal-events", json={"events": [event("x"), event("x")]}, headers=bearer)
    assert [x["replay"] for x in r.json["results"]] == [False, True]
    assert _count(m.TerminalEvent) == 1 and _count(m.ServiceCall) == 1


def test_bad_event_names_the_field_and_stores_nothing(client, world, bearer):
    add_rule(world)
    good = event("g1")
    cases = [
        ({"events": [good, {**event("g2"), "kind": "smoke"}]}, "events[1].kind"),
        ({"events": [good, {k: v for k, v in event("g3").items() if k != "event_id"}]}, "events[1].event_id"),
        ({"events": [good, event("g4", time="yesterday")]}, "events[1].time"),
        ({"events": [good, {**event("g5"), "time": "2026-11-22T10:00:00"}]}, "events[1].time"),
        ({"events": [good, event("g6", kind="error", code=None)]}, "events[1].code"),
        ({"events": [good, event("g7", kind="silent", code=None)]}, "events[1].silent_since"),
        ({"events": [good, {**event("g8"), "time": (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()}]},
         "events[1].time"),
        ({"events": []}, "events"),
        ({"events": [good] * 1001}, "events"),
        ({"events": [good, "text"]}, "events[1]"),
    ]
    for body, field in cases:
        r = client.post("/api/v1/terminal-events", json=body, headers=bearer)
        assert r.status_code in (413, 422), (field, r.json)
        assert r.json["error"]["field"] == field, r.json
    assert _count(m.TerminalEvent) == 0 and _count(m.ServiceCall) == 0 and _count(m.TerminalHealth) == 0


def test_events_are_per_psp_and_need_a_psp_login(client, world, bearer, app):
    from tests.conftest import login

    add_rule(world)
    # a terminal of the other PSP is unknown to this sender
    r = client.post("/api/v1/terminal-events", json=event("p1", serial="SN200"), headers=bearer)
    assert r.json["results"][0]["outcome"] == "unknown_terminal"
    other = app.test_client()
    login(other, "dispatcher-c1")
    assert other.post("/api/v1/terminal-events", json=event("p2")).status_code == 403
    assert app.test_client().post("/api/v1/terminal-events", json=event("p3")).status_code == 401


def test_last_seen_moves_forward_only(client, world, bearer):
    now = datetime.now(timezone.utc)
    client.post("/api/v1/terminal-events", json=event("h1", kind="heartbeat", code=None, at=now - timedelta(hours=1)),
                headers=bearer)
    client.post("/api/v1/terminal-events", json=event("h2", kind="heartbeat", code=None, at=now - timedelta(hours=3)),
                headers=bearer)
    health = db.session.scalars(select(m.TerminalHealth)).one()
    assert abs((health.last_seen_at - (now - timedelta(hours=1))).total_seconds()) < 1
