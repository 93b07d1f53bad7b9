"""Service calls API: intake, one call with history and SLA state, slot options, assignment and
lifecycle actions. Rules live in `fieldsvc.visits.desk.calls` and `fieldsvc.visits.desk.slotting`."""
from __future__ import annotations

from datetime import timezone
from typing import Any

from flask import Response, current_app, url_for
from flask.views import MethodView
from flask_login import current_user, login_required
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from fieldsvc.visits.channel_models import HeldCall
from fieldsvc.visits.desk import calls as svc
from fieldsvc.visits.desk import first_response, holds, slotting, tiers
from fieldsvc.visits.desk.call_targets import TICKET_TYPE_VALUES
from fieldsvc.visits.desk.slot_answer import slot_answer
from fieldsvc.visits.models import Channel, Route, ServiceCall
from fieldsvc.visits.i18n_text import gettext as _
from fieldsvc.visits.scope import get_scoped
from fieldsvc.web.api.channels_api import HeldSchema, held_dict
from fieldsvc.web.api.routes_api import MerchantRef
from fieldsvc.web.errors import ApiError
from fieldsvc.web.i18n import lang
from fieldsvc.web.ids import DbInt

blp = Blueprint("calls_api", __name__, url_prefix="/api/v1/service-calls",
                description="EM service calls: intake, SLA, slotting, lifecycle")

_aware = {"format": "iso", "default_timezone": timezone.utc}


class CallCreateSchema(Schema):
    terminal_serial = fields.String(validate=validate.Length(1, 64),
                                    metadata={"description": "the terminal's serial (or give terminal_id)"})
    terminal_id = DbInt(metadata={"description": "instead of the serial: the terminal's id"})
    merchant_id = DbInt(metadata={"description": "optional check: the terminal is at this merchant"})
    priority = fields.String(required=True, validate=validate.OneOf(list(svc.PRIORITIES)))
    symptom = fields.String(required=True, validate=validate.OneOf(list(svc.SYMPTOMS)),
                            metadata={"description": "a symptom code: " + ", ".join(svc.SYMPTOMS)})
    symptom_text = fields.String(load_default="", validate=validate.Length(max=2000))
    channel = fields.String(load_default="phone", validate=validate.OneOf([c.value for c in Channel]))
    caller_name = fields.String(load_default="", validate=validate.Length(max=120),
                                metadata={"description": "who reported the failure"})
    caller_phone = fields.String(load_default="", validate=validate.Length(max=32),
                                 metadata={"description": "the caller's phone number"})
    caller_email = fields.String(load_default="", validate=validate.Length(max=200),
                                 metadata={"description": "the caller's e-mail (checked against designated requesters)"})
    ticket_type = fields.String(load_default="fault", validate=validate.OneOf(list(TICKET_TYPE_VALUES)),
                                metadata={"description": "fault (default), change, information or installation"})


class CallPartySchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class CallSlaSchema(Schema):
    response = fields.String(metadata={"description": "ok, at_risk, breached, met or missed"})
    resolution = fields.String()
    first_response = fields.String(allow_none=True, metadata={"description": "the first-response clock's state "
                                                                             "(null without a target)"})
    paused = fields.Boolean()
    escalation_level = fields.Integer()


class CallHistorySchema(Schema):
    at = fields.AwareDateTime(**_aware)
    action = fields.String()
    from_state = fields.String(allow_none=True)
    to_state = fields.String(allow_none=True)
    actor = fields.String()
    data = fields.Dict()


class CallPauseSchema(Schema):
    started_at = fields.AwareDateTime(**_aware)
    ended_at = fields.AwareDateTime(allow_none=True, **_aware)
    reason = fields.String()


