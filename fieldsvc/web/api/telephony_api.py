"""Phone system webhook: `POST /api/v1/telephony/incoming` (caller number, agent, optional ring id)
from an Asterisk/Issabel dial plan, authenticated by the PSP's telephony token in the
``X-Telephony-Token`` header (or a ``token`` form field for dial plans that can only post a body).
JSON or form-encoded. Answers with the merchant the number belongs to, its terminals, its open calls
and the link of the agent's pre-filled new-call form. Rules: `fieldsvc.visits.desk.telephony`."""
from __future__ import annotations

from typing import Any

from flask import request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate

from fieldsvc.visits.desk import telephony
from fieldsvc.visits.desk.errors import CallError
from fieldsvc.visits.i18n_text import gettext as _
from fieldsvc.web.errors import ApiError
from fieldsvc.web.extensions import csrf

blp = Blueprint("telephony_api", __name__, url_prefix="/api/v1/telephony",
                description="Phone system webhook (Asterisk/Issabel): incoming calls pop up for the agent")
csrf.exempt(blp)  # no cookie session rides on it: the token authenticates each request


class IncomingSchema(Schema):
    caller = fields.String(required=True, validate=validate.Length(1, 40),
                           metadata={"description": "the caller's number: 0912…, +98912…, 0098912…, Persian digits"})
    agent = fields.String(required=True, validate=validate.Length(1, 80),
                          metadata={"description": "the agent's user name (or extension) that answered"})
    call_id = fields.String(load_default=None, validate=validate.Length(max=80),
                            metadata={"description": "the phone system's id of the ring (Asterisk UNIQUEID): "
                                                     "a retried webhook is recorded once"})
    token = fields.String(load_default=None, load_only=True,
                          metadata={"description": "instead of the X-Telephony-Token header"})


class RingMerchantSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    address = fields.String()


class RingTerminalSchema(Schema):
    id = fields.Integer()
    serial = fields.String()
    model = fields.String()
    merchant_id = fields.Integer()


class RingCallSchema(Schema):
    id = fields.Integer()
    tracking_number = fields.String()
    status = fields.String()
    terminal_serial = fields.String()


class RingSchema(Schema):
    id = fields.Integer()
    caller = fields.String(metadata={"description": "the number in canonical form (09…)"})
    agent = fields.String()
    agent_known = fields.Boolean(metadata={"description": "the agent is a PSP user of this tenant"})
    merchant = fields.Nested(RingMerchantSchema, allow_none=True)
    merchants = fields.List(fields.Nested(RingMerchantSchema))
    terminals = fields.List(fields.Nested(RingTerminalSchema))
    open_calls = fields.List(fields.Nested(RingCallSchema))
    designated = fields.Boolean(metadata={"description": "false: a call from this number is held for confirmation"})
    form_url = fields.String(metadata={"description": "the agent's new-call form, pre-filled"})


def _merchant(m: Any) -> dict[str, Any]:
    return {"id": m.id, "code": m.code, "name": m.name, "address": m.address}


def ring_dict(ctx: telephony.RingContext) -> dict[str, Any]:
    ring = ctx.ring
    return {
        "id": ring.id, "caller": ring.caller, "agent": ring.agent, "agent_known": ring.agent_user_id is not None,
        "merchant": _merchant(ring.merchant) if ring.merchant else None,
        "merchants": [_merchant(m) for m in ctx.merchants],
        "terminals": [{"id": t.id, "serial": t.serial, "model": t.model, "merchant_id": t.merchant_id}
                      for t in ctx.terminals],
        "open_calls": [{"id": c.id, "tracking_number": c.tracking_number, "status": c.status,
                        "terminal_serial": c.terminal.serial} for c in ctx.open_calls],
        "designated": ctx.designated,
        "form_url": url_for("psp_calls.new", incoming=ring.id, _external=True),
    }


def _token() -> str | None:
    if request.headers.get("X-Telephony-Token"):
        return request.headers["X-Telephony-Token"]
    data = request.get_json(silent=True) if request.is_json else request.form
    value = data.get("token") if hasattr(data, "get") else None
    return value if isinstance(value, str) else None


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True) if request.is_json else request.form.to_dict()
    if not isinstance(data, dict):
        raise ApiError(422, "invalid", _("Send a JSON object or a form with caller and agent."), "caller")
    try:
        return IncomingSchema().load(data)
    except ValidationError as e:
        name = sorted(e.messages)[0]
        msg = e.messages[name]
        raise ApiError(422, "invalid", f"{name}: {msg[0] if isinstance(msg, list) else msg}", name) from None


@blp.route("/incoming")
class Incoming(MethodView):

    @blp.doc(requestBody={"required": True, "content": {
        "application/json": {"schema": IncomingSchema},
        "application/x-www-form-urlencoded": {"schema": IncomingSchema}}},
        security=[{"telephonyToken": []}])
    @blp.response(201, RingSchema)
    def post(self):
        """A call answered by an agent: record it and return the merchant found by the caller's
        number, its terminals and open calls, and the agent's pre-filled form (401 without a valid
        token; 422 naming the field for bad input, nothing recorded)."""
        psp_id = telephony.psp_for_token(_token())
        if psp_id is None:
            raise ApiError(401, "token", _("A valid telephony token is required (X-Telephony-Token)."), "token")
        body = _body()
        try:
            ring = telephony.register_ring(psp_id, body["caller"], body["agent"], body.get("call_id"))
        except CallError as e:
            raise ApiError(e.status, e.code, e.message, e.field) from e
        return ring_dict(telephony.context(ring))
