"""Escalation and before-breach alerts: the tier's supervisor and the contractor's dispatcher get
an e-mail and a notification, once per (call, kind, level), whoever runs the job and how often."""
from __future__ import annotations

import threading
from datetime import timedelta

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.exc import OperationalError

from fieldsvc import jobs
from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.desk import calls as svc
from fieldsvc.visits.desk import tiers
from fieldsvc.visits.desk.alerts import send_due_alerts
from fieldsvc.web.mail import read_outbox
from tests.desk.conftest import DAY, new_call, tehran

LEVEL_1_AT = tehran(DAY, "12:50")  # urgent call of 09:30: 80 % of the 240-minute on-site budget used


def _count(model) -> int:
    return db.session.scalar(db.select(db.func.count(model.id)))


def _escalated_call(desk, clock):
    call = new_call(desk)
    clock(LEVEL_1_AT)
    assert svc.escalate_due_calls(LEVEL_1_AT) == 1
    return call


def test_an_escalation_alerts_the_tier_supervisor_and_the_dispatcher_once(desk, clock, app):
    call = _escalated_call(desk, clock)
    assert send_due_alerts(LEVEL_1_AT, before_minutes=0) == 1
    alert = db.session.scalars(db.select(m.CallAlert)).one()
    assert (alert.call_id, alert.kind, alert.level, alert.tier) == (call.id, "escalation", 1, "tier1")
    told = {n.user_id for n in db.session.scalars(db.select(m.Notification))}
    assert told == {desk.users["sup1"].id, desk.users["dispatcher-c1"].id}  # not sup2 (tier 2), not the agent
    mails = read_outbox(app.config["OUTBOX_DIR"])
    alert_mails = [msg for msg in mails if msg["To"].endswith(("@psp1.example.com", "@c1.example.com"))]
    assert sorted(msg["To"] for msg in alert_mails) == ["dispatch@c1.example.com", "sup1@psp1.example.com"]
    # a restarted scheduler, a second run: nothing again
    assert send_due_alerts(LEVEL_1_AT + timedelta(minutes=5), before_minutes=0) == 0
    assert _count(m.CallAlert) == 1 and _count(m.Notification) == 2
    assert len(read_outbox(app.config["OUTBOX_DIR"])) == len(mails)
    # the next level is a new alert
    later = tehran(DAY, "13:31")
    svc.escalate_due_calls(later)
    assert send_due_alerts(later, before_minutes=0) == 1
    assert sorted(a.level for a in db.session.scalars(db.select(m.CallAlert))) == [1, 2]


def test_before_breach_alerts_once_per_clock(desk, clock):
    call = new_call(desk)  # first response by 10:30, on site by 13:30
    soon = call.first_response_by - timedelta(minutes=20)
    assert send_due_alerts(soon, before_minutes=30) == 1
    assert send_due_alerts(soon + timedelta(minutes=5), before_minutes=30) == 0
    [alert] = db.session.scalars(db.select(m.CallAlert)).all()
    assert (alert.kind, alert.level) == ("breach_soon", 1)
    # after a first response the clock is done: no alert for it; the on-site clock alerts on its own
    tiers.dispatch(call, desk.users["agent"], "needs a technician")
    assert send_due_alerts(call.response_by - timedelta(minutes=10), before_minutes=30) == 1
    levels = sorted((a.kind, a.level) for a in db.session.scalars(db.select(m.CallAlert)))
    assert levels == [("breach_soon", 1), ("breach_soon", 2)]
    # in the field: the dispatchers, not the desk supervisors
    told = db.session.scalars(db.select(m.Notification.user_id).where(m.Notification.kind == "breach_soon")).all()
    assert told.count(desk.users["dispatcher-c1"].id) == 2 and told.count(desk.users["sup1"].id) == 1


def test_a_paused_call_is_not_alerted(desk, clock):
    call = new_call(desk)
    svc.pause_call(call, "shop closed", desk.users["psp-p1"])
    assert send_due_alerts(call.first_response_by - timedelta(minutes=5), before_minutes=30) == 0


def test_the_scheduled_job_runs_once_per_slot_and_a_rerun_sends_nothing(desk, clock, app, monkeypatch):
    _escalated_call(desk, clock)
    monkeypatch.setattr(jobs, "utcnow", lambda: LEVEL_1_AT)
    app.config["ALERT_BEFORE_BREACH_MINUTES"] = 0
    five = timedelta(minutes=5)
    fired = [jobs._in_app(app, jobs.send_call_alerts, CronTrigger(minute="1-59/5"), five) for _ in range(2)]
    for job in fired:
        job()
    assert db.session.scalars(db.select(m.JobRun.status)).all() == ["succeeded"]
    assert _count(m.CallAlert) == 1 and _count(m.Notification) == 2
    # a restarted scheduler in the next slot runs the job again: nothing new is sent
    monkeypatch.setattr(jobs, "utcnow", lambda: LEVEL_1_AT + five)
    fired[0]()
    assert len(db.session.scalars(db.select(m.JobRun)).all()) == 2
    assert _count(m.CallAlert) == 1 and _count(m.Notification) == 2


def test_two_app_servers_sending_at_once_send_each_alert_once(desk, clock, app):
    calls = [_escalated_call(desk, clock)]
    for serial in ("SN110", "SN120"):  # two more calls escalated at the same time
        calls.append(new_call(desk, serial=serial))
    svc.escalate_due_calls(LEVEL_1_AT)
    db.session.remove()
    start = threading.Barrier(2)
    sent, errors = [], []

    def server() -> None:
        with app.app_context():
            start.wait()
            try:
                sent.append(send_due_alerts(LEVEL_1_AT, before_minutes=0))
            except OperationalError as e:  # SQLite: "database is locked" for the loser; nothing sent
                errors.append(e)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=server) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    if db.engine.dialect.name == "postgresql":
        assert errors == []
    assert sum(sent) == 3
    assert _count(m.CallAlert) == 3
    assert _count(m.Notification) == 3 * 2  # sup1 and the dispatcher, once per call
