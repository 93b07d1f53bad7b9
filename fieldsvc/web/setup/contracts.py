"""Contract pages: the list, a new contract from a preset, one contract with its versions and the
amendment form (new terms from a future date)."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.contracts import registry
from fieldsvc.visits.contracts.sla import Priority
from fieldsvc.visits.contracts.versions import (PRESETS, TermsError, amend, preset_terms, terms_of, today_local,
                                                version_in_force, versions_of)
from fieldsvc.visits.scope import get_scoped, require_role, scope_clause
from fieldsvc.web.ids import to_db_int
from fieldsvc.web.forms import JalaliDateField, NormalizingIntegerField, code_filter
from fieldsvc.web.setup import bp
from fieldsvc.web.setup.specs import _contractors, _psps

PRIORITY_LABELS = {"critical": _l("Critical"), "urgent": _l("Urgent"), "normal": _l("Normal")}
CLOCKS = (("first_response_minutes", _l("First response (minutes)")), ("response_minutes", _l("On site (minutes)")),
          ("resolution_minutes", _l("Fix (minutes)")))
PENALTIES = (("late_response_per_hour", _l("Late on site, per started hour (Rial)")),
             ("late_resolution_per_hour", _l("Late fix, per started hour (Rial)")),
             ("missed_pm", _l("Missed PM (Rial)")), ("late_pm_per_day", _l("Late PM, per day (Rial)")),
             ("late_install_per_day", _l("Late installation, per day (Rial)")),
             ("ticket_cap", _l("Cap per call (Rial)")), ("monthly_cap", _l("Cap per month (Rial)")))
PRESET_LABELS = {"business_hours": _l("Business hours (Iranian week and holidays)"),
                 "24x7": _l("7×24: response 1 h, on site 2 h, fix 4 h")}


def _number(label: Any) -> NormalizingIntegerField:
    return NormalizingIntegerField(label, validators=[Optional(), NumberRange(0, 10**12)])


class TermsForm(FlaskForm):
    """The terms of a version: blank fields keep the preset's (new contract) or the current value."""

    calendar_mode = SelectField(_l("Calendar"), choices=[("", "—"), ("business", _l("Business hours")),
                                                         ("24x7", _l("Round the clock (7×24)"))],
                                validate_choice=False)  # blank or unknown: the calendar stays as it is
    pm_interval_days = _number(_l("PM every (days)"))
    pm_tolerance_days = _number(_l("PM tolerance (± days)"))
    auto_close_days = _number(_l("Close resolved calls after (days)"))
    reopen_days = _number(_l("The merchant may reopen a call for (days)"))
    require_confirmation_code = BooleanField(_l("The merchant's confirmation code is required"))


for _p in Priority:
    for _key, _label in CLOCKS:
        setattr(TermsForm, f"{_p.value}__{_key}", _number(_label))
for _key, _label in PENALTIES:
    setattr(TermsForm, f"pen__{_key}", _number(_label))


class ContractForm(TermsForm):
    code = StringField(_l("Code"), filters=[code_filter], validators=[DataRequired(), Length(max=32)])
    psp_id = SelectField(_l("Payment company"))
    contractor_id = SelectField(_l("Contractor"), validators=[DataRequired()])
    kind = SelectField(_l("Kind"), choices=[("uc", _l("Contractor (UC)")), ("ola", _l("Internal team (OLA)"))])
    help_desk = SelectField(_l("First-line help desk"), choices=[("psp", _l("The payment company's help desk")),
                                                                 ("contractor", _l("The contractor's help desk"))],
                            default="psp")
    valid_from = JalaliDateField(_l("Starts on"), validators=[DataRequired()])
    valid_to = JalaliDateField(_l("Ends on"), validators=[Optional()])
    region_ids = SelectMultipleField(_l("Regions covered"), coerce=int)
    preset = SelectField(_l("Start from"), choices=[(k, v) for k, v in PRESET_LABELS.items()])


class AmendForm(TermsForm):
    effective_from = JalaliDateField(_l("New terms from"), validators=[DataRequired()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=1000)])


def _changes(form: TermsForm, base: dict[str, Any]) -> dict[str, Any]:
    """Terms changed by the form over ``base`` (blank fields keep the base value)."""
    out: dict[str, Any] = {}
    targets = {k: (dict(v) if isinstance(v, dict) else v) for k, v in base["em_targets"].items()}
    for p in Priority:
        for key, _label in CLOCKS:
            value = form[f"{p.value}__{key}"].data
            if value is not None:
                targets[p.value][key] = value
    if targets != base["em_targets"]:
        out["em_targets"] = targets
    penalties = dict(base["penalty_terms"])
    for key, _label in PENALTIES:
        value = form[f"pen__{key}"].data
        if value is not None:
            penalties[key] = value
    if penalties != base["penalty_terms"]:
        out["penalty_terms"] = penalties
    for key in ("pm_interval_days", "pm_tolerance_days", "auto_close_days", "reopen_days"):
        if form[key].data is not None:
            out[key] = form[key].data
    if form.calendar_mode.data in ("business", "24x7"):
        out["calendar"] = preset_terms("24x7" if form.calendar_mode.data == "24x7" else "business_hours")["calendar"]
    if form.require_confirmation_code.data != base["require_confirmation_code"]:
        out["require_confirmation_code"] = bool(form.require_confirmation_code.data)
    return out


