"""A contractor's day as plain data: routes with stops and times, unassigned visits, totals.

Feeds the board (timeline, map JSON) and ``GET /api/v1/routes``. Every query goes through
:mod:`fieldsvc.visits.scope`.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.plans.day_over import notices
from fieldsvc.visits.plans.due import opening_windows
from fieldsvc.visits.plans.planning import OPEN_STATES, WAITING_CALL_STATES, day_start_utc
from fieldsvc.visits.plans.van_check import missing_terminals
from fieldsvc.visits.scope import get_scoped, scope_clause, scoped
from fieldsvc.web.i18n import lang

#: One colour per technician (map lines and timeline), cycled.
COLOURS = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#46a2a2", "#c51b8a", "#7a8b00",
           "#9a6324", "#800000", "#2f4f4f", "#000075", "#ff6f00", "#1b5e20", "#6a1b9a", "#b71c1c",
           "#0d47a1", "#827717", "#4e342e", "#37474f"]


def reason_text(code: str) -> str:
    """A person's sentence for an unassigned reason code."""
    texts = {
        "skills": _("No technician has the skills for these terminals."),
        "time_window": _("No technician can arrive while the shop is open within a shift."),
        "capacity": _("Every suitable technician is full (max visits or hours)."),
        "cost": _("Left out: serving it would cost more than leaving it for another day."),
        "merchant_closed": _("The shop is closed that day."),
        "no_technician": _("No technician works that day."),
        "pinned_unavailable": _("Pinned to a technician who is off or whose route is locked."),
        "pinned_day_over": _("Pinned to a technician whose working day is over; pin it to another or plan it tomorrow."),
        "day_over": _("The working day is over for every technician; plan it tomorrow."),
        "no_open_day": _("No working day in its window when the shop is open."),
        "deferred": _("No room in these days; its window continues later."),
    }
    return texts.get(code, code)


def status_text(status: str) -> str:
    """A visit status for people."""
    return {"planned": _("planned"), "dispatched": _("dispatched"), "checked_in": _("checked in"),
            "completed": _("completed"), "failed": _("failed"), "missed": _("missed"),
            "cancelled": _("cancelled")}.get(status, status)


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _secs(value: dt.datetime | None, start: dt.datetime) -> int | None:
    return None if value is None else int((value - start).total_seconds())


def _hhmm_secs(hhmm: str) -> int:
    h, mi = str(hhmm).split(":")
    return int(h) * 3600 + int(mi) * 60


def stop_window(merchant: m.Merchant, day: dt.date, start: dt.datetime,
                at: dt.datetime | None) -> dict[str, str] | None:
    """The opening interval of ``merchant`` on ``day`` in which ``at`` falls (else the first one)."""
    wins = opening_windows(merchant, day) or []
    if not wins:
        return None
    spans = [(start + dt.timedelta(seconds=_hhmm_secs(a)), start + dt.timedelta(seconds=_hhmm_secs(b)))
             for a, b in wins]
    chosen = next((s for s in spans if at is not None and s[0] <= at <= s[1]), spans[0])
    return {"start": chosen[0].isoformat(), "end": chosen[1].isoformat()}


def visit_stop(v: m.Visit, day: dt.date, start: dt.datetime) -> dict[str, Any]:
    """One stop of a route (the shape of DESIGN §6, plus planner times)."""
    mer = v.merchant
    return {
        "visit_id": v.id, "kind": str(v.kind), "status": str(v.status), "position": v.route_position,
        "status_text": status_text(str(v.status)),
        "merchant": {"id": mer.id, "name": mer.name, "lat": mer.lat, "lon": mer.lon, "address": mer.address},
        "terminals": [t.serial for t in sorted(v.terminals, key=lambda t: t.serial)],
        "eta": _iso(v.eta), "planned_start": _iso(v.planned_start), "planned_end": _iso(v.planned_end),
        "window": stop_window(mer, day, start, v.planned_start or v.eta),
        "pinned_technician_id": v.pinned_technician_id,
        "tracking_number": v.service_call.tracking_number if v.service_call else None,
        "t_eta": _secs(v.eta, start), "t_start": _secs(v.planned_start, start), "t_end": _secs(v.planned_end, start),
    }


