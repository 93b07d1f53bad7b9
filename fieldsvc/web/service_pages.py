"""Pages of issue 23 for PSP staff: splitting a call and turning an installation request into a
work order (forms on the call page), monitoring rules and the latest terminal events
(`/psp/service/monitoring`), service tiers and terminal phases (`/psp/service/tiers`) and calls per
service phase (`/psp/service/phases`). Rules live in fieldsvc.visits (desk.ticket_types,
desk.terminal_events, contracts.service_tiers, scorecards.service_phases)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from fieldsvc.db import db
from fieldsvc.text import normalize_code
from fieldsvc.visits import models as m
from fieldsvc.visits.contracts import service_tiers as tiers
from fieldsvc.visits.desk import calls as svc
from fieldsvc.visits.desk import terminal_events as ev
from fieldsvc.visits.desk import ticket_types as tt
from fieldsvc.visits.desk.call_targets import ticket_type_of
from fieldsvc.visits.scope import get_scoped, require_role, scoped
from fieldsvc.visits.scorecards.service_phases import phase_report
from fieldsvc.visits.service_models import MerchantTier, ServiceTier, TerminalEvent
from fieldsvc.web.forms import code_filter, text_filter
from fieldsvc.web.ids import request_int, to_db_int
from fieldsvc.web.nav import add_nav

bp = Blueprint("service_pages", __name__, url_prefix="/psp/service")

R = m.Role
EDIT_ROLES = (R.PSP, R.ADMIN)
PHASE_LABELS: dict[str, Any] = {"warranty": _l("Warranty (free maintenance)"), "paid": _l("Paid maintenance"),
                                "none": _l("No phase recorded")}

add_nav(lambda: _("Monitoring"), "service_pages.monitoring", {R.PSP, R.ADMIN}, "/psp/service/monitoring")
add_nav(lambda: _("Tiers and phases"), "service_pages.tiers_page", {R.PSP, R.ADMIN}, "/psp/service/tiers")
add_nav(lambda: _("Calls per phase"), "service_pages.phases", {R.PSP, R.ADMIN, R.DISPATCHER}, "/psp/service/phases")


def _user() -> m.User:
    return current_user._get_current_object()


@bp.app_template_global("call_ticket")
def call_ticket(call: m.ServiceCall) -> dict[str, Any]:
    """What the call page shows about the call's type, phase, tier and links."""
    p = getattr(call, "profile", None)
    kind = ticket_type_of(call)
    phase = p.service_phase if p is not None else "none"
    event = db.session.get(TerminalEvent, p.event_id) if p is not None and p.event_id else None
    return {"type": kind, "type_label": tt.TICKET_TYPES.get(kind, kind), "phase": phase,
            "phase_label": PHASE_LABELS.get(phase, phase), "tier": p.tier_code if p is not None else "",
            "split_from": tt.split_from(call), "split_into": tt.split_into(call),
            "work_order": p.work_order if p is not None else None, "event": event}


# --------------------------------------------------------------------------- call page forms


def _call(call_id: int) -> m.ServiceCall:
    user = _user()
    require_role(user, *EDIT_ROLES)
    return get_scoped(m.ServiceCall, call_id, user)


@bp.post("/calls/<int:call_id>/split")
@login_required
def split(call_id: int):
    """Split the faults chosen on the call page off into linked calls."""
    call = _call(call_id)  # CSRF: checked app-wide by CSRFProtect
    parts = [{"symptom": s} for s in request.form.getlist("symptom") if s]
    try:
        new = tt.split_call(call, parts, _user())
    except svc.CallError as e:
        flash(e.message, "error")
    else:
        flash(_("Split into %(numbers)s.", numbers=", ".join(c.tracking_number for c in new)), "success")
    return redirect(url_for("psp_calls.show", call_id=call.id))


