"""E-mail on every status change of a service call, to the merchant and to the contractor.

Any code that changes a call's status through :func:`fieldsvc.visits.audit.transition_call` (or
creates a call) writes an AuditEvent; session hooks here collect those events, render the messages
just before the transaction commits (each in the recipient's language, with the public tracking
link and, after closing, the survey link) and send them only once the commit succeeded: through
SMTP when ``SMTP_HOST`` is set, else as readable ``.eml`` files in ``OUTBOX_DIR``.
"""
from __future__ import annotations

import logging
import secrets
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from flask import current_app, has_app_context, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import event, select
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

_PENDING = "fieldsvc_call_events"
_READY = "fieldsvc_call_mail"


@dataclass(frozen=True)
class Mail:
    """One rendered message."""

    to: str
    subject: str
    text: str
    html: str
    tag: str
    language: str = "fa"


def first_name(full_name: str) -> str:
    return (full_name or "").strip().split(" ")[0]


def messages_for(call: Any, old: str | None, new: str) -> list[Mail]:
    """The messages announcing that ``call`` went from ``old`` to ``new`` (needs an app context)."""
    from fieldsvc.visits import calls as svc
    from fieldsvc.visits.merchant_link import merchant_tracking_url
    from fieldsvc.visits.models import Visit

    cfg = current_app.config
    base = cfg["PUBLIC_BASE_URL"]
    eta_visit = None
    if new in ("scheduled", "assigned", "in_progress"):
        eta_visit = current_session().scalars(select(Visit).where(
            Visit.service_call_id == call.id, Visit.kind == "em",
            Visit.status.in_(["planned", "dispatched", "checked_in"])).order_by(Visit.id.desc())).first()
    ctx = dict(call=call, old=old, new=new, tracking_url=svc.tracking_url(call, base),
               survey_url=svc.survey_url(call, base) if new == "closed" else None,
               technician=first_name(call.technician.name) if call.technician else None,
               eta=eta_visit.eta if eta_visit is not None else None, tz=cfg["TIMEZONE"])
    out: list[Mail] = []
    recipients = []
    if call.merchant.email:
        recipients.append(("merchant", call.merchant.email, call.merchant.language or cfg["BABEL_DEFAULT_LOCALE"]))
    if call.contractor.email:
        recipients.append(("contractor", call.contractor.email, cfg["BABEL_DEFAULT_LOCALE"]))
    for kind, address, language in recipients:
        if language not in cfg["LANGUAGES"]:
            language = cfg["BABEL_DEFAULT_LOCALE"]
        with force_locale(language):
            status = str(svc.STATUS_LABELS.get(new, new))
            subject = _("[%(number)s] Service call: %(status)s", number=call.tracking_number, status=status)
            values = dict(ctx, audience=kind, status_label=status,
                          tracking_url=merchant_tracking_url(call, base, cfg["SECRET_KEY"]) if kind == "merchant"
                          else ctx["tracking_url"],
                          symptom_label=str(svc.SYMPTOMS.get(call.symptom_code, call.symptom_code)),
                          lang_code=language, direction="rtl" if language == "fa" else "ltr")
            text = render_template("email/call_status.txt", **values)
            html = render_template("email/call_status.html", **values)
        out.append(Mail(address, subject, text, html, f"{call.tracking_number}-{new}-{kind}", language))
    return out


def current_session() -> Session:
    from fieldsvc.db import db
    return db.session


def deliver(mails: list[Mail]) -> None:
    """Send through SMTP (``SMTP_HOST``) or write ``.eml`` files into ``OUTBOX_DIR``."""
    if not mails:
        return
    cfg = current_app.config
    msgs = []
    for mail in mails:
        msg = EmailMessage()
        msg["From"] = cfg["MAIL_FROM"]
        msg["To"] = mail.to
        msg["Subject"] = mail.subject
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = make_msgid(domain="fieldsvc")
        msg.set_content(mail.text)
        msg.add_alternative(mail.html, subtype="html")
        msg["Content-Language"] = mail.language  # after set_content, which drops Content-* headers
        msgs.append((mail, msg))
    if cfg.get("SMTP_HOST"):
        with smtplib.SMTP(cfg["SMTP_HOST"], cfg.get("SMTP_PORT", 25), timeout=20) as smtp:
            if cfg.get("SMTP_USER"):
                smtp.starttls()
                smtp.login(cfg["SMTP_USER"], cfg.get("SMTP_PASSWORD", ""))
            for _mail, msg in msgs:
                smtp.send_message(msg)
        return
    outbox = Path(cfg["OUTBOX_DIR"])
    outbox.mkdir(parents=True, exist_ok=True)
    from fieldsvc.db import utcnow
    stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
    for mail, msg in msgs:
        (outbox / f"{stamp}-{mail.tag}-{secrets.token_hex(3)}.eml").write_bytes(bytes(msg))


def read_outbox(outbox_dir: str | Path) -> list[EmailMessage]:
    """The messages in a file outbox, oldest first (for tests and the demo)."""
    from email import policy
    from email.parser import BytesParser

    parser = BytesParser(policy=policy.default)
    return [parser.parsebytes(p.read_bytes()) for p in sorted(Path(outbox_dir).glob("*.eml"))]


# --------------------------------------------------------------------------- session hooks


@event.listens_for(Session, "after_flush")
def _collect(session: Session, flush_context: Any) -> None:
    from fieldsvc.visits.models import AuditEvent

    for obj in session.new:
        if isinstance(obj, AuditEvent) and obj.object_type == "service_call" and (
                obj.action == "status" or (obj.action == "created" and obj.to_state)):
            session.info.setdefault(_PENDING, []).append((obj.object_id, obj.from_state, obj.to_state))


@event.listens_for(Session, "before_commit")
def _render(session: Session) -> None:
    if session.in_nested_transaction() or not has_app_context():
        return
    session.flush()
    events = session.info.pop(_PENDING, [])
    if not events:
        return
    from fieldsvc.visits.models import ServiceCall

    ready = session.info.setdefault(_READY, [])
    with session.no_autoflush:
        for call_id, old, new in events:
            call = session.get(ServiceCall, call_id)
            if call is None:
                continue
            try:
                ready.extend(messages_for(call, old, new))
            except Exception:  # noqa: BLE001 - a broken template must never block the business change
                log.exception("could not render the e-mail for call %s", call_id)


@event.listens_for(Session, "after_commit")
def _send(session: Session) -> None:
    mails = session.info.pop(_READY, [])
    if not mails or not has_app_context():
        return
    try:
        deliver(mails)
    except Exception:  # noqa: BLE001 - the change is committed; a mail failure is logged, not raised
        log.exception("could not send %d call e-mail(s)", len(mails))


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
        session.info.pop(_READY, None)
