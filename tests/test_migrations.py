"""`fieldsvc db upgrade` takes an empty database to head, and head matches the models."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from fieldsvc.db import db
from fieldsvc.web import MIGRATIONS_DIR
from tests.migrating import drop_everything


def test_upgrade_from_empty_matches_models(app):
    drop_everything()
    try:
        upgrade(directory=str(MIGRATIONS_DIR))
        tables = set(inspect(db.engine).get_table_names())
        assert {"visit", "service_call", "audit_event", "penalty_line", "user"} <= tables
        with db.engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(ctx, db.metadata)
        assert diff == [], f"models and migrations differ; run `fieldsvc db migrate`: {diff}"
        downgrade(directory=str(MIGRATIONS_DIR), revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    finally:
        drop_everything()
        db.create_all()
