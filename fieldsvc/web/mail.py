"""E-mail on every status change of a service call, to the merchant and to the contractor.

:class:`CallMailer` is the web application's :class:`fieldsvc.visits.desk.notify.Notifier`: each
message is rendered in the recipient's language from ``templates/email/``, with the public tracking
link and, after closing, the survey link; it is sent through SMTP when ``SMTP_HOST`` is set, else
written as a readable ``.eml`` file into ``OUTBOX_DIR``.
"""
from __future__ import annotations

import secrets
import smtplib
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from flask import current_app, has_app_context, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldsvc.db import utcnow
from fieldsvc.visits.desk import calls as svc
from fieldsvc.visits.desk import sms
from fieldsvc.visits.desk.merchant_link import merchant_tracking_url
from fieldsvc.visits.desk.notify import CallChange
from fieldsvc.visits.models import ServiceCall, Visit


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


def messages_for(session: Session, call: Any, old: str | None, new: str) -> list[Mail]:
    """The messages announcing that ``call`` went from ``old`` to ``new`` (needs an app context)."""
    cfg = current_app.config
    base = cfg["PUBLIC_BASE_URL"]
    eta_visit = None
    if new in ("scheduled", "assigned", "in_progress"):
        eta_visit = session.scalars(select(Visit).where(
            Visit.service_call_id == call.id, Visit.kind == "em",
            Visit.status.in_(["planned", "dispatched", "checked_in"])).order_by(Visit.id.desc())).first()
    ctx = dict(call=call, old=old, new=new, tracking_url=svc.tracking_url(call, base),
               survey_url=svc.survey_url(call, base) if new == "closed" else None,
               technician=first_name(call.technician.name) if call.technician else None,
               eta=eta_visit.eta if eta_visit is not None else None, tz=cfg["TIMEZONE"])
    out: list[Mail] = []
    recipients = []
    if call.merchant.email and sms.wants_email(call.merchant):
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
    stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
    for mail, msg in msgs:
        (outbox / f"{stamp}-{mail.tag}-{secrets.token_hex(3)}.eml").write_bytes(bytes(msg))


def read_outbox(outbox_dir: str | Path) -> list[EmailMessage]:
    """The messages in a file outbox, oldest first (for tests and the demo)."""
    parser = BytesParser(policy=policy.default)
    return [parser.parsebytes(p.read_bytes()) for p in sorted(Path(outbox_dir).glob("*.eml"))]


class CallMailer:
    """The notifier of :mod:`fieldsvc.visits.desk.notify`: rendered e-mails in the app's settings.

    Outside an application context (a script using the models alone) it prepares nothing."""

    def prepare(self, session: Session, change: CallChange) -> list[Mail]:
        if not has_app_context():
            return []
        call = session.get(ServiceCall, change.call_id)
        return [] if call is None else messages_for(session, call, change.old, change.new)

    def prepare_desk(self, session: Session, event: Any) -> list[Mail]:
        """E-mails of the support desk: escalation alerts and notes to the merchant."""
        if not has_app_context():
            return []
        from fieldsvc.web.desk_mail import desk_messages
        return desk_messages(session, event)

    def deliver(self, messages: list[Mail]) -> None:
        if has_app_context():
            deliver(messages)