def day_routes(user: m.User, day: dt.date, *, technician_id: int | None = None,
               contractor_id: int | None = None) -> list[dict[str, Any]]:
    """Routes of ``day`` the user may see (optionally one technician's / one contractor's)."""
    start = day_start_utc(day)
    q = scoped(m.Route, user).where(m.Route.date == day).options(
        selectinload(m.Route.visits).selectinload(m.Visit.terminals),
        selectinload(m.Route.visits).selectinload(m.Visit.merchant),
        selectinload(m.Route.visits).selectinload(m.Visit.service_call),
        selectinload(m.Route.technician))
    if technician_id is not None:
        get_scoped(m.Technician, technician_id, user)  # 404 outside the scope
        q = q.where(m.Route.technician_id == technician_id)
    if contractor_id is not None:
        q = q.join(m.Technician, m.Route.technician_id == m.Technician.id).where(
            m.Technician.contractor_id == contractor_id)
    out = []
    routes = db.session.scalars(q.order_by(m.Route.technician_id)).all()
    # A contractor serving two PSPs shares its routes between them: each PSP sees its own stops only.
    visible = set(db.session.scalars(select(m.Visit.id).where(
        m.Visit.route_id.in_([r.id for r in routes] or [-1]), scope_clause(m.Visit, user))))
    for r in routes:
        visits = sorted((v for v in r.visits if v.id in visible), key=lambda v: (v.route_position or 0, v.id))
        out.append({
            "id": r.id, "technician": {"id": r.technician.id, "name": r.technician.name},
            "date": day.isoformat(), "locked": r.locked, "plan_run_id": r.plan_run_id,
            "stops": [visit_stop(v, day, start) for v in visits if v.status != "cancelled"],
            "travel_seconds": r.travel_seconds, "distance_m": r.distance_m,
            "service_seconds": r.service_seconds, "waiting_seconds": r.waiting_seconds,
            "start_at": _iso(r.start_at), "end_at": _iso(r.end_at),
            "break_start": _iso(r.break_start), "break_end": _iso(r.break_end),
        })
    return out


def last_daily_run(contractor_id: int, day: dt.date) -> m.PlanRun | None:
    return db.session.scalars(select(m.PlanRun).where(
        m.PlanRun.contractor_id == contractor_id, m.PlanRun.date == day, m.PlanRun.kind == "daily")
        .order_by(m.PlanRun.id.desc())).first()


def unassigned_visits(user: m.User, contractor_id: int, day: dt.date) -> list[dict[str, Any]]:
    """Open visits of the day without a route: those the last run left out (with its reason) and
    those planned for the day but not routed."""
    run = last_daily_run(contractor_id, day)
    entries = run.unassigned if run and run.status == "succeeded" else []
    reasons = {u["visit_id"]: u["reason"] for u in entries if u.get("visit_id") is not None}
    call_reasons = {u["call_id"]: u["reason"] for u in entries if u.get("call_id") is not None}
    q = scoped(m.Visit, user).where(
        m.Visit.contractor_id == contractor_id, m.Visit.status.in_(OPEN_STATES), m.Visit.route_id.is_(None),
        (m.Visit.planned_date == day) | m.Visit.id.in_(list(reasons) or [-1])).options(
        selectinload(m.Visit.merchant), selectinload(m.Visit.terminals), selectinload(m.Visit.service_call))
    out = []
    for v in db.session.scalars(q.order_by(m.Visit.id)):
        code = reasons.get(v.id) or v.unassigned_reason or ""
        mer = v.merchant
        out.append({
            "visit_id": v.id, "kind": str(v.kind), "status": str(v.status), "reason": code,
            "reason_text": reason_text(code) if code else _("Not planned yet."),
            "merchant": {"id": mer.id, "name": mer.name, "lat": mer.lat, "lon": mer.lon, "address": mer.address},
            "terminals": [t.serial for t in v.terminals], "due_date": v.due_date.isoformat() if v.due_date else None,
            "window_end": v.window_end.isoformat() if v.window_end else None,
            "pinned_technician_id": v.pinned_technician_id,
            "tracking_number": v.service_call.tracking_number if v.service_call else None,
        })
    if call_reasons:  # calls the run could not place: they still wait, without a visit
        calls = scoped(m.ServiceCall, user).where(m.ServiceCall.id.in_(list(call_reasons)),
                                                  m.ServiceCall.status.in_(WAITING_CALL_STATES))
        for c in db.session.scalars(calls.order_by(m.ServiceCall.id)):
            mer = c.merchant
            out.append({
                "visit_id": None, "call_id": c.id, "kind": "em", "status": str(c.status),
                "reason": call_reasons[c.id], "reason_text": reason_text(call_reasons[c.id]),
                "merchant": {"id": mer.id, "name": mer.name, "lat": mer.lat, "lon": mer.lon, "address": mer.address},
                "terminals": [c.terminal.serial], "due_date": None, "window_end": None,
                "pinned_technician_id": None, "tracking_number": c.tracking_number,
            })
    return out


