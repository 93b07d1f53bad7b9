"""Work orders: creating them (validated, all or nothing), their deadline, their visit, their state.

* **Kinds.** ``install`` a new terminal of a model at a merchant; ``removal`` of a terminal the
  merchant has; ``relocation`` of a merchant's terminal to another merchant of the same PSP (a
  removal visit, then an install visit at the target); ``replacement`` of a merchant's terminal by
  a new model (one visit: a swap).
* **Deadline**: the contract's ``install_deadline_hours`` of *working* time in the contract's
  calendar after the request (:func:`fieldsvc.visits.contracts.sla.install_deadline`): nights,
  Fridays and Iranian public holidays do not count.
* **Contract**: the valid contract of the merchant's PSP that covers the merchant's region.
* **Status**: open (its visit waits in the pool) → scheduled (its visit is on a route) → done /
  failed with a reason / cancelled; every change is audited. A failed order can be opened again.
* **Visit**: each open order carries one planned visit (kind install or removal) with the
  order's deadline, in the due pool of the contractor; the planner gives it the skill of its
  terminal family.
"""
from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo
from dataclasses import dataclass
from typing import Any, Optional

from sqlalchemy import func, select

from fieldsvc.visits.refused import Refused
from fieldsvc import config
from fieldsvc.calendar import CalendarSpec
from fieldsvc.db import db, utcnow
from fieldsvc.text import normalize_code, normalize_text
from fieldsvc.visits import models as m
from fieldsvc.visits.contracts.versions import version_in_force
from fieldsvc.visits.audit import record, transition_order, transition_visit
from fieldsvc.visits.contracts.sla import install_deadline
from fieldsvc.visits.i18n_text import gettext as _
from fieldsvc.visits.lifecycle_models import OrderKind, WorkOrder
from fieldsvc.visits.scope import NotFound, require_role, scoped
from fieldsvc.visits.states import OPEN_ORDER_STATES, OrderStatus, VisitStatus

CREATE_ROLES = (m.Role.PSP, m.Role.ADMIN)
VIEW_ROLES = (m.Role.PSP, m.Role.ADMIN, m.Role.DISPATCHER)
#: The visit kind that carries each order kind (relocation: removal first, then install).
FIRST_VISIT_KIND = {OrderKind.INSTALL: m.VisitKind.INSTALL, OrderKind.REMOVAL: m.VisitKind.REMOVAL,
                    OrderKind.RELOCATION: m.VisitKind.REMOVAL, OrderKind.REPLACEMENT: m.VisitKind.INSTALL}
SERVICE_MINUTES = {OrderKind.INSTALL: 40, OrderKind.REMOVAL: 20, OrderKind.RELOCATION: 20,
                   OrderKind.REPLACEMENT: 45}
KNOWN_FAMILIES = ("pax", "verifone", "ingenico", "castles", "newland", "sunmi", "nexgo", "centerm",
                  "spectra", "hypercom")


class OrderError(Refused):
    """A refused order: the message names the field; nothing was written."""


@dataclass(frozen=True)
class OrderInput:
    """What a PSP asks for, as typed (codes and serials are normalised here)."""

    kind: str
    merchant: str
    terminal_serial: str = ""
    model: str = ""
    family: str = ""
    target_merchant: str = ""
    notes: str = ""


def _merchant(psp_id: int | None, code: str, field: str) -> m.Merchant:
    code = normalize_code(code or "").lower()
    if not code:
        raise OrderError(_("%(field)s: give the merchant's code", field=field), field)
    q = select(m.Merchant).where(func.lower(m.Merchant.code) == code)
    if psp_id is not None:
        q = q.where(m.Merchant.psp_id == psp_id)
    found = db.session.scalars(q).all()
    if len(found) != 1:
        raise OrderError(_("%(field)s: no merchant with code %(code)s among your merchants", field=field,
                           code=code), field)
    return found[0]


