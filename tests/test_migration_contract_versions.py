"""Migration 3c1e8a9d2b47 gives every existing contract its version 1 from its own terms."""
from __future__ import annotations

import json

from flask_migrate import upgrade
from sqlalchemy import text

from fieldsvc.db import db
from fieldsvc.web import MIGRATIONS_DIR
from tests.migrating import drop_everything


def test_existing_contracts_get_version_one(app):
    drop_everything()
    try:
        upgrade(directory=str(MIGRATIONS_DIR), revision="852f7945aa61")
        targets = {"critical": {"response_minutes": 60, "resolution_minutes": 120}}
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO psp (id, code, name, name_fa, created_at, updated_at) "
                              "VALUES (1, 'p', 'P', '', '2026-01-01', '2026-01-01')"))
            conn.execute(text("INSERT INTO contractor (id, code, name, name_fa, email, phone, created_at, updated_at) "
                              "VALUES (1, 'c', 'C', '', '', '', '2026-01-01', '2026-01-01')"))
            conn.execute(text(
                "INSERT INTO contract (id, code, psp_id, contractor_id, valid_from, pm_interval_days, "
                "pm_tolerance_days, em_targets, install_deadline_hours, calendar, penalty_terms, geofence_m, "
                "require_confirmation_code, auto_close_days, created_at, updated_at) VALUES (1, 'k', 1, 1, "
                "'2026-02-01', 60, 5, :targets, 48, '{}', '{}', 150, :yes, 4, '2026-01-01', '2026-01-01')"),
                {"targets": json.dumps(targets), "yes": True})
        upgrade(directory=str(MIGRATIONS_DIR))
        with db.engine.connect() as conn:
            row = conn.execute(text("SELECT number, effective_from, pm_interval_days, em_targets, geofence_m, "
                                    "require_confirmation_code, auto_close_days FROM contract_version "
                                    "WHERE contract_id = 1")).one()
            kind, active = conn.execute(text("SELECT kind, active FROM contract WHERE id = 1")).one()
        em = row[3] if isinstance(row[3], dict) else json.loads(row[3])
        assert (row[0], str(row[1]), row[2], em, row[4], bool(row[5]), row[6]) == (
            1, "2026-02-01", 60, targets, 150, True, 4)
        assert kind == "uc" and bool(active)
    finally:
        drop_everything()
        db.create_all()
