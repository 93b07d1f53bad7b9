"""The support mailbox job: poll IMAP, store, process, and answer unknown senders and held requests
through the mail outbox (:func:`fieldsvc.web.mail.deliver`). Scheduled every minute by
``fieldsvc scheduler`` when ``IMAP_HOST`` is set; ``fieldsvc channels poll-mail`` runs it once."""
from __future__ import annotations

import logging
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from fieldsvc.visits.desk import email_intake
from fieldsvc.visits.desk.mailbox import ImapSettings, fetch_unread
from fieldsvc.web.mail import Mail, deliver

log = logging.getLogger(__name__)


def imap_settings(cfg: Any) -> ImapSettings | None:
    """The mailbox of the configuration, or None when ``IMAP_HOST`` is not set."""
    if not cfg.get("IMAP_HOST"):
        return None
    return ImapSettings(host=cfg["IMAP_HOST"], port=int(cfg.get("IMAP_PORT", 993)), user=cfg.get("IMAP_USER", ""),
                        password=cfg.get("IMAP_PASSWORD", ""), ssl=bool(cfg.get("IMAP_SSL", True)),
                        folder=cfg.get("IMAP_FOLDER", "INBOX"))


def reply_mail(reply: email_intake.Reply) -> Mail:
    """The rendered answer to a sender (unknown sender: how to reach support; held: waiting)."""
    cfg = current_app.config
    language = reply.language if reply.language in cfg["LANGUAGES"] else cfg["BABEL_DEFAULT_LOCALE"]
    with force_locale(language):
        subject = (_("Re: %(subject)s", subject=reply.subject) if reply.subject
                   else _("Your message to support"))
        values = dict(reply=reply, support_phone=cfg.get("SUPPORT_PHONE", ""), base_url=cfg["PUBLIC_BASE_URL"],
                      lang_code=language, direction="rtl" if language == "fa" else "ltr")
        text = render_template("email/intake_reply.txt", **values)
        html = render_template("email/intake_reply.html", **values)
    return Mail(reply.to, subject[:200], text, html, f"reply-{reply.kind}", language)


def poll_support_mailbox() -> dict[str, int]:
    """Store the mailbox's unread messages, process every stored one, send the replies."""
    cfg = current_app.config
    settings = imap_settings(cfg)
    fetched = 0
    if settings is not None:
        fetched = fetch_unread(settings, lambda raw: email_intake.store(raw, settings.user or settings.host))
    replies = email_intake.process_pending(cfg.get("MAIL_FROM", ""))
    if replies:
        try:
            deliver([reply_mail(r) for r in replies])
        except Exception:  # the message is processed and kept; only the courtesy reply failed
            log.exception("could not send %d intake replies", len(replies))
    out = {"fetched": fetched, "replies": len(replies)}
    log.info("support mailbox: %s", out)
    return out
