"""Translated messages that also work outside a web request (jobs, CLI, tests).

Inside a request the user's language applies (Flask-Babel); elsewhere — unless a locale is forced
with ``flask_babel.force_locale`` — the English source text is used, never an error."""
from __future__ import annotations

from typing import Any

from flask import g, has_app_context, has_request_context
from flask_babel import gettext as _babel_gettext


def gettext(message: str, **variables: Any) -> str:
    """``flask_babel.gettext`` in a request or under ``force_locale``; the formatted source text otherwise."""
    forced = has_app_context() and getattr(getattr(g, "_flask_babel", None), "forced_babel_locale", None)
    if has_request_context() or forced:
        return _babel_gettext(message, **variables)
    return message % variables if variables else message
