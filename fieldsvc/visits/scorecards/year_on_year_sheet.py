"""The workbook's "Year on year" sheet: each contractor's KPIs in the period beside the same Jalali
period of the previous year (:mod:`fieldsvc.visits.scorecards.year_on_year`).

Layout: row 1 title naming both periods (Jalali in Persian), row 3 header (contractor code, name,
KPI, key, this period, the year before, change, change %), one row per contractor and KPI from row 4.
"""
from __future__ import annotations

from typing import Any, Callable

from flask_babel import gettext as _

from fieldsvc.visits.scorecards.labels import label
from fieldsvc.visits.scorecards.year_on_year import YearOnYear

FIRST_ROW = 4


def add_sheet(wb: Any, yoy: YearOnYear, lang: str, sheet: Callable[..., Any], date_text: Callable[..., str]) -> None:
    """Append the sheet to a write-only workbook being built (inside its ``force_locale``), with the
    workbook's sheet writer and date text (passed in: this module does not import the workbook)."""
    _Sheet, _date_text = sheet, date_text
    sh = _Sheet(wb, _("Year on year")[:31], lang)
    sh.add([_("%(start)s to %(end)s compared with %(pstart)s to %(pend)s",
              start=_date_text(yoy.current.start, lang), end=_date_text(yoy.current.end, lang),
              pstart=_date_text(yoy.previous.start, lang), pend=_date_text(yoy.previous.end, lang))], "title")
    sh.add([])
    sh.add([_("Code"), _("Contractor"), _("KPI"), _("Key"), _("This period"), _("The same period last year"),
            _("Change"), _("Change %")], "head")
    for r in yoy.rows:
        name = (r.name_fa or r.name) if lang == "fa" else r.name
        sh.add([r.code, name, label(r.kpi), r.kpi, r.current, r.previous, r.change, r.change_pct],
               {4: "dec", 5: "dec", 6: "dec", 7: "dec"})
    sh.write(freeze="C4", filter_ref=f"A3:H{max(sh.next_row - 1, 3)}")
