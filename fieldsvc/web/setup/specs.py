"""What each master-data page lists and edits: columns and form fields per kind of record.

Forms are built from these specs (Flask-WTF); values typed in Persian digits are normalised, times
are HH:MM, dates Jalali on Persian pages, opening hours as in the import files.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Optional

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional as Opt, Regexp

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.master.opening_hours import OpeningHoursError, format_opening_hours, parse_opening_hours
from fieldsvc.visits.scope import scoped
from fieldsvc.web.forms import (JalaliDateField, NormalizingFloatField, NormalizingIntegerField, code_filter,
                                normalize_filter, phone_filter, text_filter)

HHMM = Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", message=_l("Use HH:MM, e.g. 08:30."))
WEEKDAYS = ("sat", "sun", "mon", "tue", "wed", "thu", "fri")


@dataclass(frozen=True)
class Field:
    """One form field: name (the model attribute), label, type, required, who sees it."""

    name: str
    label: Any
    kind: str = "text"
    required: bool = False
    admin_only: bool = False
    choices: Optional[Callable[[m.User], list[tuple[str, str]]]] = None
    help: Any = ""


def _psps(user: m.User) -> list[tuple[str, str]]:
    return [(str(p.id), f"{p.code} — {p.name}") for p in db.session.scalars(scoped(m.Psp, user).order_by(m.Psp.code))]


def _contractors(user: m.User) -> list[tuple[str, str]]:
    return [(str(c.id), f"{c.code} — {c.name}")
            for c in db.session.scalars(scoped(m.Contractor, user).where(m.Contractor.active.is_(True))
                                        .order_by(m.Contractor.code))]


def _regions(user: m.User) -> list[tuple[str, str]]:
    return [("", str(_l("By position (point in polygon)")))] + [
        (str(r.id), f"{r.code} — {r.name}") for r in db.session.scalars(scoped(m.Region, user).order_by(m.Region.code))]


def _fixed(pairs: list[tuple[str, Any]]) -> Callable[[m.User], list[tuple[str, str]]]:
    return lambda user: [(k, str(v)) for k, v in pairs]


LANGUAGE = _fixed([("fa", _l("Persian")), ("en", _l("English"))])
VEHICLE = _fixed([("motorbike", _l("Motorbike")), ("car", _l("Car"))])
STATUS = _fixed([("active", _l("Active")), ("faulty", _l("Faulty")), ("in_stock", _l("In stock")),
                 ("removed", _l("Removed"))])

_NAMES = [Field("code", _l("Code"), "code", True), Field("name", _l("Name"), "text", True),
          Field("name_fa", _l("Persian name"))]

FIELDS: dict[str, list[Field]] = {
    "psps": _NAMES,
    "contractors": _NAMES + [Field("email", _l("E-mail"), "ltr"), Field("phone", _l("Phone"), "phone"),
                             Field("depot_lat", _l("Depot latitude"), "float"),
                             Field("depot_lon", _l("Depot longitude"), "float")],
    "regions": _NAMES + [Field("geometry", _l("Area (GeoJSON polygon)"), "geojson",
                               help=_l("Paste a GeoJSON Polygon or upload a .geojson file; longitude first."))],
    "merchants": [Field("psp_id", _l("Payment company"), "select", True, True, _psps),
                  Field("code", _l("Code"), "code", True), Field("name", _l("Name"), "text", True),
                  Field("address", _l("Address")), Field("phone", _l("Phone"), "phone"),
                  Field("email", _l("E-mail"), "ltr"), Field("contact_name", _l("Contact person")),
                  Field("language", _l("Language"), "select", choices=LANGUAGE),
                  Field("lat", _l("Latitude"), "float", True), Field("lon", _l("Longitude"), "float", True),
                  Field("region_id", _l("Region"), "select", choices=_regions),
                  Field("opening_hours", _l("Opening hours"), "hours",
                        help=_l("For example: sat-thu 09:00-13:00,16:30-21:00; fri closed")),
                  Field("closed_dates", _l("Closed days"), "dates", help=_l("Dates separated by commas"))],
    "terminals": [Field("psp_id", _l("Payment company"), "select", True, True, _psps),
                  Field("serial", _l("Serial"), "code", True), Field("model", _l("Model"), "ltr", True),
                  Field("family", _l("Family"), "ltr", True, help=_l("pax, verifone, ingenico, …")),
                  Field("merchant_code", _l("Merchant code"), "code"),
                  Field("status", _l("Status"), "select", choices=STATUS),
                  Field("installed_on", _l("Installed on"), "date"), Field("last_pm_on", _l("Last PM"), "date")],
    "technicians": [Field("contractor_id", _l("Contractor"), "select", True, True, _contractors),
                    Field("code", _l("Code"), "code", True), Field("name", _l("Name"), "text", True),
                    Field("phone", _l("Phone"), "phone"),
                    Field("home_lat", _l("Home latitude"), "float", True),
                    Field("home_lon", _l("Home longitude"), "float", True),
                    Field("shift_start", _l("Shift starts"), "hhmm"), Field("shift_end", _l("Shift ends"), "hhmm"),
                    Field("break_start", _l("Break window from"), "hhmm"),
                    Field("break_end", _l("Break window to"), "hhmm"),
                    Field("break_minutes", _l("Break minutes"), "int"),
                    Field("skills", _l("Skills (terminal families)"), "list", help=_l("Separated by commas")),
                    Field("vehicle", _l("Vehicle"), "select", choices=VEHICLE),
                    Field("max_visits", _l("Most visits a day"), "int"),
                    Field("days_off", _l("Days off"), "list", help=_l("sat, sun, mon, tue, wed, thu, fri")),
                    Field("on_call", _l("On call"), "bool",
                          help=_l("Takes EM calls of 7×24 contracts outside the shift (evenings, days off, "
                                  "holidays) until the next shift starts."))],
}

#: Columns of the list pages: (attribute, label, sortable).
COLUMNS: dict[str, list[tuple[str, Any, bool]]] = {
    "psps": [("code", _l("Code"), True), ("name", _l("Name"), True), ("name_fa", _l("Persian name"), False)],
    "contractors": [("code", _l("Code"), True), ("name", _l("Name"), True), ("phone", _l("Phone"), False)],
    "regions": [("code", _l("Code"), True), ("name", _l("Name"), True)],
    "merchants": [("code", _l("Code"), True), ("name", _l("Name"), True), ("address", _l("Address"), False),
                  ("region_id", _l("Region"), True)],
    "terminals": [("serial", _l("Serial"), True), ("family", _l("Family"), True), ("status", _l("Status"), True)],
    "technicians": [("code", _l("Code"), True), ("name", _l("Name"), True), ("phone", _l("Phone"), False)],
}

TITLES = {"psps": _l("Payment companies"), "contractors": _l("Contractors"), "regions": _l("Regions"),
          "merchants": _l("Merchants"), "terminals": _l("Terminals"), "technicians": _l("Technicians")}


def _wtf_field(f: Field, user: m.User) -> Any:
    validators: list[Any] = [DataRequired()] if f.required else [Opt()]
    kw = {"description": f.help}
    if f.kind == "bool":
        return BooleanField(f.label, **kw)
    if f.kind == "select":
        choices = f.choices(user) if f.choices else []
        return SelectField(f.label, choices=choices, validators=[DataRequired()] if f.required else [], **kw)
    if f.kind == "float":
        return NormalizingFloatField(f.label, validators=validators, **kw)
    if f.kind == "int":
        return NormalizingIntegerField(f.label, validators=validators + [NumberRange(0, 1000)], **kw)
    if f.kind == "date":
        return JalaliDateField(f.label, validators=[Opt()], **kw)
    if f.kind == "hhmm":
        return StringField(f.label, filters=[normalize_filter], validators=[Opt(), HHMM], **kw)
    if f.kind == "geojson":
        return TextAreaField(f.label, validators=[Opt()], **kw)
    filters = {"code": [code_filter], "phone": [phone_filter], "ltr": [normalize_filter]}.get(f.kind, [text_filter])
    return StringField(f.label, filters=filters, validators=validators + [Length(max=400)], **kw)


def build_form(kind: str, user: m.User, obj: Any = None) -> FlaskForm:
    """The form of ``kind`` for ``user`` (admin-only fields left out for others), filled from ``obj``."""
    attrs: dict[str, Any] = {}
    for f in FIELDS[kind]:
        if f.admin_only and user.role != m.Role.ADMIN:
            continue
        attrs[f.name] = _wtf_field(f, user)
    if kind == "regions":
        attrs["geometry_file"] = FileField(_l("…or upload a .geojson file"))
    form_class = type(f"{kind.capitalize()}Form", (FlaskForm,), attrs)
    data = initial(kind, obj) if obj is not None else {}
    return form_class(data=data)


def initial(kind: str, obj: Any) -> dict[str, Any]:
    """Form values of an existing record."""
    out: dict[str, Any] = {}
    for f in FIELDS[kind]:
        if f.name == "merchant_code":
            out[f.name] = obj.merchant.code if getattr(obj, "merchant", None) else ""
            continue
        value = getattr(obj, f.name, None)
        if f.kind == "select":
            value = "" if value is None else str(value)
        elif f.kind == "hours":
            value = format_opening_hours(value) if value else ""
        elif f.kind in ("list", "dates"):
            value = ", ".join(value or [])
        elif f.kind == "geojson":
            value = json.dumps(value) if value else ""
        elif f.kind == "bool":
            value = bool(value)
        out[f.name] = value
    return out


class FormValueError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


def values(kind: str, form: FlaskForm, user: m.User) -> dict[str, Any]:
    """The service's data from a validated form (FormValueError naming a field otherwise)."""
    from fieldsvc.dates import parse_date_input
    from fieldsvc.web.i18n import lang

    out: dict[str, Any] = {}
    for f in FIELDS[kind]:
        if f.name not in form._fields:
            continue
        raw = form[f.name].data
        if f.kind == "bool":
            out[f.name] = bool(raw)
        elif f.kind == "select":
            if f.name.endswith("_id"):
                out[f.name] = int(raw) if raw else None
            elif raw:
                out[f.name] = raw
        elif f.kind == "hours":
            try:
                out[f.name] = parse_opening_hours(raw) if raw else {}
            except OpeningHoursError as e:
                raise FormValueError(f.name, str(e)) from None
        elif f.kind == "dates":
            try:
                out[f.name] = sorted({parse_date_input(p.strip(), lang()).isoformat()
                                      for p in (raw or "").replace("،", ",").split(",") if p.strip()})
            except ValueError as e:
                raise FormValueError(f.name, str(e)) from None
        elif f.kind == "list":
            out[f.name] = [p.strip().lower() for p in (raw or "").replace("،", ",").split(",") if p.strip()]
            if f.name == "days_off" and set(out[f.name]) - set(WEEKDAYS):
                raise FormValueError(f.name, str(_l("Use sat, sun, mon, tue, wed, thu or fri.")))
        elif f.kind == "geojson":
            upload = form._fields.get("geometry_file")
            if upload is not None and upload.data and getattr(upload.data, "filename", ""):
                raw = upload.data.read().decode("utf-8", errors="replace")
            if raw and raw.strip():
                out[f.name] = raw
        elif f.name == "merchant_code":
            if raw:
                psp_id = out.get("psp_id") or user.psp_id
                merchant = db.session.scalars(select(m.Merchant).where(m.Merchant.psp_id == psp_id,
                                                                       m.Merchant.code == raw)).first()
                if merchant is None:
                    raise FormValueError(f.name, str(_l("No merchant with this code at this payment company.")))
                out["merchant_id"] = merchant.id
        elif raw is not None and raw != "":
            out[f.name] = raw
        elif f.kind in ("text", "ltr", "phone") and not f.required:
            out[f.name] = ""
    return out
