"""Stock places: a PSP's warehouse, a contractor's warehouse, a technician's van, a merchant, repair
and scrap. Places are made on first use (one per owner and kind)."""
from __future__ import annotations

from typing import Optional

from sqlalchemy import select

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.i18n_text import lazy_gettext as _l
from fieldsvc.visits.lifecycle_models import PlaceKind, StockPlace

PLACE_LABELS = {
    PlaceKind.PSP_WAREHOUSE: _l("PSP warehouse"),
    PlaceKind.CONTRACTOR_WAREHOUSE: _l("Contractor warehouse"),
    PlaceKind.VAN: _l("Technician's van"),
    PlaceKind.MERCHANT: _l("Installed at merchant"),
    PlaceKind.REPAIR: _l("In repair"),
    PlaceKind.SCRAP: _l("Scrapped"),
}


def place_label(place: Optional[StockPlace]) -> str:
    """'Technician's van: Ali Rezaei' — the kind and the owner's name."""
    if place is None:
        return str(_l("not registered"))
    return f"{PLACE_LABELS[PlaceKind(place.kind)]}: {place.name}"


def _get_or_create(kind: PlaceKind, name: str, **owner: Optional[int]) -> StockPlace:
    q = select(StockPlace).where(StockPlace.kind == kind)
    for col in ("psp_id", "contractor_id", "technician_id", "merchant_id"):
        value = owner.get(col)
        q = q.where(getattr(StockPlace, col).is_(None) if value is None else getattr(StockPlace, col) == value)
    place = db.session.scalars(q).first()
    if place is None:
        place = StockPlace(kind=kind, name=name, **owner)
        db.session.add(place)
        db.session.flush()
    return place


def psp_warehouse(psp: m.Psp) -> StockPlace:
    return _get_or_create(PlaceKind.PSP_WAREHOUSE, psp.name, psp_id=psp.id)


def contractor_warehouse(contractor: m.Contractor) -> StockPlace:
    return _get_or_create(PlaceKind.CONTRACTOR_WAREHOUSE, contractor.name, contractor_id=contractor.id)


def van(technician: m.Technician) -> StockPlace:
    return _get_or_create(PlaceKind.VAN, technician.name, contractor_id=technician.contractor_id,
                          technician_id=technician.id)


def merchant_place(merchant: m.Merchant) -> StockPlace:
    return _get_or_create(PlaceKind.MERCHANT, merchant.name, psp_id=merchant.psp_id, merchant_id=merchant.id)


def repair_place(psp: m.Psp) -> StockPlace:
    return _get_or_create(PlaceKind.REPAIR, psp.name, psp_id=psp.id)


def scrap_place(psp: m.Psp) -> StockPlace:
    return _get_or_create(PlaceKind.SCRAP, psp.name, psp_id=psp.id)
