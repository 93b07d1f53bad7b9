"""``GET /healthz`` for load balancers, Compose and systemd: the database answers, Redis answers
when rate limits are kept there, and the schema is at the newest migration. 200 when all hold,
503 otherwise; each check says what it found (failures name the error's kind only: the page is
public, the details go to the server log)."""
from __future__ import annotations

from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from fieldsvc.db import db

bp = Blueprint("health", __name__)


def _database() -> dict[str, Any]:
    try:
        with db.engine.connect() as conn:
            conn.execute(text("select 1"))
            current = set(MigrationContext.configure(conn).get_current_heads())
    except Exception as e:  # noqa: BLE001 - any failure is the answer
        current_app.logger.warning("healthz: database unreachable: %s", e)
        return {"ok": False, "error": f"database unreachable ({e.__class__.__name__}); see the server log"}
    from fieldsvc.web import MIGRATIONS_DIR

    heads = set(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads())
    out: dict[str, Any] = {"ok": True, "migrations": {"current": sorted(current), "head": sorted(heads)}}
    if current != heads:
        out["ok"] = False
        out["error"] = "database schema is not at the newest migration: run `fieldsvc db upgrade`"
    return out


def _redis() -> dict[str, Any] | None:
    uri = current_app.config.get("RATELIMIT_STORAGE_URI") or ""
    if not uri.startswith(("redis://", "rediss://", "redis+unix://")):
        return None
    import redis

    try:
        redis.Redis.from_url(uri.replace("redis+unix://", "unix://"), socket_timeout=2,
                             socket_connect_timeout=2).ping()
    except Exception as e:  # noqa: BLE001 - any failure is the answer
        current_app.logger.warning("healthz: redis unreachable: %s", e)
        return {"ok": False, "error": f"redis unreachable ({e.__class__.__name__}); see the server log"}
    return {"ok": True}


@bp.get("/healthz")
def healthz():
    checks: dict[str, Any] = {"database": _database()}
    redis_check = _redis()
    checks["redis"] = redis_check if redis_check is not None else {"ok": True, "configured": False}
    ok = all(c["ok"] for c in checks.values())
    return jsonify({"status": "ok" if ok else "failing", "checks": checks}), (200 if ok else 503)
