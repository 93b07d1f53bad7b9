"""One terminal, one timeline; one merchant likewise (issue 20, point 4).

Entries are plain dicts ``{"at", "kind", "jalali", ...details}``, oldest first:

* ``move`` — a stock move (from, to, why, who, faulty);
* ``order`` / ``order_status`` — a work order created and each change of its state;
* ``em_call`` — a service call reported (tracking number, symptom, priority, status, SLA result);
* ``visit`` — a visit (kind pm/em/install/removal) with its check-in proof (distance, verified,
  flags), outcome, technician, photos and, for EM visits, the call's SLA result;
* ``swap`` — a swap in which the terminal went in or came out;
* ``installed`` — the installation date known from the master data when no move records it;
* ``inspection`` — a PM visit's checklist answers for the terminal (failed items, their follow-up
  call or order) and the merchant's feedback (issue 23);
* ``config`` — a configuration change (firmware, connection, SIM, switch MID/TID: old → new, who).
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from sqlalchemy import or_, select

from fieldsvc import config
from fieldsvc.dates import jalali_str
from fieldsvc.db import db
from fieldsvc.text import normalize_code, normalize_phone, normalize_text
from fieldsvc.visits import models as m
from fieldsvc.visits.desk.calls import sla_flags
from fieldsvc.visits.field.checklists import terminal_inspections
from fieldsvc.visits.lifecycle_models import StockMove, TerminalConfigChange, WorkOrder
from fieldsvc.visits.scope import NotFound, scoped
from fieldsvc.visits.stock.places import place_label

_START = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def _entry(at: Optional[dt.datetime], kind: str, **details: Any) -> dict[str, Any]:
    at = at or _START
    return {"at": at, "kind": kind, "jalali": jalali_str(at, config.TIMEZONE), **details}


def find_terminal(user: m.User, serial: str) -> m.Terminal:
    """The terminal with ``serial`` if the user may see it (or it sits in their stock)."""
    serial = normalize_code(serial or "")
    t = db.session.scalars(scoped(m.Terminal, user).where(m.Terminal.serial == serial)).first()
    if t is None and user is not None and user.role in (m.Role.ADMIN, m.Role.PSP):
        t = db.session.scalars(select(m.Terminal).where(
            m.Terminal.serial == serial, *(() if user.role == m.Role.ADMIN else (m.Terminal.psp_id == user.psp_id,))
        )).first()
    if t is None:
        raise NotFound("terminal", serial)
    return t


def _visit_entry(v: m.Visit) -> dict[str, Any]:
    at = v.checkout_at or v.checkin_at or v.planned_start or v.created_at
    call = v.service_call
    sla = None
    if call is not None:
        f = sla_flags(call)
        sla = {"response": f.response, "resolution": f.resolution}
    return _entry(at, "visit", visit_id=v.id, visit_kind=v.kind, status=v.status, outcome=v.outcome,
                  merchant=v.merchant.name if v.merchant else None,
                  technician=v.technician.name if v.technician else None,
                  checkin_at=v.checkin_at, checkin_verified=v.checkin_verified,
                  checkin_distance_m=round(v.checkin_distance_m) if v.checkin_distance_m is not None else None,
                  checkin_flags=list(v.checkin_flags or []), checkout_at=v.checkout_at,
                  photos=[p.id for p in v.photos], merchant_confirmed=v.merchant_confirmed,
                  failure_reason=v.failure_reason or "", old_serial=v.old_serial, new_serial=v.new_serial,
                  tracking_number=call.tracking_number if call else None, sla=sla)


def _call_entry(c: m.ServiceCall) -> dict[str, Any]:
    f = sla_flags(c)
    return _entry(c.reported_at, "em_call", call_id=c.id, tracking_number=c.tracking_number,
                  symptom=c.symptom_code, priority=c.priority, status=c.status,
                  merchant=c.merchant.name if c.merchant else None,
                  sla={"response": f.response, "resolution": f.resolution})


def _order_entries(orders: list[WorkOrder]) -> list[dict[str, Any]]:
    out = []
    for o in orders:
        out.append(_entry(o.requested_at, "order", number=o.number, order_kind=o.kind, status=o.status,
                          deadline=o.deadline, merchant=o.merchant.name))
        for ev in db.session.scalars(select(m.AuditEvent).where(
                m.AuditEvent.object_type == "work_order", m.AuditEvent.object_id == o.id,
                m.AuditEvent.action == "status").order_by(m.AuditEvent.id)):
            out.append(_entry(ev.at, "order_status", number=o.number, from_state=ev.from_state,
                              to_state=ev.to_state, actor=ev.actor, reason=(ev.data or {}).get("reason", "")))
    return out


def terminal_history(terminal: m.Terminal) -> list[dict[str, Any]]:
    """Every entry of one terminal's life, oldest first."""
    out: list[dict[str, Any]] = []
    moves = db.session.scalars(select(StockMove).where(StockMove.terminal_id == terminal.id)
                               .order_by(StockMove.at, StockMove.id)).all()
    for mv in moves:
        out.append(_entry(mv.at, "move", from_place=place_label(mv.from_place) if mv.from_place else None,
                          to_place=place_label(mv.to_place) if mv.to_place else None,
                          from_kind=mv.from_place.kind if mv.from_place else None,
                          to_kind=mv.to_place.kind if mv.to_place else None, reason=mv.reason,
                          actor=mv.actor, faulty=mv.faulty, visit_id=mv.visit_id))
    if terminal.installed_on and not any(mv.to_place and mv.to_place.kind == "merchant" and mv.from_place_id
                                         for mv in moves):
        at = dt.datetime.combine(terminal.installed_on, dt.time(12), tzinfo=dt.timezone.utc)
        out.append(_entry(at, "installed", merchant=terminal.merchant.name if terminal.merchant else None))
    visits = db.session.scalars(select(m.Visit).where(or_(
        m.Visit.id.in_(select(m.visit_terminal.c.visit_id).where(m.visit_terminal.c.terminal_id == terminal.id)),
        m.Visit.old_serial == terminal.serial, m.Visit.new_serial == terminal.serial))).all()
    for v in visits:
        out.append(_visit_entry(v))
        if v.outcome == "swapped" and terminal.serial in (v.old_serial, v.new_serial):
            out.append(_entry(v.checkout_at, "swap", visit_id=v.id, old_serial=v.old_serial,
                              new_serial=v.new_serial, direction="out" if v.old_serial == terminal.serial else "in"))
    for ins in terminal_inspections(terminal):
        out.append(_entry(ins.pop("at"), "inspection", **ins))
    for c in db.session.scalars(select(m.ServiceCall).where(m.ServiceCall.terminal_id == terminal.id)):
        out.append(_call_entry(c))
    out += _order_entries(list(db.session.scalars(select(WorkOrder).where(or_(
        WorkOrder.terminal_id == terminal.id, WorkOrder.installed_serial == terminal.serial)))))
    for ch in db.session.scalars(select(TerminalConfigChange).where(TerminalConfigChange.terminal_id == terminal.id)):
        out.append(_entry(ch.at, "config", field=ch.field, old_value=ch.old_value, new_value=ch.new_value,
                          actor=ch.actor))
    out.sort(key=lambda e: e["at"])
    return out


