"""Contractor KPIs per period, computed with SQL aggregates (SQLite and PostgreSQL).

:func:`compute_scorecard` returns a :class:`Scorecard`: one :class:`KpiRow` per contractor (or per
region, or per technician for a contractor's own view), weekly trends and the breaches of the
period. ``Scorecard.to_dict()`` is what ``GET /api/v1/scorecards`` answers and exactly what the
Excel workbook (``fieldsvc.visits.scorecards.workbook``) shows.

Every number comes from ``select(func...).group_by(...)`` queries over the whole period: rows are
never loaded into Python to be counted. Only the breach list (a small subset) is fetched row by row,
because its lateness is measured in the contract's working calendar.

Definitions (the period is ``[start, end]``, local dates of the time zone; "now" is the moment of
computation):

* **PM due**: PM visits (not cancelled) whose due date lies in the period. **Done in window**:
  completed on or before the last day of their window (local date of check-out, else check-in).
  **Done late**: completed after the window. **Missed**: status missed, or not completed and the
  window closed before today. **Pending**: not completed, window still open (left out of the
  compliance denominator). **PM compliance %** = done in window / (due − pending).
* **EM calls**: calls reported in the period (not cancelled). **Response met %** = calls on site
  at or before ``response_by`` / calls whose response is decided (responded, or ``response_by``
  passed). Same for **resolution met %** with ``resolved_at``/``resolution_by``.
* **Median / p90 response and resolution time**: of ``response_minutes``/``resolution_minutes``
  (working minutes of the contract calendar, pauses excluded, written by the call services), in
  hours; continuous percentile (linear interpolation, as PostgreSQL ``percentile_cont``).
* **First-time fix %**: resolved calls with exactly one attempted visit (checked in: completed or
  failed) / resolved calls with at least one attempted visit.
* **Repeat calls (7 days)**: calls of the period whose terminal had another call reported less
  than 7 days before.
* **Installations on time %**: install visits due (deadline) in the period, completed at or before
  the deadline / those completed or past the deadline.
* **Open over 24/48/72 h**: calls of the period still not resolved now, by wall-clock age now.
* **Check-ins outside the geofence %**: check-ins of the period flagged unverified
  (``checkin_verified`` false) / check-ins with a verification result.
* **Satisfaction**: average survey score (1–5) of the period's calls.
* **Inspection completeness %** and **campaign on time %** (issue 23): see
  :mod:`fieldsvc.visits.scorecards.service_kpis`; reported with targets, not weighted in the score.
* **Review score**: average score (1–5) of the supervisors' daily reviews of services finished in
  the period (:mod:`fieldsvc.visits.scorecards.reviews`); a KPI with a target, not in the score.
* **Penalties**: penalty ledger lines of the period (by the day the breach occurred), not waived.
* **Score** (0–100): weighted average of the ratios in :data:`WEIGHTS` (each 0–1; outside-geofence
  counts as 1 − share; satisfaction as (score − 1) / 4); KPIs without data are left out and the
  remaining weights re-normalised. **Rank**: by score, highest first (ties share the rank).
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, case, false, func, literal, or_, select, true
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from fieldsvc.calendar import CalendarSpec
from fieldsvc.db import db, utcnow
from fieldsvc.visits import models as m
from fieldsvc.visits.contracts.penalties import BreachKind
from fieldsvc.visits.scope import Forbidden, scope_clause
from fieldsvc.visits.contracts.sla import days_late, minutes_late
from fieldsvc.visits.contracts.versions import version_in_force
from fieldsvc.visits.scorecards import service_kpis
from fieldsvc.visits.scorecards.desk_kpis import desk_by_tier, desk_totals
from fieldsvc.visits.scorecards.reviews import review_kpis
from fieldsvc.visits.scorecards.sql_time import epoch
from fieldsvc.visits.states import CallStatus, VisitStatus

__all__ = [
    "GROUPINGS", "WEIGHTS", "TARGETS", "KPI_KEYS", "Period", "KpiRow", "WeekPoint", "BreachRow",
    "Scorecard", "compute_scorecard", "find_breaches", "kpi_status", "MIN_DATE", "MAX_DATE", "KpiQuery",
    "scope_filter", "resolve_filters",
]

GROUPINGS = ("contractor", "region", "technician")

#: Weights of the overall score (sum 1). Documented in the workbook's Definitions sheet.
WEIGHTS: dict[str, float] = {
    "pm_compliance_pct": 0.25,
    "response_met_pct": 0.20,
    "resolution_met_pct": 0.25,
    "first_time_fix_pct": 0.10,
    "installs_on_time_pct": 0.10,
    "geofence_flagged_pct": 0.05,
    "satisfaction_avg": 0.05,
}

#: Targets of the scorecard colours: (target, higher is better). "At risk" is within
#: :data:`AT_RISK_MARGIN` of the target on the wrong side.
TARGETS: dict[str, tuple[float, bool]] = {
    "pm_compliance_pct": (95.0, True),
    "response_met_pct": (90.0, True),
    "resolution_met_pct": (90.0, True),
    "first_time_fix_pct": (80.0, True),
    "installs_on_time_pct": (90.0, True),
    "geofence_flagged_pct": (5.0, False),
    "satisfaction_avg": (4.0, True),
    "inspection_completeness_pct": (95.0, True),
    "campaign_on_time_pct": (90.0, True),
    "review_score_avg": (4.0, True),
    "score": (90.0, True),
}
AT_RISK_MARGIN: dict[str, float] = {"satisfaction_avg": 0.5, "geofence_flagged_pct": 5.0, "review_score_avg": 0.5}
DEFAULT_MARGIN = 5.0

#: The KPI fields of a row, in display order.
KPI_KEYS: tuple[str, ...] = (
    "pm_due", "pm_done_in_window", "pm_done_late", "pm_missed", "pm_pending", "pm_compliance_pct",
    "em_calls", "response_met", "response_decided", "response_met_pct",
    "resolution_met", "resolution_decided", "resolution_met_pct",
    "response_median_h", "response_p90_h", "resolution_median_h", "resolution_p90_h",
    "first_time_fixes", "resolved_with_visit", "first_time_fix_pct", "repeat_calls_7d",
    "installs_due", "installs_on_time", "installs_decided", "installs_on_time_pct",
    "open_over_24h", "open_over_48h", "open_over_72h",
    "checkins", "checkins_flagged", "geofence_flagged_pct", "surveys", "satisfaction_avg",
    "inspections_due", "inspections_complete", "inspection_completeness_pct",
    "campaign_tasks_due", "campaign_tasks_on_time", "campaign_tasks_decided", "campaign_on_time_pct",
    "first_response_met", "first_response_decided", "first_response_met_pct", "first_response_avg_min",
    "remote_resolved", "remote_resolution_pct", "field_dispatched", "field_dispatch_pct",
    "reviews", "review_score_avg",
    "penalties_total", "score", "rank",
)

_DONE = (VisitStatus.COMPLETED,)
_ATTEMPTED = (VisitStatus.COMPLETED, VisitStatus.FAILED)
_OPEN_CALL = tuple(s.value for s in (CallStatus.OPEN, CallStatus.ASSIGNED, CallStatus.SCHEDULED,
                                     CallStatus.IN_PROGRESS))
_DAY = 86400.0
#: Dates a period may use (Jalali conversion and calendars are defined well inside these).
MIN_DATE, MAX_DATE = dt.date(1950, 1, 1), dt.date(2199, 12, 31)


# --------------------------------------------------------------------------- data out


@dataclass(frozen=True)
class Period:
    """Local dates ``start``..``end`` (inclusive) in time zone ``tz``."""

    start: dt.date
    end: dt.date
    tz: str = "Asia/Tehran"

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"the period ends ({self.end}) before it starts ({self.start})")
        for d in (self.start, self.end):
            if not MIN_DATE <= d <= MAX_DATE:
                raise ValueError(f"{d} is outside the supported dates {MIN_DATE} to {MAX_DATE}")

    @property
    def start_utc(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time(), ZoneInfo(self.tz)).astimezone(dt.timezone.utc)

    @property
    def end_utc(self) -> dt.datetime:
        """Exclusive end: local midnight after ``end``."""
        nxt = self.end + dt.timedelta(days=1)
        return dt.datetime.combine(nxt, dt.time(), ZoneInfo(self.tz)).astimezone(dt.timezone.utc)

    @property
    def utc_offset_seconds(self) -> float:
        """UTC offset of the zone at the period start (Tehran: +3:30, no DST since 2022)."""
        off = self.start_utc.astimezone(ZoneInfo(self.tz)).utcoffset()
        return off.total_seconds() if off else 0.0

    def weeks(self) -> list[tuple[dt.date, dt.date]]:
        """Seven-day buckets from ``start`` (the last one may be shorter)."""
        out, d = [], self.start
        while d <= self.end:
            e = min(d + dt.timedelta(days=6), self.end)
            out.append((d, e))
            d = e + dt.timedelta(days=1)
        return out


@dataclass
class KpiRow:
    """KPIs of one contractor (or region, or technician) over the period. Percentages 0–100,
    hours of contract working time, amounts in Rial; None where there is nothing to measure."""

    key: int
    code: str
    name: str
    name_fa: str = ""
    contractor_code: str = ""
    #: Contractor rows: "uc" (an outside contractor) or "ola" (an internal team: all its contracts are OLAs).
    contract_kind: str = ""
    pm_due: int = 0
    pm_done_in_window: int = 0
    pm_done_late: int = 0
    pm_missed: int = 0
    pm_pending: int = 0
    pm_compliance_pct: float | None = None
    em_calls: int = 0
    response_met: int = 0
    response_decided: int = 0
    response_met_pct: float | None = None
    resolution_met: int = 0
    resolution_decided: int = 0
    resolution_met_pct: float | None = None
    response_median_h: float | None = None
    response_p90_h: float | None = None
    resolution_median_h: float | None = None
    resolution_p90_h: float | None = None
    first_time_fixes: int = 0
    resolved_with_visit: int = 0
    first_time_fix_pct: float | None = None
    repeat_calls_7d: int = 0
    installs_due: int = 0
    installs_on_time: int = 0
    installs_decided: int = 0
    installs_on_time_pct: float | None = None
    open_over_24h: int = 0
    open_over_48h: int = 0
    open_over_72h: int = 0
    checkins: int = 0
    checkins_flagged: int = 0
    geofence_flagged_pct: float | None = None
    surveys: int = 0
    satisfaction_avg: float | None = None
    inspections_due: int = 0
    inspections_complete: int = 0
    inspection_completeness_pct: float | None = None
    campaign_tasks_due: int = 0
    campaign_tasks_on_time: int = 0
    campaign_tasks_decided: int = 0
    campaign_on_time_pct: float | None = None
    reviews: int = 0
    review_score_avg: float | None = None
    penalties: dict[str, int] = field(default_factory=dict)
    penalties_total: int = 0
    #: the support desk (issue 21, fieldsvc.visits.scorecards.desk_kpis)
    first_response_met: int = 0
    first_response_decided: int = 0
    first_response_met_pct: float | None = None
    first_response_avg_min: float | None = None
    remote_resolved: int = 0
    remote_resolution_pct: float | None = None
    field_dispatched: int = 0
    field_dispatch_pct: float | None = None
    score: float | None = None
    rank: int | None = None

    def status(self, kpi: str) -> str | None:
        """"met", "at_risk", "breached" against :data:`TARGETS`, None without data/target."""
        return kpi_status(kpi, getattr(self, kpi))


@dataclass(frozen=True)
class WeekPoint:
    """One week of a contractor's trend."""

    week_start: dt.date
    week_end: dt.date
    em_calls: int
    response_met_pct: float | None
    resolution_met_pct: float | None
    pm_due: int
    pm_compliance_pct: float | None


