"""Failure analytics: failures and MTBF per model, failures by age, repeat failures within N days
after a visit per contractor; the PSP page and the Failures sheet of the scorecard workbook."""
from __future__ import annotations

import datetime as dt
from io import BytesIO
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.scorecards.failures import failure_report
from tests.conftest import login

TEHRAN = ZoneInfo("Asia/Tehran")
START, END = dt.date(2026, 6, 1), dt.date(2026, 6, 30)


def _at(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, 6, day, hour, tzinfo=TEHRAN).astimezone(dt.timezone.utc)


def _call(world, t: m.Terminal, day: int, n: int) -> None:
    at = _at(day)
    db.session.add(m.ServiceCall(tracking_number=f"EM-F-{n}", terminal_id=t.id, merchant_id=t.merchant_id,
                                 psp_id=t.psp_id, contractor_id=world.contractors[0].id,
                                 contract_id=world.contracts[0].id, priority="normal", symptom_code="printer",
                                 status="resolved", reported_at=at, response_by=at + dt.timedelta(hours=8),
                                 resolution_by=at + dt.timedelta(hours=24)))


def _visit(world, t: m.Terminal, day: int) -> None:
    db.session.add(m.Visit(kind="pm", status="completed", merchant_id=t.merchant_id,
                           contractor_id=world.contractors[0].id, contract_id=world.contracts[0].id,
                           terminals=[t], checkin_at=_at(day, 9), checkout_at=_at(day, 10)))


def _scenario(world) -> None:
    by = {t.serial: t for t in world.terminals}
    by["SN120"].model, by["SN120"].installed_on = "Verifone V240m", dt.date(2022, 6, 1)
    _call(world, by["SN100"], 10, 1)
    _call(world, by["SN110"], 20, 2)
    _call(world, by["SN120"], 5, 3)
    _visit(world, by["SN100"], 3)   # a failure 7 days later: a repeat within 30 days, not within 5
    _visit(world, by["SN101"], 15)  # no failure after it
    db.session.commit()


def test_failures_per_model_age_mtbf_and_repeats(world):
    _scenario(world)
    rep = failure_report(START, END, user=world.users["psp-p1"], repeat_days=30)
    rows = {r.model: (r.terminals, r.failures, r.terminal_days, r.mtbf_days) for r in rep.by_model}
    assert rows == {"PAX S90": (3, 2, 90, 45.0), "Verifone V240m": (1, 1, 30, 30.0)}
    assert rep.failures == 3 and rep.mtbf_days == 40.0
    assert rep.by_age == {"<1y": 0, "1-2y": 2, "2-3y": 0, "3y+": 1, "unknown": 0}
    assert [(r.contractor, r.visits, r.repeats, r.pct) for r in rep.by_contractor] == [("c1", 2, 1, 50.0)]
    short = failure_report(START, END, user=world.users["psp-p1"], repeat_days=5)
    assert [(r.visits, r.repeats) for r in short.by_contractor] == [(2, 0)]
    other = failure_report(START, END, user=world.users["psp-p2"])
    assert other.failures == 0 and other.by_contractor == []


def test_failures_page_and_workbook_sheet(client, world):
    _scenario(world)
    login(client, "psp-p1")
    page = client.get("/psp/failures?from=2026-06-01&to=2026-06-30&days=30").get_data(as_text=True)
    assert "Verifone V240m" in page and 'id="repeats"' in page
    x = client.get("/api/v1/scorecards.xlsx?from=2026-06-01&to=2026-06-30&lang=en")
    assert x.status_code == 200
    ws = load_workbook(BytesIO(x.data))["Failures"]
    table = {ws.cell(r, 1).value: [ws.cell(r, c).value for c in range(2, 6)] for r in range(2, 4)}
    assert table == {"PAX S90": [3, 2, 90, 45], "Verifone V240m": [1, 1, 30, 30]}
