"""The intake desk pages (PSP staff): incoming phone calls with a link to the pre-filled new-call
form, the hold queue (confirm or reject), e-mails that could not be processed, requester groups
(chains and branches with their designated people) and each merchant's choice of SMS or e-mail."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from fieldsvc.db import db
from fieldsvc.visits.channel_models import GroupKind, InboundEmail, NotifyBy
from fieldsvc.visits.desk import calls as svc
from fieldsvc.visits.desk import holds, sms, telephony
from fieldsvc.visits.desk.errors import CallError
from fieldsvc.visits.desk.ticket_types import TICKET_TYPES
from fieldsvc.visits.master import requesters
from fieldsvc.visits.models import Merchant, Psp, Role
from fieldsvc.visits.scope import require_role, scoped
from fieldsvc.web.forms import code_filter, text_filter
from fieldsvc.web.ids import request_int
from fieldsvc.web.nav import add_nav
from fieldsvc.web.upload_files import send_upload

bp = Blueprint("channel_pages", __name__, url_prefix="/psp/desk")
add_nav(lambda: _("Incoming calls"), "channel_pages.incoming", {Role.PSP, Role.ADMIN}, "/psp/desk/incoming")
add_nav(lambda: _("Intake desk"), "channel_pages.index", {Role.PSP, Role.ADMIN}, "/psp/desk/")


def _user():
    user = current_user._get_current_object()
    require_role(user, Role.PSP, Role.ADMIN)
    return user


class ConfirmForm(FlaskForm):
    terminal_serial = StringField(_l("Terminal serial"), filters=[code_filter], validators=[Optional(), Length(max=64)])
    priority = SelectField(_l("Priority"), choices=[], validators=[DataRequired()])
    symptom = SelectField(_l("Symptom"), choices=[], validators=[DataRequired()])
    ticket_type = SelectField(_l("Ticket type"), choices=[], validators=[Optional()])

    def fill(self) -> "ConfirmForm":
        self.priority.choices = [(k, str(v)) for k, v in svc.PRIORITIES.items()]
        self.symptom.choices = [(k, str(v)) for k, v in svc.SYMPTOMS.items()]
        self.ticket_type.choices = [(k, str(v)) for k, v in TICKET_TYPES.items()]
        return self


class RejectForm(FlaskForm):
    reason = StringField(_l("Reason"), filters=[text_filter], validators=[DataRequired(), Length(max=1000)])


class GroupForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=[], validators=[DataRequired()])
    name = StringField(_l("Name"), filters=[text_filter], validators=[DataRequired(), Length(max=200)])
    psp_id = SelectField(_l("PSP"), choices=[], validators=[Optional()])


class MemberForm(FlaskForm):
    merchant_code = StringField(_l("Merchant code"), filters=[text_filter], validators=[DataRequired(), Length(max=32)])


class PersonForm(FlaskForm):
    name = StringField(_l("Name"), filters=[text_filter], validators=[DataRequired(), Length(max=120)])
    phone = StringField(_l("Phone"), filters=[text_filter], validators=[Optional(), Length(max=32)])
    email = StringField(_l("E-mail"), filters=[text_filter], validators=[Optional(), Length(max=200)])


class NotifyForm(FlaskForm):
    merchant_code = StringField(_l("Merchant code"), filters=[text_filter], validators=[DataRequired(), Length(max=32)])
    notify_by = SelectField(_l("Notify by"), choices=[], validators=[DataRequired()])
    mobile = StringField(_l("Mobile for SMS (if the shop phone is a landline)"), filters=[text_filter],
                         validators=[Optional(), Length(max=32)])


NOTIFY_LABELS = {"sms": _l("SMS"), "email": _l("E-mail"), "both": _l("SMS and e-mail")}
KIND_LABELS = {"chain": _l("Merchant chain"), "branch": _l("PSP branch")}
REASON_LABELS = {"not_designated": _l("Caller not designated"), "terminal_unknown": _l("Terminal not clear")}


@bp.get("/")
@login_required
def index():
    user = _user()
    held = holds.list_held(user)
    failed = list(db.session.scalars(scoped(InboundEmail, user).where(InboundEmail.status == "failed")
                                     .order_by(InboundEmail.id.desc()).limit(50))) if user.role == Role.PSP else \
        list(db.session.scalars(select(InboundEmail).where(InboundEmail.status == "failed")
                                .order_by(InboundEmail.id.desc()).limit(50)))
    return render_template("channels/index.html", held=held, failed=failed,
                           confirm_form=ConfirmForm().fill(), reject_form=RejectForm(), svc=svc,
                           reasons=REASON_LABELS, ticket_types=TICKET_TYPES)


def incoming_context(user, ring_id: int | None, form) -> telephony.RingContext | None:
    """The ring an agent opened the new-call form from, with the form pre-filled: channel phone,
    the caller's number, and the terminal when the merchant has only one (or ``serial`` names one)."""
    if ring_id is None:
        return None
    ring = telephony.get_ring(user, ring_id)
    ctx = telephony.context(ring)
    form.channel.data = "phone"
    form.caller_phone.data = ring.caller
    wanted = request.args.get("serial", "")
    chosen = [t for t in ctx.terminals if t.serial == wanted] or (ctx.terminals if len(ctx.terminals) == 1 else [])
    if chosen:
        form.terminal_serial.data = chosen[0].serial
    return ctx


@bp.get("/incoming")
@login_required
def incoming():
    """The rings the phone system reported, newest first, the agent's own marked; refreshes itself."""
    user = _user()
    rings = [(r, telephony.context(r)) for r in telephony.recent_rings(user, 30)]
    return render_template("channels/incoming.html", rings=rings)