class CallSchema(Schema):
    id = fields.Integer()
    tracking_number = fields.String()
    tracking_url = fields.String()
    status = fields.String()
    priority = fields.String()
    channel = fields.String()
    symptom = fields.String()
    symptom_text = fields.String()
    terminal_serial = fields.String()
    merchant = fields.Nested(CallPartySchema)
    contractor = fields.Nested(CallPartySchema)
    technician = fields.Nested(CallPartySchema, allow_none=True)
    reported_at = fields.AwareDateTime(**_aware)
    response_by = fields.AwareDateTime(**_aware)
    resolution_by = fields.AwareDateTime(**_aware)
    responded_at = fields.AwareDateTime(allow_none=True, **_aware)
    resolved_at = fields.AwareDateTime(allow_none=True, **_aware)
    closed_at = fields.AwareDateTime(allow_none=True, **_aware)
    escalation_level = fields.Integer()
    tier = fields.String(metadata={"description": "tier1 (help desk), tier2 (expert) or field"})
    assignee = fields.Nested(CallPartySchema, allow_none=True,
                             metadata={"description": "the colleague the call was handed to"})
    first_response_by = fields.AwareDateTime(allow_none=True, **_aware,
                                             metadata={"description": "first-response deadline (null: no target)"})
    first_responded_at = fields.AwareDateTime(allow_none=True, **_aware)
    resolution_code = fields.String(allow_none=True, metadata={"description": "set when resolved remotely"})
    paused_seconds = fields.Integer()
    cancel_reason = fields.String()
    survey_score = fields.Integer(allow_none=True)
    version = fields.Integer(metadata={"description": "send it back as `version` to detect concurrent changes"})
    sla = fields.Nested(CallSlaSchema)
    pauses = fields.List(fields.Nested(CallPauseSchema))
    history = fields.List(fields.Nested(CallHistorySchema))


class SlotOptionSchema(Schema):
    technician_id = fields.Integer()
    technician_name = fields.String()
    position = fields.Integer(metadata={"description": "0 = before the technician's next stop"})
    eta = fields.AwareDateTime(**_aware, metadata={"description": "service start at the merchant"})
    arrival = fields.AwareDateTime(**_aware)
    added_travel_seconds = fields.Integer()
    sla_met = fields.Boolean()
    late_seconds = fields.Integer()
    displaced_visits = fields.List(fields.Integer(), metadata={"description": "PM visits pushed back to the pool"})
    date = fields.Date(metadata={"description": "the day of the route (today, or the next working day)"})
    on_call = fields.Boolean(metadata={"description": "an on-call technician outside the shift (7x24 contracts)"})


class SlotAnswerSchema(Schema):
    options = fields.List(fields.Nested(SlotOptionSchema), metadata={"description": "best first"})
    reason = fields.String(allow_none=True, metadata={
        "description": "why today's routes give no option, or why the answer is empty: not_open, no_technician, "
                       "no_skill, merchant_closed_today, not_working_day, shift_over, no_room_today, "
                       "merchant_closed, no_room; null when the options are today's"})
    message = fields.String(allow_none=True, metadata={"description": "the reason in the user's language"})


class AssignSchema(Schema):
    technician_id = DbInt(required=True)
    position = DbInt(load_default=None, allow_none=True)
    date = fields.Date(load_default=None, allow_none=True,
                       metadata={"description": "the option's date (default today)"})
    on_call = fields.Boolean(load_default=False, metadata={"description": "the option's on_call"})
    version = DbInt(load_default=None, allow_none=True,
                             metadata={"description": "the call's version you saw; 409 if it changed"})


class AssignedStopSchema(Schema):
    visit_id = fields.Integer()
    kind = fields.String()
    merchant = fields.Nested(MerchantRef)
    terminals = fields.List(fields.String())
    eta = fields.AwareDateTime(allow_none=True, **_aware)
    end = fields.AwareDateTime(allow_none=True, **_aware)
    status = fields.String()
    service_call = fields.String(allow_none=True)


class AssignedRouteSchema(Schema):
    id = fields.Integer()
    technician = fields.Nested(CallPartySchema)
    date = fields.Date()
    stops = fields.List(fields.Nested(AssignedStopSchema))
    travel_seconds = fields.Integer()
    distance_m = fields.Integer()
    displaced_visits = fields.List(fields.Integer())


class TransitionSchema(Schema):
    action = fields.String(required=True, validate=validate.OneOf(svc.ACTIONS + tiers.DESK_ACTIONS))
    reason = fields.String(load_default="", validate=validate.Length(max=1000),
                           metadata={"description": "why; for resolve_remotely the note of what was done"})
    resolution_code = fields.String(metadata={"description": "resolve_remotely: one of "
                                                             + ", ".join(tiers.RESOLUTION_CODES)})
    to_tier = fields.String(validate=validate.OneOf(list(tiers.DESK_TIERS)),
                            metadata={"description": "transfer: tier1 or tier2"})
    to_user_id = DbInt(metadata={"description": "transfer: a colleague of the call's help desk"})
    priority = fields.String(validate=validate.OneOf(list(svc.PRIORITIES)))
    technician_id = DbInt(metadata={"description": "for `assign` (without a route)"})
    version = DbInt(load_default=None, allow_none=True)


