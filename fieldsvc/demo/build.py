"""Build the demo database: reset the schema, generate the rows, bulk-insert them, fingerprint them.

Call inside an application context (``create_app().app_context()``).
"""
from __future__ import annotations

import hashlib
import json
import time as _time
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable, Optional
from zoneinfo import ZoneInfo

from sqlalchemy import MetaData, func, insert, select, text
from werkzeug.security import generate_password_hash

from fieldsvc.db import db
from fieldsvc.demo.generate import DemoRows, generate_master_data
from fieldsvc.demo.history import generate_history
from fieldsvc.demo.lifecycle import add_lifecycle
from fieldsvc.visits import models as m

DEFAULT_SEED = 1405
DEFAULT_MERCHANTS = 3000
#: (table, ORM model or Table) in foreign-key order.
_INSERT_ORDER: tuple[tuple[str, Any], ...] = (
    ("psp", m.Psp), ("contractor", m.Contractor), ("region", m.Region), ("contract", m.Contract),
    ("contract_region", m.contract_region), ("merchant", m.Merchant), ("terminal", m.Terminal),
    ("technician", m.Technician), ("user", m.User), ("service_call", m.ServiceCall), ("visit", m.Visit),
    ("visit_terminal", m.visit_terminal), ("audit_event", m.AuditEvent),
)
Progress = Callable[[str], None]


@dataclass
class DemoResult:
    """What was built: rows per table, logins, timings (seconds per step) and the data digest."""

    seed: int
    merchants: int
    today: date
    counts: dict[str, int]
    logins: list[tuple[str, str, str]]
    timings: dict[str, float] = field(default_factory=dict)
    schema: str = ""
    digest: str = ""

    @property
    def seconds(self) -> float:
        return sum(self.timings.values())


def tehran_today(tz: str = "Asia/Tehran") -> date:
    """Today's date in Tehran (the demo's anchor date)."""
    return datetime.now(ZoneInfo(tz)).date()


