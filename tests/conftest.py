"""Shared fixtures: an app bound to a fresh database (SQLite, or PostgreSQL when
FIELDSVC_TEST_DATABASE_URL is set; one database per xdist worker), a client, a tiny world."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from fieldsvc.db import db
from fieldsvc.web import create_app


def _database_url(tmp_path: Path, worker: str) -> str:
    url = os.environ.get("FIELDSVC_TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path / 'test.sqlite'}"
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if worker == "master":
        return url
    u = make_url(url)
    name = f"{u.database}_{worker}"
    admin = create_engine(u, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        if not c.execute(text("select 1 from pg_database where datname=:n"), {"n": name}).scalar():
            c.execute(text(f'create database "{name}"'))
    admin.dispose()
    return u.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory, worker_id) -> str:  # noqa: ANN001
    return _database_url(tmp_path_factory.mktemp("db"), worker_id)


@pytest.fixture
def app(database_url, tmp_path):  # noqa: ANN001, ANN201
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret",
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "OUTBOX_DIR": str(tmp_path / "outbox"),
        "RATELIMIT_ENABLED": False,
        "WTF_CSRF_ENABLED": False,
    })
    with app.app_context():
        db.drop_all()
        db.create_all()
        yield app
        db.session.remove()
        db.drop_all()


@pytest.fixture
def client(app):  # noqa: ANN001, ANN201
    return app.test_client()


@pytest.fixture
def world(app):  # noqa: ANN001, ANN201
    """Two PSPs, two contractors with contracts, merchants, terminals, technicians and users."""
    from tests.factories import build_world
    return build_world()


def login(client, username: str, password: str = "demo"):  # noqa: ANN001, ANN201
    """Log a test client in through the real login form."""
    return client.post("/login", data={"username": username, "password": password})


CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture
def live_server(app):  # noqa: ANN001, ANN201
    """The app served over HTTP on a free localhost port, in a thread; yields its base URL."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def chromium():  # noqa: ANN201
    """Debian's Chromium driven by Playwright (its own browser download does not work here)."""
    from playwright.sync_api import sync_playwright

    path = os.environ.get("FIELDSVC_CHROMIUM", "/usr/bin/chromium")
    if not Path(path).exists():
        pytest.fail(f"Chromium not found at {path}: install Debian's chromium (.ci/run does)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, live_server):  # noqa: ANN001, ANN201
    """A fresh browser context and page; console errors are collected in `page.console_errors`."""
    context = chromium.new_context(base_url=live_server, viewport={"width": 1280, "height": 800})
    pg = context.new_page()
    pg.console_errors = []
    pg.on("console", lambda msg: pg.console_errors.append(msg.text) if msg.type == "error" else None)
    pg.on("pageerror", lambda exc: pg.console_errors.append(str(exc)))
    yield pg
    context.close()


def browser_login(page, username: str, password: str = "demo") -> None:  # noqa: ANN001
    """Log in through the real login page."""
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
