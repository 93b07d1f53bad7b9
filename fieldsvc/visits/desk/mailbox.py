"""The support mailbox over IMAP (standard library ``imaplib``): unread messages are stored
(:func:`fieldsvc.visits.desk.email_intake.store`) and only then marked read, so a crash between the
two re-reads a message that the Message-ID key then refuses to store twice."""
from __future__ import annotations

import imaplib
import logging
from dataclasses import dataclass
from typing import Callable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImapSettings:
    """Where the support mailbox is (from the configuration: ``IMAP_*``)."""

    host: str
    port: int = 993
    user: str = ""
    password: str = ""
    ssl: bool = True
    folder: str = "INBOX"
    timeout: float = 30.0


def _connect(s: ImapSettings) -> imaplib.IMAP4:
    if s.ssl:
        return imaplib.IMAP4_SSL(s.host, s.port, timeout=s.timeout)
    return imaplib.IMAP4(s.host, s.port, timeout=s.timeout)


def fetch_unread(settings: ImapSettings, keep: Callable[[bytes], object], limit: int = 200) -> int:
    """Hand every unread message (at most ``limit``) to ``keep`` and then mark it read; returns how
    many were handed over. A message ``keep`` raises on stays unread for the next poll."""
    conn = _connect(settings)
    handed = 0
    try:
        conn.login(settings.user, settings.password)
        typ, _ = conn.select(settings.folder)
        if typ != "OK":
            raise RuntimeError(f"IMAP folder {settings.folder!r} cannot be opened")
        typ, data = conn.uid("SEARCH", None, "UNSEEN")  # type: ignore[arg-type]
        uids = (data[0] or b"").split()[:limit] if typ == "OK" else []
        for uid in uids:
            typ, parts = conn.uid("FETCH", uid.decode(), "(BODY.PEEK[])")
            raw = next((p[1] for p in parts if isinstance(p, tuple) and len(p) == 2), None)
            if typ != "OK" or raw is None:
                log.warning("IMAP message %s could not be fetched", uid)
                continue
            try:
                keep(raw)
            except Exception:
                log.exception("IMAP message %s not stored; it stays unread", uid)
                continue
            conn.uid("STORE", uid.decode(), "+FLAGS", "(\\Seen)")
            handed += 1
    finally:
        try:
            conn.logout()
        except (imaplib.IMAP4.error, OSError):
            pass
    return handed
