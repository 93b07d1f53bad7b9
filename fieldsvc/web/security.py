"""Request-level security: bearer tokens, CSRF for cookie sessions, CSP nonces and headers."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from flask import Flask, Response, abort, current_app, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user
from werkzeug.routing import IntegerConverter, ValidationError

from fieldsvc.db import db, utcnow
from fieldsvc.web.tiles import tile_origin, tile_url
from fieldsvc.visits.scope import MAX_DB_INT
from fieldsvc.visits.models import ApiToken, User
from fieldsvc.web.errors import ApiError
from fieldsvc.web.extensions import csrf, limiter, login_manager


def hash_token(token: str) -> str:
    """SHA-256 hex of an API token (only the hash is stored)."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User, ttl_days: int, name: str = "") -> tuple[str, ApiToken]:
    """Create an API token for `user`; returns the clear token (shown once) and its row."""
    token = secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, token_hash=hash_token(token), name=name,
                   expires_at=utcnow() + timedelta(days=ttl_days))
    db.session.add(row)
    return token, row


#: How often (at most) a token's last_used_at is written, to keep API calls read-only.
LAST_USED_RESOLUTION = timedelta(minutes=5)


def bearer_token() -> str | None:
    """The token of an `Authorization: Bearer <token>` header, if any."""
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return None


@limiter.request_filter
def _rate_limits_off_for_this_app() -> bool:
    """Per app, not per process: the limiter object is shared by every app in the process (tests
    build several), and its own on/off switch follows whichever app was made last."""
    return current_app.config.get("RATELIMIT_ENABLED") is False


def client_address() -> str:
    """The client's address (behind a proxy, as FIELDSVC_PROXY_HOPS makes ProxyFix read it)."""
    return request.remote_addr or ""


#: The session key holding the user's session generation when the session was made.
SESSION_GENERATION = "_generation"


def start_session(user: User) -> None:
    """Log `user` in for this browser: the session remembers the user's current generation, and
    ends when the generation is raised (logout, password change, deactivation)."""
    login_user(user)
    session[SESSION_GENERATION] = user.session_generation or 0


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    if bearer_token():
        return None  # a request that shows a token is that token's user only (and needs no CSRF token)
    user = db.session.get(User, int(user_id)) if user_id.isdigit() and len(user_id) < 12 else None
    if user is None or not user.is_active or session.get(SESSION_GENERATION) != (user.session_generation or 0):
        return None  # a session ended on the server (logout elsewhere, new password, deactivated)
    return user


@login_manager.request_loader
def _load_from_token(req) -> User | None:
    token = bearer_token()
    if not token:
        return None
    row = db.session.query(ApiToken).filter_by(token_hash=hash_token(token)).first()
    now = utcnow()
    if row is None or row.revoked_at is not None or row.expires_at <= now or not row.user.is_active:
        return None
    g.api_token = row
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        row.last_used_at = now
        db.session.commit()
    return row.user


@login_manager.unauthorized_handler
def _unauthorized():
    """API calls and JSON clients get 401 (JSON error); people are sent to the login page."""
    if request.path.startswith("/api/") or bearer_token() or request.accept_mimetypes.best == "application/json":
        abort(401)
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


class DbIntConverter(IntegerConverter):
    """`<int:…>` URL parts through the one converter (fieldsvc.web.ids.to_db_int): a number an
    INTEGER column cannot hold is simply not found (404) instead of a database overflow error."""

    def __init__(self, url_map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_DB_INT)
        super().__init__(url_map, *args, **kwargs)

    def to_python(self, value: str) -> int:
        from fieldsvc.web.ids import to_db_int
        try:
            return to_db_int(value, minimum=self.min if self.min is not None else 0, maximum=self.max)
        except ValueError:
            raise ValidationError() from None


#: Deepest nesting of lists and objects a JSON body may have (ours need 3).
MAX_JSON_DEPTH = 20


def _too_deep(value: Any) -> bool:
    """True when `value` nests lists/objects deeper than MAX_JSON_DEPTH (checked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                return True
            stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict) else item))
    return False


def _json_body() -> Any:
    """The request's JSON (None when absent or malformed); 400 when nested too deep to read."""
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        body = None
        too_deep = True
    else:
        too_deep = _too_deep(body)
    if too_deep:
        raise ApiError(400, "json_too_deep", _("The JSON body is nested too deeply (at most %(depth)s levels); "
                                               "send a flat object.", depth=MAX_JSON_DEPTH))
    return body


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def csp_nonce() -> str:
    """The per-request nonce that inline scripts must carry."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def init_security(app: Flask) -> None:
    """CSRF on every cookie-session form and API call; security headers on every answer."""
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.url_map.converters["int"] = DbIntConverter

    def _fresh_request_state() -> None:
        # `g` lives in the app context; when one outlives a request (tests, scripts that push an
        # app context and then call the app) the previous request's user must not carry over.
        for key in ("_login_user", "api_token", "csp_nonce", "_flask_babel", "csrf_token"):
            g.pop(key, None)

    app.before_request_funcs.setdefault(None, []).insert(0, _fresh_request_state)

    @app.before_request
    def _no_nul_characters() -> None:
        # PostgreSQL cannot store U+0000 in text: refuse it in any typed value up front (400)
        # instead of failing deep inside a service (500). Uploaded files are not inspected.
        values: list[Any] = list(request.args.values())
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            values += list(request.form.values())
        elif request.is_json:
            values.append(_json_body())
        if any(_has_nul(v) for v in values) or "\x00" in request.path:
            raise ApiError(400, "nul_character", _("Remove the invisible NUL character from the text."))

    app.config["TILE_URL"] = tile_url(app.config.get("TILE_URL"))  # a typo fails at start-up

    @app.before_request
    def _csrf() -> None:
        if request.method in ("GET", "HEAD", "OPTIONS") or not app.config.get("WTF_CSRF_ENABLED", True):
            return
        if request.path.startswith("/api/") and (
                bearer_token() or (request.method == "POST" and request.path == "/api/v1/auth/token")):
            return  # no cookie session rides on these: a bearer token, or a password in the body
        csrf.protect(apply_exemptions=True)

    @app.after_request
    def _headers(resp: Response) -> Response:
        nonce = csp_nonce()
        # Scripts: our files and nonce-carrying inline blocks only (no inline handlers, no eval).
        # Styles allow inline `style=` attributes (timeline positions, Leaflet); CSS cannot run code.
        # Images: map tiles from the configured tile server, the only outside resource.
        if "Content-Security-Policy" not in resp.headers:
            tiles = tile_origin(app.config["TILE_URL"])
            resp.headers["Content-Security-Policy"] = (
                "default-src 'self'; "
                f"script-src 'self' 'nonce-{nonce}'; "
                "style-src 'self' 'unsafe-inline'; "
                f"img-src 'self' data: blob:{' ' + tiles if tiles else ''}; "
                "connect-src 'self'; font-src 'self' data:; object-src 'none'; "
                "base-uri 'self'; frame-ancestors 'self'; form-action 'self'")
        resp.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        if app.config.get("SESSION_COOKIE_SECURE"):
            resp.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return resp

    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.jinja_env.globals["current_user"] = current_user