@dataclass(frozen=True)
class BreachRow:
    """One breach of the period: what, which object, the day it belongs to (``occurred_on``: the
    call's report date, the PM due date, the installation deadline's date: the same day that puts
    the object in a period's KPIs), deadline, when done (None: not done), lateness in working
    minutes (EM) or days (PM, installation)."""

    contractor_id: int
    contract_id: int
    psp_id: int
    kind: str
    reference: str
    occurred_on: dt.date
    deadline: dt.datetime
    done_at: dt.datetime | None
    minutes_late: int
    days_late: int
    service_call_id: int | None = None
    visit_id: int | None = None
    label: str = ""


@dataclass
class Scorecard:
    """KPIs of a period: rows ranked by score, weekly trends and breaches per contractor code."""

    start: dt.date
    end: dt.date
    group_by: str
    generated_at: dt.datetime
    rows: list[KpiRow]
    trends: dict[str, list[WeekPoint]] = field(default_factory=dict)
    breaches: dict[str, list[BreachRow]] = field(default_factory=dict)
    #: desk KPIs per contractor and tier (fieldsvc.visits.scorecards.desk_kpis.DeskRow)
    desk: list[Any] = field(default_factory=list)
    weights: dict[str, float] = field(default_factory=lambda: dict(WEIGHTS))
    targets: dict[str, float] = field(default_factory=lambda: {k: v[0] for k, v in TARGETS.items()})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready structure (dates ISO, datetimes ISO UTC)."""
        def conv(v: Any) -> Any:
            if isinstance(v, (dt.date, dt.datetime)):
                return v.isoformat()
            if isinstance(v, dict):
                return {k: conv(x) for k, x in v.items()}
            if isinstance(v, list):
                return [conv(x) for x in v]
            return v
        rows = []
        for r in self.rows:
            d = asdict(r)
            d["status"] = {k: r.status(k) for k in TARGETS if r.status(k) is not None}
            rows.append(d)
        return conv({
            "from": self.start, "to": self.end, "group_by": self.group_by,
            "generated_at": self.generated_at, "weights": self.weights, "targets": self.targets,
            "rows": rows,
            "trends": {k: [asdict(p) for p in v] for k, v in self.trends.items()},
            "breaches": {k: [asdict(b) for b in v] for k, v in self.breaches.items()},
            "desk": [asdict(d) for d in self.desk],
        })


def kpi_status(kpi: str, value: float | None) -> str | None:
    """Colour class of a value against its target: met, at_risk or breached."""
    if value is None or kpi not in TARGETS:
        return None
    target, higher = TARGETS[kpi]
    margin = AT_RISK_MARGIN.get(kpi, DEFAULT_MARGIN)
    gap = (value - target) if higher else (target - value)
    if gap >= 0:
        return "met"
    return "at_risk" if gap >= -margin else "breached"


# --------------------------------------------------------------------------- helpers


def _pct(num: int, den: int) -> float | None:
    return round(100.0 * num / den, 2) if den else None


def _i(v: Any) -> int:
    return int(v or 0)


def scope_filter(model: type, user: m.User | None) -> ColumnElement[bool]:
    """Tenant filter: the user's scope; None means the command line (everything)."""
    return true() if user is None else scope_clause(model, user)


