"""Master data API under /api/v1: psps, contractors, regions, merchants, terminals, technicians,
users and contracts (with their versions). Each has a list (search `q`, `sort`, `page`,
`per_page`, `active`), create (POST), read (GET /<id>), update (PATCH /<id>) and deactivate
(DELETE /<id>: nothing is ever deleted). Rules live in `fieldsvc.visits.master.records`,
`fieldsvc.visits.master.users` and `fieldsvc.visits.contracts`.
"""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_login import current_user, login_required
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.contracts import registry
from fieldsvc.visits.contracts.versions import PRESETS, TermsError, amend, terms_of, version_in_force, versions_of
from fieldsvc.visits.master import records as rec
from fieldsvc.visits.master import users as accounts
from fieldsvc.visits.scope import NotFound, get_scoped, require_role
from fieldsvc.web.errors import ApiError
from fieldsvc.web.ids import DbInt

blp = Blueprint("master_api", __name__, url_prefix="/api/v1",
                description="Master data: PSPs, contractors, regions, merchants, terminals, technicians, users, "
                            "contracts and their versions")

HHMM = validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error="use HH:MM, e.g. 08:30")
_code = {"validate": validate.Length(1, 32)}
_name = {"validate": validate.Length(1, 200)}


class ListArgs(Schema):
    q = fields.String(load_default="", validate=validate.Length(max=100), metadata={"description": "search text"})
    sort = fields.String(load_default="id", validate=validate.Length(max=40),
                         metadata={"description": "a column; '-' first to reverse"})
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(1, rec.PAGE_MAX))
    active = fields.Boolean(load_default=None, allow_none=True, metadata={"description": "only (in)active"})


def _page(items: list[Any], total: int, args: dict[str, Any]) -> dict[str, Any]:
    return {"items": items, "total": total, "page": args["page"], "per_page": args["per_page"]}


# --------------------------------------------------------------------------- schemas


class PspIn(Schema):
    code = fields.String(required=True, **_code)
    name = fields.String(required=True, **_name)
    name_fa = fields.String(validate=validate.Length(max=200))
    active = fields.Boolean()


class PspOut(Schema):
    id = DbInt()
    code = fields.String()
    name = fields.String()
    name_fa = fields.String()
    active = fields.Boolean()


class ContractorIn(PspIn):
    email = fields.Email(validate=validate.Length(max=200))
    phone = fields.String(validate=validate.Length(max=32))
    depot_lat = fields.Float(allow_none=True, validate=validate.Range(-90, 90))
    depot_lon = fields.Float(allow_none=True, validate=validate.Range(-180, 180))


class ContractorOut(PspOut):
    email = fields.String()
    phone = fields.String()
    depot_lat = fields.Float(allow_none=True)
    depot_lon = fields.Float(allow_none=True)


class RegionIn(PspIn):
    geometry = fields.Raw(allow_none=True, metadata={"description": "GeoJSON Polygon or MultiPolygon (lon, lat)",
                                                     "type": "object"})


class RegionOut(PspOut):
    center_lat = fields.Float(allow_none=True)
    center_lon = fields.Float(allow_none=True)
    geometry = fields.Dict(allow_none=True)


class MerchantIn(Schema):
    psp_id = DbInt(metadata={"description": "admins only; PSP staff create for their own PSP"})
    code = fields.String(required=True, **_code)
    name = fields.String(required=True, **_name)
    address = fields.String(validate=validate.Length(max=400))
    phone = fields.String(validate=validate.Length(max=32))
    email = fields.Email(validate=validate.Length(max=200))
    contact_name = fields.String(validate=validate.Length(max=200))
    language = fields.String(validate=validate.OneOf(["fa", "en"]))
    lat = fields.Float(required=True, validate=validate.Range(-90, 90))
    lon = fields.Float(required=True, validate=validate.Range(-180, 180))
    region_id = DbInt(allow_none=True, metadata={"description": "blank: the region containing the point"})
    opening_hours = fields.Dict(keys=fields.String(validate=validate.OneOf(
        ["sat", "sun", "mon", "tue", "wed", "thu", "fri"])), values=fields.List(fields.List(
            fields.String(validate=HHMM), validate=validate.Length(2, 2))))
    closed_dates = fields.List(fields.Date())
    active = fields.Boolean()


