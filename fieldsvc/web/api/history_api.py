"""One terminal's and one merchant's timeline: `GET /api/v1/terminals/<serial>/history` and
`GET /api/v1/merchants/<id>/history` (entries oldest first, each with `at`, `kind` and details)."""
from __future__ import annotations

from flask import jsonify, request
from flask.views import MethodView
from flask_login import current_user, login_required
from flask_smorest import Blueprint

from fieldsvc.visits import models as m
from fieldsvc.visits.history import config, timeline
from fieldsvc.visits.scope import get_scoped, require_role
from fieldsvc.web.errors import ApiError

blp = Blueprint("history_api", __name__, url_prefix="/api/v1", description="Terminal and merchant timelines")
STAFF = (m.Role.PSP, m.Role.ADMIN, m.Role.DISPATCHER)


def _json(entries: list[dict]) -> list[dict]:
    return [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in e.items()} for e in entries]


@blp.route("/terminals/<serial>/history")
class TerminalHistory(MethodView):
    decorators = [login_required]

    @blp.response(200)
    def get(self, serial: str):
        """Every move, install, swap, PM, EM call, visit (check-in proof, photos, outcome, SLA) and order."""
        user = current_user._get_current_object()
        require_role(user, *STAFF)
        t = timeline.find_terminal(user, serial)
        return jsonify({"serial": t.serial, "model": t.model, "status": t.status,
                        "entries": _json(timeline.terminal_history(t))})


@blp.route("/merchants/<int:merchant_id>/history")
class MerchantHistory(MethodView):
    decorators = [login_required]

    @blp.response(200)
    def get(self, merchant_id: int):
        """The merchant's visits, calls and orders, oldest first."""
        user = current_user._get_current_object()
        require_role(user, *STAFF)
        mer = get_scoped(m.Merchant, merchant_id, user)
        return jsonify({"merchant": mer.code, "name": mer.name, "terminals": [t.serial for t in mer.terminals],
                        "entries": _json(timeline.merchant_history(mer))})


@blp.route("/terminals/<serial>/config")
class TerminalConfig(MethodView):
    decorators = [login_required]

    @blp.response(200)
    def get(self, serial: str):
        """The current configuration: firmware_version, connection_type, sim_number, switch MID/TID."""
        user = current_user._get_current_object()
        require_role(user, *STAFF)
        return jsonify(config.current_config(timeline.find_terminal(user, serial)))

    @blp.response(200)
    def post(self, serial: str):
        """Change some fields (PSP, admin); every change is a history entry; all checked first."""
        user = current_user._get_current_object()
        require_role(user, m.Role.PSP, m.Role.ADMIN)
        t = timeline.find_terminal(user, serial)
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not body:
            raise ApiError(422, "invalid", "Send a JSON object of configuration fields.", None)
        try:
            config.change_config(user, t, body)
        except config.ConfigError as e:
            raise ApiError(e.status, e.code, e.message, e.field) from e
        return jsonify(config.current_config(t))
