"""Visits API for the technician's phone: check-in, check-out, one visit, the day's route.

Check-in and check-out are idempotent by `client_event_id`: sending the same event again
answers 200 with the visit and changes nothing. A check-out that arrives before its check-in
answers 202 (held, applied when the check-in arrives). Rules: `fieldsvc.visits.field.checkin`.

Check-out photos (at most 3; JPEG, PNG or WebP, checked by content; 8 MB each) travel either
* as `multipart/form-data`: a part `payload` holding the JSON body below and up to three
  `photos` file parts (best from a browser: no base64 overhead), or
* as `application/json`: `photos: [{"filename": "a.jpg", "data": "<base64 or data: URL>"}]`.
"""
from __future__ import annotations

import base64
import binascii
import json
from datetime import date, timezone
from typing import Any

from flask import Response, current_app, g, request
from flask.views import MethodView
from flask_login import current_user, login_required
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from fieldsvc.visits.field import checkin as svc
from fieldsvc.visits.models import Role, Visit
from fieldsvc.visits.scope import get_scoped
from fieldsvc.visits.field.tech_day import day_visits, visit_dict
from fieldsvc.visits.field.outcomes import Outcome
from fieldsvc.visits.field.photos import MAX_PHOTOS
from fieldsvc.web.errors import ApiError
from fieldsvc.web.extensions import limiter
from fieldsvc.web.ids import DbInt
from fieldsvc.web.ratelimits import visit_key
from fieldsvc.web.technician.views import today

blp = Blueprint("visits_api", __name__, url_prefix="/api/v1", description="Visits: check-in and check-out")

_aware = {"format": "iso", "default_timezone": timezone.utc}


class TechCheckInSchema(Schema):
    lat = fields.Float(allow_none=True, validate=validate.Range(-90, 90),
                       metadata={"description": "WGS84 latitude; null only with position_error"})
    lon = fields.Float(allow_none=True, validate=validate.Range(-180, 180))
    accuracy_m = fields.Float(allow_none=True, validate=validate.Range(min=0),
                              metadata={"description": "radius of the fix's 68 % confidence, metres"})
    at = fields.AwareDateTime(required=True, **_aware, metadata={"description": "device time of the check-in"})
    fix_at = fields.AwareDateTime(allow_none=True, **_aware,
                                  metadata={"description": "time of the position fix; default `at`"})
    client_event_id = fields.String(required=True, validate=validate.Length(8, 64))
    reason = fields.String(allow_none=True, validate=validate.Length(max=1000),
                           metadata={"description": "required when the check-in is not verified, not on the "
                                                    "planned day or outside the shop's opening hours"})
    position_error = fields.String(allow_none=True, validate=validate.OneOf(["denied", "unavailable", "timeout"]),
                                   metadata={"description": "why there is no position"})

    @validates_schema
    def _position(self, data: dict, **_kw: Any) -> None:
        if data.get("position_error"):
            return
        for name in ("lat", "lon", "accuracy_m"):
            if data.get(name) is None:
                raise ValidationError("Required (or give position_error when there is no location).", name)


class TechPhotoB64Schema(Schema):
    filename = fields.String(load_default="photo")
    data = fields.String(required=True, metadata={"description": "base64 bytes or a data: URL"})


class TechChecklistAnswerSchema(Schema):
    terminal = fields.String(load_default="", validate=validate.Length(max=64),
                             metadata={"description": "the terminal's serial (may be left out when the visit has one)"})
    item_id = DbInt(required=True, strict=True, minimum=1)
    passed = fields.Boolean(allow_none=True, load_default=None,
                            metadata={"description": "pass/fail items; photo items: false marks a defect"})
    value = fields.Raw(allow_none=True, load_default=None, metadata={"description": "readings: a number"})
    photo = DbInt(allow_none=True, load_default=None, strict=True, minimum=1,
                           metadata={"description": "photo items: 1-based position among the check-out's photos"})
    note = fields.String(load_default="", validate=validate.Length(max=500))


class TechFeedbackSchema(Schema):
    score = DbInt(allow_none=True, load_default=None, strict=True, minimum=1, validate=validate.Range(1, 5))
    comment = fields.String(load_default="", validate=validate.Length(max=1000))
    declined = fields.Boolean(load_default=False, metadata={"description": "the merchant did not want to answer"})


