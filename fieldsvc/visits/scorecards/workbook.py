"""Excel scorecards (openpyxl): Summary, one sheet per contractor, Penalties, Definitions.

The workbook shows exactly the numbers of a :class:`~fieldsvc.visits.scorecards.kpis.Scorecard` (the
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
* Year on year: the period beside the same Jalali period of the previous year
  (:mod:`fieldsvc.visits.scorecards.year_on_year_sheet`).
* Desk: header row 1, one row per contractor and desk tier (calls at the tier, first response,
  remote resolution, field dispatch; see fieldsvc.visits.scorecards.desk_kpis).
"""
from __future__ import annotations

import datetime as dt
import io
from copy import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.formatting.rule import CellIsRule, FormulaRule
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter

from fieldsvc.dates import jalali_str
from fieldsvc.visits import models as m
from fieldsvc.visits.scorecards.labels import (KPI_DEFINITIONS, KPI_UNITS, PENALTY_KINDS, PENALTY_STATUS_LABELS,
                                        SUMMARY_KPIS, label)
from fieldsvc.visits.scorecards.kpis import (AT_RISK_MARGIN, DEFAULT_MARGIN, KPI_KEYS, TARGETS, WEIGHTS,
                                       KpiRow, Scorecard)

__all__ = ["build_workbook", "write_workbook", "workbook_bytes", "export_scorecard", "SUMMARY_COLUMNS",
           "sheet_name"]

SUMMARY_COLUMNS: tuple[str, ...] = ("rank", "code", "name", *SUMMARY_KPIS)
FIRST_DATA_ROW = 4
#: Rows read to fit column widths (long sheets hold alike values further down).
WIDTH_SAMPLE = 2000
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

GREEN = PatternFill("solid", fgColor="C6EFCE")
AMBER = PatternFill("solid", fgColor="FFEB9C")
RED = PatternFill("solid", fgColor="FFC7CE")
HEAD = PatternFill("solid", fgColor="DDEBF7")
BOLD = Font(bold=True)
FILLS = {"met": GREEN, "at_risk": AMBER, "breached": RED}
DATE_FMT = "yyyy-mm-dd"
DATETIME_FMT = "yyyy-mm-dd hh:mm"


class Formula(str):
    """A formula this module builds itself (totals): the only text written as a live formula."""


#: First characters with which a spreadsheet reads text as a formula (or a DDE command).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def export_cell(ws: Any, value: Any, template: Any = None) -> Any:
    """The one writer of a workbook cell. Text is written as text whatever it starts with — a
    waiver reason ``=HYPERLINK(...)`` stays a string — and text starting like a formula gets the
    quote prefix, so editing the cell in Excel does not turn it into one either. Only a
    :class:`Formula` is written as a formula. `template`: a styled cell whose style is copied."""
    if template is None and not isinstance(value, str):
        return value  # numbers, dates, None: openpyxl writes them as what they are
    cell = WriteOnlyCell(ws, value)
    if template is not None:
        cell._style = copy(template._style)
    if isinstance(value, Formula):
        cell.data_type = "f"
    elif isinstance(value, str):
        cell.data_type = "s"
        if value.startswith(FORMULA_TRIGGERS):
            if cell._style is None:
                cell._style = StyleArray()
            cell._style.quotePrefix = 1
    return cell


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
        return "dec"
    return "int"


class _Styles:
    """One template cell per style; cells copy its style array (cheap) instead of setting fonts,
    fills and number formats one by one (the slow part of openpyxl)."""

    def __init__(self, ws: Any) -> None:
        specs: dict[str, dict[str, Any]] = {
            "head": {"font": BOLD, "fill": HEAD, "alignment": Alignment(wrap_text=True, vertical="top")},
            "title": {"font": Font(bold=True, size=14)},
            "date": {"number_format": DATE_FMT},
            "datetime": {"number_format": DATETIME_FMT},
            "int": {"number_format": "#,##0"},
            "dec": {"number_format": "0.00"},
            "pct0": {"number_format": "0%"},
            "wrap": {"alignment": Alignment(wrap_text=True, vertical="top")},
            "bold": {"font": BOLD},
            **{f"fill_{k}": {"fill": v} for k, v in FILLS.items()},
        }
        self.ws = ws
        self.templates: dict[str, Any] = {}
        for key, attrs in specs.items():
            c = WriteOnlyCell(ws)
            for a, v in attrs.items():
                setattr(c, a, v)
            self.templates[key] = c

    def cell(self, value: Any, style: str | None) -> Any:
        return export_cell(self.ws, value, self.templates[style] if style else None)