def contract_for(merchant: m.Merchant, on: dt.date) -> m.Contract:
    """The valid contract of the merchant's PSP covering its region."""
    q = (select(m.Contract).join(m.contract_region, m.contract_region.c.contract_id == m.Contract.id)
         .where(m.Contract.psp_id == merchant.psp_id, m.contract_region.c.region_id == merchant.region_id,
                m.Contract.valid_from <= on).order_by(m.Contract.id))
    for c in db.session.scalars(q):
        if c.valid_to is None or c.valid_to >= on:
            return c
    raise OrderError(_("merchant: no valid contract covers %(name)s's region; a contractor must be "
                       "contracted for it first", name=merchant.name), "merchant")


def order_deadline(contract: m.Contract, requested_at: dt.datetime) -> dt.datetime:
    """Working hours of the installation target after the request, in the calendar of the
    contract version in force when the order was requested."""
    terms = version_in_force(contract, requested_at)
    return install_deadline(requested_at, terms.install_deadline_hours or 72, CalendarSpec.from_dict(terms.calendar or {}))


def _terminal_of(merchant: m.Merchant, serial: str, field: str = "terminal_serial") -> m.Terminal:
    serial = normalize_code(serial or "")
    if not serial:
        raise OrderError(_("%(field)s: give the serial of the merchant's terminal", field=field), field)
    t = db.session.scalars(select(m.Terminal).where(m.Terminal.serial == serial)).first()
    if t is None or t.merchant_id != merchant.id:
        raise OrderError(_("%(field)s: merchant %(name)s has no terminal %(serial)s", field=field,
                           name=merchant.name, serial=serial), field)
    busy = db.session.scalars(select(WorkOrder.number).where(
        WorkOrder.terminal_id == t.id, WorkOrder.status.in_(OPEN_ORDER_STATES))).first()
    if busy:
        raise OrderError(_("%(field)s: terminal %(serial)s already has open order %(number)s", field=field,
                           serial=serial, number=busy), field, status=409, code="conflict")
    return t


def _family(model: str, family: str) -> str:
    fam = normalize_text(family or "").lower()
    if not fam and model:
        fam = (model.split() or [""])[0].lower()
    known = set(KNOWN_FAMILIES) | {f for (f,) in db.session.execute(select(m.Terminal.family).distinct())}
    if fam not in known:
        raise OrderError(_("family: %(family)s is not a known terminal family; use one of %(known)s",
                           family=fam or "-", known=", ".join(sorted(known))), "family")
    return fam


def validate(data: OrderInput, user: m.User) -> dict[str, Any]:
    """Check an order against the database; the values to create it with, or OrderError."""
    require_role(user, *CREATE_ROLES)
    try:
        kind = OrderKind(data.kind)
    except ValueError:
        raise OrderError(_("kind: choose one of %(kinds)s", kinds=", ".join(k.value for k in OrderKind)),
                         "kind") from None
    psp_id = user.psp_id if user.role == m.Role.PSP else None
    merchant = _merchant(psp_id, data.merchant, "merchant")
    values: dict[str, Any] = {"kind": kind, "merchant": merchant, "terminal": None, "target": None,
                              "model": normalize_text(data.model or "")[:64], "family": "",
                              "notes": normalize_text(data.notes or "")[:2000]}
    if kind in (OrderKind.REMOVAL, OrderKind.RELOCATION, OrderKind.REPLACEMENT):
        values["terminal"] = _terminal_of(merchant, data.terminal_serial)
        values["family"] = values["terminal"].family
    if kind in (OrderKind.INSTALL, OrderKind.REPLACEMENT):
        if not values["model"]:
            raise OrderError(_("model: give the model to install, e.g. PAX S90"), "model")
        values["family"] = _family(values["model"], data.family)
    if kind == OrderKind.RELOCATION:
        target = _merchant(merchant.psp_id, data.target_merchant, "target_merchant")
        if target.id == merchant.id:
            raise OrderError(_("target_merchant: the terminal is already at this merchant"), "target_merchant")
        values["target"] = target
        values["model"] = values["terminal"].model
    return values


