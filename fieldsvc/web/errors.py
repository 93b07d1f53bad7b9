"""Errors for people: JSON `{"error": {"code", "message", "field"}}` under /api, pages elsewhere."""
from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_smorest import Api as FlaskSmorestApi
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException

from fieldsvc.db import db
from fieldsvc.visits.scope import Forbidden, NotFound
from fieldsvc.visits.states import IllegalTransition


class ApiError(Exception):
    """An error with an HTTP status, a machine code, a human message and the field at fault."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


class ErrorDetailSchema(Schema):
    code = fields.String(required=True, metadata={"description": "machine-readable error code"})
    message = fields.String(required=True, metadata={"description": "what went wrong and what to do"})
    field = fields.String(allow_none=True, metadata={"description": "the input field at fault, if any"})


class ErrorSchema(Schema):
    """The body of every JSON error: `{"error": {"code", "message", "field"}}`."""

    error = fields.Nested(ErrorDetailSchema, required=True)


# Documents our error body (instead of flask-smorest's own) in /api/v1/openapi.json; read when
# create_app builds its Api, after importing this module.
FlaskSmorestApi.ERROR_SCHEMA = ErrorSchema


#: Words of IllegalTransition messages, for people (keys: states as the API spells them).
TRANSITION_WORDS = {
    "service call": _l("service call"), "visit": _l("visit"),
    "open": _l("Open"), "assigned": _l("Assigned"), "scheduled": _l("Scheduled"),
    "in_progress": _l("Technician on site"), "resolved": _l("Resolved"), "closed": _l("Closed"),
    "cancelled": _l("Cancelled"), "planned": _l("Planned"), "dispatched": _l("Dispatched"),
    "checked_in": _l("Checked in"), "completed": _l("Completed"), "failed": _l("Not done"),
    "missed": _l("Missed"), "work order": _l("work order"), "done": _l("Done"),
}


def transition_message(e: IllegalTransition) -> str:
    """'Not possible now: this visit is “Completed” and cannot become “Checked in”…' in the user's language."""
    def word(w: str) -> str:
        return str(TRANSITION_WORDS.get(str(w), w))
    return _("Not possible now: this %(what)s is “%(current)s” and cannot become “%(new)s”. Reload to "
             "see its current state.", what=word(e.what), current=word(e.current), new=word(e.new))


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field}}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _answer(status: int, code: str, message: str, field: str | None = None):
    if _wants_json():
        return jsonify(error_body(code, message, field)), status
    return render_template("error.html", status=status, message=message), status


def init_errors(app: Flask) -> None:
    """Register handlers so every error, expected or not, reads well."""

    @app.errorhandler(ApiError)
    def _api_error(e: ApiError):
        return _answer(e.status, e.code, e.message, e.field)

    @app.errorhandler(NotFound)
    def _not_found(e: NotFound):
        return _answer(404, "not_found", _("This page or object does not exist, or you may not see it."))

    @app.errorhandler(Forbidden)
    def _forbidden(e: Forbidden):
        return _answer(403, "forbidden", _("You do not have permission to do this."))

    @app.errorhandler(IllegalTransition)
    def _conflict(e: IllegalTransition):
        return _answer(409, "illegal_transition", transition_message(e), "status")

    @app.errorhandler(HTTPException)
    def _http(e: HTTPException):
        if e.code == 422 and _wants_json():
            field, message = _first_validation_error(e)
            return jsonify(error_body("invalid", message, field)), 422
        messages = {
            400: _("The request could not be read. Check the values and try again."),
            401: _("Please log in first."),
            403: _("You do not have permission to do this."),
            404: _("This page or object does not exist, or you may not see it."),
            405: _("This action is not allowed here."),
            409: _("Someone else changed this at the same time. Reload and try again."),
            413: _("The upload is too large."),
            429: _("Too many attempts. Wait a minute and try again."),
        }
        message = messages.get(e.code or 500, e.description or e.name)
        if e.code == 400 and e.description and "CSRF" in e.description:
            message = _("Your form expired. Reload the page and submit again.")
        return _answer(e.code or 500, e.name.lower().replace(" ", "_"), message)

    @app.errorhandler(Exception)
    def _unexpected(e: Exception):
        app.logger.exception("unexpected error")
        db.session.rollback()
        return _answer(500, "internal_error",
                       _("Something went wrong on our side; nothing was saved. Try again."))


def _first_validation_error(e: HTTPException) -> tuple[str | None, str]:
    """Field and message from a webargs/marshmallow 422 raised by flask-smorest."""
    messages = getattr(e, "data", {}).get("messages") if hasattr(e, "data") else None
    if not messages:
        return None, e.description or "invalid input"
    for _loc, by_field in messages.items():
        if isinstance(by_field, dict):
            for field, errs in by_field.items():
                path = str(field)
                while isinstance(errs, dict) and errs:  # nested: items[1].max_value
                    key, errs = next(iter(errs.items()))
                    path += f"[{key}]" if isinstance(key, int) else f".{key}"
                msg = errs[0] if isinstance(errs, list) and errs else str(errs)
                if isinstance(msg, dict):
                    msg = str(msg)
                return path, f"{path}: {msg}"
    return None, str(messages)
