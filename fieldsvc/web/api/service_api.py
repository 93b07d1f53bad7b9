"""Ticket types (queues, splitting, installation requests → work orders), service tiers of
merchants, warranty / paid phases of terminals and the per-phase report. Rules live in
:mod:`fieldsvc.visits.desk.ticket_types`, :mod:`fieldsvc.visits.contracts.service_tiers` and
:mod:`fieldsvc.visits.scorecards.service_phases`."""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask.views import MethodView
from flask_login import current_user, login_required
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from fieldsvc.visits.contracts import service_tiers as tiers
from fieldsvc.visits.desk import calls as svc
from fieldsvc.visits.desk import holds
from fieldsvc.visits.desk import ticket_types as tt
from fieldsvc.visits.desk.call_targets import targets_dict, ticket_type_of
from fieldsvc.visits.models import Channel, Role, ServiceCall
from fieldsvc.visits.scope import get_scoped, require_role
from fieldsvc.visits.scorecards.service_phases import phase_report
from fieldsvc.web.api.calls_api import CallSchema, _error, call_dict, held_response
from fieldsvc.web.api.channels_api import HeldSchema
from fieldsvc.web.errors import ApiError
from fieldsvc.web.ids import DbInt

blp = Blueprint("service_api", __name__, url_prefix="/api/v1",
                description="Ticket types and queues, service tiers, warranty and paid phases")


def _user():
    return current_user._get_current_object()


def _tier_error(e: tiers.TierError) -> ApiError:
    return ApiError(e.status, "invalid" if e.status == 422 else ("conflict" if e.status == 409 else "not_found"),
                    e.message, e.field)


# --------------------------------------------------------------------------- calls by type


class TypedCallSchema(CallSchema):
    ticket_type = fields.String(metadata={"description": "fault, change, information or installation"})
    service_phase = fields.String(metadata={"description": "warranty, paid or none, when the call was opened"})
    service_tier = fields.String(metadata={"description": "the merchant's tier code when the call was opened"})
    split_from = fields.String(allow_none=True, metadata={"description": "tracking number of the call split from"})
    split_into = fields.List(fields.String(), metadata={"description": "tracking numbers of calls split off"})
    work_order = fields.String(allow_none=True, metadata={"description": "the work order it became"})
    targets = fields.Dict(metadata={"description": "the SLA targets in force for this call"})


def typed_call_dict(call: ServiceCall, with_history: bool = True) -> dict[str, Any]:
    out = call_dict(call, with_history=with_history)
    p = getattr(call, "profile", None)
    parent = tt.split_from(call)
    out.update(ticket_type=ticket_type_of(call), service_phase=p.service_phase if p else "none",
               service_tier=p.tier_code if p else "", split_from=parent.tracking_number if parent else None,
               split_into=[c.tracking_number for c in tt.split_into(call)],
               work_order=p.work_order.number if p is not None and p.work_order is not None else None,
               targets=targets_dict(call))
    return out


class CallQueueArgs(Schema):
    type = fields.String(validate=validate.OneOf(list(tt.TICKET_TYPES)),
                         metadata={"description": "one ticket type's queue"})
    show = fields.String(load_default="open", validate=validate.OneOf(["open", "all"]))


class CallQueueSchema(Schema):
    counts = fields.Dict(keys=fields.String(), values=DbInt(),
                         metadata={"description": "unfinished calls per ticket type"})
    items = fields.List(fields.Nested(TypedCallSchema))


class TypedCallCreateSchema(Schema):
    ticket_type = fields.String(required=True, validate=validate.OneOf(list(tt.TICKET_TYPES)))
    terminal_serial = fields.String(validate=validate.Length(1, 64))
    terminal_id = DbInt()
    priority = fields.String(required=True, validate=validate.OneOf(list(svc.PRIORITIES)))
    symptom = fields.String(required=True, validate=validate.OneOf(list(svc.SYMPTOMS)))
    symptom_text = fields.String(load_default="", validate=validate.Length(max=2000))
    channel = fields.String(load_default="phone", validate=validate.OneOf([c.value for c in Channel]))
    caller_name = fields.String(load_default="", validate=validate.Length(max=120))
    caller_phone = fields.String(load_default="", validate=validate.Length(max=32))
    caller_email = fields.String(load_default="", validate=validate.Length(max=200),
                                 metadata={"description": "the caller's e-mail (checked against designated requesters)"})


