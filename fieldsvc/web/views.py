"""Blueprint registry: every page and API blueprint is registered here.

Each module below exports `bp` (a Flask blueprint of pages) and/or `blp` (a flask-smorest
blueprint of the JSON API, documented in /api/v1/openapi.json).
"""
from __future__ import annotations

import importlib

from flask import Flask
from flask_smorest import Api

BLUEPRINT_MODULES = [
    "fieldsvc.web.auth",
    "fieldsvc.web.api.auth_api",
    "fieldsvc.web.dispatcher",
    "fieldsvc.web.api.plans_api",
    "fieldsvc.web.api.routes_api",
    "fieldsvc.web.psp_calls",
    "fieldsvc.web.track",
    "fieldsvc.web.api.calls_api",
    "fieldsvc.web.technician",
    "fieldsvc.web.api.visits_api",
    "fieldsvc.web.psp",
    "fieldsvc.web.api.scorecards_api",
    "fieldsvc.web.admin",
    "fieldsvc.web.unlock",
    "fieldsvc.web.api.orders_api",
    "fieldsvc.web.api.stock_api",
    "fieldsvc.web.api.history_api",
    "fieldsvc.web.lifecycle",
    "fieldsvc.web.api.master_api",
    "fieldsvc.web.api.imports_api",
    "fieldsvc.web.setup",
    "fieldsvc.web.health",
    "fieldsvc.web.checklists",
    "fieldsvc.web.api.checklists_api",
    "fieldsvc.web.campaigns",
    "fieldsvc.web.api.campaigns_api",
    "fieldsvc.web.api.events_api",
    "fieldsvc.web.api.service_api",
    "fieldsvc.web.service_pages",
    "fieldsvc.web.api.telephony_api",
    "fieldsvc.web.api.channels_api",
    "fieldsvc.web.channel_pages",
    "fieldsvc.web.desk",
    "fieldsvc.web.api.desk_api",
    "fieldsvc.web.kb",
    "fieldsvc.web.api.kb_api",
    "fieldsvc.web.track_self",
    "fieldsvc.web.reviews",
]


def register(app: Flask, api: Api) -> None:
    """Register the blueprints of every module in BLUEPRINT_MODULES that exists."""
    for name in BLUEPRINT_MODULES:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name == name:
                continue
            raise
        if hasattr(mod, "bp"):
            app.register_blueprint(mod.bp)
        if hasattr(mod, "blp"):
            api.register_blueprint(mod.blp)
