"""Portable SQL time arithmetic for aggregates (SQLite and PostgreSQL).

``epoch(x)``: seconds since 1970-01-01 UTC of a UTC timestamp column, or of midnight of a date
column. SQLite stores our UTC datetimes as naive ISO strings (``julianday`` reads them);
PostgreSQL uses ``extract(epoch from ...)``. Differences of epochs give durations, and adding a
time zone's fixed UTC offset turns a UTC instant into the local wall clock for comparisons with
local dates.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

__all__ = ["epoch"]


class epoch(FunctionElement):
    """Seconds since the Unix epoch of a UTC timestamp or a date (float)."""

    type = Float()
    inherit_cache = True
    name = "epoch"


@compiles(epoch, "sqlite")
def _epoch_sqlite(element: epoch, compiler: Any, **kw: Any) -> str:
    return "((julianday(%s) - 2440587.5) * 86400.0)" % compiler.process(element.clauses, **kw)


@compiles(epoch)
def _epoch_default(element: epoch, compiler: Any, **kw: Any) -> str:
    return "CAST(EXTRACT(EPOCH FROM %s) AS DOUBLE PRECISION)" % compiler.process(element.clauses, **kw)
