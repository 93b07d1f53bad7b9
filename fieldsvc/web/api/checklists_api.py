"""PM inspection checklists API (issue 23.5): list, create (with items), add and retire items,
and one visit's results. A replayed create or add answers 409 and writes nothing new; every
refusal names the field (``items[2].min_value``)."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_login import current_user, login_required
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from fieldsvc.visits import models as m
from fieldsvc.visits.field import checklists as svc
from fieldsvc.visits.scope import get_scoped
from fieldsvc.visits.service_seed_models import ItemKind, OnFail
from fieldsvc.web.errors import ApiError

blp = Blueprint("checklists_api", __name__, url_prefix="/api/v1", description="PM inspection checklists")


class ChecklistItemIn(Schema):
    label = fields.String(required=True, validate=validate.Length(1, 200))
    label_fa = fields.String(load_default="", validate=validate.Length(max=200))
    kind = fields.String(load_default=ItemKind.PASS_FAIL.value, validate=validate.OneOf([k.value for k in ItemKind]))
    unit = fields.String(load_default="", validate=validate.Length(max=16))
    min_value = fields.Float(allow_none=True, load_default=None, allow_nan=False)
    max_value = fields.Float(allow_none=True, load_default=None, allow_nan=False)
    required = fields.Boolean(load_default=True)
    on_fail = fields.String(load_default=OnFail.NOTHING.value, validate=validate.OneOf([k.value for k in OnFail]))


class ChecklistIn(Schema):
    psp = fields.String(load_default=None, allow_none=True, metadata={"description": "PSP code (admins only)"})
    family = fields.String(required=True, validate=validate.Length(1, 32))
    model = fields.String(load_default="", validate=validate.Length(max=64))
    name = fields.String(required=True, validate=validate.Length(1, 200))
    items = fields.List(fields.Nested(ChecklistItemIn), load_default=list)


class ChecklistItemOut(Schema):
    id = fields.Integer()
    position = fields.Integer()
    label = fields.String()
    label_fa = fields.String()
    kind = fields.String()
    unit = fields.String()
    min_value = fields.Float(allow_none=True)
    max_value = fields.Float(allow_none=True)
    required = fields.Boolean()
    on_fail = fields.String()
    active = fields.Boolean()


class ChecklistOut(Schema):
    id = fields.Integer()
    psp_id = fields.Integer()
    family = fields.String()
    model = fields.String()
    name = fields.String()
    active = fields.Boolean()
    items = fields.List(fields.Nested(ChecklistItemOut))


class InspectionOut(Schema):
    visit_id = fields.Integer()
    answers = fields.List(fields.Dict())
    feedback = fields.Dict(allow_none=True)


def _user() -> m.User:
    return current_user._get_current_object()


def _error(e: svc.ChecklistError) -> ApiError:
    return ApiError(e.status, e.code, e.message, e.field)


def _item(d: dict[str, Any]) -> svc.ItemInput:
    return svc.ItemInput(**d)


@blp.route("/checklists")
class Checklists(MethodView):
    decorators = [login_required]

    @blp.response(200, ChecklistOut(many=True))
    def get(self):
        """The checklists you may see (PSP: its own; dispatchers: those of the PSPs they serve)."""
        return svc.visible_checklists(_user())

    @blp.arguments(ChecklistIn)
    @blp.response(201, ChecklistOut)
    def post(self, body: dict):
        """Create a checklist for a terminal family (or one model) with its items (PSP, admin)."""
        try:
            return svc.create_checklist(_user(), family=body["family"], model=body["model"], name=body["name"],
                                        psp_code=body.get("psp"), items=[_item(i) for i in body["items"]])
        except svc.ChecklistError as e:
            raise _error(e) from e


@blp.route("/checklists/<int:checklist_id>")
class OneChecklist(MethodView):
    decorators = [login_required]

    @blp.response(200, ChecklistOut)
    def get(self, checklist_id: int):
        """One checklist with its items (retired ones too, ``active`` false)."""
        return svc.get_checklist(_user(), checklist_id)


@blp.route("/checklists/<int:checklist_id>/items")
class ChecklistItems(MethodView):
    decorators = [login_required]

    @blp.arguments(ChecklistItemIn)
    @blp.response(201, ChecklistItemOut)
    def post(self, body: dict, checklist_id: int):
        """Add an item at the end (409 when an active item has the same text)."""
        try:
            return svc.add_item(_user(), checklist_id, _item(body))
        except svc.ChecklistError as e:
            raise _error(e) from e


@blp.route("/checklists/<int:checklist_id>/items/<int:item_id>/retire")
class RetireItem(MethodView):
    decorators = [login_required]

    @blp.response(200, ChecklistItemOut)
    def post(self, checklist_id: int, item_id: int):
        """Retire an item (idempotent; its past results stay)."""
        return svc.retire_item(_user(), checklist_id, item_id)


@blp.route("/visits/<int:visit_id>/inspection")
class VisitInspection(MethodView):
    decorators = [login_required]

    @blp.response(200, InspectionOut)
    def get(self, visit_id: int):
        """A visit's checklist answers and the merchant's feedback (404 outside your scope)."""
        visit = get_scoped(m.Visit, visit_id, _user())
        fb = svc.feedback_of(visit.id)
        return {"visit_id": visit.id, "answers": [svc.result_dict(r) for r in svc.visit_results([visit.id]).get(visit.id, [])],
                "feedback": None if fb is None else {"score": fb.score, "comment": fb.comment, "declined": fb.declined}}
