"""Pages of the technician's phone app: the day's route (`tech.route`) and its service worker."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import (Blueprint, Response, current_app, flash, make_response, render_template, request,
                   send_from_directory)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from fieldsvc.dates import date_input_value, parse_date_input
from fieldsvc.text import to_persian_digits
from fieldsvc.visits.models import Role
from fieldsvc.visits.scope import require_role
from fieldsvc.visits.field.tech_day import day_visits, hours_on
from fieldsvc.visits.field.outcomes import OUTCOME_LABELS, outcomes_for
from fieldsvc.visits.desk.calls import SYMPTOMS
from fieldsvc.visits.field.checkin import MAX_CONSUMABLE, geofence_m, requires_confirmation_code
from fieldsvc.visits.field.photos import MAX_PHOTO_BYTES, MAX_PHOTOS
from fieldsvc.visits.field.checklists import FEEDBACK_QUESTION, phone_checklists
from fieldsvc.visits.stock.moves import CONSUMABLES
from fieldsvc.web.i18n import lang
from fieldsvc.web.nav import add_nav
from fieldsvc.web.technician.messages import js_messages

bp = Blueprint("tech", __name__, url_prefix="/tech")
STATIC_DIR = Path(__file__).resolve().parent.parent / "static" / "tech"

add_nav(lambda: _("My route"), "tech.route", {Role.TECHNICIAN}, "/tech")

KIND_LABELS = {"pm": _l("PM"), "em": _l("EM"), "install": _l("Install"), "removal": _l("Removal")}
KIND_TITLES = {"pm": _l("Preventive maintenance"), "em": _l("Emergency repair"),
               "install": _l("Installation"), "removal": _l("Removal")}
STATUS_LABELS = {"planned": _l("Planned"), "dispatched": _l("Dispatched"), "checked_in": _l("Checked in"),
                 "completed": _l("Completed"), "failed": _l("Not done"), "missed": _l("Missed"),
                 "cancelled": _l("Cancelled")}


def today() -> date:
    """Today's date in the application's time zone (Asia/Tehran by default)."""
    return datetime.now(ZoneInfo(current_app.config.get("TIMEZONE", "Asia/Tehran"))).date()


def _day() -> date:
    """The day asked for by ``?date=``: ``today``, ``tomorrow``, ISO or (Persian) Jalali."""
    raw = (request.args.get("date") or "").strip()
    if not raw or raw == "today":
        return today()
    if raw == "tomorrow":
        return today() + timedelta(days=1)
    try:
        return parse_date_input(raw, lang())
    except ValueError:
        flash(_("Could not read the date %(value)s; showing today. Use 2026-11-22 or 1405/09/01.", value=raw),
              "warning")
        return today()


@bp.get("/")
@login_required
def route():
    """Today's route of the logged-in technician, phone first, usable offline."""
    user = current_user._get_current_object()
    require_role(user, Role.TECHNICIAN)
    day = _day()
    tech, rt, visits = day_visits(user, day)
    digits = to_persian_digits if lang() == "fa" else str
    stops = [{"visit": v, "hours_today": [digits(f"{a}–{b}") for a, b in hours_on(v.merchant.opening_hours, day)],
              "outcomes": [(str(o), str(OUTCOME_LABELS[o])) for o in outcomes_for(v.kind)],
              "hours_raw": hours_on(v.merchant.opening_hours, day) if v.merchant.opening_hours else None,
              "geofence_m": geofence_m(v), "code_required": requires_confirmation_code(v),
              "checklists": phone_checklists(v, lang())} for v in visits]
    messages = dict(js_messages(), statuses={k: str(v) for k, v in STATUS_LABELS.items()})
    resp = make_response(render_template(
        "tech/route.html", day=day, is_today=(day == today()), tech=tech, route=rt, stops=stops,
        tomorrow=today() + timedelta(days=1), date_value=date_input_value(day, lang()),
        prepare=prepare(visits),
        kind_labels=KIND_LABELS, kind_titles=KIND_TITLES, status_labels=STATUS_LABELS,
        outcome_labels={str(k): str(v) for k, v in OUTCOME_LABELS.items()},
        messages=messages, feedback_question=str(FEEDBACK_QUESTION),
        max_photos=MAX_PHOTOS, max_photo_bytes=MAX_PHOTO_BYTES, symptoms=SYMPTOMS, consumables=CONSUMABLES,
        max_consumable=MAX_CONSUMABLE))
    resp.headers["Cache-Control"] = "no-cache, private"
    return resp


def prepare(visits: list) -> dict:
    """What to get ready for a day: the first address and the terminal models to expect."""
    models: dict[str, int] = {}
    for v in visits:
        for t in v.terminals:
            models[t.model or "—"] = models.get(t.model or "—", 0) + 1
    return {"first": visits[0] if visits else None, "models": sorted(models.items())}


@bp.get("/sw.js")
def service_worker() -> Response:
    """The service worker, served under /tech/ so that its scope is /tech/."""
    resp = send_from_directory(STATIC_DIR, "sw.js", mimetype="text/javascript", max_age=0)
    resp.headers["Service-Worker-Allowed"] = "/tech/"
    resp.headers["Cache-Control"] = "no-cache"
    return resp
