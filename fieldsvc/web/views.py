"""Blueprint registry: every page and API blueprint is registered here."""
from __future__ import annotations

from flask import Flask
from flask_smorest import Api


def register(app: Flask, api: Api) -> None:
    """Register all blueprints (pages on the app, JSON API on the smorest Api)."""
    from fieldsvc.web import auth
    from fieldsvc.web.api import auth_api

    app.register_blueprint(auth.bp)
    api.register_blueprint(auth_api.blp)
