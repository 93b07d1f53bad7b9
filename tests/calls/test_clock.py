"""SLA clock wiring: the contract's targets and calendar, weekends, holidays, midnight, pauses,
priority changes (the pure arithmetic itself is tested in tests/visits/test_sla.py)."""
from __future__ import annotations

from datetime import date, timedelta

from fieldsvc.db import db
from fieldsvc.visits.desk import calls as svc
from tests.calls.conftest import T0, new_call, tehran


def test_deadlines_skip_thursday_afternoon_and_friday(world):
    call = new_call(world, priority="urgent", at=tehran(date(2026, 11, 25), "16:00"))  # Wednesday
    # 60 min on Wednesday, 180 on Thursday morning
    assert call.response_by == tehran(date(2026, 11, 26), "11:00")
    # 480: Wed 60 + Thu 300 (08:00-13:00), Friday off, Saturday 120
    assert call.resolution_by == tehran(date(2026, 11, 28), "10:00")


def test_deadlines_skip_public_holidays(world):
    # Wednesday 23 Dec 2026 is a public holiday (birthday of Imam Ali)
    call = new_call(world, priority="urgent", at=tehran(date(2026, 12, 22), "16:00"))
    assert call.response_by == tehran(date(2026, 12, 24), "11:00")


def test_deadlines_cross_midnight(world):
    call = new_call(world, priority="critical", at=tehran(date(2026, 11, 24), "16:30"))  # Tuesday
    assert call.response_by == tehran(date(2026, 11, 25), "09:30")
    world.contracts[0].calendar = {"tz": "Asia/Tehran", "mode": "24x7"}
    db.session.commit()
    late = new_call(world, "SN110", priority="critical", at=tehran(date(2026, 11, 24), "23:00"))
    assert late.response_by == tehran(date(2026, 11, 25), "01:00")
    assert late.resolution_by == tehran(date(2026, 11, 25), "03:00")


def test_contract_targets_are_used(world):
    world.contracts[0].em_targets = {"urgent": {"response_minutes": 60, "resolution_minutes": 120}}
    db.session.commit()
    call = new_call(world, priority="urgent")
    assert call.response_by == T0 + timedelta(minutes=60)


def test_pause_moves_deadlines_by_the_paused_working_time(world, fixed_now):
    call = new_call(world, priority="urgent")
    assert call.response_by == tehran(call.reported_at.date(), "13:30")
    dispatcher = world.users["dispatcher-c1"]
    svc.pause_call(call, "shop closed for lunch", dispatcher, at=T0 + timedelta(minutes=30))
    assert svc.is_paused(call) and svc.sla_flags(call).paused
    # while paused the clock is still, no escalation happens
    assert svc.escalation_level(call, T0 + timedelta(hours=6)) == 0
    svc.resume_call(call, dispatcher, at=T0 + timedelta(minutes=90))
    assert not svc.is_paused(call)
    assert call.paused_seconds == 3600
    assert call.response_by == tehran(call.reported_at.date(), "14:30")
    assert call.pauses[0].reason == "shop closed for lunch"
    actions = [e.action for e in svc.history(call)]
    assert "paused" in actions and "resumed" in actions


def test_pause_overnight_counts_only_working_time(world):
    call = new_call(world, priority="urgent")
    psp = world.users["psp-p1"]
    # paused from 16:00 Sunday to 09:00 Monday: 1 h on Sunday + 1 h on Monday of working time
    svc.pause_call(call, "merchant asked to come tomorrow", psp, at=tehran(date(2026, 11, 22), "16:00"))
    svc.resume_call(call, psp, at=tehran(date(2026, 11, 23), "09:00"))
    # response 13:30 was before the pause: unchanged; resolution Monday 08:30 + 2 h
    assert call.response_by == tehran(date(2026, 11, 22), "13:30")
    assert call.resolution_by == tehran(date(2026, 11, 23), "10:30")


def test_pause_and_resume_are_refused_when_pointless(world):
    call = new_call(world)
    user = world.users["psp-p1"]
    import pytest
    with pytest.raises(svc.CallError):
        svc.resume_call(call, user)
    with pytest.raises(svc.CallError):
        svc.pause_call(call, "  ", user)
    svc.pause_call(call, "closed", user, at=T0)
    with pytest.raises(svc.CallError) as e:
        svc.pause_call(call, "closed again", user, at=T0)
    assert e.value.status == 409


def test_priority_change_recomputes_from_the_original_report_time(world, fixed_now):
    call = new_call(world, priority="urgent")
    fixed_now(T0 + timedelta(hours=1))
    svc.change_priority(call, "critical", world.users["psp-p1"], "merchant is a chain store")
    # critical = 120 / 240 working minutes from 09:30, not from 10:30
    assert call.response_by == T0 + timedelta(minutes=120)
    assert call.resolution_by == T0 + timedelta(minutes=240)
    ev = [e for e in svc.history(call) if e.action == "priority"][0]
    assert ev.data["old"] == "urgent" and ev.data["new"] == "critical"


def test_priority_change_through_the_api(client, world, fixed_now):
    from tests.conftest import login
    call = new_call(world, priority="normal")
    login(client, "psp-p1")
    r = client.post(f"/api/v1/service-calls/{call.id}/transition",
                    json={"action": "priority", "priority": "critical", "version": call.version})
    assert r.status_code == 200 and r.json["priority"] == "critical"
    assert r.json["response_by"] == (T0 + timedelta(minutes=120)).isoformat()
    # an out-of-date version is a conflict
    r = client.post(f"/api/v1/service-calls/{call.id}/transition",
                    json={"action": "priority", "priority": "urgent", "version": 1})
    assert r.status_code == 409 and r.json["error"]["code"] == "stale"
