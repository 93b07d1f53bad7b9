"""The web application: `create_app()` builds it (pages and the /api/v1 JSON API)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from fieldsvc.config import Config
from fieldsvc.db import db

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Application factory; `overrides` replace settings (tests pass their database URL)."""
    app = Flask(__name__)
    app.config.from_object(Config())
    app.config.update(overrides or {})
    if app.config.get("PROXY_HOPS"):
        from werkzeug.middleware.proxy_fix import ProxyFix
        hops = int(app.config["PROXY_HOPS"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")

    from flask_smorest import Api

    from fieldsvc.web.extensions import babel, csrf, limiter, login_manager, migrate
    from fieldsvc.visits.desk import notify
    from fieldsvc.web import errors, i18n, nav, security, vendor, views
    from fieldsvc.web.mail import CallMailer

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    csrf.init_app(app)
    limiter.init_app(app)
    i18n.init_i18n(app, babel)
    security.init_security(app)
    from fieldsvc.web.first_password import init_first_password
    init_first_password(app)
    api = Api(app)  # one per app: its OpenAPI document is built from this app's blueprints
    errors.init_errors(app)
    vendor.init_vendor(app)
    nav.init_nav(app)
    views.register(app, api)
    from fieldsvc.web.sms_notify import CallSms, Notifiers
    notify.configure(Notifiers(CallMailer(), CallSms()))
    return app
