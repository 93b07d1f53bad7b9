"""Billing-relevant counts per service phase: calls reported in a period by contractor, the phase the
terminal was in when each call was opened (warranty = free maintenance, paid, none recorded) and
the ticket type: opened, fixed (resolved or closed: the work to bill in the paid phase), cancelled
and still unfinished. Shown on a PSP page and as a sheet of the scorecard workbook.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from fieldsvc import config
from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.scorecards.kpis import scope_filter
from fieldsvc.visits.service_models import CallProfile, ServicePhase, TicketType
from fieldsvc.visits.states import OPEN_CALL_STATES, CallStatus

PHASES = (ServicePhase.WARRANTY.value, ServicePhase.PAID.value, ServicePhase.NONE.value)


@dataclass
class PhaseRow:
    contractor_code: str
    contractor_name: str
    phase: str
    ticket_type: str
    opened: int = 0
    fixed: int = 0
    cancelled: int = 0
    unfinished: int = 0


@dataclass
class PhaseReport:
    start: dt.date
    end: dt.date
    rows: list[PhaseRow] = field(default_factory=list)

    def totals(self) -> dict[str, dict[str, int]]:
        """Per phase: opened, fixed, cancelled, unfinished over every contractor and type."""
        out = {p: {"opened": 0, "fixed": 0, "cancelled": 0, "unfinished": 0} for p in PHASES}
        for r in self.rows:
            t = out[r.phase]
            t["opened"] += r.opened
            t["fixed"] += r.fixed
            t["cancelled"] += r.cancelled
            t["unfinished"] += r.unfinished
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(),
                "rows": [r.__dict__ for r in self.rows], "totals": self.totals()}


def _utc_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = ZoneInfo(config.TIMEZONE)
    a = dt.datetime.combine(start, dt.time(), zone).astimezone(dt.timezone.utc)
    b = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.timezone.utc)
    return a, b


def phase_report(start: dt.date, end: dt.date, *, user: m.User | None, psp_id: int | None = None) -> PhaseReport:
    """Counts of calls reported from ``start`` to ``end`` (local dates, inclusive) in the user's scope."""
    a, b = _utc_bounds(start, end)
    phase = func.coalesce(CallProfile.service_phase, ServicePhase.NONE.value)
    kind = func.coalesce(CallProfile.ticket_type, TicketType.FAULT.value)
    q = (select(m.Contractor.code, m.Contractor.name, phase, kind, m.ServiceCall.status, func.count(m.ServiceCall.id))
         .join(m.Contractor, m.Contractor.id == m.ServiceCall.contractor_id)
         .outerjoin(CallProfile, CallProfile.call_id == m.ServiceCall.id)
         .where(m.ServiceCall.reported_at >= a, m.ServiceCall.reported_at < b, scope_filter(m.ServiceCall, user))
         .group_by(m.Contractor.code, m.Contractor.name, phase, kind, m.ServiceCall.status))
    if psp_id is not None:
        q = q.where(m.ServiceCall.psp_id == psp_id)
    rows: dict[tuple[str, str, str], PhaseRow] = {}
    for code, name, ph, tt, status, n in db.session.execute(q):
        r = rows.setdefault((code, ph, tt), PhaseRow(code, name, ph, tt))
        r.opened += n
        if status in (CallStatus.RESOLVED, CallStatus.CLOSED):
            r.fixed += n
        elif status == CallStatus.CANCELLED:
            r.cancelled += n
        elif status in OPEN_CALL_STATES:
            r.unfinished += n
    order = {p: i for i, p in enumerate(PHASES)}
    kinds = {t.value: i for i, t in enumerate(TicketType)}
    out = sorted(rows.values(), key=lambda r: (r.contractor_code, order.get(r.phase, 9), kinds.get(r.ticket_type, 9)))
    return PhaseReport(start, end, out)


def phases_sheet(wb: Any, rep: PhaseReport, lang: str, sheet_class: Any) -> None:
    """The "Service phases" sheet of the scorecard workbook (``sheet_class``: the workbook's sheet
    writer, passed in so that this module does not import the workbook's)."""
    from fieldsvc.visits.i18n_text import gettext as _

    names = {"warranty": _("Warranty"), "paid": _("Paid"), "none": _("No phase recorded"),
             "fault": _("Fault"), "change": _("Change request"), "information": _("Information request"),
             "installation": _("Installation request")}
    sh = sheet_class(wb, _("Service phases")[:31], lang)
    sh.add([_("Contractor"), _("Name"), _("Phase"), _("Ticket type"), _("Opened"), _("Fixed"), _("Cancelled"),
            _("Unfinished")], "head")
    for r in rep.rows:
        sh.add([r.contractor_code, r.contractor_name, names.get(r.phase, r.phase), names.get(r.ticket_type, r.ticket_type),
                r.opened, r.fixed, r.cancelled, r.unfinished], {4: "int", 5: "int", 6: "int", 7: "int"})
    sh.add([])
    for ph, t in rep.totals().items():
        sh.add([_("All contractors"), "", names[ph], "", t["opened"], t["fixed"], t["cancelled"], t["unfinished"]],
               "bold")
    sh.write(freeze="A2")
