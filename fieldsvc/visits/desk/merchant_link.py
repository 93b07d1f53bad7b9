"""The merchant's own tracking link: the public tracking URL plus a key only the merchant receives
(in the e-mails to the shop, never in the contractor's). Opening it proves the merchant, and only then
does the tracking page show the confirmation code that the technician needs at check-out — the
technician knows the shop's phone and the tracking number, so those cannot be the proof."""
from __future__ import annotations

import hashlib
import hmac
from typing import Any


def merchant_key(call: Any, secret: str) -> str:
    """A 128-bit key for this call, derived from the application's secret (nothing stored)."""
    message = f"merchant-link:{call.id}:{call.tracking_number}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def is_merchant_key(call: Any, secret: str, key: str | None) -> bool:
    return bool(key) and hmac.compare_digest(merchant_key(call, secret), str(key))


def merchant_tracking_url(call: Any, base_url: str, secret: str) -> str:
    from fieldsvc.visits.desk.calls import tracking_url
    return f"{tracking_url(call, base_url)}?key={merchant_key(call, secret)}"
