"""Planning runs from the web: `POST /api/v1/plans` starts one in the background (202 {id}),
`GET /api/v1/plans/<id>` reports its progress and result, `DELETE` cancels it."""
from __future__ import annotations

from flask.views import MethodView
from flask_login import current_user, login_required
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.plans.day_over import notices
from fieldsvc.visits.plans.runs import cancel_run, running_plan
from fieldsvc.visits.scope import get_scoped, require_role, scoped
from fieldsvc.web.api.routes_api import DateField
from fieldsvc.web.errors import ApiError
from fieldsvc.web.i18n import lang
from fieldsvc.web.plan_start import start_plan

blp = Blueprint("plans_api", __name__, url_prefix="/api/v1/plans", description="Planning runs")


class PlanRequest(Schema):
    date = DateField(required=True, metadata={"description": "day to plan: 2026-11-23 or 1405/09/02"})
    contractor = fields.String(metadata={"description": "contractor code (required for admins)"})
    time_limit = fields.Integer(validate=validate.Range(1, 600),
                                metadata={"description": "solver seconds (default: server setting)"})


class PlanCreated(Schema):
    id = fields.Integer()


class PlanStatusSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    date = fields.Date()
    contractor_id = fields.Integer(allow_none=True)
    status = fields.String(metadata={"description": "queued, running, succeeded, failed or cancelled"})
    progress = fields.Float(metadata={"description": "0..1"})
    message = fields.String(metadata={"description": "progress message; when every technician's working day "
                                                    "is over, that notice in the request's language"})
    notices = fields.List(fields.Dict(), metadata={
        "description": "[{code, technician_id, text}]: technicians whose working day is over (left out of a "
                       "re-plan of today), and day_over_all when nobody could be planned"})
    summary = fields.Dict()
    unassigned = fields.List(fields.Dict())
    error = fields.String()
    created_at = fields.String()
    finished_at = fields.String(allow_none=True)


def _run_dict(run: m.PlanRun) -> dict:
    said = notices(run.summary, lang()) if run.status == m.PlanStatus.SUCCEEDED and run.kind == "daily" else []
    all_over = next((n["text"] for n in said if n["code"] == "day_over_all"), None)
    return {"id": run.id, "kind": run.kind, "date": run.date, "contractor_id": run.contractor_id,
            "status": run.status, "progress": run.progress, "message": all_over or run.message, "notices": said,
            "summary": run.summary or {}, "unassigned": run.unassigned or [], "error": run.error or "",
            "created_at": run.created_at.isoformat(),
            "finished_at": run.finished_at.isoformat() if run.finished_at else None}


def _contractor_for(user: m.User, code: str | None) -> m.Contractor:
    if code:
        con = db.session.scalars(scoped(m.Contractor, user).where(m.Contractor.code == code)).first()
        if con is None:
            raise ApiError(404, "not_found", f"contractor {code} not found", "contractor")
        return con
    if user.contractor_id is None:
        raise ApiError(422, "invalid", "contractor: choose the contractor to plan", "contractor")
    return get_scoped(m.Contractor, user.contractor_id, user)


@blp.route("")
class Plans(MethodView):
    decorators = [login_required]

    @blp.arguments(PlanRequest)
    @blp.response(202, PlanCreated)
    def post(self, body: dict):
        """Start planning a contractor's day in the background; poll `GET /api/v1/plans/<id>`."""
        user = current_user._get_current_object()
        require_role(user, m.Role.ADMIN, m.Role.DISPATCHER)
        con = _contractor_for(user, body.get("contractor"))
        day = body["date"]
        busy = running_plan(con.id, day)
        if busy is not None:
            raise ApiError(409, "plan_running", f"plan run {busy.id} for this day is still running", "date")
        return {"id": start_plan(user, con, day, body.get("time_limit")).id}


@blp.route("/<int:run_id>")
class PlanOne(MethodView):
    decorators = [login_required]

    @blp.response(200, PlanStatusSchema)
    def get(self, run_id: int):
        """Status, progress (0..1), message and result summary of a planning run."""
        user = current_user._get_current_object()
        require_role(user, m.Role.ADMIN, m.Role.DISPATCHER)  # other roles: 403, not a misleading 404
        run = get_scoped(m.PlanRun, run_id, user)
        db.session.refresh(run)
        return _run_dict(run)

    @blp.response(200, PlanStatusSchema)
    def delete(self, run_id: int):
        """Cancel a queued or running run: its result is not stored, the previous plan stays."""
        user = current_user._get_current_object()
        require_role(user, m.Role.ADMIN, m.Role.DISPATCHER)
        run = get_scoped(m.PlanRun, run_id, user)
        return _run_dict(cancel_run(run.id, actor=user))
