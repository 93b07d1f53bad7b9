"""The supervisors' daily evaluation (`/psp/reviews`): yesterday's closed calls and completed visits,
a repeatable sample to review, a score and a comment per service. Rules live in
fieldsvc.visits.scorecards.reviews; the scores show in the scorecard ("Review score")."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from fieldsvc.dates import date_input_value, parse_date_input
from fieldsvc.visits.desk import calls as svc
from fieldsvc.visits.desk.errors import CallError
from fieldsvc.visits.scope import require_role
from fieldsvc.visits.scorecards import reviews
from fieldsvc.web.i18n import lang
from fieldsvc.web.ids import request_int
from fieldsvc.web.nav import add_nav

bp = Blueprint("reviews", __name__, url_prefix="/psp/reviews")
add_nav(lambda: _("Daily evaluation"), "reviews.index", set(reviews.REVIEWER_ROLES), "/psp/reviews")


def _day() -> tuple[dt.date, str | None]:
    tz = current_app.config["TIMEZONE"]
    raw = (request.values.get("day") or "").strip()
    if not raw:
        return reviews.yesterday(tz), None
    try:
        return parse_date_input(raw, lang()), None
    except ValueError:
        return reviews.yesterday(tz), _("Type the day like %(example)s.",
                                        example=date_input_value(reviews.yesterday(tz), lang()))


@bp.get("/")
@login_required
def index():
    user = current_user._get_current_object()
    require_role(user, *reviews.REVIEWER_ROLES)
    day, error = _day()
    services = reviews.finished_services(user, day, current_app.config["TIMEZONE"])
    sample = reviews.daily_sample(services, day)
    picked = {s.key for s in sample}
    others = [s for s in services if s.key not in picked]
    done = sum(1 for s in sample if s.review)
    return render_template("reviews/index.html", day=day, day_value=date_input_value(day, lang()),
                           error=error, sample=sample, others=others, total=len(services), done=done, svc=svc,
                           prev_day=date_input_value(day - dt.timedelta(days=1), lang()),
                           next_day=date_input_value(day + dt.timedelta(days=1), lang())), (422 if error else 200)


@bp.post("/")
@login_required
def save():
    user = current_user._get_current_object()
    require_role(user, *reviews.REVIEWER_ROLES)
    day, _error = _day()
    kind = request.form.get("kind", "")
    service_id = request_int(request.form, "service_id")
    try:
        reviews.save_review(user, kind, service_id or 0, request.form.get("score"), request.form.get("comment", ""),
                            current_app.config["TIMEZONE"])
    except CallError as e:
        flash(e.message, "error")
    else:
        flash(_("Review saved."), "success")
    anchor = f"{kind}-{service_id}" if service_id else None
    return redirect(url_for("reviews.index", day=date_input_value(day, lang()), _anchor=anchor), 303)