def _new_visit(order: WorkOrder, kind: str, merchant_id: int, actor: Optional[m.User]) -> m.Visit:
    zone = ZoneInfo(config.TIMEZONE)
    last_day = order.deadline.astimezone(zone).date()
    # the window the horizon spreads it in: from the request (or today) to the deadline's day
    first_day = min(last_day, max(order.requested_at.astimezone(zone).date(), utcnow().astimezone(zone).date()))
    v = m.Visit(kind=kind, status=VisitStatus.PLANNED, merchant_id=merchant_id,
                contractor_id=order.contractor_id, contract_id=order.contract_id, deadline=order.deadline,
                due_date=last_day, window_start=first_day, window_end=last_day,
                service_minutes=SERVICE_MINUTES[OrderKind(order.kind)])
    if order.terminal is not None and (kind == m.VisitKind.REMOVAL or order.kind == OrderKind.REPLACEMENT):
        v.terminals = [order.terminal]
    db.session.add(v)
    db.session.flush()
    record("work_order_visit", v, actor=actor, work_order=order.number)
    return v


def create(values: dict[str, Any], user: m.User, *, requested_at: dt.datetime | None = None,
           commit: bool = True) -> WorkOrder:
    """Create one validated order (see :func:`validate`) with its visit; audited."""
    now = requested_at or utcnow()
    merchant: m.Merchant = values["merchant"]
    contract = contract_for(merchant, now.date())
    term: Optional[m.Terminal] = values["terminal"]
    order = WorkOrder(number=f"tmp-{uuid.uuid4().hex[:16]}", kind=values["kind"],
                      status=OrderStatus.OPEN, psp_id=merchant.psp_id, contract_id=contract.id,
                      contractor_id=contract.contractor_id, merchant_id=merchant.id,
                      target_merchant_id=values["target"].id if values["target"] else None,
                      terminal_id=term.id if term else None, model=values["model"], family=values["family"],
                      requested_at=now, deadline=order_deadline(contract, now), notes=values["notes"],
                      created_by_id=user.id if user else None)
    db.session.add(order)
    db.session.flush()
    order.number = f"WO-{order.id:06d}"
    visit = _new_visit(order, FIRST_VISIT_KIND[OrderKind(order.kind)], merchant.id, user)
    order.visit_id = visit.id
    record("created", order, actor=user, to_state=OrderStatus.OPEN, kind=str(order.kind), number=order.number,
           merchant=merchant.code, serial=term.serial if term else None, deadline=order.deadline)
    if commit:
        db.session.commit()
    return order


def create_order(data: OrderInput, user: m.User, *, requested_at: dt.datetime | None = None) -> WorkOrder:
    """Validate and create one order; OrderError (nothing written) when the input is wrong."""
    try:
        return create(validate(data, user), user, requested_at=requested_at)
    except BaseException:
        db.session.rollback()
        raise


def list_orders(user: m.User, status: str | None = None, kind: str | None = None,
                limit: int = 500) -> list[WorkOrder]:
    """Orders the user may see, newest deadline last; optionally filtered."""
    require_role(user, *VIEW_ROLES)
    q = scoped(WorkOrder, user)
    if status:
        if status not in {s.value for s in OrderStatus}:
            raise OrderError(_("status: choose one of %(s)s", s=", ".join(s.value for s in OrderStatus)), "status")
        q = q.where(WorkOrder.status == status)
    if kind:
        if kind not in {k.value for k in OrderKind}:
            raise OrderError(_("kind: choose one of %(kinds)s", kinds=", ".join(k.value for k in OrderKind)), "kind")
        q = q.where(WorkOrder.kind == kind)
    return list(db.session.scalars(q.order_by(WorkOrder.deadline, WorkOrder.id).limit(limit)))


