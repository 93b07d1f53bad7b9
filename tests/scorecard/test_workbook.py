"""The workbook read back with openpyxl, cell by cell against the JSON; LibreOffice opens it."""
from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook

from fieldsvc.visits.scorecards.workbook import FIRST_DATA_ROW, SUMMARY_COLUMNS, export_scorecard
from fieldsvc.visits.scorecards.ledger import recompute_period
from fieldsvc.visits.scorecards.kpis import KPI_KEYS
from tests.scorecard.dataset import END, NOW, START


@pytest.fixture
def ledger(month):
    recompute_period(START, END, user=None, now=NOW)
    return month


def _book(lang: str = "en", user=None):
    card, data = export_scorecard(START, END, user=user, lang=lang, now=NOW)
    return card.to_dict(), load_workbook(BytesIO(data)), data


def test_workbook_matches_the_json_cell_by_cell(ledger):
    js, wb, _ = _book("en")
    assert wb.sheetnames == ["Summary", "c2", "c1", "Penalties", "Desk", "Failures", "Year on year", "Service phases", "Definitions"]
    ws = wb["Summary"]
    assert [c.value for c in ws[3]][:3] == ["Rank", "Code", "Contractor"]
    for i, row in enumerate(js["rows"]):
        cells = [c.value for c in ws[FIRST_DATA_ROW + i]][:len(SUMMARY_COLUMNS)]
        assert cells == [row[k] for k in SUMMARY_COLUMNS]
    assert ws.freeze_panes == "D4" and ws.auto_filter.ref.startswith("A3:")
    assert len(ws._charts) == 1 and ws.conditional_formatting
    for row in js["rows"]:
        sheet = wb[row["code"]]
        got = {sheet.cell(r, 2).value: sheet.cell(r, 4).value for r in range(4, 4 + len(KPI_KEYS))}
        assert got == {k: row[k] for k in KPI_KEYS}
        assert sheet.freeze_panes == "A4" and len(sheet._charts) == 1
    # real numbers and dates, not text
    c1 = wb["c1"]
    assert isinstance(c1.cell(4 + KPI_KEYS.index("pm_compliance_pct"), 4).value, float)
    dates = [c.value for c in c1["A"] if isinstance(c.value, dt.datetime)]
    assert dates[0] == dt.datetime(2026, 5, 1)
    refs = {c.value for c in c1["B"]}
    assert {b["reference"] for b in js["breaches"]["c1"]} <= refs


def test_penalty_sheet_lines_and_sumifs_totals(ledger):
    js, wb, _ = _book("en")
    ws = wb["Penalties"]
    amounts = [r[7].value for r in ws.iter_rows(min_row=2) if isinstance(r[0].value, int)]
    assert sum(amounts) == 29_600_000 + 0  # c1's lines (c2 has none)
    formulas = [c.value for row in ws.iter_rows() for c in row
                if isinstance(c.value, str) and c.value.startswith("=SUMIFS(")]
    assert len(formulas) == 2 * 5       # 2 contractors × 5 kinds
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref


def test_persian_workbook_has_jalali_and_rtl(ledger, app):
    _js, wb, _ = _book("fa")
    ws = wb.worksheets[0]
    assert ws.sheet_view.rightToLeft
    c1 = wb["c1"]
    texts = {c.value for row in c1.iter_rows() for c in row if isinstance(c.value, str)}
    assert "1405/02/11" in texts            # 2026-05-01 in the Jalali column of the weekly trend


@pytest.mark.slow
def test_libreoffice_opens_the_workbook_and_computes_the_totals(ledger, tmp_path: Path):
    if shutil.which("soffice") is None:
        pytest.fail("LibreOffice Calc is needed: `make test` installs it as root on Debian "
                    "(scripts/system-deps.sh), or `apt-get install libreoffice-calc-nogui`")
    js, _wb, data = _book("en")
    src = tmp_path / "scorecard.xlsx"
    src.write_bytes(data)
    out = tmp_path / "out"
    env_home = tmp_path / "lohome"
    proc = subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{env_home}", "--headless", "--convert-to", "xlsx",
         "--outdir", str(out), str(src)], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    converted = out / "scorecard.xlsx"
    assert converted.exists(), proc.stdout + proc.stderr
    ws = load_workbook(converted, data_only=True)["Penalties"]
    totals = {}
    for row in ws.iter_rows(min_row=3):
        for i, c in enumerate(row):
            if c.value in ("c1", "c2") and i > 5:
                totals[c.value] = row[i + 6].value
    c1 = next(r for r in js["rows"] if r["code"] == "c1")
    assert totals == {"c1": c1["penalties_total"], "c2": 0}
    pdf = subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{env_home}", "--headless", "--convert-to", "pdf",
         "--outdir", str(out), str(src)], capture_output=True, text=True, timeout=180)
    assert pdf.returncode == 0 and (out / "scorecard.pdf").stat().st_size > 1000


def test_cli_writes_the_workbook(ledger, app, tmp_path: Path):
    from fieldsvc.commands.scorecard import scorecard
    out = tmp_path / "s.xlsx"
    res = app.test_cli_runner().invoke(scorecard, ["--from", "2026-05-01", "--to", "2026-05-31",
                                                   "--psp", "p1", "--lang", "en", "-o", str(out)])
    assert res.exit_code == 0, res.output
    wb = load_workbook(out)
    assert wb.sheetnames == ["Summary", "c1", "Penalties", "Desk", "Failures", "Year on year", "Service phases", "Definitions"]
    bad = app.test_cli_runner().invoke(scorecard, ["--from", "2026-05-01", "--to", "2026-05-31",
                                                   "--psp", "nope", "-o", str(out)])
    assert bad.exit_code != 0 and "nope" in bad.output
