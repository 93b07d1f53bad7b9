"""Public call tracking for merchants (`/track/<tracking_number>`, no login).

Anyone with the number sees the status only; the merchant types the last four digits of the shop's
phone (rate-limited) to see the history, the technician's first name and ETA, the confirmation code
(when the contract asks for one) and, once the call is closed, the satisfaction survey.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from sqlalchemy import select

from fieldsvc.db import db
from fieldsvc.visits.contracts.versions import version_in_force
from fieldsvc.visits.desk import calls as svc
from fieldsvc.visits.models import ServiceCall, Visit
from fieldsvc.web.extensions import limiter

bp = Blueprint("track", __name__, url_prefix="/track")


def _verified_key(call: ServiceCall) -> str:
    return f"track:{call.tracking_number}"


def _call_or_404(tracking_number: str) -> ServiceCall:
    call = svc.find_by_tracking_number(tracking_number)
    if call is None:
        abort(404)
    return call


def _limit_key() -> str:
    return f"{get_remote_address()}|{(request.view_args or {}).get('tracking_number', '')}"


def _em_visit(call: ServiceCall) -> Visit | None:
    return db.session.scalars(select(Visit).where(
        Visit.service_call_id == call.id, Visit.kind == "em",
        Visit.status.in_(["planned", "dispatched", "checked_in", "completed"])).order_by(Visit.id.desc())).first()


@bp.get("/")
def lookup():
    number = request.args.get("number", "")
    if number:
        call = svc.find_by_tracking_number(number)
        if call is not None:
            return redirect(url_for("track.show", tracking_number=call.tracking_number))
        flash(_("No call has this tracking number. Check it in the message you received."), "error")
    return render_template("track/lookup.html", number=number)


@bp.get("/<tracking_number>")
def show(tracking_number: str):
    call = _call_or_404(tracking_number)
    if call.tracking_number != tracking_number:
        return redirect(url_for("track.show", tracking_number=call.tracking_number))
    verified = bool(session.get(_verified_key(call)))
    ctx: dict = {"call": call, "verified": verified, "svc": svc, "error": None}
    if verified:
        ctx.update(_details(call))
    return render_template("track/show.html", **ctx)


@bp.post("/<tracking_number>")
@limiter.limit("10 per 15 minutes", key_func=_limit_key)
def verify(tracking_number: str):
    call = _call_or_404(tracking_number)
    if svc.phone_digits_match(call, request.form.get("digits", "")):
        session[_verified_key(call)] = True
        return redirect(url_for("track.show", tracking_number=call.tracking_number), 303)
    return render_template("track/show.html", call=call, verified=False, svc=svc,
                           error=_("These are not the last four digits of the shop's phone number. "
                                   "Type the last four digits of the number registered for your shop.")), 403


def _details(call: ServiceCall) -> dict:
    visit = _em_visit(call)
    show_eta = call.status in ("assigned", "scheduled") and visit is not None and visit.status in (
        "planned", "dispatched")
    return {
        "history": svc.status_history(call),
        "technician": (call.technician.name or "").split(" ")[0] if call.technician else None,
        "eta": visit.eta if show_eta else None,
        "code": call.confirmation_code if version_in_force(call.contract, call.reported_at).require_confirmation_code and call.status in (
            "assigned", "scheduled", "in_progress") else None,
        "survey_open": call.status == "closed" and call.survey_score is None and bool(call.survey_token),
    }


@bp.route("/<tracking_number>/survey/<token>", methods=["GET", "POST"])
@limiter.limit("20 per 15 minutes", methods=["POST"], key_func=_limit_key)
def survey(tracking_number: str, token: str):
    call = _call_or_404(tracking_number)
    if call.status != "closed" or not call.survey_token or token != call.survey_token:
        abort(404)
    error = None
    if request.method == "POST":
        raw = request.form.get("score", "")
        try:
            svc.submit_survey(call, token, int(raw) if raw.isdigit() else 0, request.form.get("comment", ""))
        except svc.CallError as e:
            error = e.message
        else:
            flash(_("Thank you for your feedback."), "success")
            return redirect(url_for("track.survey", tracking_number=call.tracking_number, token=token), 303)
    return render_template("track/survey.html", call=call, token=token, error=error, svc=svc), (
        422 if error else 200)


@bp.post("/<tracking_number>/survey")
@limiter.limit("20 per 15 minutes", key_func=_limit_key)
def survey_verified(tracking_number: str):
    """The survey form on the tracking page (after the phone digits), without the e-mailed token."""
    call = _call_or_404(tracking_number)
    if not session.get(_verified_key(call)) or not call.survey_token:
        abort(403)
    return survey(tracking_number, call.survey_token)