class MerchantOut(Schema):
    id = DbInt()
    psp_id = DbInt()
    region_id = DbInt(allow_none=True)
    code = fields.String()
    name = fields.String()
    address = fields.String()
    phone = fields.String()
    email = fields.String()
    contact_name = fields.String()
    language = fields.String()
    lat = fields.Float()
    lon = fields.Float()
    opening_hours = fields.Dict()
    closed_dates = fields.List(fields.String())
    active = fields.Boolean()


class TerminalIn(Schema):
    psp_id = DbInt()
    serial = fields.String(required=True, validate=validate.Length(1, 64))
    model = fields.String(required=True, validate=validate.Length(1, 64))
    family = fields.String(required=True, validate=validate.Length(1, 32))
    merchant_id = DbInt(allow_none=True)
    status = fields.String(validate=validate.OneOf([s.value for s in m.TerminalStatus]))
    installed_on = fields.Date(allow_none=True)
    last_pm_on = fields.Date(allow_none=True)


class TerminalOut(Schema):
    id = DbInt()
    psp_id = DbInt()
    merchant_id = DbInt(allow_none=True)
    serial = fields.String()
    model = fields.String()
    family = fields.String()
    status = fields.String()
    installed_on = fields.Date(allow_none=True)
    last_pm_on = fields.Date(allow_none=True)


class TechnicianIn(Schema):
    contractor_id = DbInt(metadata={"description": "admins only; dispatchers add to their contractor"})
    code = fields.String(required=True, **_code)
    name = fields.String(required=True, **_name)
    phone = fields.String(validate=validate.Length(max=32))
    home_lat = fields.Float(required=True, validate=validate.Range(-90, 90))
    home_lon = fields.Float(required=True, validate=validate.Range(-180, 180))
    shift_start = fields.String(validate=HHMM)
    shift_end = fields.String(validate=HHMM)
    break_start = fields.String(validate=HHMM)
    break_end = fields.String(validate=HHMM)
    break_minutes = fields.Integer(validate=validate.Range(0, 240))
    skills = fields.List(fields.String(validate=validate.Length(1, 32)), validate=validate.Length(max=30))
    vehicle = fields.String(validate=validate.OneOf([v.value for v in m.Vehicle]))
    max_visits = fields.Integer(validate=validate.Range(1, 60))
    days_off = fields.List(fields.String(validate=validate.OneOf(["sat", "sun", "mon", "tue", "wed", "thu", "fri"])))
    active = fields.Boolean()
    on_call = fields.Boolean(metadata={"description": "takes EM calls of 7x24 contracts outside the shift"})


class TechnicianOut(Schema):
    id = DbInt()
    contractor_id = DbInt()
    code = fields.String()
    name = fields.String()
    phone = fields.String()
    home_lat = fields.Float()
    home_lon = fields.Float()
    shift_start = fields.String()
    shift_end = fields.String()
    break_start = fields.String()
    break_end = fields.String()
    break_minutes = fields.Integer(validate=validate.Range(0, 1_000_000))
    skills = fields.List(fields.String())
    vehicle = fields.String()
    max_visits = fields.Integer(validate=validate.Range(0, 1_000_000))
    days_off = fields.List(fields.String())
    active = fields.Boolean()
    on_call = fields.Boolean()


SCHEMAS = {"psps": (PspIn, PspOut), "contractors": (ContractorIn, ContractorOut), "regions": (RegionIn, RegionOut),
           "merchants": (MerchantIn, MerchantOut), "terminals": (TerminalIn, TerminalOut),
           "technicians": (TechnicianIn, TechnicianOut)}