@bp.post("/held/<int:held_id>/confirm")
@login_required
def confirm(held_id: int):
    user = _user()
    held = holds.get_held(user, held_id)
    form = ConfirmForm().fill()
    if not form.validate_on_submit():
        flash("; ".join(f"{form[f].label.text}: {e[0]}" for f, e in form.errors.items()), "danger")
        return redirect(url_for("channel_pages.index"))
    try:
        call = holds.confirm(user, held, terminal_serial=form.terminal_serial.data or None,
                             priority=form.priority.data, symptom_code=form.symptom.data,
                             ticket_type=form.ticket_type.data or None)
    except CallError as e:
        flash(e.message, "danger")
        return redirect(url_for("channel_pages.index"))
    flash(_("Call %(number)s registered. Give this tracking number to the merchant.",
            number=call.tracking_number), "success")
    return redirect(url_for("psp_calls.show", call_id=call.id))


@bp.get("/held/<int:held_id>/photo")
@login_required
def held_photo(held_id: int):
    """The photo sent with a held request, for the desk to see before deciding."""
    return send_upload(holds.get_held(_user(), held_id).photo_path)


@bp.post("/held/<int:held_id>/reject")
@login_required
def reject(held_id: int):
    user = _user()
    held = holds.get_held(user, held_id)
    form = RejectForm()
    if not form.validate_on_submit():
        flash(_("Say why the request is rejected."), "danger")
        return redirect(url_for("channel_pages.index"))
    try:
        holds.reject(user, held, form.reason.data, current_app.config["UPLOAD_DIR"])
    except CallError as e:
        flash(e.message, "danger")
    else:
        flash(_("The request was rejected."), "success")
    return redirect(url_for("channel_pages.index"))


@bp.route("/requesters", methods=["GET", "POST"])
@login_required
def groups():
    user = _user()
    form = GroupForm()
    form.kind.choices = [(k.value, str(KIND_LABELS[k.value])) for k in GroupKind]
    form.psp_id.choices = [("", "—")] + [(str(p.id), p.name) for p in db.session.scalars(
        scoped(Psp, user).order_by(Psp.name))]
    status = 200
    if form.validate_on_submit():
        try:
            psp_id = request_int(request.form, "psp_id", minimum=1)
            group = requesters.create_group(user, form.kind.data, form.name.data, psp_id)
        except requesters.RequesterError as e:
            form[e.field].errors = [e.message] if e.field in form else None  # type: ignore[index]
            flash(e.message, "danger")
            status = 422
        else:
            return redirect(url_for("channel_pages.group", group_id=group.id))
    elif form.errors:
        status = 422
    return render_template("channels/groups.html", groups=requesters.list_groups(user), form=form,
                           kinds=KIND_LABELS), status


@bp.route("/requesters/<int:group_id>", methods=["GET", "POST"])
@login_required
def group(group_id: int):
    user = _user()
    grp = requesters.get_group(user, group_id)
    member_form, person_form = MemberForm(prefix="m"), PersonForm(prefix="p")
    status = 200
    action = request.form.get("action")
    try:
        if action == "merchant" and member_form.validate_on_submit():
            requesters.add_merchant(user, grp, member_form.merchant_code.data)
            return redirect(url_for("channel_pages.group", group_id=grp.id))
        if action == "person" and person_form.validate_on_submit():
            requesters.add_requester(user, grp, person_form.name.data, person_form.phone.data or "",
                                     person_form.email.data or "")
            return redirect(url_for("channel_pages.group", group_id=grp.id))
        if action == "remove_person":
            rid = request_int(request.form, "requester_id", minimum=1)
            if rid is None:
                abort(400)
            requesters.deactivate_requester(user, grp, rid)
            return redirect(url_for("channel_pages.group", group_id=grp.id))
        if action == "remove_merchant":
            mid = request_int(request.form, "merchant_id", minimum=1)
            if mid is None:
                abort(400)
            requesters.remove_merchant(user, grp, mid)
            return redirect(url_for("channel_pages.group", group_id=grp.id))
    except requesters.RequesterError as e:
        flash(e.message, "danger")
        status = 422
    if request.method == "POST" and (member_form.errors or person_form.errors):
        status = 422
    return render_template("channels/group.html", group=grp, member_form=member_form, person_form=person_form,
                           kinds=KIND_LABELS), status


@bp.route("/notify", methods=["GET", "POST"])
@login_required
def notify_by():
    user = _user()
    form = NotifyForm()
    form.notify_by.choices = [(n.value, str(NOTIFY_LABELS[n.value])) for n in NotifyBy]
    status = 200
    if form.validate_on_submit():
        merchant = db.session.scalars(scoped(Merchant, user).where(Merchant.code == form.merchant_code.data)).first()
        if merchant is None:
            form.merchant_code.errors = [_("No merchant with code %(code)s.", code=form.merchant_code.data)]
            status = 422
        else:
            try:
                sms.set_preference(user, merchant, form.notify_by.data, form.mobile.data or "")
            except requesters.RequesterError as e:
                flash(e.message, "danger")
                status = 422
            else:
                flash(_("%(name)s will be notified by: %(how)s.", name=merchant.name,
                        how=NOTIFY_LABELS[form.notify_by.data]), "success")
                return redirect(url_for("channel_pages.notify_by"))
    elif form.errors:
        status = 422
    return render_template("channels/notify.html", form=form), status
