"""Scorecard KPIs of PM inspections and campaigns (issue 23, points 5 and 6), in SQL aggregates
like :mod:`fieldsvc.visits.scorecards.kpis`, which merges them into its rows.

* **Inspections due**: (PM visit, terminal) pairs of PM visits due in the period and completed,
  whose terminal has a checklist (the PSP's active checklist for its model, else for its family;
  the checklist as it is now) with at least one required item. **Complete**: the pair has an
  answer for as many required items as the checklist has. **Inspection completeness %** =
  complete / due.
* **Campaign tasks due**: tasks (not cancelled) of campaigns whose deadline lies in the period,
  by the task's contractor. **Decided**: done, failed, or still pending after the deadline day.
  **On time**: done by the end of the deadline day (a work-order task: its order's completion).
  **Campaign on time %** = on time / decided. Grouped by contractor only (a campaign task has no
  technician, and its region is the merchant's, which the contractor view does not need).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, false, func, or_, select
from sqlalchemy.orm import aliased

from fieldsvc.visits import models as m
from fieldsvc.visits.orders.campaigns import done_at_expr, status_expr
from fieldsvc.visits.service_seed_models import (Campaign, CampaignTask, Checklist, ChecklistItem, ChecklistResult,
                                                 TaskStatus)
from fieldsvc.visits.lifecycle_models import WorkOrder
from fieldsvc.visits.scorecards.sql_time import epoch
from fieldsvc.visits.states import VisitStatus
from fieldsvc.db import db

KEYS = ("inspections_due", "inspections_complete", "inspection_completeness_pct",
        "campaign_tasks_due", "campaign_tasks_on_time", "campaign_tasks_decided", "campaign_on_time_pct")


def _count_if(cond: Any) -> Any:
    return func.sum(case((cond, 1), else_=0))


def _checklist_of_terminal() -> Any:
    """Subquery: terminal id → the id of its applicable checklist (model's own, else family's)."""
    own, fam = aliased(Checklist), aliased(Checklist)
    t = m.Terminal
    return (select(t.id.label("tid"), func.coalesce(own.id, fam.id).label("cid"))
            .outerjoin(own, and_(own.psp_id == t.psp_id, own.family == func.lower(t.family), own.model == t.model,
                                 own.model != "", own.active.is_(True)))
            .outerjoin(fam, and_(fam.psp_id == t.psp_id, fam.family == func.lower(t.family), fam.model == "",
                                 fam.active.is_(True)))
            .where(or_(own.id.is_not(None), fam.id.is_not(None))).subquery())


def inspections(q: Any) -> dict[int, dict[str, int]]:
    """inspections_due / inspections_complete per key of the scorecard's grouping."""
    key, _ = q.keys.visit()
    v = m.Visit
    required = (select(ChecklistItem.checklist_id.label("cid"), func.count().label("n"))
                .where(ChecklistItem.active.is_(True), ChecklistItem.required.is_(True))
                .group_by(ChecklistItem.checklist_id).subquery())
    answered = (select(ChecklistResult.visit_id.label("vid"), ChecklistResult.terminal_id.label("tid"),
                       func.count().label("n"))
                .join(ChecklistItem, ChecklistItem.id == ChecklistResult.item_id)
                .where(ChecklistItem.required.is_(True), ChecklistItem.active.is_(True))
                .group_by(ChecklistResult.visit_id, ChecklistResult.terminal_id).subquery())
    applicable = _checklist_of_terminal()
    vt = m.visit_terminal
    stmt = q.visits(select(key, func.count(), _count_if(func.coalesce(answered.c.n, 0) >= required.c.n)), "pm")
    stmt = (stmt.join(vt, vt.c.visit_id == v.id)
            .join(applicable, applicable.c.tid == vt.c.terminal_id)
            .join(required, required.c.cid == applicable.c.cid)
            .outerjoin(answered, and_(answered.c.vid == v.id, answered.c.tid == vt.c.terminal_id))
            .where(v.status == VisitStatus.COMPLETED, v.due_date >= q.p.start, v.due_date <= q.p.end)
            .group_by(key))
    return {k: {"inspections_due": int(n or 0), "inspections_complete": int(c or 0)}
            for k, n, c in db.session.execute(stmt).all()}


def campaigns(q: Any) -> dict[int, dict[str, int]]:
    """campaign_tasks_due / _on_time / _decided per contractor."""
    if q.keys.group_by != "contractor":
        return {}
    status, done_at = status_expr(), done_at_expr()
    c, t = Campaign, CampaignTask
    deadline_end = q.local_day_end(c.deadline)
    on_time = and_(status == TaskStatus.DONE.value, epoch(done_at) < deadline_end)
    decided = or_(status.in_([TaskStatus.DONE.value, TaskStatus.FAILED.value]),
                  and_(status == TaskStatus.PENDING.value, c.deadline < q.today))
    stmt = (select(t.contractor_id, func.count(), _count_if(on_time), _count_if(decided))
            .select_from(t).join(c, c.id == t.campaign_id)
            .outerjoin(WorkOrder, WorkOrder.id == t.work_order_id)
            .where(t.contractor_id.is_not(None), status != TaskStatus.CANCELLED.value,
                   c.deadline >= q.p.start, c.deadline <= q.p.end))
    if q.user is not None:
        if q.user.role == m.Role.PSP:
            stmt = stmt.where(c.psp_id == q.user.psp_id)
        elif q.user.role == m.Role.DISPATCHER:
            stmt = stmt.where(t.contractor_id == q.user.contractor_id)
        elif q.user.role != m.Role.ADMIN:
            stmt = stmt.where(false())
    if q.psp_id is not None:
        stmt = stmt.where(c.psp_id == q.psp_id)
    if q.contractor_ids is not None:
        stmt = stmt.where(t.contractor_id.in_(q.contractor_ids))
    stmt = stmt.group_by(t.contractor_id)
    return {k: {"campaign_tasks_due": int(n or 0), "campaign_tasks_on_time": int(ok or 0),
                "campaign_tasks_decided": int(d or 0)} for k, n, ok, d in db.session.execute(stmt).all()}


def parts(q: Any) -> list[dict[int, dict[str, int]]]:
    """Both KPI families, as :func:`fieldsvc.visits.scorecards.kpis.compute_scorecard` merges them."""
    return [inspections(q), campaigns(q)]
