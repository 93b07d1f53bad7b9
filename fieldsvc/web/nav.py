"""The navigation bar: each blueprint registers its entries with the roles that may see them; the
bar shows them in a few menus by area (:data:`MENUS`), so it fits a laptop screen on one line."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import Flask, current_app, request, url_for
from flask_babel import lazy_gettext as _l
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
    return [{"label": e.label(), "url": url_for(e.endpoint), "prefix": e.prefix, "endpoint": e.endpoint,
             "active": request.path.startswith(e.prefix)}
            for e in _ENTRIES
            if current_user.role in e.roles and e.endpoint in current_app.view_functions]


#: The bar's menus and the entries each holds, in order; an entry no menu names stands on its own.
MENUS: list[tuple[object, tuple[str, ...]]] = [
    (_l("Calls"), ("psp_calls.index", "psp_calls.new", "desk.queue", "channel_pages.index",
                   "channel_pages.incoming", "kb.index")),
    (_l("Field work"), ("dispatch.board", "dispatch.due", "lifecycle.orders_page", "lifecycle.stock_page",
                   "lifecycle.search_page", "checklists.list_page", "campaigns.list_page")),
    (_l("Reports"), ("psp.home", "psp.performance", "psp.penalties", "psp.failures", "service_pages.phases",
                     "reviews.index")),
    (_l("Settings"), ("setup.index", "service_pages.monitoring", "service_pages.tiers_page", "admin.audit",
                      "admin.locks")),
]


def nav_menus() -> list[dict]:
    """The bar for the current user: menus (``label``, ``items``, ``active``) and lone entries
    (``items`` of one, no ``label``); a menu with one visible entry becomes a lone entry."""
    visible = {i["endpoint"]: i for i in nav_items()}
    out: list[dict] = []
    placed: set[str] = set()
    for label, endpoints in MENUS:
        mine = [visible[e] for e in endpoints if e in visible]
        placed.update(endpoints)
        if len(mine) > 1:
            out.append({"label": str(label), "items": mine, "active": any(i["active"] for i in mine)})
        elif mine:
            out.append({"label": None, "items": mine})
    out.extend({"label": None, "items": [i]} for e, i in visible.items() if e not in placed)
    return out


def init_nav(app: Flask) -> None:
    app.jinja_env.globals["nav_items"] = nav_items
    app.jinja_env.globals["nav_menus"] = nav_menus
