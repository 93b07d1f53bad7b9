"""The audit trail in words (issue 17.8): actions, objects, states and the details of each event
in the reader's language, with numbers and dates localised and codes marked as Latin."""
from __future__ import annotations

import datetime as dt
import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from fieldsvc.text import format_number
from fieldsvc.web.i18n import code_markup, lang, name_markup

ACTIONS = {
    "created": _l("created"), "status": _l("status changed"), "slotted": _l("put on a route"),
    "visit_pinned": _l("visit pinned"), "pin_dropped": _l("pin dropped"), "plan_stored": _l("plan stored"),
    "plan_cancelled": _l("plan cancelled"), "horizon_stored": _l("PM days spread"),
    "route_locked": _l("route locked"), "route_unlocked": _l("route unlocked"), "displaced": _l("displaced"),
    "checkin_replaced": _l("earlier check-in replaced"), "checkin_superseded": _l("later check-in kept aside"),
    "checkout_pending": _l("check-out waiting for its check-in"), "login": _l("logged in"), "login_failed": _l("failed login"),
    "penalties_recomputed": _l("penalties recomputed"), "penalty_confirmed": _l("penalty confirmed"),
    "penalty_waived": _l("penalty waived"),
}
OBJECTS = {"visit": _l("visit"), "service_call": _l("service call"), "route": _l("route"),
           "plan_run": _l("plan run"), "penalty_line": _l("penalty line"), "user": _l("user"),
           "technician": _l("technician"), "terminal": _l("terminal"), "merchant": _l("merchant")}
KEYS = {
    "technician_id": _l("technician"), "visit_id": _l("visit"), "call_id": _l("call"), "reason": _l("reason"),
    "date": _l("day"), "planned_date": _l("planned day"), "served": _l("served"), "unassigned": _l("unassigned"),
    "eta": _l("ETA"), "position": _l("position"), "flags": _l("flags"), "outcome": _l("outcome"), "at": _l("at"),
    "previous": _l("before"), "contractor_id": _l("contractor"), "verified": _l("verified"),
    "distance_m": _l("distance (m)"), "start": _l("from"), "end": _l("to"), "created": _l("created"),
    "updated": _l("updated"), "corrected": _l("corrected"), "note": _l("note"), "assigned": _l("assigned"),
    "unfitted": _l("not fitted"), "added_travel_seconds": _l("added travel (s)"), "sla_met": _l("SLA met"),
    "displaced": _l("displaced visits"), "clamped": _l("time corrected"), "client_event_id": _l("event"),
}
# intake channels (issue 23)
ACTIONS.update({"email_note": _l("e-mail added as a note"), "held": _l("held for confirmation"),
                "merchant_added": _l("merchant added"), "merchant_removed": _l("merchant removed"),
                "requester_added": _l("designated requester added"),
                "requester_removed": _l("designated requester removed"), "notify_by": _l("SMS or e-mail chosen"),
                "telephony_token": _l("phone system token renewed")})
OBJECTS.update({"held_call": _l("held request"), "requester_group": _l("requester group")})
KEYS.update({"sender": _l("sender"), "subject": _l("subject"), "text": _l("text"), "notify_by": _l("notify by")})
# counted parts used at a visit that the van did not hold by the books
ACTIONS.update({"van_stock_short": _l("part used that the van did not hold")})
KEYS.update({"item": _l("part"), "used": _l("used"), "in_van": _l("in the van")})
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_CODE = re.compile(r"^[\x21-\x7e]+$")


def action_text(action: str) -> Markup:
    """A person's words for an audit action (the code itself, marked, when unknown)."""
    known = ACTIONS.get(action)
    return Markup(escape(str(known))) if known else code_markup(action)


def object_text(object_type: str, object_id: int | None) -> Markup:
    label = OBJECTS.get(object_type)
    head = escape(str(label)) if label else code_markup(object_type)
    if object_id is None:
        return Markup(head)
    return Markup("{} {}").format(head, _number(object_id))


def _number(value: float) -> str:
    return format_number(value, lang(), 0 if float(value).is_integer() else 2)


def value_text(value: object, date_filter, datetime_filter) -> Markup:
    """One detail value: numbers and dates localised, codes marked, other text isolated."""
    if value is None:
        return Markup("—")
    if isinstance(value, bool):
        return Markup(escape(_("yes") if value else _("no")))
    if isinstance(value, (int, float)):
        return Markup(escape(_number(value)))
    if isinstance(value, (list, tuple)):
        return Markup("، " if lang() == "fa" else ", ").join(value_text(v, date_filter, datetime_filter)
                                                              for v in value) if value else Markup("—")
    if isinstance(value, dict):
        return Markup(", ").join(Markup("{}: {}").format(k, value_text(v, date_filter, datetime_filter))
                                 for k, v in value.items())
    text = str(value)
    if _DATE.match(text):
        return Markup(escape(date_filter(dt.date.fromisoformat(text))))
    if _DATETIME.match(text):
        try:
            return Markup(escape(datetime_filter(dt.datetime.fromisoformat(text))))
        except ValueError:
            pass
    return code_markup(text) if _CODE.match(text) else name_markup(text)


def details(data: dict | None, date_filter, datetime_filter) -> list[tuple[Markup, Markup]]:
    """The event's details as (label, value) pairs in the reader's language."""
    out = []
    for key, value in (data or {}).items():
        label = KEYS.get(key)
        out.append((Markup(escape(str(label))) if label else code_markup(key),
                    value_text(value, date_filter, datetime_filter)))
    return out


def state_text(state: str | None) -> Markup:
    """A call or visit state in words."""
    if not state:
        return Markup("—")
    from fieldsvc.visits.desk.calls import STATUS_LABELS
    from fieldsvc.web.dispatcher.data import status_text

    label = STATUS_LABELS.get(state)
    if label is None:
        label = status_text(state)
        if label == state:
            return code_markup(state)
    return Markup(escape(str(label)))
