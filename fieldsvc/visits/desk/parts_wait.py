"""EM calls held for parts (issue 20, point 3): open calls whose last visit ended ``needs_parts``,
with how long they have waited since that check-out, longest first."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select

from fieldsvc.db import db, utcnow
from fieldsvc.visits import models as m
from fieldsvc.visits.scope import scoped
from fieldsvc.visits.states import OPEN_CALL_STATES


@dataclass(frozen=True)
class HeldCall:
    call: m.ServiceCall
    since: dt.datetime
    parts: list[str]
    waiting_hours: float


def held_for_parts(user: m.User, now: dt.datetime | None = None) -> list[HeldCall]:
    """Open calls in the user's scope waiting for parts, longest wait first."""
    now = now or utcnow()
    last = (select(m.Visit.service_call_id, func.max(m.Visit.id).label("vid"))
            .where(m.Visit.service_call_id.is_not(None), m.Visit.checkout_at.is_not(None))
            .group_by(m.Visit.service_call_id).subquery())
    rows = db.session.execute(
        scoped(m.ServiceCall, user).add_columns(m.Visit)
        .join(last, last.c.service_call_id == m.ServiceCall.id)
        .join(m.Visit, m.Visit.id == last.c.vid)
        .where(m.ServiceCall.status.in_(OPEN_CALL_STATES), m.Visit.outcome == "needs_parts")).all()
    out = [HeldCall(c, v.checkout_at, list(v.parts_used or []),
                    round((now - v.checkout_at).total_seconds() / 3600, 1)) for c, v in rows]
    return sorted(out, key=lambda h: h.since)
