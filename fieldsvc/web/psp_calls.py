"""Service call pages: the list with SLA flags, intake (`/psp/calls/new`) and the call page with its
history, clock and lifecycle actions; dispatchers see slot options there and accept one."""
from __future__ import annotations

import datetime as dt

from flask import (Blueprint, current_app, flash, jsonify, redirect, render_template, request, url_for)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileSize
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from fieldsvc.visits.desk import calls as svc
from fieldsvc.visits.desk import holds, slotting, ticket_types
from fieldsvc.visits.desk.slot_answer import slot_answer
from fieldsvc.web.upload_files import send_upload
from fieldsvc.web.channel_pages import incoming_context
from fieldsvc.visits.master.terminal_search import search_terminals, terminal_choice
from fieldsvc.visits.models import Role, ServiceCall
from fieldsvc.visits.scope import get_scoped, require_role
from fieldsvc.visits.states import CALL_TRANSITIONS, IllegalTransition, CallStatus
from fieldsvc.web.forms import code_filter, text_filter
from fieldsvc.web.i18n import lang
from fieldsvc.web.ids import request_int
from fieldsvc.web.nav import add_nav

bp = Blueprint("psp_calls", __name__, url_prefix="/psp/calls")

VIEW_ROLES = (Role.PSP, Role.DISPATCHER, Role.ADMIN)
add_nav(lambda: _("Service calls"), "psp_calls.index", {Role.PSP, Role.DISPATCHER, Role.ADMIN}, "/psp/calls")
add_nav(lambda: _("New call"), "psp_calls.new", {Role.PSP, Role.ADMIN}, "/psp/calls/new")


def _user():
    return current_user._get_current_object()


class IntakeForm(FlaskForm):
    terminal_serial = StringField(_l("Terminal serial"), filters=[code_filter],
                                  validators=[Optional(), Length(max=64)])
    terminal_id = HiddenField(validators=[Optional(), Regexp(r"^\d{1,12}$")])
    caller_name = StringField(_l("Caller's name"), filters=[text_filter], validators=[Optional(), Length(max=120)])
    caller_phone = StringField(_l("Caller's phone"), filters=[text_filter], validators=[
        Optional(), Length(max=32), Regexp(r"^[+0-9۰-۹٠-٩ ()-]{5,32}$", message=_l("Type a phone number, e.g. 09121234567."))])
    channel = SelectField(_l("Channel"), choices=[], validators=[DataRequired()])
    ticket_type = SelectField(_l("Ticket type"), choices=[], default="fault", validators=[DataRequired()])
    priority = SelectField(_l("Priority"), choices=[], default="normal", validators=[DataRequired()])
    symptom = SelectField(_l("Symptom"), choices=[], validators=[DataRequired()])
    symptom_text = TextAreaField(_l("What the merchant says"), filters=[text_filter],
                                 validators=[Optional(), Length(max=2000)])
    photo = FileField(_l("Photo (optional, JPEG/PNG/WebP, up to 5 MB)"), validators=[
        FileAllowed(["jpg", "jpeg", "png", "webp"], _l("The photo must be a JPEG, PNG or WebP image.")),
        FileSize(svc.PHOTO_MAX_BYTES, message=_l("The photo is larger than 5 MB; send a smaller one."))])

    def fill_choices(self, user) -> None:
        self.channel.choices = [(k, str(v)) for k, v in svc.CHANNELS.items() if k != "monitoring"]
        self.priority.choices = [(k, str(v)) for k, v in svc.PRIORITIES.items()]
        self.ticket_type.choices = [(k, str(v)) for k, v in ticket_types.TICKET_TYPES.items()]
        self.symptom.choices = [("", _("— choose —"))] + [(k, str(v)) for k, v in svc.SYMPTOMS.items()]


@bp.get("/")
@login_required
def index():
    require_role(_user(), *VIEW_ROLES)
    show = request.args.get("show", "open")
    status = request.args.get("status") or None
    kind = request.args.get("type") if request.args.get("type") in ticket_types.TICKET_TYPES else None
    items = ticket_types.list_calls(_user(), kind, status=status if status in svc.STATUS_LABELS else None,
                                    open_only=show != "all")
    rows = [(c, svc.sla_flags(c)) for c in items]
    return render_template("calls/list.html", rows=rows, show=show, status=status, svc=svc, ticket_type=kind,
                           queue_counts=ticket_types.queue_counts(_user()), ticket_types=ticket_types.TICKET_TYPES)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    user = _user()
    require_role(user, Role.PSP, Role.ADMIN)
    form = IntakeForm()
    form.fill_choices(user)
    error, existing = None, None
    if form.validate_on_submit():
        try:
            photo_path = None
            if form.photo.data:
                f = form.photo.data
                photo_path = svc.store_photo(f.read(), f.mimetype, current_app.config["UPLOAD_DIR"])
            call = holds.open_or_hold(user, priority=form.priority.data, symptom_code=form.symptom.data,
                                      channel=form.channel.data, terminal_serial=form.terminal_serial.data or None,
                                      terminal_id=request_int(request.form, "terminal_id"),
                                      symptom_text=form.symptom_text.data or "", photo_path=photo_path,
                                      caller_name=form.caller_name.data or "",
                                      caller_phone=form.caller_phone.data or "",
                                      ticket_type=form.ticket_type.data)
        except svc.CallError as e:
            error = e.message
            if e.call_id is not None:
                existing = _visible_call(e.call_id)
        else:
            if not isinstance(call, ServiceCall):  # the caller is not designated by the merchant's group
                flash(_("The caller is not one of the people this merchant's group named: the request is held "
                        "for confirmation on the intake desk."), "warning")
                return redirect(url_for("channel_pages.index"))
            flash(_("Call %(number)s registered. Give this tracking number to the merchant.",
                    number=call.tracking_number), "success")
            return redirect(url_for("psp_calls.show", call_id=call.id))
    ring = None
    if request.method == "GET" and request.args.get("incoming"):
        ring = incoming_context(user, request_int(request.args, "incoming"), form)
    status = 200 if (error is None and not form.errors) else 422
    return render_template("calls/new.html", form=form, error=error, existing=existing, ring=ring), status