class _Sheet:
    """Rows are collected, column widths fitted, then written in one pass (write-only mode)."""

    def __init__(self, wb: Workbook, title: str, lang: str) -> None:
        self.ws = wb.create_sheet(title)
        self.ws.sheet_view.rightToLeft = lang == "fa"
        self.styles = _Styles(self.ws)
        self.rows: list[list[Any]] = []

    @property
    def next_row(self) -> int:
        return len(self.rows) + 1

    def add(self, values: Sequence[Any], styles: dict[int, str] | str | None = None, col: int = 1) -> int:
        """Append a row (``styles``: one style for all or {0-based index: style}); returns its number."""
        row: list[Any] = [None] * (col - 1) + [(v, styles if isinstance(styles, str) else
                                                (styles or {}).get(i)) for i, v in enumerate(values)]
        self.rows.append(row)
        return len(self.rows)

    def put(self, row: int, col: int, value: Any, style: str | None = None) -> None:
        """Set one cell of a collected row (1-based), growing it as needed."""
        while len(self.rows) < row:
            self.rows.append([])
        r = self.rows[row - 1]
        r.extend([None] * (col - len(r)))
        r[col - 1] = (value, style)

    def write(self, *, freeze: str | None = None, filter_ref: str | None = None, max_width: int = 60) -> None:
        widths: dict[int, int] = {}
        for r in self.rows[:WIDTH_SAMPLE]:      # columns hold alike values: a sample fits them
            for j, item in enumerate(r, start=1):
                if item is None or item[0] is None:
                    continue
                widths[j] = max(widths.get(j, 0), _width(item[0]))
        for j, n in widths.items():
            self.ws.column_dimensions[get_column_letter(j)].width = max(6, min(max_width, n + 2))
        if freeze:
            self.ws.freeze_panes = freeze
        if filter_ref:
            self.ws.auto_filter.ref = filter_ref
        cell = self.styles.cell
        for r in self.rows:
            self.ws.append([None if item is None else cell(item[0], item[1]) for item in r])


def _width(v: Any) -> int:
    if isinstance(v, float):
        return len(f"{v:,.2f}")
    if isinstance(v, dt.datetime):
        return 16
    if isinstance(v, dt.date):
        return 10
    if isinstance(v, str) and v.startswith("="):
        return 14
    return max(len(x) for x in str(v).split("\n"))


def _status_rules(ws: Any, kpi: str, ref: str) -> None:
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
    ws.conditional_formatting.add(ref, FormulaRule(formula=[f"ISBLANK({first})"], stopIfTrue=True))
    for op, formula, fill in rules:
        ws.conditional_formatting.add(ref, CellIsRule(operator=op, formula=[str(f) for f in formula],
                                                      fill=fill, stopIfTrue=True))


def _name(row: KpiRow, lang: str) -> str:
    return (row.name_fa or row.name) if lang == "fa" else row.name


def _date_text(d: dt.date, lang: str) -> str:
    return jalali_str(d) if lang == "fa" else d.isoformat()


def _summary(wb: Workbook, card: Scorecard, lang: str) -> None:
    sh = _Sheet(wb, _("Summary")[:31], lang)
    sh.add([_("Contractor scorecards %(start)s to %(end)s", start=_date_text(card.start, lang),
              end=_date_text(card.end, lang))], "title")
    sh.add([])
    sh.add([label(k) if k not in ("code", "name") else (_("Code") if k == "code" else _("Contractor"))
            for k in SUMMARY_COLUMNS], "head")
    numeric = {i: ("int" if _fmt(k) == "int" else "dec") for i, k in enumerate(SUMMARY_COLUMNS)
               if k not in ("code", "name")}
    for r in card.rows:
        sh.add([_name(r, lang) if k == "name" else getattr(r, k) for k in SUMMARY_COLUMNS], numeric)
    last = FIRST_DATA_ROW + max(len(card.rows), 1) - 1
    for j, k in enumerate(SUMMARY_COLUMNS, start=1):
        col = get_column_letter(j)
        _status_rules(sh.ws, k, f"{col}{FIRST_DATA_ROW}:{col}{last}")
    if card.rows:
        chart = BarChart()
        chart.type = "bar"
        chart.title = _("Score by contractor")
        chart.y_axis.title = label("score")
        chart.y_axis.scaling.min = 0
        chart.y_axis.scaling.max = 100
        score_col = SUMMARY_COLUMNS.index("score") + 1
        chart.add_data(Reference(sh.ws, min_col=score_col, min_row=3, max_row=last), titles_from_data=True)
        chart.set_categories(Reference(sh.ws, min_col=2, min_row=FIRST_DATA_ROW, max_row=last))
        chart.height = max(6.0, 0.8 * len(card.rows) + 3)
        chart.width = 16
        chart.legend = None
        sh.ws.add_chart(chart, f"A{last + 3}")
    sh.write(freeze="D4", filter_ref=f"A3:{get_column_letter(len(SUMMARY_COLUMNS))}{last}")


