"""Scheduled jobs run once per time slot, whatever the number of schedulers.

Several `fieldsvc scheduler` processes (on one machine or many) fire the same jobs at the same
times. Before a job runs, its scheduler inserts a ``job_run`` row for (job, slot); the unique key
lets exactly one insert succeed, on SQLite and PostgreSQL alike, and the others skip the slot.
A slot is the job's scheduled fire time nearest to the moment it runs (so a few seconds of clock
skew between machines still name the same slot; see fieldsvc.jobs).
"""
from __future__ import annotations

import os
import socket

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from fieldsvc.db import db, utcnow
from fieldsvc.visits import models as m


def host_id() -> str:
    """``hostname:pid`` of this process (who ran a slot, who solves a plan run)."""
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def claim(job: str, slot: str) -> int | None:
    """The id of a new ``job_run`` row for (job, slot), or None when another scheduler has it."""
    table = m.JobRun.__table__
    try:
        with db.engine.begin() as conn:
            return conn.execute(insert(table).values(job=job, slot=slot, host=host_id(), status="running",
                                                     started_at=utcnow()).returning(table.c.id)).scalar_one()
    except IntegrityError:
        return None


def finish(run_id: int, status: str) -> None:
    """Record how a claimed slot ended (``succeeded`` or ``failed``)."""
    table = m.JobRun.__table__
    with db.engine.begin() as conn:
        conn.execute(update(table).where(table.c.id == run_id).values(status=status, finished_at=utcnow()))