@blp.route("/call-queues")
class Queues(MethodView):
    decorators = [login_required]

    @blp.arguments(CallQueueArgs, location="query")
    @blp.response(200, CallQueueSchema)
    def get(self, args: dict):
        """One ticket type's queue (`type`; all types without it) and the unfinished calls per type."""
        user = _user()
        items = tt.list_calls(user, args.get("type"), open_only=args["show"] == "open")
        return {"counts": tt.queue_counts(user), "items": [typed_call_dict(c, False) for c in items]}

    @blp.arguments(TypedCallCreateSchema)
    @blp.response(201, TypedCallSchema)
    @blp.alt_response(202, schema=HeldSchema, description="held for confirmation: the caller is not one of "
                      "the people the merchant's chain or branch designated (see /api/v1/held-calls)")
    def post(self, body: dict):
        """Open a call of a ticket type (fault, change, information, installation request); its SLA
        targets are the type's in the contract, tightened by the merchant's tier. From someone a
        merchant's chain or branch did not designate, the request is held instead (202), keeping
        its type."""
        try:
            call = holds.open_or_hold(_user(), priority=body["priority"], symptom_code=body["symptom"],
                                      channel=body["channel"], terminal_serial=body.get("terminal_serial"),
                                      terminal_id=body.get("terminal_id"), symptom_text=body["symptom_text"],
                                      caller_name=body["caller_name"], caller_phone=body["caller_phone"],
                                      caller_email=body["caller_email"], ticket_type=body["ticket_type"])
        except svc.CallError as e:
            raise _error(e) from e
        if not isinstance(call, ServiceCall):
            return held_response(call)
        return typed_call_dict(call)


@blp.route("/call-queues/<int:call_id>")
class TypedCall(MethodView):
    decorators = [login_required]

    @blp.response(200, TypedCallSchema)
    def get(self, call_id: int):
        """One call with its type, phase, tier, links and targets."""
        return typed_call_dict(get_scoped(ServiceCall, call_id, _user()))


class CallSplitPartSchema(Schema):
    symptom = fields.String(required=True)
    priority = fields.String()
    symptom_text = fields.String(validate=validate.Length(max=2000))


class CallSplitSchema(Schema):
    parts = fields.List(fields.Nested(CallSplitPartSchema), required=True, validate=validate.Length(1, 10))


@blp.route("/service-calls/<int:call_id>/split")
class Split(MethodView):
    decorators = [login_required]

    @blp.arguments(CallSplitSchema)
    @blp.response(201, TypedCallSchema(many=True))
    def post(self, body: dict, call_id: int):
        """Split the other faults of a call off into linked calls (same terminal, same report time);
        each side's history names the other."""
        call = get_scoped(ServiceCall, call_id, _user())
        try:
            return [typed_call_dict(c, False) for c in tt.split_call(call, body["parts"], _user())]
        except svc.CallError as e:
            raise _error(e) from e


class CallToOrderSchema(Schema):
    model = fields.String(required=True, validate=validate.Length(1, 64),
                          metadata={"description": "the model to install, e.g. PAX S90"})
    family = fields.String(load_default="", validate=validate.Length(max=32))
    notes = fields.String(load_default="", validate=validate.Length(max=2000))


class CallOrderRefSchema(Schema):
    id = DbInt()
    number = fields.String()
    kind = fields.String()
    status = fields.String()
    deadline = fields.AwareDateTime(format="iso", default_timezone=dt.timezone.utc)


@blp.route("/service-calls/<int:call_id>/work-order")
class Convert(MethodView):
    decorators = [login_required]

    @blp.arguments(CallToOrderSchema)
    @blp.response(201, CallOrderRefSchema)
    def post(self, body: dict, call_id: int):
        """An installation request becomes an install work order; the call ends, linked to it."""
        call = get_scoped(ServiceCall, call_id, _user())
        try:
            return tt.convert_to_order(call, _user(), model=body["model"], family=body["family"],
                                       notes=body["notes"])
        except svc.CallError as e:
            raise _error(e) from e


# --------------------------------------------------------------------------- tiers


class ServiceTierSchema(Schema):
    id = DbInt(dump_only=True)
    psp_id = DbInt()
    code = fields.String(validate=validate.Length(1, 32))
    name = fields.String(validate=validate.Length(1, 120))
    em_targets = fields.Dict(metadata={"description": "{priority: {response_minutes, resolution_minutes, "
                                                      "first_response_minutes}}: any subset; tighter than the "
                                                      "contract's wins"})
    active = fields.Boolean()


class ServiceTierPatchSchema(Schema):
    name = fields.String(validate=validate.Length(1, 120))
    em_targets = fields.Dict()
    active = fields.Boolean()


@blp.route("/service-tiers")
class Tiers(MethodView):
    decorators = [login_required]

    @blp.response(200, ServiceTierSchema(many=True))
    def get(self):
        """Your PSP's service tiers."""
        require_role(_user(), Role.PSP, Role.ADMIN)
        return tiers.list_tiers(_user())

    @blp.arguments(ServiceTierSchema)
    @blp.response(201, ServiceTierSchema)
    def post(self, body: dict):
        """A new tier (code, name, em_targets)."""
        try:
            return tiers.create_tier(_user(), body)
        except tiers.TierError as e:
            raise _tier_error(e) from None