class TechCheckOutSchema(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf([o.value for o in Outcome]))
    notes = fields.String(load_default="", validate=validate.Length(max=4000))
    at = fields.AwareDateTime(required=True, **_aware, metadata={"description": "device time of the check-out"})
    client_event_id = fields.String(required=True, validate=validate.Length(8, 64))
    parts_used = fields.List(fields.String(validate=validate.Length(max=200)), load_default=list)
    # counts checked by the service, so that an error names the part: consumables_used.paper_roll
    consumables_used = fields.Dict(keys=fields.String(), values=fields.Raw(), load_default=dict,
                                   metadata={"description": "counted parts used, taken from the technician's van: "
                                             "paper_roll, battery, sim_card → count (0–50)"})
    old_serial = fields.String(allow_none=True, validate=validate.Length(max=64))
    new_serial = fields.String(allow_none=True, validate=validate.Length(max=64))
    confirmation_code = fields.String(allow_none=True, validate=validate.Length(max=20))
    photos = fields.List(fields.Nested(TechPhotoB64Schema), load_default=list,
                         metadata={"description": "JSON form only; multipart sends file parts"})
    reason = fields.String(allow_none=True, validate=validate.Length(max=1000),
                           metadata={"description": "required when the visit lasted less than two minutes"})
    checklist = fields.List(fields.Nested(TechChecklistAnswerSchema), load_default=list,
                            metadata={"description": "PM inspection answers (issue 23)"})
    feedback = fields.Nested(TechFeedbackSchema, allow_none=True, load_default=None,
                             metadata={"description": "the merchant's answer to the PM visit's question"})


class TechMerchantOut(Schema):
    id = fields.Integer()
    name = fields.String()
    address = fields.String()
    phone = fields.String()
    lat = fields.Float()
    lon = fields.Float()
    opening_hours = fields.Dict()


class TechCallOut(Schema):
    id = fields.Integer()
    tracking_number = fields.String()
    priority = fields.String()
    status = fields.String()
    symptom_code = fields.String()
    symptom_text = fields.String()
    response_by = fields.DateTime()
    resolution_by = fields.DateTime()
    responded_at = fields.DateTime(allow_none=True)
    resolved_at = fields.DateTime(allow_none=True)


class TechCheckInOut(Schema):
    at = fields.DateTime()
    received_at = fields.DateTime()
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    accuracy_m = fields.Float(allow_none=True)
    fix_at = fields.DateTime(allow_none=True)
    distance_m = fields.Float(allow_none=True)
    verified = fields.Boolean()
    flags = fields.List(fields.String())
    reason = fields.String()


class TechCheckOutOut(Schema):
    at = fields.DateTime()
    received_at = fields.DateTime()
    outcome = fields.String()
    notes = fields.String()
    parts_used = fields.List(fields.String())
    consumables_used = fields.Dict(keys=fields.String(), values=fields.Integer())
    old_serial = fields.String(allow_none=True)
    new_serial = fields.String(allow_none=True)
    merchant_confirmed = fields.Boolean()
    photos = fields.List(fields.Dict())
    flags = fields.List(fields.String(), metadata={"description": "short_visit"})
    reason = fields.String()


class TechEventOut(Schema):
    client_event_id = fields.String()
    kind = fields.String()
    status = fields.String(metadata={"description": "applied, pending or superseded"})
    duplicate = fields.Boolean()
    device_at = fields.DateTime()
    received_at = fields.DateTime()
    clamped = fields.String(allow_none=True)


class TechVisitOut(Schema):
    id = fields.Integer()
    kind = fields.String()
    status = fields.String()
    planned_date = fields.Date(allow_none=True)
    route_position = fields.Integer(allow_none=True)
    eta = fields.DateTime(allow_none=True)
    deadline = fields.DateTime(allow_none=True)
    geofence_m = fields.Integer()
    requires_confirmation_code = fields.Boolean()
    outcomes = fields.List(fields.String())
    merchant = fields.Nested(TechMerchantOut)
    terminals = fields.List(fields.Dict())
    checklists = fields.List(fields.Dict(), metadata={
        "description": "PM: each terminal's inspection checklist to answer at check-out (issue 23)"})
    service_call = fields.Nested(TechCallOut, allow_none=True)
    checkin = fields.Nested(TechCheckInOut, allow_none=True)
    checkout = fields.Nested(TechCheckOutOut, allow_none=True)
    event = fields.Nested(TechEventOut, allow_none=True)


class TechRouteQuery(Schema):
    date = fields.Date(load_default=None)


class TechRouteOut(Schema):
    date = fields.Date()
    technician = fields.Dict()
    route_id = fields.Integer(allow_none=True)
    stops = fields.List(fields.Nested(TechVisitOut))


def _user():
    return current_user._get_current_object()


def _answer(result: svc.EventResult) -> tuple[dict, int]:
    ev = result.event
    out = visit_dict(result.visit)
    out["event"] = {"client_event_id": ev.client_event_id, "kind": ev.kind, "status": ev.result,
                    "duplicate": result.duplicate, "device_at": ev.device_at, "received_at": ev.received_at,
                    "clamped": (ev.payload or {}).get("clamped")}
    return out, 202 if ev.result == svc.PENDING else 200


def _service_error(e: svc.VisitEventError) -> ApiError:
    return ApiError(e.status, e.code, e.message, e.field)


@blp.route("/visits/<int:visit_id>")
class VisitResource(MethodView):
    decorators = [login_required]

    @blp.response(200, TechVisitOut)
    def get(self, visit_id: int):
        """One visit (404 outside your scope)."""
        return visit_dict(get_scoped(Visit, visit_id, _user()))