class _Keys:
    """Group-key expressions per table for one grouping."""

    def __init__(self, group_by: str) -> None:
        if group_by not in GROUPINGS:
            raise ValueError(f"group_by must be one of {GROUPINGS}, got {group_by!r}")
        self.group_by = group_by

    def call(self) -> tuple[ColumnElement, bool]:
        """(key column, needs a merchant join) for ServiceCall."""
        if self.group_by == "contractor":
            return m.ServiceCall.contractor_id, False
        if self.group_by == "technician":
            return m.ServiceCall.technician_id, False
        return m.Merchant.region_id, True

    def visit(self) -> tuple[ColumnElement, bool]:
        if self.group_by == "contractor":
            return m.Visit.contractor_id, False
        if self.group_by == "technician":
            return m.Visit.technician_id, False
        return m.Merchant.region_id, True


class KpiQuery:
    """The filters shared by every KPI query of one scorecard (period, scope, PSP and contractor
    filters, the grouping key); also used by fieldsvc.visits.scorecards.drill for the lists behind numbers."""

    def __init__(self, period: Period, user: m.User | None, group_by: str, now: dt.datetime,
                 psp_id: int | None, contractor_ids: Sequence[int] | None) -> None:
        self.p, self.user, self.now = period, user, now
        self.keys = _Keys(group_by)
        self.psp_id, self.contractor_ids = psp_id, contractor_ids
        self.offset = period.utc_offset_seconds

    # filters ----------------------------------------------------------------
    def calls(self, stmt: Select, *, reported_in_period: bool = True) -> Select:
        key, join = self.keys.call()
        stmt = stmt.select_from(m.ServiceCall)
        if join:
            stmt = stmt.join(m.Merchant, m.Merchant.id == m.ServiceCall.merchant_id)
        stmt = stmt.where(scope_filter(m.ServiceCall, self.user), m.ServiceCall.status != CallStatus.CANCELLED,
                          key.is_not(None))
        if reported_in_period:
            stmt = stmt.where(m.ServiceCall.reported_at >= self.p.start_utc,
                              m.ServiceCall.reported_at < self.p.end_utc)
        if self.psp_id is not None:
            stmt = stmt.where(m.ServiceCall.psp_id == self.psp_id)
        if self.contractor_ids is not None:
            stmt = stmt.where(m.ServiceCall.contractor_id.in_(self.contractor_ids))
        return stmt

    def visits(self, stmt: Select, kind: str | None = None, *, merchant: bool = False) -> Select:
        """Visits in scope (not cancelled); joins Merchant when grouping by region, filtering by
        PSP, or when ``merchant`` (the statement reads merchant columns)."""
        key, join = self.keys.visit()
        stmt = stmt.select_from(m.Visit)
        if join or merchant or self.psp_id is not None:
            stmt = stmt.join(m.Merchant, m.Merchant.id == m.Visit.merchant_id)
        stmt = stmt.where(scope_filter(m.Visit, self.user), m.Visit.status != VisitStatus.CANCELLED,
                          key.is_not(None))
        if kind:
            stmt = stmt.where(m.Visit.kind == kind)
        if self.psp_id is not None:
            stmt = stmt.where(m.Merchant.psp_id == self.psp_id)
        if self.contractor_ids is not None:
            stmt = stmt.where(m.Visit.contractor_id.in_(self.contractor_ids))
        return stmt

    # expressions --------------------------------------------------------------
    def local_day_end(self, date_col: ColumnElement) -> ColumnElement:
        """Epoch (UTC) of the end of a local date column's day."""
        return epoch(date_col) + _DAY - self.offset

    @property
    def now_epoch(self) -> float:
        return self.now.timestamp()

    @property
    def today(self) -> dt.date:
        return self.now.astimezone(ZoneInfo(self.p.tz)).date()


