"""Moving serialised terminals between places, and counted parts (consumables).

Every move is a :class:`StockMove` row (who, when, from, to, why). Where a terminal is lives in
``terminal_place`` (one row per terminal, the terminal as primary key). A move is a compare-and-set
``UPDATE … WHERE place_id = <from>``: of two people moving the same terminal out of one place at
the same moment, exactly one succeeds and the other is told the terminal is no longer there.
Functions here flush but never commit; the caller's transaction decides (services below commit).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from fieldsvc.visits.refused import Refused
from fieldsvc.db import db, utcnow
from fieldsvc.visits import models as m
from fieldsvc.visits.audit import record
from fieldsvc.visits.i18n_text import gettext as _
from fieldsvc.visits.i18n_text import lazy_gettext as _l
from fieldsvc.visits.lifecycle_models import ConsumableStock, PlaceKind, StockMove, StockPlace, TerminalPlace
from fieldsvc.visits.stock.places import merchant_place, place_label

#: Counted parts a place can hold.
CONSUMABLES = {"paper_roll": _l("Paper rolls"), "battery": _l("Batteries"), "sim_card": _l("SIM cards")}


class StockError(Refused):
    """A refused stock action: HTTP-ish status, code, message for people, the field at fault."""


def current_place(terminal: m.Terminal) -> Optional[TerminalPlace]:
    """Where the terminal is now (None: never registered in stock)."""
    return db.session.get(TerminalPlace, terminal.id, populate_existing=True)


def _terminal_state_for(place: StockPlace, faulty: bool) -> str:
    kind = PlaceKind(place.kind)
    if kind == PlaceKind.MERCHANT:
        return m.TerminalStatus.ACTIVE
    if kind == PlaceKind.SCRAP:
        return m.TerminalStatus.SCRAPPED
    if kind == PlaceKind.REPAIR or faulty:
        return m.TerminalStatus.FAULTY
    return m.TerminalStatus.IN_STOCK


def move_terminal(terminal: m.Terminal, to: StockPlace, *, expected_from: Optional[StockPlace],
                  actor: Optional[m.User], reason: str, faulty: Optional[bool] = None,
                  visit_id: Optional[int] = None, work_order_id: Optional[int] = None,
                  status: Optional[str] = None, field: str = "serial") -> StockMove:
    """Move ``terminal`` to ``to``; it must be at ``expected_from`` now (None: anywhere it is, or
    not yet registered). StockError naming ``field`` when it is not there (someone else moved it)."""
    now = utcnow()
    where = current_place(terminal)
    from_id = where.place_id if where is not None else None
    if expected_from is not None and from_id != expected_from.id:
        here = db.session.get(StockPlace, from_id) if from_id else None
        raise StockError(_("%(field)s: %(serial)s is not in %(place)s (it is: %(here)s)", field=field,
                           serial=terminal.serial, place=place_label(expected_from), here=place_label(here)),
                         field, status=409 if where is not None else 422, code="not_there")
    if from_id == to.id:
        raise StockError(_("%(field)s: %(serial)s is already in %(place)s", field=field, serial=terminal.serial,
                           place=place_label(to)), field)
    is_faulty = bool(where.faulty if (faulty is None and where is not None) else faulty)
    if to.kind == PlaceKind.MERCHANT:
        is_faulty = False
    if where is None:
        try:
            with db.session.begin_nested():
                db.session.execute(insert(TerminalPlace).values(terminal_id=terminal.id, place_id=to.id,
                                                                faulty=is_faulty, since=now))
        except IntegrityError:
            raise StockError(_("%(field)s: %(serial)s was just placed by someone else; reload", field=field,
                               serial=terminal.serial), field, status=409, code="conflict") from None
    else:
        done = db.session.execute(update(TerminalPlace).where(
            TerminalPlace.terminal_id == terminal.id, TerminalPlace.place_id == from_id)
            .values(place_id=to.id, faulty=is_faulty, since=now).execution_options(synchronize_session=False))
        if done.rowcount != 1:
            raise StockError(_("%(field)s: %(serial)s was just moved by someone else; reload", field=field,
                               serial=terminal.serial), field, status=409, code="conflict")
    if to.kind == PlaceKind.MERCHANT:
        terminal.merchant_id = to.merchant_id
    elif terminal.merchant_id is not None:
        terminal.merchant_id = None
    terminal.status = status or _terminal_state_for(to, is_faulty)
    mv = StockMove(at=now, terminal_id=terminal.id, quantity=1, from_place_id=from_id, to_place_id=to.id,
                   faulty=is_faulty, reason=reason[:200], actor_id=actor.id if actor else None,
                   actor=actor.username if actor else "system", visit_id=visit_id, work_order_id=work_order_id)
    db.session.add(mv)
    db.session.flush()
    db.session.expire(where) if where is not None else None
    return mv


def ensure_placed(terminal: m.Terminal, actor: Optional[m.User] = None) -> Optional[TerminalPlace]:
    """A terminal known only as installed at a merchant gets its merchant as its place."""
    where = current_place(terminal)
    if where is None and terminal.merchant_id is not None:
        merchant = db.session.get(m.Merchant, terminal.merchant_id)
        move_terminal(terminal, merchant_place(merchant), expected_from=None, actor=actor,
                      reason="registered where installed", status=terminal.status)
        where = current_place(terminal)
    return where


def terminals_at(place: StockPlace) -> list[tuple[m.Terminal, TerminalPlace]]:
    """The terminals in a place, by serial."""
    rows = db.session.execute(select(m.Terminal, TerminalPlace).join(
        TerminalPlace, TerminalPlace.terminal_id == m.Terminal.id).where(TerminalPlace.place_id == place.id)
        .order_by(m.Terminal.serial)).all()
    return [(t, p) for t, p in rows]


def find_terminal(serial: str) -> Optional[m.Terminal]:
    return db.session.scalars(select(m.Terminal).where(m.Terminal.serial == serial)).first()


# --------------------------------------------------------------------------- consumables


@dataclass(frozen=True)
class Level:
    item: str
    label: str
    quantity: int
    min_quantity: int

    @property
    def low(self) -> bool:
        return self.quantity < self.min_quantity


def check_item(item: str) -> str:
    if item not in CONSUMABLES:
        raise StockError(_("item: choose one of %(items)s", items=", ".join(CONSUMABLES)), "item")
    return item


def check_count(quantity: object, field: str = "quantity") -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise StockError(_("%(field)s: give a whole number", field=field), field)
    if quantity <= 0:
        raise StockError(_("%(field)s: a count must be more than zero (got %(n)s)", field=field, n=quantity), field)
    return quantity


def _row(place: StockPlace, item: str) -> ConsumableStock:
    row = db.session.scalars(select(ConsumableStock).where(ConsumableStock.place_id == place.id,
                                                           ConsumableStock.item == item)).first()
    if row is None:
        row = ConsumableStock(place_id=place.id, item=item, quantity=0, min_quantity=0)
        db.session.add(row)
        db.session.flush()
    return row


def change_consumable(place: StockPlace, item: str, delta: int) -> None:
    """Add ``delta`` (negative: take) atomically; StockError when fewer are there than taken."""
    _row(place, item)
    done = db.session.execute(update(ConsumableStock).where(
        ConsumableStock.place_id == place.id, ConsumableStock.item == item,
        ConsumableStock.quantity + delta >= 0).values(quantity=ConsumableStock.quantity + delta)
        .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        have = _row(place, item).quantity
        raise StockError(_("quantity: %(place)s has only %(n)s of %(item)s", place=place_label(place), n=have,
                           item=str(CONSUMABLES[item])), "quantity")
    db.session.expire_all()


def move_consumable(item: str, quantity: int, from_place: Optional[StockPlace], to_place: Optional[StockPlace],
                    *, actor: Optional[m.User], reason: str, visit_id: Optional[int] = None) -> StockMove:
    """Receive (no ``from_place``), use up (no ``to_place``) or transfer a count of a part."""
    check_item(item)
    check_count(quantity)
    if from_place is not None:
        change_consumable(from_place, item, -quantity)
    if to_place is not None:
        change_consumable(to_place, item, quantity)
    return _logged(item, quantity, from_place, to_place, actor, reason, visit_id)


@dataclass(frozen=True)
class Shortfall:
    """A part a visit used that its place did not hold by the books (``held`` of ``used``)."""
    item: str
    used: int
    held: int


def use_at_visit(place: StockPlace, used: Mapping[str, int], *, actor: Optional[m.User],
                 visit_id: int) -> list[Shortfall]:
    """Take the parts a visit used from ``place`` (the technician's van). A check-out is never
    refused for stock (the part is already used): what the books say the place did not hold is
    taken down to zero and returned as a shortfall for the stock keeper."""
    short = []
    for item, n in used.items():
        check_item(item)
        check_count(n)
        taken = 0
        for _attempt in range(3):  # another check-out may take from the same van meanwhile
            held = db.session.get(ConsumableStock, _row(place, item).id, populate_existing=True).quantity
            taken = min(held, n)
            if taken == 0:
                break
            try:
                change_consumable(place, item, -taken)
                break
            except StockError:
                taken = 0
        if taken:
            _logged(item, taken, place, None, actor, f"used at visit {visit_id}", visit_id)
        if taken < n:
            short.append(Shortfall(item, n, taken))
    return short


def _logged(item: str, quantity: int, from_place: Optional[StockPlace], to_place: Optional[StockPlace],
            actor: Optional[m.User], reason: str, visit_id: Optional[int]) -> StockMove:
    mv = StockMove(at=utcnow(), item=item, quantity=quantity, from_place_id=from_place.id if from_place else None,
                   to_place_id=to_place.id if to_place else None, reason=reason[:200],
                   actor_id=actor.id if actor else None, actor=actor.username if actor else "system",
                   visit_id=visit_id)
    db.session.add(mv)
    db.session.flush()
    return mv


def set_minimum(place: StockPlace, item: str, minimum: int, actor: Optional[m.User]) -> None:
    check_item(item)
    if isinstance(minimum, bool) or not isinstance(minimum, int) or minimum < 0:
        raise StockError(_("min_quantity: a count cannot be negative"), "min_quantity")
    _row(place, item).min_quantity = minimum
    record("stock_minimum", None, actor=actor, object_type="stock_place", object_id=place.id, item=item,
           min_quantity=minimum)


def levels(place: StockPlace) -> list[Level]:
    """Every consumable at a place (zero when never stocked) with its low-stock flag."""
    rows = {r.item: r for r in db.session.scalars(select(ConsumableStock).where(ConsumableStock.place_id == place.id))}
    out = []
    for item, label in CONSUMABLES.items():
        r = rows.get(item)
        out.append(Level(item, str(label), r.quantity if r else 0, r.min_quantity if r else 0))
    return out