def _contractor_sheet(wb: Workbook, card: Scorecard, r: KpiRow, lang: str, tz: str) -> None:
    sh = _Sheet(wb, sheet_name(r.code), lang)
    sh.add([f"{_name(r, lang)} ({r.code})"], "title")
    sh.add([])
    sh.add([_("KPI"), _("Key"), _("Target"), _("Actual"), _("Status")], "head")
    for k in KPI_KEYS:
        st = r.status(k)
        sh.add([label(k), k, TARGETS[k][0] if k in TARGETS else None, getattr(r, k),
                label(st) if st else None], {2: _fmt(k), 3: _fmt(k), 4: f"fill_{st}" if st else None})
    for kind, amount in sorted(r.penalties.items()):
        sh.add([f"{label('penalties_total')}: {label(kind)}", f"penalties.{kind}", None, amount], {3: "int"})
    kpi_last = sh.next_row - 1

    # weekly trend
    sh.add([])
    off = 1 if lang == "fa" else 0
    heads = [_("Week from"), _("Week to")] + ([_("Week from (Jalali)")] if off else []) + [
        label("em_calls"), label("response_met_pct"), label("resolution_met_pct"), label("pm_due"),
        label("pm_compliance_pct")]
    trend_head = sh.add(heads, "head")
    weeks = card.trends.get(r.code, [])
    for w in weeks:
        sh.add([w.week_start, w.week_end] + ([jalali_str(w.week_start)] if off else []) + [
            w.em_calls, w.response_met_pct, w.resolution_met_pct, w.pm_due, w.pm_compliance_pct],
            {0: "date", 1: "date", 4 + off: "dec", 5 + off: "dec", 7 + off: "dec"})
    if weeks:
        chart = LineChart()
        chart.title = _("Weekly trend")
        chart.y_axis.title = "%"
        chart.y_axis.scaling.min = 0
        chart.y_axis.scaling.max = 100
        last = trend_head + len(weeks)
        for col in (4 + off, 5 + off, 7 + off):
            chart.add_data(Reference(sh.ws, min_col=col, min_row=trend_head, max_row=last), titles_from_data=True)
        chart.set_categories(Reference(sh.ws, min_col=1, min_row=trend_head + 1, max_row=last))
        chart.height, chart.width = 7, 16
        sh.ws.add_chart(chart, f"{get_column_letter(len(heads) + 2)}3")

    # breaches
    sh.add([])
    sh.add([_("Breach"), _("Reference"), _("Object"), _("Day")] + ([_("Day (Jalali)")] if off else [])
           + [_("Deadline"), _("Done at"), _("Minutes late (working)"), _("Days late")], "head")
    kind_labels = {k: str(v) for k, v in PENALTY_KINDS.items()}
    styles = {3: "date", 4 + off: "datetime", 5 + off: "datetime"}
    for b in card.breaches.get(r.code, []):
        sh.add([kind_labels.get(b.kind, b.kind), b.reference, b.label, b.occurred_on]
               + ([jalali_str(b.occurred_on)] if off else [])
               + [_local(b.deadline, tz), _local(b.done_at, tz), b.minutes_late, b.days_late], styles)
    sh.write(freeze="A4", filter_ref=f"A3:E{kpi_last}")


