"""Support-desk KPIs per contractor and per tier (issue 21), with SQL aggregates.

The calls are those of the scorecard (reported in the period, in scope, not cancelled). Per
contractor (``KpiRow``) and per contractor and tier (:class:`DeskRow`, tiers ``tier1``, ``tier2``):

* **Calls at the tier**: tier 1 — every call (each opens there); tier 2 — calls that reached tier
  2 (a ``tier`` audit event to tier 2, or resolved remotely or dispatched from it).
* **First response met %**: calls whose first response came at or before ``first_response_by``,
  divided by the calls whose first response is decided (made, or its deadline passed); per tier,
  the calls whose first response that tier made (``first_response_tier``). Calls without a
  first-response target are left out. **Average first response (min)**: of
  ``first_response_minutes`` (working minutes, pauses excluded).
* **Remote resolution %**: calls resolved remotely (at that tier) and not reopened since (resolved
  or closed now) / calls at the tier.
* **Field dispatch %**: calls sent to the field (from that tier; a dispatcher's assignment of a
  call still at the desk counts for the tier it was at) / calls at the tier.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, exists, func, or_, select

from fieldsvc.db import db
from fieldsvc.visits import models as m

__all__ = ["DeskRow", "DESK_TIERS", "desk_totals", "desk_by_tier", "DESK_KPI_KEYS"]

DESK_TIERS = ("tier1", "tier2")
#: The desk KPIs of a contractor row (``KpiRow``), in display order.
DESK_KPI_KEYS = ("first_response_met", "first_response_decided", "first_response_met_pct",
                 "first_response_avg_min", "remote_resolved", "remote_resolution_pct", "field_dispatched",
                 "field_dispatch_pct")


#: a remote fix counts while it holds: the call is resolved or closed (not reopened since)
_FIXED = m.ServiceCall.status.in_(("resolved", "closed"))
#: ``q`` below is a fieldsvc.visits.scorecards.kpis.KpiQuery (the scorecard's filters); not imported,
#: since that module imports this one.
KpiQuery = Any


def _count_if(cond: Any) -> Any:
    return func.sum(case((cond, 1), else_=0))


def _i(v: Any) -> int:
    return int(v or 0)


def _pct(num: int, den: int) -> float | None:
    return round(100.0 * num / den, 2) if den else None


def _rows(stmt: Any) -> list[Any]:
    return list(db.session.execute(stmt).all())


@dataclass
class DeskRow:
    """Desk KPIs of one contractor at one tier."""

    key: int
    tier: str
    calls: int = 0
    first_response_met: int = 0
    first_response_decided: int = 0
    first_response_met_pct: float | None = None
    first_response_avg_min: float | None = None
    remote_resolved: int = 0
    remote_resolution_pct: float | None = None
    field_dispatched: int = 0
    field_dispatch_pct: float | None = None
    code: str = ""
    name: str = ""
    name_fa: str = ""


def _first_response(q: KpiQuery) -> tuple[Any, Any]:
    c = m.ServiceCall
    met = and_(c.first_responded_at.is_not(None), c.first_responded_at <= c.first_response_by)
    decided = and_(c.first_response_by.is_not(None),
                   or_(c.first_responded_at.is_not(None), c.first_response_by < q.now))
    return met, decided


def desk_totals(q: KpiQuery) -> dict[int, dict[str, Any]]:
    """The desk KPIs of each key (contractor, region, technician) over all tiers."""
    key, _ = q.keys.call()
    c = m.ServiceCall
    met, decided = _first_response(q)
    stmt = q.calls(select(key, func.count(), _count_if(met), _count_if(decided), func.avg(c.first_response_minutes),
                          _count_if(and_(c.remote_resolved_tier.is_not(None), _FIXED)),
                          _count_if(c.dispatched_from_tier.is_not(None)))).group_by(key)
    out: dict[int, dict[str, Any]] = {}
    for k, n, fm, fd, avg, remote, field in _rows(stmt):
        out[k] = {"first_response_met": _i(fm), "first_response_decided": _i(fd),
                  "first_response_met_pct": _pct(_i(fm), _i(fd)),
                  "first_response_avg_min": None if avg is None else round(float(avg), 1),
                  "remote_resolved": _i(remote), "remote_resolution_pct": _pct(_i(remote), _i(n)),
                  "field_dispatched": _i(field), "field_dispatch_pct": _pct(_i(field), _i(n))}
    return out


def _reached(tier: str) -> Any:
    c = m.ServiceCall
    if tier == "tier1":
        return c.id.is_not(None)
    moved_there = exists().where(m.AuditEvent.object_type == c.__tablename__, m.AuditEvent.object_id == c.id,
                                 m.AuditEvent.action == "tier", m.AuditEvent.to_state == tier)
    return or_(moved_there, c.remote_resolved_tier == tier, c.dispatched_from_tier == tier)


def desk_by_tier(q: KpiQuery) -> list[DeskRow]:
    """One row per contractor and desk tier (contractor grouping), ordered by contractor then tier."""
    key, _ = q.keys.call()
    c = m.ServiceCall
    met, decided = _first_response(q)
    rows: list[DeskRow] = []
    for tier in DESK_TIERS:
        at = c.first_response_tier == tier
        stmt = q.calls(select(key, func.count(), _count_if(and_(met, at)), _count_if(and_(decided, at)),
                              _count_if(and_(c.remote_resolved_tier == tier, _FIXED)),
                              _count_if(c.dispatched_from_tier == tier))
                       .where(_reached(tier))).group_by(key)
        for k, n, fm, fd, remote, field in _rows(stmt):
            rows.append(DeskRow(key=k, tier=tier, calls=_i(n), first_response_met=_i(fm),
                                first_response_decided=_i(fd), first_response_met_pct=_pct(_i(fm), _i(fd)),
                                remote_resolved=_i(remote), remote_resolution_pct=_pct(_i(remote), _i(n)),
                                field_dispatched=_i(field), field_dispatch_pct=_pct(_i(field), _i(n))))
        averages = q.calls(select(key, func.avg(c.first_response_minutes)).where(at)).group_by(key)
        avg_by_key = {k: (None if a is None else round(float(a), 1)) for k, a in _rows(averages)}
        for row in rows:
            if row.tier == tier:
                row.first_response_avg_min = avg_by_key.get(row.key)
    return sorted(rows, key=lambda r: (r.key, r.tier))