def _error(e: svc.CallError) -> ApiError:
    message = e.message
    if e.call_id is not None and e.code == "duplicate_call":
        message = f"{message} ({url_for('calls_api.Call', call_id=e.call_id)})"
    return ApiError(e.status, e.code, message, e.field)


def call_dict(call: ServiceCall, with_history: bool = True) -> dict[str, Any]:
    """The call as the API shows it."""
    flags = svc.sla_flags(call)
    out = {
        "id": call.id, "tracking_number": call.tracking_number,
        "tracking_url": svc.tracking_url(call, current_app.config["PUBLIC_BASE_URL"]),
        "status": call.status, "priority": call.priority, "channel": call.channel,
        "symptom": call.symptom_code, "symptom_text": call.symptom_text, "terminal_serial": call.terminal.serial,
        "merchant": {"id": call.merchant.id, "code": call.merchant.code, "name": call.merchant.name},
        "contractor": {"id": call.contractor.id, "code": call.contractor.code, "name": call.contractor.name},
        "technician": ({"id": call.technician.id, "code": call.technician.code, "name": call.technician.name}
                       if call.technician else None),
        "reported_at": call.reported_at, "response_by": call.response_by, "resolution_by": call.resolution_by,
        "responded_at": call.responded_at, "resolved_at": call.resolved_at, "closed_at": call.closed_at,
        "escalation_level": call.escalation_level, "paused_seconds": call.paused_seconds,
        "tier": call.tier or "tier1", "first_response_by": call.first_response_by,
        "first_responded_at": call.first_responded_at, "resolution_code": call.resolution_code,
        "assignee": ({"id": call.assignee.id, "code": call.assignee.username,
                      "name": call.assignee.name or call.assignee.username} if call.assignee else None),
        "cancel_reason": call.cancel_reason, "survey_score": call.survey_score, "version": call.version,
        "sla": {"response": flags.response, "resolution": flags.resolution, "paused": flags.paused,
                "first_response": first_response.state(call),
                "escalation_level": flags.escalation_level},
        "pauses": [{"started_at": p.started_at, "ended_at": p.ended_at, "reason": p.reason} for p in call.pauses],
    }
    if with_history:
        out["history"] = [{"at": e.at, "action": e.action, "from_state": e.from_state, "to_state": e.to_state,
                           "actor": e.actor, "data": e.data} for e in svc.history(call)]
    return out


def route_dict(route: Route, displaced: list[int] | None = None) -> dict[str, Any]:
    """A stored route in the shape of `GET /api/v1/routes`."""
    stops = [v for v in route.visits if v.route_position is not None]
    stops.sort(key=lambda v: v.route_position)
    return {
        "id": route.id, "date": route.date,
        "technician": {"id": route.technician.id, "code": route.technician.code, "name": route.technician.name},
        "stops": [{"visit_id": v.id, "kind": v.kind, "status": v.status, "eta": v.eta, "end": v.planned_end,
                   "merchant": {"id": v.merchant.id, "name": v.merchant.name, "lat": v.merchant.lat,
                                "lon": v.merchant.lon},
                   "terminals": [t.serial for t in v.terminals],
                   "service_call": v.service_call.tracking_number if v.service_call else None} for v in stops],
        "travel_seconds": route.travel_seconds, "distance_m": route.distance_m,
        "displaced_visits": displaced or [],
    }


def _user():
    return current_user._get_current_object()


def held_response(held: HeldCall) -> Response:
    """202 with the held request: its caller is not designated for the merchant."""
    return current_app.response_class(HeldSchema().dumps(held_dict(held)), status=202, mimetype="application/json")


