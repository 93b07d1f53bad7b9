"""ORM tables of PM inspection checklists and terminal campaigns (issue 23, points 5 and 6).
Imported by :mod:`fieldsvc.visits.models`.

* A **checklist** belongs to a PSP and a terminal family (optionally narrowed to one model); its
  items are pass/fail checks, numeric readings with an acceptable range, or photos. A failed item
  may open a follow-up EM call or a replacement work order (``on_fail``).
* A **checklist result** is one answer for one item, one terminal, one visit (unique: a check-out
  sent twice never writes twice). **Visit feedback** is the merchant's answer to the PM visit's
  short question (one per visit).
* A **campaign** is a PSP's upgrade / replacement / SIM swap over a selection of terminals, with a
  deadline; a **campaign task** is one terminal of it (unique per campaign and terminal: re-running
  the selection never duplicates), done remotely or through a work order.
"""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Optional

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldsvc.db import UTCDateTime, db, utcnow

Model = db.Model


class ItemKind(StrEnum):
    PASS_FAIL = "pass_fail"
    READING = "reading"
    PHOTO = "photo"


class OnFail(StrEnum):
    NOTHING = "none"
    CALL = "call"
    ORDER = "order"


class CampaignKind(StrEnum):
    SOFTWARE_UPGRADE = "software_upgrade"
    MODEL_REPLACEMENT = "model_replacement"
    SIM_SWAP = "sim_swap"


class TaskStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Checklist(Model):
    """The PM inspection checklist of one PSP for one terminal family (or one model of it)."""

    __tablename__ = "checklist"
    __table_args__ = (UniqueConstraint("psp_id", "family", "model"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    psp_id: Mapped[int] = mapped_column(ForeignKey("psp.id"), index=True)
    family: Mapped[str] = mapped_column(String(32), index=True)
    #: Empty: every model of the family; a model's own checklist wins over its family's.
    model: Mapped[str] = mapped_column(String(64), default="")
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    items: Mapped[list["ChecklistItem"]] = relationship(
        back_populates="checklist", order_by="ChecklistItem.position, ChecklistItem.id")


class ChecklistItem(Model):
    """One check of a checklist. Retired items stay (results point to them) with ``active`` False."""

    __tablename__ = "checklist_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    checklist_id: Mapped[int] = mapped_column(ForeignKey("checklist.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    label: Mapped[str] = mapped_column(String(200))
    label_fa: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(16), default=ItemKind.PASS_FAIL)
    unit: Mapped[str] = mapped_column(String(16), default="")
    min_value: Mapped[Optional[float]] = mapped_column(Float)
    max_value: Mapped[Optional[float]] = mapped_column(Float)
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    on_fail: Mapped[str] = mapped_column(String(8), default=OnFail.NOTHING)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    checklist: Mapped[Checklist] = relationship(back_populates="items")


class ChecklistResult(Model):
    """One answer of a PM visit's checklist for one terminal."""

    __tablename__ = "checklist_result"
    __table_args__ = (UniqueConstraint("visit_id", "terminal_id", "item_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id", ondelete="CASCADE"), index=True)
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminal.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("checklist_item.id"), index=True)
    passed: Mapped[bool] = mapped_column(Boolean)
    value: Mapped[Optional[float]] = mapped_column(Float)
    photo_id: Mapped[Optional[int]] = mapped_column(ForeignKey("visit_photo.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")
    follow_up_call_id: Mapped[Optional[int]] = mapped_column(ForeignKey("service_call.id"))
    follow_up_order_id: Mapped[Optional[int]] = mapped_column(ForeignKey("work_order.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    item: Mapped[ChecklistItem] = relationship()


class VisitFeedback(Model):
    """The merchant's answer to a PM visit's short question (1–5 and a comment)."""

    __tablename__ = "visit_feedback"
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id", ondelete="CASCADE"), unique=True)
    score: Mapped[Optional[int]] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    #: The merchant did not want to answer.
    declined: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Campaign(Model):
    """A PSP's campaign over a selection of terminals, with a deadline (local date)."""

    __tablename__ = "campaign"
    __table_args__ = (UniqueConstraint("psp_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    psp_id: Mapped[int] = mapped_column(ForeignKey("psp.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(24))
    #: "remote" (the terminal management system does it and reports back) or "work_order".
    method: Mapped[str] = mapped_column(String(16))
    target_version: Mapped[str] = mapped_column(String(64), default="")
    target_model: Mapped[str] = mapped_column(String(64), default="")
    deadline: Mapped[date] = mapped_column(Date)
    #: The selection as given: {"models": [...], "versions": [...], "regions": [...], "serials": [...]}.
    selection: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    psp = relationship("Psp")
    tasks: Mapped[list["CampaignTask"]] = relationship(back_populates="campaign")


class CampaignTask(Model):
    """One terminal of a campaign: its contractor, and its remote result or its work order."""

    __tablename__ = "campaign_task"
    __table_args__ = (UniqueConstraint("campaign_id", "terminal_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminal.id"), index=True)
    contractor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("contractor.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=TaskStatus.PENDING, index=True)
    work_order_id: Mapped[Optional[int]] = mapped_column(ForeignKey("work_order.id"), index=True)
    done_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    campaign: Mapped[Campaign] = relationship(back_populates="tasks")
    terminal = relationship("Terminal")
    contractor = relationship("Contractor")
    work_order = relationship("WorkOrder")
