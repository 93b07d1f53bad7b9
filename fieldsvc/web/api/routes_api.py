"""`GET /api/v1/routes?date=D[&technician=ID][&contractor=CODE]`: stored routes of a day (DESIGN §6)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask.views import MethodView
from flask_login import current_user, login_required
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields

from fieldsvc.dates import parse_date_input
from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.scope import scoped
from fieldsvc.web.dispatcher.data import day_routes
from fieldsvc.web.errors import ApiError
from fieldsvc.web.ids import DbInt

blp = Blueprint("routes_api", __name__, url_prefix="/api/v1/routes", description="Stored daily routes")


MIN_DAY, MAX_DAY = dt.date(1950, 1, 1), dt.date(2150, 12, 31)


class DateField(fields.Field):
    """A date as ISO (2026-11-22) or Jalali (1405/09/01)."""

    def _deserialize(self, value, attr, data, **kwargs: Any):
        try:
            day = parse_date_input(str(value), "fa")
        except ValueError as e:
            raise ValidationError(str(e)) from None
        if not MIN_DAY <= day <= MAX_DAY:
            raise ValidationError(f"date {day.isoformat()} is outside {MIN_DAY.year}–{MAX_DAY.year}")
        return day

    def _jsonschema_type_mapping(self) -> dict:
        return {"type": "string", "format": "date"}


class RoutesQuery(Schema):
    date = DateField(required=True, metadata={"description": "2026-11-22 or Jalali 1405/09/01"})
    technician = DbInt(metadata={"description": "only this technician's route"})
    contractor = fields.String(metadata={"description": "contractor code (admins; others see their own)"})


class MerchantRef(Schema):
    id = fields.Integer()
    name = fields.String()
    lat = fields.Float()
    lon = fields.Float()
    address = fields.String()


class WindowSchema(Schema):
    start = fields.String(metadata={"description": "opening interval start (ISO, aware)"})
    end = fields.String()


class StopSchema(Schema):
    visit_id = fields.Integer()
    kind = fields.String(metadata={"description": "pm, em, install or removal"})
    status = fields.String()
    position = fields.Integer(allow_none=True)
    merchant = fields.Nested(MerchantRef)
    terminals = fields.List(fields.String())
    eta = fields.String(allow_none=True, metadata={"description": "arrival (ISO, aware)"})
    planned_start = fields.String(allow_none=True)
    planned_end = fields.String(allow_none=True)
    window = fields.Nested(WindowSchema, allow_none=True)
    tracking_number = fields.String(allow_none=True)


class TechRef(Schema):
    id = fields.Integer()
    name = fields.String()


class RouteSchema(Schema):
    id = fields.Integer()
    technician = fields.Nested(TechRef)
    date = fields.String()
    locked = fields.Boolean()
    stops = fields.List(fields.Nested(StopSchema))
    travel_seconds = fields.Integer()
    distance_m = fields.Integer()
    service_seconds = fields.Integer()
    waiting_seconds = fields.Integer()
    start_at = fields.String(allow_none=True)
    end_at = fields.String(allow_none=True)
    break_start = fields.String(allow_none=True)
    break_end = fields.String(allow_none=True)


@blp.route("")
class Routes(MethodView):
    decorators = [login_required]

    @blp.arguments(RoutesQuery, location="query")
    @blp.response(200, RouteSchema(many=True))
    def get(self, args: dict):
        """The stored routes of a day that you may see, one per technician, stops in order."""
        user = current_user._get_current_object()
        day: dt.date = args["date"]
        contractor_id = None
        if args.get("contractor"):
            con = db.session.scalars(scoped(m.Contractor, user).where(m.Contractor.code == args["contractor"])).first()
            if con is None:
                raise ApiError(404, "not_found", f"contractor {args['contractor']} not found", "contractor")
            contractor_id = con.id
        return day_routes(user, day, technician_id=args.get("technician"), contractor_id=contractor_id)
