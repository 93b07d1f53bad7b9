"""Open work orders that cannot meet their deadline, each with the reason (first that applies):

* ``past_deadline`` — the deadline has passed and the order is not done;
* ``no_skill`` — no active technician of the contractor has the terminal family as a skill;
* ``no_working_day`` — between today and the deadline the contract calendar has no working day
  on which the merchant is open;
* ``planned_late`` — its visit is planned for a day after the deadline;
* ``unassigned`` — the last plan of the deadline's day left its visit out (with the planner's reason).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select

from fieldsvc import config
from fieldsvc.db import db, utcnow
from fieldsvc.visits import models as m
from fieldsvc.visits.i18n_text import gettext as _
from fieldsvc.visits.lifecycle_models import WorkOrder
from fieldsvc.visits.orders.service import list_orders
from fieldsvc.visits.plans.due import contract_calendar, plannable_days
from fieldsvc.visits.states import OPEN_ORDER_STATES


@dataclass(frozen=True)
class OrderRisk:
    order: WorkOrder
    reason: str
    message: str


def _local_date(at: dt.datetime) -> dt.date:
    return at.astimezone(ZoneInfo(config.TIMEZONE)).date()


def risk_of(order: WorkOrder, now: dt.datetime, skills: dict[int, set[str]]) -> OrderRisk | None:
    """Why ``order`` cannot meet its deadline, or None."""
    if order.status not in OPEN_ORDER_STATES:
        return None
    if order.deadline <= now:
        return OrderRisk(order, "past_deadline", _("the deadline has passed"))
    if order.family and order.family not in skills.get(order.contractor_id, set()):
        return OrderRisk(order, "no_skill", _("no technician of the contractor has the skill %(family)s",
                                              family=order.family))
    visit = order.visit
    merchant = visit.merchant if visit is not None else order.merchant
    last_day = _local_date(order.deadline)
    if not plannable_days(merchant, _local_date(now), last_day, contract_calendar(order.contract)):
        return OrderRisk(order, "no_working_day",
                         _("no working day on which the merchant is open before the deadline"))
    if visit is not None and visit.planned_date is not None and visit.planned_date > last_day:
        return OrderRisk(order, "planned_late", _("its visit is planned after the deadline"))
    if visit is not None and visit.unassigned_reason and visit.route_id is None \
            and _local_date(now) >= last_day:
        return OrderRisk(order, "unassigned", _("the plan left it out: %(reason)s", reason=visit.unassigned_reason))
    return None


def orders_at_risk(user: m.User, now: dt.datetime | None = None) -> list[OrderRisk]:
    """Open orders the user may see that cannot meet their deadline, earliest deadline first."""
    now = now or utcnow()
    skills: dict[int, set[str]] = {}
    for cid, sk in db.session.execute(select(m.Technician.contractor_id, m.Technician.skills)
                                      .where(m.Technician.active.is_(True))):
        skills.setdefault(cid, set()).update(sk or [])
    out = []
    for order in list_orders(user):
        r = risk_of(order, now, skills)
        if r is not None:
            out.append(r)
    return out
