"""E-mail to ticket: messages of the support mailbox become calls, notes on calls, held requests, or
a reply telling an unknown sender how to reach support.

Nothing is lost and nothing is done twice: :func:`store` keeps the raw message under its
Message-ID (unique key; a message polled twice, or by two schedulers, is stored once) before the
mailbox marks it read; :func:`process_pending` claims each stored message atomically and records
its outcome in the same transaction that opens the call, so a replayed message never makes a second
call. A message whose tracking number (``EM-1405-0A7K3``) is in the subject becomes a note on that
call when its sender may speak for the call's merchant.

Framework-free: replies are returned as :class:`Reply` values for the web layer to render and send.
"""
from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr
from typing import Optional

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from fieldsvc.db import db, utcnow
from fieldsvc.text import normalize_code, normalize_text
from fieldsvc.visits.audit import record
from fieldsvc.visits.channel_models import HeldCall, InboundEmail
from fieldsvc.visits.desk import calls as svc
from fieldsvc.visits.desk.errors import CallError
from fieldsvc.visits.desk.holds import hold
from fieldsvc.visits.master import requesters
from fieldsvc.visits.models import Merchant, Psp, Role, ServiceCall, Terminal, TerminalStatus, User

log = logging.getLogger(__name__)

TRACKING_RE = re.compile(r"EM-\d{4}-[0-9A-Z]{5}", re.IGNORECASE)
WORD_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-]{3,63}")
MAX_ATTEMPTS = 3
#: A message claimed this long ago by a scheduler that then died is taken up again.
STALE_CLAIM = timedelta(minutes=10)
#: Words in a message that name a symptom (Persian and English), checked in this order (not
#: "کارتخوان": merchants call the whole terminal so, not only its card reader).
SYMPTOM_WORDS: list[tuple[str, tuple[str, ...]]] = [
    ("no_power", ("روشن نمی", "خاموش", "power", "does not turn on")),
    ("card_reader", ("کارت نمی", "card reader", "reader")),
    ("printer", ("چاپ", "پرینت", "printer", "print")),
    ("paper_jam", ("کاغذ", "paper")),
    ("no_connection", ("اتصال", "شبکه", "ارتباط", "connect", "network")),
    ("settlement", ("تسویه", "settlement")),
    ("pin_error", ("رمز", "pin")),
    ("sim", ("سیم کارت", "sim")),
    ("battery", ("باتری", "شارژ", "battery", "charger")),
]

#: Words of a breakdown that names no symptom: such a message is a fault whatever else it says
FAULT_WORDS = ("کار نمی", "خراب", "مشکل", "خطا", "ایراد", "not work", "broken", "error", "fault", "problem")
#: Words that ask for something other than a repair (Persian and English), checked in this order
#: when the message names no symptom and no breakdown.
TICKET_TYPE_WORDS: list[tuple[str, tuple[str, ...]]] = [
    ("installation", ("نصب", "دستگاه جدید", "کارتخوان جدید", "install", "new terminal")),
    ("change", ("تغییر", "جابجایی", "جابه‌جایی", "انتقال", "change", "move", "relocat", "replace")),
    ("information", ("سوال", "سؤال", "اطلاعات", "راهنمایی", "question", "information", "how do", "how to")),
]


@dataclass(frozen=True)
class Reply:
    """An answer to send to the sender of a stored message (kind: unknown_sender or held)."""

    to: str
    kind: str
    subject: str
    message_id: str
    language: str = "fa"


def parse(raw: bytes) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(raw)  # type: ignore[return-value]


def message_key(msg: EmailMessage, raw: bytes) -> str:
    """The Message-ID, or a digest of the raw bytes when a message has none."""
    mid = (str(msg.get("Message-ID") or "")).strip()
    return mid[:250] if mid else f"<sha256-{hashlib.sha256(raw).hexdigest()}@fieldsvc>"


def store(raw: bytes, mailbox: str = "") -> Optional[InboundEmail]:
    """Keep a message before processing it; None when it was stored already (by Message-ID). Commits."""
    msg = parse(raw)
    key = message_key(msg, raw)
    if db.session.scalars(select(InboundEmail.id).where(InboundEmail.message_id == key)).first() is not None:
        return None
    row = InboundEmail(message_id=key, mailbox=mailbox[:200], raw=raw, received_at=utcnow(),
                       from_address=parseaddr(str(msg.get("From") or ""))[1][:200].lower(),
                       subject=str(msg.get("Subject") or "")[:400], status="new")
    try:
        with db.session.begin_nested():
            db.session.add(row)
        db.session.commit()
    except IntegrityError:  # another scheduler stored it between the look-up and the insert
        db.session.rollback()
        return None
    return row


