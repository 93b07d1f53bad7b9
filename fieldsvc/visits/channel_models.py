"""ORM tables of the intake channels (issue 23): designated requesters of a merchant chain or a
PSP branch, calls held for confirmation, stored inbound e-mails, incoming phone calls, per-PSP
channel settings and each merchant's choice of SMS or e-mail. Imported by
:mod:`fieldsvc.visits.models`."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Optional

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldsvc.db import UTCDateTime, db, utcnow

Model = db.Model


class GroupKind(StrEnum):
    CHAIN = "chain"    # a merchant chain: several shops of one owner
    BRANCH = "branch"  # a PSP's branch office that opens calls for its merchants


class HoldStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class NotifyBy(StrEnum):
    SMS = "sms"
    EMAIL = "email"
    BOTH = "both"


class RequesterGroup(Model):
    """A merchant chain or a PSP branch whose designated people alone may open calls for its merchants."""

    __tablename__ = "requester_group"
    __table_args__ = (UniqueConstraint("psp_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    psp_id: Mapped[int] = mapped_column(ForeignKey("psp.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10), default=GroupKind.CHAIN)
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    requesters: Mapped[list["DesignatedRequester"]] = relationship(
        back_populates="group", order_by="DesignatedRequester.name")
    members: Mapped[list["RequesterGroupMerchant"]] = relationship(back_populates="group")


class RequesterGroupMerchant(Model):
    """A merchant's membership of one requester group (a merchant is in at most one)."""

    __tablename__ = "requester_group_merchant"
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("requester_group.id", ondelete="CASCADE"), index=True)

    group: Mapped[RequesterGroup] = relationship(back_populates="members")
    merchant = relationship("Merchant")


class DesignatedRequester(Model):
    """A person a group names as allowed to open calls (phone in canonical form, e-mail lower case)."""

    __tablename__ = "designated_requester"
    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("requester_group.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(32), default="", index=True)
    email: Mapped[str] = mapped_column(String(200), default="", index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    group: Mapped[RequesterGroup] = relationship(back_populates="requesters")


class InboundEmail(Model):
    """A message of the support mailbox, stored before it is processed; one row per Message-ID."""

    __tablename__ = "inbound_email"
    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(250), unique=True)
    mailbox: Mapped[str] = mapped_column(String(200), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    from_address: Mapped[str] = mapped_column(String(200), default="")
    subject: Mapped[str] = mapped_column(String(400), default="")
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    #: new → processing → done (or failed after 3 attempts)
    status: Mapped[str] = mapped_column(String(12), default="new", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    #: call, note, held, unknown_sender, ignored
    outcome: Mapped[str] = mapped_column(String(20), default="")
    call_id: Mapped[Optional[int]] = mapped_column(ForeignKey("service_call.id"), index=True)
    psp_id: Mapped[Optional[int]] = mapped_column(ForeignKey("psp.id"), index=True)
    error: Mapped[str] = mapped_column(Text, default="")
    processed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)


class HeldCall(Model):
    """A request from someone not designated (or for an unknown terminal), waiting for the PSP desk
    to confirm it (a real call is opened) or reject it."""

    __tablename__ = "held_call"
    id: Mapped[int] = mapped_column(primary_key=True)
    psp_id: Mapped[int] = mapped_column(ForeignKey("psp.id"), index=True)
    merchant_id: Mapped[Optional[int]] = mapped_column(ForeignKey("merchant.id"), index=True)
    terminal_id: Mapped[Optional[int]] = mapped_column(ForeignKey("terminal.id"))
    channel: Mapped[str] = mapped_column(String(20), default="phone")
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    symptom_code: Mapped[str] = mapped_column(String(32), default="other")
    symptom_text: Mapped[str] = mapped_column(Text, default="")
    caller_name: Mapped[str] = mapped_column(String(120), default="")
    caller_phone: Mapped[str] = mapped_column(String(32), default="")
    caller_email: Mapped[str] = mapped_column(String(200), default="")
    #: the ticket type asked for (fault, change, information, installation): the call opened on
    #: confirmation has it
    ticket_type: Mapped[str] = mapped_column(String(16), default="fault", server_default="fault")
    #: the photo sent with the request (under the upload folder): the call opened on confirmation has it
    photo_path: Mapped[Optional[str]] = mapped_column(String(300))
    #: not_designated, terminal_unknown
    reason: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12), default=HoldStatus.PENDING, index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    decision_note: Mapped[str] = mapped_column(Text, default="")
    call_id: Mapped[Optional[int]] = mapped_column(ForeignKey("service_call.id"))
    inbound_email_id: Mapped[Optional[int]] = mapped_column(ForeignKey("inbound_email.id"), unique=True)

    merchant = relationship("Merchant")
    terminal = relationship("Terminal")
    call = relationship("ServiceCall")


class IncomingPhoneCall(Model):
    """A ring reported by the PSP's phone system (Asterisk/Issabel), shown to the agent who took it."""

    __tablename__ = "incoming_phone_call"
    __table_args__ = (UniqueConstraint("psp_id", "external_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    psp_id: Mapped[int] = mapped_column(ForeignKey("psp.id"), index=True)
    caller_raw: Mapped[str] = mapped_column(String(40))
    caller: Mapped[str] = mapped_column(String(32), index=True)
    agent: Mapped[str] = mapped_column(String(80))
    agent_user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), index=True)
    merchant_id: Mapped[Optional[int]] = mapped_column(ForeignKey("merchant.id"))
    #: the phone system's own id of the ring (Asterisk ${UNIQUEID}); a retried webhook is one row
    external_id: Mapped[Optional[str]] = mapped_column(String(80))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    merchant = relationship("Merchant")


class ChannelSetting(Model):
    """Per-PSP channel settings: the phone system's webhook token (only its SHA-256 is stored)."""

    __tablename__ = "channel_setting"
    psp_id: Mapped[int] = mapped_column(ForeignKey("psp.id"), primary_key=True)
    telephony_token_hash: Mapped[Optional[str]] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class MerchantContactPref(Model):
    """How a merchant hears about its calls: SMS, e-mail or both (and an SMS mobile when the shop
    phone is a landline)."""

    __tablename__ = "merchant_contact_pref"
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"), primary_key=True)
    notify_by: Mapped[str] = mapped_column(String(8), default=NotifyBy.BOTH)
    mobile: Mapped[str] = mapped_column(String(32), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
