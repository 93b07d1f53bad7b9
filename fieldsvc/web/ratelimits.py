"""Every rate-limit key, spelled the way the limited look-up spells it (one normaliser).

A limit keyed on the text as typed can be dodged by typing the same identity differently: capitals,
spaces (a trailing `%20`), Persian or Arabic-Indic digits, full-width letters, look-alike letters in a
tracking number. :func:`identity_key` turns each kind of identity into the one spelling its look-up
uses, so every variant counts against the same limit.
"""
from __future__ import annotations

from typing import Callable

from flask import request

from fieldsvc.visits.master.accounts import normalize_username
from fieldsvc.visits.desk.calls import normalize_tracking_number
from fieldsvc.web.security import client_address

#: Kind of identity → the normaliser its look-up uses.
NORMALISERS: dict[str, Callable[[str], str]] = {
    "login": normalize_username,
    "track": normalize_tracking_number,
    "visit": lambda text: str(int(text)),  # ids reach us through the int converter already
}


def identity_key(kind: str, value: object) -> str:
    """`kind:<value in its canonical spelling>`."""
    return f"{kind}:{NORMALISERS[kind](str(value))}"


def username_key() -> str:
    """The username of a login attempt (login form or token request), any address."""
    body = request.get_json(silent=True) if request.is_json else None
    name = request.form.get("username") or (body if isinstance(body, dict) else {}).get("username") or ""
    return identity_key("login", name)


def tracking_number_key() -> str:
    """The tracking number of the URL, any address (guesses for one call counted together)."""
    return identity_key("track", (request.view_args or {}).get("tracking_number", ""))


def address_key() -> str:
    """The client's address (FIELDSVC_PROXY_HOPS decides whose X-Forwarded-For is believed)."""
    return f"address:{client_address()}"


def visit_key() -> str:
    """The visit of the URL (`<int:visit_id>`)."""
    return identity_key("visit", (request.view_args or {}).get("visit_id", ""))
