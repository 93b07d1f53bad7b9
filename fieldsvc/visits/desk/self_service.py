"""The merchant's self-service on the public tracking page (after the phone-digit check).

A merchant who proved the shop's phone digits on one call sees all the shop's open and recent calls
(never another shop's), adds comments and photos, confirms a fix (the call closes, as the QC close
would, and the survey opens) or reopens a call within the contract's ``reopen_days`` of its
resolution; the survey scores several factors, and completed PM visits collect the same feedback.

The merchant is not a user: every change is in the audit trail with actor ``system`` and
``by_merchant`` in its data. Every function commits; bad input is a CallError naming the field.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from fieldsvc.db import db, utcnow
from fieldsvc.text import normalize_text
from fieldsvc.visits.audit import record
from fieldsvc.visits.contracts.versions import version_in_force
from fieldsvc.visits.desk import calls as svc
from fieldsvc.visits.desk.errors import CallError
from fieldsvc.visits.desk_extra_models import FEEDBACK_FACTORS, MerchantComment, ServiceFeedback
from fieldsvc.visits.i18n_text import gettext as _
from fieldsvc.visits.models import ServiceCall, Visit, VisitKind
from fieldsvc.visits.states import OPEN_CALL_STATES, CallStatus, VisitStatus

__all__ = ["RECENT_DAYS", "MAX_COMMENT", "shop_calls", "shop_pm_visits", "comments_of", "add_comment",
           "confirm_fix", "reopen_deadline", "can_reopen", "reopen_by_merchant", "submit_call_feedback",
           "submit_visit_feedback", "feedback_of_call"]

#: Finished calls and PM visits stay on the tracking page this many days.
RECENT_DAYS = 30
MAX_COMMENT = 2000


def shop_calls(merchant_id: int, now: datetime | None = None) -> list[ServiceCall]:
    """The shop's unfinished calls and those reported or finished in the last RECENT_DAYS, newest first."""
    since = (now or utcnow()) - timedelta(days=RECENT_DAYS)
    return list(db.session.scalars(select(ServiceCall).where(
        ServiceCall.merchant_id == merchant_id,
        or_(ServiceCall.status.in_([str(s) for s in OPEN_CALL_STATES]), ServiceCall.reported_at >= since,
            ServiceCall.updated_at >= since)).order_by(ServiceCall.reported_at.desc()).limit(50)))


def shop_pm_visits(merchant_id: int, now: datetime | None = None) -> list[Visit]:
    """The shop's PM visits completed in the last RECENT_DAYS, newest first."""
    since = (now or utcnow()) - timedelta(days=RECENT_DAYS)
    return list(db.session.scalars(select(Visit).where(
        Visit.merchant_id == merchant_id, Visit.kind == VisitKind.PM, Visit.status == VisitStatus.COMPLETED,
        Visit.checkout_at >= since).order_by(Visit.checkout_at.desc()).limit(20)))


def comments_of(call: ServiceCall) -> list[MerchantComment]:
    """The merchant's comments on a call, oldest first."""
    return list(db.session.scalars(select(MerchantComment).where(MerchantComment.call_id == call.id)
                                   .order_by(MerchantComment.created_at, MerchantComment.id)))


def add_comment(call: ServiceCall, text: str, photo_path: Optional[str] = None) -> MerchantComment:
    """A comment and/or a photo (already staged through fieldsvc.visits.uploads) from the merchant; commits."""
    text = "\n".join(normalize_text(line) for line in (text or "").replace("\r\n", "\n").split("\n")).strip()
    if not text and not photo_path:
        raise CallError(422, "comment", _("Write a comment or add a photo."), "comment")
    if len(text) > MAX_COMMENT:
        raise CallError(422, "comment", _("The comment is longer than %(n)s characters.", n=MAX_COMMENT), "comment")
    if call.status == CallStatus.CANCELLED:
        raise CallError(409, "cancelled", _("This call was cancelled; open a new one by phone."), "comment")
    comment = MerchantComment(call_id=call.id, text=text, photo_path=photo_path, created_at=utcnow())
    db.session.add(comment)
    db.session.flush()
    record("merchant_comment", call, comment_id=comment.id, photo=bool(photo_path), by_merchant=True)
    db.session.commit()
    return comment


def confirm_fix(call: ServiceCall, at: datetime | None = None) -> None:
    """The merchant confirms the resolved call's terminal works: the call closes (the survey opens); commits."""
    if call.status != CallStatus.RESOLVED:
        raise CallError(409, "not_resolved", _("Only a resolved call can be confirmed."), "status")
    at = at or utcnow()
    svc._set_status(call, CallStatus.CLOSED, None, merchant_confirmed=True, by_merchant=True)
    call.closed_at = at
    if not call.survey_token:
        call.survey_token = secrets.token_urlsafe(18)
    db.session.commit()


