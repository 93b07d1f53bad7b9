"""Stock API: places and what they hold, receiving, transfers, spares into a van, consumables, and
a technician's van. Rules live in `fieldsvc.visits.stock`."""
from __future__ import annotations

from datetime import timezone
from typing import Any

from flask.views import MethodView
from flask_login import current_user, login_required
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from fieldsvc.visits.desk.parts_wait import held_for_parts
from fieldsvc.visits.lifecycle_models import StockPlace
from fieldsvc.visits.stock import service as svc
from fieldsvc.visits.stock.moves import StockError, levels, terminals_at
from fieldsvc.visits.stock.places import place_label
from fieldsvc.web.errors import ApiError
from fieldsvc.web.ids import DbInt

blp = Blueprint("stock_api", __name__, url_prefix="/api/v1/stock",
                description="Stock: terminals and parts per place, transfers, receiving, vans")

_aware = {"format": "iso", "default_timezone": timezone.utc}


class PlaceSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    name = fields.String()
    label = fields.String()


class StockTerminalSchema(Schema):
    serial = fields.String()
    model = fields.String()
    family = fields.String()
    status = fields.String()
    faulty = fields.Boolean()
    since = fields.AwareDateTime(**_aware)


class LevelSchema(Schema):
    item = fields.String()
    label = fields.String()
    quantity = fields.Integer()
    min_quantity = fields.Integer()
    low = fields.Boolean()


class PlaceStockSchema(PlaceSchema):
    terminals = fields.List(fields.Nested(StockTerminalSchema))
    consumables = fields.List(fields.Nested(LevelSchema))


class ReceiveSchema(Schema):
    place_id = DbInt(required=True, strict=True)
    serials = fields.List(fields.String(validate=validate.Length(1, 64)), required=True,
                          validate=validate.Length(1, 500))
    model = fields.String(required=True, validate=validate.Length(1, 64))
    family = fields.String(load_default="", validate=validate.Length(max=32))
    psp_id = DbInt(load_default=None, allow_none=True, strict=True)


class TransferSchema(Schema):
    from_place_id = DbInt(required=True, strict=True)
    to_place_id = DbInt(required=True, strict=True)
    serials = fields.List(fields.String(validate=validate.Length(1, 64)), required=True,
                          validate=validate.Length(1, 500))
    reason = fields.String(load_default="transfer", validate=validate.Length(max=200))


class SpareSchema(Schema):
    family = fields.String(required=True, validate=validate.Length(1, 32))
    from_place_id = DbInt(load_default=None, allow_none=True, strict=True)


class PartsSchema(Schema):
    item = fields.String(required=True, validate=validate.Length(1, 32))
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(-1_000_000, 1_000_000))
    from_place_id = DbInt(load_default=None, allow_none=True, strict=True)
    to_place_id = DbInt(load_default=None, allow_none=True, strict=True)
    reason = fields.String(load_default="", validate=validate.Length(max=200))


class CountSchema(Schema):
    moved = fields.Integer()
    serial = fields.String()


def place_dict(p: StockPlace, *, contents: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"id": p.id, "kind": p.kind, "name": p.name, "label": place_label(p)}
    if contents:
        out["terminals"] = [{"serial": t.serial, "model": t.model, "family": t.family, "status": t.status,
                             "faulty": tp.faulty, "since": tp.since} for t, tp in terminals_at(p)]
        out["consumables"] = [{"item": lv.item, "label": lv.label, "quantity": lv.quantity,
                               "min_quantity": lv.min_quantity, "low": lv.low} for lv in levels(p)]
    return out


def _user():
    return current_user._get_current_object()


def _err(e: StockError) -> ApiError:
    return ApiError(e.status, e.code, e.message, e.field)


@blp.route("/places")
class Places(MethodView):
    decorators = [login_required]

    @blp.response(200, PlaceSchema(many=True))
    def get(self):
        """Warehouses, vans, repair and scrap places you may see."""
        return [place_dict(p) for p in svc.visible_places(_user())]


@blp.route("/places/<int:place_id>")
class OnePlace(MethodView):
    decorators = [login_required]

    @blp.response(200, PlaceStockSchema)
    def get(self, place_id: int):
        """What a place holds: terminals (faulty flagged) and consumables (low flagged)."""
        return place_dict(svc.get_place(_user(), place_id), contents=True)


@blp.route("/van")
class Van(MethodView):
    decorators = [login_required]

    @blp.response(200, PlaceStockSchema)
    def get(self):
        """The technician's own van and its contents."""
        try:
            return place_dict(svc.technician_van(_user()), contents=True)
        except StockError as e:
            raise _err(e) from e


@blp.route("/receive")
class Receive(MethodView):
    decorators = [login_required]

    @blp.arguments(ReceiveSchema)
    @blp.response(200, CountSchema)
    def post(self, body: dict):
        """New terminals arrive at a warehouse (all or nothing)."""
        try:
            return {"moved": svc.receive_terminals(_user(), body["place_id"], body["serials"], body["model"],
                                                   body["family"], body["psp_id"])}
        except StockError as e:
            raise _err(e) from e


@blp.route("/transfers")
class Transfers(MethodView):
    decorators = [login_required]

    @blp.arguments(TransferSchema)
    @blp.response(200, CountSchema)
    def post(self, body: dict):
        """Move terminals between places; each must be in the source now (all or nothing)."""
        try:
            return {"moved": svc.transfer_terminals(_user(), body["from_place_id"], body["to_place_id"],
                                                    body["serials"], body["reason"])}
        except StockError as e:
            raise _err(e) from e


@blp.route("/spares")
class Spares(MethodView):
    decorators = [login_required]

    @blp.arguments(SpareSchema)
    @blp.response(200, CountSchema)
    def post(self, body: dict):
        """A technician takes a good spare of a family into the van (409 no_spare when none is left)."""
        try:
            t = svc.take_spare(_user(), body["family"], body["from_place_id"])
        except StockError as e:
            raise _err(e) from e
        return {"moved": 1, "serial": t.serial}


@blp.route("/parts")
class Parts(MethodView):
    decorators = [login_required]

    @blp.arguments(PartsSchema)
    @blp.response(200, CountSchema)
    def post(self, body: dict):
        """Receive (no source), use (no destination) or transfer a count of paper rolls, batteries or SIMs."""
        try:
            svc.move_parts(_user(), body["item"], body["quantity"], body["from_place_id"], body["to_place_id"],
                           body["reason"])
        except StockError as e:
            raise _err(e) from e
        return {"moved": body["quantity"]}


class HeldCallSchema(Schema):
    call_id = fields.Integer()
    tracking_number = fields.String()
    merchant = fields.String()
    terminal_serial = fields.String()
    since = fields.AwareDateTime(**_aware)
    waiting_hours = fields.Float()
    parts = fields.List(fields.String())


@blp.route("/held-calls")
class HeldCalls(MethodView):
    decorators = [login_required]

    @blp.response(200, HeldCallSchema(many=True))
    def get(self):
        """EM calls held for parts (last visit: needs parts), longest wait first."""
        return [{"call_id": h.call.id, "tracking_number": h.call.tracking_number, "merchant": h.call.merchant.name,
                 "terminal_serial": h.call.terminal.serial, "since": h.since, "waiting_hours": h.waiting_hours,
                 "parts": h.parts} for h in held_for_parts(_user())]