@bp.post("/calls/<int:call_id>/work-order")
@login_required
def to_order(call_id: int):
    """An installation request becomes a work order."""
    call = _call(call_id)  # CSRF: checked app-wide by CSRFProtect
    try:
        order = tt.convert_to_order(call, _user(), model=request.form.get("model", ""),
                                    family=request.form.get("family", ""))
    except svc.CallError as e:
        flash(e.message, "error")
    else:
        flash(_("Work order %(number)s created from this request.", number=order.number), "success")
    return redirect(url_for("psp_calls.show", call_id=call.id))


# --------------------------------------------------------------------------- monitoring rules


class RuleForm(FlaskForm):
    kind = SelectField(_l("Event"), choices=[], validators=[DataRequired()])
    code = StringField(_l("Error code (empty: any)"), filters=[code_filter], validators=[Optional(), Length(max=32)])
    priority = SelectField(_l("Priority"), choices=[], validators=[DataRequired()])
    symptom = SelectField(_l("Symptom"), choices=[], validators=[DataRequired()])
    throttle_minutes = IntegerField(_l("At most one call per terminal every (minutes)"), default=240,
                                    validators=[DataRequired(), NumberRange(0, 43_200)])
    silent_hours = IntegerField(_l("Silent for (business hours; silent terminals only)"),
                                validators=[Optional(), NumberRange(1, 720)])
    active = BooleanField(_l("Active"), default=True)

    def fill(self) -> None:
        self.kind.choices = [(k, str(ev.KIND_LABELS[k])) for k in ev.RULE_KINDS]
        self.priority.choices = [(k, str(v)) for k, v in svc.PRIORITIES.items()]
        self.symptom.choices = [(k, str(v)) for k, v in svc.SYMPTOMS.items()]


def _rule_data(form: RuleForm) -> dict[str, Any]:
    return {"kind": form.kind.data, "code": form.code.data or "", "priority": form.priority.data,
            "symptom": form.symptom.data, "throttle_minutes": form.throttle_minutes.data,
            "silent_hours": form.silent_hours.data, "active": bool(form.active.data)}


@bp.route("/monitoring", methods=["GET", "POST"])
@login_required
def monitoring():
    """The PSP's rules (add one; edit one with ?rule=ID) and the latest events received."""
    user = _user()
    require_role(user, *EDIT_ROLES)
    editing = None
    rule_id = request_int(request.args, "rule")
    if rule_id is not None:
        editing = ev.get_rule(user, rule_id)
    form = RuleForm(obj=None)
    form.fill()
    if request.method == "GET" and editing is not None:
        form.kind.data, form.code.data, form.priority.data = editing.kind, editing.code, editing.priority
        form.symptom.data, form.throttle_minutes.data = editing.symptom_code, editing.throttle_minutes
        form.silent_hours.data, form.active.data = editing.silent_hours, editing.active
    error_field = None
    if form.validate_on_submit():
        try:
            if editing is None:
                if user.role == R.ADMIN:
                    raise ev.EventError("psp_id", _("Administrators add rules through the API (give psp_id)."))
                ev.create_rule(user, _rule_data(form))
                flash(_("Rule added."), "success")
            else:
                ev.update_rule(user, editing, _rule_data(form))
                flash(_("Rule saved."), "success")
            return redirect(url_for("service_pages.monitoring"))
        except ev.EventError as e:
            db.session.rollback()
            error_field = e.field
            getattr(form, "symptom" if e.field == "symptom" else e.field, form.code).errors = [e.message]
    status = 422 if (form.errors or error_field) else 200
    outcome = request.args.get("outcome") if request.args.get("outcome") in ev.OUTCOME_LABELS else None
    return render_template("service/monitoring.html", form=form, rules=ev.list_rules(user), editing=editing,
                           events=ev.recent_events(user, 50, outcome), outcome=outcome, svc=svc, ev=ev), status


# --------------------------------------------------------------------------- tiers and phases


