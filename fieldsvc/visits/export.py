"""Excel scorecards (openpyxl): Summary, one sheet per contractor, Penalties, Definitions.

The workbook shows exactly the numbers of a :class:`~fieldsvc.visits.scorecard.Scorecard` (the
JSON of ``GET /api/v1/scorecards``): numbers and dates are Excel types, percentages are numbers
0–100 with a ``0.00`` format, amounts integer Rial. Headers and sheet names follow ``lang``
(Flask-Babel, needs an app context); in Persian sheets read right to left and a Jalali column
stands beside each date. Penalty totals by contractor and kind are ``SUMIFS`` formulas over the
Penalties sheet.

Layout (tests read it back cell by cell):

* Summary: row 1 title, row 3 header, rows 4.. one contractor each in rank order; columns
  :data:`SUMMARY_COLUMNS` (rank, code, name, then ``SUMMARY_KPIS``).
* Contractor sheet (named by code): header at row 3, then one row per KPI of ``KPI_KEYS`` (KPI,
  key, target, actual, status); the weekly trend and the breaches follow below, each with a header.
* Penalties: header row 1, one ledger line per row; totals table to the right.
"""
from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.formatting.rule import CellIsRule, FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from fieldsvc.dates import jalali_str
from fieldsvc.visits import models as m
from fieldsvc.visits.kpi_labels import (KPI_DEFINITIONS, KPI_UNITS, PENALTY_KINDS, PENALTY_STATUS_LABELS,
                                        SUMMARY_KPIS, label)
from fieldsvc.visits.scorecard import (AT_RISK_MARGIN, DEFAULT_MARGIN, KPI_KEYS, TARGETS, WEIGHTS,
                                       KpiRow, Scorecard)

__all__ = ["build_workbook", "write_workbook", "workbook_bytes", "export_scorecard", "SUMMARY_COLUMNS",
           "sheet_name"]

SUMMARY_COLUMNS: tuple[str, ...] = ("rank", "code", "name", *SUMMARY_KPIS)
FIRST_DATA_ROW = 4
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

GREEN = PatternFill("solid", fgColor="C6EFCE")
AMBER = PatternFill("solid", fgColor="FFEB9C")
RED = PatternFill("solid", fgColor="FFC7CE")
HEAD = PatternFill("solid", fgColor="DDEBF7")
BOLD = Font(bold=True)
FILLS = {"met": GREEN, "at_risk": AMBER, "breached": RED}
DATE_FMT = "yyyy-mm-dd"
DATETIME_FMT = "yyyy-mm-dd hh:mm"


def sheet_name(code: str) -> str:
    """A contractor sheet's name: its code, cut to Excel's 31 characters without []:*?/\\."""
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in code)
    return clean[:31] or "_"


def _local(x: dt.datetime | None, tz: str) -> dt.datetime | None:
    """Excel has no time zones: local wall-clock time, naive."""
    return None if x is None else x.astimezone(ZoneInfo(tz)).replace(tzinfo=None)


def _fmt(kpi: str) -> str:
    unit = KPI_UNITS.get(kpi)
    if unit in ("pct", "hours", "score"):
        return "0.00"
    return "#,##0"


def _header(ws: Worksheet, row: int, titles: Sequence[str], col: int = 1) -> None:
    for i, t in enumerate(titles):
        c = ws.cell(row=row, column=col + i, value=t)
        c.font, c.fill = BOLD, HEAD
        c.alignment = Alignment(wrap_text=True, vertical="top")


def _fit(ws: Worksheet, min_width: int = 6, max_width: int = 60) -> None:
    widths: dict[int, int] = {}
    for row in ws.iter_rows():
        for c in row:
            if c.value is None:
                continue
            v = c.value
            if isinstance(v, float):
                n = len(f"{v:,.2f}")
            elif isinstance(v, dt.datetime):
                n = 16
            elif isinstance(v, dt.date):
                n = 10
            elif isinstance(v, str) and v.startswith("="):
                n = 14
            else:
                n = max(len(x) for x in str(v).split("\n"))
            widths[c.column] = max(widths.get(c.column, 0), n)
    for col, n in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = max(min_width, min(max_width, n + 2))


