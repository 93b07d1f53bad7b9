"""Terminal health events from a PSP's switch or terminal management system, and the PSP's rules
that turn them into calls. Rules live in :mod:`fieldsvc.visits.desk.terminal_events`."""
from __future__ import annotations

from datetime import timezone
from typing import Any

from flask import request
from flask.views import MethodView
from flask_login import current_user, login_required
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from fieldsvc.visits.desk import terminal_events as ev
from fieldsvc.visits.models import Role
from fieldsvc.visits.scope import Forbidden, require_role
from fieldsvc.visits.service_models import TerminalEventRule
from fieldsvc.web.errors import ApiError
from fieldsvc.web.ids import DbInt

blp = Blueprint("events_api", __name__, url_prefix="/api/v1",
                description="Terminal health events (proactive calls) and the rules that open calls from them")

_aware = {"format": "iso", "default_timezone": timezone.utc}


class TerminalEventInSchema(Schema):
    """One event (documentation of the items of ``events``; the service checks them and names
    ``events[i].field`` on an error)."""

    event_id = fields.String(required=True, metadata={"description": "the sender's id of the event; a replay "
                                                                     "of an id is answered with the first result"})
    terminal_serial = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "error, silent, low_paper or heartbeat"})
    code = fields.String(metadata={"description": "the error code (kind error)"})
    time = fields.String(required=True, metadata={"description": "ISO 8601 with time zone"})
    silent_since = fields.String(metadata={"description": "kind silent: last heard from, ISO 8601"})


class TerminalEventsBody(Schema):
    events = fields.List(fields.Raw(), metadata={
        "description": f"a batch of up to {ev.MAX_BATCH} events (objects as in EventIn); or send one event's "
                       "fields at the top level"})
    event_id = fields.Raw()
    terminal_serial = fields.Raw()
    kind = fields.Raw()
    code = fields.Raw()
    time = fields.Raw()
    silent_since = fields.Raw()
    psp_id = DbInt(metadata={"description": "administrators only: the PSP that sends"})


class TerminalEventResultSchema(Schema):
    event_id = fields.String()
    outcome = fields.String(metadata={"description": "ignored, call_opened, duplicate, throttled, "
                                                     "unknown_terminal or no_contract"})
    call_id = DbInt(allow_none=True)
    tracking_number = fields.String(allow_none=True)
    replay = fields.Boolean(metadata={"description": "true when this event id was received before"})
    detail = fields.String(allow_none=True)


class TerminalEventsResultSchema(Schema):
    accepted = DbInt(metadata={"description": "new events stored"})
    replayed = DbInt(metadata={"description": "events whose id was received before (nothing changed)"})
    calls_opened = DbInt()
    results = fields.List(fields.Nested(TerminalEventResultSchema))


class StoredTerminalEventSchema(Schema):
    id = DbInt()
    event_id = fields.String()
    terminal_serial = fields.String()
    kind = fields.String()
    code = fields.String()
    occurred_at = fields.AwareDateTime(**_aware)
    silent_since = fields.AwareDateTime(allow_none=True, **_aware)
    received_at = fields.AwareDateTime(**_aware)
    outcome = fields.String()
    call_id = DbInt(allow_none=True)


class EventRuleSchema(Schema):
    id = DbInt(dump_only=True)
    psp_id = DbInt(metadata={"description": "administrators only, on create"})
    kind = fields.String(validate=validate.OneOf(ev.RULE_KINDS))
    code = fields.String(validate=validate.Length(max=32), metadata={"description": "error code; empty = any"})
    priority = fields.String()
    symptom = fields.String(attribute="symptom_code", data_key="symptom")
    throttle_minutes = DbInt(metadata={"description": "at most one automatic call per terminal in "
                                                               "this many minutes"})
    silent_hours = DbInt(allow_none=True, metadata={
        "description": "kind silent: open a call for a terminal not heard from for this many business hours"})
    active = fields.Boolean()


class EventRuleInSchema(Schema):
    psp_id = DbInt()
    kind = fields.Raw()
    code = fields.Raw()
    priority = fields.Raw()
    symptom = fields.Raw()
    throttle_minutes = fields.Raw()
    silent_hours = fields.Raw(allow_none=True)
    active = fields.Boolean()


def _user():
    return current_user._get_current_object()


def _err(e: ev.EventError) -> ApiError:
    return ApiError(e.status, "invalid" if e.status == 422 else ("conflict" if e.status == 409 else "too_large"),
                    e.message, e.field)


def _sender_psp(user: Any, body: dict) -> int:
    if user.role == Role.PSP:
        return user.psp_id
    if user.role == Role.ADMIN:
        from fieldsvc.db import db
        from fieldsvc.visits.models import Psp

        if body.get("psp_id") is None or db.session.get(Psp, body["psp_id"]) is None:
            raise ApiError(422, "invalid", "psp_id: choose the PSP whose events these are", "psp_id")
        return body["psp_id"]
    raise Forbidden("only a PSP's systems send terminal events")


@blp.route("/terminal-events")
class TerminalEvents(MethodView):
    decorators = [login_required]

    @blp.arguments(TerminalEventsBody)
    @blp.response(200, TerminalEventsResultSchema)
    def post(self, body: dict):
        """Receive health events (one, or a batch in `events`): each is stored once by its `event_id`
        (a replay gets the first result), the terminal's last-seen time moves on, and the PSP's rules
        open calls, deduplicated against open calls and throttled per terminal. A bad event → 422
        naming `events[i].field`, and nothing of the batch is stored."""
        user = _user()
        psp_id = _sender_psp(user, body)
        if "events" in body:
            items = body["events"]
        else:
            items = [{k: body[k] for k in ("event_id", "terminal_serial", "kind", "code", "time", "silent_since")
                      if k in body}]
        try:
            out = ev.ingest(psp_id, items, actor=user)
        except ev.EventError as e:
            raise _err(e) from None
        return out

    @blp.response(200, StoredTerminalEventSchema(many=True))
    def get(self):
        """The latest 100 events received for your PSP (newest first); `outcome` filters."""
        outcome = request.args.get("outcome") or None
        return ev.recent_events(_user(), 100, outcome)


@blp.route("/terminal-event-rules")
class Rules(MethodView):
    decorators = [login_required]

    @blp.response(200, EventRuleSchema(many=True))
    def get(self):
        """Your PSP's rules: which events open calls, with what priority and symptom."""
        return ev.list_rules(_user())

    @blp.arguments(EventRuleInSchema)
    @blp.response(201, EventRuleSchema)
    def post(self, body: dict):
        """A new rule (PSP staff): kind (error, silent, low_paper), code (empty = any), priority, symptom,
        throttle_minutes, and for silent terminals silent_hours (business hours)."""
        require_role(_user(), Role.PSP, Role.ADMIN)
        try:
            return ev.create_rule(_user(), body)
        except ev.EventError as e:
            raise _err(e) from None


@blp.route("/terminal-event-rules/<int:rule_id>")
class Rule(MethodView):
    decorators = [login_required]

    @blp.response(200, EventRuleSchema)
    def get(self, rule_id: int):
        """One rule."""
        return ev.get_rule(_user(), rule_id)

    @blp.arguments(EventRuleInSchema)
    @blp.response(200, EventRuleSchema)
    def patch(self, body: dict, rule_id: int):
        """Change a rule; `active: false` switches it off."""
        rule: TerminalEventRule = ev.get_rule(_user(), rule_id)
        try:
            return ev.update_rule(_user(), rule, body)
        except ev.EventError as e:
            raise _err(e) from None
