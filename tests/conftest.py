"""Shared fixtures: an app bound to a fresh database (SQLite, or PostgreSQL when
FIELDSVC_TEST_DATABASE_URL is set; one database per xdist worker), a client, a tiny world."""
from __future__ import annotations

import os
from pathlib import Path

import hypothesis
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from fieldsvc.db import db
from fieldsvc.web import create_app

# Property tests draw the same examples on every run (CI never fails on a new random draw);
# HYPOTHESIS_PROFILE=explore draws new ones, to look for bugs on purpose.
hypothesis.settings.register_profile("repeatable", derandomize=True)
hypothesis.settings.register_profile("explore", derandomize=False)
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


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
def database_url(tmp_path_factory, worker_id) -> str:
    return _database_url(tmp_path_factory.mktemp("db"), worker_id)


@pytest.fixture(scope="session")
def _app(database_url, tmp_path_factory):
    """One application per test session (creating it is slow); its schema is made once."""
    files = tmp_path_factory.mktemp("files")
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret",
        "UPLOAD_DIR": str(files / "uploads"),
        "OUTBOX_DIR": str(files / "outbox"),
        "RATELIMIT_ENABLED": False,
        "WTF_CSRF_ENABLED": False,
        "TILE_URL": "none",  # tests never fetch map tiles from the internet
    })
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        db.create_all()
    return app


def _empty_tables() -> None:
    """Delete every row (faster than dropping and creating the schema for each test)."""
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        else:
            for t in tables:
                conn.execute(t.delete())


@pytest.fixture
def app(_app, tmp_path):
    """The application with empty tables and per-test upload/outbox folders; config restored after."""
    saved = dict(_app.config)
    _app.config.update(UPLOAD_DIR=str(tmp_path / "uploads"), OUTBOX_DIR=str(tmp_path / "outbox"))
    with _app.app_context():
        _empty_tables()
        yield _app
        db.session.remove()
        if not set(db.metadata.tables) <= set(db.inspect(db.engine).get_table_names()):
            db.create_all()  # a test dropped the schema (the migrations test)
    _app.config.clear()
    _app.config.update(saved)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def world(app):
    """Two PSPs, two contractors with contracts, merchants, terminals, technicians and users."""
    from tests.factories import build_world
    return build_world()


def login(client, username: str, password: str = "demo"):
    """Log a test client in through the real login form."""
    return client.post("/login", data={"username": username, "password": password})


CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture
def live_server(app):
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
def _chromium_process():
    """Debian's Chromium driven by Playwright (its own browser download does not work here): a
    function returning the session's browser, started again if it is no longer connected."""
    from playwright.sync_api import sync_playwright

    path = os.environ.get("FIELDSVC_CHROMIUM", "/usr/bin/chromium")
    if not Path(path).exists():
        pytest.fail(f"Chromium not found at {path}: install Debian's chromium (.ci/run does)")
    with sync_playwright() as p:
        held = [p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)]

        def live():
            if not held[0].is_connected():
                held[0] = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
            return held[0]

        yield live
        if held[0].is_connected():
            held[0].close()


@pytest.fixture
def chromium(_chromium_process):
    """The browser, one per test process: a browser that died in an earlier test (a crash of
    Chromium) is started again, so that one crash fails one test, not every browser test after it."""
    return _chromium_process()


@pytest.fixture
def page(chromium, live_server):
    """A fresh browser context and page; console errors are collected in `page.console_errors`."""
    context = chromium.new_context(base_url=live_server, viewport={"width": 1280, "height": 800})
    pg = context.new_page()
    pg.console_errors = []
    pg.on("console", lambda msg: pg.console_errors.append(msg.text) if msg.type == "error" else None)
    pg.on("pageerror", lambda exc: pg.console_errors.append(str(exc)))
    yield pg
    context.close()


def browser_login(page, username: str, password: str = "demo") -> None:
    """Log in through the real login page."""
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")


@pytest.fixture(scope="session")
def dask_cluster():
    """A Dask LocalCluster of two single-threaded worker processes (planning on Dask)."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        yield cluster
