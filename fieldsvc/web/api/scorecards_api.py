"""Contractor scorecards and the penalty ledger as JSON (and the workbook as .xlsx).

``GET /api/v1/scorecards`` answers ``Scorecard.to_dict()``: the same numbers as the workbook of
``GET /api/v1/scorecards.xlsx``. Rules live in `fieldsvc.visits.scorecards.kpis`, `.penalty_ledger`
and `.export`; scope (PSP staff see their PSP's contracts, dispatchers their contractor) comes
from `fieldsvc.visits.scope`.
"""
from __future__ import annotations

from datetime import timezone
from typing import Any

from flask import Response
from flask.views import MethodView
from flask_login import current_user, login_required
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from fieldsvc.visits import models as m
from fieldsvc.visits.scorecards.workbook import export_scorecard
from fieldsvc.visits.scorecards.ledger import confirm_line, ledger_lines, recompute_period, waive_line
from fieldsvc.visits.scope import require_role
from fieldsvc.visits.scorecards.kpis import (GROUPINGS, KPI_KEYS, MAX_DATE, MIN_DATE, compute_scorecard,
                                       resolve_filters)
from fieldsvc.web.errors import ApiError
from fieldsvc.web.i18n import lang

blp = Blueprint("scorecards_api", __name__, url_prefix="/api/v1",
                description="Contractor scorecards (KPIs per period) and the penalty ledger")

VIEW_ROLES = (m.Role.PSP, m.Role.DISPATCHER, m.Role.ADMIN)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_DAYS = 366
_aware = {"format": "iso", "default_timezone": timezone.utc}


class PeriodArgs(Schema):
    start = fields.Date(required=True, data_key="from", metadata={"description": "first day, YYYY-MM-DD"})
    end = fields.Date(required=True, data_key="to", metadata={"description": "last day (inclusive)"})
    contractor = fields.String(load_default=None, metadata={"description": "a contractor code"})
    psp = fields.String(load_default=None, metadata={"description": "a PSP code"})

    @validates_schema
    def _order(self, data: dict, **_kw: Any) -> None:
        for key, name in (("start", "from"), ("end", "to")):
            if not MIN_DATE <= data[key] <= MAX_DATE:
                raise ValidationError(f"dates must lie between {MIN_DATE} and {MAX_DATE}", name)
        if data["end"] < data["start"]:
            raise ValidationError("'to' must not be before 'from'", "to")
        if (data["end"] - data["start"]).days >= MAX_DAYS:
            raise ValidationError(f"the period may not exceed {MAX_DAYS} days", "to")


class ScorecardArgs(PeriodArgs):
    group_by = fields.String(load_default="contractor", validate=validate.OneOf(GROUPINGS),
                             metadata={"description": "contractor, region, or technician (dispatchers)"})
    breaches = fields.Boolean(load_default=True,
                              metadata={"description": "include each contractor's breach list (as the workbook does)"})


class XlsxArgs(PeriodArgs):
    lang = fields.String(load_default=None, validate=validate.OneOf(["fa", "en"]),
                         metadata={"description": "language of the workbook (default: yours)"})


_kpi_fields: dict[str, fields.Field] = {
    k: (fields.Float(allow_none=True) if k.endswith(("_pct", "_h")) or k in ("score", "satisfaction_avg")
        else fields.Integer(allow_none=True)) for k in KPI_KEYS}
KpiRowSchema = Schema.from_dict({
    "key": fields.Integer(), "code": fields.String(), "name": fields.String(),
    "name_fa": fields.String(), "contractor_code": fields.String(),
    "contract_kind": fields.String(metadata={"description": "contractor rows: uc (contractor) or ola (internal team)"}),
    **_kpi_fields,
    "penalties": fields.Dict(keys=fields.String(), values=fields.Integer(),
                             metadata={"description": "Rial by penalty kind"}),
    "status": fields.Dict(keys=fields.String(), values=fields.String(),
                          metadata={"description": "met, at_risk or breached per KPI with a target"}),
}, name="KpiRow")