def _fill(form: TermsForm, terms: dict[str, Any]) -> None:
    """Show ``terms`` in an unsubmitted form."""
    for p in Priority:
        for key, _label in CLOCKS:
            form[f"{p.value}__{key}"].data = terms["em_targets"].get(p.value, {}).get(key)
    for key, _label in PENALTIES:
        form[f"pen__{key}"].data = terms["penalty_terms"].get(key)
    for key in ("pm_interval_days", "pm_tolerance_days", "auto_close_days", "reopen_days"):
        form[key].data = terms[key]
    form.require_confirmation_code.data = terms["require_confirmation_code"]
    form.calendar_mode.data = (terms.get("calendar") or {}).get("mode", "business")


def _field_of(e: TermsError) -> str:
    """The form field of a TermsError path (em_targets.urgent.resolution_minutes → urgent__resolution_minutes)."""
    parts = e.field.split(".")
    if parts[0] == "em_targets" and len(parts) == 3:
        return f"{parts[1]}__{parts[2]}"
    if parts[0] == "penalty_terms" and len(parts) == 2:
        return f"pen__{parts[1]}"
    if parts[0] == "calendar":
        return "calendar_mode"
    return parts[0]


def _show_error(form: FlaskForm, e: TermsError) -> None:
    target = form._fields.get(_field_of(e))
    if target is not None:
        target.errors = list(target.errors) + [e.message]
    else:
        flash(f"{e.field}: {e.message}", "danger")


@bp.get("/contracts")
@login_required
def contracts_list():
    """Contracts in the user's scope with the terms in force today."""
    require_role(current_user, "admin", "psp", "dispatcher")
    rows = db.session.scalars(select(m.Contract).where(scope_clause(m.Contract, current_user))
                              .order_by(m.Contract.active.desc(), m.Contract.code)).all()
    today = today_local()
    return render_template("setup/contracts.html", rows=[(c, version_in_force(c, today)) for c in rows],
                           may_write=current_user.role in registry.WRITERS)


@bp.route("/contracts/new", methods=["GET", "POST"])
@login_required
def contracts_new():
    """A new contract from a preset; every value may be changed before saving."""
    require_role(current_user, *registry.WRITERS)
    form = ContractForm()
    form.psp_id.choices = _psps(current_user)
    form.contractor_id.choices = _contractors(current_user)
    form.region_ids.choices = [(r.id, f"{r.code} — {r.name}") for r in db.session.scalars(
        select(m.Region).where(m.Region.active.is_(True)).order_by(m.Region.code))]
    if current_user.role != m.Role.ADMIN:
        del form.psp_id
    status = 200
    if request.method == "GET":
        _fill(form, preset_terms(request.args.get("preset", "business_hours")
                                 if request.args.get("preset") in PRESETS else "business_hours"))
    elif form.validate_on_submit():
        preset = form.preset.data
        data = {"code": form.code.data, "contractor_id": to_db_int(form.contractor_id.data), "kind": form.kind.data,
                "help_desk": form.help_desk.data,
                "valid_from": form.valid_from.data, "valid_to": form.valid_to.data, "region_ids": form.region_ids.data,
                "preset": preset, "psp_id": to_db_int(form.psp_id.data) if "psp_id" in form._fields else None}
        try:
            data["terms"] = _changes(form, preset_terms(preset))
            contract = registry.create_contract(current_user, data)
            flash(_("Contract %(code)s saved.", code=contract.code), "success")
            return redirect(url_for("setup.contracts_show", contract_id=contract.id))
        except TermsError as e:
            db.session.rollback()
            _show_error(form, e)
        status = 422
    else:
        status = 422
    return render_template("setup/contract_form.html", form=form, contract=None,
                           priorities=[(p.value, PRIORITY_LABELS[p.value]) for p in Priority],
                           clocks=CLOCKS, penalties=PENALTIES), status


@bp.route("/contracts/<int:contract_id>", methods=["GET", "POST"])
@login_required
def contracts_show(contract_id: int):
    """One contract: its versions, and the amendment form (writers only)."""
    require_role(current_user, "admin", "psp", "dispatcher")
    contract = get_scoped(m.Contract, contract_id, current_user)
    may_write = current_user.role in registry.WRITERS
    form = AmendForm()
    current = version_in_force(contract, today_local())
    status = 200
    if request.method == "POST":
        require_role(current_user, *registry.WRITERS)
        if form.validate_on_submit():
            try:
                last = versions_of(contract)[-1]
                version = amend(contract, form.effective_from.data, _changes(form, terms_of(last)), current_user,
                                form.note.data or "")
                flash(_("Version %(number)s saved: in force from %(day)s.", number=version.number,
                        day=form.effective_from._value()), "success")
                return redirect(url_for("setup.contracts_show", contract_id=contract.id))
            except TermsError as e:
                db.session.rollback()
                _show_error(form, e)
        status = 422
    else:
        _fill(form, terms_of(versions_of(contract)[-1]))
    return render_template("setup/contract_show.html", contract=contract, versions=versions_of(contract),
                           current=current, form=form, may_write=may_write,
                           priorities=[(p.value, PRIORITY_LABELS[p.value]) for p in Priority],
                           clocks=CLOCKS, penalties=PENALTIES), status


@bp.post("/contracts/<int:contract_id>/deactivate")
@login_required
def contracts_deactivate(contract_id: int):
    """No new calls or PM visits go to the contract; its history stays."""
    require_role(current_user, *registry.WRITERS)
    contract = get_scoped(m.Contract, contract_id, current_user)
    registry.update_contract(current_user, contract, {"active": False})
    flash(_("%(what)s is no longer in use; its history is kept.", what=contract.code), "success")
    return redirect(url_for("setup.contracts_list"))
