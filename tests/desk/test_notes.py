"""Staff notes with @mentions: notifications, never on the tracking page, refused mentions."""
from __future__ import annotations

import pytest

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.desk import notes
from fieldsvc.visits.desk.errors import CallError
from fieldsvc.web.mail import read_outbox
from tests.conftest import login
from tests.desk.conftest import new_call


def _notifications(user):
    return db.session.scalars(db.select(m.Notification).where(m.Notification.user_id == user.id)).all()


def test_a_mention_notifies_the_colleague(desk, clock):
    call = new_call(desk)
    note = notes.add_note(call, desk.users["agent"], "@expert can you look at the keys? cc @sup1.", "internal")
    assert note.mentions == [desk.users["expert"].id, desk.users["sup1"].id]
    [n] = _notifications(desk.users["expert"])
    assert n.kind == "mention" and n.call_id == call.id and n.data["by"] == "agent"
    assert len(_notifications(desk.users["sup1"])) == 1
    assert notes.mentioned_usernames("mail agent@example.com and @sup2") == ["sup2"]


@pytest.mark.parametrize("who", ["psp-p2", "tech-c1-1", "nobody"])
def test_a_mention_of_someone_who_cannot_see_the_call_refuses_the_note(desk, clock, who):
    call = new_call(desk)
    with pytest.raises(CallError) as e:
        notes.add_note(call, desk.users["agent"], f"@{who} please help")
    assert e.value.field == "body" and who in e.value.message
    assert notes.notes_of(call) == []
    assert db.session.scalar(db.select(db.func.count(m.Notification.id))) == 0


def test_the_contractor_s_dispatcher_may_be_mentioned(desk, clock):
    call = new_call(desk)
    notes.add_note(call, desk.users["agent"], "@dispatcher-c1 a technician may be needed tomorrow")
    assert len(_notifications(desk.users["dispatcher-c1"])) == 1


def test_a_note_to_the_merchant_is_e_mailed(desk, clock, app):
    call = new_call(desk)
    notes.add_note(call, desk.users["agent"], "Please restart the terminal and call us back.", "merchant")
    mails = [msg for msg in read_outbox(app.config["OUTBOX_DIR"]) if msg["To"] == call.merchant.email]
    assert any("Please restart the terminal" in msg.get_body(("plain",)).get_content() for msg in mails)


def test_staff_notes_never_reach_the_tracking_page(desk, clock, client):
    call = new_call(desk)
    notes.add_note(call, desk.users["agent"], "SECRET-INTERNAL merchant was rude", "internal")
    notes.add_note(call, desk.users["agent"], "SECRET-STEP pushed keys", "remote_step")
    public = client.get(f"/track/{call.tracking_number}").get_data(as_text=True)
    digits = call.merchant.phone[-4:]
    verified = client.post(f"/track/{call.tracking_number}", data={"digits": digits},
                           follow_redirects=True).get_data(as_text=True)
    for page in (public, verified):
        assert "SECRET-INTERNAL" not in page and "SECRET-STEP" not in page
    login(client, "psp-p1")
    staff = client.get(f"/psp/calls/{call.id}").get_data(as_text=True)
    assert "SECRET-INTERNAL" in staff and "SECRET-STEP" in staff


def test_technicians_write_no_notes(desk, clock):
    call = new_call(desk)
    from fieldsvc.visits.scope import Forbidden
    with pytest.raises(Forbidden):
        notes.add_note(call, desk.users["tech-c1-1"], "hello")
