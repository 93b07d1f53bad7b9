"""Daily evaluation: a supervisor reviews a repeatable sample of yesterday's finished services.

The services of a local day are the calls closed that day and the PM, installation and removal
visits completed (checked out) that day, in the supervisor's scope (EM visits are reviewed through
their call). :func:`daily_sample` picks the same services every time the page is opened: each
service's place in the sample comes from a hash of the day and the service (not from the order of a
query or a random draw), so reloading or another supervisor with the same scope sees the same sample.

A review records a score (1–5) and a comment per service, once (a second submission corrects the
first, in the audit trail); reviews feed the contractors' KPIs (:func:`review_kpis`, "Review score").
"""
from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass
from typing import Any, Optional
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from fieldsvc.db import db, utcnow
from fieldsvc.visits import models as m
from fieldsvc.visits.audit import record
from fieldsvc.visits.desk.errors import CallError
from fieldsvc.visits.desk_extra_models import ServiceReview
from fieldsvc.visits.i18n_text import gettext as _
from fieldsvc.visits.scope import get_scoped, require_role, scope_clause
from fieldsvc.visits.states import CallStatus, VisitStatus

__all__ = ["Service", "REVIEWER_ROLES", "SAMPLE_SHARE", "SAMPLE_MIN", "finished_services", "daily_sample",
           "sample_size", "save_review", "review_kpis", "yesterday"]

REVIEWER_ROLES = (m.Role.PSP, m.Role.ADMIN)
#: The sample: this share of the day's services, at least SAMPLE_MIN (or all when fewer).
SAMPLE_SHARE, SAMPLE_MIN = 0.10, 5
VISIT_KINDS = (m.VisitKind.PM, m.VisitKind.INSTALL, m.VisitKind.REMOVAL)
MAX_COMMENT = 2000


@dataclass
class Service:
    """One finished service of the day: a closed call or a completed visit, with its review if any."""

    kind: str  # "call" or "visit"
    id: int
    label: str
    subtype: str
    merchant: str
    contractor: str
    technician: str
    finished_at: dt.datetime
    review: Optional[ServiceReview] = None

    @property
    def key(self) -> str:
        return f"{self.kind}-{self.id}"


def yesterday(tz: str, now: dt.datetime | None = None) -> dt.date:
    return (now or utcnow()).astimezone(ZoneInfo(tz)).date() - dt.timedelta(days=1)


def _bounds(day: dt.date, tz: str) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(), ZoneInfo(tz)).astimezone(dt.timezone.utc)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), ZoneInfo(tz)).astimezone(dt.timezone.utc)
    return start, end


def finished_services(user: m.User, day: dt.date, tz: str) -> list[Service]:
    """Calls closed and visits completed on the local ``day`` that the user may see, earliest first."""
    require_role(user, *REVIEWER_ROLES)
    start, end = _bounds(day, tz)
    calls = db.session.scalars(select(m.ServiceCall).where(
        scope_clause(m.ServiceCall, user), m.ServiceCall.status == CallStatus.CLOSED,
        m.ServiceCall.closed_at >= start, m.ServiceCall.closed_at < end)).all()
    visits = db.session.scalars(select(m.Visit).where(
        scope_clause(m.Visit, user), m.Visit.status == VisitStatus.COMPLETED, m.Visit.kind.in_(VISIT_KINDS),
        m.Visit.checkout_at >= start, m.Visit.checkout_at < end)).all()
    reviews_c = {r.call_id: r for r in db.session.scalars(select(ServiceReview).where(
        ServiceReview.call_id.in_([c.id for c in calls])))} if calls else {}
    reviews_v = {r.visit_id: r for r in db.session.scalars(select(ServiceReview).where(
        ServiceReview.visit_id.in_([v.id for v in visits])))} if visits else {}
    out = [Service("call", c.id, c.tracking_number, c.symptom_code, c.merchant.name, c.contractor.name,
                   c.technician.name if c.technician else "", c.closed_at, reviews_c.get(c.id)) for c in calls]
    out += [Service("visit", v.id, f"#{v.id}", v.kind, v.merchant.name, v.contractor.name,
                    v.technician.name if v.technician else "", v.checkout_at, reviews_v.get(v.id)) for v in visits]
    out.sort(key=lambda s: (s.finished_at, s.key))
    return out


def sample_size(total: int) -> int:
    return min(total, max(SAMPLE_MIN, math.ceil(total * SAMPLE_SHARE)))


