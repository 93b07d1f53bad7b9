"""PM due lists: which terminals need a preventive visit, when, and the visits that carry them.

Per contract, each active terminal of the contract's PSP in the contract's regions is next due
``last PM (or installation) + interval`` days, within ``± tolerance`` (:func:`fieldsvc.visits.contracts.sla.pm_window`).
Terminals of one merchant are grouped into one visit. A day is *plannable* for a merchant when
the contract calendar works that day (Fridays and Iranian public holidays are off), the merchant
is open that weekday and the date is not one of the merchant's own closed dates.

:func:`refresh_due_visits` keeps one open PM :class:`~fieldsvc.visits.models.Visit` per merchant
and contract in the *due pool* (status planned, no route yet), creating and updating them
idempotently.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Iterable

from sqlalchemy import select

from fieldsvc.calendar import WEEKDAY_NAMES, CalendarSpec, is_working_day
from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.audit import record, transition_visit
from fieldsvc.visits.contracts.sla import PmStatus, PmWindow, pm_status, pm_window
from fieldsvc.visits.contracts.versions import pm_terms, today_local, version_in_force
from fieldsvc.visits.states import VisitStatus

#: Open PM visits (not yet started): the due pool and the planned ones.
OPEN_PM_STATES = (VisitStatus.PLANNED, VisitStatus.DISPATCHED)
#: How far ahead upcoming PMs are listed and put in the pool.
DEFAULT_LOOKAHEAD_DAYS = 30

_STATUS_RANK = {PmStatus.OVERDUE: 0, PmStatus.DUE: 1, PmStatus.UPCOMING: 2}


def service_minutes(kind: str, n_terminals: int) -> int:
    """On-site minutes of a visit by kind and number of terminals."""
    n = max(1, n_terminals)
    if kind == m.VisitKind.PM:
        return 10 + 10 * n
    if kind == m.VisitKind.EM:
        return 30 + 10 * (n - 1)
    if kind == m.VisitKind.INSTALL:
        return 40 + 20 * (n - 1)
    return 20 + 10 * (n - 1)


@dataclass(frozen=True)
class TerminalDue:
    """One terminal's next PM."""

    terminal_id: int
    serial: str
    family: str
    window: PmWindow
    status: PmStatus


@dataclass
class MerchantDue:
    """The terminals of one merchant due under one contract: one visit."""

    contract_id: int
    contractor_id: int
    merchant_id: int
    merchant_name: str
    terminals: list[TerminalDue] = field(default_factory=list)

    @property
    def due(self) -> dt.date:
        return min(t.window.due for t in self.terminals)

    @property
    def window_start(self) -> dt.date:
        return min(t.window.earliest for t in self.terminals)

    @property
    def window_end(self) -> dt.date:
        """The earliest deadline: visiting by then keeps every terminal in its window."""
        return min(t.window.latest for t in self.terminals)

    @property
    def status(self) -> PmStatus:
        return min((t.status for t in self.terminals), key=_STATUS_RANK.__getitem__)


def contract_calendar(contract: m.Contract, on: dt.date | None = None) -> CalendarSpec:
    """The working calendar of the contract version in force on ``on`` (today by default;
    Iranian business week when unset)."""
    return CalendarSpec.from_dict(version_in_force(contract, on or today_local()).calendar or {})


def opening_windows(merchant: m.Merchant, day: dt.date) -> list[tuple[str, str]] | None:
    """The merchant's opening intervals on ``day``'s weekday; None when no hours are recorded
    (open whenever a technician works); an empty list when closed that weekday."""
    hours = merchant.opening_hours or {}
    if not hours:
        return None
    return [(str(a), str(b)) for a, b in hours.get(WEEKDAY_NAMES[day.weekday()], [])]


def merchant_closed_on(merchant: m.Merchant, day: dt.date) -> bool:
    """True on the merchant's own closed dates and weekdays without opening hours."""
    if day.isoformat() in {str(d) for d in (merchant.closed_dates or [])}:
        return True
    wins = opening_windows(merchant, day)
    return wins is not None and not wins


def is_plannable_day(merchant: m.Merchant, day: dt.date, calendar: CalendarSpec) -> bool:
    """May a visit to ``merchant`` be planned on ``day``? (contract working day, shop open)."""
    return is_working_day(calendar, day) and not merchant_closed_on(merchant, day)


def plannable_days(merchant: m.Merchant, start: dt.date, end: dt.date, calendar: CalendarSpec) -> list[dt.date]:
    """The plannable days in ``[start, end]``."""
    out, d = [], start
    while d <= end:
        if is_plannable_day(merchant, d, calendar):
            out.append(d)
        d += dt.timedelta(days=1)
    return out


def _contracts(contractor_id: int | None, on: dt.date) -> list[m.Contract]:
    q = select(m.Contract).where(m.Contract.valid_from <= on, m.Contract.active.is_(True))
    if contractor_id is not None:
        q = q.where(m.Contract.contractor_id == contractor_id)
    return [c for c in db.session.scalars(q.order_by(m.Contract.id)) if c.valid_to is None or c.valid_to >= on]


