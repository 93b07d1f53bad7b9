"""E-mail to ticket against a real IMAP server in the test process (pymap): calls, notes, held
requests, replies to unknown senders, and replays that never duplicate anything."""
from __future__ import annotations

from sqlalchemy import func, select

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.channel_models import HeldCall, InboundEmail
from fieldsvc.visits.desk import calls as svc
from fieldsvc.visits.desk import email_intake
from fieldsvc.visits.master import requesters
from fieldsvc.web.intake_mail import poll_support_mailbox
from fieldsvc.web.mail import read_outbox
from tests.channels.conftest import email_bytes


def _calls() -> list[m.ServiceCall]:
    return list(db.session.scalars(select(m.ServiceCall).order_by(m.ServiceCall.id)))


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _replies_to(app, address: str):
    return [msg for msg in read_outbox(app.config["OUTBOX_DIR"]) if msg["To"] == address]


def test_a_merchants_message_becomes_a_call_and_is_marked_read(app, world, imap):
    imap.deliver(email_bytes("Shop owner <shop11@example.com>", "POS printer broken",
                             "چاپگر دستگاه کار نمی‌کند، لطفاً تکنسین بفرستید."))
    assert poll_support_mailbox() == {"fetched": 1, "replies": 0}
    [call] = _calls()
    assert (call.channel, call.terminal.serial, call.symptom_code) == ("email", "SN110", "printer")
    assert "چاپگر" in call.symptom_text and call.caller_name == "Shop owner"
    row = db.session.scalars(select(InboundEmail)).one()
    assert (row.status, row.outcome, row.call_id) == ("done", "call", call.id)
    assert imap.unseen() == 0
    assert any(call.tracking_number in str(msg["Subject"]) for msg in _replies_to(app, "shop11@example.com"))


def test_the_ticket_type_is_read_from_the_message(app, world, imap):
    """A request to install, move or explain is opened as such (its own SLA targets), a breakdown as
    a fault even when it also says one of those words; the desk can change the type either way."""
    from fieldsvc.visits.desk.call_targets import ticket_type_of

    imap.deliver(email_bytes("shop10@example.com", "SN100", "لطفاً یک کارتخوان جدید برای شعبه دوم نصب کنید"))
    imap.deliver(email_bytes("shop10@example.com", "SN101 move", "We are moving the terminal to the other counter"))
    imap.deliver(email_bytes("shop11@example.com", "SN110", "سوال: گزارش تراکنش‌های ماه را از کجا بگیرم؟"))
    imap.deliver(email_bytes("shop12@example.com", "SN120", "دستگاهی که دیروز نصب شد کار نمی‌کند"))
    poll_support_mailbox()
    types = {c.terminal.serial: ticket_type_of(c) for c in _calls()}
    assert types == {"SN100": "installation", "SN101": "change", "SN110": "information", "SN120": "fault"}
    assert email_intake.guess_ticket_type("how do I print a report", email_intake.guess_symptom("how do I print")) \
        == "fault"  # it names a symptom (printing): a fault, not a question


def test_replayed_and_repolled_messages_never_make_a_second_call(app, world, imap):
    raw = email_bytes("shop11@example.com", "Terminal dead", "It does not power on", "<same-1@shop.test>")
    imap.deliver(raw)
    poll_support_mailbox()
    imap.mark_all_unseen()          # the mailbox lost the read flag: polled again
    imap.deliver(raw)               # and the sender's client sent it twice
    assert poll_support_mailbox()["fetched"] == 2  # read again, refused by the Message-ID key
    assert email_intake.store(raw) is None  # a second scheduler storing it too
    assert len(_calls()) == 1 and _count(InboundEmail) == 1
    assert imap.unseen() == 0


def test_a_claimed_message_is_processed_by_one_scheduler_only(app, world):
    row = email_intake.store(email_bytes("shop11@example.com", "printer", "paper"))
    now = db.session.scalar(select(InboundEmail.received_at))
    assert email_intake._claim(row.id, now) is True
    assert email_intake._claim(row.id, now) is False
    assert email_intake.process_pending() == [] and _calls() == []  # still claimed by the first


def test_tracking_number_in_the_subject_adds_a_note_to_that_call(app, world, imap):
    call = svc.open_call(world.users["psp-p1"], priority="urgent", symptom_code="printer", terminal_serial="SN110")
    number = call.tracking_number.lower().replace("0", "o")  # forgiving about case and look-alikes
    imap.deliver(email_bytes("shop11@example.com", f"Re: [{number}] still broken", "Still no printing.\n> quoted"))
    poll_support_mailbox()
    assert len(_calls()) == 1
    note = [e for e in svc.history(call) if e.action == "email_note"]
    assert len(note) == 1 and note[0].data["text"] == "Still no printing."
    assert db.session.scalars(select(InboundEmail)).one().outcome == "note"


def test_a_second_message_about_an_open_fault_is_a_note_not_a_duplicate(app, world, imap):
    imap.deliver(email_bytes("shop11@example.com", "printer broken", "no print"))
    imap.deliver(email_bytes("shop11@example.com", "printer still broken", "please hurry"))
    poll_support_mailbox()
    [call] = _calls()
    assert [e.action for e in svc.history(call)].count("email_note") == 1