def _rank(day: dt.date, service: Service) -> str:
    return hashlib.sha256(f"{day.isoformat()}:{service.key}".encode()).hexdigest()


def daily_sample(services: list[Service], day: dt.date) -> list[Service]:
    """The day's sample to review (repeatable, see the module doc), by the time they finished."""
    picked = sorted(services, key=lambda s: _rank(day, s))[:sample_size(len(services))]
    return sorted(picked, key=lambda s: (s.finished_at, s.key))


def save_review(user: m.User, kind: str, service_id: int, score: Any, comment: str, tz: str) -> ServiceReview:
    """Record (or correct) the review of one finished service; commits."""
    require_role(user, *REVIEWER_ROLES)
    try:
        n = int(str(score))
    except (TypeError, ValueError):
        n = 0
    if not 1 <= n <= 5:
        raise CallError(422, "score", _("Choose a score from 1 to 5."), "score")
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise CallError(422, "comment", _("The comment is longer than %(n)s characters.", n=MAX_COMMENT), "comment")
    if kind == "call":
        try:
            call = get_scoped(m.ServiceCall, service_id, user)
        except LookupError:
            raise CallError(404, "service", _("This service does not exist."), "service") from None
        if call.status != CallStatus.CLOSED or call.closed_at is None:
            raise CallError(422, "service", _("Only a closed call can be reviewed."), "service")
        obj, finished, psp_id = call, call.closed_at, call.psp_id
        where = ServiceReview.call_id == call.id
    elif kind == "visit":
        try:
            visit = get_scoped(m.Visit, service_id, user)
        except LookupError:
            raise CallError(404, "service", _("This service does not exist."), "service") from None
        if visit.status != VisitStatus.COMPLETED or visit.checkout_at is None or visit.kind not in VISIT_KINDS:
            raise CallError(422, "service", _("Only a completed visit can be reviewed."), "service")
        obj, finished, psp_id = visit, visit.checkout_at, visit.merchant.psp_id
        where = ServiceReview.visit_id == visit.id
    else:
        raise CallError(422, "service", _("This service does not exist."), "service")
    review = db.session.scalars(select(ServiceReview).where(where)).first()
    old = review.score if review else None
    if review is None:
        review = ServiceReview(call_id=obj.id if kind == "call" else None, visit_id=obj.id if kind == "visit" else None,
                               contractor_id=obj.contractor_id, psp_id=psp_id,
                               service_day=finished.astimezone(ZoneInfo(tz)).date())
    review.score, review.comment, review.reviewer_id, review.created_at = n, comment, user.id, utcnow()
    try:
        with db.session.begin_nested():
            db.session.add(review)
            db.session.flush()
    except IntegrityError:  # reviewed at the same moment by someone else: theirs stands
        db.session.rollback()
        raise CallError(409, "reviewed", _("Someone else reviewed this service meanwhile; reload the page."),
                        "service") from None
    record("reviewed", obj, actor=user, score=n, old_score=old)
    db.session.commit()
    return review


def review_kpis(q: Any) -> dict[int, dict[str, Any]]:
    """Reviews per scorecard key (contractor, region or technician) of the period: count and
    average score, from the reviews of calls and of visits (``q``: a kpis.KpiQuery)."""
    sums: dict[int, list[float]] = {}
    for rows in (
        _rows(q.calls(select(q.keys.call()[0], func.count(), func.sum(ServiceReview.score)), reported_in_period=False)
              .join(ServiceReview, ServiceReview.call_id == m.ServiceCall.id)
              .where(ServiceReview.service_day >= q.p.start, ServiceReview.service_day <= q.p.end)
              .group_by(q.keys.call()[0])),
        _rows(q.visits(select(q.keys.visit()[0], func.count(), func.sum(ServiceReview.score)))
              .join(ServiceReview, ServiceReview.visit_id == m.Visit.id)
              .where(ServiceReview.service_day >= q.p.start, ServiceReview.service_day <= q.p.end)
              .group_by(q.keys.visit()[0])),
    ):
        for key, n, total in rows:
            acc = sums.setdefault(key, [0, 0.0])
            acc[0] += int(n or 0)
            acc[1] += float(total or 0)
    return {k: {"reviews": n, "review_score_avg": round(t / n, 2) if n else None} for k, (n, t) in sums.items()}


def _rows(stmt: Any) -> list[Any]:
    return list(db.session.execute(stmt).all())