def _status_rules(ws: Worksheet, kpi: str, ref: str) -> None:
    """Green/amber/red conditional formats of a KPI column against its target."""
    if kpi not in TARGETS:
        return
    target, higher = TARGETS[kpi]
    margin = AT_RISK_MARGIN.get(kpi, DEFAULT_MARGIN)
    if higher:
        rules = [("greaterThanOrEqual", [target], GREEN),
                 ("between", [target - margin, target], AMBER),
                 ("lessThan", [target - margin], RED)]
    else:
        rules = [("lessThanOrEqual", [target], GREEN),
                 ("between", [target, target + margin], AMBER),
                 ("greaterThan", [target + margin], RED)]
    first = ref.split(":")[0]
    ws.conditional_formatting.add(ref, FormulaRule(formula=[f'ISBLANK({first})'], stopIfTrue=True))
    for op, formula, fill in rules:
        ws.conditional_formatting.add(ref, CellIsRule(operator=op, formula=[str(f) for f in formula],
                                                      fill=fill, stopIfTrue=True))


def _rtl(ws: Worksheet, lang: str) -> None:
    ws.sheet_view.rightToLeft = lang == "fa"


def _name(row: KpiRow, lang: str) -> str:
    return (row.name_fa or row.name) if lang == "fa" else row.name


def _summary(wb: Workbook, card: Scorecard, lang: str) -> None:
    ws = wb.active
    ws.title = _("Summary")[:31]
    _rtl(ws, lang)
    ws.cell(row=1, column=1, value=_("Contractor scorecards %(start)s to %(end)s",
                                     start=_date_text(card.start, lang), end=_date_text(card.end, lang))).font = Font(bold=True, size=14)
    _header(ws, 3, [label(k) if k not in ("code", "name") else (_("Code") if k == "code" else _("Contractor"))
                    for k in SUMMARY_COLUMNS])
    for i, r in enumerate(card.rows):
        row = FIRST_DATA_ROW + i
        for j, k in enumerate(SUMMARY_COLUMNS, start=1):
            v = _name(r, lang) if k == "name" else getattr(r, k)
            c = ws.cell(row=row, column=j, value=v)
            if k in KPI_UNITS or k in ("rank", "em_calls", "pm_due"):
                c.number_format = _fmt(k)
    last = FIRST_DATA_ROW + max(len(card.rows), 1) - 1
    for j, k in enumerate(SUMMARY_COLUMNS, start=1):
        col = get_column_letter(j)
        _status_rules(ws, k, f"{col}{FIRST_DATA_ROW}:{col}{last}")
    ws.freeze_panes = ws.cell(row=FIRST_DATA_ROW, column=4)
    ws.auto_filter.ref = f"A3:{get_column_letter(len(SUMMARY_COLUMNS))}{last}"
    if card.rows:
        chart = BarChart()
        chart.type = "bar"
        chart.title = _("Score by contractor")
        chart.y_axis.title = label("score")
        chart.y_axis.scaling.min = 0
        chart.y_axis.scaling.max = 100
        score_col = SUMMARY_COLUMNS.index("score") + 1
        chart.add_data(Reference(ws, min_col=score_col, min_row=3, max_row=last), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=2, min_row=FIRST_DATA_ROW, max_row=last))
        chart.height = max(6.0, 0.8 * len(card.rows) + 3)
        chart.width = 16
        chart.legend = None
        ws.add_chart(chart, f"A{last + 3}")
    _fit(ws)


def _date_text(d: dt.date, lang: str) -> str:
    return jalali_str(d) if lang == "fa" else d.isoformat()


