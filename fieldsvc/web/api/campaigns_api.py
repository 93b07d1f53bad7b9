"""Campaigns API (issue 23.6): start a campaign (idempotent by its code), see its progress by
contractor, run its selection again, report remote results. Every refusal names the field or row."""
from __future__ import annotations

from datetime import timezone
from typing import Any

from flask.views import MethodView
from flask_login import current_user, login_required
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from fieldsvc.visits import models as m
from fieldsvc.visits.orders import campaigns as svc
from fieldsvc.visits.service_seed_models import CampaignKind
from fieldsvc.web.errors import ApiError

blp = Blueprint("campaigns_api", __name__, url_prefix="/api/v1", description="Campaigns over terminals")

_names = fields.List(fields.String(validate=validate.Length(max=64)), load_default=list)


class CampaignIn(Schema):
    psp = fields.String(load_default=None, allow_none=True, metadata={"description": "PSP code (admins only)"})
    code = fields.String(required=True, validate=validate.Length(1, 32),
                         metadata={"description": "your key: the same code and definition again answers the same campaign"})
    name = fields.String(required=True, validate=validate.Length(1, 200))
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in CampaignKind]))
    deadline = fields.Date(required=True)
    target_version = fields.String(load_default="", validate=validate.Length(max=64))
    target_model = fields.String(load_default="", validate=validate.Length(max=64))
    models = _names
    versions = _names
    regions = _names
    serials = fields.List(fields.String(validate=validate.Length(max=64)), load_default=list,
                          validate=validate.Length(max=svc.MAX_SERIALS))


class ProgressOut(Schema):
    contractor = fields.String()
    total = fields.Integer()
    done = fields.Integer()
    done_on_time = fields.Integer()
    failed = fields.Integer()
    pending = fields.Integer()
    overdue = fields.Integer()
    cancelled = fields.Integer()
    done_pct = fields.Float(allow_none=True)


class CampaignOut(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    kind = fields.String()
    method = fields.String()
    target_version = fields.String()
    target_model = fields.String()
    deadline = fields.Date()
    selection = fields.Dict()
    created = fields.Boolean()
    added = fields.Integer()
    progress = fields.List(fields.Nested(ProgressOut), metadata={"description": "per contractor, then the total"})


class ResultIn(Schema):
    serial = fields.String(required=True, validate=validate.Length(1, 64))
    status = fields.String(required=True, validate=validate.OneOf(["done", "failed"]))
    reason = fields.String(load_default="", validate=validate.Length(max=500))
    at = fields.AwareDateTime(load_default=None, allow_none=True, format="iso", default_timezone=timezone.utc)


class ResultsIn(Schema):
    results = fields.List(fields.Nested(ResultIn), required=True, validate=validate.Length(1, svc.MAX_RESULTS))


class ResultsOut(Schema):
    changed = fields.Integer()
    unchanged = fields.Integer()


def _user() -> m.User:
    return current_user._get_current_object()


def _error(e: svc.CampaignError) -> ApiError:
    return ApiError(e.status, e.code, e.message, e.field)


def campaign_dict(user: m.User, c: Any, **extra: Any) -> dict[str, Any]:
    rows = svc.progress(user, c)
    return {"id": c.id, "code": c.code, "name": c.name, "kind": c.kind, "method": c.method,
            "target_version": c.target_version, "target_model": c.target_model, "deadline": c.deadline,
            "selection": c.selection, "progress": [dict(vars(r), contractor=r.contractor or "total",
                                                        done_pct=r.done_pct) for r in rows], **extra}


@blp.route("/campaigns")
class Campaigns(MethodView):
    decorators = [login_required]

    @blp.response(200, CampaignOut(many=True))
    def get(self):
        """Campaigns you may see, with their progress."""
        user = _user()
        return [campaign_dict(user, c) for c in svc.visible_campaigns(user)]

    @blp.arguments(CampaignIn)
    @blp.response(201, CampaignOut)
    @blp.alt_response(200, schema=CampaignOut, description="the same campaign was started before")
    def post(self, body: dict):
        """Start a campaign (PSP, admin): tasks or work orders for every selected terminal."""
        user = _user()
        try:
            res = svc.start_campaign(user, svc.CampaignInput(**body))
        except svc.CampaignError as e:
            raise _error(e) from e
        return campaign_dict(user, res.campaign, created=res.created, added=res.added), 201 if res.created else 200


@blp.route("/campaigns/<int:campaign_id>")
class OneCampaign(MethodView):
    decorators = [login_required]

    @blp.response(200, CampaignOut)
    def get(self, campaign_id: int):
        """One campaign with its progress by contractor."""
        user = _user()
        return campaign_dict(user, svc.get_campaign(user, campaign_id))


@blp.route("/campaigns/<int:campaign_id>/run")
class RunCampaign(MethodView):
    decorators = [login_required]

    @blp.response(200, CampaignOut)
    def post(self, campaign_id: int):
        """Run the selection again: new matching terminals are added, nothing is duplicated."""
        user = _user()
        c = svc.get_campaign(user, campaign_id)
        added = svc.run_campaign(user, c)
        return campaign_dict(user, c, added=added)


@blp.route("/campaigns/<int:campaign_id>/results")
class CampaignResults(MethodView):
    decorators = [login_required]

    @blp.arguments(ResultsIn)
    @blp.response(200, ResultsOut)
    def post(self, body: dict, campaign_id: int):
        """Remote results from the terminal management system (all rows checked first; idempotent)."""
        user = _user()
        c = svc.get_campaign(user, campaign_id)
        try:
            return svc.record_results(user, c, [svc.ResultInput(**r) for r in body["results"]])
        except svc.CampaignError as e:
            raise _error(e) from e
