"""The call pages: navigation, the call page's actions as forms, Persian rendering."""
from __future__ import annotations

from fieldsvc.db import db
from fieldsvc.visits.desk import calls as svc
from tests.calls.conftest import new_call
from tests.conftest import login


def test_navigation_entries_by_role(client, world):
    login(client, "psp-p1")
    page = client.get("/psp/calls/").data
    assert b'href="/psp/calls/"' in page and b'href="/psp/calls/new"' in page
    client.post("/logout")
    login(client, "dispatcher-c1")
    page = client.get("/psp/calls/").data
    assert b'href="/psp/calls/"' in page and b'href="/psp/calls/new"' not in page
    assert client.get("/psp/calls/new").status_code == 403
    client.post("/logout")
    login(client, "tech-c1-1")
    assert client.get("/psp/calls/").status_code == 403


def test_call_page_actions(client, world, fixed_now):
    call = new_call(world)
    login(client, "psp-p1")
    client.post("/lang/en")
    page = client.get(f"/psp/calls/{call.id}")
    assert page.status_code == 200 and b'value="pause"' in page.data and b'value="cancel"' in page.data
    assert b'id="slot-options"' not in page.data  # slotting is the dispatcher's job
    r = client.post(f"/psp/calls/{call.id}/action", data={"action": "pause", "reason": "shop closed",
                                                          "version": call.version})
    assert r.status_code == 303
    db.session.expire_all()
    assert svc.is_paused(call)
    page = client.get(f"/psp/calls/{call.id}").data
    assert b'value="resume"' in page and b"shop closed" in page
    # a stale form is not applied
    r = client.post(f"/psp/calls/{call.id}/action", data={"action": "resume", "version": 0})
    db.session.expire_all()
    assert r.status_code == 303 and svc.is_paused(call)
    # an illegal transition is explained, not applied
    r = client.post(f"/psp/calls/{call.id}/action", data={"action": "close", "version": call.version},
                    follow_redirects=True)
    assert r.status_code == 200 and b"Not possible now" in r.data
    db.session.expire_all()
    assert call.status == "open"


def test_pages_in_persian(client, world, fixed_now):
    call = new_call(world)
    login(client, "psp-p1")
    client.post("/lang/fa")
    page = client.get(f"/psp/calls/{call.id}").data.decode()
    assert 'dir="rtl"' in page and "۱۴۰۵" in page
    track = client.get(f"/track/{call.tracking_number}").data.decode()
    assert 'dir="rtl"' in track
