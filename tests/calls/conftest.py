"""Helpers for the EM call tests: a fixed clock, calls, and live routes of today."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from fieldsvc.db import db
from fieldsvc.visits.desk import calls as svc
from fieldsvc.visits import models as m

TEHRAN = ZoneInfo("Asia/Tehran")
#: Sunday 1 Azar 1405, 09:30 in Tehran: a working day, shops open 09:00–13:00 and 16:30–21:00.
DAY = date(2026, 11, 22)


def tehran(day: date, hhmm: str) -> datetime:
    h, mi = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, h, mi, tzinfo=TEHRAN).astimezone(timezone.utc)


T0 = tehran(DAY, "09:30")


def new_call(world, serial: str = "SN100", priority: str = "urgent", symptom: str = "printer",
             at: datetime = T0, user: str = "psp-p1") -> m.ServiceCall:
    return svc.open_call(world.users[user], priority=priority, symptom_code=symptom, terminal_serial=serial,
                         reported_at=at)


def add_route(tech: m.Technician, day: date, stops: list[tuple[m.Merchant, str, str]],
              start: str = "09:00", gap_min: int = 40) -> m.Route:
    """A stored route: (merchant, kind, status) per stop, ETAs every `gap_min` minutes from `start`."""
    route = m.Route(technician_id=tech.id, date=day)
    db.session.add(route)
    db.session.flush()
    t = tehran(day, start)
    for pos, (mer, kind, status) in enumerate(stops):
        v = m.Visit(kind=kind, status=status, merchant_id=mer.id, contractor_id=tech.contractor_id,
                    technician_id=tech.id, route_id=route.id, route_position=pos, planned_date=day,
                    eta=t, planned_start=t, planned_end=t + timedelta(minutes=20), service_minutes=20)
        if status in ("checked_in", "completed"):
            v.checkin_at = t
            if status == "completed":
                v.checkout_at = t + timedelta(minutes=20)
        db.session.add(v)
        t += timedelta(minutes=gap_min)
    db.session.commit()
    return route


@pytest.fixture
def fixed_now(monkeypatch):
    """Freeze the services' clock at T0 (or another instant: call the returned setter)."""
    state = {"now": T0}

    def now() -> datetime:
        return state["now"]

    import fieldsvc.visits.desk.calls as calls_mod
    import fieldsvc.visits.desk.slot_answer as answer_mod
    import fieldsvc.visits.desk.slotting as slot_mod
    monkeypatch.setattr(calls_mod, "utcnow", now)
    monkeypatch.setattr(slot_mod, "utcnow", now)
    monkeypatch.setattr(answer_mod, "utcnow", now)

    def set_now(value: datetime) -> None:
        state["now"] = value
    return set_now
