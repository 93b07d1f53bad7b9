"""Intake channel API: the hold queue (confirm or reject calls from people a merchant's group did not
designate), requester groups (chains, branches) and their designated people, and each merchant's
choice of SMS or e-mail. Rules: `fieldsvc.visits.desk.holds`, `fieldsvc.visits.master.requesters`,
`fieldsvc.visits.desk.sms`."""
from __future__ import annotations

from datetime import timezone
from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_login import current_user, login_required
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from fieldsvc.visits.channel_models import GroupKind, HeldCall, NotifyBy, RequesterGroup
from fieldsvc.visits.desk import calls as svc
from fieldsvc.visits.desk import holds, sms
from fieldsvc.visits.desk.call_targets import TICKET_TYPE_VALUES
from fieldsvc.visits.desk.errors import CallError
from fieldsvc.visits.master import requesters
from fieldsvc.visits.models import Merchant, Role
from fieldsvc.visits.scope import get_scoped, require_role
from fieldsvc.web.errors import ApiError
from fieldsvc.web.ids import DbInt

blp = Blueprint("channels_api", __name__, url_prefix="/api/v1",
                description="Intake channels: held calls, designated requesters, SMS or e-mail per merchant")

_aware = {"format": "iso", "default_timezone": timezone.utc}


def _user():
    return current_user._get_current_object()


def _err(e: CallError | requesters.RequesterError) -> ApiError:
    return ApiError(e.status, e.code, e.message, e.field)


class HeldSchema(Schema):
    id = fields.Integer()
    status = fields.String(metadata={"description": "pending, confirmed or rejected"})
    reason = fields.String(metadata={"description": "not_designated, terminal_unknown, or why the call could "
                                                    "not be opened directly"})
    channel = fields.String()
    merchant_id = fields.Integer(allow_none=True)
    terminal_serial = fields.String(allow_none=True)
    priority = fields.String()
    symptom = fields.String()
    symptom_text = fields.String()
    ticket_type = fields.String(metadata={"description": "fault, change, information or installation"})
    caller_name = fields.String()
    caller_phone = fields.String()
    caller_email = fields.String()
    received_at = fields.AwareDateTime(**_aware)
    decided_at = fields.AwareDateTime(allow_none=True, **_aware)
    decision_note = fields.String()
    call_id = fields.Integer(allow_none=True)
    tracking_number = fields.String(allow_none=True)


def held_dict(h: HeldCall) -> dict[str, Any]:
    return {"id": h.id, "status": h.status, "reason": h.reason, "channel": h.channel, "merchant_id": h.merchant_id,
            "terminal_serial": h.terminal.serial if h.terminal else None, "priority": h.priority,
            "symptom": h.symptom_code, "symptom_text": h.symptom_text, "ticket_type": h.ticket_type,
            "caller_name": h.caller_name,
            "caller_phone": h.caller_phone, "caller_email": h.caller_email, "received_at": h.received_at,
            "decided_at": h.decided_at, "decision_note": h.decision_note, "call_id": h.call_id,
            "tracking_number": h.call.tracking_number if h.call else None}


class HeldQuery(Schema):
    status = fields.String(load_default="pending", validate=validate.OneOf(["pending", "confirmed", "rejected"]))


class ConfirmSchema(Schema):
    terminal_serial = fields.String(validate=validate.Length(1, 64),
                                    metadata={"description": "required when the request names no terminal"})
    priority = fields.String(validate=validate.OneOf(list(svc.PRIORITIES)))
    symptom = fields.String(validate=validate.OneOf(list(svc.SYMPTOMS)))
    note = fields.String(load_default="", validate=validate.Length(max=1000))
    ticket_type = fields.String(validate=validate.OneOf(list(TICKET_TYPE_VALUES)),
                                metadata={"description": "the call's ticket type (default: the one asked for)"})


class RejectSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 1000))


@blp.route("/held-calls")
class HeldCalls(MethodView):
    decorators = [login_required]

    @blp.arguments(HeldQuery, location="query")
    @blp.response(200, HeldSchema(many=True))
    def get(self, args: dict):
        """Requests held for confirmation (PSP staff: their PSP's), oldest first."""
        return [held_dict(h) for h in holds.list_held(_user(), args["status"])]


@blp.route("/held-calls/<int:held_id>/confirm")
class ConfirmHeld(MethodView):
    decorators = [login_required]

    @blp.arguments(ConfirmSchema)
    @blp.response(200, HeldSchema)
    def post(self, body: dict, held_id: int):
        """Open the held request as a call (409 when already decided; nothing changes on an error)."""
        user = _user()
        held = holds.get_held(user, held_id)
        try:
            holds.confirm(user, held, terminal_serial=body.get("terminal_serial"), priority=body.get("priority"),
                          symptom_code=body.get("symptom"), note=body.get("note", ""),
                          ticket_type=body.get("ticket_type"))
        except CallError as e:
            raise _err(e) from e
        return held_dict(holds.get_held(user, held_id))


@blp.route("/held-calls/<int:held_id>/reject")
class RejectHeld(MethodView):
    decorators = [login_required]

    @blp.arguments(RejectSchema)
    @blp.response(200, HeldSchema)
    def post(self, body: dict, held_id: int):
        """Turn the held request down with a reason (409 when already decided)."""
        user = _user()
        held = holds.get_held(user, held_id)
        try:
            holds.reject(user, held, body["reason"], current_app.config["UPLOAD_DIR"])
        except CallError as e:
            raise _err(e) from e
        return held_dict(holds.get_held(user, held_id))


class RequesterCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 120))
    phone = fields.String(load_default="", validate=validate.Length(max=32),
                          metadata={"description": "Iranian number; +98, 0098, 0 and Persian digits accepted"})
    email = fields.String(load_default="", validate=validate.Length(max=200))


class RequesterSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    phone = fields.String()
    email = fields.String()
    active = fields.Boolean()


class GroupCreateSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in GroupKind]))
    name = fields.String(required=True, validate=validate.Length(1, 200))
    psp_id = DbInt(load_default=None, metadata={"description": "administrators: the PSP of the group"})


class GroupSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    name = fields.String()
    psp_id = fields.Integer()
    merchants = fields.List(fields.Nested(lambda: MemberSchema()))
    requesters = fields.List(fields.Nested(RequesterSchema))


class MemberSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class AddMerchantSchema(Schema):
    merchant_code = fields.String(required=True, validate=validate.Length(1, 32))


def group_dict(g: RequesterGroup) -> dict[str, Any]:
    return {"id": g.id, "kind": g.kind, "name": g.name, "psp_id": g.psp_id,
            "merchants": [{"id": link.merchant.id, "code": link.merchant.code, "name": link.merchant.name}
                          for link in g.members],
            "requesters": [{"id": r.id, "name": r.name, "phone": r.phone, "email": r.email, "active": r.active}
                           for r in g.requesters]}


@blp.route("/requester-groups")
class Groups(MethodView):
    decorators = [login_required]

    @blp.response(200, GroupSchema(many=True))
    def get(self):
        """Merchant chains and PSP branches with their merchants and designated people."""
        return [group_dict(g) for g in requesters.list_groups(_user())]

    @blp.arguments(GroupCreateSchema)
    @blp.response(201, GroupSchema)
    def post(self, body: dict):
        """A new chain or branch (409 when the name is taken)."""
        try:
            return group_dict(requesters.create_group(_user(), body["kind"], body["name"], body.get("psp_id")))
        except requesters.RequesterError as e:
            raise _err(e) from e


@blp.route("/requester-groups/<int:group_id>/merchants")
class GroupMerchants(MethodView):
    decorators = [login_required]

    @blp.arguments(AddMerchantSchema)
    @blp.response(200, GroupSchema)
    def post(self, body: dict, group_id: int):
        """Put a merchant (by code) into the group; a merchant is in at most one group."""
        user = _user()
        group = requesters.get_group(user, group_id)
        try:
            requesters.add_merchant(user, group, body["merchant_code"])
        except requesters.RequesterError as e:
            raise _err(e) from e
        return group_dict(group)


@blp.route("/requester-groups/<int:group_id>/requesters")
class GroupRequesters(MethodView):
    decorators = [login_required]

    @blp.arguments(RequesterCreateSchema)
    @blp.response(200, GroupSchema)
    def post(self, body: dict, group_id: int):
        """Name a person who may open calls for the group's merchants (phone or e-mail, or both)."""
        user = _user()
        group = requesters.get_group(user, group_id)
        try:
            requesters.add_requester(user, group, body["name"], body.get("phone", ""), body.get("email", ""))
        except requesters.RequesterError as e:
            raise _err(e) from e
        return group_dict(group)


@blp.route("/requester-groups/<int:group_id>/requesters/<int:requester_id>")
class GroupRequester(MethodView):
    decorators = [login_required]

    @blp.response(200, GroupSchema)
    def delete(self, group_id: int, requester_id: int):
        """The person may no longer open calls for the group."""
        user = _user()
        group = requesters.get_group(user, group_id)
        try:
            requesters.deactivate_requester(user, group, requester_id)
        except requesters.RequesterError as e:
            raise _err(e) from e
        return group_dict(group)


class NotifySchema(Schema):
    notify_by = fields.String(required=True, validate=validate.OneOf([n.value for n in NotifyBy]),
                              metadata={"description": "sms, email or both"})
    mobile = fields.String(load_default="", validate=validate.Length(max=32),
                           metadata={"description": "SMS number when the shop phone is a landline"})


@blp.route("/merchants/<int:merchant_id>/notify-by")
class MerchantNotify(MethodView):
    decorators = [login_required]

    @blp.response(200, NotifySchema)
    def get(self, merchant_id: int):
        """How the merchant hears about its calls."""
        user = _user()
        require_role(user, Role.PSP, Role.ADMIN)
        merchant = get_scoped(Merchant, merchant_id, user)
        pref = sms.preference(merchant)
        return {"notify_by": pref.notify_by, "mobile": pref.mobile}

    @blp.arguments(NotifySchema)
    @blp.response(200, NotifySchema)
    def put(self, body: dict, merchant_id: int):
        """Choose SMS, e-mail or both for the merchant's call notifications."""
        user = _user()
        require_role(user, Role.PSP, Role.ADMIN)
        merchant = get_scoped(Merchant, merchant_id, user)
        try:
            pref = sms.set_preference(user, merchant, body["notify_by"], body.get("mobile", ""))
        except requesters.RequesterError as e:
            raise _err(e) from e
        return {"notify_by": pref.notify_by, "mobile": pref.mobile}
