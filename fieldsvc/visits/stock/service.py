"""Stock actions people take, each one transaction (all or nothing) with an audit event:
receiving terminals or parts into a warehouse, transferring them between places, a technician
taking a spare into the van, sending faulty terminals to repair, back to stock, or to scrap.

Who may do what: PSP staff and admins act on PSP places; a contractor's dispatcher (its
storekeeper) on the contractor's warehouse and vans and from the PSP warehouse of a PSP it is
contracted by; a technician only takes spares into, or returns them from, their own van.
"""
from __future__ import annotations

from typing import Iterable, Optional

from sqlalchemy import select

from fieldsvc.db import db
from fieldsvc.text import normalize_code, normalize_text
from fieldsvc.visits import models as m
from fieldsvc.visits.audit import record
from fieldsvc.visits.i18n_text import gettext as _
from fieldsvc.visits.lifecycle_models import PlaceKind, StockPlace, TerminalPlace
from fieldsvc.visits.scope import NotFound, scope_clause
from fieldsvc.visits.stock import places
from fieldsvc.visits.stock.moves import StockError, current_place, find_terminal, move_consumable, move_terminal

R = m.Role
KNOWN_FAMILIES = ("pax", "verifone", "ingenico", "castles", "newland", "sunmi", "nexgo", "centerm",
                  "spectra", "hypercom")


def visible_places(user: m.User) -> list[StockPlace]:
    """Places the user may see (merchant places excluded: see the terminal pages)."""
    q = select(StockPlace).where(scope_clause(StockPlace, user), StockPlace.kind != PlaceKind.MERCHANT)
    return list(db.session.scalars(q.order_by(StockPlace.kind, StockPlace.name)))


def get_place(user: m.User, place_id: int) -> StockPlace:
    place = db.session.scalars(select(StockPlace).where(StockPlace.id == place_id,
                                                        scope_clause(StockPlace, user))).first()
    if place is None:
        raise NotFound("stock place", place_id)
    return place


def _may_act(user: m.User, place: StockPlace) -> bool:
    if user.role == R.ADMIN:
        return True
    if user.role == R.PSP:
        return place.psp_id == user.psp_id and place.kind != PlaceKind.MERCHANT
    if user.role == R.DISPATCHER:
        return place.contractor_id == user.contractor_id or place.kind == PlaceKind.PSP_WAREHOUSE
    if user.role == R.TECHNICIAN:
        return place.kind == PlaceKind.VAN and place.technician_id == user.technician_id
    return False


def _staff_only(user: m.User) -> None:
    if user is None or user.role not in (R.ADMIN, R.PSP, R.DISPATCHER):
        raise StockError(_("Only warehouse staff (PSP or contractor) receive and transfer stock."), "role",
                         status=403, code="forbidden")


def _place_arg(user: m.User, place_id: object, field: str) -> StockPlace:
    if isinstance(place_id, bool) or not isinstance(place_id, int):
        raise StockError(_("%(field)s: give the place's id", field=field), field)
    try:
        place = get_place(user, place_id)
    except NotFound:
        raise StockError(_("%(field)s: no place %(id)s among yours", field=field, id=place_id), field) from None
    if not _may_act(user, place):
        raise StockError(_("%(field)s: you may not move stock in or out of %(place)s", field=field,
                           place=places.place_label(place)), field, status=403, code="forbidden")
    return place


def _serials(serials: Iterable[str]) -> list[str]:
    out = [normalize_code(s) for s in serials if s and normalize_code(s)]
    if not out:
        raise StockError(_("serials: give at least one serial"), "serials")
    dup = {s for s in out if out.count(s) > 1}
    if dup:
        raise StockError(_("serials: %(serials)s appear twice", serials=", ".join(sorted(dup))), "serials")
    return out


def _done(action: str, user: m.User, **data: object) -> None:
    record(action, None, actor=user, object_type="stock", **data)
    db.session.commit()


def receive_terminals(user: m.User, place_id: int, serials: Iterable[str], model: str, family: str = "",
                      psp_id: Optional[int] = None) -> int:
    """New terminals of one model arrive at a warehouse; each serial must be new to the stock."""
    _staff_only(user)
    try:
        place = _place_arg(user, place_id, "place_id")
        if place.kind not in (PlaceKind.PSP_WAREHOUSE, PlaceKind.CONTRACTOR_WAREHOUSE):
            raise StockError(_("place_id: terminals are received into a warehouse"), "place_id")
        owner = psp_id or place.psp_id or user.psp_id
        if owner is None or db.session.get(m.Psp, owner) is None:
            raise StockError(_("psp_id: say which payment company owns these terminals"), "psp_id")
        model = normalize_text(model or "")[:64]
        if not model:
            raise StockError(_("model: give the model, e.g. PAX S90"), "model")
        fam = (normalize_text(family or "") or model.split()[0]).lower()
        if fam not in KNOWN_FAMILIES:
            raise StockError(_("family: %(family)s is not a known terminal family", family=fam), "family")
        serials_ = _serials(serials)
        for s in serials_:
            t = find_terminal(s)
            if t is None:
                t = m.Terminal(serial=s, model=model, family=fam, psp_id=owner, status=m.TerminalStatus.IN_STOCK)
                db.session.add(t)
                db.session.flush()
            elif t.merchant_id is not None:
                mer = db.session.get(m.Merchant, t.merchant_id)
                raise StockError(_("serials: %(serial)s is installed at %(name)s", serial=s, name=mer.name), "serials")
            elif current_place(t) is not None:
                here = db.session.get(StockPlace, current_place(t).place_id)
                raise StockError(_("serials: %(serial)s is already in %(place)s", serial=s,
                                   place=places.place_label(here)), "serials")
            move_terminal(t, place, expected_from=None, actor=user, reason="received", status=m.TerminalStatus.IN_STOCK)
        _done("stock_received", user, place_id=place.id, serials=serials_, model=model)
        return len(serials_)
    except BaseException:
        db.session.rollback()
        raise