def reopen_deadline(call: ServiceCall) -> Optional[datetime]:
    """Until when the merchant may reopen the call (None: not resolved or closed)."""
    if call.status not in (CallStatus.RESOLVED, CallStatus.CLOSED):
        return None
    since = call.resolved_at or call.closed_at or call.updated_at
    return since + timedelta(days=version_in_force(call.contract, call.reported_at).reopen_days)


def can_reopen(call: ServiceCall, now: datetime | None = None) -> bool:
    deadline = reopen_deadline(call)
    return deadline is not None and (now or utcnow()) <= deadline


def reopen_by_merchant(call: ServiceCall, reason: str, now: datetime | None = None) -> None:
    """The terminal fails again: back to open with the merchant's reason, within the contract's days; commits."""
    reason = normalize_text(reason or "")
    if not reason:
        raise CallError(422, "reason", _("Say what is still wrong."), "reason")
    if len(reason) > MAX_COMMENT:
        raise CallError(422, "reason", _("The comment is longer than %(n)s characters.", n=MAX_COMMENT), "reason")
    if call.status not in (CallStatus.RESOLVED, CallStatus.CLOSED):
        raise CallError(409, "not_finished", _("This call is not finished; it is still being handled."), "status")
    if not can_reopen(call, now):
        raise CallError(409, "reopen_expired", _("This call can no longer be reopened here; please report the "
                                                 "fault as a new call."), "reason")
    svc._set_status(call, CallStatus.OPEN, None, reason=reason, by_merchant=True)
    call.resolved_at = None
    call.resolution_minutes = None
    call.closed_at = None
    call.technician_id = None
    db.session.commit()


def _scores(overall: object, factors: dict[str, object]) -> dict[str, int]:
    out = {}
    for name, value in [("score", overall)] + [(f"{k}_score", factors.get(k)) for k in FEEDBACK_FACTORS]:
        try:
            n = int(str(value))
        except (TypeError, ValueError):
            n = 0
        if not 1 <= n <= 5:
            raise CallError(422, name, _("Choose a score from 1 to 5."), name)
        out[name] = n
    return out


def submit_call_feedback(call: ServiceCall, token: str, overall: object, factors: dict[str, object],
                         comment: str = "") -> None:
    """The survey of a closed call: overall score (the call's survey score) and one per factor
    (response speed, technician, fix quality); all or nothing; commits."""
    scores = _scores(overall, factors)
    fb = ServiceFeedback(call_id=call.id, contractor_id=call.contractor_id, overall_score=scores["score"],
                         speed_score=scores["speed_score"], technician_score=scores["technician_score"],
                         quality_score=scores["quality_score"], comment=(comment or "").strip()[:MAX_COMMENT])
    try:
        db.session.add(fb)
        svc.submit_survey(call, token, scores["score"], comment)  # validates the token, commits both
    except (CallError, IntegrityError):
        db.session.rollback()
        raise


def feedback_of_call(call: ServiceCall) -> Optional[ServiceFeedback]:
    return db.session.scalars(select(ServiceFeedback).where(ServiceFeedback.call_id == call.id)).first()


def submit_visit_feedback(merchant_id: int, visit: Visit, overall: object, factors: dict[str, object],
                          comment: str = "", now: datetime | None = None) -> ServiceFeedback:
    """The shop's feedback on one of its completed PM visits (once); commits."""
    if visit.merchant_id != merchant_id or visit.kind != VisitKind.PM or visit.status != VisitStatus.COMPLETED:
        raise CallError(404, "visit", _("This visit is not one of your shop's completed visits."), "visit_id")
    if visit.checkout_at is not None and visit.checkout_at < (now or utcnow()) - timedelta(days=RECENT_DAYS):
        raise CallError(409, "too_old", _("This visit is too old for feedback."), "visit_id")
    scores = _scores(overall, factors)
    fb = ServiceFeedback(visit_id=visit.id, contractor_id=visit.contractor_id, overall_score=scores["score"],
                         speed_score=scores["speed_score"], technician_score=scores["technician_score"],
                         quality_score=scores["quality_score"], comment=(comment or "").strip()[:MAX_COMMENT])
    try:
        with db.session.begin_nested():
            db.session.add(fb)
            db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise CallError(409, "feedback_done", _("Thank you: this visit's feedback was already given."),
                        "visit_id") from None
    record("feedback", visit, score=scores["score"], by_merchant=True)
    db.session.commit()
    return fb


def visits_with_feedback(visit_ids: list[int]) -> set[int]:
    if not visit_ids:
        return set()
    return set(db.session.scalars(select(ServiceFeedback.visit_id).where(ServiceFeedback.visit_id.in_(visit_ids))))
