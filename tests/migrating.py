"""Helpers for tests that run the migrations themselves on the test database."""
from __future__ import annotations

from fieldsvc.db import db


def drop_everything() -> None:
    """Every table gone, the migrations' own version table included (an empty database). The
    session's transaction ends first: on PostgreSQL an open one holds locks a DROP would wait on."""
    db.session.remove()
    db.drop_all()
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
