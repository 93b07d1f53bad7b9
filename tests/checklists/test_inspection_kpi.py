"""Inspection completeness in the scorecard (KPI, API and the workbook's Summary column)."""
from __future__ import annotations

from io import BytesIO

from openpyxl import load_workbook

from fieldsvc.db import db
from fieldsvc.visits.scorecards.kpis import compute_scorecard
from fieldsvc.visits.scorecards.workbook import FIRST_DATA_ROW, SUMMARY_COLUMNS
from tests.conftest import login
from tests.tech.conftest import checkin_body, checkout_body, today_local

IN, OUT = "/api/v1/visits/{}/check-in", "/api/v1/visits/{}/check-out"


def test_completeness_counts_terminals_with_every_required_item_answered(client, day, checklist):
    today = today_local()
    for v in (day.pm, day.pm2):
        v.due_date = v.window_start = v.window_end = today
    db.session.commit()
    ids = {it.label: it.id for it in checklist.items}
    serials = sorted(t.serial for t in day.pm.terminals)
    full = [a for s in serials for a in (
        {"terminal": s, "item_id": ids["Printer prints clearly"], "passed": True},
        {"terminal": s, "item_id": ids["Battery voltage"], "value": 4.0})]
    login(client, "tech-c1-1")
    client.post(IN.format(day.pm.id), json=checkin_body(day.pm))
    assert client.post(OUT.format(day.pm.id), json=checkout_body("pm_done", checklist=full)).status_code == 200
    # the second PM: only one of the two required items answered (a replayed old client)
    s2 = day.pm2.terminals[0].serial
    client.post(IN.format(day.pm2.id), json=checkin_body(day.pm2))
    part = [{"terminal": s2, "item_id": ids["Printer prints clearly"], "passed": True}]
    assert client.post(OUT.format(day.pm2.id), json=checkout_body("pm_done", checklist=part)).status_code == 200
    card = compute_scorecard(today, today, user=None)
    row = next(r for r in card.rows if r.code == "c1")
    assert (row.inspections_due, row.inspections_complete, row.inspection_completeness_pct) == (3, 2, 66.67)
    other = next(r for r in card.rows if r.code == "c2")
    assert other.inspections_due == 0 and other.inspection_completeness_pct is None
    login(client, "psp-p1")
    q = {"from": today.isoformat(), "to": today.isoformat()}
    js = client.get("/api/v1/scorecards", query_string=q).json
    assert next(r for r in js["rows"] if r["code"] == "c1")["inspection_completeness_pct"] == 66.67
    ws = load_workbook(BytesIO(client.get("/api/v1/scorecards.xlsx", query_string=dict(q, lang="en")).data))["Summary"]
    col = SUMMARY_COLUMNS.index("inspection_completeness_pct") + 1
    assert ws.cell(3, col).value == "Inspection completeness %"
    assert ws.cell(FIRST_DATA_ROW, col).value == 66.67
