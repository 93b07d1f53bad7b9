"""Pure SLA arithmetic: EM deadlines, SLA states, lateness in calendar time, PM windows.

No Flask, no SQLAlchemy. Datetimes are timezone-aware (UTC out); dates are local calendar dates.

Definitions
-----------
* ``response_by`` / ``resolution_by``: the instant at which the priority's target minutes of
  *working time* (per the contract's :class:`~fieldsvc.calendar.CalendarSpec`), not counting
  pauses, have elapsed since the report time. Changing the priority recomputes both from the
  original ``reported_at`` (call :func:`deadlines` again with the new priority).
* SLA state of one clock (:func:`sla_state`):

  - ``met``      — done at or before the deadline;
  - ``missed``   — done after the deadline;
  - ``breached`` — not done and ``now`` is past the deadline;
  - ``at_risk``  — not done, not past the deadline, and at least ``at_risk_fraction`` of the
    working time between start and deadline has been used;
  - ``ok``       — otherwise.
* Lateness (:func:`minutes_late`) is counted in working time between the deadline and the
  completion (or now), without pauses, rounded *up* to whole minutes; anything after the deadline
  is at least one minute late (so a job finished at 20:00 after a 17:00 deadline is late even
  though no working time passed).
* PM window (:func:`pm_window`): due = last PM + interval days; earliest/latest = due ∓ tolerance,
  in calendar days.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple

from fieldsvc.calendar import CalendarSpec, add_working_time, working_seconds_between

__all__ = [
    "Priority",
    "SlaState",
    "PmStatus",
    "PmDoneStatus",
    "PriorityTarget",
    "SlaTargets",
    "Deadlines",
    "PmWindow",
    "deadlines",
    "sla_state",
    "elapsed_working_minutes",
    "minutes_late",
    "pm_window",
    "pm_status",
    "pm_done_status",
    "pm_days_late",
    "install_deadline",
    "days_late",
]

_ALWAYS = CalendarSpec(mode="24x7", iran_holidays=False)


class Priority(StrEnum):
    CRITICAL = "critical"
    URGENT = "urgent"
    NORMAL = "normal"


class SlaState(StrEnum):
    OK = "ok"
    AT_RISK = "at_risk"
    BREACHED = "breached"
    MET = "met"
    MISSED = "missed"


class PmStatus(StrEnum):
    UPCOMING = "upcoming"  # before the window opens
    DUE = "due"            # inside the window
    OVERDUE = "overdue"    # after the window closed


class PmDoneStatus(StrEnum):
    EARLY = "early"
    IN_WINDOW = "in_window"
    LATE = "late"


def _pos_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive integer number of minutes, got {value!r}")
    return value


@dataclass(frozen=True)
class PriorityTarget:
    """Targets of one priority, in working minutes of the contract's calendar: ``response`` is the
    technician on site, ``resolution`` the fix, ``first_response`` (optional) the first answer to
    the merchant."""

    response_minutes: int
    resolution_minutes: int
    first_response_minutes: int | None = None

    def __post_init__(self) -> None:
        _pos_int(self.response_minutes, "response_minutes")
        _pos_int(self.resolution_minutes, "resolution_minutes")
        if self.resolution_minutes < self.response_minutes:
            raise ValueError("resolution_minutes must be >= response_minutes")
        if self.first_response_minutes is not None:
            _pos_int(self.first_response_minutes, "first_response_minutes")
            if self.first_response_minutes > self.response_minutes:
                raise ValueError("first_response_minutes must be <= response_minutes")

    def to_dict(self) -> dict[str, int]:
        out = {"response_minutes": self.response_minutes, "resolution_minutes": self.resolution_minutes}
        if self.first_response_minutes is not None:
            out["first_response_minutes"] = self.first_response_minutes
        return out


@dataclass(frozen=True)
class SlaTargets:
    """EM targets per priority plus the at-risk threshold (fraction of the budget used)."""

    critical: PriorityTarget = PriorityTarget(120, 480)
    urgent: PriorityTarget = PriorityTarget(240, 1440)
    normal: PriorityTarget = PriorityTarget(480, 2880)
    at_risk_fraction: float = 0.8

    def __post_init__(self) -> None:
        for p in Priority:
            if not isinstance(getattr(self, p.value), PriorityTarget):
                raise ValueError(f"{p.value}: expected a PriorityTarget")
        if not 0 < self.at_risk_fraction <= 1:
            raise ValueError(f"at_risk_fraction must be in (0, 1], got {self.at_risk_fraction}")

    def for_priority(self, priority: Priority | str) -> PriorityTarget:
        try:
            return getattr(self, Priority(priority).value)
        except ValueError:
            raise ValueError(f"unknown priority {priority!r}; expected one of "
                             f"{[p.value for p in Priority]}") from None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {p.value: getattr(self, p.value).to_dict() for p in Priority}
        out["at_risk_fraction"] = self.at_risk_fraction
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> "SlaTargets":
        """Inverse of ``to_dict``; missing keys take the defaults."""
        data = dict(data or {})
        unknown = set(data) - {p.value for p in Priority} - {"at_risk_fraction"}
        if unknown:
            raise ValueError(f"sla targets: unknown field(s) {sorted(unknown)}")
        kwargs: dict[str, Any] = {}
        for p in Priority:
            if p.value in data:
                t = data[p.value]
                try:
                    first = t.get("first_response_minutes")
                    kwargs[p.value] = PriorityTarget(int(t["response_minutes"]), int(t["resolution_minutes"]),
                                                     None if first is None else int(first))
                except (KeyError, TypeError, AttributeError) as exc:
                    raise ValueError(f"{p.value}: expected {{response_minutes, "
                                     f"resolution_minutes}}, got {t!r}") from exc
        if "at_risk_fraction" in data:
            kwargs["at_risk_fraction"] = float(data["at_risk_fraction"])
        return cls(**kwargs)


class Deadlines(NamedTuple):
    response_by: dt.datetime
    resolution_by: dt.datetime


class PmWindow(NamedTuple):
    due: dt.date
    earliest: dt.date
    latest: dt.date


Pauses = Iterable[Sequence[dt.datetime | None]]


def deadlines(reported_at: dt.datetime, priority: Priority | str, targets: SlaTargets,
              calendar: CalendarSpec, pauses: Pauses = (), *,
              now: dt.datetime | None = None) -> Deadlines:
    """Response and resolution deadlines (UTC) for a call reported at ``reported_at``.

    Pauses push both deadlines back by the working time they cover. An open pause ends at ``now``
    when given (the deadline "if resumed now"); without ``now`` it raises
    :class:`~fieldsvc.calendar.ClockPausedError`."""
    t = targets.for_priority(priority)
    pauses = list(pauses)
    return Deadlines(
        add_working_time(calendar, reported_at, t.response_minutes * 60, pauses, now=now),
        add_working_time(calendar, reported_at, t.resolution_minutes * 60, pauses, now=now),
    )


def elapsed_working_minutes(start: dt.datetime, end: dt.datetime,
                            calendar: CalendarSpec | None = None, pauses: Pauses = ()) -> float:
    """Working minutes between ``start`` and ``end`` minus pauses (wall-clock when no calendar).
    Negative when ``end`` is before ``start``."""
    return working_seconds_between(calendar or _ALWAYS, start, end, pauses) / 60


def minutes_late(deadline: dt.datetime, done_at: dt.datetime,
                 calendar: CalendarSpec | None = None, pauses: Pauses = ()) -> int:
    """Whole minutes (rounded up) of working time from ``deadline`` to ``done_at`` (or now);
    0 when on time, at least 1 when ``done_at`` is after ``deadline``."""
    if done_at <= deadline:
        return 0
    seconds = working_seconds_between(calendar or _ALWAYS, deadline, done_at, pauses)
    return max(1, math.ceil(seconds / 60))


def sla_state(now: dt.datetime, started_at: dt.datetime, deadline: dt.datetime, *,
              done_at: dt.datetime | None = None, calendar: CalendarSpec | None = None,
              pauses: Pauses = (), at_risk_fraction: float = 0.8) -> SlaState:
    """State of one SLA clock (see the module docstring). ``calendar`` None = wall-clock."""
    if done_at is not None:
        return SlaState.MET if done_at <= deadline else SlaState.MISSED
    if now > deadline:
        return SlaState.BREACHED
    cal = calendar or _ALWAYS
    pauses = list(pauses)
    budget = working_seconds_between(cal, started_at, deadline, pauses)
    used = working_seconds_between(cal, started_at, now, pauses)
    if budget <= 0 or used >= at_risk_fraction * budget:
        return SlaState.AT_RISK
    return SlaState.OK


def install_deadline(requested_at: dt.datetime, hours: int, calendar: CalendarSpec,
                     pauses: Pauses = (), *, now: dt.datetime | None = None) -> dt.datetime:
    """Installation deadline: ``hours`` working hours of ``calendar`` after the request."""
    if hours <= 0:
        raise ValueError(f"hours must be > 0, got {hours}")
    return add_working_time(calendar, requested_at, hours * 3600, pauses, now=now)


def days_late(deadline: dt.datetime, done_at: dt.datetime) -> int:
    """Started 24-hour periods after ``deadline`` (0 when on time; 1 s late → 1 day; 24 h → 1;
    24 h + 1 s → 2). Used for "per day of late installation"."""
    if done_at <= deadline:
        return 0
    return math.ceil((done_at - deadline) / dt.timedelta(days=1))


# --------------------------------------------------------------------------- PM


def pm_window(last_pm_date: dt.date, interval_days: int, tolerance_days: int) -> PmWindow:
    """``(due, earliest, latest)`` of the next PM after ``last_pm_date`` (use the installation
    date for a terminal never visited)."""
    if interval_days <= 0:
        raise ValueError(f"interval_days must be > 0, got {interval_days}")
    if tolerance_days < 0 or tolerance_days >= interval_days:
        raise ValueError(f"tolerance_days must be in [0, interval_days), got {tolerance_days}")
    due = last_pm_date + dt.timedelta(days=interval_days)
    tol = dt.timedelta(days=tolerance_days)
    return PmWindow(due, due - tol, due + tol)


def pm_status(on_date: dt.date, window: PmWindow) -> PmStatus:
    """``upcoming`` before ``earliest``, ``due`` within [earliest, latest], ``overdue`` after."""
    if on_date < window.earliest:
        return PmStatus.UPCOMING
    if on_date <= window.latest:
        return PmStatus.DUE
    return PmStatus.OVERDUE


def pm_done_status(done_on: dt.date, window: PmWindow) -> PmDoneStatus:
    """How a performed PM compares with its window: early, in_window or late."""
    if done_on < window.earliest:
        return PmDoneStatus.EARLY
    if done_on <= window.latest:
        return PmDoneStatus.IN_WINDOW
    return PmDoneStatus.LATE


def pm_days_late(on_date: dt.date, window: PmWindow) -> int:
    """Calendar days after the window's last day (0 when inside or before it)."""
    return max(0, (on_date - window.latest).days)