def get_order(user: m.User, ident: int | str) -> WorkOrder:
    require_role(user, *VIEW_ROLES)
    col = WorkOrder.number if isinstance(ident, str) and not ident.isdigit() else WorkOrder.id
    key = ident if col is WorkOrder.number else int(ident)
    order = db.session.scalars(scoped(WorkOrder, user).where(col == key)).first()
    if order is None:
        raise NotFound("work order", ident)
    return order


def cancel_order(order: WorkOrder, user: m.User, reason: str) -> WorkOrder:
    """Cancel an open, scheduled or failed order with a reason; its visit is cancelled if not begun."""
    require_role(user, *CREATE_ROLES)
    reason = normalize_text(reason or "")
    if not reason:
        raise OrderError(_("reason: say why the order is cancelled"), "reason")
    visit = order.visit
    if visit is not None and visit.status == VisitStatus.CHECKED_IN:
        raise OrderError(_("status: the technician is on site for this order; it cannot be cancelled now"),
                         "status", status=409, code="conflict")
    transition_order(order, OrderStatus.CANCELLED, actor=user, reason=reason)
    order.reason = reason
    if visit is not None and visit.status in (VisitStatus.PLANNED, VisitStatus.DISPATCHED):
        transition_visit(visit, VisitStatus.CANCELLED, actor=user, reason=f"order {order.number} cancelled")
    db.session.commit()
    return order


def reopen_order(order: WorkOrder, user: m.User) -> WorkOrder:
    """A failed order gets a new visit and is open again (same deadline)."""
    require_role(user, *CREATE_ROLES)
    transition_order(order, OrderStatus.OPEN, actor=user)
    kind = m.VisitKind.INSTALL if (order.kind == OrderKind.RELOCATION and order.removed_serial) else \
        FIRST_VISIT_KIND[OrderKind(order.kind)]
    merchant_id = order.target_merchant_id if kind == m.VisitKind.INSTALL and order.target_merchant_id \
        else order.merchant_id
    order.visit_id = _new_visit(order, kind, merchant_id, user).id
    db.session.commit()
    return order


def order_of_visit(visit: m.Visit) -> Optional[WorkOrder]:
    """The open order a visit carries (None for PM/EM visits)."""
    if visit.id is None:
        return None
    return db.session.scalars(select(WorkOrder).where(WorkOrder.visit_id == visit.id)).first()


def family_of_visit(visit_ids: list[int]) -> dict[int, str]:
    """visit id → the terminal family its order needs (for the planner's skills)."""
    if not visit_ids:
        return {}
    rows = db.session.execute(select(WorkOrder.visit_id, WorkOrder.family).where(
        WorkOrder.visit_id.in_(visit_ids), WorkOrder.family != "")).all()
    return {vid: fam for vid, fam in rows}


def mark_scheduled(visits: list[m.Visit], actor: Optional[m.User] = None) -> int:
    """Orders whose visit is now on a route become scheduled; those whose visit left every route
    open again. Returns how many changed; the caller commits."""
    by_visit = {v.id: v for v in visits}
    if not by_visit:
        return 0
    changed = 0
    for order in db.session.scalars(select(WorkOrder).where(WorkOrder.visit_id.in_(list(by_visit)),
                                                            WorkOrder.status.in_(OPEN_ORDER_STATES))):
        v = by_visit[order.visit_id]
        routed = v.route_id is not None and v.status in (VisitStatus.PLANNED, VisitStatus.DISPATCHED)
        if routed and order.status == OrderStatus.OPEN:
            transition_order(order, OrderStatus.SCHEDULED, actor=actor, planned_date=v.planned_date,
                             technician_id=v.technician_id)
            changed += 1
        elif not routed and order.status == OrderStatus.SCHEDULED and v.status == VisitStatus.PLANNED:
            transition_order(order, OrderStatus.OPEN, actor=actor, reason=v.unassigned_reason or "not planned")
            changed += 1
    return changed