def _record_error(e: rec.RecordError | TermsError | accounts.UserError) -> ApiError:
    status = getattr(e, "status", 422)
    message = f"{e.field}: {e.message}" if e.field else e.message
    return ApiError(status, "conflict" if status == 409 else "invalid", message, e.field)


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    if "closed_dates" in data:
        data["closed_dates"] = [d.isoformat() for d in data["closed_dates"]]
    return data


def _make_views(name: str) -> None:
    kind = rec.KINDS[name]
    schema_in, schema_out = SCHEMAS[name]
    schema_patch = type(f"{schema_in.__name__[:-2]}Patch", (schema_in,), {})
    page_schema = type(f"{schema_out.__name__}Page", (Schema,), {
        "items": fields.List(fields.Nested(schema_out)), "total": fields.Integer(), "page": fields.Integer(),
        "per_page": fields.Integer()})

    @login_required
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, page_schema)
    def get_list(self, args):
        require_role(current_user, "admin", "psp", "dispatcher")
        try:
            items, total = rec.list_records(kind, current_user, q=args["q"], sort=args["sort"], page=args["page"],
                                            per_page=args["per_page"], active=args["active"])
        except rec.RecordError as e:
            raise _record_error(e) from None
        return _page(items, total, args)

    @login_required
    @blp.arguments(schema_in)
    @blp.response(201, schema_out)
    def post(self, data):
        require_role(current_user, *kind.writers)
        try:
            return rec.create_record(kind, current_user, _jsonable(data))
        except rec.RecordError as e:
            db.session.rollback()
            raise _record_error(e) from None

    @login_required
    @blp.response(200, schema_out)
    def get_one(self, record_id):
        require_role(current_user, "admin", "psp", "dispatcher")
        return rec.get_record(kind, record_id, current_user)

    @login_required
    @blp.arguments(schema_patch(partial=True))
    @blp.response(200, schema_out)
    def patch(self, data, record_id):
        require_role(current_user, *kind.writers)
        obj = rec.get_record(kind, record_id, current_user)
        try:
            return rec.update_record(kind, obj, current_user, _jsonable(data))
        except rec.RecordError as e:
            db.session.rollback()
            raise _record_error(e) from None

    @login_required
    @blp.response(200, schema_out)
    def delete(self, record_id):
        require_role(current_user, *kind.writers)
        obj = rec.get_record(kind, record_id, current_user)
        return rec.deactivate_record(kind, obj, current_user)

    label = name[:-1].capitalize()
    collection = type(f"{label}List", (MethodView,), {"get": get_list, "post": post,
                                                       "__doc__": f"{name}: list and create"})
    item = type(f"{label}Item", (MethodView,), {"get": get_one, "patch": patch, "delete": delete,
                                                 "__doc__": f"one of the {name}: read, update, deactivate"})
    blp.route(f"/{name}")(collection)
    blp.route(f"/{name}/<int:record_id>")(item)


for _name_ in rec.KINDS:
    _make_views(_name_)


# --------------------------------------------------------------------------- users


class UserIn(Schema):
    username = fields.String(required=True, validate=validate.Length(1, 80))
    password = fields.String(required=True, load_only=True, validate=validate.Length(1, 200),
                             metadata={"description": "a first password; the user must change it at first login"})
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in m.Role]))
    name = fields.String(validate=validate.Length(max=200))
    email = fields.Email(validate=validate.Length(max=200))
    language = fields.String(allow_none=True, validate=validate.OneOf(["fa", "en"]))
    psp_id = DbInt(allow_none=True)
    contractor_id = DbInt(allow_none=True)
    technician_id = DbInt(allow_none=True)


class UserPatch(Schema):
    password = fields.String(load_only=True, validate=validate.Length(1, 200))
    role = fields.String(validate=validate.OneOf([r.value for r in m.Role]))
    name = fields.String(validate=validate.Length(max=200))
    email = fields.Email(validate=validate.Length(max=200))
    language = fields.String(allow_none=True, validate=validate.OneOf(["fa", "en"]))
    psp_id = DbInt(allow_none=True)
    contractor_id = DbInt(allow_none=True)
    technician_id = DbInt(allow_none=True)
    active = fields.Boolean()