class TierForm(FlaskForm):
    code = StringField(_l("Code"), filters=[code_filter], validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("Name"), filters=[text_filter], validators=[DataRequired(), Length(max=120)])
    critical_response = IntegerField(_l("Critical: on site within (minutes)"), validators=[Optional(), NumberRange(1, 525_600)])
    critical_resolution = IntegerField(_l("Critical: fixed within (minutes)"), validators=[Optional(), NumberRange(1, 525_600)])
    urgent_response = IntegerField(_l("Urgent: on site within (minutes)"), validators=[Optional(), NumberRange(1, 525_600)])
    urgent_resolution = IntegerField(_l("Urgent: fixed within (minutes)"), validators=[Optional(), NumberRange(1, 525_600)])
    normal_response = IntegerField(_l("Normal: on site within (minutes)"), validators=[Optional(), NumberRange(1, 525_600)])
    normal_resolution = IntegerField(_l("Normal: fixed within (minutes)"), validators=[Optional(), NumberRange(1, 525_600)])


class MerchantTierForm(FlaskForm):
    merchant = StringField(_l("Merchant code"), filters=[code_filter], validators=[DataRequired(), Length(max=32)])
    tier = SelectField(_l("Tier"), choices=[], validators=[Optional()])


class PhasesForm(FlaskForm):
    serial = StringField(_l("Terminal serial"), filters=[code_filter], validators=[DataRequired(), Length(max=64)])
    warranty_from = StringField(_l("Warranty from"), filters=[text_filter], validators=[Optional(), Length(max=12)])
    warranty_to = StringField(_l("Warranty until"), filters=[text_filter], validators=[Optional(), Length(max=12)])
    paid_from = StringField(_l("Paid maintenance from"), filters=[text_filter], validators=[Optional(), Length(max=12)])
    paid_to = StringField(_l("Paid maintenance until (empty: open)"), filters=[text_filter],
                          validators=[Optional(), Length(max=12)])
    note = TextAreaField(validators=[Optional()])


def _tier_targets(form: TierForm) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for prio in ("critical", "urgent", "normal"):
        for clock, attr in (("response_minutes", "response"), ("resolution_minutes", "resolution")):
            value = getattr(form, f"{prio}_{attr}").data
            if value:
                out.setdefault(prio, {})[clock] = value
    return out


def _form_field(form: FlaskForm, path: str) -> Any:
    """The form field a service error path names (em_targets.urgent.response_minutes → urgent_response)."""
    parts = path.split(".")
    if parts[0] == "em_targets":
        if len(parts) == 3:
            return getattr(form, f"{parts[1]}_{parts[2].removesuffix('_minutes')}", None)
        return getattr(form, "critical_response", None)
    return getattr(form, {"tier_id": "tier", "merchant_id": "merchant", "terminal_id": "serial"}.get(parts[0], parts[0]),
                   None)


def _date(text: str | None, field: str) -> Any:
    from fieldsvc.dates import parse_date_input
    from fieldsvc.web.i18n import lang

    if not text:
        return None
    try:
        return parse_date_input(text, lang())
    except ValueError as e:
        raise tiers.TierError(field, str(e)) from None


def _show_error(form: FlaskForm, action: str, path: str, message: str, phases: list[dict[str, Any]]) -> None:
    """Put a service error under the form field it names."""
    target = None
    if path.startswith("phases[") and action == "phases":
        i = int(path[len("phases["):path.index("]")])
        ph = phases[i]["phase"] if i < len(phases) else "warranty"
        target = getattr(form, f"{ph}_to" if path.endswith("ends_on") else f"{ph}_from")
    if target is None:
        target = _form_field(form, path)
    if target is None:
        target = {"tier": getattr(form, "code", None), "merchant": getattr(form, "merchant", None),
                  "phases": getattr(form, "serial", None)}[action]
    target.errors = list(target.errors) + [message]


