"""SMS to merchants: part counting, the gateway interface (a file outbox by default, or a
Kavenegar-style HTTP gateway), and each merchant's choice of SMS, e-mail or both.

Part counting follows GSM 03.38 / 03.40: text that fits the GSM 7-bit alphabet takes 160 characters
in one message and 153 per part when split (extension characters such as ``€ [ ] { }`` count twice);
anything else — Persian — is sent as UCS-2: 70 UTF-16 units in one message, 67 per part when split.
"""
from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from fieldsvc.db import db, utcnow
from fieldsvc.text import normalize_phone
from fieldsvc.visits.audit import record
from fieldsvc.visits.channel_models import MerchantContactPref, NotifyBy
from fieldsvc.visits.i18n_text import gettext as _
from fieldsvc.visits.master.requesters import RequesterError
from fieldsvc.visits.models import Merchant, Role, User
from fieldsvc.visits.scope import require_role

log = logging.getLogger(__name__)

GSM7_BASIC = ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
              "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM7_EXTENSION = "^{}\\[~]|€\f"
_BASIC, _EXT = frozenset(GSM7_BASIC), frozenset(GSM7_EXTENSION)


@dataclass(frozen=True)
class SmsSize:
    encoding: str  # "gsm7" or "ucs2"
    units: int     # septets (GSM) or UTF-16 code units (UCS-2)
    parts: int


def sms_size(text: str) -> SmsSize:
    """Encoding, length in its units and number of SMS parts of ``text``."""
    if all(ch in _BASIC or ch in _EXT for ch in text):
        units = sum(2 if ch in _EXT else 1 for ch in text)
        single, per_part, enc = 160, 153, "gsm7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, per_part, enc = 70, 67, "ucs2"
    parts = 1 if units <= single else -(-units // per_part)
    return SmsSize(enc, units, max(parts, 1))


def fit(required: str, optional: str = "", max_parts: int = 2) -> str:
    """``required`` plus as much of ``optional`` (whole lines first) as stays within ``max_parts``."""
    text = required
    for line in [ln for ln in optional.split("\n") if ln.strip()]:
        candidate = f"{text}\n{line}"
        if sms_size(candidate).parts > max_parts:
            break
        text = candidate
    return text


class SmsError(RuntimeError):
    """The gateway refused or could not be reached."""


class SmsGateway(Protocol):
    def send(self, to: str, text: str, tag: str = "") -> str:
        """Send one SMS (possibly several parts); returns the gateway's message id."""
        ...


class FileSmsOutbox:
    """Writes each SMS as a JSON file into a folder (the default, and the demo's): readable, nothing sent."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def send(self, to: str, text: str, tag: str = "") -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        size = sms_size(text)
        ident = f"{utcnow().strftime('%Y%m%dT%H%M%S%f')}-{tag or 'sms'}-{secrets.token_hex(3)}"
        (self.folder / f"{ident}.json").write_text(json.dumps(
            {"to": to, "text": text, "encoding": size.encoding, "parts": size.parts}, ensure_ascii=False))
        return ident


def read_sms_outbox(folder: str | Path) -> list[dict]:
    """The SMS in a file outbox, oldest first."""
    return [json.loads(p.read_text()) for p in sorted(Path(folder).glob("*.json"))]


class KavenegarGateway:
    """An HTTP gateway shaped like Kavenegar's ``{base}/{api_key}/sms/send.json`` (form fields
    ``receptor``, ``message``, ``sender``; JSON answer with ``return.status`` 200 and ``entries``)."""

    def __init__(self, base_url: str, api_key: str, sender: str = "", timeout: float = 15.0) -> None:
        if not api_key:
            raise ValueError("SMS_API_KEY is required for the HTTP SMS gateway")
        self.base_url, self.api_key, self.sender, self.timeout = base_url.rstrip("/"), api_key, sender, timeout

    def send(self, to: str, text: str, tag: str = "") -> str:
        import requests

        data = {"receptor": to, "message": text}
        if self.sender:
            data["sender"] = self.sender
        try:
            resp = requests.post(f"{self.base_url}/{self.api_key}/sms/send.json", data=data, timeout=self.timeout)
            body = resp.json()
        except (requests.RequestException, ValueError) as e:
            raise SmsError(f"SMS gateway unreachable or unreadable: {e}") from e
        status = (body.get("return") or {}).get("status") if isinstance(body, dict) else None
        if resp.status_code != 200 or status != 200:
            message = (body.get("return") or {}).get("message") if isinstance(body, dict) else ""
            raise SmsError(f"SMS gateway refused the message: HTTP {resp.status_code}, status {status}, {message}")
        entries = body.get("entries") or [{}]
        return str(entries[0].get("messageid", ""))


def sms_outbox_dir(cfg: dict) -> Path:
    """``SMS_OUTBOX_DIR``, else the ``sms`` folder of the e-mail outbox."""
    return Path(cfg.get("SMS_OUTBOX_DIR") or Path(cfg["OUTBOX_DIR"]) / "sms")


def gateway_from(cfg: dict) -> SmsGateway:
    """The gateway named by ``SMS_GATEWAY`` ("file" or "kavenegar")."""
    kind = (cfg.get("SMS_GATEWAY") or "file").lower()
    if kind == "file":
        return FileSmsOutbox(sms_outbox_dir(cfg))
    if kind == "kavenegar":
        return KavenegarGateway(cfg["SMS_URL"], cfg.get("SMS_API_KEY", ""), cfg.get("SMS_SENDER", ""))
    raise ValueError(f"SMS_GATEWAY must be file or kavenegar, got {kind!r}")


# --------------------------------------------------------------------------- per-merchant choice


def preference(merchant: Merchant) -> MerchantContactPref:
    """The merchant's stored choice, or the default (both) when none was made."""
    pref = db.session.get(MerchantContactPref, merchant.id)
    return pref or MerchantContactPref(merchant_id=merchant.id, notify_by=NotifyBy.BOTH.value, mobile="")