class WeekSchema(Schema):
    week_start = fields.String(metadata={"format": "date"})
    week_end = fields.String(metadata={"format": "date"})
    em_calls = fields.Integer()
    response_met_pct = fields.Float(allow_none=True)
    resolution_met_pct = fields.Float(allow_none=True)
    pm_due = fields.Integer()
    pm_compliance_pct = fields.Float(allow_none=True)


class BreachSchema(Schema):
    contractor_id = fields.Integer()
    contract_id = fields.Integer()
    psp_id = fields.Integer()
    kind = fields.String()
    reference = fields.String()
    occurred_on = fields.String(metadata={"format": "date"})
    deadline = fields.String(metadata={"format": "date-time"})
    done_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    minutes_late = fields.Integer()
    days_late = fields.Integer()
    service_call_id = fields.Integer(allow_none=True)
    visit_id = fields.Integer(allow_none=True)
    label = fields.String()


class ScorecardSchema(Schema):
    start = fields.String(data_key="from", attribute="from", metadata={"format": "date"})
    end = fields.String(data_key="to", attribute="to", metadata={"format": "date"})
    group_by = fields.String()
    generated_at = fields.String(metadata={"format": "date-time"})
    weights = fields.Dict(keys=fields.String(), values=fields.Float())
    targets = fields.Dict(keys=fields.String(), values=fields.Float())
    rows = fields.List(fields.Nested(KpiRowSchema), metadata={"description": "ranked by score"})
    trends = fields.Dict(keys=fields.String(), values=fields.List(fields.Nested(WeekSchema)))
    breaches = fields.Dict(keys=fields.String(), values=fields.List(fields.Nested(BreachSchema)))


class LedgerArgs(PeriodArgs):
    status = fields.String(load_default=None, validate=validate.OneOf([s.value for s in m.PenaltyStatus]))
    kind = fields.String(load_default=None)


class PenaltyLineSchema(Schema):
    id = fields.Integer()
    contractor_id = fields.Integer()
    contract_id = fields.Integer()
    psp_id = fields.Integer()
    kind = fields.String()
    reference = fields.String()
    period = fields.String()
    occurred_on = fields.Date()
    service_call_id = fields.Integer(allow_none=True)
    visit_id = fields.Integer(allow_none=True)
    minutes_late = fields.Integer()
    amount_rial = fields.Integer()
    status = fields.String()
    reason = fields.String()
    decided_by_id = fields.Integer(allow_none=True)
    decided_at = fields.AwareDateTime(allow_none=True, **_aware)
    corrects_id = fields.Integer(allow_none=True)


class RecomputeBody(Schema):
    start = fields.Date(required=True, data_key="from")
    end = fields.Date(required=True, data_key="to")
    contractor = fields.String(load_default=None)


class RecomputeAnswer(Schema):
    created = fields.Integer()
    updated = fields.Integer()
    corrections = fields.Integer()
    deleted = fields.Integer()
    unchanged = fields.Integer()


class DecisionBody(Schema):
    reason = fields.String(load_default="", validate=validate.Length(max=2000))


def _user() -> m.User:
    user = current_user._get_current_object()
    require_role(user, *VIEW_ROLES)
    return user


@blp.route("/scorecards")
class Scorecards(MethodView):
    decorators = [login_required]

    @blp.arguments(ScorecardArgs, location="query")
    @blp.response(200, ScorecardSchema)
    def get(self, args: dict) -> dict:
        """KPIs per contractor (or region, or technician) for a period, ranked by score."""
        card = compute_scorecard(args["start"], args["end"], user=_user(), group_by=args["group_by"],
                                 psp_code=args["psp"], contractor_code=args["contractor"],
                                 with_breaches=args["breaches"])
        return card.to_dict()


