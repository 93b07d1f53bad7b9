"""An EM call given to a technician is on that technician's day at once.

"Assign" on the call page names a technician but no position. The call still goes on a route
right away, so the technician's phone shows it with an ETA: today's route at its best position
when it fits (shift, opening hours, visits a day, other calls' deadlines), otherwise the first
of the next days the technician works where it fits, again at the best position. Each day is
timed and ranked by the one EM engine (:func:`fieldsvc.visits.desk.slotting.assign_on_day`). The
visit is pinned to the technician, so the nightly plan keeps it with them. Only when no day of
the next :data:`LOOK_AHEAD_DAYS` fits does the call stay "assigned" without a visit (the next
plan of a day places it, pinned to the technician).
"""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import select

from fieldsvc.db import db, utcnow
from fieldsvc.visits.desk import slotting
from fieldsvc.visits.desk.errors import CallError
from fieldsvc.visits.models import ServiceCall, Technician, User, Visit
from fieldsvc.visits.plans.planning import contract_calendars, technician_works
from fieldsvc.visits.states import VisitStatus

#: days tried, today included
LOOK_AHEAD_DAYS = 7
#: refusals that mean "not this day" (any other refusal is about the call or the technician)
NOT_THIS_DAY = frozenset({"day_off", "closed", "no_slot", "day_over"})


def place_on_technicians_day(call: ServiceCall, technician: Technician, actor: User,
                             now: Optional[dt.datetime] = None) -> Optional[Visit]:
    """Put ``call`` on ``technician``'s route of the first day it fits (see the module docstring);
    the call becomes scheduled. Returns the new EM visit, or None when no day fits. No commit."""
    now = now or utcnow()
    today = slotting.local_today(now)
    for offset in range(LOOK_AHEAD_DAYS):
        day = today + dt.timedelta(days=offset)
        if offset and not technician_works(technician, day, contract_calendars(technician.contractor_id, day)):
            continue
        try:
            route = slotting.assign_on_day(call.id, technician.id, None, actor, now, day)
        except CallError as e:
            if e.code in NOT_THIS_DAY:
                continue
            raise
        visit = db.session.scalars(select(Visit).where(
            Visit.service_call_id == call.id, Visit.route_id == route.id,
            Visit.status == VisitStatus.PLANNED)).one()
        visit.pinned_technician_id = technician.id
        return visit
    return None