@blp.route("/visits/<int:visit_id>/check-in")
class CheckIn(MethodView):
    decorators = [login_required]

    @blp.arguments(TechCheckInSchema)
    @blp.response(200, TechVisitOut)
    @blp.alt_response(202, schema=TechVisitOut, description="not used for check-in")
    def post(self, body: dict, visit_id: int):
        """Check in at the merchant (technician's own visit; idempotent by client_event_id)."""
        try:
            result = svc.check_in(visit_id, _user(), body.get("lat"), body.get("lon"), body.get("accuracy_m"),
                                  body["at"], body.get("fix_at"), body["client_event_id"], body.get("reason"),
                                  position_error=body.get("position_error"))
        except svc.VisitEventError as e:
            raise _service_error(e) from e
        return _answer(result)


def _wrong_code(_response: Response) -> bool:
    return bool(g.get("wrong_confirmation_code"))


#: Wrong confirmation codes at check-out, per visit (whoever sends them): a 6-digit code cannot be
#: found by trying.
CODE_ATTEMPTS = limiter.limit("5 per 15 minutes;20 per day", key_func=visit_key, deduct_when=_wrong_code,
                              scope="checkout-code")


@blp.route("/visits/<int:visit_id>/check-out")
class CheckOut(MethodView):
    decorators = [CODE_ATTEMPTS, login_required]

    @blp.doc(requestBody={"required": True, "content": {
        "application/json": {"schema": TechCheckOutSchema},
        "multipart/form-data": {"schema": {"type": "object", "properties": {
            "payload": {"type": "string", "description": "the JSON body (without photos)"},
            "photos": {"type": "array", "items": {"type": "string", "format": "binary"}, "maxItems": MAX_PHOTOS}},
            "required": ["payload"]}}}})
    @blp.response(200, TechVisitOut)
    @blp.alt_response(202, schema=TechVisitOut, description="held until the visit's check-in arrives")
    def post(self, visit_id: int):
        """Check out with the outcome (idempotent by client_event_id; photos by multipart or base64)."""
        body, photos = _check_out_body()
        try:
            result = svc.check_out(visit_id, _user(), body["outcome"], body["notes"], body["at"],
                                   body["client_event_id"], body["parts_used"], body.get("old_serial"),
                                   body.get("new_serial"), body.get("confirmation_code"), photos,
                                   upload_dir=current_app.config["UPLOAD_DIR"], reason=body.get("reason"),
                                   checklist=body["checklist"], feedback=body.get("feedback"),
                                   consumables_used=body["consumables_used"])
        except svc.VisitEventError as e:
            g.wrong_confirmation_code = e.code == "confirmation_mismatch"
            raise _service_error(e) from e
        return _answer(result)


def _check_out_body() -> tuple[dict, list[tuple[str, bytes]]]:
    """The validated check-out body and its photos, from JSON or multipart."""
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        raw = request.form.get("payload")
        if raw is None:
            raise ApiError(422, "invalid", "payload: send the check-out fields as JSON in a 'payload' part",
                           "payload")
        try:
            data = json.loads(raw)
        except ValueError as e:
            raise ApiError(422, "invalid", "payload: not valid JSON", "payload") from e
        files = request.files.getlist("photos")
        photos = [(f.filename or "photo", f.read()) for f in files if f and (f.filename or f.content_length)]
    else:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise ApiError(422, "invalid", "Send a JSON object (Content-Type: application/json).", None)
        photos = None
    try:
        body = TechCheckOutSchema().load(data)
    except ValidationError as e:
        field, msg = _first_error(e.normalized_messages())
        raise ApiError(422, "invalid", f"{field}: {msg}", field) from e
    if photos is None:
        photos = [(p["filename"], _b64(p["data"], i)) for i, p in enumerate(body["photos"], 1)]
    return body, photos


def _first_error(messages: Any, path: str = "") -> tuple[str, str]:
    """The first field at fault as a path (``checklist[2].value``) and its message."""
    if isinstance(messages, dict) and messages:
        key, inner = next(iter(messages.items()))
        sub = f"{path}[{key}]" if isinstance(key, int) else (f"{path}.{key}" if path else str(key))
        return _first_error(inner, sub)
    if isinstance(messages, list) and messages:
        return _first_error(messages[0], path)
    return path, str(messages)


def _b64(data: str, i: int) -> bytes:
    if data.startswith("data:") and "," in data:
        data = data.split(",", 1)[1]
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as e:
        raise ApiError(422, "invalid", f"photos: photo {i} is not valid base64", "photos") from e


@blp.route("/tech/route")
class TechRoute(MethodView):
    decorators = [login_required]

    @blp.arguments(TechRouteQuery, location="query")
    @blp.response(200, TechRouteOut)
    def get(self, args: dict):
        """The logged-in technician's stops of a day (default today, local time) in route order."""
        user = _user()
        if user.role != Role.TECHNICIAN:
            raise ApiError(403, "forbidden", "Only technicians have a route of their own.")
        day: date = args.get("date") or today()
        tech, route, visits = day_visits(user, day)
        return {"date": day, "technician": {"id": tech.id, "name": tech.name} if tech else {},
                "route_id": route.id if route else None, "stops": [visit_dict(v) for v in visits]}
