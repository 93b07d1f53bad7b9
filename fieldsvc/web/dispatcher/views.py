"""The dispatch board (/dispatch): a contractor's day per technician, map, unassigned work, actions."""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from fieldsvc.dates import date_input_value, parse_date_input
from fieldsvc.db import db
from fieldsvc.text import to_persian_digits
from fieldsvc.visits import models as m
from fieldsvc.visits.plans.due import pm_due_list
from fieldsvc.visits.plans.planning import local_today, lock_route, pin_visit
from fieldsvc.visits.plans.runs import plan_horizon
from fieldsvc.visits.contracts.sla import PmStatus
from fieldsvc.visits.scope import Forbidden, get_scoped, require_role, scoped
from fieldsvc.visits.plans.runs import running_plan
from fieldsvc.web.plan_start import start_plan
from fieldsvc.web.api.routes_api import MAX_DAY, MIN_DAY
from fieldsvc.web.dispatcher.data import board as board_data
from fieldsvc.web.dispatcher.data import status_text as status_label
from fieldsvc.web.i18n import lang
from fieldsvc.web.ids import request_int
from fieldsvc.web.nav import add_nav

bp = Blueprint("dispatch", __name__, url_prefix="/dispatch")
add_nav(lambda: _("Dispatch"), "dispatch.board", {"dispatcher", "admin"}, "/dispatch/")
add_nav(lambda: _("PM due"), "dispatch.due", {"dispatcher", "admin"}, "/dispatch/due")

ROLES = (m.Role.DISPATCHER, m.Role.ADMIN)


def _user() -> m.User:
    user = current_user._get_current_object()
    require_role(user, *ROLES)
    return user


def _day(value: str | None) -> dt.date:
    today = local_today()
    if not value or value == "today":
        return today
    if value == "tomorrow":
        return today + dt.timedelta(days=1)
    try:
        day = parse_date_input(value, "fa")
        if not MIN_DAY <= day <= MAX_DAY:
            raise ValueError(value)
        return day
    except ValueError:
        flash(_("Could not read the date %(value)s; showing today. Use 2026-11-22 or 1405/09/01.", value=value),
              "warning")
        return today


def _contractor(user: m.User, code: str | None) -> m.Contractor | None:
    q = scoped(m.Contractor, user).order_by(m.Contractor.code)
    if code:
        con = db.session.scalars(q.where(m.Contractor.code == code)).first()
        if con is None:
            abort(404)
        return con
    if user.contractor_id is not None:
        return get_scoped(m.Contractor, user.contractor_id, user)
    return db.session.scalars(q).first()


def _pct(x: float, lo: int, hi: int) -> float:
    return round(max(0.0, min(100.0, (x - lo) * 100.0 / max(1, hi - lo))), 3)


def _hm(seconds: int | None) -> str:
    """Seconds from midnight as HH:MM, in Persian digits on Persian pages."""
    if seconds is None:
        return "—"
    text = f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"
    return to_persian_digits(text) if lang() == "fa" else text


def timeline(data: dict[str, Any]) -> dict[str, Any]:
    """Blocks for the per-technician timeline: percentages of the day's span, drawn in plain CSS."""
    lo, hi = data["span"]
    ticks = [{"left": _pct(h, lo, hi), "label": _hm(h)} for h in range(lo, hi + 1, 3600)]
    rows = []
    for t in data["technicians"]:
        blocks = []

        def add(kind: str, a: int | None, b: int | None, title: str, label: str = "", extra: str = "",
                blocks: list = blocks) -> None:
            if a is None or b is None or b <= a:
                return
            blocks.append({"kind": kind, "left": _pct(a, lo, hi), "width": max(0.25, _pct(b, lo, hi) - _pct(a, lo, hi)),
                           "title": title, "label": label, "extra": extra})
        add("shift", t["shift"][0], t["shift"][1], _("Shift %(a)s–%(b)s", a=_hm(t["shift"][0]), b=_hm(t["shift"][1])))
        prev = t["t_start"]
        for st in t["stops"]:
            if st["t_start"] is None:
                continue
            arrive = st["t_eta"] if st["t_eta"] is not None else st["t_start"]
            add("travel", prev, arrive, _("Travel to %(name)s", name=st["merchant"]["name"]))
            add("idle", arrive, st["t_start"], _("Waiting for %(name)s to open", name=st["merchant"]["name"]))
            title = f"#{st['position']} {st['merchant']['name']} | {st['kind'].upper()} | " \
                    f"{_hm(st['t_start'])}–{_hm(st['t_end'])} | {_('ETA')} {_hm(st['t_eta'])} | {status_label(st['status'])}"
            add("stop", st["t_start"], st["t_end"], title, to_persian_digits(str(st["position"] or "")) if lang() == "fa"
                else str(st["position"] or ""),
                f"stop-{st['kind']} status-{st['status']}")
            prev = st["t_end"] if st["t_end"] is not None else st["t_start"]
        add("travel", prev, t["t_end"], _("Travel home"))
        if t["break"]:
            add("break", t["break"][0], t["break"][1], _("Break %(a)s–%(b)s", a=_hm(t["break"][0]), b=_hm(t["break"][1])))
        rows.append({**t, "blocks": blocks})
    return {"ticks": ticks, "rows": rows}