@blp.route("/scorecards.xlsx")
class ScorecardsXlsx(MethodView):
    decorators = [login_required]

    @blp.arguments(XlsxArgs, location="query")
    @blp.doc(responses={"200": {"description": "the workbook", "content": {XLSX: {}}}})
    def get(self, args: dict) -> Response:
        """The scorecards workbook (Summary, one sheet per contractor, Penalties, Definitions)."""
        _card, data = export_scorecard(args["start"], args["end"], user=_user(), psp_code=args["psp"],
                                       contractor_code=args["contractor"], lang=args["lang"] or lang())
        name = f"scorecards_{args['start']:%Y%m%d}_{args['end']:%Y%m%d}.xlsx"
        return Response(data, mimetype=XLSX,
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})


@blp.route("/penalties")
class Penalties(MethodView):
    decorators = [login_required]

    @blp.arguments(LedgerArgs, location="query")
    @blp.response(200, PenaltyLineSchema(many=True))
    def get(self, args: dict) -> list[m.PenaltyLine]:
        """Penalty ledger lines of a period (by the day the breach belongs to)."""
        user = _user()
        psp_id, contractor_ids = resolve_filters(user, args["psp"], args["contractor"])
        return ledger_lines(args["start"], args["end"], user=user, psp_id=psp_id,
                            contractor_ids=contractor_ids, status=args["status"], kind=args["kind"])


@blp.route("/penalties/recompute")
class Recompute(MethodView):
    decorators = [login_required]

    @blp.arguments(RecomputeBody)
    @blp.response(200, RecomputeAnswer)
    def post(self, body: dict) -> Any:
        """Bring the ledger of a period up to date (idempotent; confirmed lines get corrections)."""
        if not all(MIN_DATE <= body[k] <= MAX_DATE for k in ("start", "end")):
            raise ApiError(422, "invalid", f"dates must lie between {MIN_DATE} and {MAX_DATE}", "from")
        if body["end"] < body["start"] or (body["end"] - body["start"]).days >= MAX_DAYS:
            raise ApiError(422, "invalid", "'to' must be on or after 'from', within a year", "to")
        user = _user()
        require_role(user, m.Role.PSP, m.Role.ADMIN)
        return recompute_period(body["start"], body["end"], user=user, contractor_code=body["contractor"])


@blp.route("/penalties/<int:line_id>/<any(confirm, waive):decision>")
class Decide(MethodView):
    decorators = [login_required]

    @blp.arguments(DecisionBody)
    @blp.response(200, PenaltyLineSchema)
    def post(self, body: dict, line_id: int, decision: str) -> m.PenaltyLine:
        """Confirm or waive (reason required) a proposed penalty line."""
        user = _user()
        if decision == "confirm":
            return confirm_line(line_id, user, body["reason"])
        try:
            return waive_line(line_id, user, body["reason"])
        except ValueError as e:
            raise ApiError(422, "reason_required", str(e), "reason") from e


class YearOnYearRowSchema(Schema):
    contractor = fields.String()
    kpi = fields.String()
    current = fields.Float(allow_none=True)
    previous = fields.Float(allow_none=True)
    change = fields.Float(allow_none=True, metadata={"description": "current − previous (points for %)"})
    change_pct = fields.Float(allow_none=True, metadata={"description": "relative change, % of previous"})


class YearOnYearSchema(Schema):
    start = fields.String(data_key="from")
    end = fields.String(data_key="to")
    previous_from = fields.String()
    previous_to = fields.String()
    rows = fields.List(fields.Nested(YearOnYearRowSchema))


@blp.route("/scorecards/year-on-year")
class ScorecardsYearOnYear(MethodView):
    decorators = [login_required]

    @blp.arguments(PeriodArgs, location="query")
    @blp.response(200, YearOnYearSchema)
    def get(self, args: dict) -> dict:
        """Each contractor's KPIs in the period beside the same Jalali period of the previous year."""
        from fieldsvc.visits.scorecards.year_on_year import compare

        d = compare(args["start"], args["end"], user=_user(), psp_code=args["psp"],
                    contractor_code=args["contractor"]).to_dict()
        d["start"], d["end"] = d.pop("from"), d.pop("to")
        return d