def _contractor_sheet(wb: Workbook, card: Scorecard, r: KpiRow, lang: str, tz: str) -> None:
    ws = wb.create_sheet(sheet_name(r.code))
    _rtl(ws, lang)
    ws.cell(row=1, column=1, value=f"{_name(r, lang)} ({r.code})").font = Font(bold=True, size=14)
    _header(ws, 3, [_("KPI"), _("Key"), _("Target"), _("Actual"), _("Status")])
    row = 4
    for k in KPI_KEYS:
        ws.cell(row=row, column=1, value=label(k))
        ws.cell(row=row, column=2, value=k)
        if k in TARGETS:
            ws.cell(row=row, column=3, value=TARGETS[k][0]).number_format = _fmt(k)
        ws.cell(row=row, column=4, value=getattr(r, k)).number_format = _fmt(k)
        st = r.status(k)
        if st:
            c = ws.cell(row=row, column=5, value=label(st))
            c.fill = FILLS[st]
        row += 1
    for kind, amount in sorted(r.penalties.items()):
        ws.cell(row=row, column=1, value=f"{label('penalties_total')}: {label(kind)}")
        ws.cell(row=row, column=2, value=f"penalties.{kind}")
        ws.cell(row=row, column=4, value=amount).number_format = "#,##0"
        row += 1
    ws.freeze_panes = "A4"
    ws.auto_filter.ref = f"A3:E{row - 1}"

    # weekly trend
    row += 1
    trend_head = row
    heads = [_("Week from"), _("Week to")] + ([_("Week from (Jalali)")] if lang == "fa" else []) + [
        label("em_calls"), label("response_met_pct"), label("resolution_met_pct"), label("pm_due"),
        label("pm_compliance_pct")]
    _header(ws, row, heads)
    weeks = card.trends.get(r.code, [])
    for w in weeks:
        row += 1
        vals: list[Any] = [w.week_start, w.week_end] + ([jalali_str(w.week_start)] if lang == "fa" else []) + [
            w.em_calls, w.response_met_pct, w.resolution_met_pct, w.pm_due, w.pm_compliance_pct]
        for j, v in enumerate(vals, start=1):
            c = ws.cell(row=row, column=j, value=v)
            if isinstance(v, dt.date):
                c.number_format = DATE_FMT
            elif isinstance(v, float):
                c.number_format = "0.00"
    if weeks:
        off = 1 if lang == "fa" else 0
        chart = LineChart()
        chart.title = _("Weekly trend")
        chart.y_axis.title = "%"
        chart.y_axis.scaling.min = 0
        chart.y_axis.scaling.max = 100
        for col in (4 + off, 5 + off, 7 + off):
            chart.add_data(Reference(ws, min_col=col, min_row=trend_head, max_row=row), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=trend_head + 1, max_row=row))
        chart.height, chart.width = 7, 16
        ws.add_chart(chart, f"{get_column_letter(len(heads) + 2)}3")

    # breaches
    row += 2
    _header(ws, row, [_("Breach"), _("Reference"), _("Object"), _("Day")]
            + ([_("Day (Jalali)")] if lang == "fa" else [])
            + [_("Deadline"), _("Done at"), _("Minutes late (working)"), _("Days late")])
    for b in card.breaches.get(r.code, []):
        row += 1
        vals = [label(b.kind), b.reference, b.label, b.occurred_on] + (
            [jalali_str(b.occurred_on)] if lang == "fa" else []) + [
            _local(b.deadline, tz), _local(b.done_at, tz), b.minutes_late, b.days_late]
        for j, v in enumerate(vals, start=1):
            c = ws.cell(row=row, column=j, value=v)
            if isinstance(v, dt.datetime):
                c.number_format = DATETIME_FMT
            elif isinstance(v, dt.date):
                c.number_format = DATE_FMT
    _fit(ws)


PENALTY_COLUMNS = ("id", "contractor", "kind", "reference", "period", "occurred_on", "minutes_late",
                   "amount_rial", "status", "reason", "corrects_id")


def _penalties(wb: Workbook, lines: Sequence[m.PenaltyLine], codes: dict[int, str],
               card: Scorecard, lang: str) -> None:
    ws = wb.create_sheet(_("Penalties")[:31])
    _rtl(ws, lang)
    heads = [_("Line"), _("Contractor"), _("Breach"), _("Reference"), _("Month"), _("Day"),
             _("Minutes late"), _("Amount (Rial)"), _("Status"), _("Reason"), _("Corrects line")]
    if lang == "fa":
        heads.insert(6, _("Day (Jalali)"))
    _header(ws, 1, heads)
    for i, x in enumerate(lines, start=2):
        vals: list[Any] = [x.id, codes.get(x.contractor_id, str(x.contractor_id)), label(x.kind),
                           x.reference, x.period, x.occurred_on]
        if lang == "fa":
            vals.append(jalali_str(x.occurred_on))
        vals += [x.minutes_late, x.amount_rial, label(x.status), x.reason, x.corrects_id]
        for j, v in enumerate(vals, start=1):
            c = ws.cell(row=i, column=j, value=v)
            if isinstance(v, dt.date):
                c.number_format = DATE_FMT
        ws.cell(row=i, column=heads.index(_("Amount (Rial)")) + 1).number_format = "#,##0"
    last = max(len(lines) + 1, 2)
    ncols = len(heads)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(ncols)}{last}"
    # totals by contractor (rows) and kind (columns), as SUMIFS over the lines, waived left out
    amt = get_column_letter(heads.index(_("Amount (Rial)")) + 1)
    con, kind, status = "B", "C", get_column_letter(heads.index(_("Status")) + 1)
    left = ncols + 2
    ws.cell(row=1, column=left, value=_("Totals (not waived)")).font = BOLD
    kinds = list(PENALTY_KINDS)
    _header(ws, 2, [_("Contractor")] + [label(k) for k in kinds] + [_("Total")], col=left)
    waived = str(PENALTY_STATUS_LABELS["waived"])
    rng = lambda col: f"${col}$2:${col}${last}"  # noqa: E731
    for i, r in enumerate(card.rows, start=3):
        ws.cell(row=i, column=left, value=r.code)
        code_ref = f"${get_column_letter(left)}{i}"
        for j, _k in enumerate(kinds, start=1):
            kind_ref = f"{get_column_letter(left + j)}$2"
            f = (f'=SUMIFS({rng(amt)},{rng(con)},{code_ref},{rng(kind)},{kind_ref},'
                 f'{rng(status)},"<>{waived}")')
            ws.cell(row=i, column=left + j, value=f).number_format = "#,##0"
        first, lastk = get_column_letter(left + 1), get_column_letter(left + len(kinds))
        ws.cell(row=i, column=left + len(kinds) + 1, value=f"=SUM({first}{i}:{lastk}{i})").number_format = "#,##0"
    _fit(ws)