def board(user: m.User, contractor: m.Contractor, day: dt.date) -> dict[str, Any]:
    """Everything the board shows for one contractor's day."""
    start = day_start_utc(day)
    techs = list(db.session.scalars(scoped(m.Technician, user).where(
        m.Technician.contractor_id == contractor.id, m.Technician.active.is_(True)).order_by(m.Technician.code)))
    routes = {r["technician"]["id"]: r for r in day_routes(user, day, contractor_id=contractor.id)}
    rows = []
    lo, hi = 24 * 3600, 0
    totals = {"visits": 0, "pm": 0, "em": 0, "travel_seconds": 0, "distance_m": 0, "service_seconds": 0,
              "shift_seconds": 0, "technicians": len(techs), "routes": 0}
    for i, t in enumerate(techs):
        r = routes.get(t.id)
        s0, s1 = _hhmm_secs(t.shift_start), _hhmm_secs(t.shift_end)
        lo, hi = min(lo, s0), max(hi, s1)
        stops = r["stops"] if r else []
        for st in stops:
            for key in ("t_eta", "t_start", "t_end"):
                if st[key] is not None:
                    lo, hi = min(lo, st[key]), max(hi, st[key])
        busy = (r["service_seconds"] + r["travel_seconds"]) if r else 0
        shift = max(1, s1 - s0 - int(t.break_minutes or 0) * 60)
        row = {
            "id": t.id, "name": t.name, "code": t.code, "vehicle": t.vehicle, "colour": COLOURS[i % len(COLOURS)],
            "home": {"lat": t.home_lat, "lon": t.home_lon}, "shift": [s0, s1], "max_visits": t.max_visits,
            "route_id": r["id"] if r else None, "locked": bool(r and r["locked"]), "stops": stops,
            "travel_seconds": r["travel_seconds"] if r else 0, "distance_m": r["distance_m"] if r else 0,
            "service_seconds": r["service_seconds"] if r else 0,
            "t_start": _secs(dt.datetime.fromisoformat(r["start_at"]), start) if r and r["start_at"] else None,
            "t_end": _secs(dt.datetime.fromisoformat(r["end_at"]), start) if r and r["end_at"] else None,
            "break": ([_secs(dt.datetime.fromisoformat(r["break_start"]), start),
                       _secs(dt.datetime.fromisoformat(r["break_end"]), start)]
                      if r and r["break_start"] and r["break_end"] else None),
            "utilisation": round(busy / shift, 3),
        }
        rows.append(row)
        totals["visits"] += len(stops)
        totals["pm"] += sum(1 for s in stops if s["kind"] == "pm")
        totals["em"] += sum(1 for s in stops if s["kind"] == "em")
        totals["travel_seconds"] += row["travel_seconds"]
        totals["distance_m"] += row["distance_m"]
        totals["service_seconds"] += row["service_seconds"]
        totals["shift_seconds"] += shift
        totals["routes"] += 1 if stops else 0
    totals["utilisation"] = round((totals["service_seconds"] + totals["travel_seconds"])
                                  / totals["shift_seconds"], 3) if totals["shift_seconds"] else 0.0
    if lo >= hi:
        lo, hi = 8 * 3600, 18 * 3600
    lo, hi = lo // 3600 * 3600, -(-hi // 3600) * 3600
    run = last_daily_run(contractor.id, day)
    return {
        "date": day.isoformat(), "contractor": {"id": contractor.id, "code": contractor.code, "name": contractor.name},
        "day_start": start.isoformat(), "span": [lo, hi], "technicians": rows,
        "unassigned": unassigned_visits(user, contractor.id, day), "totals": totals,
        "stock_warnings": missing_terminals(contractor.id, day),
        "depot": ({"lat": contractor.depot_lat, "lon": contractor.depot_lon}
                  if contractor.depot_lat is not None else None),
        "last_run": ({"id": run.id, "status": run.status, "finished_at": _iso(run.finished_at),
                      "message": run.message, "summary": run.summary,
                      "notices": notices(run.summary, lang()) if run.status == "succeeded" else []}
                     if run else None),
    }
