"""ORM tables of ticket types, service tiers and phases, and proactive monitoring (issue 23).
Imported by :mod:`fieldsvc.visits.models` (so Alembic and ``create_all`` see them).

* ``call_profile``: what a call is (fault, change, information, installation), which service phase
  (warranty or paid) and which merchant tier applied when it was opened, the call it was split
  from, the work order it became and the health event that opened it. One row per call; a call
  without a row is a fault opened before ticket types existed.
* ``service_tier`` / ``merchant_tier``: a PSP's tiers (gold, silver) with SLA targets that tighten
  the contract's; a merchant in at most one tier.
* ``terminal_phase``: a terminal's warranty (free maintenance) and paid phases with dates.
* ``terminal_event_rule`` / ``terminal_event`` / ``terminal_health``: health events from the PSP's
  switch or terminal management system, the PSP's rules that turn them into calls, and the last
  time each monitored terminal was heard from.
"""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Optional

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from fieldsvc.db import UTCDateTime, db, utcnow

Model = db.Model


class TicketType(StrEnum):
    FAULT = "fault"
    CHANGE = "change"
    INFORMATION = "information"
    INSTALLATION = "installation"


class ServicePhase(StrEnum):
    WARRANTY = "warranty"
    PAID = "paid"
    NONE = "none"  # no phase recorded for the terminal on that day


class EventKind(StrEnum):
    ERROR = "error"
    SILENT = "silent"
    LOW_PAPER = "low_paper"
    HEARTBEAT = "heartbeat"


class CallProfile(Model):
    """Type, phase and tier of one call as they were when it was opened, and its links."""

    __tablename__ = "call_profile"
    call_id: Mapped[int] = mapped_column(ForeignKey("service_call.id", ondelete="CASCADE"), primary_key=True)
    ticket_type: Mapped[str] = mapped_column(String(16), default=TicketType.FAULT, index=True)
    service_phase: Mapped[str] = mapped_column(String(10), default=ServicePhase.NONE, index=True)
    #: Code of the merchant's tier at opening and its targets then (a later tier change leaves them).
    tier_code: Mapped[str] = mapped_column(String(32), default="")
    tier_targets: Mapped[dict] = mapped_column(JSON, default=dict)
    split_from_id: Mapped[Optional[int]] = mapped_column(ForeignKey("service_call.id"), index=True)
    work_order_id: Mapped[Optional[int]] = mapped_column(ForeignKey("work_order.id"))
    #: The terminal event that opened the call automatically (None for calls opened by people).
    event_id: Mapped[Optional[int]] = mapped_column(ForeignKey("terminal_event.id"))

    call = relationship("ServiceCall", foreign_keys=[call_id],
                        backref=backref("profile", uselist=False, cascade="all, delete-orphan"))
    split_from = relationship("ServiceCall", foreign_keys=[split_from_id])
    work_order = relationship("WorkOrder")


class ServiceTier(Model):
    """A PSP's service tier (gold, silver): SLA targets per priority that tighten the contract's."""

    __tablename__ = "service_tier"
    __table_args__ = (UniqueConstraint("psp_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    psp_id: Mapped[int] = mapped_column(ForeignKey("psp.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(120))
    #: {"critical": {"response_minutes": 60, "resolution_minutes": 240}, ...}: any priorities, any fields.
    em_targets: Mapped[dict] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MerchantTier(Model):
    """The tier a merchant is in (at most one)."""

    __tablename__ = "merchant_tier"
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"), primary_key=True)
    tier_id: Mapped[int] = mapped_column(ForeignKey("service_tier.id"), index=True)

    tier = relationship(ServiceTier)


class TerminalPhase(Model):
    """A stretch of a terminal's life under warranty (free maintenance) or paid maintenance."""

    __tablename__ = "terminal_phase"
    __table_args__ = (UniqueConstraint("terminal_id", "starts_on"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminal.id", ondelete="CASCADE"), index=True)
    phase: Mapped[str] = mapped_column(String(10))
    starts_on: Mapped[date] = mapped_column(Date)
    #: Last day of the phase (inclusive); None = open-ended.
    ends_on: Mapped[Optional[date]] = mapped_column(Date)


class TerminalEventRule(Model):
    """A PSP's rule: events of this kind (and code; empty = any) open a call with this priority and
    symptom, at most one per terminal per ``throttle_minutes``. For kind ``silent`` the scheduler also
    opens a call for a terminal not heard from for ``silent_hours`` business hours."""

    __tablename__ = "terminal_event_rule"
    __table_args__ = (UniqueConstraint("psp_id", "kind", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    psp_id: Mapped[int] = mapped_column(ForeignKey("psp.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(32), default="")
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    symptom_code: Mapped[str] = mapped_column(String(32))
    throttle_minutes: Mapped[int] = mapped_column(Integer, default=240)
    silent_hours: Mapped[Optional[int]] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class TerminalEvent(Model):
    """One health event as received (kept whatever came of it); ``event_id`` is the sender's id,
    unique per PSP, so a replay is recognised and answered with the first result."""

    __tablename__ = "terminal_event"
    __table_args__ = (UniqueConstraint("psp_id", "event_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    psp_id: Mapped[int] = mapped_column(ForeignKey("psp.id"), index=True)
    event_id: Mapped[str] = mapped_column(String(64))
    terminal_serial: Mapped[str] = mapped_column(String(64))
    terminal_id: Mapped[Optional[int]] = mapped_column(ForeignKey("terminal.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(32), default="")
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    silent_since: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: received, ignored (no rule), call_opened, duplicate (an open call exists), throttled, unknown_terminal
    outcome: Mapped[str] = mapped_column(String(20), default="received")
    call_id: Mapped[Optional[int]] = mapped_column(ForeignKey("service_call.id"))
    detail: Mapped[str] = mapped_column(Text, default="")


class TerminalHealth(Model):
    """The last time a monitored terminal was heard from, and the last call monitoring opened for it."""

    __tablename__ = "terminal_health"
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminal.id", ondelete="CASCADE"), primary_key=True)
    psp_id: Mapped[int] = mapped_column(ForeignKey("psp.id"), index=True)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_auto_call_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
