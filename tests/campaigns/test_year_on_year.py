"""Year-on-year comparison: Jalali months aligned, both values and the change on the PSP page,
in the API and in the workbook."""
from __future__ import annotations

import datetime as dt
from io import BytesIO

import jdatetime
from openpyxl import load_workbook

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.scorecards.year_on_year import previous_year_period, same_day_last_year
from tests.conftest import login


def g(y: int, mo: int, d: int) -> dt.date:
    return jdatetime.date(y, mo, d).togregorian()


def test_jalali_months_are_aligned():
    assert previous_year_period(g(1405, 7, 1), g(1405, 7, 30)) == (g(1404, 7, 1), g(1404, 7, 30))
    assert previous_year_period(g(1405, 9, 1), g(1405, 9, 15)) == (g(1404, 9, 1), g(1404, 9, 15))
    # Esfand: 30 days in 1403 (leap), 29 in 1402 and 1404; a whole month stays a whole month
    assert previous_year_period(g(1403, 12, 1), g(1403, 12, 30)) == (g(1402, 12, 1), g(1402, 12, 29))
    assert same_day_last_year(g(1405, 12, 29)) == g(1404, 12, 29)
    assert previous_year_period(g(1404, 12, 1), g(1404, 12, 29)) == (g(1403, 12, 1), g(1403, 12, 30))
    # a Gregorian month is not what is aligned: Mehr starts on 23 September
    assert g(1405, 7, 1).day != 1


def _pm(world, due: dt.date, done: bool) -> None:
    mer = world.merchants[0]
    at = dt.datetime.combine(due, dt.time(9), dt.timezone.utc)
    v = m.Visit(kind="pm", status="completed" if done else "missed", merchant_id=mer.id,
                contractor_id=world.contractors[0].id, contract_id=world.contracts[0].id, due_date=due,
                window_start=due, window_end=due, checkin_at=at if done else None,
                checkout_at=at + dt.timedelta(minutes=20) if done else None, terminals=list(mer.terminals))
    db.session.add(v)


def test_page_api_and_workbook_show_both_years(client, world):
    mehr_now, mehr_then = (g(1405, 7, 1), g(1405, 7, 30)), (g(1404, 7, 1), g(1404, 7, 30))
    world.contracts[0].valid_from = dt.date(2025, 1, 1)
    _pm(world, mehr_now[0] + dt.timedelta(days=3), True)
    _pm(world, mehr_now[0] + dt.timedelta(days=4), True)
    _pm(world, mehr_then[0] + dt.timedelta(days=3), True)
    _pm(world, mehr_then[0] + dt.timedelta(days=5), False)
    # a visit just outside last year's Mehr (Gregorian September) is not counted
    _pm(world, mehr_then[0] - dt.timedelta(days=1), False)
    db.session.commit()
    login(client, "psp-p1")
    q = {"from": mehr_now[0].isoformat(), "to": mehr_now[1].isoformat()}
    js = client.get("/api/v1/scorecards/year-on-year", query_string=q).json
    assert js["previous_from"] == mehr_then[0].isoformat() and js["previous_to"] == mehr_then[1].isoformat()
    row = next(r for r in js["rows"] if r["contractor"] == "c1" and r["kpi"] == "pm_compliance_pct")
    assert (row["current"], row["previous"], row["change"]) == (100.0, 50.0, 50.0)
    due = next(r for r in js["rows"] if r["contractor"] == "c1" and r["kpi"] == "pm_due")
    assert (due["current"], due["previous"], due["change"], due["change_pct"]) == (2, 2, 0, 0.0)
    html = client.get("/psp/year-on-year", query_string=q, headers={"Accept-Language": "fa"}).get_data(as_text=True)
    assert "مهر" in html and "۱۴۰۴" in html and "۱۴۰۵" in html
    assert 'data-kpi="pm_compliance_pct"' in html
    data = client.get("/api/v1/scorecards.xlsx", query_string=dict(q, lang="en")).data
    ws = load_workbook(BytesIO(data))["Year on year"]
    rows = {(r[0], r[3]): r for r in ws.iter_rows(min_row=4, values_only=True)}
    assert rows[("c1", "pm_compliance_pct")][4:7] == (100.0, 50.0, 50.0)
    assert ws["E3"].value == "This period" and "compared with" in ws["A1"].value
    # bad input names the field
    bad = client.get("/api/v1/scorecards/year-on-year", query_string={"from": "2026-13-01", "to": "2026-12-01"})
    assert bad.status_code == 422 and bad.json["error"]["field"] == "from"