class UserOut(Schema):
    id = DbInt()
    username = fields.String()
    name = fields.String()
    email = fields.String()
    role = fields.String()
    language = fields.String(allow_none=True)
    psp_id = DbInt(allow_none=True)
    contractor_id = DbInt(allow_none=True)
    technician_id = DbInt(allow_none=True)
    active = fields.Boolean(attribute="is_active_user")
    must_change_password = fields.Boolean()


class UserPage(Schema):
    items = fields.List(fields.Nested(UserOut))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


def _user(user_id: int) -> m.User:
    from sqlalchemy import select
    if not 0 < user_id < 2**31:
        raise NotFound("User", user_id)
    user = db.session.scalars(select(m.User).where(m.User.id == user_id,
                                                   accounts.users_clause(current_user))).first()
    if user is None:
        raise NotFound("User", user_id)
    return user


@blp.route("/users")
class UserList(MethodView):
    @login_required
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, UserPage)
    def get(self, args):
        """Logins you manage (admin: all; PSP: your PSP's; dispatcher: your contractor's)."""
        from sqlalchemy import func, or_, select
        require_role(current_user, "admin", "psp", "dispatcher")
        stmt = select(m.User).where(accounts.users_clause(current_user))
        if args["q"]:
            needle = f"%{args['q'].strip().lower()}%"
            stmt = stmt.where(or_(func.lower(m.User.username).like(needle), func.lower(m.User.name).like(needle)))
        if args["active"] is not None:
            stmt = stmt.where(m.User.is_active_user.is_(args["active"]))
        sorts = {"id": m.User.id, "username": m.User.username, "name": m.User.name, "role": m.User.role}
        key = args["sort"].lstrip("-")
        if key not in sorts:
            raise ApiError(422, "invalid", f"sort: sort by one of {', '.join(sorts)}", "sort")
        order = sorts[key].desc() if args["sort"].startswith("-") else sorts[key]
        total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        items = db.session.scalars(stmt.order_by(order, m.User.id).offset((args["page"] - 1) * args["per_page"])
                                   .limit(args["per_page"])).all()
        return _page(list(items), total, args)

    @login_required
    @blp.arguments(UserIn)
    @blp.response(201, UserOut)
    def post(self, data):
        """A new login with a first password that must be changed at first login."""
        require_role(current_user, "admin", "psp", "dispatcher")
        try:
            return accounts.create_user(current_user, **data)
        except accounts.UserError as e:
            db.session.rollback()
            raise _record_error(e) from None


@blp.route("/users/<int:user_id>")
class UserItem(MethodView):
    @login_required
    @blp.response(200, UserOut)
    def get(self, user_id):
        """One login."""
        require_role(current_user, "admin", "psp", "dispatcher")
        return _user(user_id)

    @login_required
    @blp.arguments(UserPatch)
    @blp.response(200, UserOut)
    def patch(self, data, user_id):
        """Change a login; a new password is again a first password."""
        require_role(current_user, "admin", "psp", "dispatcher")
        try:
            return accounts.update_user(current_user, _user(user_id), data)
        except accounts.UserError as e:
            db.session.rollback()
            raise _record_error(e) from None

    @login_required
    @blp.response(200, UserOut)
    def delete(self, user_id):
        """Deactivate a login: its session and tokens stop working on the next request."""
        require_role(current_user, "admin", "psp", "dispatcher")
        try:
            return accounts.update_user(current_user, _user(user_id), {"active": False})
        except accounts.UserError as e:
            db.session.rollback()
            raise _record_error(e) from None


# --------------------------------------------------------------------------- contracts


