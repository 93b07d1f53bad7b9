"""Lifecycle transitions (and illegal ones), escalation and auto-close jobs, e-mails, survey."""
from __future__ import annotations

from datetime import timedelta

import pytest

from fieldsvc.db import db
from fieldsvc.visits.desk import calls as svc
from fieldsvc.web.mail import read_outbox
from fieldsvc.visits.states import IllegalTransition
from tests.calls.conftest import DAY, T0, new_call, tehran
from tests.conftest import login


def _act(client, call, action, **kw):
    return client.post(f"/api/v1/service-calls/{call.id}/transition", json={"action": action, **kw})


def test_full_lifecycle_through_the_api(client, world, fixed_now):
    call = new_call(world)
    tech = world.technicians[0]
    login(client, "dispatcher-c1")
    r = _act(client, call, "assign", technician_id=tech.id)
    # on the technician's day at once (issue 17.2)
    assert r.status_code == 200 and r.json["status"] == "scheduled" and r.json["technician"]["id"] == tech.id
    assert _act(client, call, "close").status_code == 403  # QC is PSP staff's job
    r = _act(client, call, "start")
    assert r.status_code == 200 and r.json["status"] == "in_progress" and r.json["responded_at"]
    r = _act(client, call, "resolve")
    assert r.status_code == 200 and r.json["status"] == "resolved" and r.json["resolved_at"]
    client.post("/logout")
    login(client, "psp-p1")
    r = _act(client, call, "close", reason="verified by phone")
    assert r.status_code == 200 and r.json["status"] == "closed" and r.json["closed_at"]
    r = _act(client, call, "reopen", reason="fails again")
    assert r.status_code == 200 and r.json["status"] == "open" and r.json["resolved_at"] is None
    r = _act(client, call, "cancel")
    assert r.status_code == 422 and r.json["error"]["field"] == "reason"
    r = _act(client, call, "cancel", reason="duplicate of a phone call")
    assert r.status_code == 200 and r.json["status"] == "cancelled" and r.json["cancel_reason"]
    states = [h["to_state"] for h in client.get(f"/api/v1/service-calls/{call.id}").json["history"]
              if h["action"] in ("created", "status")]
    assert states == ["open", "scheduled", "in_progress", "resolved", "closed", "open", "cancelled"]


@pytest.mark.parametrize("setup, action", [
    ([], "close"), ([], "resolve"), ([], "reopen"),
    (["start", "resolve"], "start"),
    (["start", "resolve", "close"], "cancel"),
    (["cancel"], "reopen"),
])
def test_illegal_transitions_answer_409(client, world, setup, action):
    call = new_call(world)
    admin = world.users["admin"]
    for step in setup:
        if step == "cancel":
            svc.cancel_call(call, admin, "test")
        elif step == "start":
            svc.start_call(call, admin)
        elif step == "resolve":
            svc.resolve_call(call, admin)
        elif step == "close":
            svc.close_call(call, admin)
    before = call.status
    login(client, "admin")
    r = _act(client, call, action, reason="because")
    assert r.status_code == 409, r.json
    assert r.json["error"]["code"] == "illegal_transition"
    db.session.expire_all()
    assert call.status == before


def test_illegal_transition_in_the_service_raises(world):
    call = new_call(world)
    with pytest.raises(IllegalTransition):
        svc.close_call(call, world.users["psp-p1"])


def test_escalation_levels_rise_over_time(world, fixed_now):
    call = new_call(world, priority="urgent")  # respond by 13:30, resolve by Monday 08:30
    other = new_call(world, "SN110", priority="normal")
    assert svc.escalate_due_calls(tehran(DAY, "11:00")) == 0
    assert svc.escalate_due_calls(tehran(DAY, "12:50")) == 1  # 80 % of the response budget used
    assert call.escalation_level == 1
    assert svc.escalate_due_calls(tehran(DAY, "12:55")) == 0  # no change, no new event
    assert svc.escalate_due_calls(tehran(DAY, "13:31")) == 1
    assert call.escalation_level == 2
    svc.start_call(call, world.users["dispatcher-c1"], at=tehran(DAY, "13:40"))
    assert svc.escalate_due_calls(tehran(DAY + timedelta(days=1), "08:31")) >= 1
    assert call.escalation_level == 3  # resolution breached: supervisor
    assert other.escalation_level >= 1
    events = [e for e in svc.history(call) if e.action == "escalated"]
    assert [e.to_state for e in events] == ["1", "2", "3"]
    # finished calls are left alone and levels never go down by themselves
    svc.resolve_call(call, world.users["dispatcher-c1"])
    svc.escalate_due_calls(tehran(DAY + timedelta(days=3), "09:00"))
    assert call.escalation_level == 3