def _rows(stmt: Select) -> list[Any]:
    return list(db.session.execute(stmt).all())


def _count_if(cond: ColumnElement) -> ColumnElement:
    return func.sum(case((cond, 1), else_=0))


# --------------------------------------------------------------------------- KPI queries


def _pm(q: KpiQuery) -> dict[int, dict[str, int]]:
    key, _ = q.keys.visit()
    v = m.Visit
    done_at = func.coalesce(v.checkout_at, v.checkin_at)
    last_day = func.coalesce(v.window_end, v.due_date)
    completed = v.status == VisitStatus.COMPLETED
    in_window = and_(completed, epoch(done_at) < q.local_day_end(last_day))
    late = and_(completed, epoch(done_at) >= q.local_day_end(last_day))
    missed = or_(v.status == VisitStatus.MISSED, and_(~completed, last_day < q.today))
    pending = and_(~completed, v.status != VisitStatus.MISSED, last_day >= q.today)
    stmt = q.visits(select(key, func.count(), _count_if(in_window), _count_if(late),
                           _count_if(missed), _count_if(pending)), "pm")
    stmt = stmt.where(v.due_date >= q.p.start, v.due_date <= q.p.end).group_by(key)
    return {k: {"pm_due": _i(n), "pm_done_in_window": _i(a), "pm_done_late": _i(b),
                "pm_missed": _i(c), "pm_pending": _i(d)} for k, n, a, b, c, d in _rows(stmt)}


def _em(q: KpiQuery) -> dict[int, dict[str, Any]]:
    key, _ = q.keys.call()
    c = m.ServiceCall
    now = q.now
    resp_met = and_(c.responded_at.is_not(None), c.responded_at <= c.response_by)
    resp_dec = or_(c.responded_at.is_not(None), c.response_by < now)
    res_met = and_(c.resolved_at.is_not(None), c.resolved_at <= c.resolution_by)
    res_dec = or_(c.resolved_at.is_not(None), c.resolution_by < now)
    age = q.now_epoch - epoch(c.reported_at)
    is_open = c.status.in_(_OPEN_CALL)
    stmt = q.calls(select(
        key, func.count(), _count_if(resp_met), _count_if(resp_dec), _count_if(res_met),
        _count_if(res_dec), _count_if(and_(is_open, age > 24 * 3600)),
        _count_if(and_(is_open, age > 48 * 3600)), _count_if(and_(is_open, age > 72 * 3600)),
        func.count(c.survey_score), func.avg(c.survey_score))).group_by(key)
    out: dict[int, dict[str, Any]] = {}
    for k, n, rm, rd, sm, sd, o24, o48, o72, ns, avg in _rows(stmt):
        out[k] = {"em_calls": _i(n), "response_met": _i(rm), "response_decided": _i(rd),
                  "resolution_met": _i(sm), "resolution_decided": _i(sd),
                  "open_over_24h": _i(o24), "open_over_48h": _i(o48), "open_over_72h": _i(o72),
                  "surveys": _i(ns),
                  "satisfaction_avg": None if avg is None else round(float(avg), 2)}
    return out


