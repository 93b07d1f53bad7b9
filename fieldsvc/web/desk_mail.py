"""E-mails of the support desk (issue 21), prepared before the commit and written to the mail
outbox after it (:mod:`fieldsvc.visits.desk.notify`): escalation alerts to the tier's supervisors
and the contractor's dispatchers, and notes written to the merchant."""
from __future__ import annotations

from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldsvc.visits.desk import calls as svc
from fieldsvc.visits.desk.merchant_link import merchant_tracking_url
from fieldsvc.visits.desk_models import CallAlert, CallNote
from fieldsvc.visits.models import ServiceCall, User
from fieldsvc.web.desk_text import alert_text
from fieldsvc.web.mail import Mail


def _language(code: str | None) -> str:
    cfg = current_app.config
    return code if code in cfg["LANGUAGES"] else cfg["BABEL_DEFAULT_LOCALE"]


def _render(template: str, language: str, **values: Any) -> tuple[str, str]:
    values.update(lang_code=language, direction="rtl" if language == "fa" else "ltr")
    return render_template(f"email/{template}.txt", **values), render_template(f"email/{template}.html", **values)


def alert_messages(session: Session, alert: CallAlert) -> list[Mail]:
    """One e-mail per recipient with an address (the contractor's address when none of its
    dispatchers has one)."""
    call = session.get(ServiceCall, alert.call_id)
    if call is None:
        return []
    people = list(session.scalars(select(User).where(User.id.in_(alert.recipients or []))))
    to = [(u.email, u.language, u.name or u.username) for u in people if (u.email or "").strip()]
    if not any(u.role == "dispatcher" and (u.email or "").strip() for u in people) and call.contractor.email:
        to.append((call.contractor.email, None, call.contractor.name))
    base = current_app.config["PUBLIC_BASE_URL"]
    out = []
    for address, lang, name in dict((a, (a, lang, n)) for a, lang, n in to).values():
        language = _language(lang)
        with force_locale(language):
            what = alert_text(alert.kind, alert.level)
            subject = _("[%(number)s] Alert: %(what)s", number=call.tracking_number, what=what)
            text, html = _render("desk_alert", language, call=call, alert=alert, what=what, name=name,
                                 call_url=f"{base.rstrip('/')}/psp/calls/{call.id}",
                                 symptom_label=str(svc.SYMPTOMS.get(call.symptom_code, call.symptom_code)))
        out.append(Mail(address, subject, text, html, f"{call.tracking_number}-alert-{alert.kind}-{alert.level}",
                        language))
    return out


def note_messages(session: Session, note: CallNote) -> list[Mail]:
    """The merchant's e-mail carrying a note written to them."""
    call = session.get(ServiceCall, note.call_id)
    if call is None or not (call.merchant.email or "").strip():
        return []
    cfg = current_app.config
    language = _language(call.merchant.language)
    with force_locale(language):
        subject = _("[%(number)s] A message about your service call", number=call.tracking_number)
        text, html = _render("merchant_note", language, call=call, note=note,
                             tracking_url=merchant_tracking_url(call, cfg["PUBLIC_BASE_URL"], cfg["SECRET_KEY"]))
    return [Mail(call.merchant.email, subject, text, html, f"{call.tracking_number}-note-{note.id}", language)]


def desk_messages(session: Session, event: Any) -> list[Mail]:
    """The messages of one desk event (see fieldsvc.visits.desk.notify.DeskEvent)."""
    if event.table == CallAlert.__tablename__:
        alert = session.get(CallAlert, event.row_id)
        return [] if alert is None else alert_messages(session, alert)
    if event.table == CallNote.__tablename__:
        note = session.get(CallNote, event.row_id)
        return [] if note is None else note_messages(session, note)
    return []
