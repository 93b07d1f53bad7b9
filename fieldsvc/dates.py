"""Display and input helpers for dates: Tehran time, Jalali for Persian, ISO for English.

Stored values are timezone-aware UTC datetimes and plain dates; these helpers only convert for
people. Jalali conversion uses ``jdatetime``.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import jdatetime

from fieldsvc.text import normalize_digits, to_persian_digits

__all__ = [
    "DEFAULT_TZ",
    "PERSIAN_MONTHS",
    "PERSIAN_WEEKDAYS",
    "to_local",
    "format_date",
    "format_time",
    "format_datetime",
    "parse_date_input",
    "date_input_value",
    "jalali_str",
]

DEFAULT_TZ = "Asia/Tehran"
#: Farvardin … Esfand.
PERSIAN_MONTHS: tuple[str, ...] = tuple(jdatetime.date.j_months_fa)
#: Persian weekday names, Monday first (index with ``date.weekday()``).
PERSIAN_WEEKDAYS: tuple[str, ...] = ("دوشنبه", "سه\u200cشنبه", "چهارشنبه", "پنج\u200cشنبه",
                                     "جمعه", "شنبه", "یک\u200cشنبه")


def _is_fa(lang: str) -> bool:
    return (lang or "").lower().startswith("fa")


def to_local(dt_utc: dt.datetime, tz: str = DEFAULT_TZ) -> dt.datetime:
    """An aware datetime in the zone ``tz`` (naive input is an error, never guessed)."""
    if dt_utc.tzinfo is None or dt_utc.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime, got naive {dt_utc!r}")
    return dt_utc.astimezone(ZoneInfo(tz))


def _as_date(d: dt.date | dt.datetime, tz: str) -> dt.date:
    if isinstance(d, dt.datetime):
        return to_local(d, tz).date()
    return d


def jalali_str(d: dt.date | dt.datetime, tz: str = DEFAULT_TZ) -> str:
    """Jalali date with ASCII digits, ``"1405/09/01"`` (aware datetimes are converted to ``tz``)."""
    j = jdatetime.date.fromgregorian(date=_as_date(d, tz))
    return f"{j.year:04d}/{j.month:02d}/{j.day:02d}"


def format_date(d: dt.date | dt.datetime, lang: str = "en", *, tz: str = DEFAULT_TZ,
                weekday: bool = False) -> str:
    """``"۱ آذر ۱۴۰۵"`` (fa, Jalali, Persian month names and digits) or ``"2026-11-22"`` (en).
    With ``weekday``: ``"یک‌شنبه ۱ آذر ۱۴۰۵"`` / ``"Sun 2026-11-22"``."""
    day = _as_date(d, tz)
    if _is_fa(lang):
        j = jdatetime.date.fromgregorian(date=day)
        text = to_persian_digits(f"{j.day} {PERSIAN_MONTHS[j.month - 1]} {j.year}")
        return f"{PERSIAN_WEEKDAYS[day.weekday()]} {text}" if weekday else text
    text = day.isoformat()
    return f"{day.strftime('%a')} {text}" if weekday else text


def format_time(dt_utc: dt.datetime, lang: str = "en", tz: str = DEFAULT_TZ) -> str:
    """Local ``HH:MM`` (Persian digits for fa)."""
    text = to_local(dt_utc, tz).strftime("%H:%M")
    return to_persian_digits(text) if _is_fa(lang) else text


def format_datetime(dt_utc: dt.datetime, lang: str = "en", tz: str = DEFAULT_TZ) -> str:
    """``"۱ آذر ۱۴۰۵، ۰۸:۳۰"`` (fa) or ``"2026-11-22 08:30"`` (en), in ``tz``."""
    date_text = format_date(dt_utc, lang, tz=tz)
    time_text = format_time(dt_utc, lang, tz)
    return f"{date_text}، {time_text}" if _is_fa(lang) else f"{date_text} {time_text}"


_DATE_RE = re.compile(r"^(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})$")
_JALALI_MAX_YEAR = 1700  # four-digit years below this are Jalali in Persian input


def parse_date_input(s: str, lang: str = "en") -> dt.date:
    """A typed date → ``datetime.date``.

    fa: Jalali ``"1405/09/01"`` (``/``, ``-`` or ``.``; any digits) or Gregorian ISO
    ``"2026-11-22"`` — a year below 1700 is read as Jalali. en: ISO ``YYYY-MM-DD`` (``/`` also
    accepted). Raises ValueError with a message naming the expected form."""
    text = normalize_digits(str(s)).strip().translate({0x200E: None, 0x200F: None})
    m = _DATE_RE.match(text)
    fa = _is_fa(lang)
    expected = "1405/09/01 or 2026-11-22" if fa else "YYYY-MM-DD, e.g. 2026-11-22"
    if not m:
        raise ValueError(f"invalid date {s!r}: expected {expected}")
    y, mo, d = (int(g) for g in m.groups())
    try:
        if y < _JALALI_MAX_YEAR:
            if not fa:
                raise ValueError
            return jdatetime.date(y, mo, d).togregorian()
        return dt.date(y, mo, d)
    except ValueError:
        raise ValueError(f"invalid date {s!r}: expected {expected}") from None


def date_input_value(d: dt.date, lang: str = "en") -> str:
    """The value to pre-fill a date input with, parseable by :func:`parse_date_input`:
    ``"1405/09/01"`` (fa) or ``"2026-11-22"`` (en)."""
    return jalali_str(d) if _is_fa(lang) else d.isoformat()