def _percentiles(q: KpiQuery, column: ColumnElement, name: str) -> dict[int, dict[str, float]]:
    """Median and p90 (continuous, in hours) of a minutes column per key."""
    key, _ = q.keys.call()
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt = q.calls(select(
            key, func.percentile_cont(0.5).within_group(column.asc()),
            func.percentile_cont(0.9).within_group(column.asc()))).where(column.is_not(None)).group_by(key)
        res = _rows(stmt)
    else:
        res = _percentiles_window(q, key, column)
    return {k: {f"{name}_median_h": None if a is None else round(float(a) / 60, 2),
                f"{name}_p90_h": None if b is None else round(float(b) / 60, 2)} for k, a, b in res}


def _percentiles_window(q: KpiQuery, key: ColumnElement, column: ColumnElement) -> list[Any]:
    """percentile_cont(0.5) and (0.9) with row_number()/count() windows (for SQLite)."""
    inner = q.calls(select(
        key.label("k"), column.label("v"),
        func.row_number().over(partition_by=key, order_by=column).label("rn"),
        func.count().over(partition_by=key).label("cnt"))).where(column.is_not(None)).subquery()

    def pick(num: int, den: int) -> ColumnElement:
        pos = (inner.c.cnt - 1) * num                       # position * den
        lo = pos // den                                     # 0-based rank below
        frac = (pos % den) * 1.0 / den
        return func.sum(case((inner.c.rn - 1 == lo, inner.c.v * (1.0 - frac)),
                             (inner.c.rn - 1 == lo + 1, inner.c.v * frac), else_=0.0))
    return _rows(select(inner.c.k, pick(1, 2), pick(9, 10)).group_by(inner.c.k))


def _first_time_fix(q: KpiQuery) -> dict[int, dict[str, int]]:
    key, _ = q.keys.call()
    c = m.ServiceCall
    attempts = (select(m.Visit.service_call_id.label("cid"), func.count().label("n"))
                .where(m.Visit.service_call_id.is_not(None), m.Visit.status.in_(_ATTEMPTED))
                .group_by(m.Visit.service_call_id).subquery())
    stmt = q.calls(select(key, func.count(), _count_if(attempts.c.n == 1)))
    stmt = stmt.join(attempts, attempts.c.cid == c.id)
    stmt = stmt.where(c.resolved_at.is_not(None)).group_by(key)
    return {k: {"resolved_with_visit": _i(n), "first_time_fixes": _i(f)} for k, n, f in _rows(stmt)}


def _repeats(q: KpiQuery) -> dict[int, dict[str, int]]:
    key, _ = q.keys.call()
    c = m.ServiceCall
    inner = q.calls(select(
        key.label("k"), c.reported_at.label("at"),
        func.lag(c.reported_at).over(partition_by=c.terminal_id,
                                     order_by=(c.reported_at, c.id)).label("prev")),
        reported_in_period=False)
    inner = inner.where(c.reported_at >= q.p.start_utc - dt.timedelta(days=7),
                        c.reported_at < q.p.end_utc).subquery()
    stmt = (select(inner.c.k, func.count())
            .where(inner.c.at >= q.p.start_utc, inner.c.prev.is_not(None),
                   epoch(inner.c.at) - epoch(inner.c.prev) < 7 * _DAY)
            .group_by(inner.c.k))
    return {k: {"repeat_calls_7d": _i(n)} for k, n in _rows(stmt)}


def _installs(q: KpiQuery) -> dict[int, dict[str, int]]:
    key, _ = q.keys.visit()
    v = m.Visit
    done_at = func.coalesce(v.checkout_at, v.checkin_at)
    completed = v.status == VisitStatus.COMPLETED
    on_time = and_(completed, done_at <= v.deadline)
    decided = or_(completed, v.deadline < q.now)
    stmt = q.visits(select(key, func.count(), _count_if(on_time), _count_if(decided)), "install")
    stmt = stmt.where(v.deadline >= q.p.start_utc, v.deadline < q.p.end_utc).group_by(key)
    return {k: {"installs_due": _i(n), "installs_on_time": _i(a), "installs_decided": _i(d)}
            for k, n, a, d in _rows(stmt)}


def _geofence(q: KpiQuery) -> dict[int, dict[str, int]]:
    key, _ = q.keys.visit()
    v = m.Visit
    stmt = q.visits(select(key, func.count(), _count_if(v.checkin_verified == false())))
    stmt = stmt.where(v.checkin_at >= q.p.start_utc, v.checkin_at < q.p.end_utc,
                      v.checkin_verified.is_not(None)).group_by(key)
    return {k: {"checkins": _i(n), "checkins_flagged": _i(f)} for k, n, f in _rows(stmt)}


def _penalties(q: KpiQuery) -> dict[int, dict[str, Any]]:
    pl = m.PenaltyLine
    sc, vi = aliased(m.ServiceCall), aliased(m.Visit)
    stmt = select(pl.kind, func.sum(pl.amount_rial))
    if q.keys.group_by == "contractor":
        key = pl.contractor_id
    else:
        stmt = stmt.outerjoin(sc, sc.id == pl.service_call_id).outerjoin(vi, vi.id == pl.visit_id)
        if q.keys.group_by == "technician":
            key = func.coalesce(sc.technician_id, vi.technician_id)
        else:
            stmt = stmt.join(m.Merchant, m.Merchant.id == func.coalesce(sc.merchant_id, vi.merchant_id))
            key = m.Merchant.region_id
    stmt = stmt.add_columns(key).where(
        scope_filter(pl, q.user), pl.status != m.PenaltyStatus.WAIVED,
        pl.occurred_on >= q.p.start, pl.occurred_on <= q.p.end, key.is_not(None))
    if q.psp_id is not None:
        stmt = stmt.where(pl.psp_id == q.psp_id)
    if q.contractor_ids is not None:
        stmt = stmt.where(pl.contractor_id.in_(q.contractor_ids))
    out: dict[int, dict[str, Any]] = defaultdict(lambda: {"penalties": {}, "penalties_total": 0})
    for kind, amount, k in _rows(stmt.group_by(key, pl.kind)):
        out[k]["penalties"][kind] = _i(amount)
        out[k]["penalties_total"] += _i(amount)
    return dict(out)


