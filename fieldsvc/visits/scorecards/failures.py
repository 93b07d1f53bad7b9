"""Failure analytics for the PSP (issue 20, point 5), over a period and the user's scope.

* A **failure** is an EM service call reported in the period (local dates, inclusive).
* **Per model**: terminals of the model in service during the period, failures, terminal-days in
  service (from the later of the period start and the installation date to the period end), the
  **MTBF** = terminal-days ÷ failures (days; none without failures) and failures per 100
  terminal-years.
* **Per age**: failures by the terminal's age at the report (under 1 year, 1–2, 2–3, 3 years or
  more, unknown installation date).
* **Repeat failures per contractor**: of the visits it completed in the period (check-out in the
  period), those followed by an EM call on one of the visit's terminals within ``repeat_days``
  days after the check-out.
"""
from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy.orm import selectinload

from fieldsvc import config
from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.scope import scoped
from fieldsvc.visits.states import VisitStatus

AGE_BANDS = ("<1y", "1-2y", "2-3y", "3y+", "unknown")
DEFAULT_REPEAT_DAYS = 30


@dataclass(frozen=True)
class ModelRow:
    model: str
    terminals: int
    failures: int
    terminal_days: int

    @property
    def mtbf_days(self) -> float | None:
        return round(self.terminal_days / self.failures, 1) if self.failures else None

    @property
    def per_100_years(self) -> float | None:
        return round(100 * self.failures / (self.terminal_days / 365), 1) if self.terminal_days else None


@dataclass(frozen=True)
class RepeatRow:
    contractor: str
    name: str
    visits: int
    repeats: int

    @property
    def pct(self) -> float | None:
        return round(100 * self.repeats / self.visits, 1) if self.visits else None


@dataclass
class FailureReport:
    start: dt.date
    end: dt.date
    repeat_days: int
    by_model: list[ModelRow] = field(default_factory=list)
    by_age: dict[str, int] = field(default_factory=dict)
    by_contractor: list[RepeatRow] = field(default_factory=list)
    failures: int = 0

    @property
    def mtbf_days(self) -> float | None:
        days = sum(r.terminal_days for r in self.by_model)
        return round(days / self.failures, 1) if self.failures else None


def _local(at: dt.datetime) -> dt.date:
    return at.astimezone(ZoneInfo(config.TIMEZONE)).date()


def age_band(installed_on: dt.date | None, on: dt.date) -> str:
    if installed_on is None:
        return "unknown"
    years = (on - installed_on).days / 365.25
    return "<1y" if years < 1 else "1-2y" if years < 2 else "2-3y" if years < 3 else "3y+"


def failure_report(start: dt.date, end: dt.date, *, user: m.User | None,
                   repeat_days: int = DEFAULT_REPEAT_DAYS) -> FailureReport:
    """The failure analytics of ``[start, end]`` in the user's scope."""
    if repeat_days < 1:
        raise ValueError("repeat_days must be at least 1")
    rep = FailureReport(start, end, repeat_days, by_age={b: 0 for b in AGE_BANDS})
    zone = ZoneInfo(config.TIMEZONE)
    t0 = dt.datetime.combine(start, dt.time(), zone)
    t1 = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), zone)
    calls = list(db.session.scalars(scoped(m.ServiceCall, user).where(
        m.ServiceCall.reported_at >= t0, m.ServiceCall.reported_at < t1)
        .options(selectinload(m.ServiceCall.terminal))))
    rep.failures = len(calls)
    fails_by_model: dict[str, int] = {}
    for c in calls:
        model = c.terminal.model if c.terminal else "?"
        fails_by_model[model] = fails_by_model.get(model, 0) + 1
        rep.by_age[age_band(c.terminal.installed_on if c.terminal else None, _local(c.reported_at))] += 1
    terms: dict[str, list[int]] = {}
    for t in db.session.scalars(scoped(m.Terminal, user).where(
            (m.Terminal.installed_on.is_(None)) | (m.Terminal.installed_on <= end))):
        if t.merchant_id is None and t.model not in fails_by_model:
            continue  # never in service at a merchant
        since = max(start, t.installed_on or start)
        terms.setdefault(t.model, []).append((end - since).days + 1)
    for model in sorted(set(terms) | set(fails_by_model)):
        days = terms.get(model, [])
        rep.by_model.append(ModelRow(model, len(days), fails_by_model.get(model, 0), sum(days)))
    # repeat failures after a visit, per contractor
    window = dt.timedelta(days=repeat_days)
    later_calls = db.session.execute(scoped(m.ServiceCall, user).with_only_columns(
        m.ServiceCall.terminal_id, m.ServiceCall.reported_at).where(
        m.ServiceCall.reported_at >= t0, m.ServiceCall.reported_at < t1 + window)).all()
    by_terminal: dict[int, list[dt.datetime]] = {}
    for tid, at in later_calls:
        by_terminal.setdefault(tid, []).append(at)
    for lst in by_terminal.values():
        lst.sort()
    visits = db.session.scalars(scoped(m.Visit, user).where(
        m.Visit.status == VisitStatus.COMPLETED, m.Visit.checkout_at >= t0, m.Visit.checkout_at < t1)
        .options(selectinload(m.Visit.terminals), selectinload(m.Visit.contractor)))
    counts: dict[int, list] = {}
    for v in visits:
        row = counts.setdefault(v.contractor_id, [v.contractor, 0, 0])
        row[1] += 1
        done = v.checkout_at
        for t in v.terminals:
            lst = by_terminal.get(t.id, [])
            i = bisect.bisect_right(lst, done)
            if i < len(lst) and lst[i] <= done + window:
                row[2] += 1
                break
    rep.by_contractor = sorted((RepeatRow(c.code, c.name, n, r) for c, n, r in counts.values()),
                               key=lambda x: (-(x.pct or 0), x.contractor))
    return rep
