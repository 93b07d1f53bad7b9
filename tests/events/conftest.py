"""Helpers for the proactive-call, ticket-type and service-tier tests: a bearer token for a PSP's
monitoring system, event dicts, and a clock inside the working day."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.web.security import issue_token

TEHRAN = ZoneInfo("Asia/Tehran")
#: Sunday 1 Azar 1405 10:00 in Tehran: a working day (never "today": tests pass any day).
DAY = date(2026, 11, 22)
T0 = datetime(2026, 11, 22, 10, 0, tzinfo=TEHRAN).astimezone(timezone.utc)


@pytest.fixture
def bearer(world):
    """Authorization header of psp-p1's API token (the PSP's monitoring system)."""
    token, _row = issue_token(db.session.get(m.User, world.users["psp-p1"].id), 1, "monitoring")
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def event(event_id: str, serial: str = "SN100", kind: str = "error", code: str | None = "E42",
          at: datetime | None = None, **extra) -> dict:
    at = at or datetime.now(timezone.utc) - timedelta(minutes=1)
    out = {"event_id": event_id, "terminal_serial": serial, "kind": kind, "time": at.isoformat()}
    if code is not None:
        out["code"] = code
    out.update(extra)
    return out


def add_rule(world, **kw) -> m.TerminalEventRule:
    values = {"psp_id": world.psps[0].id, "kind": "error", "code": "", "priority": "urgent",
              "symptom_code": "software", "throttle_minutes": 60}
    values.update(kw)
    rule = m.TerminalEventRule(**values)
    db.session.add(rule)
    db.session.commit()
    return rule
