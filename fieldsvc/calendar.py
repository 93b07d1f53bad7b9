"""Working calendars: weekly hours, the Iranian week, public holidays and SLA clock arithmetic.

Pure module (no Flask, no SQLAlchemy). Every datetime in and out is timezone-aware; results are
in UTC. Computation happens in the calendar's own time zone (``zoneinfo``), so a working day is the
local day in Tehran, not the UTC day.

Two modes:

* ``"24x7"`` — the clock always runs (holidays are still *reported* by :func:`is_holiday`, but
  every day is a working day and every instant counts).
* ``"business"`` — the clock runs only inside the weekly hours of working days. A date is a working
  day when it is listed in ``extra_working_dates``, or else when it is not a holiday (Iranian public
  holidays from the ``holidays`` package if ``iran_holidays``, plus ``extra_holidays``) and its
  weekday has hours. On an extra working date whose weekday has no hours (e.g. a Friday declared a
  working day) the ``special_day_hours`` apply.

Pauses are ``(start_utc, end_utc)`` intervals during which the clock does not run; overlapping
pauses are merged; ``end=None`` means still paused.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from zoneinfo import ZoneInfo

import holidays as holidays_lib

__all__ = [
    "WEEKDAY_NAMES",
    "IRAN_WEEK",
    "CalendarSpec",
    "ClockPausedError",
    "Pause",
    "is_working_day",
    "is_holiday",
    "day_hours",
    "working_intervals",
    "add_working_time",
    "working_seconds_between",
    "next_working_days",
    "merge_pauses",
]

#: Weekday keys in Python ``date.weekday()`` order (Monday = 0).
WEEKDAY_NAMES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Interval = tuple[str, str]
DayHours = tuple[Interval, ...]
Pause = tuple[dt.datetime, "dt.datetime | None"]

_FULL: DayHours = (("08:00", "17:00"),)
_HALF: DayHours = (("08:00", "13:00"),)
#: Iranian week: Sat–Wed 08:00–17:00, Thu 08:00–13:00, Fri closed (Monday-first tuple).
IRAN_WEEK: tuple[DayHours, ...] = (_FULL, _FULL, _FULL, _HALF, (), _FULL, _FULL)

_HHMM = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")
_MAX_SCAN_DAYS = 3 * 366  # a calendar with no working time for three years is a configuration error
_UTC = dt.timezone.utc


class ClockPausedError(ValueError):
    """The target cannot be reached: an open pause (end None) stops the clock first."""

    def __init__(self, paused_at: dt.datetime) -> None:
        super().__init__(f"the clock is paused since {paused_at.isoformat()} (open pause); "
                         "pass now= to treat the pause as ending now")
        self.paused_at = paused_at


def _minutes(hhmm: str) -> int:
    m = _HHMM.match(hhmm)
    if not m or (m.group(1) == "24" and m.group(2) != "00"):
        raise ValueError(f"invalid time {hhmm!r}: expected HH:MM between 00:00 and 24:00")
    return int(m.group(1)) * 60 + int(m.group(2))


def _norm_day(intervals: Iterable[Sequence[str]], where: str) -> DayHours:
    out = []
    for iv in intervals:
        if len(iv) != 2:
            raise ValueError(f"{where}: each interval must be [start, end], got {iv!r}")
        s, e = str(iv[0]), str(iv[1])
        if _minutes(s) >= _minutes(e):
            raise ValueError(f"{where}: interval {s}-{e} must end after it starts")
        out.append((s, e))
    out.sort(key=lambda iv: _minutes(iv[0]))
    for a, b in zip(out, out[1:]):
        if _minutes(b[0]) < _minutes(a[1]):
            raise ValueError(f"{where}: intervals {a[0]}-{a[1]} and {b[0]}-{b[1]} overlap")
    return tuple(out)


def _to_date(v: dt.date | str, where: str) -> dt.date:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    try:
        return dt.date.fromisoformat(str(v))
    except ValueError:
        raise ValueError(f"{where}: invalid date {v!r}, expected YYYY-MM-DD") from None


@dataclass(frozen=True)
class CalendarSpec:
    """A working calendar, hashable and JSON-serialisable (``to_dict`` / ``from_dict``).

    ``hours`` may be given as a mapping ``{"sat": [("08:00", "17:00")], ...}`` (missing days are
    closed) or as a 7-tuple in Monday-first order; it is stored as the 7-tuple. ``"24:00"`` is
    allowed as an end time. ``extra_holidays`` may be dates/ISO strings or a mapping date → name.
    """

    tz: str = "Asia/Tehran"
    mode: Literal["24x7", "business"] = "business"
    hours: tuple[DayHours, ...] = IRAN_WEEK
    iran_holidays: bool = True
    extra_holidays: tuple[tuple[dt.date, str], ...] = ()
    extra_working_dates: tuple[dt.date, ...] = ()
    special_day_hours: DayHours = _FULL

    def __post_init__(self) -> None:
        if self.mode not in ("24x7", "business"):
            raise ValueError(f"mode: expected '24x7' or 'business', got {self.mode!r}")
        try:
            ZoneInfo(self.tz)
        except Exception:  # noqa: BLE001 - the holidays package raises assorted errors for unknown years
            raise ValueError(f"tz: unknown time zone {self.tz!r}") from None
        hours: Any = self.hours
        if isinstance(hours, Mapping):
            unknown = set(hours) - set(WEEKDAY_NAMES)
            if unknown:
                raise ValueError(f"hours: unknown weekday(s) {sorted(unknown)}; use {WEEKDAY_NAMES}")
            hours = tuple(_norm_day(hours.get(n, ()), f"hours.{n}") for n in WEEKDAY_NAMES)
        else:
            hours = tuple(hours)
            if len(hours) != 7:
                raise ValueError("hours: expected 7 days (Monday first) or a weekday mapping")
            hours = tuple(_norm_day(h, f"hours.{n}") for n, h in zip(WEEKDAY_NAMES, hours))
        object.__setattr__(self, "hours", hours)
        extra: Any = self.extra_holidays
        if isinstance(extra, Mapping):
            pairs = [(_to_date(k, "extra_holidays"), str(v or "Holiday")) for k, v in extra.items()]
        else:
            pairs = []
            for item in extra:
                if isinstance(item, (tuple, list)):
                    pairs.append((_to_date(item[0], "extra_holidays"), str(item[1] or "Holiday")))
                else:
                    pairs.append((_to_date(item, "extra_holidays"), "Holiday"))
        object.__setattr__(self, "extra_holidays", tuple(sorted(dict(pairs).items())))
        object.__setattr__(self, "extra_working_dates", tuple(sorted(
            {_to_date(d, "extra_working_dates") for d in self.extra_working_dates})))
        object.__setattr__(self, "special_day_hours",
                           _norm_day(self.special_day_hours, "special_day_hours"))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; ``from_dict(to_dict())`` round-trips."""
        return {
            "tz": self.tz,
            "mode": self.mode,
            "hours": {n: [list(iv) for iv in h] for n, h in zip(WEEKDAY_NAMES, self.hours)},
            "iran_holidays": self.iran_holidays,
            "extra_holidays": {d.isoformat(): name for d, name in self.extra_holidays},
            "extra_working_dates": [d.isoformat() for d in self.extra_working_dates],
            "special_day_hours": [list(iv) for iv in self.special_day_hours],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> "CalendarSpec":
        """Build from ``to_dict`` output; missing keys take the defaults (Iranian business week)."""
        data = dict(data or {})
        unknown = set(data) - {f for f in cls.__dataclass_fields__}
        if unknown:
            raise ValueError(f"calendar: unknown field(s) {sorted(unknown)}")
        return cls(**data)

    @classmethod
    def always(cls, tz: str = "Asia/Tehran") -> "CalendarSpec":
        """A 24×7 calendar."""
        return cls(tz=tz, mode="24x7")


# --------------------------------------------------------------------------- holidays


@functools.lru_cache(maxsize=128)
def _iran_holidays(year: int, language: str) -> dict[dt.date, str]:
    return dict(holidays_lib.country_holidays("IR", years=year, language=language).items())


def is_holiday(spec: CalendarSpec, date: dt.date, lang: str = "en") -> str | None:
    """The holiday's name (``lang`` "en" or "fa") or None. Extra holidays first, then Iranian
    public holidays when ``spec.iran_holidays``. Reported in both modes; ignores weekends."""
    for d, name in spec.extra_holidays:
        if d == date:
            return name
    if spec.iran_holidays:
        language = "fa_IR" if lang.startswith("fa") else "en_US"
        return _iran_holidays(date.year, language).get(date)
    return None


def is_working_day(spec: CalendarSpec, date: dt.date) -> bool:
    """True when the clock runs on this local date (always True in 24×7 mode)."""
    return spec.mode == "24x7" or bool(day_hours(spec, date))


def day_hours(spec: CalendarSpec, date: dt.date) -> DayHours:
    """Local working intervals of a date (empty on closed days; 00:00–24:00 in 24×7 mode)."""
    if spec.mode == "24x7":
        return (("00:00", "24:00"),)
    return _day_hours(spec, date)


@functools.lru_cache(maxsize=8192)
def _day_hours(spec: CalendarSpec, date: dt.date) -> DayHours:
    weekly = spec.hours[date.weekday()]
    if date in spec.extra_working_dates:
        return weekly or spec.special_day_hours
    if is_holiday(spec, date) is not None:
        return ()
    return weekly


# --------------------------------------------------------------------------- intervals


def _check_aware(value: dt.datetime, name: str) -> dt.datetime:
    if not isinstance(value, dt.datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")
    return value.astimezone(_UTC)


@functools.lru_cache(maxsize=8192)
def _day_intervals_utc(spec: CalendarSpec, date: dt.date) -> tuple[tuple[dt.datetime, dt.datetime], ...]:
    zone = spec.zone
    out = []
    for s, e in day_hours(spec, date):
        # wall-clock fields, so DST-observing zones get the right offset for each end
        a = _local_to_utc(date, _minutes(s), zone)
        b = _local_to_utc(date, _minutes(e), zone)
        if b > a:
            out.append((a, b))
    return tuple(out)


def _local_to_utc(date: dt.date, minutes: int, zone: ZoneInfo) -> dt.datetime:
    day = date + dt.timedelta(days=minutes // 1440)
    m = minutes % 1440
    local = dt.datetime.combine(day, dt.time(m // 60, m % 60), tzinfo=zone)
    return local.astimezone(_UTC)


def _iter_working(spec: CalendarSpec, start: dt.datetime) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """Working intervals from ``start`` onwards (UTC, clipped, adjacent ones merged)."""
    if spec.mode == "24x7":
        yield start, dt.datetime.max.replace(tzinfo=_UTC)
        return
    day = start.astimezone(spec.zone).date() - dt.timedelta(days=1)
    pending: tuple[dt.datetime, dt.datetime] | None = None
    idle = 0
    while True:
        found = False
        for a, b in _day_intervals_utc(spec, day):
            if b <= start:
                continue
            found = True
            a = max(a, start)
            if pending and a <= pending[1]:
                pending = (pending[0], max(b, pending[1]))
            else:
                if pending:
                    yield pending
                pending = (a, b)
        idle = 0 if found else idle + 1
        if idle > _MAX_SCAN_DAYS:
            if pending:
                yield pending
            raise ValueError("calendar has no working time within three years; check its hours "
                             "and holidays")
        day += dt.timedelta(days=1)


def working_intervals(spec: CalendarSpec, start_utc: dt.datetime,
                      end_utc: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """The working intervals between two instants, clipped to them, in UTC, merged when adjacent."""
    start = _check_aware(start_utc, "start_utc")
    end = _check_aware(end_utc, "end_utc")
    if end <= start:
        return []
    if spec.mode == "24x7":
        return [(start, end)]
    out: list[tuple[dt.datetime, dt.datetime]] = []
    day = start.astimezone(spec.zone).date() - dt.timedelta(days=1)
    last = end.astimezone(spec.zone).date()
    while day <= last:
        for a, b in _day_intervals_utc(spec, day):
            a, b = max(a, start), min(b, end)
            if b <= a:
                continue
            if out and a <= out[-1][1]:
                out[-1] = (out[-1][0], max(b, out[-1][1]))
            else:
                out.append((a, b))
        day += dt.timedelta(days=1)
    return out


def merge_pauses(pauses: Iterable[Sequence[dt.datetime | None]],
                 now: dt.datetime | None = None) -> list[tuple[dt.datetime, dt.datetime | None]]:
    """Sort and merge pauses (UTC). An open pause (end None) ends at ``now`` when given, else it
    stays open and swallows every later pause."""
    now_u = _check_aware(now, "now") if now is not None else None
    items = []
    for i, p in enumerate(pauses):
        if len(p) != 2:
            raise ValueError(f"pauses[{i}]: expected (start, end), got {p!r}")
        s = _check_aware(p[0], f"pauses[{i}] start")
        e = p[1]
        if e is None and now_u is not None:
            e = max(now_u, s)
        elif e is not None:
            e = _check_aware(e, f"pauses[{i}] end")
            if e < s:
                raise ValueError(f"pauses[{i}]: ends before it starts")
        items.append((s, e))
    items.sort(key=lambda p: p[0])
    merged: list[tuple[dt.datetime, dt.datetime | None]] = []
    for s, e in items:
        if merged:
            ms, me = merged[-1]
            if me is None:
                continue
            if s <= me:
                merged[-1] = (ms, None if e is None else max(me, e))
                continue
        merged.append((s, e))
    return merged


def _subtract(intervals: Iterable[tuple[dt.datetime, dt.datetime]],
              pauses: list[tuple[dt.datetime, dt.datetime | None]]
              ) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """Intervals minus merged pauses. Yields nothing after an open pause starts."""
    i = 0
    for a, b in intervals:
        while a < b:
            while i < len(pauses) and pauses[i][1] is not None and pauses[i][1] <= a:
                i += 1
            if i == len(pauses) or pauses[i][0] >= b:
                yield a, b
                break
            ps, pe = pauses[i]
            if ps > a:
                yield a, ps
            if pe is None:
                return
            a = max(a, pe)


def add_working_time(spec: CalendarSpec, start_utc: dt.datetime, seconds: float,
                     pauses: Iterable[Sequence[dt.datetime | None]] = (), *,
                     now: dt.datetime | None = None) -> dt.datetime:
    """The earliest instant (UTC) at which ``seconds`` of working time, not counting pauses, have
    elapsed since ``start_utc``. A start outside working hours waits for the next working instant;
    a target reached exactly at the end of a working interval returns that end (e.g. 17:00).

    An open pause ends at ``now`` if given; otherwise :class:`ClockPausedError` is raised when it
    stops the clock before the target is reached."""
    start = _check_aware(start_utc, "start_utc")
    if seconds < 0:
        raise ValueError(f"seconds must be >= 0, got {seconds}")
    merged = merge_pauses(pauses, now)
    remaining = dt.timedelta(seconds=seconds)
    if not remaining:
        return start
    last_end: dt.datetime | None = None
    for a, b in _subtract(_iter_working(spec, start), merged):
        if b - a >= remaining:
            return a + remaining
        remaining -= b - a
        last_end = b
    # only reachable when an open pause stopped the clock
    open_start = next(s for s, e in merged if e is None)
    raise ClockPausedError(max(open_start, last_end or start))


def working_seconds_between(spec: CalendarSpec, a_utc: dt.datetime, b_utc: dt.datetime,
                            pauses: Iterable[Sequence[dt.datetime | None]] = ()) -> int:
    """Whole seconds of working time in ``[a, b)`` minus pauses (an open pause runs to ``b``).
    Negative when ``b`` is before ``a``."""
    a = _check_aware(a_utc, "a_utc")
    b = _check_aware(b_utc, "b_utc")
    if b < a:
        return -working_seconds_between(spec, b, a, pauses)
    merged = merge_pauses(pauses, now=b)
    total = dt.timedelta()
    for x, y in _subtract(working_intervals(spec, a, b), merged):
        total += y - x
    return int(total.total_seconds())


def next_working_days(spec: CalendarSpec, start_date: dt.date, n: int) -> list[dt.date]:
    """The first ``n`` working days on or after ``start_date`` (inclusive), in order."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    out: list[dt.date] = []
    day, idle = start_date, 0
    while len(out) < n:
        if is_working_day(spec, day):
            out.append(day)
            idle = 0
        else:
            idle += 1
            if idle > _MAX_SCAN_DAYS:
                raise ValueError("calendar has no working day within three years")
        day += dt.timedelta(days=1)
    return out
