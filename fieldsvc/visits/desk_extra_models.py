"""Tables of the support desk's knowledge base, the merchant's self-service and the daily review.

* :class:`KbArticle` — a known fix: title and steps in Persian and English, the symptom codes and
  terminal models it applies to, and its normalised search text (``search_title``/``search_body``,
  written by :mod:`fieldsvc.visits.desk.kb`, searched with PostgreSQL full-text search or scored in
  Python on SQLite).
* :class:`KbArticleUse` — an article sent to the merchant of a call (e-mail / SMS) and whether it
  fixed the fault; one row per article and call, so a retried send never duplicates.
* :class:`MerchantComment` — a comment or photo the merchant added on the public tracking page.
* :class:`ServiceFeedback` — the merchant's survey of a call or a PM visit, scored per factor.
* :class:`ServiceReview` — a supervisor's daily-evaluation score of one closed call or visit.

Relationships use class names as strings: this module is imported at the end of
:mod:`fieldsvc.visits.models`, so it must not import it.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import (JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldsvc.db import UTCDateTime, db, utcnow

Model = db.Model

#: The factors of the merchant's survey (1–5 each), in display order.
FEEDBACK_FACTORS = ("speed", "technician", "quality")

#: The full-text document of an article on PostgreSQL (the expression of its GIN index).
FTS_DOCUMENT = ("(setweight(to_tsvector('simple'::regconfig, search_title), 'A'::\"char\") || "
                "setweight(to_tsvector('simple'::regconfig, search_body), 'D'::\"char\"))")


class KbArticle(Model):
    """A knowledge-base article: how to fix one kind of fault, in Persian and English."""

    __tablename__ = "kb_article"
    __table_args__ = (
        # PostgreSQL only: the document fieldsvc.visits.desk.kb searches (titles weigh A, the rest D)
        Index("ix_kb_article_fts", text(FTS_DOCUMENT), postgresql_using="gin").ddl_if(dialect="postgresql"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    #: None: shared by every PSP (written by an administrator).
    psp_id: Mapped[Optional[int]] = mapped_column(ForeignKey("psp.id"), index=True)
    title_fa: Mapped[str] = mapped_column(String(200), default="")
    title_en: Mapped[str] = mapped_column(String(200), default="")
    steps_fa: Mapped[str] = mapped_column(Text, default="")
    steps_en: Mapped[str] = mapped_column(Text, default="")
    #: Symptom codes of fieldsvc.visits.desk.calls.SYMPTOMS; empty: any symptom.
    symptom_codes: Mapped[list] = mapped_column(JSON, default=list)
    #: Terminal models, upper case without spaces ("PAXS90"); empty: any model.
    terminal_models: Mapped[list] = mapped_column(JSON, default=list)
    #: Normalised tokens of the titles / of the steps, codes and models (space-separated).
    search_title: Mapped[str] = mapped_column(Text, default="")
    search_body: Mapped[str] = mapped_column(Text, default="")
    #: The resolved call the article was written from, if any (one article per call).
    source_call_id: Mapped[Optional[int]] = mapped_column(ForeignKey("service_call.id"), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    updated_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    #: Optimistic lock: two experts editing the same article cannot overwrite each other.
    version: Mapped[int] = mapped_column(Integer, default=1)

    psp = relationship("Psp")
    created_by = relationship("User", foreign_keys=[created_by_id])

    __mapper_args__ = {"version_id_col": version}


class KbArticleUse(Model):
    """An article offered to the merchant of a call, how it was sent and whether it fixed the fault."""

    __tablename__ = "kb_article_use"
    __table_args__ = (UniqueConstraint("article_id", "call_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_article.id"), index=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("service_call.id"), index=True)
    sent_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    emailed_to: Mapped[str] = mapped_column(String(200), default="")
    emailed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    sms_to: Mapped[str] = mapped_column(String(32), default="")
    sms_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    #: None (not known yet), "fixed" or "not_fixed".
    outcome: Mapped[Optional[str]] = mapped_column(String(12))
    outcome_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    outcome_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    article = relationship("KbArticle")
    call = relationship("ServiceCall")


class MerchantComment(Model):
    """A comment (and optionally a photo) the merchant added on the public tracking page."""

    __tablename__ = "merchant_comment"
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("service_call.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text, default="")
    photo_path: Mapped[Optional[str]] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ServiceFeedback(Model):
    """The merchant's survey of one call or one PM visit: overall and per-factor scores (1–5)."""

    __tablename__ = "service_feedback"
    __table_args__ = (CheckConstraint("(call_id IS NULL) <> (visit_id IS NULL)", name="one_service"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[Optional[int]] = mapped_column(ForeignKey("service_call.id", ondelete="CASCADE"), unique=True)
    visit_id: Mapped[Optional[int]] = mapped_column(ForeignKey("visit.id", ondelete="CASCADE"), unique=True)
    contractor_id: Mapped[int] = mapped_column(ForeignKey("contractor.id"), index=True)
    overall_score: Mapped[int] = mapped_column(Integer)
    speed_score: Mapped[int] = mapped_column(Integer)
    technician_score: Mapped[int] = mapped_column(Integer)
    quality_score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ServiceReview(Model):
    """A supervisor's review of one closed call or completed visit of a day (daily evaluation)."""

    __tablename__ = "service_review"
    __table_args__ = (CheckConstraint("(call_id IS NULL) <> (visit_id IS NULL)", name="one_service"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[Optional[int]] = mapped_column(ForeignKey("service_call.id", ondelete="CASCADE"), unique=True)
    visit_id: Mapped[Optional[int]] = mapped_column(ForeignKey("visit.id", ondelete="CASCADE"), unique=True)
    contractor_id: Mapped[int] = mapped_column(ForeignKey("contractor.id"), index=True)
    psp_id: Mapped[int] = mapped_column(ForeignKey("psp.id"), index=True)
    #: The local day the service was finished (the day the review belongs to in KPIs).
    service_day: Mapped[date] = mapped_column(Date, index=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    reviewer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