def body_text(msg: EmailMessage) -> str:
    """The message's text (plain preferred, HTML reduced to its text), whitespace tidied."""
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        text = part.get_content()
    except (LookupError, ValueError):
        return ""
    if part.get_content_type() == "text/html":
        import lxml.html
        try:
            text = lxml.html.fromstring(text).text_content()
        except Exception:  # noqa: BLE001 — unreadable HTML is kept as it came
            pass
    lines = [ln.rstrip() for ln in str(text).replace("\r", "").split("\n")]
    quoted = next((i for i, ln in enumerate(lines) if ln.startswith(">")), len(lines))
    return "\n".join(lines[:quoted]).strip()[:4000]


def _automatic(msg: EmailMessage, sender: str, own_address: str) -> bool:
    """Bounces, auto-replies, lists and our own mail: never answered (no mail loops)."""
    if (str(msg.get("Auto-Submitted") or "no")).lower() != "no":
        return True
    if (str(msg.get("Precedence") or "")).lower() in ("bulk", "list", "junk", "auto_reply"):
        return True
    if msg.get("List-Id") or msg.get("X-Autoreply") or msg.get("X-Autorespond"):
        return True
    local = sender.split("@")[0]
    return (not sender or sender == own_address.lower()
            or local in ("mailer-daemon", "postmaster", "noreply", "no-reply", "do-not-reply"))


def guess_symptom(text: str) -> str:
    low = normalize_text(text).lower()
    for code, words in SYMPTOM_WORDS:
        if any(w in low for w in words):
            return code
    return "other"


def guess_ticket_type(text: str, symptom: str) -> str:
    """``fault`` when the message names a symptom or a breakdown (:data:`FAULT_WORDS`), else the
    first type whose words it holds (:data:`TICKET_TYPE_WORDS`), else ``fault``; the desk can
    change it."""
    low = normalize_text(text).lower()
    if symptom != "other" or any(w in low for w in FAULT_WORDS):
        return "fault"
    for code, words in TICKET_TYPE_WORDS:
        if any(w in low for w in words):
            return code
    return "fault"


def intake_user(psp_id: int) -> User:
    """The PSP's system account that e-mail calls are opened by (cannot log in); created once."""
    psp = db.session.get(Psp, psp_id)
    username = f"intake-email-{psp.code}"[:80]
    user = db.session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        user = User(username=username, name="E-mail intake", role=Role.PSP, psp_id=psp_id, is_active_user=False)
        user.set_password(secrets.token_urlsafe(32))
        db.session.add(user)
        db.session.flush()
    return user


def _terminal_in(text: str, merchants: list[Merchant]) -> Optional[Terminal]:
    """A terminal of these merchants whose serial is written in the text, or the only terminal of the
    only merchant."""
    ids = [m.id for m in merchants]
    if not ids:
        return None
    words = {normalize_code(w) for w in WORD_RE.findall(normalize_code(text.replace("\n", " ")) + " " + text)}
    if words:
        found = db.session.scalars(select(Terminal).where(Terminal.merchant_id.in_(ids),
                                                          Terminal.serial.in_(words))).first()
        if found is not None:
            return found
    if len(merchants) == 1:
        active = [t for t in merchants[0].terminals if t.status == TerminalStatus.ACTIVE]
        if len(active) == 1:
            return active[0]
    return None


def _note(row: InboundEmail, call: ServiceCall, sender: str, subject: str, text: str) -> None:
    record("email_note", call, object_type=ServiceCall.__tablename__, sender=sender, subject=subject[:200],
           text=text[:2000], inbound_email_id=row.id)
    row.outcome, row.call_id, row.psp_id = "note", call.id, call.psp_id


def process(row: InboundEmail, own_address: str = "") -> Optional[Reply]:
    """Turn one claimed message into a call, a note, a held request or a reply (the row records the
    outcome); commits."""
    msg = parse(row.raw)
    name, sender = parseaddr(str(msg.get("From") or ""))
    sender = sender.strip().lower()
    subject = normalize_text(str(msg.get("Subject") or "")).strip()
    text = body_text(msg)
    row.status, row.processed_at = "done", utcnow()
    if _automatic(msg, sender, own_address):
        row.outcome = "ignored"
        db.session.commit()
        return None
    who = requesters.sender_by_email(sender)
    reply = None
    numbers = [svc.normalize_tracking_number(n) for n in TRACKING_RE.findall(subject)]
    call = next((c for c in (svc.find_by_tracking_number(n) for n in numbers) if c is not None), None)
    if call is not None and call.merchant_id in {m.id for m in who.merchants}:
        _note(row, call, sender, subject, text)
    elif not who.known:
        row.outcome = "unknown_sender"
        reply = Reply(sender, "unknown_sender", subject, row.message_id)
    else:
        reply = _open_or_hold(row, who, sender, name, subject, text)
    db.session.commit()
    return reply


