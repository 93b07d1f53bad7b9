"""Technicians whose working day is over in a re-plan of today: what the run records, and the
sentences the board, the plans API and the CLI show for it.

The planner (:func:`fieldsvc.planner.day.locked_day`) leaves such a technician out; the run's
summary keeps one entry per technician (``summary["day_over"]``: id, name, reason, shift end,
earliest return home, the visits under way and finished that stay on the route) and
``summary["all_day_over"]`` when nobody is left to plan. :func:`notices` turns those into
sentences in the caller's language.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from fieldsvc.planner.day_over import DayOver
from fieldsvc.text import to_persian_digits
from fieldsvc.visits import models as m
from fieldsvc.visits.i18n_text import gettext as _

#: The run's stored message when every technician's day is over (the API shows it translated).
ALL_OVER_MESSAGE = "the working day is over for all technicians; plan tomorrow"


def _hhmm(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def summary_entries(over: Iterable[DayOver], technicians: Iterable[m.Technician],
                    done: Mapping[int, list[int]]) -> dict[int, dict[str, Any]]:
    """Technician id → the run summary's entry for a technician left out of the re-plan."""
    names = {t.id: t.name for t in technicians}
    return {d.technician_id: {
        "technician_id": d.technician_id, "name": names.get(d.technician_id, str(d.technician_id)),
        "reason": d.reason, "shift_end": _hhmm(d.shift_end), "free_at": _hhmm(d.free_at),
        "under_way": list(d.under_way), "done": len(done.get(d.technician_id, []))} for d in over}


def notices(summary: Mapping[str, Any] | None, lang: str = "en") -> list[dict[str, Any]]:
    """Sentences for a daily run's summary: ``[{code, technician_id, text}]``, the "all over"
    notice first; empty when every technician could be planned."""
    summary = summary or {}

    def time(value: str) -> str:
        return to_persian_digits(value) if lang == "fa" else value

    out = []
    if summary.get("all_day_over"):
        out.append({"code": "day_over_all", "technician_id": None,
                    "text": _("The working day is over for all technicians; plan tomorrow.")})
    for entry in summary.get("day_over") or []:
        kept = len(entry.get("under_way") or []) + int(entry.get("done") or 0)
        if entry.get("reason") == "shift_over":
            text = _("%(name)s: the shift ended at %(end)s; no new work today.",
                     name=entry["name"], end=time(entry["shift_end"]))
        else:
            text = _("%(name)s: the work under way and the way home last until %(free)s and the shift "
                     "ends at %(end)s; no new work today.",
                     name=entry["name"], free=time(entry["free_at"]), end=time(entry["shift_end"]))
        if kept:
            text += " " + _("Finished and checked-in visits stay on the route.")
        out.append({"code": entry.get("reason"), "technician_id": entry.get("technician_id"), "text": text})
    return out