def test_unknown_senders_get_a_reply_with_the_support_phone_and_nothing_is_opened(app, world, imap):
    imap.deliver(email_bytes("Stranger <someone@elsewhere.test>", "my POS", "broken"))
    assert poll_support_mailbox()["replies"] == 1
    assert _calls() == [] and _count(HeldCall) == 0
    [reply] = _replies_to(app, "someone@elsewhere.test")
    body = reply.get_body(preferencelist=("plain",)).get_content()
    assert "021-8888 1234" in body and str(reply["Subject"]).endswith("my POS")
    assert db.session.scalars(select(InboundEmail)).one().outcome == "unknown_sender"


def test_auto_replies_and_bounces_are_stored_but_never_answered(app, world, imap):
    imap.deliver(email_bytes("someone@elsewhere.test", "Out of office", "away", Auto_Submitted="auto-replied"))
    imap.deliver(email_bytes("MAILER-DAEMON@elsewhere.test", "Undelivered", "bounce"))
    assert poll_support_mailbox() == {"fetched": 2, "replies": 0}
    assert {r.outcome for r in db.session.scalars(select(InboundEmail))} == {"ignored"}


def test_a_chain_accepts_calls_only_from_its_designated_people(app, world, imap):
    user = world.users["psp-p1"]
    group = requesters.create_group(user, "chain", "Chain A")
    requesters.add_merchant(user, group, "m11")
    requesters.add_requester(user, group, "Boss", phone="0912 111 2233", email="Boss@Chain.test")
    imap.deliver(email_bytes("shop11@example.com", "printer", "broken"))
    poll_support_mailbox()
    assert _calls() == []
    held = db.session.scalars(select(HeldCall)).one()
    assert (held.reason, held.status, held.merchant.code, held.caller_email) == (
        "not_designated", "pending", "m11", "shop11@example.com")
    assert len(_replies_to(app, "shop11@example.com")) == 1  # told that it waits for confirmation
    imap.deliver(email_bytes("boss@chain.test", "SN110 card reader", "card reader does not read"))
    poll_support_mailbox()
    [call] = _calls()
    assert (call.terminal.serial, call.symptom_code, call.caller_name) == ("SN110", "card_reader", "Boss")


def test_a_message_naming_no_clear_terminal_is_held_and_a_serial_picks_it(app, world, imap):
    imap.deliver(email_bytes("shop10@example.com", "POS problem", "one of our two terminals fails"))
    imap.deliver(email_bytes("shop10@example.com", "POS problem", "terminal sn101 fails to connect"))
    poll_support_mailbox()
    held = db.session.scalars(select(HeldCall)).one()
    assert (held.reason, held.terminal_id) == ("terminal_unknown", None)
    [call] = _calls()
    assert (call.terminal.serial, call.symptom_code) == ("SN101", "no_connection")


def test_a_failing_message_is_retried_then_left_failed_for_the_desk(app, world, monkeypatch):
    email_intake.store(email_bytes("shop11@example.com", "printer", "broken"))

    def boom(row, own_address=""):
        raise RuntimeError("database hiccup")
    monkeypatch.setattr(email_intake, "process", boom)
    for _ in range(email_intake.MAX_ATTEMPTS):
        email_intake.process_pending()
    row = db.session.scalars(select(InboundEmail)).one()
    assert (row.status, row.attempts) == ("failed", 3) and "database hiccup" in row.error


def test_a_message_that_cannot_be_stored_stays_unread(app, world, imap, monkeypatch):
    imap.deliver(email_bytes("shop11@example.com", "printer", "broken"))

    def refuse(raw, mailbox=""):
        raise RuntimeError("database down")
    monkeypatch.setattr(email_intake, "store", refuse)
    assert poll_support_mailbox()["fetched"] == 0
    assert imap.unseen() == 1 and _count(InboundEmail) == 0


def test_the_scheduler_polls_the_mailbox_only_when_configured(app):
    from apscheduler.schedulers.background import BackgroundScheduler

    from fieldsvc.jobs import build_scheduler
    app.config["IMAP_HOST"] = ""
    assert "poll_support_mailbox" not in {j.id for j in build_scheduler(app, BackgroundScheduler()).get_jobs()}
    app.config["IMAP_HOST"] = "imap.example.test"
    assert "poll_support_mailbox" in {j.id for j in build_scheduler(app, BackgroundScheduler()).get_jobs()}


def test_a_message_without_message_id_is_keyed_by_its_bytes_and_html_is_read(app, world):
    from email.message import EmailMessage
    msg = EmailMessage()
    msg["From"], msg["Subject"] = "shop11@example.com", "خرابی"
    msg.set_content("<html><body><p>کارتخوان کارت نمی‌خواند</p></body></html>", subtype="html")
    raw = bytes(msg)
    row = email_intake.store(raw)
    assert row.message_id.startswith("<sha256-") and email_intake.store(raw) is None
    email_intake.process_pending()
    [call] = _calls()
    assert call.symptom_code == "card_reader" and "کارتخوان" in call.symptom_text and "<p>" not in call.symptom_text


def test_the_intake_account_cannot_log_in(client, world, imap):
    imap.deliver(email_bytes("shop11@example.com", "printer", "broken"))
    poll_support_mailbox()
    [call] = _calls()
    intake = db.session.get(m.User, call.created_by_id)
    assert intake.username == "intake-email-p1" and intake.is_active_user is False
    r = client.post("/login", data={"username": intake.username, "password": ""})
    assert r.status_code != 302
