"""API tokens: `POST /api/v1/auth/token` issues one, `DELETE` revokes the one in use."""
from __future__ import annotations

from flask import current_app, g
from flask.views import MethodView
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from fieldsvc.db import db, utcnow
from fieldsvc.visits.master.accounts import LoginError, authenticate
from fieldsvc.visits.audit import record
from fieldsvc.web.errors import ApiError
from fieldsvc.web.auth import LOGIN_LIMITS
from fieldsvc.web.security import client_address, issue_token
from fieldsvc.web.unlock import mail_unlock_link

blp = Blueprint("auth_api", __name__, url_prefix="/api/v1/auth", description="API tokens")


class TokenRequest(Schema):
    username = fields.String(required=True)
    password = fields.String(required=True, load_only=True)
    name = fields.String(load_default="", validate=validate.Length(max=100))


class TokenAnswer(Schema):
    token = fields.String()
    expires_at = fields.DateTime()


@blp.route("/token")
class Token(MethodView):
    decorators = LOGIN_LIMITS  # shared with the login page: per address and per account

    @blp.arguments(TokenRequest)
    @blp.response(200, TokenAnswer)
    def post(self, body: dict):
        """Exchange a username and password for a bearer token."""
        try:
            user = authenticate(body["username"], body["password"], client_address())
        except LoginError as e:
            if e.new_lock:
                mail_unlock_link(*e.new_lock)
            raise ApiError(401, "bad_credentials", _(str(e)), "password") from e
        token, row = issue_token(user, current_app.config["TOKEN_TTL_DAYS"], body.get("name", ""))
        record("token_issued", user, actor=user)
        db.session.commit()
        return {"token": token, "expires_at": row.expires_at}

    @login_required
    @blp.response(204)
    def delete(self):
        """Revoke the token used for this request."""
        row = g.get("api_token")
        if row is None:
            raise ApiError(400, "no_token", _("Send the token to revoke as 'Authorization: Bearer <token>'."))
        row.revoked_at = utcnow()
        record("token_revoked", current_user._get_current_object(), actor=current_user._get_current_object())
        db.session.commit()
