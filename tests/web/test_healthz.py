"""`GET /healthz`: database reachable, Redis reachable when configured, schema at the newest migration."""
from __future__ import annotations

from alembic.script import ScriptDirectory

from fieldsvc.db import db
from fieldsvc.web import MIGRATIONS_DIR


def _stamp(revision: str | None) -> None:
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        if revision:
            conn.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
            conn.exec_driver_sql(f"INSERT INTO alembic_version VALUES ('{revision}')")


def test_healthz_ok_when_database_at_head(app, client):
    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    _stamp(head)
    try:
        r = client.get("/healthz")
        body = r.get_json()
        assert r.status_code == 200, body
        assert body["status"] == "ok" and body["checks"]["database"]["migrations"]["head"] == [head]
        assert body["checks"]["redis"] == {"ok": True, "configured": False}
    finally:
        _stamp(None)


def test_healthz_fails_when_migrations_are_behind(app, client):
    _stamp("852f7945aa61")  # the first migration, not the head
    try:
        r = client.get("/healthz")
        assert r.status_code == 503
        assert "fieldsvc db upgrade" in r.get_json()["checks"]["database"]["error"]
    finally:
        _stamp(None)


def test_healthz_checks_redis_when_rate_limits_live_there(app, client):
    _stamp(ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head())
    try:
        app.config["RATELIMIT_STORAGE_URI"] = "redis://127.0.0.1:1/0"  # nothing listens on port 1
        r = client.get("/healthz")
        assert r.status_code == 503 and "redis unreachable" in r.get_json()["checks"]["redis"]["error"]
        app.config["RATELIMIT_STORAGE_URI"] = "redis://127.0.0.1:6379/15"
        r = client.get("/healthz")
        assert r.status_code == 200, (r.get_json(), "is Redis running on 127.0.0.1:6379?")
    finally:
        _stamp(None)
