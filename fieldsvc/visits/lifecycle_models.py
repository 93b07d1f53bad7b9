"""ORM tables of the terminal lifecycle: work orders, stock places, where each terminal is, every
move, and counted consumables (issue 20). Imported by :mod:`fieldsvc.visits.models`.

A terminal is in exactly one place at a time: ``terminal_place`` has the terminal as its primary
key and a non-null place, so the database itself refuses a second location.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Optional

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldsvc.db import UTCDateTime, db, utcnow

Model = db.Model


class OrderKind(StrEnum):
    INSTALL = "install"
    REMOVAL = "removal"
    RELOCATION = "relocation"
    REPLACEMENT = "replacement"


class PlaceKind(StrEnum):
    PSP_WAREHOUSE = "psp_warehouse"
    CONTRACTOR_WAREHOUSE = "contractor_warehouse"
    VAN = "van"
    MERCHANT = "merchant"
    REPAIR = "repair"
    SCRAP = "scrap"


class WorkOrder(Model):
    """A PSP's order to install, remove, relocate or replace a terminal at a merchant."""

    __tablename__ = "work_order"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    psp_id: Mapped[int] = mapped_column(ForeignKey("psp.id"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"), index=True)
    contractor_id: Mapped[int] = mapped_column(ForeignKey("contractor.id"), index=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id"), index=True)
    #: Relocation: the merchant the terminal moves to.
    target_merchant_id: Mapped[Optional[int]] = mapped_column(ForeignKey("merchant.id"))
    #: Removal, relocation, replacement: the terminal at the merchant now.
    terminal_id: Mapped[Optional[int]] = mapped_column(ForeignKey("terminal.id"), index=True)
    #: Install and replacement: the model and family (a technician skill) to put in.
    model: Mapped[str] = mapped_column(String(64), default="")
    family: Mapped[str] = mapped_column(String(32), default="")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    visit_id: Mapped[Optional[int]] = mapped_column(ForeignKey("visit.id", ondelete="SET NULL"), index=True)
    installed_serial: Mapped[Optional[str]] = mapped_column(String(64))
    removed_serial: Mapped[Optional[str]] = mapped_column(String(64))
    merchant_confirmed: Mapped[bool] = mapped_column(default=False)
    done_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    merchant = relationship("Merchant", foreign_keys=[merchant_id])
    target_merchant = relationship("Merchant", foreign_keys=[target_merchant_id])
    terminal = relationship("Terminal")
    contract = relationship("Contract")
    contractor = relationship("Contractor")
    visit = relationship("Visit")


class StockPlace(Model):
    """Where a terminal or a part can be: a warehouse, a van, a merchant, repair or scrap."""

    __tablename__ = "stock_place"
    __table_args__ = (UniqueConstraint("kind", "psp_id", "contractor_id", "technician_id", "merchant_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24), index=True)
    name: Mapped[str] = mapped_column(String(200))
    psp_id: Mapped[Optional[int]] = mapped_column(ForeignKey("psp.id"), index=True)
    contractor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("contractor.id"), index=True)
    technician_id: Mapped[Optional[int]] = mapped_column(ForeignKey("technician.id"), index=True)
    merchant_id: Mapped[Optional[int]] = mapped_column(ForeignKey("merchant.id"), index=True)

    technician = relationship("Technician")
    merchant = relationship("Merchant")


class TerminalPlace(Model):
    """The one place a terminal is now (primary key = terminal: never two places)."""

    __tablename__ = "terminal_place"
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminal.id", ondelete="CASCADE"), primary_key=True)
    place_id: Mapped[int] = mapped_column(ForeignKey("stock_place.id"), index=True)
    faulty: Mapped[bool] = mapped_column(default=False)
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    terminal = relationship("Terminal")
    place = relationship(StockPlace)


class StockMove(Model):
    """One move of a terminal, or of a count of a consumable, between places: who, when, why."""

    __tablename__ = "stock_move"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    terminal_id: Mapped[Optional[int]] = mapped_column(ForeignKey("terminal.id"), index=True)
    item: Mapped[Optional[str]] = mapped_column(String(32))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    from_place_id: Mapped[Optional[int]] = mapped_column(ForeignKey("stock_place.id"), index=True)
    to_place_id: Mapped[Optional[int]] = mapped_column(ForeignKey("stock_place.id"), index=True)
    faulty: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str] = mapped_column(String(200), default="")
    actor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    actor: Mapped[str] = mapped_column(String(80), default="system")
    visit_id: Mapped[Optional[int]] = mapped_column(ForeignKey("visit.id", ondelete="SET NULL"))
    work_order_id: Mapped[Optional[int]] = mapped_column(ForeignKey("work_order.id", ondelete="SET NULL"))

    terminal = relationship("Terminal")
    from_place = relationship(StockPlace, foreign_keys=[from_place_id])
    to_place = relationship(StockPlace, foreign_keys=[to_place_id])


class ConsumableStock(Model):
    """A counted part (paper rolls, batteries, SIM cards) at one place; never below zero."""

    __tablename__ = "consumable_stock"
    __table_args__ = (UniqueConstraint("place_id", "item"),
                      CheckConstraint("quantity >= 0", name="quantity_not_negative"),
                      CheckConstraint("min_quantity >= 0", name="min_not_negative"))
    id: Mapped[int] = mapped_column(primary_key=True)
    place_id: Mapped[int] = mapped_column(ForeignKey("stock_place.id"), index=True)
    item: Mapped[str] = mapped_column(String(32))
    quantity: Mapped[int] = mapped_column(Integer, default=0)
    #: Below this count the place is flagged low.
    min_quantity: Mapped[int] = mapped_column(Integer, default=0)

    place = relationship(StockPlace)


class TerminalConfigChange(Model):
    """One change of a terminal's configuration (firmware, connection, SIM, switch MID/TID)."""

    __tablename__ = "terminal_config_change"
    id: Mapped[int] = mapped_column(primary_key=True)
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminal.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    field: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[Optional[str]] = mapped_column(String(64))
    new_value: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    actor: Mapped[str] = mapped_column(String(80), default="system")