class TermsSchema(Schema):
    pm_interval_days = fields.Integer(validate=validate.Range(0, 1_000_000))
    pm_tolerance_days = fields.Integer(validate=validate.Range(0, 1_000_000))
    pm_intervals = fields.Dict(metadata={"description": "{family: {interval_days, tolerance_days}}"})
    em_targets = fields.Dict(metadata={"description": "{critical|urgent|normal: {first_response_minutes, "
                                                      "response_minutes (on site), resolution_minutes (fix)}}"})
    install_deadline_hours = fields.Integer(validate=validate.Range(0, 1_000_000))
    calendar = fields.Dict(metadata={"description": "mode business|24x7, hours per weekday, iran_holidays, tz"})
    penalty_terms = fields.Dict(metadata={"description": "Rial amounts and caps"})
    geofence_m = fields.Integer(validate=validate.Range(0, 1_000_000))
    require_confirmation_code = fields.Boolean()
    auto_close_days = fields.Integer(validate=validate.Range(0, 1_000_000))
    type_targets = fields.Dict(metadata={"description": "{change|information|installation: targets per priority "
                                                        "like em_targets}; a type not given uses em_targets"})
    reopen_days = fields.Integer(validate=validate.Range(0, 1_000_000),
                                 metadata={"description": "days after resolution the merchant may reopen a call"})


class ContractIn(Schema):
    code = fields.String(required=True, **_code)
    psp_id = DbInt(metadata={"description": "admins only; PSP staff contract for their own PSP"})
    contractor_id = DbInt(required=True)
    kind = fields.String(load_default="uc", validate=validate.OneOf([k.value for k in m.ContractKind]))
    help_desk = fields.String(load_default="psp", validate=validate.OneOf(["psp", "contractor"]),
                              metadata={"description": "whose help desk works tiers 1 and 2 of the calls"})
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(allow_none=True)
    region_ids = fields.List(DbInt(), load_default=list)
    preset = fields.String(load_default="business_hours", validate=validate.OneOf(list(PRESETS)))
    terms = fields.Nested(TermsSchema, load_default=dict, metadata={"description": "overrides of the preset"})


class ContractPatch(Schema):
    kind = fields.String(validate=validate.OneOf([k.value for k in m.ContractKind]))
    help_desk = fields.String(validate=validate.OneOf(["psp", "contractor"]))
    valid_to = fields.Date(allow_none=True)
    region_ids = fields.List(DbInt())
    active = fields.Boolean()


class VersionOut(TermsSchema):
    number = fields.Integer(validate=validate.Range(0, 1_000_000))
    effective_from = fields.Date()
    preset = fields.String()
    note = fields.String()


class ContractOut(Schema):
    id = DbInt()
    code = fields.String()
    psp_id = DbInt()
    contractor_id = DbInt()
    kind = fields.String()
    help_desk = fields.String(metadata={"description": "psp or contractor: whose help desk works tiers 1 and 2"})
    valid_from = fields.Date()
    valid_to = fields.Date(allow_none=True)
    active = fields.Boolean()
    region_ids = fields.List(DbInt())
    in_force = fields.Nested(VersionOut, metadata={"description": "the version in force today"})


class ContractPage(Schema):
    items = fields.List(fields.Nested(ContractOut))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class VersionIn(TermsSchema):
    effective_from = fields.Date(required=True, metadata={"description": "a future day"})
    note = fields.String(load_default="", validate=validate.Length(max=1000))


def _version_dict(v: m.ContractVersion) -> dict[str, Any]:
    return {**terms_of(v), "number": v.number, "effective_from": v.effective_from, "preset": v.preset or "",
            "note": v.note or ""}


def _contract_dict(c: m.Contract) -> dict[str, Any]:
    from fieldsvc.visits.contracts.versions import today_local
    return {"id": c.id, "code": c.code, "psp_id": c.psp_id, "contractor_id": c.contractor_id, "kind": c.kind,
            "help_desk": c.help_desk or "psp",
            "valid_from": c.valid_from, "valid_to": c.valid_to, "active": c.active,
            "region_ids": sorted(r.id for r in c.regions),
            "in_force": _version_dict(version_in_force(c, today_local()))}


