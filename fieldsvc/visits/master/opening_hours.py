"""Merchant opening hours as text: ``"sat-thu 09:00-13:00,16:30-21:00; fri closed"`` ⇄ the JSON
stored in ``Merchant.opening_hours`` (``{"sat": [["09:00","13:00"],["16:30","21:00"]], ..., "fri": []}``).

Grammar (case-insensitive; Persian/Arabic digits accepted)::

    hours   := group (";" group)*
    group   := days " " times
    days    := "daily" | day-or-range ("," day-or-range)*      e.g. "sat-wed", "sat,mon", "thu"
    times   := "closed" | "24h" | interval ("," interval)*     e.g. "09:00-13:00,16:30-21:00"
    interval:= HH:MM "-" HH:MM                                 (end may be 24:00)

Days use the Iranian week order ``sat sun mon tue wed thu fri`` (a range may wrap, e.g. "thu-sat").
Days not mentioned are closed. A day may appear in one group only. An empty text means "hours
unknown" (``{}``: planners treat the shop as open whenever a technician works).
"""
from __future__ import annotations

import re

from fieldsvc.text import normalize_digits, normalize_text

#: Iranian week order.
WEEK: tuple[str, ...] = ("sat", "sun", "mon", "tue", "wed", "thu", "fri")
_FULL_NAMES = {"saturday": "sat", "sunday": "sun", "monday": "mon", "tuesday": "tue",
               "wednesday": "wed", "thursday": "thu", "friday": "fri"}
_CLOSED = {"closed", "off", "تعطیل"}
_ALWAYS = {"24h", "24/7", "24:00", "00:00-24:00"}
_TIME = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")

OpeningHours = dict[str, list[list[str]]]


class OpeningHoursError(ValueError):
    """The text does not follow the opening-hours grammar; the message says where."""


def _day(token: str) -> str:
    t = token.strip().lower()
    t = _FULL_NAMES.get(t, t)
    if t not in WEEK:
        raise OpeningHoursError(f"unknown day {token.strip()!r}: use sat, sun, mon, tue, wed, thu, fri")
    return t


def _days(text: str) -> list[str]:
    if text.strip().lower() in ("daily", "all", "everyday"):
        return list(WEEK)
    out: list[str] = []
    for part in text.split(","):
        if not part.strip():
            continue
        if "-" in part:
            a, b = part.split("-", 1)
            i, j = WEEK.index(_day(a)), WEEK.index(_day(b))
            out.extend(WEEK[(i + k) % 7] for k in range((j - i) % 7 + 1))
        else:
            out.append(_day(part))
    if not out:
        raise OpeningHoursError(f"no days in {text.strip()!r}")
    return out


def _minutes(hhmm: str) -> int:
    m = _TIME.match(hhmm.strip())
    if not m or (int(m.group(1)) == 24 and m.group(2) != "00"):
        raise OpeningHoursError(f"invalid time {hhmm.strip()!r}: use HH:MM between 00:00 and 24:00")
    return int(m.group(1)) * 60 + int(m.group(2))


def _fmt(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _times(text: str) -> list[list[str]]:
    t = text.strip().lower()
    if t in _CLOSED:
        return []
    if t in _ALWAYS:
        return [["00:00", "24:00"]]
    intervals: list[tuple[int, int]] = []
    for part in t.split(","):
        if not part.strip():
            continue
        if "-" not in part:
            raise OpeningHoursError(f"invalid interval {part.strip()!r}: use HH:MM-HH:MM, e.g. 09:00-13:00")
        a, b = part.split("-", 1)
        start, end = _minutes(a), _minutes(b)
        if end <= start:
            raise OpeningHoursError(f"interval {part.strip()} must end after it starts")
        intervals.append((start, end))
    if not intervals:
        raise OpeningHoursError(f"no hours in {text.strip()!r}: give HH:MM-HH:MM, 'closed' or '24h'")
    intervals.sort()
    for (a0, a1), (b0, b1) in zip(intervals, intervals[1:]):
        if b0 < a1:
            raise OpeningHoursError(f"intervals {_fmt(a0)}-{_fmt(a1)} and {_fmt(b0)}-{_fmt(b1)} overlap")
    return [[_fmt(a), _fmt(b)] for a, b in intervals]


def parse_opening_hours(text: str | None) -> OpeningHours:
    """Parse the text form (see the module docstring); ``{}`` for an empty text.

    Raises :class:`OpeningHoursError` with a message naming the offending part."""
    s = normalize_digits(normalize_text(text or "")).replace("–", "-").replace("—", "-").replace("،", ",")
    s = s.replace("؛", ";")
    if not s.strip():
        return {}
    out: OpeningHours = {d: [] for d in WEEK}
    seen: set[str] = set()
    for group in s.split(";"):
        group = group.strip()
        if not group:
            continue
        m = re.match(r"^(\S+)\s+(.+)$", group)
        if not m:
            raise OpeningHoursError(f"{group!r}: write days then hours, e.g. 'sat-thu 09:00-13:00,16:30-21:00'")
        days, times = _days(m.group(1)), _times(re.sub(r"\s+", "", m.group(2)))
        for d in days:
            if d in seen:
                raise OpeningHoursError(f"{d} is given twice")
            seen.add(d)
            out[d] = [list(iv) for iv in times]
    return out


def format_opening_hours(hours: OpeningHours | None) -> str:
    """The text form of stored hours, with runs of equal days merged
    (``"sat-wed 09:00-13:00,16:30-21:00; thu 09:00-13:00; fri closed"``); "" when unknown."""
    if not hours:
        return ""
    spec = [",".join(f"{a}-{b}" for a, b in hours.get(d, [])) or "closed" for d in WEEK]
    spec = ["24h" if s == "00:00-24:00" else s for s in spec]
    if len(set(spec)) == 1:
        return f"daily {spec[0]}"
    groups: list[str] = []
    i = 0
    while i < 7:
        j = i
        while j + 1 < 7 and spec[j + 1] == spec[i]:
            j += 1
        days = WEEK[i] if i == j else f"{WEEK[i]}-{WEEK[j]}"
        groups.append(f"{days} {spec[i]}")
        i = j + 1
    return "; ".join(groups)