def plan_status_label(status: str) -> str:
    """A PlanRun status in the user's language."""
    return {"queued": _("waiting to start"), "running": _("running"), "succeeded": _("stored"),
            "failed": _("failed"), "cancelled": _("cancelled")}.get(status, status)


def _labels() -> dict[str, str]:
    """Strings the map script shows, translated here."""
    return {"eta": _("ETA"), "status": _("Status"), "terminals": _("Terminals"), "unassigned": _("Unassigned"),
            "home": _("Home"), "kind": _("Kind"), "reason": _("Reason"), "window": _("Open"),
            "queued": _("Queued…"), "running": _("Planning…"), "succeeded": _("Plan stored. Reloading…"),
            "failed": _("Planning failed:"),
            "failed_advice": _("The previous plan is unchanged. Plan the day again; if it fails again, "
                               "unpin this day's visits and send the error to your administrator."),
            "cancelled": _("Planning was cancelled."),
            "error": _("Could not start planning:"),
            "tiles_failed": _("The map background cannot be loaded from the tile server (no connection to it?). "
                              "Routes and stops are still drawn."),
            "no_tiles": _("No tile server is set (FIELDSVC_TILE_URL): routes and stops are drawn without a "
                          "map background.")}


@bp.get("/")
@login_required
def board():
    """The day of one contractor: timeline per technician, totals, map, unassigned work."""
    user = _user()
    day = _day(request.args.get("date"))
    con = _contractor(user, request.args.get("contractor"))
    contractors = list(db.session.scalars(scoped(m.Contractor, user).order_by(m.Contractor.code))) \
        if user.role == m.Role.ADMIN else []
    if con is None:
        return render_template("dispatch/empty.html", day=day)
    data = board_data(user, con, day)
    today = local_today()
    running = running_plan(con.id, day)
    run_id = running.id if running else None
    return render_template(
        "dispatch/board.html", data=data, tl=timeline(data), day=day, contractor=con, contractors=contractors,
        today=today, tomorrow=today + dt.timedelta(days=1), date_value=date_input_value(day, lang()),
        labels=_labels(), run_id=run_id, hm=_hm, status_label=status_label,
        plan_status_label=plan_status_label)


@bp.get("/board.json")
@login_required
def board_json():
    """The board's data as JSON (same scope as the page)."""
    user = _user()
    con = _contractor(user, request.args.get("contractor"))
    if con is None:
        abort(404)
    return jsonify(board_data(user, con, _day(request.args.get("date"))))


def _back(day: dt.date, con: m.Contractor, run_id: int | None = None):
    args: dict[str, Any] = {"date": day.isoformat(), "contractor": con.code}
    if run_id:
        args["run"] = run_id
    return redirect(url_for("dispatch.board", **args))