def _trend(q: KpiQuery) -> dict[int, list[WeekPoint]]:
    """Weekly EM and PM figures per contractor (buckets built as CASE over the week starts)."""
    weeks = q.p.weeks()
    zone = ZoneInfo(q.p.tz)

    def bucket_ts(col: ColumnElement) -> ColumnElement:
        whens = [(col < dt.datetime.combine(e + dt.timedelta(days=1), dt.time(), zone)
                  .astimezone(dt.timezone.utc), i) for i, (_, e) in enumerate(weeks)]
        return case(*whens, else_=len(weeks) - 1)

    def bucket_date(col: ColumnElement) -> ColumnElement:
        return case(*[(col <= e, i) for i, (_, e) in enumerate(weeks)], else_=len(weeks) - 1)

    c, v = m.ServiceCall, m.Visit
    em: dict[tuple[int, int], tuple] = {}
    b = bucket_ts(c.reported_at).label("b")
    for k, w, n, rm, rd, sm, sd in _rows(q.calls(select(
            c.contractor_id, b, func.count(),
            _count_if(and_(c.responded_at.is_not(None), c.responded_at <= c.response_by)),
            _count_if(or_(c.responded_at.is_not(None), c.response_by < q.now)),
            _count_if(and_(c.resolved_at.is_not(None), c.resolved_at <= c.resolution_by)),
            _count_if(or_(c.resolved_at.is_not(None), c.resolution_by < q.now))))
            .group_by(c.contractor_id, b)):
        em[(k, w)] = (_i(n), _pct(_i(rm), _i(rd)), _pct(_i(sm), _i(sd)))
    pm: dict[tuple[int, int], tuple] = {}
    done_at = func.coalesce(v.checkout_at, v.checkin_at)
    last_day = func.coalesce(v.window_end, v.due_date)
    completed = v.status == VisitStatus.COMPLETED
    pending = and_(~completed, v.status != VisitStatus.MISSED, last_day >= q.today)
    bd = bucket_date(v.due_date).label("b")
    for k, w, n, ok, pend in _rows(q.visits(select(
            v.contractor_id, bd, func.count(),
            _count_if(and_(completed, epoch(done_at) < q.local_day_end(last_day))),
            _count_if(pending)), "pm")
            .where(v.due_date >= q.p.start, v.due_date <= q.p.end).group_by(v.contractor_id, bd)):
        pm[(k, w)] = (_i(n), _pct(_i(ok), _i(n) - _i(pend)))
    keys = {k for k, _ in em} | {k for k, _ in pm}
    out: dict[int, list[WeekPoint]] = {}
    for k in keys:
        out[k] = [WeekPoint(s, e, *em.get((k, i), (0, None, None)), *pm.get((k, i), (0, None)))
                  for i, (s, e) in enumerate(weeks)]
    return out


# --------------------------------------------------------------------------- score


def _ratio(kpi: str, value: float | None) -> float | None:
    if value is None:
        return None
    if kpi == "geofence_flagged_pct":
        return 1 - value / 100
    if kpi == "satisfaction_avg":
        return max(0.0, min(1.0, (value - 1) / 4))
    return value / 100


def _score(row: KpiRow) -> float | None:
    parts = [(w, _ratio(k, getattr(row, k))) for k, w in WEIGHTS.items()]
    parts = [(w, r) for w, r in parts if r is not None]
    total = sum(w for w, _ in parts)
    if not total:
        return None
    return round(100 * sum(w * r for w, r in parts) / total, 2)


def _rank(rows: list[KpiRow]) -> list[KpiRow]:
    rows.sort(key=lambda r: (r.score is None, -(r.score or 0), r.code))
    last, rank = None, 0
    for i, r in enumerate(rows, start=1):
        if r.score is None:
            r.rank = None
            continue
        if r.score != last:
            rank, last = i, r.score
        r.rank = rank
    return rows


# --------------------------------------------------------------------------- labels and scope


def _labels(group_by: str, keys: Iterable[int]) -> dict[int, tuple[str, str, str, str]]:
    keys = list(keys)
    if not keys:
        return {}
    if group_by == "contractor":
        rows = _rows(select(m.Contractor.id, m.Contractor.code, m.Contractor.name, m.Contractor.name_fa,
                            m.Contractor.code).where(m.Contractor.id.in_(keys)))
    elif group_by == "region":
        rows = _rows(select(m.Region.id, m.Region.code, m.Region.name, m.Region.name_fa, literal(""))
                     .where(m.Region.id.in_(keys)))
    else:
        rows = _rows(select(m.Technician.id, m.Technician.code, m.Technician.name, m.Technician.name,
                            m.Contractor.code).join(m.Contractor)
                     .where(m.Technician.id.in_(keys)))
    return {r[0]: (r[1], r[2], r[3] or "", r[4] or "") for r in rows}


def _contract_kinds(q: KpiQuery) -> dict[int, set[str]]:
    """The kinds (uc / ola) of each contractor's contracts (with the PSP in question, if any)."""
    stmt = select(m.Contract.contractor_id, m.Contract.kind)
    if q.psp_id is not None:
        stmt = stmt.where(m.Contract.psp_id == q.psp_id)
    out: dict[int, set[str]] = defaultdict(set)
    for cid, kind in _rows(stmt):
        out[cid].add(kind or "uc")
    return out


