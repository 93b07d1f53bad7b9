"""What a check-out means for work orders and stock (issue 20).

* An **install** (install order, the second visit of a relocation) records the serial put in; the
  terminal must be in the technician's van (a relocation: the order's own terminal) and of the
  order's family. It moves van → merchant.
* A **removal** (removal order, the first visit of a relocation) records the serial taken out; it
  must be the order's terminal at this merchant. It moves merchant → van. A relocation then gets
  its install visit at the target merchant and is open again.
* A **swap** (a replacement order, or ``swapped`` on an EM/PM visit) takes the new terminal from
  the technician's van (a terminal the stock knows elsewhere is refused; an unregistered serial is
  registered as it is put in) and returns the old one to the van, marked faulty.
* ``merchant_closed`` / ``merchant_refused`` / ``needs_parts`` fail the order with the reason.
Serials arrive normalised (Persian digits → ASCII) from :mod:`fieldsvc.visits.field.checkin`.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.audit import record, transition_order
from fieldsvc.visits.field import outcomes as vo
from fieldsvc.visits.i18n_text import gettext as _
from fieldsvc.visits.lifecycle_models import OrderKind, PlaceKind, StockPlace, WorkOrder
from fieldsvc.visits.orders.service import _new_visit, order_of_visit
from fieldsvc.visits.states import OrderStatus, VisitStatus
from fieldsvc.visits.stock.moves import StockError, current_place, find_terminal, move_terminal
from fieldsvc.visits.stock.places import merchant_place, place_label, van

#: Outcomes after which the order has failed (nothing installed or removed).
ORDER_FAILING = frozenset({vo.Outcome.MERCHANT_CLOSED, vo.Outcome.MERCHANT_REFUSED, vo.Outcome.NEEDS_PARTS})


class CheckoutRefused(ValueError):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message, self.field = message, field


def _van_of(visit: m.Visit, user: Optional[m.User]) -> Optional[StockPlace]:
    tid = visit.technician_id or (user.technician_id if user else None)
    tech = db.session.get(m.Technician, tid) if tid else None
    return van(tech) if tech else None


def _in_van(serial: Optional[str], visit: m.Visit, user: Optional[m.User], field: str,
            *, unregistered_ok: bool) -> Optional[m.Terminal]:
    if not serial:
        raise CheckoutRefused(_("%(field)s: scan or type the serial of the terminal put in", field=field), field)
    t = find_terminal(serial)
    if t is None:
        if unregistered_ok:
            return None
        raise CheckoutRefused(_("%(field)s: %(serial)s is not a known terminal; check the serial", field=field,
                                serial=serial), field)
    where = current_place(t)
    if t.merchant_id is not None and t.merchant_id != visit.merchant_id:
        merchant = db.session.get(m.Merchant, t.merchant_id)
        raise CheckoutRefused(_("%(field)s: %(serial)s is installed at %(name)s", field=field, serial=serial,
                                name=merchant.name if merchant else "?"), field)
    my_van = _van_of(visit, user)
    if where is None and unregistered_ok and t.merchant_id is None:
        return t
    if where is None or my_van is None or where.place_id != my_van.id:
        here = db.session.get(StockPlace, where.place_id) if where else None
        raise CheckoutRefused(_("%(field)s: %(serial)s is not in your van (it is: %(here)s)", field=field,
                                serial=serial, here=place_label(here)), field)
    if where.faulty:
        raise CheckoutRefused(_("%(field)s: %(serial)s is marked faulty; take a good one", field=field,
                                serial=serial), field)
    return t


def validate(visit: m.Visit, outcome: str, old: Optional[str], new: Optional[str],
             user: Optional[m.User]) -> dict[str, Optional[str]]:
    """Check the serials of a check-out against the order and the stock; the serials to record."""
    order = order_of_visit(visit)
    if order is None:
        if outcome == vo.Outcome.SWAPPED:
            _in_van(new, visit, user, "new_serial", unregistered_ok=True)
        return {"old_serial": old, "new_serial": new}
    if outcome in ORDER_FAILING:
        return {"old_serial": old, "new_serial": new}
    kind = OrderKind(order.kind)
    wanted = {m.VisitKind.REMOVAL: vo.Outcome.REMOVED}.get(visit.kind) or (
        vo.Outcome.SWAPPED if kind == OrderKind.REPLACEMENT else vo.Outcome.INSTALLED)
    if outcome != wanted:
        raise CheckoutRefused(_("outcome: order %(number)s is finished with %(wanted)s", number=order.number,
                                wanted=vo.outcome_label(wanted)), "outcome")
    if visit.kind == m.VisitKind.REMOVAL:
        term = order.terminal
        if not old:
            raise CheckoutRefused(_("old_serial: scan or type the serial of the terminal taken out"), "old_serial")
        if term is None or old != term.serial:
            raise CheckoutRefused(_("old_serial: %(serial)s is not the terminal of order %(number)s (%(want)s)",
                                    serial=old, number=order.number, want=term.serial if term else "-"),
                                  "old_serial")
        if term.merchant_id != visit.merchant_id:
            raise CheckoutRefused(_("old_serial: the merchant does not have %(serial)s", serial=old), "old_serial")
        return {"old_serial": old, "new_serial": None}
    if kind == OrderKind.RELOCATION:
        want = order.terminal.serial
        new = new or want
        if new != want:
            raise CheckoutRefused(_("new_serial: this relocation installs %(want)s", want=want), "new_serial")
        _in_van(new, visit, user, "new_serial", unregistered_ok=False)
        return {"old_serial": None, "new_serial": new}
    t = _in_van(new, visit, user, "new_serial", unregistered_ok=False)
    if order.family and t is not None and t.family != order.family:
        raise CheckoutRefused(_("new_serial: %(serial)s is a %(fam)s terminal; the order asks for %(want)s",
                                serial=new, fam=t.family, want=order.family), "new_serial")
    if kind == OrderKind.REPLACEMENT:
        term = order.terminal
        if old and term is not None and old != term.serial:
            raise CheckoutRefused(_("old_serial: %(serial)s is not the terminal of order %(number)s (%(want)s)",
                                    serial=old, number=order.number, want=term.serial), "old_serial")
        return {"old_serial": term.serial if term else old, "new_serial": new}
    return {"old_serial": None, "new_serial": new}


def _take_out(term: m.Terminal, visit: m.Visit, to: StockPlace, user: Optional[m.User], *, faulty: bool,
              status: str, reason: str, order: Optional[WorkOrder]) -> None:
    here = merchant_place(visit.merchant)
    where = current_place(term)
    if where is None:
        move_terminal(term, here, expected_from=None, actor=user, reason="registered where installed",
                      status=m.TerminalStatus.ACTIVE)
    move_terminal(term, to, expected_from=here, actor=user, reason=reason, faulty=faulty, status=status,
                  visit_id=visit.id, work_order_id=order.id if order else None, field="old_serial")


def _put_in(term: m.Terminal, visit: m.Visit, user: Optional[m.User], reason: str,
            order: Optional[WorkOrder], day: Any) -> None:
    where = current_place(term)
    expected = db.session.get(StockPlace, where.place_id) if where else None
    if expected is not None and expected.kind != PlaceKind.VAN:
        raise StockError(_("new_serial: %(serial)s is not in your van (it is: %(here)s)", serial=term.serial,
                           here=place_label(expected)), "new_serial", status=409, code="not_there")
    move_terminal(term, merchant_place(visit.merchant), expected_from=expected, actor=user, reason=reason,
                  visit_id=visit.id, work_order_id=order.id if order else None, field="new_serial")
    term.installed_on = day
    if term not in visit.terminals:
        visit.terminals.append(term)


def apply(visit: m.Visit, outcome: str, payload: dict[str, Any], user: Optional[m.User], at: datetime,
          day: Any) -> None:
    """After the visit's own check-out effects: stock moves and the order's new state."""
    order = order_of_visit(visit)
    old, new = payload.get("old_serial"), payload.get("new_serial")
    my_van = _van_of(visit, user)
    if outcome == vo.Outcome.SWAPPED and new and old:
        new_t, old_t = find_terminal(new), find_terminal(old)
        if my_van is not None and old_t is not None:
            faulty = order is None or order.kind != OrderKind.REPLACEMENT
            _take_out(old_t, visit, my_van, user, faulty=faulty, status=m.TerminalStatus.REMOVED,
                      reason="swapped out (faulty)", order=order)
        if new_t is not None:
            _put_in(new_t, visit, user, "swapped in", order, day)
    elif outcome == vo.Outcome.INSTALLED and new:
        t = find_terminal(new)
        if t is not None:
            _put_in(t, visit, user, "installed", order, day)
            if order is not None and order.kind == OrderKind.INSTALL:
                order.terminal_id = t.id
    elif outcome == vo.Outcome.REMOVED and old and my_van is not None:
        t = find_terminal(old)
        if t is not None:
            _take_out(t, visit, my_van, user, faulty=False, status=m.TerminalStatus.REMOVED, reason="removed",
                      order=order)
    if order is None or order.status not in (OrderStatus.OPEN, OrderStatus.SCHEDULED):
        return
    if order.status == OrderStatus.OPEN:
        transition_order(order, OrderStatus.SCHEDULED, actor=user, visit_id=visit.id)
    order.merchant_confirmed = bool(visit.merchant_confirmed)
    if outcome in ORDER_FAILING:
        order.reason = visit.failure_reason or vo.outcome_label(outcome)
        transition_order(order, OrderStatus.FAILED, actor=user, visit_id=visit.id, reason=order.reason)
        return
    if visit.kind == m.VisitKind.REMOVAL:
        order.removed_serial = old
    if new:
        order.installed_serial = new
    if order.kind == OrderKind.RELOCATION and visit.kind == m.VisitKind.REMOVAL:
        nxt = _new_visit(order, m.VisitKind.INSTALL, order.target_merchant_id, user)
        nxt.terminals = []
        order.visit_id = nxt.id
        transition_order(order, OrderStatus.OPEN, actor=user, reason="removed; install at the target next",
                         visit_id=nxt.id)
        return
    order.done_at = at
    transition_order(order, OrderStatus.DONE, actor=user, visit_id=visit.id, at=at,
                     installed=order.installed_serial, removed=order.removed_serial,
                     confirmed=order.merchant_confirmed)
    record("work_order_done", order, actor=user, visit_status=str(visit.status or VisitStatus.COMPLETED))


def refused_field(e: Exception) -> tuple[str, str]:
    """(message, field) of a refusal raised here or by the stock."""
    return (getattr(e, "message", str(e)), getattr(e, "field", "serial"))