@bp.post("/visits/<int:visit_id>/pin")
@login_required
def pin(visit_id: int):
    """Pin a visit to a technician (or unpin it), then re-optimise the rest of the day."""
    user = _user()
    visit = get_scoped(m.Visit, visit_id, user)
    con = get_scoped(m.Contractor, visit.contractor_id, user)
    day = _day(request.form.get("date"))
    tech_id = request_int(request.form, "technician_id")
    tech = get_scoped(m.Technician, tech_id, user) if tech_id else None
    try:
        pin_visit(visit, tech, actor=user)
    except ValueError as e:
        db.session.rollback()
        flash(_("The visit could not be moved: %(error)s", error=str(e)), "error")
        return _back(day, con)
    if request.form.get("reoptimise", "1") != "1":
        flash(_("Pinned. Re-optimise the day to apply it."), "info")
        return _back(day, con)
    if running_plan(con.id, day) is not None:
        flash(_("Pinned. A plan of this day is already running; run it again when it ends."), "warning")
        return _back(day, con)
    run = start_plan(user, con, day)
    flash(_("Pinned. Re-optimising the rest of the day…") if tech else _("Unpinned. Re-optimising the day…"), "info")
    return _back(day, con, run.id)


@bp.post("/routes/<int:route_id>/lock")
@login_required
def lock(route_id: int):
    """Lock or unlock a technician's route: a re-optimisation keeps a locked route as it is."""
    user = _user()
    route = get_scoped(m.Route, route_id, user)
    con = get_scoped(m.Contractor, route.technician.contractor_id, user)
    locked = request.form.get("locked") == "1"
    lock_route(route, locked, actor=user)
    flash(_("Route of %(name)s locked.", name=route.technician.name) if locked
          else _("Route of %(name)s unlocked.", name=route.technician.name), "info")
    return _back(route.date, con)


@bp.errorhandler(Forbidden)
def _forbidden(e: Forbidden):
    return render_template("error.html", status=403, message=_("The dispatch board is for dispatchers.")), 403



DUE_LIMIT = 500


@bp.get("/due")
@login_required
def due():
    """The PM due list of a contractor: overdue, due and upcoming merchants with their terminals."""
    user = _user()
    con = _contractor(user, request.args.get("contractor"))
    if con is None:
        return render_template("dispatch/empty.html", day=local_today())
    today = local_today()
    wanted = request.args.get("status") or ""
    groups = pm_due_list(today, contractor_id=con.id)
    counts = {s.value: sum(1 for g in groups if g.status == s) for s in PmStatus}
    if wanted in counts:
        groups = [g for g in groups if g.status == wanted]
    visits = {(v.contract_id, v.merchant_id): v for v in db.session.scalars(
        scoped(m.Visit, user).where(m.Visit.contractor_id == con.id, m.Visit.kind == m.VisitKind.PM,
                                    m.Visit.status.in_(("planned", "dispatched"))))}
    rows = [{"group": g, "visit": visits.get((g.contract_id, g.merchant_id))} for g in groups[:DUE_LIMIT]]
    contractors = list(db.session.scalars(scoped(m.Contractor, user).order_by(m.Contractor.code))) \
        if user.role == m.Role.ADMIN else []
    return render_template("dispatch/due.html", contractor=con, contractors=contractors, rows=rows,
                           total=len(groups), counts=counts, wanted=wanted, today=today, limit=DUE_LIMIT,
                           tomorrow=today + dt.timedelta(days=1))


@bp.post("/horizon")
@login_required
def horizon():
    """Spread the contractor's due PM visits over the next days (plan-horizon from the web)."""
    user = _user()
    con = _contractor(user, request.form.get("contractor"))
    if con is None:
        abort(404)
    days = request_int(request.form, "days") or 0
    if not 1 <= days <= 31:
        flash(_("Choose between 1 and 31 days."), "error")
        return redirect(url_for("dispatch.due", contractor=con.code))
    start = local_today() + dt.timedelta(days=1)
    run = plan_horizon(start, days, contractor_id=con.id, actor=user)[0]
    if run.status != m.PlanStatus.SUCCEEDED:
        flash(_("Spreading failed: %(error)s", error=run.error or run.message), "error")
    else:
        flash(_("%(assigned)s of %(visits)s PM visits got a day; %(unfitted)s could not be fitted.",
                assigned=run.summary.get("assigned", 0), visits=run.summary.get("visits", 0),
                unfitted=run.summary.get("unfitted", 0)), "info")
    return redirect(url_for("dispatch.due", contractor=con.code))