def _definitions(wb: Workbook, lang: str) -> None:
    ws = wb.create_sheet(_("Definitions")[:31])
    _rtl(ws, lang)
    _header(ws, 1, [_("KPI"), _("Key"), _("How it is computed"), _("Weight in the score"), _("Target")])
    row = 2
    for k in KPI_KEYS:
        if k not in KPI_DEFINITIONS:
            continue
        ws.cell(row=row, column=1, value=label(k))
        ws.cell(row=row, column=2, value=k)
        ws.cell(row=row, column=3, value=str(KPI_DEFINITIONS[k])).alignment = Alignment(wrap_text=True)
        if k in WEIGHTS:
            ws.cell(row=row, column=4, value=WEIGHTS[k]).number_format = "0%"
        if k in TARGETS:
            ws.cell(row=row, column=5, value=TARGETS[k][0]).number_format = "0.00"
        row += 1
    ws.cell(row=row + 1, column=1, value=_("Colours: green = target met; amber = within the at-risk "
                                           "margin of the target; red = breached."))
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:E{row - 1}"
    _fit(ws, max_width=90)


def build_workbook(card: Scorecard, lines: Sequence[m.PenaltyLine], *, lang: str = "en",
                   contractor_codes: dict[int, str] | None = None, tz: str = "Asia/Tehran") -> Workbook:
    """The scorecard workbook in ``lang`` ("fa" or "en"). ``lines``: the ledger lines of the
    period (every status); ``contractor_codes``: contractor id → code for the Penalties sheet."""
    codes = dict(contractor_codes or {})
    codes.update({r.key: r.code for r in card.rows})
    with force_locale(lang):
        wb = Workbook()
        _summary(wb, card, lang)
        for r in card.rows:
            _contractor_sheet(wb, card, r, lang, tz)
        _penalties(wb, lines, codes, card, lang)
        _definitions(wb, lang)
    return wb


def write_workbook(card: Scorecard, lines: Sequence[m.PenaltyLine], target: str | Path | BinaryIO,
                   **kw: Any) -> None:
    """Build and save the workbook to a path or a binary stream."""
    build_workbook(card, lines, **kw).save(target)


def workbook_bytes(card: Scorecard, lines: Sequence[m.PenaltyLine], **kw: Any) -> bytes:
    """The workbook as .xlsx bytes (for HTTP downloads)."""
    buf = io.BytesIO()
    write_workbook(card, lines, buf, **kw)
    return buf.getvalue()


def export_scorecard(start: dt.date, end: dt.date, *, user: m.User | None, psp_code: str | None = None,
                     contractor_code: str | None = None, lang: str = "en",
                     now: dt.datetime | None = None) -> tuple[Scorecard, bytes]:
    """Compute the scorecard of the period in the user's scope and its workbook (.xlsx bytes)."""
    from fieldsvc.visits.penalty_ledger import ledger_lines
    from fieldsvc.visits.scorecard import compute_scorecard, resolve_filters

    card = compute_scorecard(start, end, user=user, psp_code=psp_code, contractor_code=contractor_code,
                             now=now)
    psp_id, contractor_ids = resolve_filters(user, psp_code, contractor_code)
    lines = ledger_lines(start, end, user=user, psp_id=psp_id, contractor_ids=contractor_ids)
    return card, workbook_bytes(card, lines, lang=lang)
