"""The merchant's actions on the public tracking page (after the phone-digit check): comment or add
a photo, confirm a fix, reopen within the contract's days, give feedback on a PM visit; and, for
staff, the merchant's comments, photos and feedback on the call page. Rules live in
fieldsvc.visits.desk.self_service.

Every action is rate-limited like the phone-digit check: per call whatever the address (keys spelled
by fieldsvc.web.ratelimits) and per address.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from fieldsvc.db import db
from fieldsvc.visits.desk import calls as svc
from fieldsvc.visits.desk import self_service as selfsvc
from fieldsvc.visits.desk.errors import CallError
from fieldsvc.visits.desk_extra_models import FEEDBACK_FACTORS, MerchantComment
from fieldsvc.visits.models import Role, ServiceCall, Visit
from fieldsvc.visits.scope import get_scoped, require_role
from fieldsvc.web.upload_files import send_upload
from fieldsvc.web.extensions import limiter
from fieldsvc.web.ratelimits import address_key, tracking_number_key
from fieldsvc.web.track import _call_or_404, is_verified

bp = Blueprint("track_self", __name__)

#: Merchant actions together: 20 per call and 60 per address in 15 minutes (the digit check allows
#: 10 / 30 guesses); one bucket for all actions, so switching actions does not reset the count.
ACTION_LIMITS = [limiter.shared_limit("20 per 15 minutes", scope="track-action-call", key_func=tracking_number_key),
                 limiter.shared_limit("60 per 15 minutes", scope="track-action-address", key_func=address_key)]


def _limited(view):
    for deco in ACTION_LIMITS:
        view = deco(view)
    return view


def _verified_call(tracking_number: str) -> ServiceCall:
    call = _call_or_404(tracking_number)
    if not is_verified(call):
        abort(403)
    return call


def _back(call: ServiceCall, anchor: str | None = None) -> Any:
    return redirect(url_for("track.show", tracking_number=call.tracking_number, _anchor=anchor), 303)


def self_service_context(call: ServiceCall) -> dict[str, Any]:
    """What the verified tracking page shows besides the call: the shop's calls, comments, PM visits
    awaiting feedback, and whether the call can be confirmed or reopened."""
    visits = selfsvc.shop_pm_visits(call.merchant_id)
    done = selfsvc.visits_with_feedback([v.id for v in visits])
    return {"shop_calls": [c for c in selfsvc.shop_calls(call.merchant_id) if c.id != call.id],
            "comments": selfsvc.comments_of(call), "can_confirm": call.status == "resolved",
            "reopen_until": selfsvc.reopen_deadline(call) if selfsvc.can_reopen(call) else None,
            "feedback_visits": [v for v in visits if v.id not in done]}


@bp.post("/track/<tracking_number>/comment")
@_limited
def comment(tracking_number: str):
    call = _verified_call(tracking_number)
    photo_path = None
    try:
        f = request.files.get("photo")
        if f is not None and f.filename:
            photo_path = svc.store_photo(f.read(), f.mimetype, current_app.config["UPLOAD_DIR"])
        selfsvc.add_comment(call, request.form.get("comment", ""), photo_path)
    except CallError as e:
        db.session.rollback()
        flash(e.message, "error")
    else:
        flash(_("Thank you: your message was added to the call."), "success")
    return _back(call, "comments")


@bp.post("/track/<tracking_number>/confirm")
@_limited
def confirm(tracking_number: str):
    call = _verified_call(tracking_number)
    try:
        selfsvc.confirm_fix(call)
    except CallError as e:
        flash(e.message, "error")
    else:
        flash(_("Thank you: the call is closed. Please rate the service below."), "success")
    return _back(call)


@bp.post("/track/<tracking_number>/reopen")
@_limited
def reopen(tracking_number: str):
    call = _verified_call(tracking_number)
    try:
        selfsvc.reopen_by_merchant(call, request.form.get("reason", ""))
    except CallError as e:
        flash(e.message, "error")
    else:
        flash(_("The call is open again; we will contact you."), "success")
    return _back(call)


@bp.post("/track/<tracking_number>/visits/<int:visit_id>/feedback")
@_limited
def visit_feedback(tracking_number: str, visit_id: int):
    call = _verified_call(tracking_number)
    visit = db.session.get(Visit, visit_id) if 0 < visit_id < 2**31 else None
    try:
        if visit is None:
            raise CallError(404, "visit", _("This visit is not one of your shop's completed visits."), "visit_id")
        selfsvc.submit_visit_feedback(call.merchant_id, visit, request.form.get("score"),
                                      {k: request.form.get(f"{k}_score") for k in FEEDBACK_FACTORS},
                                      request.form.get("comment", ""))
    except CallError as e:
        flash(e.message, "error")
    else:
        flash(_("Thank you for your feedback."), "success")
    return _back(call, "visits")


# --------------------------------------------------------------------------- staff side


@bp.app_template_global()
def merchant_side(call: ServiceCall) -> dict[str, Any]:
    """The call page's merchant panel: comments, photos and the survey by factor."""
    return {"comments": selfsvc.comments_of(call), "feedback": selfsvc.feedback_of_call(call)}


@bp.get("/psp/calls/<int:call_id>/comments/<int:comment_id>/photo")
@login_required
def comment_photo(call_id: int, comment_id: int):
    user = current_user._get_current_object()
    require_role(user, Role.PSP, Role.DISPATCHER, Role.ADMIN)
    call = get_scoped(ServiceCall, call_id, user)
    comment = db.session.get(MerchantComment, comment_id) if comment_id < 2**31 else None
    if comment is None or comment.call_id != call.id:
        abort(404)
    return send_upload(comment.photo_path)
