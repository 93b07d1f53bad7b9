"""Planned visits that need a terminal the technician does not carry (issue 20, point 3).

For each technician's route of a day, the installation and replacement orders on it need a good
(not faulty) terminal of their family in the technician's van — one each, in route order; a
relocation's install visit needs its own terminal in the van. The visits left without one are
listed with a sentence for the board.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.i18n_text import gettext as _
from fieldsvc.visits.lifecycle_models import OrderKind, PlaceKind, StockPlace, TerminalPlace, WorkOrder
from fieldsvc.visits.states import VisitStatus

OPEN = (VisitStatus.PLANNED, VisitStatus.DISPATCHED)


def missing_terminals(contractor_id: int, day: dt.date) -> list[dict[str, Any]]:
    """Routed open visits of ``day`` whose technician's van lacks the terminal the order needs."""
    rows = db.session.execute(
        select(m.Visit, WorkOrder).join(WorkOrder, WorkOrder.visit_id == m.Visit.id)
        .join(m.Route, m.Route.id == m.Visit.route_id)
        .where(m.Route.date == day, m.Visit.contractor_id == contractor_id, m.Visit.status.in_(OPEN),
               m.Visit.kind == m.VisitKind.INSTALL)
        .order_by(m.Visit.technician_id, m.Visit.route_position)).all()
    out: list[dict[str, Any]] = []
    stock: dict[int, list[tuple[int, str]]] = {}
    for visit, order in rows:
        tid = visit.technician_id
        if tid not in stock:
            stock[tid] = [(t_id, fam) for t_id, fam in db.session.execute(
                select(m.Terminal.id, m.Terminal.family)
                .join(TerminalPlace, TerminalPlace.terminal_id == m.Terminal.id)
                .join(StockPlace, StockPlace.id == TerminalPlace.place_id)
                .where(StockPlace.kind == PlaceKind.VAN, StockPlace.technician_id == tid,
                       TerminalPlace.faulty.is_(False)).order_by(m.Terminal.serial))]
        van = stock[tid]
        if order.kind == OrderKind.RELOCATION:
            hit = next((x for x in van if x[0] == order.terminal_id), None)
        else:
            hit = next((x for x in van if x[1] == order.family), None)
        if hit is not None:
            van.remove(hit)
            continue
        tech = visit.technician
        what = order.terminal.serial if order.kind == OrderKind.RELOCATION and order.terminal else order.family
        out.append({"visit_id": visit.id, "order": order.number, "technician_id": tid,
                    "technician": tech.name if tech else "", "merchant": visit.merchant.name, "needs": what,
                    "message": _("%(name)s's van has no %(what)s terminal for order %(number)s; load one before "
                                 "the visit", name=tech.name if tech else "-", what=what, number=order.number)})
    return out
