"""The navigation bar: each blueprint registers its entries with the roles that may see them."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import Flask, current_app, url_for
from flask_login import current_user


@dataclass(frozen=True)
class NavEntry:
    label: Callable[[], str]
    endpoint: str
    roles: frozenset[str]
    prefix: str


_ENTRIES: list[NavEntry] = []


def add_nav(label: Callable[[], str], endpoint: str, roles: set[str] | frozenset[str], prefix: str) -> None:
    """Register a menu entry; `label` is a callable so it is translated per request."""
    if all(e.endpoint != endpoint for e in _ENTRIES):
        _ENTRIES.append(NavEntry(label, endpoint, frozenset(roles), prefix))


def nav_items() -> list[dict[str, str]]:
    """Entries the current user may see, as dicts for templates."""
    if not getattr(current_user, "is_authenticated", False):
        return []
    return [{"label": e.label(), "url": url_for(e.endpoint), "prefix": e.prefix}
            for e in _ENTRIES
            if current_user.role in e.roles and e.endpoint in current_app.view_functions]


def init_nav(app: Flask) -> None:
    app.jinja_env.globals["nav_items"] = nav_items