def transfer_terminals(user: m.User, from_place_id: int, to_place_id: int, serials: Iterable[str],
                       reason: str = "transfer") -> int:
    """Move terminals from one place to another; each must be in the first place now."""
    _staff_only(user)
    try:
        src = _place_arg(user, from_place_id, "from_place_id")
        dst = _place_arg(user, to_place_id, "to_place_id")
        if PlaceKind.MERCHANT in (src.kind, dst.kind):
            raise StockError(_("to_place_id: terminals reach or leave merchants only by a visit's check-out"),
                             "to_place_id")
        serials_ = _serials(serials)
        for s in serials_:
            t = find_terminal(s)
            if t is None:
                raise StockError(_("serials: %(serial)s is not a known terminal", serial=s), "serials")
            status = None
            if dst.kind in (PlaceKind.PSP_WAREHOUSE, PlaceKind.CONTRACTOR_WAREHOUSE, PlaceKind.VAN) \
                    and src.kind == PlaceKind.REPAIR:
                status = m.TerminalStatus.IN_STOCK
            move_terminal(t, dst, expected_from=src, actor=user, reason=normalize_text(reason or "transfer"),
                          faulty=False if status else None, status=status, field="serials")
        _done("stock_transfer", user, from_place=src.id, to_place=dst.id, serials=serials_, reason=reason)
        return len(serials_)
    except BaseException:
        db.session.rollback()
        raise


def take_spare(user: m.User, family: str, from_place_id: Optional[int] = None) -> m.Terminal:
    """A technician takes a good spare of ``family`` from the contractor's warehouse into the van.
    Of two technicians taking the last spare at once, one gets it; the other is told none is left."""
    try:
        if user.role != R.TECHNICIAN or user.technician_id is None:
            raise StockError(_("Only a technician takes spares into a van."), "family", status=403, code="forbidden")
        tech = db.session.get(m.Technician, user.technician_id)
        src = get_place(user, from_place_id) if from_place_id else places.contractor_warehouse(tech.contractor)
        if src.kind != PlaceKind.CONTRACTOR_WAREHOUSE or src.contractor_id != tech.contractor_id:
            raise StockError(_("from_place_id: spares come from your contractor's warehouse"), "from_place_id")
        fam = normalize_text(family or "").lower()
        my_van = places.van(tech)
        db.session.commit()  # the van exists before we race for a spare
        candidates = db.session.scalars(select(m.Terminal).join(TerminalPlace, TerminalPlace.terminal_id == m.Terminal.id)
                                        .where(TerminalPlace.place_id == src.id, TerminalPlace.faulty.is_(False),
                                               m.Terminal.family == fam).order_by(m.Terminal.serial)).all()
        for t in candidates:
            try:
                move_terminal(t, my_van, expected_from=src, actor=user, reason="spare taken")
            except StockError as e:
                if e.code in ("conflict", "not_there"):
                    db.session.rollback()
                    continue  # someone else took this one: try the next
                raise
            _done("spare_taken", user, serial=t.serial, from_place=src.id, to_place=my_van.id)
            return t
        raise StockError(_("family: no good %(family)s spare is left in %(place)s", family=fam or "-",
                           place=places.place_label(src)), "family", status=409, code="no_spare")
    except BaseException:
        db.session.rollback()
        raise


def move_parts(user: m.User, item: str, quantity: object, from_place_id: Optional[int],
               to_place_id: Optional[int], reason: str = "") -> None:
    """Receive (no source), use (no destination) or transfer a count of a consumable."""
    _staff_only(user)
    try:
        src = _place_arg(user, from_place_id, "from_place_id") if from_place_id is not None else None
        dst = _place_arg(user, to_place_id, "to_place_id") if to_place_id is not None else None
        if src is None and dst is None:
            raise StockError(_("to_place_id: give where the parts go or come from"), "to_place_id")
        move_consumable(item, quantity, src, dst, actor=user, reason=normalize_text(reason or "") or
                        ("received" if src is None else "used" if dst is None else "transfer"))
        _done("parts_moved", user, item=item, quantity=quantity, from_place=src.id if src else None,
              to_place=dst.id if dst else None)
    except BaseException:
        db.session.rollback()
        raise


def technician_van(user: m.User) -> StockPlace:
    if user.role != R.TECHNICIAN or user.technician_id is None:
        raise StockError(_("Only technicians have a van."), "technician", status=403, code="forbidden")
    place = places.van(db.session.get(m.Technician, user.technician_id))
    db.session.commit()
    return place