@bp.get("/terminals")
@login_required
def terminals():
    """The new-call form's terminal picker: terminals matching ``q`` (serial, merchant name or
    code, phone, terminal id) that the user may open calls for, at most 20, as JSON."""
    user = _user()
    require_role(user, Role.PSP, Role.ADMIN)
    found = search_terminals(user, request.args.get("q", ""))
    return jsonify([terminal_choice(t) for t in found])


def _visible_call(call_id: int) -> ServiceCall | None:
    """The call if the current user may see it (to link a duplicate), else None."""
    try:
        return get_scoped(ServiceCall, call_id, _user())
    except LookupError:
        return None


@bp.get("/<int:call_id>")
@login_required
def show(call_id: int):
    user = _user()
    require_role(user, *VIEW_ROLES)
    call = get_scoped(ServiceCall, call_id, user)
    answer, technicians = None, []
    if user.role in (Role.DISPATCHER, Role.ADMIN) and call.status in (CallStatus.OPEN, CallStatus.ASSIGNED):
        answer = slot_answer(call.id, user, lang=lang())
        technicians = svc.technicians_for(call, user)
    options = answer.options if answer else []
    allowed = {str(s) for s in CALL_TRANSITIONS[CallStatus(call.status)]}
    if call.status == CallStatus.OPEN:
        allowed.discard(CallStatus.RESOLVED.value)  # an open call is resolved remotely by the desk (desk card)
    return render_template("calls/show.html", call=call, flags=svc.sla_flags(call), history=svc.history(call),
                           options=options, answer=answer, technicians=technicians, allowed=allowed, svc=svc,
                           tracking_url=svc.tracking_url(call, current_app.config["PUBLIC_BASE_URL"]),
                           paused=svc.is_paused(call), recent=_recent_history(call))


def _recent_history(call: ServiceCall) -> dict[str, list]:
    """The last entries of the call's terminal and merchant (issue 20)."""
    from fieldsvc.visits.history.timeline import merchant_history, recent, terminal_history
    return {"terminal": recent(terminal_history(call.terminal), 8) if call.terminal else [],
            "merchant": recent(merchant_history(call.merchant), 8)}


def changed_meanwhile(call: ServiceCall) -> bool:
    """Whether the posted form was made from an older version of ``call`` (someone else acted
    meanwhile); if so the user is told, and the caller shows the call again."""
    version = request_int(request.form, "version")
    if version is not None and version != call.version:
        flash(_("Someone else changed this call meanwhile; here is its current state. Try again."), "warning")
        return True
    return False


@bp.post("/<int:call_id>/action")
@login_required
def action(call_id: int):
    user = _user()
    require_role(user, *VIEW_ROLES)
    call = get_scoped(ServiceCall, call_id, user)
    if changed_meanwhile(call):
        return redirect(url_for("psp_calls.show", call_id=call.id)), 303
    try:
        svc.apply_action(call, user, request.form.get("action", ""), reason=request.form.get("reason", ""),
                     priority=request.form.get("priority") or None,
                     technician_id=request_int(request.form, "technician_id"))
    except svc.CallError as e:
        flash(e.message, "error")
    except IllegalTransition as e:
        flash(_("Not possible now: %(why)s", why=str(e)), "error")
    else:
        if request.form.get("action") == "assign" and call.status == CallStatus.SCHEDULED:
            flash(_("Assigned: the call is on the technician's route with an ETA (see the history below)."),
                  "success")
        elif request.form.get("action") == "assign":
            flash(_("Assigned, but no day of the coming week has room for it: the next plan of a day "
                    "places it with this technician."), "warning")
        else:
            flash(_("Saved."), "success")
    return redirect(url_for("psp_calls.show", call_id=call.id), 303)


@bp.post("/<int:call_id>/assign")
@login_required
def assign(call_id: int):
    user = _user()
    require_role(user, Role.DISPATCHER, Role.ADMIN)
    get_scoped(ServiceCall, call_id, user)
    technician_id = request_int(request.form, "technician_id")
    if technician_id is None:
        flash(_("Choose a technician."), "error")
        return redirect(url_for("psp_calls.show", call_id=call_id), 303)
    try:
        day = dt.date.fromisoformat(request.form["date"]) if request.form.get("date") else None
    except ValueError:
        flash(_("date: use YYYY-MM-DD."), "error")
        return redirect(url_for("psp_calls.show", call_id=call_id), 303)
    try:
        slotting.assign_call(call_id, technician_id, request_int(request.form, "position"), user,
                             request_int(request.form, "version"), day=day,
                             on_call=request.form.get("on_call") == "1")
    except svc.CallError as e:
        flash(e.message, "error")
        return redirect(url_for("psp_calls.show", call_id=call_id), 303)
    flash(_("Assigned: the technician's route and the ETAs are updated."), "success")
    return redirect(url_for("psp_calls.show", call_id=call_id), 303)


@bp.get("/<int:call_id>/photo")
@login_required
def photo(call_id: int):
    return send_upload(get_scoped(ServiceCall, call_id, _user()).photo_path)
