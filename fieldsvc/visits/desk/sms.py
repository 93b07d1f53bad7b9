"""Text messages to merchants behind one small interface, so a real gateway can replace the outbox.

:class:`SmsGateway` is all a sender needs (``send(to, text, tag)``); :class:`FileSmsOutbox` is the
gateway used until one is configured: each message becomes a JSON file in a folder (like the
e-mail outbox of :mod:`fieldsvc.web.mail`), which an operator or a later gateway job can pick up.
"""
from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Protocol

from fieldsvc.db import utcnow

__all__ = ["SmsGateway", "FileSmsOutbox", "read_sms_outbox", "MAX_SMS_CHARS"]

#: A long message is split by the operator into parts; more than this is refused by gateways.
MAX_SMS_CHARS = 1000


class SmsGateway(Protocol):
    """Sends one text message to a mobile number (``09xxxxxxxxx``)."""

    def send(self, to: str, text: str, tag: str) -> None: ...


class FileSmsOutbox:
    """Writes each message as ``<time>-<tag>-<random>.json`` (to, text, tag, at) into ``directory``."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def send(self, to: str, text: str, tag: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        now = utcnow()
        name = f"{now.strftime('%Y%m%dT%H%M%S%f')}-{tag}-{secrets.token_hex(3)}.json"
        body = {"to": to, "text": text[:MAX_SMS_CHARS], "tag": tag, "at": now.isoformat()}
        tmp = self.directory / f".{name}.tmp"
        tmp.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
        tmp.replace(self.directory / name)


def read_sms_outbox(directory: str | Path) -> list[dict]:
    """The messages in a file outbox, oldest first."""
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(Path(directory).glob("*.json"))]
