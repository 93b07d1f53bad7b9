"""Public call tracking for merchants (`/track/<tracking_number>`, no login).

Anyone with the number sees the status only; the merchant types the last four digits of the shop's
phone (rate-limited) to see the history, the technician's first name and ETA and, once the call is
closed, the satisfaction survey. The confirmation code (when the contract asks for one) shows only
to whoever opened the merchant's own link from the shop's e-mail (fieldsvc.visits.desk.merchant_link):
the technician knows the phone and the tracking number, so they prove nothing.

Rate limits (keys spelled by fieldsvc.web.ratelimits, so `em-1405-x`, ` EM-1405-X%20` and
Persian digits are one key): look-ups of numbers that do not exist, per address; phone-digit
guesses per call whatever the address, and per address; survey answers per call.
"""
from __future__ import annotations

from flask import (Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request,
                   session, url_for)
from flask_babel import gettext as _
from sqlalchemy import select

from fieldsvc.db import db
from fieldsvc.visits.contracts.versions import version_in_force
from fieldsvc.visits.desk import calls as svc
from fieldsvc.visits.models import ServiceCall, Visit
from fieldsvc.visits.desk.merchant_link import is_merchant_key
from fieldsvc.visits.desk.self_service import submit_call_feedback
from fieldsvc.visits.desk_extra_models import FEEDBACK_FACTORS
from fieldsvc.web.extensions import limiter
from fieldsvc.web.ratelimits import address_key, tracking_number_key

bp = Blueprint("track", __name__, url_prefix="/track")


def _verified_key(call: ServiceCall) -> str:
    return f"track:{call.tracking_number}"


def _merchant_key(call: ServiceCall) -> str:
    return f"track-merchant:{call.tracking_number}"


def _shop_key(merchant_id: int) -> str:
    """Set once the phone digits of any call of the shop matched: the shop's other calls show too."""
    return f"track-shop:{merchant_id}"


def is_verified(call: ServiceCall) -> bool:
    """Whether this browser proved the phone digits (or opened the shop's link) for the call's shop."""
    return bool(session.get(_verified_key(call)) or session.get(_shop_key(call.merchant_id)))


def _call_or_404(tracking_number: str) -> ServiceCall:
    call = svc.find_by_tracking_number(tracking_number)
    if call is None:
        g.tracking_miss = True
        abort(404)
    return call


def _missed(_response: Response) -> bool:
    """Count a look-up against the limit only when the number does not exist (a guess)."""
    return bool(g.get("tracking_miss"))


def _wrong_digits(response: Response) -> bool:
    return response.status_code == 403


#: Guessing tracking numbers: 20 unknown numbers a minute, 100 an hour per address.
LOOKUP_LIMIT = limiter.shared_limit("20 per minute;100 per hour", scope="track-lookup", key_func=address_key,
                                    deduct_when=_missed)


def _em_visit(call: ServiceCall) -> Visit | None:
    return db.session.scalars(select(Visit).where(
        Visit.service_call_id == call.id, Visit.kind == "em",
        Visit.status.in_(["planned", "dispatched", "checked_in", "completed"])).order_by(Visit.id.desc())).first()


@bp.get("/")
@LOOKUP_LIMIT
def lookup():
    number = request.args.get("number", "")
    if number:
        call = svc.find_by_tracking_number(number)
        if call is not None:
            return redirect(url_for("track.show", tracking_number=call.tracking_number))
        g.tracking_miss = True
        flash(_("No call has this tracking number. Check it in the message you received."), "error")
    return render_template("track/lookup.html", number=number)


@bp.get("/<tracking_number>")
@LOOKUP_LIMIT
def show(tracking_number: str):
    call = _call_or_404(tracking_number)
    key = request.args.get("key")
    if key is not None:
        if is_merchant_key(call, current_app.config["SECRET_KEY"], key):
            session[_verified_key(call)] = session[_merchant_key(call)] = session[_shop_key(call.merchant_id)] = True
        else:
            flash(_("This link is not valid for this call; open the link from the shop's e-mail again."), "error")
        return redirect(url_for("track.show", tracking_number=call.tracking_number))
    if call.tracking_number != tracking_number:
        return redirect(url_for("track.show", tracking_number=call.tracking_number))
    verified = is_verified(call)
    ctx: dict = {"call": call, "verified": verified, "svc": svc, "error": None}
    if verified:
        ctx.update(_details(call))
        from fieldsvc.web.track_self import self_service_context
        ctx.update(self_service_context(call))
    return render_template("track/show.html", **ctx)


@bp.post("/<tracking_number>")
@limiter.limit("10 per 15 minutes", key_func=tracking_number_key, deduct_when=_wrong_digits)
@limiter.limit("30 per 15 minutes", key_func=address_key, deduct_when=_wrong_digits)
def verify(tracking_number: str):
    call = _call_or_404(tracking_number)
    if svc.phone_digits_match(call, request.form.get("digits", "")):
        session[_verified_key(call)] = session[_shop_key(call.merchant_id)] = True
        return redirect(url_for("track.show", tracking_number=call.tracking_number), 303)
    return render_template("track/show.html", call=call, verified=False, svc=svc,
                           error=_("These are not the last four digits of the shop's phone number. "
                                   "Type the last four digits of the number registered for your shop.")), 403


def _details(call: ServiceCall) -> dict:
    visit = _em_visit(call)
    show_eta = call.status in ("assigned", "scheduled") and visit is not None and visit.status in (
        "planned", "dispatched")
    code_due = (version_in_force(call.contract, call.reported_at).require_confirmation_code
                and call.status in ("assigned", "scheduled", "in_progress"))
    merchant = bool(session.get(_merchant_key(call)))
    return {
        "history": svc.status_history(call),
        "technician": (call.technician.name or "").split(" ")[0] if call.technician else None,
        "eta": visit.eta if show_eta else None,
        "code": call.confirmation_code if code_due and merchant else None,
        "code_by_mail": bool(code_due and not merchant),
        "survey_open": call.status == "closed" and call.survey_score is None and bool(call.survey_token),
    }


@bp.route("/<tracking_number>/survey/<token>", methods=["GET", "POST"])
@limiter.limit("20 per 15 minutes", methods=["POST"], key_func=tracking_number_key)
def survey(tracking_number: str, token: str):
    call = _call_or_404(tracking_number)
    if call.status != "closed" or not call.survey_token or token != call.survey_token:
        abort(404)
    error = None
    if request.method == "POST":
        raw = request.form.get("score", "")
        factors = {k: request.form.get(f"{k}_score") for k in FEEDBACK_FACTORS}
        try:
            if any(factors.values()):  # the survey by factor (the forms ask for every factor)
                submit_call_feedback(call, token, raw, factors, request.form.get("comment", ""))
            else:
                svc.submit_survey(call, token, int(raw) if raw.isdigit() else 0, request.form.get("comment", ""))
        except svc.CallError as e:
            error = e.message
        else:
            flash(_("Thank you for your feedback."), "success")
            return redirect(url_for("track.survey", tracking_number=call.tracking_number, token=token), 303)
    return render_template("track/survey.html", call=call, token=token, error=error, svc=svc), (
        422 if error else 200)


@bp.post("/<tracking_number>/survey")
@limiter.limit("20 per 15 minutes", key_func=tracking_number_key)
def survey_verified(tracking_number: str):
    """The survey form on the tracking page (after the phone digits), without the e-mailed token."""
    call = _call_or_404(tracking_number)
    if not is_verified(call) or not call.survey_token:
        abort(403)
    return survey(tracking_number, call.survey_token)