def _penalties(wb: Workbook, lines: Sequence[m.PenaltyLine], codes: dict[int, str],
               card: Scorecard, lang: str) -> None:
    sh = _Sheet(wb, _("Penalties")[:31], lang)
    heads = [_("Line"), _("Contractor"), _("Breach"), _("Reference"), _("Month"), _("Day"),
             _("Minutes late"), _("Amount (Rial)"), _("Status"), _("Reason"), _("Corrects line")]
    if lang == "fa":
        heads.insert(6, _("Day (Jalali)"))
    sh.add(heads, "head")
    kind_labels = {k: str(v) for k, v in PENALTY_KINDS.items()}
    status_labels = {k: str(v) for k, v in PENALTY_STATUS_LABELS.items()}
    date_i, amount_i = heads.index(_("Day")), heads.index(_("Amount (Rial)"))
    styles = {date_i: "date", amount_i: "int"}
    for x in lines:
        vals: list[Any] = [x.id, codes.get(x.contractor_id, str(x.contractor_id)),
                           kind_labels.get(x.kind, x.kind), x.reference, x.period, x.occurred_on]
        if lang == "fa":
            vals.append(jalali_str(x.occurred_on))
        vals += [x.minutes_late, x.amount_rial, status_labels.get(x.status, x.status), x.reason or None,
                 x.corrects_id]
        sh.add(vals, styles)
    last = max(len(lines) + 1, 2)
    ncols = len(heads)
    # totals by contractor (rows) and kind (columns), as SUMIFS over the lines, waived left out
    amt = get_column_letter(amount_i + 1)
    con, kind, status = "B", "C", get_column_letter(heads.index(_("Status")) + 1)
    left = ncols + 2
    sh.put(1, left, _("Totals (not waived)"), "bold")
    kinds = list(PENALTY_KINDS)
    for j, t in enumerate([_("Contractor")] + [label(k) for k in kinds] + [_("Total")]):
        sh.put(2, left + j, t, "head")
    waived = str(PENALTY_STATUS_LABELS["waived"])

    def rng(col: str) -> str:
        return f"${col}$2:${col}${last}"
    for i, r in enumerate(card.rows, start=3):
        sh.put(i, left, r.code)
        code_ref = f"${get_column_letter(left)}{i}"
        for j, _k in enumerate(kinds, start=1):
            kind_ref = f"{get_column_letter(left + j)}$2"
            sh.put(i, left + j, Formula(f'=SUMIFS({rng(amt)},{rng(con)},{code_ref},{rng(kind)},{kind_ref},'
                                        f'{rng(status)},"<>{waived}")'), "int")
        first, lastk = get_column_letter(left + 1), get_column_letter(left + len(kinds))
        sh.put(i, left + len(kinds) + 1, Formula(f"=SUM({first}{i}:{lastk}{i})"), "int")
    sh.write(freeze="A2", filter_ref=f"A1:{get_column_letter(ncols)}{last}")


def _definitions(wb: Workbook, lang: str) -> None:
    sh = _Sheet(wb, _("Definitions")[:31], lang)
    sh.add([_("KPI"), _("Key"), _("How it is computed"), _("Weight in the score"), _("Target")], "head")
    for k in KPI_KEYS:
        if k not in KPI_DEFINITIONS:
            continue
        sh.add([label(k), k, str(KPI_DEFINITIONS[k]), WEIGHTS.get(k), TARGETS[k][0] if k in TARGETS else None],
               {2: "wrap", 3: "pct0", 4: "dec"})
    last = sh.next_row - 1
    sh.add([])
    sh.add([_("Colours: green = target met; amber = within the at-risk margin of the target; "
              "red = breached.")])
    sh.write(freeze="A2", filter_ref=f"A1:E{last}", max_width=90)


def _failures(wb: Workbook, rep: Any, lang: str) -> None:
    """Failures per model (MTBF), per age, and repeat failures after a visit per contractor."""
    sh = _Sheet(wb, _("Failures")[:31], lang)
    sh.add([_("Model"), _("Terminals"), _("Failures"), _("Terminal-days in service"), _("MTBF (days)"),
            _("Failures per 100 terminal-years")], "head")
    for r in rep.by_model:
        sh.add([r.model, r.terminals, r.failures, r.terminal_days, r.mtbf_days, r.per_100_years],
               {1: "int", 2: "int", 3: "int", 4: "dec", 5: "dec"})
    sh.add([_("All models"), sum(r.terminals for r in rep.by_model), rep.failures,
            sum(r.terminal_days for r in rep.by_model), rep.mtbf_days], "bold")
    sh.add([])
    sh.add([_("Age at failure"), _("Failures")], "head")
    for band, n in rep.by_age.items():
        sh.add([band, n], {1: "int"})
    sh.add([])
    sh.add([_("Repeat failures within %(n)s days after a visit", n=rep.repeat_days)], "bold")
    sh.add([_("Contractor"), _("Name"), _("Visits done"), _("Followed by a failure"), "%"], "head")
    for r in rep.by_contractor:
        sh.add([r.contractor, r.name, r.visits, r.repeats, r.pct], {2: "int", 3: "int", 4: "dec"})
    sh.write(freeze="A2")


