"""Staff notes on a service call (issue 21): list and add; rules in `fieldsvc.visits.desk.notes`."""
from __future__ import annotations

from datetime import timezone
from typing import Any

from flask.views import MethodView
from flask_login import current_user, login_required
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from fieldsvc.visits.desk import notes
from fieldsvc.visits.desk.errors import CallError
from fieldsvc.visits.desk_models import CallNote, NoteKind
from fieldsvc.visits.models import ServiceCall
from fieldsvc.visits.scope import get_scoped, require_role
from fieldsvc.web.errors import ApiError

blp = Blueprint("desk_api", __name__, url_prefix="/api/v1/service-calls",
                description="Support desk: staff notes on a call with @mentions")

_aware = {"format": "iso", "default_timezone": timezone.utc}


class NoteCreateSchema(Schema):
    body = fields.String(required=True, validate=validate.Length(1, notes.NOTE_MAX),
                         metadata={"description": "the text; @username notifies a colleague who may see the call"})
    kind = fields.String(load_default=NoteKind.INTERNAL.value, validate=validate.OneOf([k.value for k in NoteKind]),
                         metadata={"description": "internal (staff only), remote_step (staff only; stops the "
                                                  "first-response clock) or merchant (e-mailed to the merchant)"})


class NoteSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    body = fields.String()
    author = fields.String(allow_none=True)
    mentions = fields.List(fields.Integer(), metadata={"description": "ids of the users mentioned"})
    created_at = fields.AwareDateTime(**_aware)


def note_dict(note: CallNote) -> dict[str, Any]:
    return {"id": note.id, "kind": note.kind, "body": note.body, "mentions": note.mentions or [],
            "author": note.author.username if note.author else None, "created_at": note.created_at}


def _staff_call(call_id: int) -> ServiceCall:
    user = current_user._get_current_object()
    require_role(user, *notes.STAFF_ROLES)
    return get_scoped(ServiceCall, call_id, user)


@blp.route("/<int:call_id>/notes")
class Notes(MethodView):
    decorators = [login_required]

    @blp.response(200, NoteSchema(many=True))
    def get(self, call_id: int):
        """The call's staff notes, oldest first (staff who may see the call)."""
        return [note_dict(n) for n in notes.notes_of(_staff_call(call_id))]

    @blp.arguments(NoteCreateSchema)
    @blp.response(201, NoteSchema)
    def post(self, body: dict, call_id: int):
        """Add a note; 422 naming `body` when a mentioned user cannot see the call (nothing is written)."""
        call = _staff_call(call_id)
        try:
            note = notes.add_note(call, current_user._get_current_object(), body["body"], body["kind"])
        except CallError as e:
            raise ApiError(e.status, e.code, e.message, e.field) from e
        return note_dict(note)
