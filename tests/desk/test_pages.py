"""Desk pages: tier queues with counts and SLA flags (Persian and English), the desk actions and
notes from the pages, the notifications bell and page, and the desk team."""
from __future__ import annotations

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.desk import notes, tiers
from tests.conftest import login
from tests.desk.conftest import new_call


def test_the_queue_shows_counts_and_sla_flags_in_both_languages(desk, clock, client):
    a = new_call(desk, serial="SN100")
    b = new_call(desk, serial="SN101")
    tiers.transfer(b, desk.users["agent"], to_tier="tier2", reason="keys")
    login(client, "agent")
    html = client.get("/desk/queue/tier1").get_data(as_text=True)
    assert a.tracking_number in html and b.tracking_number not in html
    assert 'data-count="tier1">1<' in html and 'data-count="tier2">1<' in html
    assert 'data-sla="ok"' in html and "First response by" in html and "Resolve remotely" in html
    html = client.get("/desk/queue/tier2").get_data(as_text=True)
    assert b.tracking_number in html
    client.post("/lang/fa", data={"next": "/desk/queue/tier1"})
    html = client.get("/desk/queue/tier1").get_data(as_text=True)
    assert 'dir="rtl"' in html or "rtl" in html
    assert "صف" in html  # the queue title in Persian
    assert "۱" in html  # Persian digits in the counts
    assert client.get("/desk/queue/nowhere").status_code == 404


def test_another_tenant_sees_nothing_of_the_queue(desk, clock, client):
    call = new_call(desk)
    login(client, "psp-p2")
    html = client.get("/desk/queue/tier1").get_data(as_text=True)
    assert call.tracking_number not in html
    r = client.post(f"/desk/calls/{call.id}/act", data={"action": "dispatch", "reason": "x"})
    assert r.status_code == 404


def test_resolve_remotely_from_the_queue_page(desk, clock, client):
    call = new_call(desk)
    login(client, "agent")
    r = client.post(f"/desk/calls/{call.id}/act", data={
        "action": "resolve_remotely", "resolution_code": "", "reason": "x", "next": "/desk/queue/tier1"})
    assert r.status_code == 303 and r.headers["Location"].endswith("/desk/queue/tier1")
    assert "Choose a resolution code" in client.get("/desk/queue/tier1").get_data(as_text=True)
    db.session.expire_all()
    assert call.status == "open"
    client.post(f"/desk/calls/{call.id}/act", data={
        "action": "resolve_remotely", "resolution_code": "remote_reset", "reason": "rebooted",
        "version": call.version, "next": "//evil.example/"})
    db.session.expire_all()
    assert call.status == "resolved"
    html = client.get(f"/psp/calls/{call.id}").get_data(as_text=True)
    assert "Terminal reset remotely" in html and "QC verified: close the call" in html


def test_notes_from_the_call_page_and_the_bell(desk, clock, client):
    call = new_call(desk)
    login(client, "agent")
    html = client.get(f"/psp/calls/{call.id}").get_data(as_text=True)
    assert 'id="desk"' in html and 'data-tier="tier1"' in html and 'id="note-form"' in html
    client.post(f"/desk/calls/{call.id}/notes", data={"body": "@expert your turn", "kind": "internal"})
    r = client.post(f"/desk/calls/{call.id}/notes", data={"body": "@psp-p2 hello", "kind": "internal"})
    assert r.status_code == 303
    assert "psp-p2 is not a colleague" in client.get(f"/psp/calls/{call.id}").get_data(as_text=True)
    assert len(notes.notes_of(call)) == 1
    client.post("/logout")
    login(client, "expert")
    html = client.get("/desk/queue/tier1").get_data(as_text=True)
    assert 'id="bell-count">1<' in html
    page = client.get("/notifications").get_data(as_text=True)
    assert "agent mentioned you on call" in page and 'data-unread="1"' in page
    client.post("/notifications/read", data={})
    assert 'id="bell-count"' not in client.get("/notifications").get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(m.Notification.id)).where(m.Notification.read_at.is_(None))) == 0


def test_mark_one_notification_read_only_if_it_is_mine(desk, clock, client):
    call = new_call(desk)
    notes.add_note(call, desk.users["agent"], "@expert and @sup1")
    mine = db.session.scalars(db.select(m.Notification).where(m.Notification.user_id == desk.users["sup1"].id)).one()
    login(client, "expert")
    client.post("/notifications/read", data={"id": mine.id})  # sup1's: ignored
    db.session.expire_all()
    assert mine.read_at is None


def test_the_desk_team_page(desk, clock, client):
    login(client, "agent")
    assert client.get("/desk/team").status_code == 403  # not a supervisor
    client.post("/logout")
    login(client, "sup2")
    html = client.get("/desk/team").get_data(as_text=True)
    assert 'data-user="agent"' in html and 'data-user="psp-p2"' not in html and 'data-user="dispatcher-c1"' not in html
    agent = desk.users["agent"]
    client.post("/desk/team", data={"user_id": agent.id, "tier": "tier2", "supervisor": "1"})
    rows = db.session.scalars(db.select(m.DeskMember).where(m.DeskMember.user_id == agent.id)).all()
    assert sorted((r.tier, r.supervisor) for r in rows) == [("tier1", False), ("tier2", True)]
    client.post("/desk/team", data={"user_id": desk.users["psp-p2"].id, "tier": "tier1"})  # other tenant: refused
    assert db.session.scalars(db.select(m.DeskMember).where(m.DeskMember.user_id == desk.users["psp-p2"].id)).all() == []
    client.post("/desk/team", data={"user_id": agent.id, "tier": "tier2", "remove": "1"})
    assert len(db.session.scalars(db.select(m.DeskMember).where(m.DeskMember.user_id == agent.id)).all()) == 1