def set_preference(user: User, merchant: Merchant, notify_by: str, mobile: str = "") -> MerchantContactPref:
    """Choose SMS, e-mail or both for a merchant (a mobile number when the shop phone is not one); commits."""
    require_role(user, Role.PSP, Role.ADMIN)
    if notify_by not in {n.value for n in NotifyBy}:
        raise RequesterError(422, "notify_by", _("Choose SMS, e-mail or both."), "notify_by")
    number = ""
    if (mobile or "").strip():
        try:
            number = normalize_phone(mobile, mobile_only=True)
        except ValueError:
            raise RequesterError(422, "mobile", _("Type a mobile number, e.g. 09121234567."), "mobile") from None
    pref = db.session.get(MerchantContactPref, merchant.id) or MerchantContactPref(merchant_id=merchant.id)
    pref.notify_by, pref.mobile = notify_by, number
    if notify_by != NotifyBy.EMAIL and not sms_number(merchant, pref):
        raise RequesterError(422, "mobile", _("The shop phone is not a mobile: give a mobile number for SMS."),
                             "mobile")
    if notify_by != NotifyBy.SMS and not merchant.email:
        raise RequesterError(422, "notify_by", _("The merchant has no e-mail address: choose SMS."), "notify_by")
    db.session.add(pref)
    record("notify_by", merchant, actor=user, notify_by=notify_by, mobile=number)
    db.session.commit()
    return pref


def sms_number(merchant: Merchant, pref: MerchantContactPref | None = None) -> str:
    """The mobile SMS go to: the chosen one, else the shop phone when it is a mobile, else ""."""
    pref = pref or preference(merchant)
    if pref.mobile:
        return pref.mobile
    try:
        return normalize_phone(merchant.phone or "", mobile_only=True)
    except ValueError:
        return ""


def wants_sms(merchant: Merchant) -> bool:
    return preference(merchant).notify_by in (NotifyBy.SMS, NotifyBy.BOTH)


def wants_email(merchant: Merchant) -> bool:
    return preference(merchant).notify_by in (NotifyBy.EMAIL, NotifyBy.BOTH)
