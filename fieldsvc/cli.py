"""The `fieldsvc` command line (a Flask CLI group: `fieldsvc db upgrade`, `fieldsvc routes` work too)."""
from __future__ import annotations

import importlib
import os

import click
from flask import Flask
from flask.cli import FlaskGroup

from fieldsvc.web import create_app

#: Commands that live next to the code they drive: (module, attribute).
COMMANDS = [
    ("fieldsvc.commands.demo", "demo"),
    ("fieldsvc.commands.admin", "admin"),
    ("fieldsvc.commands.imports", "import_"),
    ("fieldsvc.planner.cli", "solve"),
    ("fieldsvc.planner.cli", "bench"),
    ("fieldsvc.commands.plan", "plan"),
    ("fieldsvc.commands.plan", "plan_horizon"),
    ("fieldsvc.commands.scorecard", "scorecard"),
    ("fieldsvc.jobs", "scheduler"),
    ("fieldsvc.jobs", "worker"),
    ("fieldsvc.commands.channels", "channels"),
]


@click.group(cls=FlaskGroup, create_app=create_app, add_default_commands=True, add_version_option=False)
def main() -> None:
    """fieldsvc: field service for POS terminals."""


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=lambda: int(os.environ.get("PORT", "5000")), show_default="5000 or $PORT")
def serve(host: str, port: int) -> None:
    """Serve the web UI and API (Werkzeug's threaded server; use gunicorn in production)."""
    serve_app(create_app(), host, port)


def serve_app(app: Flask, host: str, port: int) -> None:
    """Serve `app` until Ctrl+C (`app.run` refuses to run inside the flask CLI, so use Werkzeug)."""
    from werkzeug.serving import run_simple

    click.echo(f"Serving on http://{host}:{port}/  (Ctrl+C to stop)")
    run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)


def _register_optional() -> None:
    for module, attr in COMMANDS:
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as e:
            if e.name == module:
                continue
            raise
        cmd = getattr(mod, attr, None)
        if cmd is not None:
            main.add_command(cmd)


_register_optional()