def _open_or_hold(row: InboundEmail, who: requesters.Sender, sender: str, name: str, subject: str,
                  text: str) -> Optional[Reply]:
    terminal = _terminal_in(f"{subject}\n{text}", who.merchants)
    merchant = terminal.merchant if terminal is not None else (who.merchants[0] if len(who.merchants) == 1 else None)
    psp_id = merchant.psp_id if merchant is not None else who.merchants[0].psp_id
    row.psp_id = psp_id
    symptom = guess_symptom(f"{subject}\n{text}")
    ticket_type = guess_ticket_type(f"{subject}\n{text}", symptom)
    description = f"{subject}\n\n{text}".strip()
    caller = (who.requester.name if who.requester else normalize_text(name or ""))[:120]
    allowed = merchant is not None and requesters.may_open(merchant.id, email=sender)
    if terminal is not None and allowed:
        dup = svc.open_duplicate(terminal.id, symptom)
        if dup is not None:
            _note(row, dup, sender, subject, text)
            return None
        row.outcome = "call"
        try:
            call = svc.open_call(intake_user(psp_id), priority="normal", symptom_code=symptom, channel="email",
                                 terminal_id=terminal.id, symptom_text=description, caller_name=caller,
                                 ticket_type=ticket_type)
        except CallError as e:  # e.g. no contract covers the region: the desk decides
            db.session.rollback()
            db.session.add(row)
            row.status, row.processed_at = "done", utcnow()
            return _hold(row, psp_id, e.code, merchant, terminal, symptom, description, caller, sender, ticket_type)
        row.call_id = call.id
        return None
    reason = "not_designated" if merchant is not None and not allowed else "terminal_unknown"
    return _hold(row, psp_id, reason, merchant, terminal, symptom, description, caller, sender, ticket_type)


def _hold(row: InboundEmail, psp_id: int, reason: str, merchant: Optional[Merchant], terminal: Optional[Terminal],
          symptom: str, description: str, caller: str, sender: str, ticket_type: str = "fault") -> Reply:
    row.psp_id = psp_id
    hold(psp_id=psp_id, reason=reason[:40], channel="email", merchant=merchant, terminal=terminal,
         symptom_code=symptom, symptom_text=description, caller_name=caller, caller_email=sender,
         inbound_email_id=row.id, received_at=row.received_at, ticket_type=ticket_type)
    row.outcome = "held"
    return Reply(sender, "held", row.subject, row.message_id, merchant.language if merchant else "fa")


def _claim(row_id: int, now: datetime) -> bool:
    """Take a stored message for processing; False when another scheduler has it."""
    res = db.session.execute(update(InboundEmail).where(
        InboundEmail.id == row_id,
        or_(InboundEmail.status == "new",
            (InboundEmail.status == "processing") & (InboundEmail.claimed_at < now - STALE_CLAIM)))
        .values(status="processing", claimed_at=now, attempts=InboundEmail.attempts + 1)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return res.rowcount == 1


def process_pending(own_address: str = "", now: datetime | None = None, limit: int = 200) -> list[Reply]:
    """Process every stored message not yet done (a failing one is retried up to 3 times, then left
    ``failed`` with its error for the desk); returns the replies to send."""
    now = now or utcnow()
    ids = list(db.session.scalars(select(InboundEmail.id).where(
        or_(InboundEmail.status == "new",
            (InboundEmail.status == "processing") & (InboundEmail.claimed_at < now - STALE_CLAIM)))
        .order_by(InboundEmail.id).limit(limit)))
    replies: list[Reply] = []
    for row_id in ids:
        if not _claim(row_id, now):
            continue
        row = db.session.get(InboundEmail, row_id)
        try:
            reply = process(row, own_address)
        except Exception as e:  # noqa: BLE001 — one bad message must not stop the others
            log.exception("inbound e-mail %s could not be processed", row_id)
            db.session.rollback()
            row = db.session.get(InboundEmail, row_id)
            row.status = "failed" if row.attempts >= MAX_ATTEMPTS else "new"
            row.error = f"{type(e).__name__}: {e}"[:2000]
            db.session.commit()
            continue
        if reply is not None:
            replies.append(reply)
    return replies


def held_for(row: InboundEmail) -> Optional[HeldCall]:
    return db.session.scalars(select(HeldCall).where(HeldCall.inbound_email_id == row.id)).first()