@blp.route("/service-tiers/<int:tier_id>")
class Tier(MethodView):
    decorators = [login_required]

    @blp.arguments(ServiceTierPatchSchema)
    @blp.response(200, ServiceTierSchema)
    def patch(self, body: dict, tier_id: int):
        """Change a tier's name, targets or active flag (calls already opened keep their targets)."""
        try:
            return tiers.update_tier(_user(), tiers.get_tier(_user(), tier_id), body)
        except tiers.TierError as e:
            raise _tier_error(e) from None


class MerchantTierIn(Schema):
    tier_id = DbInt(required=True, allow_none=True, metadata={"description": "null: no tier"})


class MerchantTierOut(Schema):
    merchant_id = DbInt()
    tier_id = DbInt(allow_none=True)


@blp.route("/merchant-tiers/<int:merchant_id>")
class MerchantTierView(MethodView):
    decorators = [login_required]

    @blp.arguments(MerchantTierIn)
    @blp.response(200, MerchantTierOut)
    def put(self, body: dict, merchant_id: int):
        """Put a merchant in a tier of its PSP, or in none (`tier_id: null`)."""
        try:
            row = tiers.set_merchant_tier(_user(), merchant_id, body["tier_id"])
        except tiers.TierError as e:
            raise _tier_error(e) from None
        return {"merchant_id": merchant_id, "tier_id": row.tier_id if row else None}


# --------------------------------------------------------------------------- phases


class TerminalPhaseSchema(Schema):
    phase = fields.String(metadata={"description": "warranty or paid"})
    starts_on = fields.Date()
    ends_on = fields.Date(allow_none=True, metadata={"description": "last day; null = open-ended"})


class TerminalPhasesIn(Schema):
    phases = fields.List(fields.Dict(), required=True,
                         metadata={"description": "[{phase, starts_on, ends_on}] replacing the terminal's phases"})


class TerminalPhasesOut(Schema):
    terminal_id = DbInt()
    phases = fields.List(fields.Nested(TerminalPhaseSchema))
    phase_today = fields.String()


def _phases_out(terminal_id: int) -> dict[str, Any]:
    from fieldsvc.visits.contracts.versions import today_local

    return {"terminal_id": terminal_id, "phases": tiers.phases_of(terminal_id),
            "phase_today": tiers.phase_on(terminal_id, today_local())}


@blp.route("/terminal-phases/<int:terminal_id>")
class Phases(MethodView):
    decorators = [login_required]

    @blp.response(200, TerminalPhasesOut)
    def get(self, terminal_id: int):
        """A terminal's warranty and paid phases."""
        from fieldsvc.visits.models import Terminal

        require_role(_user(), Role.PSP, Role.ADMIN)
        get_scoped(Terminal, terminal_id, _user())
        return _phases_out(terminal_id)

    @blp.arguments(TerminalPhasesIn)
    @blp.response(200, TerminalPhasesOut)
    def put(self, body: dict, terminal_id: int):
        """Replace a terminal's phases (no overlaps); calls already opened keep their phase."""
        try:
            tiers.set_phases(_user(), terminal_id, body["phases"])
        except tiers.TierError as e:
            raise _tier_error(e) from None
        return _phases_out(terminal_id)


class ServicePhaseReportSchema(Schema):
    start = fields.String()
    end = fields.String()
    rows = fields.List(fields.Dict(), metadata={"description": "contractor_code, contractor_name, phase, "
                                                               "ticket_type, opened, fixed, cancelled, unfinished"})
    totals = fields.Dict(metadata={"description": "per phase: opened, fixed, cancelled, unfinished"})


class ServicePhaseReportArgs(Schema):
    start = fields.Date(required=True)
    end = fields.Date(required=True)


@blp.route("/reports/service-phases")
class PhaseReportView(MethodView):
    decorators = [login_required]

    @blp.arguments(ServicePhaseReportArgs, location="query")
    @blp.response(200, ServicePhaseReportSchema)
    def get(self, args: dict):
        """Calls reported in the period per contractor, service phase and ticket type: opened, fixed,
        cancelled, unfinished (the paid phase's fixed calls are the billable work)."""
        require_role(_user(), Role.PSP, Role.ADMIN, Role.DISPATCHER)
        if args["end"] < args["start"]:
            raise ApiError(422, "invalid", "end: the period cannot end before it starts", "end")
        if (args["end"] - args["start"]).days > 366:
            raise ApiError(422, "invalid", "end: at most a year per report", "end")
        return phase_report(args["start"], args["end"], user=_user()).to_dict()