def _terminal_window(t: m.Terminal, contract: m.Contract, on: dt.date) -> PmWindow:
    interval, tolerance = pm_terms(version_in_force(contract, on), t.family)
    base = t.last_pm_on or t.installed_on
    if base is None:  # never visited, installation unknown: due now
        base = on - dt.timedelta(days=interval)
    return pm_window(base, interval, tolerance)


def pm_due_list(on: dt.date, *, contractor_id: int | None = None,
                lookahead_days: int = DEFAULT_LOOKAHEAD_DAYS,
                statuses: Iterable[PmStatus] = tuple(PmStatus)) -> list[MerchantDue]:
    """Merchants with terminals overdue, due or upcoming (window opening within ``lookahead_days``)
    on ``on``, per valid contract; overdue first, then by due date."""
    wanted = set(statuses)
    horizon = on + dt.timedelta(days=lookahead_days)
    out: list[MerchantDue] = []
    for contract in _contracts(contractor_id, on):
        region_ids = [r.id for r in contract.regions]
        if not region_ids:
            continue
        rows = db.session.execute(
            select(m.Terminal, m.Merchant).join(m.Merchant, m.Terminal.merchant_id == m.Merchant.id)
            .where(m.Merchant.psp_id == contract.psp_id, m.Merchant.region_id.in_(region_ids),
                   m.Merchant.active.is_(True), m.Terminal.status == m.TerminalStatus.ACTIVE)
            .order_by(m.Merchant.id, m.Terminal.serial)).all()
        groups: dict[int, MerchantDue] = {}
        for term, mer in rows:
            win = _terminal_window(term, contract, on)
            if win.earliest > horizon:
                continue
            st = pm_status(on, win)
            if st not in wanted:
                continue
            g = groups.setdefault(mer.id, MerchantDue(contract.id, contract.contractor_id, mer.id, mer.name))
            g.terminals.append(TerminalDue(term.id, term.serial, term.family, win, st))
        out.extend(groups.values())
    out.sort(key=lambda g: (_STATUS_RANK[g.status], g.window_end, g.merchant_id))
    return out


def refresh_due_visits(today: dt.date | None = None, *, contractor_id: int | None = None,
                       lookahead_days: int = DEFAULT_LOOKAHEAD_DAYS, actor: m.User | None = None) -> dict[str, int]:
    """Create or update the open PM visit of every merchant with terminals due (idempotent).

    An open PM visit (planned/dispatched) of the same merchant and contract is reused: its
    terminals, due date and window are refreshed; a new one is created otherwise. Open PM
    visits whose terminals are no longer due (done meanwhile) and that are not on a route are
    cancelled. Commits; returns counts ``created``, ``updated``, ``cancelled``, ``unchanged``.
    """
    today = today or dt.date.today()
    counts = {"created": 0, "updated": 0, "cancelled": 0, "unchanged": 0}
    due = pm_due_list(today, contractor_id=contractor_id, lookahead_days=lookahead_days)
    q = select(m.Visit).where(m.Visit.kind == m.VisitKind.PM, m.Visit.status.in_(OPEN_PM_STATES))
    if contractor_id is not None:
        q = q.where(m.Visit.contractor_id == contractor_id)
    open_visits = {(v.contract_id, v.merchant_id): v for v in db.session.scalars(q.order_by(m.Visit.id))}
    terminals_by_id = {}
    ids = [t.terminal_id for g in due for t in g.terminals]
    if ids:
        terminals_by_id = {t.id: t for t in db.session.scalars(select(m.Terminal).where(m.Terminal.id.in_(ids)))}
    seen = set()
    for g in due:
        key = (g.contract_id, g.merchant_id)
        seen.add(key)
        terms = [terminals_by_id[t.terminal_id] for t in g.terminals]
        minutes = service_minutes(m.VisitKind.PM, len(terms))
        v = open_visits.get(key)
        if v is None:
            v = m.Visit(kind=m.VisitKind.PM, status=VisitStatus.PLANNED, merchant_id=g.merchant_id,
                        contractor_id=g.contractor_id, contract_id=g.contract_id, due_date=g.due,
                        window_start=g.window_start, window_end=g.window_end, service_minutes=minutes,
                        terminals=terms)
            db.session.add(v)
            db.session.flush()
            record("pm_due", v, actor=actor, due=g.due, terminals=[t.serial for t in g.terminals])
            counts["created"] += 1
            continue
        changed = False
        if {t.id for t in v.terminals} != {t.id for t in terms}:
            v.terminals = terms
            changed = True
        for attr, value in (("due_date", g.due), ("window_start", g.window_start),
                            ("window_end", g.window_end), ("service_minutes", minutes)):
            if getattr(v, attr) != value:
                setattr(v, attr, value)
                changed = True
        counts["updated" if changed else "unchanged"] += 1
    for key, v in open_visits.items():
        if key in seen or v.route_id is not None:
            continue
        still_due = [t for t in v.terminals if t.status == m.TerminalStatus.ACTIVE and v.contract is not None
                     and _terminal_window(t, v.contract, today).earliest <= today + dt.timedelta(days=lookahead_days)]
        if not still_due:
            transition_visit(v, VisitStatus.CANCELLED, actor=actor, reason="no terminal due any more")
            counts["cancelled"] += 1
    db.session.commit()
    return counts