def _desk(wb: Workbook, card: Scorecard, lang: str) -> None:
    """The support desk per contractor and tier: calls, first response, remote resolution, dispatch."""
    from fieldsvc.visits.scorecards.desk_kpis import DESK_TIERS

    sh = _Sheet(wb, _("Desk")[:31], lang)
    tiers = {"tier1": _("Tier 1 · help desk"), "tier2": _("Tier 2 · expert")}
    sh.add([_("Code"), _("Contractor"), _("Tier"), _("Calls at the tier"), label("first_response_met"),
            label("first_response_decided"), label("first_response_met_pct"), label("first_response_avg_min"),
            label("remote_resolved"), label("remote_resolution_pct"), label("field_dispatched"),
            label("field_dispatch_pct")], "head")
    for d in card.desk:
        if d.tier not in DESK_TIERS:
            continue
        sh.add([d.code, (d.name_fa or d.name) if lang == "fa" else d.name, tiers[d.tier], d.calls,
                d.first_response_met, d.first_response_decided, d.first_response_met_pct, d.first_response_avg_min,
                d.remote_resolved, d.remote_resolution_pct, d.field_dispatched, d.field_dispatch_pct],
               {3: "int", 4: "int", 5: "int", 6: "dec", 7: "dec", 8: "int", 9: "dec", 10: "int", 11: "dec"})
    sh.write(freeze="D2", filter_ref=f"A1:L{max(sh.next_row - 1, 1)}")


def build_workbook(card: Scorecard, lines: Sequence[m.PenaltyLine], *, lang: str = "en",
                   contractor_codes: dict[int, str] | None = None, tz: str = "Asia/Tehran",
                   failures: Any = None, year_on_year: Any = None, phases: Any = None) -> Workbook:
    """The scorecard workbook in ``lang`` ("fa" or "en"), in openpyxl's write-only mode (fast and
    lean for big ledgers; save it once). ``lines``: the ledger lines of the period (every status);
    ``contractor_codes``: contractor id → code for the Penalties sheet."""
    codes = dict(contractor_codes or {})
    codes.update({r.key: r.code for r in card.rows})
    with force_locale(lang):
        wb = Workbook(write_only=True)
        _summary(wb, card, lang)
        for r in card.rows:
            _contractor_sheet(wb, card, r, lang, tz)
        _penalties(wb, lines, codes, card, lang)
        _desk(wb, card, lang)
        if failures is not None:
            _failures(wb, failures, lang)
        if year_on_year is not None:
            from fieldsvc.visits.scorecards.year_on_year_sheet import add_sheet
            add_sheet(wb, year_on_year, lang, _Sheet, _date_text)
        if phases is not None:  # calls per service phase (issue 23)
            from fieldsvc.visits.scorecards.service_phases import phases_sheet
            phases_sheet(wb, phases, lang, _Sheet)
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
    from fieldsvc.visits.scorecards.ledger import ledger_lines
    from fieldsvc.visits.scorecards.kpis import compute_scorecard, resolve_filters

    card = compute_scorecard(start, end, user=user, psp_code=psp_code, contractor_code=contractor_code,
                             now=now)
    psp_id, contractor_ids = resolve_filters(user, psp_code, contractor_code)
    lines = ledger_lines(start, end, user=user, psp_id=psp_id, contractor_ids=contractor_ids)
    from fieldsvc.visits.scorecards.failures import failure_report
    from fieldsvc.visits.scorecards.service_phases import phase_report
    from fieldsvc.visits.scorecards.year_on_year import compare
    yoy = compare(start, end, user=user, psp_code=psp_code, contractor_code=contractor_code, now=now, current=card)
    return card, workbook_bytes(card, lines, lang=lang, failures=failure_report(start, end, user=user),
                                year_on_year=yoy, phases=phase_report(start, end, user=user, psp_id=psp_id))
