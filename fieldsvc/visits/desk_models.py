"""ORM tables of the support desk before the field (issue 21): who staffs which tier, internal
notes on calls, in-app notifications and the escalation alerts already sent. Imported by
:mod:`fieldsvc.visits.models` so that Alembic and ``create_all`` see them.

A :class:`CallAlert` row is the proof that one alert was sent: its unique key (call, kind, level)
lets exactly one scheduler (or app server) send it, whatever their number or restarts.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Optional

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldsvc.db import UTCDateTime, db, utcnow

Model = db.Model


class Tier(StrEnum):
    """Where a call is handled: the help desk (tier 1), an expert (tier 2) or the field team."""

    TIER1 = "tier1"
    TIER2 = "tier2"
    FIELD = "field"


class HelpDesk(StrEnum):
    """Whose help desk staffs tiers 1 and 2 of a contract's calls."""

    PSP = "psp"
    CONTRACTOR = "contractor"


class NoteKind(StrEnum):
    """internal: staff only · remote_step: something done remotely (staff only, a first response) ·
    merchant: a message e-mailed to the merchant (a first response)."""

    INTERNAL = "internal"
    REMOTE_STEP = "remote_step"
    MERCHANT = "merchant"


class DeskMember(Model):
    """A user working a desk tier (tier 1 agent or tier 2 expert), possibly as its supervisor."""

    __tablename__ = "desk_member"
    __table_args__ = (UniqueConstraint("user_id", "tier"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    tier: Mapped[str] = mapped_column(String(10))
    supervisor: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped["User"] = relationship()  # type: ignore[name-defined]  # noqa: F821


class CallNote(Model):
    """A note on a call written by staff; never shown on the merchant's tracking page (a
    ``merchant`` note is e-mailed to the merchant, its text only)."""

    __tablename__ = "call_note"
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("service_call.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default=NoteKind.INTERNAL)
    body: Mapped[str] = mapped_column(Text)
    #: ids of the users mentioned with @username
    mentions: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    author: Mapped[Optional["User"]] = relationship()  # type: ignore[name-defined]  # noqa: F821


class Notification(Model):
    """An in-app notification of one user (the bell): rendered in the reader's language from
    ``kind`` and ``data`` when shown."""

    __tablename__ = "notification"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    call_id: Mapped[Optional[int]] = mapped_column(ForeignKey("service_call.id", ondelete="CASCADE"), index=True)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    read_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)


class CallAlert(Model):
    """One escalation or before-breach alert of a call, sent once: (call, kind, level) is unique.

    kind ``escalation``: level = the call's escalation level (1–3); kind ``breach_soon``: level =
    the clock about to breach (1 first response, 2 on site, 3 fix)."""

    __tablename__ = "call_alert"
    __table_args__ = (UniqueConstraint("call_id", "kind", "level"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("service_call.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    level: Mapped[int] = mapped_column()
    tier: Mapped[str] = mapped_column(String(10))
    #: user ids told in the app, e-mail addresses written
    recipients: Mapped[list] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
