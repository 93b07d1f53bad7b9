"""SMS on every status change of a service call, to the merchant (when it chose SMS or both):
the status and the merchant's own tracking link in the merchant's language, within two SMS parts
(:func:`fieldsvc.visits.desk.sms.fit`). Sent after the commit through the configured gateway; a
failing gateway is logged and never blocks the call's change."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import current_app, has_app_context
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from fieldsvc.visits.desk import calls as svc
from fieldsvc.visits.desk import sms
from fieldsvc.visits.desk.merchant_link import merchant_tracking_url
from fieldsvc.visits.desk.notify import CallChange
from fieldsvc.visits.models import ServiceCall

log = logging.getLogger(__name__)
MAX_PARTS = 2


@dataclass(frozen=True)
class Sms:
    to: str
    text: str
    tag: str


def status_text(call: Any, new: str, base_url: str, secret: str, language: str) -> str:
    """The status SMS of ``call`` in ``language``, never more than two parts."""
    with force_locale(language):
        status = str(svc.STATUS_LABELS.get(new, new))
        head = f"{call.tracking_number}: {status}"
        required = f"{head}\n{merchant_tracking_url(call, base_url, secret)}"
        if sms.sms_size(required).parts > MAX_PARTS:  # a very long base URL: the plain link
            required = f"{head}\n{svc.tracking_url(call, base_url)}"
        optional = [_("Terminal %(serial)s", serial=call.terminal.serial)]
        if call.technician is not None and new in ("assigned", "scheduled", "in_progress"):
            optional.append(_("Technician: %(name)s", name=call.technician.name.split(" ")[0]))
    return sms.fit(required, "\n".join(optional), MAX_PARTS)


class CallSms:
    """The SMS notifier of :mod:`fieldsvc.visits.desk.notify` (merchants that chose SMS or both)."""

    def prepare(self, session: Session, change: CallChange) -> list[Sms]:
        if not has_app_context():
            return []
        call = session.get(ServiceCall, change.call_id)
        if call is None or not sms.wants_sms(call.merchant):
            return []
        number = sms.sms_number(call.merchant)
        if not number:
            return []
        cfg = current_app.config
        language = call.merchant.language if call.merchant.language in cfg["LANGUAGES"] else cfg["BABEL_DEFAULT_LOCALE"]
        text = status_text(call, change.new, cfg["PUBLIC_BASE_URL"], cfg["SECRET_KEY"], language)
        return [Sms(number, text, f"{call.tracking_number}-{change.new}")]

    def deliver(self, messages: list[Sms]) -> None:
        if not messages or not has_app_context():
            return
        gateway = sms.gateway_from(current_app.config)
        for m in messages:
            try:
                gateway.send(m.to, m.text, m.tag)
            except sms.SmsError:
                log.exception("SMS %s to %s not sent", m.tag, m.to)


class Notifiers:
    """Several notifiers as one: each prepares its own messages and delivers only those."""

    def __init__(self, *notifiers: Any) -> None:
        self.notifiers = notifiers

    def prepare(self, session: Session, change: CallChange) -> list[tuple[int, Any]]:
        out: list[tuple[int, Any]] = []
        for i, n in enumerate(self.notifiers):
            try:
                out += [(i, m) for m in n.prepare(session, change)]
            except Exception:
                log.exception("notifier %s could not prepare call %s", type(n).__name__, change.call_id)
        return out

    def prepare_desk(self, session: Session, event: Any) -> list[tuple[int, Any]]:
        """The support desk's messages (alerts, notes to the merchant) of the notifiers that send them."""
        out: list[tuple[int, Any]] = []
        for i, n in enumerate(self.notifiers):
            prepare = getattr(n, "prepare_desk", None)
            if prepare is None:
                continue
            try:
                out += [(i, m) for m in prepare(session, event)]
            except Exception:
                log.exception("notifier %s could not prepare the desk event %s", type(n).__name__, event)
        return out

    def deliver(self, messages: list[tuple[int, Any]]) -> None:
        for i, n in enumerate(self.notifiers):
            mine = [m for j, m in messages if j == i]
            if mine:
                try:
                    n.deliver(mine)
                except Exception:
                    log.exception("notifier %s could not deliver %d message(s)", type(n).__name__, len(mine))
