"""Helpers for the lifecycle tests: stock in a contractor warehouse and a technician's van."""
from __future__ import annotations

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.stock import places
from fieldsvc.visits.stock.moves import move_terminal


def spare(serial: str, psp: m.Psp, place, *, model: str = "PAX A920", family: str = "pax") -> m.Terminal:
    """A new terminal put straight into `place` (as a receipt would)."""
    t = m.Terminal(serial=serial, model=model, family=family, psp_id=psp.id, status="in_stock")
    db.session.add(t)
    db.session.flush()
    move_terminal(t, place, expected_from=None, actor=None, reason="received")
    db.session.commit()
    return t


def van_of(tech: m.Technician):
    v = places.van(tech)
    db.session.commit()
    return v