def test_auto_close_after_the_contract_days(world, app):
    call = new_call(world)
    admin = world.users["admin"]
    svc.start_call(call, admin, at=T0 + timedelta(hours=1))
    svc.resolve_call(call, admin, at=T0 + timedelta(hours=2))
    assert world.contracts[0].auto_close_days == 3
    assert svc.auto_close_resolved_calls(T0 + timedelta(days=2)) == 0
    assert call.status == "resolved"
    assert svc.auto_close_resolved_calls(T0 + timedelta(days=3, hours=2)) == 1
    assert call.status == "closed" and call.survey_token and call.closed_at
    closing = [e for e in svc.history(call) if e.to_state == "closed"][0]
    assert closing.actor == "system" and closing.data.get("auto") is True
    mails = [mm for mm in read_outbox(app.config["OUTBOX_DIR"]) if mm["To"] == call.merchant.email]
    last = mails[-1].get_body(("plain",)).get_content()
    assert f"/track/{call.tracking_number}/survey/{call.survey_token}" in last


def test_status_mails_in_the_recipients_language(world, app, fixed_now):
    merchant = world.merchants[0]
    merchant.language = "en"
    db.session.commit()
    call = new_call(world)
    outbox = read_outbox(app.config["OUTBOX_DIR"])
    assert {mm["To"] for mm in outbox} == {merchant.email, call.contractor.email}
    en = next(mm for mm in outbox if mm["To"] == merchant.email)
    fa = next(mm for mm in outbox if mm["To"] == call.contractor.email)
    assert en["Content-Language"] == "en" and fa["Content-Language"] == "fa"
    assert call.tracking_number in en["Subject"]
    en_text = en.get_body(("plain",)).get_content()
    fa_text = fa.get_body(("plain",)).get_content()
    assert f"http://127.0.0.1:5000/track/{call.tracking_number}" in en_text
    assert "Open" in en_text
    # the contractor's message (Persian) shows the deadlines with Jalali dates and Persian digits
    assert "۱۴۰۵" in fa_text and "1405/" not in fa_text
    assert fa.get_body(("html",)).get_content().count('dir="rtl"') == 1
    # every status change sends one message to each
    svc.assign_technician(call, world.technicians[0].id, world.users["dispatcher-c1"])
    svc.start_call(call, world.users["dispatcher-c1"])
    assert len(read_outbox(app.config["OUTBOX_DIR"])) == 6


def test_rolled_back_changes_send_nothing(world, app):
    call = new_call(world)
    n = len(read_outbox(app.config["OUTBOX_DIR"]))
    from fieldsvc.visits.audit import transition_call
    transition_call(call, "assigned")
    db.session.rollback()
    db.session.commit()
    assert len(read_outbox(app.config["OUTBOX_DIR"])) == n


def test_survey_after_closing(client, world):
    call = new_call(world)
    admin = world.users["admin"]
    svc.start_call(call, admin)
    svc.resolve_call(call, admin)
    assert client.get(f"/track/{call.tracking_number}/survey/whatever").status_code == 404
    svc.close_call(call, world.users["psp-p1"])
    url = f"/track/{call.tracking_number}/survey/{call.survey_token}"
    assert client.get(url).status_code == 200
    assert client.post(url, data={"score": "9"}).status_code == 422
    r = client.post(url, data={"score": "4", "comment": "quick and polite"})
    assert r.status_code == 303
    db.session.expire_all()
    assert call.survey_score == 4 and call.survey_comment == "quick and polite"
    r = client.post(url, data={"score": "1"})
    assert r.status_code == 422 and call.survey_score == 4
    assert any(e.action == "survey" for e in svc.history(call))


def test_smtp_is_used_when_configured(app, world, monkeypatch):
    sent = []

    class FakeSMTP:
        def __init__(self, host, port, timeout=None):
            sent.append(("connect", host, port))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def send_message(self, msg):
            sent.append(("send", msg["To"], msg["Subject"]))

    import fieldsvc.web.mail as mail
    monkeypatch.setattr(mail.smtplib, "SMTP", FakeSMTP)
    app.config["SMTP_HOST"] = "mail.example.com"
    call = new_call(world)
    assert ("connect", "mail.example.com", 25) in sent
    assert {s[1] for s in sent if s[0] == "send"} == {call.merchant.email, call.contractor.email}
    assert read_outbox(app.config["OUTBOX_DIR"]) == []


def test_escalation_honours_pauses_recorded_elsewhere(world):
    from fieldsvc.visits.models import CallPause

    call = new_call(world, priority="urgent")  # respond by 13:30
    # e.g. the technician found the shop closed from 10:00 until 11:00 (written at check-out)
    call.pauses.append(CallPause(started_at=tehran(DAY, "10:00"), ended_at=tehran(DAY, "11:00"),
                                 reason="merchant closed"))
    db.session.commit()
    assert svc.escalate_due_calls(tehran(DAY, "13:45")) == 1
    assert call.response_by == tehran(DAY, "14:30") and call.escalation_level == 1  # at risk, not breached
