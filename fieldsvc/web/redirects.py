"""The one check of every redirect target that came from a request (`?next=`, a form's `next`)."""
from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit


def safe_redirect_target(target: str | None) -> str | None:
    """`target` when it is a path on this site, else None (the caller falls back to a page of its own).

    Refused: anything with a scheme or a host (`https://x`, `//x`, `/\\x`), backslashes (browsers
    read them as slashes), and control, space or format characters anywhere — browsers drop tabs and
    new lines inside URLs (`/\\t/evil.example/` becomes `//evil.example/`) and a new line in a
    Location header is an error."""
    if not target or not isinstance(target, str) or len(target) > 2000:
        return None
    if any(unicodedata.category(ch)[0] in "CZ" for ch in target) or "\\" in target:
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
