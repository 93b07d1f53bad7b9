"""What a dispatcher sees for an EM call at any hour: options and, when today gives none, why.

Today's live routes first; when they cannot take the call (the shifts are over, a Friday, an
Iranian public holiday, no room, the shop closed today) the next working day's plan, ranked together
with on-call technicians when the call's contract runs 7×24 — one ranking by the planner's EM engine
(through :mod:`fieldsvc.visits.desk.slotting`). An empty answer always carries a reason code and a
translated message.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any, Optional

from fieldsvc.calendar import is_holiday
from fieldsvc.db import utcnow
from fieldsvc.visits.desk.slotting import (LOOK_AHEAD_DAYS, Option, active_technicians, load_live_day,
                                           load_on_call, local_today, merchant_windows, rank_options, runs_24x7)
from fieldsvc.visits.i18n_text import gettext as _
from fieldsvc.visits.models import Role, ServiceCall, Technician, User
from fieldsvc.visits.plans import due
from fieldsvc.visits.plans.planning import contract_calendars, technician_works
from fieldsvc.visits.scope import get_scoped, require_role
from fieldsvc.visits.states import CallStatus


@dataclass
class SlotAnswer:
    """Options for a call, and why today's routes give none (``reason`` code, translated
    ``message``): when ``options`` is empty, the reason explains the empty answer."""

    options: list[Option]
    reason: Optional[str] = None
    message: Optional[str] = None

    def as_dict(self) -> dict[str, Any]:
        return {"options": [o.as_dict() for o in self.options], "reason": self.reason, "message": self.message}


def _why_not_today(call: ServiceCall, skilled: list[Technician], today: dt.date, working: set[int],
                   lang: str) -> SlotAnswer:
    """The reason today's routes give no option (no options yet); ``working``: the technicians
    whose day is not over."""
    calendars = contract_calendars(call.contractor_id, today)
    if not any(technician_works(t, today, calendars) for t in skilled):
        name = is_holiday(due.contract_calendar(call.contract, today), today, lang)
        if name:
            return SlotAnswer([], "not_working_day", _("Today is a public holiday (%(name)s).", name=name))
        return SlotAnswer([], "not_working_day", _("Today is not a working day for the technicians trained "
                                                    "for this terminal."))
    if merchant_windows(call.merchant, today) is None:
        return SlotAnswer([], "merchant_closed_today", _("The merchant is closed today."))
    if not any(t.id in working for t in skilled):
        return SlotAnswer([], "shift_over", _("Today's shifts are over."))
    return SlotAnswer([], "no_room_today", _("No route of today has room for this call."))


def slot_answer(call_id: int, user: User, now: dt.datetime | None = None, limit: int = 5,
                lang: str = "en") -> SlotAnswer:
    """The options the dispatcher sees for a call (see the module docstring), best first;
    ``lang`` names a public holiday in the reader's language ("en" or "fa")."""
    require_role(user, Role.DISPATCHER, Role.ADMIN)
    call = get_scoped(ServiceCall, call_id, user)
    now = now or utcnow()
    if call.status not in (CallStatus.OPEN, CallStatus.ASSIGNED):
        return SlotAnswer([], "not_open", _("This call is %(status)s: it needs no slot.", status=call.status))
    techs = active_technicians(call.contractor_id)
    if not techs:
        return SlotAnswer([], "no_technician", _("The contractor has no active technician."))
    family = call.terminal.family
    skilled = [t for t in techs if not family or family in (t.skills or [])]
    if not skilled:
        return SlotAnswer([], "no_skill", _("No active technician of the contractor is trained for %(family)s "
                                            "terminals.", family=family))
    today = local_today(now)
    live_today = load_live_day(call.contractor_id, today, now)
    found = rank_options(call, [(today, live_today)], today, limit)
    if found:
        return SlotAnswer(found)
    working = {lt.technician.id for lt in live_today}
    why = _why_not_today(call, skilled, today, working, lang)
    on_call = load_on_call(call.contractor_id, now, working) if runs_24x7(call, today) else []
    open_any = merchant_windows(call.merchant, today) is not None
    for offset in range(1, LOOK_AHEAD_DAYS + 1):
        day = today + dt.timedelta(days=offset)
        live = load_live_day(call.contractor_id, day, now)
        open_any = open_any or merchant_windows(call.merchant, day) is not None
        if not live and not on_call:
            continue
        groups = [(today, on_call), (day, live)] if on_call else [(day, live)]
        found = rank_options(call, groups, today, limit)
        if found:
            return replace(why, options=found)
    if not open_any:
        return SlotAnswer([], "merchant_closed", _("The merchant is closed on each of the next %(n)s days.",
                                                   n=LOOK_AHEAD_DAYS + 1))
    return SlotAnswer([], "no_room", _("No technician has room for this call today or in the next %(n)s days "
                                       "(shifts, opening hours, visits a day, other calls' deadlines).",
                                       n=LOOK_AHEAD_DAYS))