def merchant_history(merchant: m.Merchant) -> list[dict[str, Any]]:
    """A merchant's calls, visits and orders, oldest first (its terminals: :func:`terminal_history`)."""
    out = [_visit_entry(v) for v in db.session.scalars(select(m.Visit).where(m.Visit.merchant_id == merchant.id))]
    out += [_call_entry(c) for c in db.session.scalars(select(m.ServiceCall).where(
        m.ServiceCall.merchant_id == merchant.id))]
    out += _order_entries(list(db.session.scalars(select(WorkOrder).where(or_(
        WorkOrder.merchant_id == merchant.id, WorkOrder.target_merchant_id == merchant.id)))))
    out.sort(key=lambda e: e["at"])
    return out


def recent(entries: list[dict[str, Any]], n: int = 10) -> list[dict[str, Any]]:
    """The last ``n`` entries, newest first (for the EM call page)."""
    return list(reversed(entries[-n:]))


def search(user: m.User, query: str, limit: int = 30) -> dict[str, list]:
    """Terminals by serial and merchants by name or phone; Persian and Arabic spellings alike."""
    q = normalize_text(query or "")
    if not q:
        return {"terminals": [], "merchants": []}
    serial = normalize_code(q)
    terminals = list(db.session.scalars(scoped(m.Terminal, user).where(m.Terminal.serial.contains(serial))
                                        .order_by(m.Terminal.serial).limit(limit)))
    conds = [m.Merchant.name.contains(q), m.Merchant.code == serial.lower(), m.Merchant.code == serial]
    try:
        conds.append(m.Merchant.phone == normalize_phone(q))
    except ValueError:
        pass
    merchants = list(db.session.scalars(scoped(m.Merchant, user).where(or_(*conds))
                                        .order_by(m.Merchant.name).limit(limit)))
    return {"terminals": terminals, "merchants": merchants}