def reset_schema(migrations_dir: str | None = None) -> str:
    """Drop every table of the current database and build the schema again.

    Alembic migrations to head are preferred; when head does not match the models (migrations
    out of date during development) the tables are created from the models and stamped at head.
    Returns ``"migrations"`` or ``"models"``."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from flask_migrate import stamp, upgrade

    from fieldsvc.web import MIGRATIONS_DIR

    directory = migrations_dir or str(MIGRATIONS_DIR)
    _drop_everything()
    try:
        upgrade(directory=directory)
        with db.engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(ctx, db.metadata)
    except Exception:  # noqa: BLE001 — a broken migration chain falls back to the models
        db.session.rollback()
        diff = ["upgrade failed"]
    if not diff:
        return "migrations"
    _drop_everything()
    db.create_all()
    stamp(directory=directory, revision="head")
    return "models"


def _drop_everything() -> None:
    db.session.remove()
    meta = MetaData()
    meta.reflect(bind=db.engine)
    meta.drop_all(bind=db.engine)


def build_rows(seed: int = DEFAULT_SEED, merchants: int = DEFAULT_MERCHANTS, today: date | None = None,
               password_hash: str = "", progress: Optional[Progress] = None) -> DemoRows:
    """All demo rows in memory (no database): master data plus a year of history."""
    today = today or tehran_today()
    step = progress or (lambda _label: None)
    step("master data")
    rows = generate_master_data(seed, merchants, today, password_hash)
    step("history")
    generate_history(rows, seed)
    return rows


def insert_rows(rows: DemoRows, progress: Optional[Progress] = None) -> None:
    """Bulk-insert ``rows`` into an empty schema in one transaction (explicit ids), then move the
    PostgreSQL id sequences past them."""
    for table, target in _INSERT_ORDER:
        data = getattr(rows, table)
        if progress:
            progress(f"insert {table}")
        if not data:
            continue
        stmt = insert(target)
        for i in range(0, len(data), 5000):
            db.session.execute(stmt, data[i:i + 5000])
    db.session.flush()
    if db.engine.dialect.name == "postgresql":
        for _table, target in _INSERT_ORDER:
            if hasattr(target, "__table__") and "id" in target.__table__.c:
                name = target.__table__.name
                db.session.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM \"{name}\"), 0) + 1, false)"))
    db.session.commit()


def build_demo(seed: int = DEFAULT_SEED, merchants: int = DEFAULT_MERCHANTS, password: str = "demo",
               today: date | None = None, *, reset: bool = True,
               progress: Optional[Progress] = None) -> DemoResult:
    """Build the whole demo database (schema from scratch unless ``reset`` is False, in which case
    the schema must exist and be empty). Deterministic for ``(seed, merchants, today)``."""
    today = today or tehran_today()
    timings: dict[str, float] = {}
    t0 = _time.perf_counter()
    schema = ""
    if reset:
        if progress:
            progress("schema")
        schema = reset_schema()
    elif db.session.scalar(select(func.count()).select_from(m.Psp)):
        raise RuntimeError("the database is not empty: the demo builds from scratch (use reset=True)")
    timings["schema"] = _time.perf_counter() - t0
    t0 = _time.perf_counter()
    # One hash for every demo user: hashing ~70 passwords with scrypt would take seconds.
    rows = build_rows(seed, merchants, today, generate_password_hash(password), progress)
    timings["generate"] = _time.perf_counter() - t0
    t0 = _time.perf_counter()
    insert_rows(rows, progress)
    timings["insert"] = _time.perf_counter() - t0
    t0 = _time.perf_counter()
    if progress:
        progress("stock and work orders")
    lifecycle = add_lifecycle(seed, today)
    timings["lifecycle"] = _time.perf_counter() - t0
    logins = [(u["username"], u["role"], _scope_label(rows, u)) for u in rows.user]
    digest = demo_digest()
    db.session.commit()  # end the read transaction: it would hold locks on PostgreSQL
    return DemoResult(seed=seed, merchants=merchants, today=today, counts={**rows.counts(), **lifecycle},
                      logins=logins,
                      timings=timings, schema=schema, digest=digest)


def _scope_label(rows: DemoRows, user: dict[str, Any]) -> str:
    if user["psp_id"]:
        return rows.psp[user["psp_id"] - 1]["name"]
    if user["technician_id"]:
        tech = rows.technician[user["technician_id"] - 1]
        return f"{rows.contractor[user['contractor_id'] - 1]['name']} · {tech['code']}"
    if user["contractor_id"]:
        return rows.contractor[user["contractor_id"] - 1]["name"]
    return "all"


_DIGEST_COLUMNS: tuple[tuple[Any, tuple[str, ...]], ...] = (
    (m.Region, ("id", "code", "center_lat", "center_lon")),
    (m.Contract, ("id", "code", "psp_id", "contractor_id", "pm_interval_days", "em_targets", "calendar")),
    (m.Merchant, ("id", "psp_id", "region_id", "code", "name", "address", "phone", "lat", "lon",
                  "opening_hours", "building_key")),
    (m.Terminal, ("id", "serial", "model", "family", "merchant_id", "status", "installed_on", "last_pm_on")),
    (m.Technician, ("id", "contractor_id", "code", "name", "home_lat", "home_lon", "skills", "vehicle",
                    "max_visits", "shift_start")),
    (m.User, ("id", "username", "role", "psp_id", "contractor_id", "technician_id")),
    (m.ServiceCall, ("id", "tracking_number", "terminal_id", "priority", "symptom_code", "status",
                     "reported_at", "response_by", "resolution_by", "responded_at", "resolved_at",
                     "closed_at", "response_minutes", "resolution_minutes", "survey_score")),
    (m.Visit, ("id", "kind", "status", "merchant_id", "technician_id", "service_call_id", "planned_date",
               "checkin_at", "checkin_lat", "checkin_lon", "checkin_verified", "checkout_at", "outcome")),
    (m.AuditEvent, ("action", "object_type", "object_id", "from_state", "to_state")),
)


def demo_digest() -> str:
    """SHA-256 over the key columns of the demo tables (rows sorted): equal digests mean the
    same data. Password hashes and created/updated stamps are left out (salted / clock)."""
    h = hashlib.sha256()
    for model, cols in _DIGEST_COLUMNS:
        stmt = select(*[getattr(model, c) for c in cols])
        lines = sorted(json.dumps([_norm(v) for v in row], sort_keys=True, ensure_ascii=False, default=str)
                       for row in db.session.execute(stmt))
        h.update(model.__tablename__.encode())
        for line in lines:
            h.update(line.encode())
    return h.hexdigest()


def _norm(v: Any) -> Any:
    if isinstance(v, float):
        return round(v, 6)
    if isinstance(v, datetime):
        return v.isoformat()
    return v
