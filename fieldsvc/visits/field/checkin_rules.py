"""When a check-in or check-out is unusual, whatever the GPS says (issue 17.3).

A check-in is flagged ``off_day`` when its local date is not the visit's planned day, and
``closed_hours`` when the merchant is closed at that moment (its own closed dates, a weekday
without hours, or outside every opening interval; a merchant with no recorded hours is never
flagged). A check-out is flagged ``short_visit`` when it comes less than :data:`MIN_VISIT` after
the check-in. Like the GPS flags, each one makes the event unverified and needs a typed reason.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from fieldsvc.visits.plans.due import merchant_closed_on, opening_windows
from fieldsvc.visits.i18n_text import gettext as _
from fieldsvc.visits.models import Merchant, Visit

#: a visit shorter than this (check-in to check-out) is implausible
MIN_VISIT = timedelta(minutes=2)


def open_at(merchant: Merchant, at: datetime, zone: ZoneInfo) -> bool:
    """Is the merchant open at ``at``? (True when no opening hours are recorded.)"""
    local = at.astimezone(zone)
    day = local.date()
    if merchant_closed_on(merchant, day):
        return False
    windows = opening_windows(merchant, day)
    if windows is None:
        return True
    now = local.time()
    return any(time.fromisoformat(a) <= now <= _end(b) for a, b in windows)


def _end(hhmm: str) -> time:
    return time(23, 59, 59) if hhmm in ("24:00", "23:59") else time.fromisoformat(hhmm)


def check_in_flags(visit: Visit, at: datetime, zone: ZoneInfo) -> tuple[str, ...]:
    """``off_day`` and/or ``closed_hours`` for a check-in at ``at`` (empty: usual)."""
    flags = []
    if visit.planned_date is not None and at.astimezone(zone).date() != visit.planned_date:
        flags.append("off_day")
    if not open_at(visit.merchant, at, zone):
        flags.append("closed_hours")
    return tuple(flags)


def check_out_flags(checkin_at: datetime | None, checkout_at: datetime) -> tuple[str, ...]:
    """``short_visit`` when the visit lasted less than :data:`MIN_VISIT`."""
    if checkin_at is not None and checkout_at - checkin_at < MIN_VISIT:
        return ("short_visit",)
    return ()


def flag_texts(flags: tuple[str, ...] | list[str]) -> list[str]:
    """A person's words for the time flags among ``flags`` (others are skipped)."""
    texts = {"off_day": _("it is not the day the visit is planned for"),
             "closed_hours": _("the shop is closed at this time"),
             "short_visit": _("the visit lasted less than two minutes")}
    return [texts[f] for f in flags if f in texts]


def reason_message(flags: tuple[str, ...]) -> str:
    """The 422 message asking for a reason for unusual timing."""
    return _("Unusual time: %(why)s. Type a reason to go on (it will be flagged).",
             why="; ".join(flag_texts(flags)))