def _base_keys(q: KpiQuery) -> set[int]:
    """Contractors always listed (even without data) in the contractor view."""
    if q.keys.group_by != "contractor":
        return set()
    stmt = select(m.Contractor.id).where(scope_filter(m.Contractor, q.user))
    if q.psp_id is not None:
        stmt = stmt.where(m.Contractor.id.in_(select(m.Contract.contractor_id)
                                              .where(m.Contract.psp_id == q.psp_id)))
    if q.contractor_ids is not None:
        stmt = stmt.where(m.Contractor.id.in_(q.contractor_ids))
    return set(db.session.scalars(stmt))


def resolve_filters(user: m.User | None, psp_code: str | None, contractor_code: str | None
                    ) -> tuple[int | None, list[int] | None]:
    """PSP id and contractor ids of codes given by a user; unknown or out-of-scope codes answer
    :class:`~fieldsvc.visits.scope.NotFound`."""
    from fieldsvc.visits.scope import NotFound
    psp_id = None
    contractor_ids = None
    if psp_code:
        psp_id = db.session.scalar(select(m.Psp.id).where(m.Psp.code == psp_code,
                                                          scope_filter(m.Psp, user)))
        if psp_id is None:
            raise NotFound("PSP", psp_code)
    if contractor_code:
        cid = db.session.scalar(select(m.Contractor.id).where(m.Contractor.code == contractor_code,
                                                              scope_filter(m.Contractor, user)))
        if cid is None:
            raise NotFound("Contractor", contractor_code)
        contractor_ids = [cid]
    return psp_id, contractor_ids


# --------------------------------------------------------------------------- public


def compute_scorecard(start: dt.date, end: dt.date, *, user: m.User | None,
                      group_by: str = "contractor", psp_code: str | None = None,
                      contractor_code: str | None = None, now: dt.datetime | None = None,
                      tz: str = "Asia/Tehran", with_breaches: bool = True) -> Scorecard:
    """KPIs of ``[start, end]`` (local dates) per contractor, region or technician, limited to the
    user's scope (``user=None``: the command line, no limit). Technician rows are for a
    contractor's own view (dispatchers) and for admins."""
    if group_by == "technician" and user is not None and user.role not in (m.Role.DISPATCHER, m.Role.ADMIN):
        raise Forbidden("per-technician scorecards are for the contractor's own dispatchers")
    period = Period(start, end, tz)
    now = now or utcnow()
    psp_id, contractor_ids = resolve_filters(user, psp_code, contractor_code)
    q = KpiQuery(period, user, group_by, now, psp_id, contractor_ids)
    parts: list[dict[int, dict[str, Any]]] = [
        _pm(q), _em(q), _percentiles(q, m.ServiceCall.response_minutes, "response"),
        _percentiles(q, m.ServiceCall.resolution_minutes, "resolution"), _first_time_fix(q),
        _repeats(q), _installs(q), _geofence(q), _penalties(q), *service_kpis.parts(q), desk_totals(q), review_kpis(q)]
    keys = _base_keys(q).union(*[p.keys() for p in parts])
    labels = _labels(group_by, keys)
    kinds = _contract_kinds(q) if group_by == "contractor" else {}
    rows = []
    for k in keys:
        code, name, name_fa, ccode = labels.get(k, (str(k), str(k), "", ""))
        row = KpiRow(key=k, code=code, name=name, name_fa=name_fa, contractor_code=ccode,
                     contract_kind=("ola" if kinds.get(k) == {"ola"} else "uc") if k in kinds else "")
        for p in parts:
            for attr, val in p.get(k, {}).items():
                setattr(row, attr, val)
        row.pm_compliance_pct = _pct(row.pm_done_in_window, row.pm_due - row.pm_pending)
        row.response_met_pct = _pct(row.response_met, row.response_decided)
        row.resolution_met_pct = _pct(row.resolution_met, row.resolution_decided)
        row.first_time_fix_pct = _pct(row.first_time_fixes, row.resolved_with_visit)
        row.installs_on_time_pct = _pct(row.installs_on_time, row.installs_decided)
        row.geofence_flagged_pct = _pct(row.checkins_flagged, row.checkins)
        row.inspection_completeness_pct = _pct(row.inspections_complete, row.inspections_due)
        row.campaign_on_time_pct = _pct(row.campaign_tasks_on_time, row.campaign_tasks_decided)
        row.score = _score(row)
        rows.append(row)
    card = Scorecard(start, end, group_by, now, _rank(rows))
    if group_by == "contractor":
        by_key = {r.key: r for r in rows}
        card.desk = [d for d in desk_by_tier(q) if d.key in by_key]
        for d in card.desk:
            d.code, d.name, d.name_fa = by_key[d.key].code, by_key[d.key].name, by_key[d.key].name_fa
        trend = _trend(q)
        card.trends = {r.code: trend.get(r.key, [WeekPoint(s, e, 0, None, None, 0, None)
                                                 for s, e in period.weeks()]) for r in rows}
        if with_breaches:
            by_id = {r.key: r.code for r in rows}
            card.breaches = {r.code: [] for r in rows}
            for b in find_breaches(start, end, user=user, psp_id=psp_id,
                                   contractor_ids=contractor_ids, now=now, tz=tz):
                if b.contractor_id in by_id:
                    card.breaches[by_id[b.contractor_id]].append(b)
    return card


def _aware(x: dt.datetime | None) -> dt.datetime | None:
    if x is None:
        return None
    return x if x.tzinfo else x.replace(tzinfo=dt.timezone.utc)


