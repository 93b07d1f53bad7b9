"""Pure penalty arithmetic in integer Rial.

A contract's :class:`PenaltyTerms` turn each :class:`Breach` into a :class:`Charge`; caps are then
applied per ticket (per ``reference``) and per contractor and month.

Caps are allocated **chronologically** (first come, first charged): charges are ordered by
``(occurred_at, reference, kind)``; each keeps its full amount while the running total stays under
the cap, the charge that crosses it gets the remainder, later ones get 0. This is deterministic and
stable when the ledger grows: a breach recorded later never changes the amount of an earlier
(possibly confirmed) line. Pass only lines that count (leave waived lines out).

"Per started hour": 1–60 minutes late is one hour, 61–120 two, and so on.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from enum import StrEnum
from typing import Any, Callable
from zoneinfo import ZoneInfo

import jdatetime

__all__ = [
    "BreachKind",
    "PenaltyTerms",
    "Breach",
    "Charge",
    "started_hours",
    "penalty_amount",
    "charge",
    "apply_ticket_cap",
    "apply_monthly_cap",
    "assess",
    "month_key",
]


class BreachKind(StrEnum):
    LATE_RESPONSE = "late_response"
    LATE_RESOLUTION = "late_resolution"
    MISSED_PM = "missed_pm"
    LATE_PM = "late_pm"
    LATE_INSTALL = "late_install"


def _rial(value: Any, name: str, *, optional: bool = False) -> int | None:
    if optional and value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer number of Rial, got {value!r}")
    return value


@dataclass(frozen=True)
class PenaltyTerms:
    """Penalty terms of a contract, integer Rial. A cap of None means no cap."""

    late_response_per_hour: int = 0
    late_resolution_per_hour: int = 0
    missed_pm: int = 0
    late_pm_per_day: int = 0
    late_install_per_day: int = 0
    ticket_cap: int | None = None
    monthly_cap: int | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            _rial(getattr(self, f.name), f.name, optional=f.name.endswith("_cap"))

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> "PenaltyTerms":
        """Inverse of ``to_dict``; missing keys take the defaults (0, no caps)."""
        data = dict(data or {})
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"penalty terms: unknown field(s) {sorted(unknown)}")
        return cls(**data)


@dataclass(frozen=True)
class Breach:
    """One breach to charge.

    ``reference``: the ticket's tracking number, the visit or installation id (caps per ticket group
    by it). ``occurred_at``: when the breach happened (the missed deadline), orders cap allocation.
    ``minutes_late`` for late response/resolution, ``days_late`` for late PM/installation.
    ``contractor`` and ``period`` (e.g. :func:`month_key`) group the monthly cap."""

    kind: BreachKind
    reference: str
    occurred_at: dt.datetime | dt.date
    minutes_late: int = 0
    days_late: int = 0
    contractor: Hashable = ""
    period: str = ""


@dataclass(frozen=True)
class Charge:
    """A breach priced: ``gross`` before caps, ``amount`` after them (Rial)."""

    breach: Breach
    gross: int
    amount: int

    @property
    def capped(self) -> bool:
        return self.amount < self.gross


def started_hours(minutes_late: int) -> int:
    """Started hours of lateness: 0 → 0, 1..60 → 1, 61..120 → 2."""
    if minutes_late < 0:
        raise ValueError(f"minutes_late must be >= 0, got {minutes_late}")
    return math.ceil(minutes_late / 60)


def penalty_amount(terms: PenaltyTerms, breach: Breach) -> int:
    """Gross amount in Rial of one breach (before caps)."""
    kind = BreachKind(breach.kind)
    if breach.days_late < 0 or breach.minutes_late < 0:
        raise ValueError(f"{breach.reference}: lateness must be >= 0")
    if kind is BreachKind.LATE_RESPONSE:
        return terms.late_response_per_hour * started_hours(breach.minutes_late)
    if kind is BreachKind.LATE_RESOLUTION:
        return terms.late_resolution_per_hour * started_hours(breach.minutes_late)
    if kind is BreachKind.MISSED_PM:
        return terms.missed_pm
    if kind is BreachKind.LATE_PM:
        return terms.late_pm_per_day * breach.days_late
    return terms.late_install_per_day * breach.days_late


def charge(terms: PenaltyTerms, breach: Breach) -> Charge:
    """Price one breach (no caps yet)."""
    gross = penalty_amount(terms, breach)
    return Charge(breach, gross, gross)


def _order_key(c: Charge) -> tuple:
    at = c.breach.occurred_at
    if isinstance(at, dt.datetime):
        if at.tzinfo is None:
            raise ValueError(f"{c.breach.reference}: occurred_at must be timezone-aware")
        key = (at.astimezone(dt.timezone.utc).replace(tzinfo=None),)
    else:
        key = (dt.datetime.combine(at, dt.time()),)
    return (*key, c.breach.reference, str(c.breach.kind))


def _cap(charges: Sequence[Charge], cap: int | None, group: Callable[[Charge], Hashable]
         ) -> list[Charge]:
    if cap is None:
        return list(charges)
    _rial(cap, "cap")
    order = sorted(range(len(charges)), key=lambda i: _order_key(charges[i]))
    used: dict[Hashable, int] = {}
    out = list(charges)
    for i in order:
        c = charges[i]
        g = group(c)
        room = cap - used.get(g, 0)
        amount = min(c.amount, max(room, 0))
        used[g] = used.get(g, 0) + amount
        if amount != c.amount:
            out[i] = replace(c, amount=amount)
    return out


def apply_ticket_cap(charges: Iterable[Charge], cap: int | None) -> list[Charge]:
    """Cap the total per ``breach.reference`` (chronological allocation, input order kept)."""
    return _cap(list(charges), cap, lambda c: c.breach.reference)


def apply_monthly_cap(lines: Iterable[Charge], cap: int | None) -> list[Charge]:
    """Cap the total per ``(breach.contractor, breach.period)`` (chronological allocation, input
    order kept). Apply after the ticket cap."""
    return _cap(list(lines), cap, lambda c: (c.breach.contractor, c.breach.period))


def assess(terms: PenaltyTerms, breaches: Iterable[Breach]) -> list[Charge]:
    """Price every breach, then apply the per-ticket and per-month caps of ``terms``."""
    charges = [charge(terms, b) for b in breaches]
    return apply_monthly_cap(apply_ticket_cap(charges, terms.ticket_cap), terms.monthly_cap)


def month_key(day: dt.date | dt.datetime, calendar: str = "jalali",
              tz: str = "Asia/Tehran") -> str:
    """Billing period of a date: ``"1405-09"`` (Jalali, default) or ``"2026-11"`` (Gregorian).
    An aware datetime is first converted to the local date in ``tz``."""
    if isinstance(day, dt.datetime):
        if day.tzinfo is None:
            raise ValueError("month_key: datetime must be timezone-aware")
        day = day.astimezone(ZoneInfo(tz)).date()
    if calendar == "gregorian":
        return f"{day.year:04d}-{day.month:02d}"
    if calendar != "jalali":
        raise ValueError(f"calendar must be 'jalali' or 'gregorian', got {calendar!r}")
    j = jdatetime.date.fromgregorian(date=day)
    return f"{j.year:04d}-{j.month:02d}"