@bp.route("/tiers", methods=["GET", "POST"])
@login_required
def tiers_page():
    """Tiers (add), a merchant's tier, a terminal's warranty and paid phases."""
    user = _user()
    require_role(user, *EDIT_ROLES)
    tier_form, merchant_form, phases_form = TierForm(prefix="t"), MerchantTierForm(prefix="mt"), PhasesForm(prefix="ph")
    merchant_form.tier.choices = [("", _("— no tier —"))] + [(str(t.id), f"{t.name} ({t.code})")
                                                             for t in tiers.list_tiers(user) if t.active]
    action = request.form.get("action")
    status = 200
    if request.method == "POST":
        form = {"tier": tier_form, "merchant": merchant_form, "phases": phases_form}.get(action)
        if form is None or not form.validate_on_submit():
            status = 422
        else:
            try:
                if action == "tier":
                    if user.role == R.ADMIN:
                        raise tiers.TierError("code", _("Administrators add tiers through the API (give psp_id)."))
                    tiers.create_tier(user, {"code": tier_form.code.data, "name": tier_form.name.data,
                                             "em_targets": _tier_targets(tier_form)})
                    flash(_("Tier added."), "success")
                elif action == "merchant":
                    code = normalize_code(merchant_form.merchant.data).lower()
                    merchant = db.session.scalars(scoped(m.Merchant, user).where(
                        func.lower(m.Merchant.code) == code)).first()
                    if merchant is None:
                        raise tiers.TierError("merchant", _("No merchant with code %(code)s among yours.", code=code))
                    tiers.set_merchant_tier(user, merchant.id,
                                            to_db_int(merchant_form.tier.data) if merchant_form.tier.data else None)
                    flash(_("Tier of %(name)s saved.", name=merchant.name), "success")
                else:
                    serial = normalize_code(phases_form.serial.data)
                    terminal = db.session.scalars(scoped(m.Terminal, user).where(m.Terminal.serial == serial)).first()
                    if terminal is None:
                        raise tiers.TierError("serial", _("No terminal with serial %(serial)s among yours.", serial=serial))
                    phases = []
                    for ph, a, b in (("warranty", "warranty_from", "warranty_to"), ("paid", "paid_from", "paid_to")):
                        start = _date(getattr(phases_form, a).data, a)
                        end = _date(getattr(phases_form, b).data, b)
                        if start is None and end is not None:
                            raise tiers.TierError(a, _("Give the first day of this phase."))
                        if start is not None:
                            phases.append({"phase": ph, "starts_on": start, "ends_on": end})
                    tiers.set_phases(user, terminal.id, phases)
                    flash(_("Phases of %(serial)s saved.", serial=serial), "success")
                return redirect(url_for("service_pages.tiers_page"))
            except tiers.TierError as e:
                db.session.rollback()
                status = 422
                _show_error(form, action, e.field, e.message, locals().get("phases") or [])
    members = dict(db.session.execute(select(ServiceTier.id, func.count(MerchantTier.merchant_id))
                                      .join(MerchantTier, MerchantTier.tier_id == ServiceTier.id)
                                      .group_by(ServiceTier.id)).all())
    return render_template("service/tiers.html", tiers=tiers.list_tiers(user), members=members, tier_form=tier_form,
                           merchant_form=merchant_form, phases_form=phases_form, action=action), status


# --------------------------------------------------------------------------- calls per phase


@bp.get("/phases")
@login_required
def phases():
    """Calls of the period per contractor, service phase and ticket type."""
    from fieldsvc.web.psp.views import _ctx, _period

    user = _user()
    require_role(user, R.PSP, R.ADMIN, R.DISPATCHER)
    start, end = _period()
    report = phase_report(start, end, user=user)
    return render_template("service/phases.html", report=report, totals=report.totals(), phase_labels=PHASE_LABELS,
                           type_labels=tt.TICKET_TYPES, **_ctx(start, end))