def find_breaches(start: dt.date, end: dt.date, *, user: m.User | None, psp_id: int | None = None,
                  contractor_ids: Sequence[int] | None = None, now: dt.datetime | None = None,
                  tz: str = "Asia/Tehran") -> list[BreachRow]:
    """Every breach of the objects the period's KPIs count (calls reported, PM due, installations
    due in the period): late or missing response and resolution of EM calls, PM done after its
    window or missed, late installations. SQL selects the breaching rows; lateness is measured with
    the contract calendar (EM: working minutes without pauses, :func:`fieldsvc.visits.contracts.sla.minutes_late`;
    PM: calendar days after the window; installation: started 24 h periods,
    :func:`fieldsvc.visits.contracts.sla.days_late`). Sorted by deadline, then reference."""
    period = Period(start, end, tz)
    now = now or utcnow()
    zone = ZoneInfo(tz)
    q = KpiQuery(period, user, "contractor", now, psp_id, contractor_ids)
    c, v = m.ServiceCall, m.Visit
    calendars: dict[tuple[int, int], CalendarSpec] = {}

    def cal(contract_id: int, reported: dt.datetime) -> CalendarSpec:
        """The calendar of the contract version in force when the call was reported."""
        version = version_in_force(db.session.get(m.Contract, contract_id), reported)
        key = (contract_id, version.number)
        if key not in calendars:
            calendars[key] = CalendarSpec.from_dict(version.calendar)
        return calendars[key]

    def local(x: dt.datetime) -> dt.date:
        return x.astimezone(zone).date()

    out: list[BreachRow] = []
    em_rows = []
    for clock, deadline_col, done_col, kind in (
            ("response", c.response_by, c.responded_at, BreachKind.LATE_RESPONSE),
            ("resolution", c.resolution_by, c.resolved_at, BreachKind.LATE_RESOLUTION)):
        late = or_(done_col > deadline_col, and_(done_col.is_(None), deadline_col < now))
        stmt = q.calls(select(c.id, c.contractor_id, c.contract_id, c.psp_id, c.tracking_number,
                              c.reported_at, deadline_col, done_col)).where(late)
        em_rows += [(clock, kind, *r) for r in _rows(stmt)]
    pauses: dict[int, list[tuple[dt.datetime, dt.datetime | None]]] = defaultdict(list)
    ids = sorted({r[2] for r in em_rows})
    for i in range(0, len(ids), 900):
        for cid, s, e in _rows(select(m.CallPause.call_id, m.CallPause.started_at, m.CallPause.ended_at)
                               .where(m.CallPause.call_id.in_(ids[i:i + 900]))):
            pauses[cid].append((_aware(s), _aware(e)))
    for clock, kind, cid, con, ctr, psp, tracking, reported, deadline, done in em_rows:
        deadline, done = _aware(deadline), _aware(done)
        late_min = minutes_late(deadline, done or now, cal(ctr, _aware(reported)), pauses.get(cid, ()))
        out.append(BreachRow(con, ctr, psp, kind.value, f"call:{cid}:{clock}", local(_aware(reported)),
                             deadline, done, late_min, 0, service_call_id=cid, label=tracking))

    # PM: done after the window, or missed.
    done_at = func.coalesce(v.checkout_at, v.checkin_at)
    last_day = func.coalesce(v.window_end, v.due_date)
    completed = v.status == VisitStatus.COMPLETED
    late_pm = and_(completed, epoch(done_at) >= q.local_day_end(last_day))
    missed = or_(v.status == VisitStatus.MISSED, and_(~completed, last_day < q.today))
    stmt = q.visits(select(v.id, v.contractor_id, v.contract_id, m.Merchant.psp_id, v.due_date,
                           last_day, done_at, late_pm, m.Merchant.name), "pm", merchant=True)
    stmt = stmt.where(v.due_date >= period.start, v.due_date <= period.end, or_(late_pm, missed),
                      v.contract_id.is_not(None))
    for vid, con, ctr, psp, due, day, done, is_late, mname in _rows(stmt):
        deadline = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.timezone.utc)
        done = _aware(done)
        if is_late and done is not None:
            days = max(1, (local(done) - day).days)
            out.append(BreachRow(con, ctr, psp, BreachKind.LATE_PM.value, f"visit:{vid}:pm", due,
                                 deadline, done, 0, days, visit_id=vid, label=mname))
        else:
            out.append(BreachRow(con, ctr, psp, BreachKind.MISSED_PM.value, f"visit:{vid}:pm", due,
                                 deadline, None, 0, 0, visit_id=vid, label=mname))

    # Installations: done after the deadline, or still not done past it.
    late_inst = or_(and_(completed, done_at > v.deadline), and_(~completed, v.deadline < now))
    stmt = q.visits(select(v.id, v.contractor_id, v.contract_id, m.Merchant.psp_id, v.deadline,
                           done_at, completed, m.Merchant.name), "install", merchant=True)
    stmt = stmt.where(v.deadline >= period.start_utc, v.deadline < period.end_utc, late_inst,
                      v.contract_id.is_not(None))
    for vid, con, ctr, psp, deadline, done, is_done, mname in _rows(stmt):
        deadline, done = _aware(deadline), _aware(done)
        finished = done if is_done else None
        out.append(BreachRow(con, ctr, psp, BreachKind.LATE_INSTALL.value, f"visit:{vid}:install",
                             local(deadline), deadline, finished, 0, days_late(deadline, finished or now),
                             visit_id=vid, label=mname))
    out.sort(key=lambda b: (b.deadline, b.reference))
    return out