def _terms_error(e: TermsError) -> ApiError:
    return ApiError(422, "invalid", f"{e.field}: {e.message}", e.field)


@blp.route("/contracts")
class ContractList(MethodView):
    @login_required
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, ContractPage)
    def get(self, args):
        """Contracts you may see (admin: all; PSP: its own; dispatcher: its contractor's)."""
        from sqlalchemy import func, select

        from fieldsvc.visits.scope import scope_clause
        require_role(current_user, "admin", "psp", "dispatcher")
        stmt = select(m.Contract).where(scope_clause(m.Contract, current_user))
        if args["q"]:
            stmt = stmt.where(func.lower(m.Contract.code).like(f"%{args['q'].strip().lower()}%"))
        if args["active"] is not None:
            stmt = stmt.where(m.Contract.active.is_(args["active"]))
        sorts = {"id": m.Contract.id, "code": m.Contract.code, "valid_from": m.Contract.valid_from}
        key = args["sort"].lstrip("-")
        if key not in sorts:
            raise ApiError(422, "invalid", f"sort: sort by one of {', '.join(sorts)}", "sort")
        order = sorts[key].desc() if args["sort"].startswith("-") else sorts[key]
        total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        items = db.session.scalars(stmt.order_by(order, m.Contract.id).offset((args["page"] - 1) * args["per_page"])
                                   .limit(args["per_page"])).all()
        return _page([_contract_dict(c) for c in items], total, args)

    @login_required
    @blp.arguments(ContractIn)
    @blp.response(201, ContractOut)
    def post(self, data):
        """A contract from a preset (`business_hours` or `24x7`) with overrides: its version 1."""
        try:
            return _contract_dict(registry.create_contract(current_user, data))
        except TermsError as e:
            db.session.rollback()
            raise _terms_error(e) from None


@blp.route("/contracts/<int:contract_id>")
class ContractItem(MethodView):
    @login_required
    @blp.response(200, ContractOut)
    def get(self, contract_id):
        """One contract and the version in force today."""
        require_role(current_user, "admin", "psp", "dispatcher")
        return _contract_dict(get_scoped(m.Contract, contract_id, current_user))

    @login_required
    @blp.arguments(ContractPatch)
    @blp.response(200, ContractOut)
    def patch(self, data, contract_id):
        """Regions, end date, kind, help desk or active flag; terms change through a new version."""
        require_role(current_user, *registry.WRITERS)
        contract = get_scoped(m.Contract, contract_id, current_user)
        try:
            return _contract_dict(registry.update_contract(current_user, contract, data))
        except TermsError as e:
            db.session.rollback()
            raise _terms_error(e) from None

    @login_required
    @blp.response(200, ContractOut)
    def delete(self, contract_id):
        """Deactivate: no new calls or PM visits go to it; its history stays."""
        require_role(current_user, *registry.WRITERS)
        contract = get_scoped(m.Contract, contract_id, current_user)
        return _contract_dict(registry.update_contract(current_user, contract, {"active": False}))


@blp.route("/contracts/<int:contract_id>/versions")
class ContractVersions(MethodView):
    @login_required
    @blp.response(200, VersionOut(many=True))
    def get(self, contract_id):
        """Every version, oldest first."""
        require_role(current_user, "admin", "psp", "dispatcher")
        return [_version_dict(v) for v in versions_of(get_scoped(m.Contract, contract_id, current_user))]

    @login_required
    @blp.arguments(VersionIn)
    @blp.response(201, VersionOut)
    def post(self, data, contract_id):
        """Amend: the terms in force, with the given changes, from a future `effective_from`."""
        require_role(current_user, *registry.WRITERS)
        contract = get_scoped(m.Contract, contract_id, current_user)
        effective_from, note = data.pop("effective_from"), data.pop("note", "")
        try:
            return _version_dict(amend(contract, effective_from, data, current_user, note))
        except TermsError as e:
            db.session.rollback()
            raise _terms_error(e) from None
