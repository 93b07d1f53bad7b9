"""A period compared with the same period of the previous year, Jalali months aligned (issue 23,
point 8): Mehr 1405 is compared with Mehr 1404, 1–15 Azar 1405 with 1–15 Azar 1404.

* **The same period last year**: each end of the period is moved one Jalali year back (with
  ``jdatetime``, the project's Jalali library). A period that ends on the last day of a Jalali
  month ends on the last day of that month last year (Esfand has 29 or 30 days), and a day that
  does not exist last year (30 Esfand of a leap year) becomes the month's last day.
* **Rows**: per contractor (code) and KPI of :data:`COMPARED_KPIS`, the value now, the value then,
  the change (now − then: percentage points for percentages) and the relative change in % of the
  value then (None when then is 0 or missing).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Optional

import jdatetime

from fieldsvc.visits import models as m
from fieldsvc.visits.scorecards.kpis import Scorecard, compute_scorecard

COMPARED_KPIS: tuple[str, ...] = (
    "score", "pm_due", "pm_compliance_pct", "em_calls", "response_met_pct", "resolution_met_pct",
    "first_time_fix_pct", "installs_on_time_pct", "satisfaction_avg", "inspection_completeness_pct",
    "campaign_on_time_pct", "penalties_total")


def _month_length(year: int, month: int) -> int:
    if month <= 6:
        return 31
    if month <= 11:
        return 30
    return 30 if jdatetime.date(year, 1, 1).isleap() else 29


def same_day_last_year(d: dt.date) -> dt.date:
    """``d`` one Jalali year back; the last day of a Jalali month maps to that month's last day."""
    j = jdatetime.date.fromgregorian(date=d)
    last = j.day == _month_length(j.year, j.month)
    length = _month_length(j.year - 1, j.month)
    day = length if last else min(j.day, length)
    return jdatetime.date(j.year - 1, j.month, day).togregorian()


def previous_year_period(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The same Jalali period one year earlier."""
    j = jdatetime.date.fromgregorian(date=start)
    first = jdatetime.date(j.year - 1, j.month, min(j.day, _month_length(j.year - 1, j.month))).togregorian()
    return first, same_day_last_year(end)


@dataclass(frozen=True)
class Change:
    """One KPI of one contractor, now and a year before."""

    code: str
    name: str
    name_fa: str
    kpi: str
    current: Optional[float]
    previous: Optional[float]

    @property
    def change(self) -> Optional[float]:
        if self.current is None or self.previous is None:
            return None
        return round(self.current - self.previous, 2)

    @property
    def change_pct(self) -> Optional[float]:
        if self.change is None or not self.previous or self.kpi.endswith("_pct"):
            return None
        return round(100.0 * self.change / abs(self.previous), 1)


@dataclass
class YearOnYear:
    """Both scorecards and the rows comparing them (contractors of either period)."""

    current: Scorecard
    previous: Scorecard
    rows: list[Change] = field(default_factory=list)

    @property
    def previous_start(self) -> dt.date:
        return self.previous.start

    @property
    def previous_end(self) -> dt.date:
        return self.previous.end

    def to_dict(self) -> dict[str, Any]:
        return {"from": self.current.start.isoformat(), "to": self.current.end.isoformat(),
                "previous_from": self.previous.start.isoformat(), "previous_to": self.previous.end.isoformat(),
                "rows": [{"contractor": r.code, "kpi": r.kpi, "current": r.current, "previous": r.previous,
                          "change": r.change, "change_pct": r.change_pct} for r in self.rows]}


def compare(start: dt.date, end: dt.date, *, user: m.User | None, psp_code: str | None = None,
            contractor_code: str | None = None, now: dt.datetime | None = None,
            current: Scorecard | None = None) -> YearOnYear:
    """The period's contractor scorecard beside the same Jalali period of the previous year
    (``current``: the period's scorecard when already computed)."""
    card = current or compute_scorecard(start, end, user=user, psp_code=psp_code, contractor_code=contractor_code,
                                        now=now, with_breaches=False)
    p_start, p_end = previous_year_period(start, end)
    before = compute_scorecard(p_start, p_end, user=user, psp_code=psp_code, contractor_code=contractor_code,
                               now=now, with_breaches=False)
    now_rows = {r.code: r for r in card.rows}
    then_rows = {r.code: r for r in before.rows}
    rows = []
    for code in sorted(set(now_rows) | set(then_rows)):
        a, b = now_rows.get(code), then_rows.get(code)
        ref = a or b
        for k in COMPARED_KPIS:
            rows.append(Change(code, ref.name, ref.name_fa, k, getattr(a, k) if a else None,
                               getattr(b, k) if b else None))
    return YearOnYear(card, before, rows)
