"""Work orders API: create one, list with filters, one order, cancel, reopen, those at risk.
Rules live in `fieldsvc.visits.orders.service` and `fieldsvc.visits.plans.order_risks`."""
from __future__ import annotations

from datetime import timezone
from typing import Any

from flask.views import MethodView
from flask_login import current_user, login_required
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from fieldsvc.visits.lifecycle_models import OrderKind, WorkOrder
from fieldsvc.visits.orders import service as svc
from fieldsvc.visits.plans.order_risks import orders_at_risk
from fieldsvc.visits.states import OrderStatus
from fieldsvc.web.errors import ApiError

blp = Blueprint("orders_api", __name__, url_prefix="/api/v1/work-orders",
                description="Work orders: install, removal, relocation, replacement")

_aware = {"format": "iso", "default_timezone": timezone.utc}


class OrderCreateSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in OrderKind]))
    merchant = fields.String(required=True, validate=validate.Length(1, 32),
                             metadata={"description": "the merchant's code"})
    terminal_serial = fields.String(load_default="", validate=validate.Length(max=64),
                                    metadata={"description": "removal, relocation, replacement: the terminal there now"})
    model = fields.String(load_default="", validate=validate.Length(max=64),
                          metadata={"description": "install, replacement: the model to put in"})
    family = fields.String(load_default="", validate=validate.Length(max=32))
    target_merchant = fields.String(load_default="", validate=validate.Length(max=32),
                                    metadata={"description": "relocation: the merchant's code it moves to"})
    notes = fields.String(load_default="", validate=validate.Length(max=2000))


class OrderQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf([s.value for s in OrderStatus]))
    kind = fields.String(validate=validate.OneOf([k.value for k in OrderKind]))


class ReasonSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 500))


class OrderSchema(Schema):
    id = fields.Integer()
    number = fields.String()
    kind = fields.String()
    status = fields.String()
    merchant = fields.String()
    merchant_name = fields.String()
    target_merchant = fields.String(allow_none=True)
    terminal_serial = fields.String(allow_none=True)
    model = fields.String()
    family = fields.String()
    requested_at = fields.AwareDateTime(**_aware)
    deadline = fields.AwareDateTime(**_aware)
    visit_id = fields.Integer(allow_none=True)
    installed_serial = fields.String(allow_none=True)
    removed_serial = fields.String(allow_none=True)
    merchant_confirmed = fields.Boolean()
    done_at = fields.AwareDateTime(allow_none=True, **_aware)
    reason = fields.String()


class RiskSchema(Schema):
    order = fields.Nested(OrderSchema)
    reason = fields.String()
    message = fields.String()


def order_dict(o: WorkOrder) -> dict[str, Any]:
    return {"id": o.id, "number": o.number, "kind": o.kind, "status": o.status, "merchant": o.merchant.code,
            "merchant_name": o.merchant.name,
            "target_merchant": o.target_merchant.code if o.target_merchant else None,
            "terminal_serial": o.terminal.serial if o.terminal else None, "model": o.model, "family": o.family,
            "requested_at": o.requested_at, "deadline": o.deadline, "visit_id": o.visit_id,
            "installed_serial": o.installed_serial, "removed_serial": o.removed_serial,
            "merchant_confirmed": o.merchant_confirmed, "done_at": o.done_at, "reason": o.reason}


def _user():
    return current_user._get_current_object()


def _err(e: svc.OrderError) -> ApiError:
    return ApiError(e.status, e.code, e.message, e.field)


@blp.route("")
class Orders(MethodView):
    decorators = [login_required]

    @blp.arguments(OrderQuerySchema, location="query")
    @blp.response(200, OrderSchema(many=True))
    def get(self, args: dict):
        """Orders you may see, by deadline; filter by `status` and `kind`."""
        try:
            return [order_dict(o) for o in svc.list_orders(_user(), args.get("status"), args.get("kind"))]
        except svc.OrderError as e:
            raise _err(e) from e

    @blp.arguments(OrderCreateSchema)
    @blp.response(201, OrderSchema)
    def post(self, body: dict):
        """Create an order (PSP or admin); its deadline comes from the contract and its calendar."""
        try:
            return order_dict(svc.create_order(svc.OrderInput(**body), _user()))
        except svc.OrderError as e:
            raise _err(e) from e


@blp.route("/at-risk")
class AtRisk(MethodView):
    decorators = [login_required]

    @blp.response(200, RiskSchema(many=True))
    def get(self):
        """Open orders that cannot meet their deadline, with the reason."""
        return [{"order": order_dict(r.order), "reason": r.reason, "message": r.message}
                for r in orders_at_risk(_user())]


@blp.route("/<int:order_id>")
class OneOrder(MethodView):
    decorators = [login_required]

    @blp.response(200, OrderSchema)
    def get(self, order_id: int):
        """One order (404 outside your scope)."""
        return order_dict(svc.get_order(_user(), order_id))


@blp.route("/<int:order_id>/cancel")
class Cancel(MethodView):
    decorators = [login_required]

    @blp.arguments(ReasonSchema)
    @blp.response(200, OrderSchema)
    def post(self, body: dict, order_id: int):
        """Cancel with a reason (its visit is cancelled unless begun)."""
        try:
            return order_dict(svc.cancel_order(svc.get_order(_user(), order_id), _user(), body["reason"]))
        except svc.OrderError as e:
            raise _err(e) from e


@blp.route("/<int:order_id>/reopen")
class Reopen(MethodView):
    decorators = [login_required]

    @blp.response(200, OrderSchema)
    def post(self, order_id: int):
        """A failed order gets a new visit and is open again."""
        return order_dict(svc.reopen_order(svc.get_order(_user(), order_id), _user()))
