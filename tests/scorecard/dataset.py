"""A small hand-built month (May 2026, Tehran) with known KPI and penalty answers.

Contractor c1 (PSP p1, contract k1, business calendar with Iranian holidays; Eid al-Adha is
Wednesday 2026-05-27) and contractor c2 (PSP p2). Deadlines are computed with
fieldsvc.visits.contracts.sla/fieldsvc.calendar so the rows are consistent with the contract calendar; the
expected answers in EXPECTED_C1 were worked out by hand (see the comments).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from fieldsvc.calendar import CalendarSpec
from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.contracts.sla import SlaTargets, deadlines

TEH = ZoneInfo("Asia/Tehran")
UTC = dt.timezone.utc
START, END = dt.date(2026, 5, 1), dt.date(2026, 5, 31)
NOW = dt.datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def teh(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> dt.datetime:
    """A Tehran wall-clock time as aware UTC."""
    return dt.datetime(y, mo, d, h, mi, tzinfo=TEH).astimezone(UTC)


@dataclass
class Data:
    calls: dict[str, m.ServiceCall] = field(default_factory=dict)
    visits: dict[str, m.Visit] = field(default_factory=dict)


EXPECTED_C1 = {
    # PM: due 7 (pm1, pm2, pm3, pm4, pm6, pm7, pm8; pm5 cancelled), in window pm1 + pm8,
    # late pm2 (2 days) + pm7 (checked out 01:00 Tehran the day after its window: late by the
    # local date although the UTC date is still inside), missed pm3 (status) + pm4 (window closed),
    # pending pm6 (window still open on 06-15).
    "pm_due": 7, "pm_done_in_window": 2, "pm_done_late": 2, "pm_missed": 2, "pm_pending": 1,
    "pm_compliance_pct": 33.33,
    # EM: calls 1, 2, 3, 4, 6 (5 cancelled, 0 reported in April).
    "em_calls": 5, "response_met": 3, "response_decided": 5, "response_met_pct": 60.0,
    "resolution_met": 2, "resolution_decided": 5, "resolution_met_pct": 40.0,
    # response minutes 60, 120, 180, 210 → median 150 min, p90 201 min
    "response_median_h": 2.5, "response_p90_h": 3.35,
    # resolution minutes 180, 240, 300, 540 → median 270 min, p90 468 min
    "resolution_median_h": 4.5, "resolution_p90_h": 7.8,
    "first_time_fixes": 3, "resolved_with_visit": 4, "first_time_fix_pct": 75.0,
    "repeat_calls_7d": 1,
    "installs_due": 2, "installs_on_time": 1, "installs_decided": 2, "installs_on_time_pct": 50.0,
    "open_over_24h": 1, "open_over_48h": 1, "open_over_72h": 1,
    "checkins": 4, "checkins_flagged": 1, "geofence_flagged_pct": 25.0,
    "surveys": 2, "satisfaction_avg": 4.0,
}

#: Ledger amounts by reference (default terms of tests.factories: 500k/h response, 1M/h
#: resolution, 2M missed PM, 200k per PM day, 1M per install day, ticket cap 20M).
EXPECTED_PENALTIES = {
    "call:{call1}:response": (90, 1_000_000),     # across the Eid al-Adha holiday: 90 working min
    "call:{call1}:resolution": (60, 1_000_000),
    "call:{call2}:resolution": (60, 1_000_000),   # the paused clock pushed the deadline to Sun 10:00
    "call:{call6}:response": (None, 20_000_000),  # still open: ticket cap
    "call:{call6}:resolution": (None, 0),         # the cap is used up by the response line
    "visit:{pm2}:pm": (2 * 1440, 400_000),
    "visit:{pm7}:pm": (1440, 200_000),
    "visit:{pm3}:pm": (0, 2_000_000),
    "visit:{pm4}:pm": (0, 2_000_000),
    "visit:{in2}:install": (2 * 1440, 2_000_000),
}


def _call(w, key: str, con: int, term: m.Terminal, priority: str, reported: dt.datetime, *,
          responded: dt.datetime | None = None, resolved: dt.datetime | None = None,
          pauses: tuple = (), status: str = "resolved", survey: int | None = None,
          response_minutes: int | None = None, resolution_minutes: int | None = None,
          tech: m.Technician | None = None) -> m.ServiceCall:
    contract = w.contracts[con]
    by = deadlines(reported, priority, SlaTargets.from_dict(contract.em_targets),
                   CalendarSpec.from_dict(contract.calendar), pauses)
    call = m.ServiceCall(
        tracking_number=f"T{key}-{con}", terminal_id=term.id, merchant_id=term.merchant_id,
        psp_id=contract.psp_id, contractor_id=contract.contractor_id, contract_id=contract.id,
        priority=priority, symptom_code="dead", status=status, reported_at=reported,
        response_by=by.response_by, resolution_by=by.resolution_by, responded_at=responded,
        resolved_at=resolved, response_minutes=response_minutes,
        resolution_minutes=resolution_minutes, survey_score=survey,
        technician_id=tech.id if tech else None)
    db.session.add(call)
    db.session.flush()
    for s, e in pauses:
        db.session.add(m.CallPause(call_id=call.id, started_at=s, ended_at=e, reason="shop closed"))
    return call


def _visit(w, con: int, kind: str, mer: m.Merchant, status: str, *, tech: m.Technician | None = None,
           due: dt.date | None = None, tol: int = 15, deadline: dt.datetime | None = None,
           checkin: dt.datetime | None = None, checkout: dt.datetime | None = None,
           verified: bool | None = None, call: m.ServiceCall | None = None) -> m.Visit:
    contract = w.contracts[con]
    v = m.Visit(kind=kind, status=status, merchant_id=mer.id, contractor_id=contract.contractor_id,
                contract_id=contract.id, technician_id=tech.id if tech else None,
                service_call_id=call.id if call else None, due_date=due,
                window_start=due - dt.timedelta(days=tol) if due else None,
                window_end=due + dt.timedelta(days=tol) if due else None, deadline=deadline,
                checkin_at=checkin, checkout_at=checkout, checkin_verified=verified,
                planned_date=(checkin or NOW).date())
    db.session.add(v)
    return v


def build(w) -> Data:
    """Add the month's calls and visits to a tests.factories world."""
    d = Data()
    t1, t2 = w.technicians[0], w.technicians[1]
    term = [t for t in w.terminals if t.psp_id == w.psps[0].id]
    mer = [x for x in w.merchants if x.psp_id == w.psps[0].id]
    C = d.calls
    # call1: critical, Tue 05-26 16:00; 60 working min on Tue, Wed 05-27 is Eid al-Adha, Thu from
    # 08:00 → response_by Thu 09:00, resolution_by Thu 11:00. On site Thu 10:30 (90 min late,
    # response 210 min), resolved Thu 12:00 (60 min late, resolution 300 min).
    C["call1"] = _call(w, "1", 0, term[0], "critical", teh(2026, 5, 26, 16),
                       responded=teh(2026, 5, 28, 10, 30), resolved=teh(2026, 5, 28, 12),
                       response_minutes=210, resolution_minutes=300, tech=t1)
    # call2: urgent (4 h / 8 h), Sat 05-09 09:00, paused 10:00–12:00 → response_by 15:00 (met at
    # 14:00: 180 min), resolution_by Sun 10:00 (360 min on Sat), resolved Sun 11:00 (60 min late,
    # 540 min).
    C["call2"] = _call(w, "2", 0, term[1], "urgent", teh(2026, 5, 9, 9),
                       responded=teh(2026, 5, 9, 14), resolved=teh(2026, 5, 10, 11),
                       pauses=((teh(2026, 5, 9, 10), teh(2026, 5, 9, 12)),),
                       response_minutes=180, resolution_minutes=540, tech=t2)
    # call3/call4: normal, same terminal two days apart (a repeat call), both on time.
    C["call3"] = _call(w, "3", 0, term[2], "normal", teh(2026, 5, 11, 9),
                       responded=teh(2026, 5, 11, 10), resolved=teh(2026, 5, 11, 12),
                       response_minutes=60, resolution_minutes=180, survey=5, tech=t1)
    C["call4"] = _call(w, "4", 0, term[2], "normal", teh(2026, 5, 13, 9),
                       responded=teh(2026, 5, 13, 11), resolved=teh(2026, 5, 13, 13),
                       response_minutes=120, resolution_minutes=240, survey=3, tech=t1)
    C["call5"] = _call(w, "5", 0, term[3], "normal", teh(2026, 5, 14, 9), status="cancelled")
    # call6: normal, Sat 05-30 09:00, never answered: breached both clocks.
    C["call6"] = _call(w, "6", 0, term[3], "normal", teh(2026, 5, 30, 9), status="open")
    # call0: April, same terminal as call2 but 9 days earlier: not a repeat, not in the period.
    C["call0"] = _call(w, "0", 0, term[1], "normal", teh(2026, 4, 30, 9),
                       responded=teh(2026, 4, 30, 10), resolved=teh(2026, 4, 30, 11),
                       response_minutes=60, resolution_minutes=120, tech=t2)
    V = d.visits
    V["em1"] = _visit(w, 0, "em", mer[0], "completed", tech=t1, call=C["call1"],
                      checkin=teh(2026, 5, 28, 10, 30), checkout=teh(2026, 5, 28, 12))
    V["em2"] = _visit(w, 0, "em", mer[0], "completed", tech=t2, call=C["call2"],
                      checkin=teh(2026, 5, 9, 14), checkout=teh(2026, 5, 10, 11))
    V["em3"] = _visit(w, 0, "em", mer[1], "completed", tech=t1, call=C["call3"],
                      checkin=teh(2026, 5, 11, 10), checkout=teh(2026, 5, 11, 12))
    V["em4a"] = _visit(w, 0, "em", mer[1], "failed", tech=t1, call=C["call4"],
                       checkin=teh(2026, 5, 13, 11), checkout=teh(2026, 5, 13, 11, 30))
    V["em4b"] = _visit(w, 0, "em", mer[1], "completed", tech=t1, call=C["call4"],
                       checkin=teh(2026, 5, 13, 12, 30), checkout=teh(2026, 5, 13, 13))
    # PM (contract tolerance 15 days around the due date)
    V["pm1"] = _visit(w, 0, "pm", mer[0], "completed", tech=t1, due=dt.date(2026, 5, 10),
                      checkin=teh(2026, 5, 12, 10), checkout=teh(2026, 5, 12, 10, 30), verified=True)
    V["pm2"] = _visit(w, 0, "pm", mer[1], "completed", tech=t2, due=dt.date(2026, 5, 20),
                      checkin=teh(2026, 6, 6, 10), checkout=teh(2026, 6, 6, 10, 30))
    V["pm3"] = _visit(w, 0, "pm", mer[2], "missed", tech=t1, due=dt.date(2026, 5, 15))
    V["pm4"] = _visit(w, 0, "pm", mer[2], "planned", due=dt.date(2026, 5, 25))
    V["pm5"] = _visit(w, 0, "pm", mer[2], "cancelled", due=dt.date(2026, 5, 28))
    V["pm6"] = _visit(w, 0, "pm", mer[0], "planned", due=dt.date(2026, 5, 31))
    V["pm7"] = _visit(w, 0, "pm", mer[1], "completed", tech=t2, due=dt.date(2026, 5, 18),
                      checkin=teh(2026, 6, 3, 0, 30), checkout=teh(2026, 6, 3, 1))
    V["pm8"] = _visit(w, 0, "pm", mer[2], "completed", tech=t2, due=dt.date(2026, 5, 5),
                      checkin=teh(2026, 5, 3, 9), checkout=teh(2026, 5, 3, 9, 30), verified=True)
    # installations
    V["in1"] = _visit(w, 0, "install", mer[0], "completed", tech=t1,
                      deadline=dt.datetime(2026, 5, 20, 12, tzinfo=UTC),
                      checkin=dt.datetime(2026, 5, 20, 9, tzinfo=UTC),
                      checkout=dt.datetime(2026, 5, 20, 10, tzinfo=UTC), verified=False)
    V["in2"] = _visit(w, 0, "install", mer[1], "completed", tech=t2,
                      deadline=dt.datetime(2026, 5, 21, 12, tzinfo=UTC),
                      checkin=dt.datetime(2026, 5, 22, 12, tzinfo=UTC),
                      checkout=dt.datetime(2026, 5, 22, 13, tzinfo=UTC), verified=True)
    V["in3"] = _visit(w, 0, "install", mer[2], "planned",
                      deadline=dt.datetime(2026, 6, 20, 12, tzinfo=UTC))
    # contractor c2 (PSP p2): one call on time, one PM in window.
    term2 = [t for t in w.terminals if t.psp_id == w.psps[1].id]
    mer2 = [x for x in w.merchants if x.psp_id == w.psps[1].id]
    C["c2call"] = _call(w, "7", 1, term2[0], "normal", teh(2026, 5, 12, 9),
                        responded=teh(2026, 5, 12, 10), resolved=teh(2026, 5, 12, 11),
                        response_minutes=60, resolution_minutes=120, survey=5,
                        tech=w.technicians[2])
    V["c2em"] = _visit(w, 1, "em", mer2[0], "completed", tech=w.technicians[2], call=C["c2call"],
                       checkin=teh(2026, 5, 12, 10), checkout=teh(2026, 5, 12, 11), verified=True)
    V["c2pm"] = _visit(w, 1, "pm", mer2[1], "completed", tech=w.technicians[2], due=dt.date(2026, 5, 10),
                       checkin=teh(2026, 5, 10, 10), checkout=teh(2026, 5, 10, 11), verified=True)
    db.session.commit()
    return d


def refs(d: Data) -> dict[str, tuple[int | None, int]]:
    """EXPECTED_PENALTIES with the ids of this data set filled in."""
    ids = {k: c.id for k, c in d.calls.items()} | {k: v.id for k, v in d.visits.items()}
    return {k.format(**ids): v for k, v in EXPECTED_PENALTIES.items()}