@blp.route("")
class Calls(MethodView):
    decorators = [login_required]

    @blp.arguments(CallCreateSchema)
    @blp.response(201, CallSchema)
    @blp.alt_response(202, schema=HeldSchema, description="held for confirmation: the caller is not one of "
                      "the people the merchant's chain or branch designated (see /api/v1/held-calls)")
    def post(self, body: dict):
        """Register an EM call (PSP staff): tracking number, contractor and deadlines are set. From
        someone a merchant's chain or branch did not designate, the request is held instead (202)."""
        try:
            call = holds.open_or_hold(_user(), priority=body["priority"], symptom_code=body["symptom"],
                                      channel=body.get("channel", "phone"), terminal_serial=body.get("terminal_serial"),
                                      terminal_id=body.get("terminal_id"), merchant_id=body.get("merchant_id"),
                                      symptom_text=body.get("symptom_text", ""), caller_name=body.get("caller_name", ""),
                                      caller_phone=body.get("caller_phone", ""), caller_email=body.get("caller_email", ""),
                                      ticket_type=body.get("ticket_type", "fault"))
        except svc.CallError as e:
            raise _error(e) from e
        if not isinstance(call, ServiceCall):  # the caller is not designated: held for confirmation
            return held_response(call)
        return call_dict(call)

    @blp.response(200, CallSchema(many=True))
    def get(self):
        """Unfinished calls you may see, most escalated first."""
        return [call_dict(c, with_history=False) for c in svc.list_calls(_user(), open_only=True)]


@blp.route("/<int:call_id>")
class Call(MethodView):
    decorators = [login_required]

    @blp.response(200, CallSchema)
    def get(self, call_id: int):
        """One call with its status history and SLA state."""
        return call_dict(get_scoped(ServiceCall, call_id, _user()))


@blp.route("/<int:call_id>/slot-options")
class SlotOptions(MethodView):
    decorators = [login_required]

    @blp.response(200, SlotAnswerSchema)
    def get(self, call_id: int):
        """Best technicians, days and positions, best first (dispatchers): today's live routes; when
        they cannot take the call, the next working day's plan and on-call technicians (7x24
        contracts). ``reason``/``message`` say why today gives none, or why the list is empty."""
        return slot_answer(call_id, _user(), lang=lang()).as_dict()


@blp.route("/<int:call_id>/assign")
class Assign(MethodView):
    decorators = [login_required]

    @blp.arguments(AssignSchema)
    @blp.response(200, AssignedRouteSchema)
    def post(self, body: dict, call_id: int):
        """Put the call on a technician's route of today or of the option's ``date`` (position: the
        best one when omitted; ``on_call`` for an on-call option).
        409 when another dispatcher assigned it first or the version changed."""
        try:
            route = slotting.assign_call(call_id, body["technician_id"], body.get("position"), _user(),
                                         body.get("version"), day=body.get("date"), on_call=body["on_call"])
        except svc.CallError as e:
            raise _error(e) from e
        return route_dict(route)


@blp.route("/<int:call_id>/transition")
class Transition(MethodView):
    decorators = [login_required]

    @blp.arguments(TransitionSchema)
    @blp.response(200, CallSchema)
    def post(self, body: dict, call_id: int):
        """Lifecycle actions: start, resolve, close (QC, PSP staff), reopen, cancel (reason), pause (reason),
        resume, priority (new priority; deadlines recomputed), assign (technician without a route), unassign
        (dispatcher: off the route and back to open, to slot it again); and the desk's (issue 21):
        resolve_remotely (resolution_code and reason, the note), transfer (to_tier and/or to_user_id, reason),
        dispatch (to the field, reason)."""
        user = _user()
        call = get_scoped(ServiceCall, call_id, user)
        if body.get("version") is not None and body["version"] != call.version:
            raise ApiError(409, "stale", _("Someone else changed this call meanwhile; reload the page and try "
                                           "again."), "version")
        try:
            if body["action"] in tiers.DESK_ACTIONS:
                tiers.apply_desk_action(call, user, body["action"], reason=body.get("reason", ""),
                                        resolution_code=body.get("resolution_code"), to_tier=body.get("to_tier"),
                                        to_user_id=body.get("to_user_id"))
            else:
                svc.apply_action(call, user, body["action"], reason=body.get("reason", ""),
                                 priority=body.get("priority"), technician_id=body.get("technician_id"))
        except svc.CallError as e:
            raise _error(e) from e
        return call_dict(call)
