"""Views of /psp: parse the request, call fieldsvc.visits services, render."""
from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask import (Blueprint, Response, current_app, flash, redirect, render_template, request,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from fieldsvc.dates import date_input_value, parse_date_input
from fieldsvc.db import db, utcnow
from fieldsvc.visits.desk import calls as call_svc
from fieldsvc.visits import models as m
from fieldsvc.visits.scorecards.workbook import XLSX_MIMETYPE, export_scorecard
from fieldsvc.visits.scorecards.drill import (DRILLS, KPI_DRILL, LIST_LIMIT, done_by_kind, drill,
                                       open_work, overdue_visits, unresolved_calls)
from fieldsvc.visits.scorecards.labels import KPI_LABELS, PENALTY_KINDS, PENALTY_STATUS_LABELS, SUMMARY_KPIS, label
from fieldsvc.visits.scorecards.ledger import confirm_line, ledger_lines, recompute_period, waive_line
from fieldsvc.visits.scope import NotFound, require_role, scoped
from fieldsvc.visits.scorecards.kpis import (GROUPINGS, KPI_KEYS, MAX_DATE, MIN_DATE, TARGETS, compute_scorecard,
                                       kpi_status)
from fieldsvc.visits.states import IllegalTransition
from fieldsvc.text import format_number, to_persian_digits
from fieldsvc.web.i18n import lang
from fieldsvc.web.ids import request_int, to_db_int
from fieldsvc.web.nav import add_nav
from fieldsvc.web.psp.charts import Bar, hbars, lines

bp = Blueprint("psp", __name__, url_prefix="/psp")

R = m.Role
VIEW_ROLES = (R.PSP, R.ADMIN, R.DISPATCHER)
DECIDE_ROLES = (R.PSP, R.ADMIN)
KINDS = ("pm", "em", "install", "removal")
MAX_DAYS = 366

add_nav(lambda: _("Open work"), "psp.home", {R.PSP, R.ADMIN}, "/psp/")
add_nav(lambda: _("Performance"), "psp.performance", {R.PSP, R.ADMIN, R.DISPATCHER}, "/psp/performance")
add_nav(lambda: _("Penalties"), "psp.penalties", {R.PSP, R.ADMIN}, "/psp/penalties")


def _user() -> m.User:
    user = current_user._get_current_object()
    require_role(user, *VIEW_ROLES)
    return user


def _today() -> dt.date:
    return utcnow().astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()


def _period() -> tuple[dt.date, dt.date]:
    """``from``/``to`` of the query string (Jalali or ISO); default: the last 30 days."""
    end, start = _today(), _today() - dt.timedelta(days=29)
    try:
        if request.args.get("from"):
            start = parse_date_input(request.args["from"], "fa")
        if request.args.get("to"):
            end = parse_date_input(request.args["to"], "fa")
        if not (MIN_DATE <= start <= MAX_DATE and MIN_DATE <= end <= MAX_DATE):
            raise ValueError(_("dates must lie between %(a)s and %(b)s", a=MIN_DATE, b=MAX_DATE))
    except ValueError as e:
        flash(_("Could not read the date: %(error)s. Showing the last 30 days.", error=str(e)), "error")
        return _today() - dt.timedelta(days=29), _today()
    if end < start:
        flash(_("The period ended before it started: the dates were swapped."), "warning")
        start, end = end, start
    if (end - start).days >= MAX_DAYS:
        flash(_("A period is at most a year: shortened to the year before the end date."), "warning")
        start = end - dt.timedelta(days=MAX_DAYS - 1)
    return start, end


def _ctx(start: dt.date, end: dt.date, **kw: Any) -> dict[str, Any]:
    """Template variables shared by every page with a period."""
    return {"start": start, "end": end, "from_value": date_input_value(start, lang()),
            "to_value": date_input_value(end, lang()), "q": {"from": start.isoformat(), "to": end.isoformat()},
            "label": label, **kw}


@bp.get("/")
@login_required
def home():
    """Live dashboard: open work per contractor with SLA flags."""
    user = _user()
    rows = open_work(user)
    bars = [Bar(r.code, r.breached, url_for("psp.unresolved", hours=0, contractor=r.contractor_id, flag="breached"),
                "breached" if r.breached else "met") for r in rows]
    return render_template("psp/home.html", rows=rows, chart=hbars(bars, title=_("Breached open calls"),
                                                                     number=_chart_number),
                           now=utcnow())


@bp.get("/services")
@login_required
def services():
    """Services done in a period, by contractor and kind."""
    user = _user()
    start, end = _period()
    done = done_by_kind(start, end, user=user)
    cons = {c.id: c for c in db.session.scalars(scoped(m.Contractor, user).order_by(m.Contractor.code))}
    rows = [(cons[k], done.get(k, {})) for k in cons]
    bars = [Bar(c.code, sum(d.values()), url_for("psp.work", list="done", key=c.id, **_q(start, end)))
            for c, d in rows]
    totals = {k: sum(d.get(k, 0) for _c, d in rows) for k in KINDS}
    return render_template("psp/services.html", rows=rows, kinds=KINDS, totals=totals,
                           chart=hbars(bars, title=_("Services done"), number=_chart_number),
                           **_ctx(start, end))


def _chart_number(value: float) -> str:
    """A chart value in the page's digits (Persian on Persian pages)."""
    return format_number(value, lang(), 0 if float(value).is_integer() else 1)


def _chart_digits(value: str) -> str:
    return to_persian_digits(value) if lang() == "fa" else value


def _q(start: dt.date, end: dt.date) -> dict[str, str]:
    return {"from": start.isoformat(), "to": end.isoformat()}


@bp.get("/performance")
@login_required
def performance():
    """Each contractor's KPIs in a period (or per region, or per technician for dispatchers)."""
    user = _user()
    start, end = _period()
    group_by = request.args.get("group_by", "contractor")
    if group_by not in GROUPINGS or (group_by == "technician" and user.role not in (R.DISPATCHER, R.ADMIN)):
        group_by = "contractor"
    card = compute_scorecard(start, end, user=user, group_by=group_by, with_breaches=False)
    bars = [Bar(r.code, r.score, url_for("psp.contractor", code=r.code, **_q(start, end))
                if group_by == "contractor" else None, kpi_status("score", r.score),
                "—" if r.score is None else format_number(r.score, lang(), 1)) for r in card.rows]
    return render_template("psp/performance.html", card=card, kpis=SUMMARY_KPIS, group_by=group_by,
                           groupings=_groupings(user), drills=KPI_DRILL, status=kpi_status,
                           chart=hbars(bars, max_value=100, title=_("Score"), code_labels=group_by != "technician"),
                           **_ctx(start, end))


@bp.get("/year-on-year")
@login_required
def year_on_year():
    """The period's contractor KPIs beside the same Jalali period of the previous year (issue 23.8)."""
    from fieldsvc.visits.scorecards.year_on_year import COMPARED_KPIS, compare

    user = _user()
    start, end = _period()
    yoy = compare(start, end, user=user)
    by_code: dict[str, list[Any]] = {}
    for r in yoy.rows:
        by_code.setdefault(r.code, []).append(r)
    return render_template("psp/year_on_year.html", yoy=yoy, by_code=by_code, kpis=COMPARED_KPIS,
                           **_ctx(start, end))


def _groupings(user: m.User) -> list[tuple[str, str]]:
    out = [("contractor", _("Contractor")), ("region", _("Region"))]
    if user.role in (R.DISPATCHER, R.ADMIN):
        out.append(("technician", _("Technician")))
    return out


@bp.get("/performance/<code>")
@login_required
def contractor(code: str):
    """One contractor: KPIs against targets, the weekly trend and the breaches."""
    user = _user()
    start, end = _period()
    card = compute_scorecard(start, end, user=user, contractor_code=code)
    row = next((r for r in card.rows if r.code == code), None)
    if row is None:
        raise NotFound("Contractor", code)
    weeks = card.trends.get(code, [])
    chart = lines([_chart_digits(w.week_start.strftime("%m-%d")) for w in weeks],
                  [(str(KPI_LABELS["response_met_pct"]), [w.response_met_pct for w in weeks]),
                   (str(KPI_LABELS["resolution_met_pct"]), [w.resolution_met_pct for w in weeks]),
                   (str(KPI_LABELS["pm_compliance_pct"]), [w.pm_compliance_pct for w in weeks])],
                  title=_("Weekly trend"), number=_chart_number)
    return render_template("psp/contractor.html", row=row, card=card, kpis=KPI_KEYS, targets=TARGETS,
                           drills=KPI_DRILL, chart=chart, weeks=weeks, breaches=card.breaches.get(code, []),
                           can_per_tech=user.role in (R.DISPATCHER, R.ADMIN), **_ctx(start, end))


@bp.get("/unresolved")
@login_required
def unresolved():
    """Open calls older than N hours (optionally one contractor, or only at-risk/breached)."""
    user = _user()
    try:
        hours = min(to_db_int(request.args.get("hours") or 24), 24 * 365)
    except ValueError:
        flash(_("Hours must be a whole number; showing 24."), "error")
        hours = 24
    contractor_id = request_int(request.args, "contractor")
    flag = request.args.get("flag")
    calls = unresolved_calls(user, hours, contractor_id=contractor_id)
    if flag in ("at_risk", "breached"):
        ids = set()
        for r in open_work(user):
            ids.update(r.call_ids[flag])
        calls = [c for c in calls if c.id in ids]
    return render_template("psp/unresolved.html", calls=calls, hours=hours, flag=flag,
                           contractor_id=contractor_id, now=utcnow(), limit=LIST_LIMIT, label=label, svc=call_svc)


@bp.get("/overdue/<any(pm_overdue, installs_late):what>")
@login_required
def overdue(what: str):
    """Open PM visits whose window closed, or installations past their deadline."""
    user = _user()
    visits = overdue_visits(user, what, request_int(request.args, "contractor"))
    title = _("PM overdue") if what == "pm_overdue" else _("Installations late")
    return render_template("psp/work.html", what="visits", items=visits, total=len(visits), title=title,
                           limit=LIST_LIMIT, label=label, q=None, start=None, end=None)


@bp.get("/work")
@login_required
def work():
    """The calls or visits behind a number of the scorecard."""
    user = _user()
    start, end = _period()
    name = request.args.get("list", "em_calls")
    if name not in DRILLS:
        flash(_("Unknown list; showing the period's calls."), "error")
        name = "em_calls"
    group_by = request.args.get("group_by", "contractor")
    if group_by not in GROUPINGS or (group_by == "technician" and user.role not in (R.DISPATCHER, R.ADMIN)):
        group_by = "contractor"
    kind = request.args.get("kind") if request.args.get("kind") in KINDS else None
    what, stmt, count = drill(name, start, end, user=user, group_by=group_by,
                              key=request_int(request.args, "key"), kind=kind)
    items = db.session.scalars(stmt).all()
    title = label(name) if name in KPI_LABELS else (_("Services done") if name == "done" else label(name))
    if name in ("response_missed", "resolution_missed", "installs_late", "not_first_time_fix"):
        title = {"response_missed": _("Response missed"), "resolution_missed": _("Resolution missed"),
                 "installs_late": _("Installations late"),
                 "not_first_time_fix": _("Resolved after more than one visit")}[name]
    return render_template("psp/work.html", what=what, items=items, total=db.session.scalar(count),
                           title=title, limit=LIST_LIMIT, **_ctx(start, end))


@bp.get("/penalties")
@login_required
def penalties():
    """The penalty ledger of a period with confirm / waive."""
    user = _user()
    start, end = _period()
    status = request.args.get("status") if request.args.get("status") in PENALTY_STATUS_LABELS else None
    kind = request.args.get("kind") if request.args.get("kind") in PENALTY_KINDS else None
    contractor_id = request_int(request.args, "contractor")
    items = ledger_lines(start, end, user=user, status=status, kind=kind,
                         contractor_ids=[contractor_id] if contractor_id else None)
    cons = {c.id: c for c in db.session.scalars(scoped(m.Contractor, user))}
    totals: dict[tuple[int, str], int] = {}
    for x in items:
        if x.status != m.PenaltyStatus.WAIVED:
            totals[(x.contractor_id, x.kind)] = totals.get((x.contractor_id, x.kind), 0) + x.amount_rial
    con_totals: dict[int, int] = {}
    for (cid, _kind), amount in totals.items():
        con_totals[cid] = con_totals.get(cid, 0) + amount
    return render_template("psp/penalties.html", items=items, cons=cons, status=status, kind=kind,
                           con_totals=con_totals,
                           contractor_id=contractor_id, totals=totals, kinds=PENALTY_KINDS,
                           statuses=PENALTY_STATUS_LABELS, can_decide=user.role in DECIDE_ROLES,
                           **_ctx(start, end))


@bp.post("/penalties/recompute")
@login_required
def penalties_recompute():
    user = _user()
    require_role(user, *DECIDE_ROLES)
    start, end = _form_period()
    res = recompute_period(start, end, user=user)
    flash(_("Ledger updated: %(created)d new, %(updated)d changed, %(corrections)d corrections, "
            "%(deleted)d removed, %(unchanged)d unchanged.", created=res.created, updated=res.updated,
            corrections=res.corrections, deleted=res.deleted, unchanged=res.unchanged), "success")
    return redirect(url_for("psp.penalties", **_q(start, end)))


def _form_period() -> tuple[dt.date, dt.date]:
    try:
        start = dt.date.fromisoformat(request.form["from"])
        end = dt.date.fromisoformat(request.form["to"])
        if not (MIN_DATE <= start <= MAX_DATE and MIN_DATE <= end <= MAX_DATE):
            raise ValueError("out of range")
    except (KeyError, ValueError):
        start, end = _today() - dt.timedelta(days=29), _today()
    if end < start or (end - start).days >= MAX_DAYS:
        start, end = end - dt.timedelta(days=29), end
    return start, end


@bp.post("/penalties/<int:line_id>/<any(confirm, waive):decision>")
@login_required
def penalty_decide(line_id: int, decision: str):
    user = _user()
    require_role(user, *DECIDE_ROLES)
    start, end = _form_period()
    reason = (request.form.get("reason") or "").strip()
    try:
        if decision == "confirm":
            confirm_line(line_id, user, reason)
            flash(_("Penalty line %(id)d confirmed.", id=line_id), "success")
        else:
            waive_line(line_id, user, reason)
            flash(_("Penalty line %(id)d waived.", id=line_id), "success")
    except ValueError:
        flash(_("Write the reason for waiving this penalty, then press Waive again."), "error")
    except IllegalTransition:
        flash(_("This line was already decided; reload to see its state."), "error")
    return redirect(url_for("psp.penalties", **_q(start, end)))


@bp.get("/scorecards.xlsx")
@login_required
def download():
    """The scorecards workbook of the period, in the user's language."""
    user = _user()
    start, end = _period()
    code = request.args.get("contractor") or None
    _card, data = export_scorecard(start, end, user=user, contractor_code=code, lang=lang())
    name = f"scorecards_{start:%Y%m%d}_{end:%Y%m%d}.xlsx"
    return Response(data, mimetype=XLSX_MIMETYPE,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})

