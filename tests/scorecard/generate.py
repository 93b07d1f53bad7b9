"""Generate a month of field-service work with bulk inserts (benchmark and notebook data).

``generate(n_contractors, n_visits, n_calls, month_start, seed)`` adds PSPs, contractors with
contracts (Iranian business calendar, tests.factories' targets and penalties), regions, merchants,
terminals and technicians, then ``n_calls`` EM calls (with their EM visits) and PM/installation
visits up to ``n_visits`` visits, all through SQLAlchemy Core ``insert`` executemany in chunks.
Times are consistent with the contract calendar: a response time is drawn in working minutes and
``responded_at`` is that much working time after the report (``fieldsvc.calendar.add_working_time``).
"""
from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import insert, select

from fieldsvc.calendar import CalendarSpec, add_working_time
from fieldsvc.db import db, utcnow
from fieldsvc.visits import models as m
from fieldsvc.visits.contracts.sla import SlaTargets, deadlines
from tests.factories import DEFAULT_CALENDAR, DEFAULT_PENALTIES, DEFAULT_TARGETS, TWO_SHIFTS

UTC = dt.timezone.utc
CHUNK = 10_000


@dataclass
class Generated:
    contractors: int
    visits: int
    calls: int
    start: dt.date
    end: dt.date


def _chunks(rows: list[dict], n: int = CHUNK) -> Iterator[list[dict]]:
    for i in range(0, len(rows), n):
        yield rows[i:i + n]


def _insert(model: type, rows: list[dict]) -> None:
    for part in _chunks(rows):
        db.session.execute(insert(model), part)


def _month_end(start: dt.date) -> dt.date:
    nxt = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return nxt - dt.timedelta(days=1)


def generate(n_contractors: int = 20, n_visits: int = 200_000, n_calls: int = 30_000,
             month_start: dt.date = dt.date(2026, 5, 1), seed: int = 7, merchants_per_contractor: int = 400,
             technicians_per_contractor: int = 12, now: dt.datetime | None = None) -> Generated:
    """Insert the data set into the current database (its tables must exist) and commit."""
    rng = random.Random(seed)
    end = _month_end(month_start)
    now = now or dt.datetime.combine(end + dt.timedelta(days=3), dt.time(12), UTC)
    cal = CalendarSpec.from_dict(DEFAULT_CALENDAR)
    targets = SlaTargets.from_dict(DEFAULT_TARGETS)
    stamp = utcnow()
    n_psps = max(1, min(4, n_contractors // 5 or 1))
    psps = [m.Psp(code=f"gp{i}", name=f"PSP {i}", name_fa=f"پرداخت {i}") for i in range(n_psps)]
    db.session.add_all(psps)
    db.session.flush()
    contracts, regions = [], []
    for i in range(n_contractors):
        con = m.Contractor(code=f"gc{i:02d}", name=f"Contractor {i:02d}", name_fa=f"پشتیبان {i:02d}")
        reg = m.Region(code=f"gr{i:02d}", name=f"Region {i:02d}", name_fa=f"منطقه {i:02d}")
        ctr = m.Contract(code=f"gk{i:02d}", psp=psps[i % n_psps], contractor=con, valid_from=month_start,
                         em_targets=DEFAULT_TARGETS, calendar=DEFAULT_CALENDAR,
                         penalty_terms=DEFAULT_PENALTIES, regions=[reg])
        db.session.add_all([con, reg, ctr])
        regions.append(reg)
        contracts.append(ctr)
    db.session.flush()
    mer_rows, term_rows, tech_rows = [], [], []
    for i, ctr in enumerate(contracts):
        for j in range(merchants_per_contractor):
            mer_rows.append({"psp_id": ctr.psp_id, "region_id": regions[i].id, "code": f"g{i:02d}m{j:05d}",
                             "name": f"Shop {i}-{j}", "lat": 35.6 + rng.random() * 0.2,
                             "lon": 51.2 + rng.random() * 0.3, "opening_hours": TWO_SHIFTS,
                             "closed_dates": [], "created_at": stamp, "updated_at": stamp})
        for t in range(technicians_per_contractor):
            tech_rows.append({"contractor_id": ctr.contractor_id, "code": f"t{t:02d}", "name": f"Tech {i}-{t}",
                              "home_lat": 35.7, "home_lon": 51.4, "skills": ["pax"],
                              "created_at": stamp, "updated_at": stamp})
    _insert(m.Merchant, mer_rows)
    _insert(m.Technician, tech_rows)
    mers = db.session.execute(select(m.Merchant.id, m.Merchant.psp_id, m.Merchant.region_id)
                              .where(m.Merchant.code.like("g%"))).all()
    for mid, psp_id, _r in mers:
        term_rows.append({"serial": f"GS{mid:07d}", "model": "PAX S90", "family": "pax", "merchant_id": mid,
                          "psp_id": psp_id, "status": "active", "created_at": stamp, "updated_at": stamp})
    _insert(m.Terminal, term_rows)
    by_region: dict[int, list[tuple[int, int]]] = {}
    for tid, mid, rid in db.session.execute(select(m.Terminal.id, m.Terminal.merchant_id, m.Merchant.region_id)
                                            .join(m.Merchant).where(m.Terminal.serial.like("GS%"))):
        by_region.setdefault(rid, []).append((tid, mid))
    techs: dict[int, list[int]] = {}
    for tid, cid in db.session.execute(select(m.Technician.id, m.Technician.contractor_id)):
        techs.setdefault(cid, []).append(tid)

    start_utc = dt.datetime.combine(month_start, dt.time(4, 30), UTC)
    span = (end - month_start).days + 1
    call_rows, em_visits = [], []
    prio = ["critical"] * 1 + ["urgent"] * 3 + ["normal"] * 6
    for n in range(n_calls):
        i = rng.randrange(n_contractors)
        ctr = contracts[i]
        tid, mid = rng.choice(by_region[regions[i].id])
        reported = start_utc + dt.timedelta(minutes=rng.randrange(span * 24 * 60 - 600))
        p = rng.choice(prio)
        by = deadlines(reported, p, targets, cal)
        t = targets.for_priority(p)
        resp = max(5, int(rng.lognormvariate(0, 0.6) * t.response_minutes * 0.6))
        reso = resp + max(10, int(rng.lognormvariate(0, 0.6) * (t.resolution_minutes - t.response_minutes) * 0.6))
        responded = add_working_time(cal, reported, resp * 60)
        resolved = add_working_time(cal, reported, reso * 60)
        still_open = resolved > now or rng.random() < 0.02
        tech = rng.choice(techs[ctr.contractor_id])
        call_rows.append({
            "tracking_number": f"G{n:09d}", "terminal_id": tid, "merchant_id": mid, "psp_id": ctr.psp_id,
            "contractor_id": ctr.contractor_id, "contract_id": ctr.id, "priority": p, "symptom_code": "dead",
            "status": "in_progress" if still_open else "closed", "reported_at": reported,
            "response_by": by.response_by, "resolution_by": by.resolution_by,
            "responded_at": responded if responded <= now else None,
            "resolved_at": None if still_open else resolved,
            "response_minutes": resp if responded <= now else None,
            "resolution_minutes": None if still_open else reso, "technician_id": tech,
            "survey_score": rng.choice([3, 4, 4, 5, 5]) if rng.random() < 0.4 and not still_open else None,
            "created_at": stamp, "updated_at": stamp, "version": 1})
        em_visits.append((n, i, mid, tech, responded, resolved, still_open))
    _insert(m.ServiceCall, call_rows)
    ids = dict(db.session.execute(select(m.ServiceCall.tracking_number, m.ServiceCall.id)
                                  .where(m.ServiceCall.tracking_number.like("G%"))).all())
    visit_rows = []

    def visit(**kw: object) -> dict:
        verified = rng.random() > 0.05 if kw.get("checkin_at") else None
        return {"status": "planned", "checkin_verified": verified, "created_at": stamp, "updated_at": stamp,
                "version": 1, **kw}

    for n, i, mid, tech, responded, resolved, still_open in em_visits:
        ctr = contracts[i]
        base = {"kind": "em", "merchant_id": mid, "contractor_id": ctr.contractor_id, "contract_id": ctr.id,
                "service_call_id": ids[f"G{n:09d}"], "technician_id": tech}
        if responded > now:
            visit_rows.append(visit(**base, planned_date=responded.date()))
            continue
        if rng.random() < 0.15:   # a first visit that did not fix it
            visit_rows.append(visit(**base, status="failed", checkin_at=responded,
                                    checkout_at=responded + dt.timedelta(minutes=30), planned_date=responded.date()))
        visit_rows.append(visit(**base, status="checked_in" if still_open else "completed",
                                checkin_at=responded, checkout_at=None if still_open else resolved,
                                planned_date=responded.date()))
    remaining = max(0, n_visits - len(visit_rows))
    n_install = remaining // 20
    today = now.date()
    for k in range(remaining):
        i = rng.randrange(n_contractors)
        ctr = contracts[i]
        _tid, mid = rng.choice(by_region[regions[i].id])
        tech = rng.choice(techs[ctr.contractor_id])
        base = {"merchant_id": mid, "contractor_id": ctr.contractor_id, "contract_id": ctr.id, "technician_id": tech}
        if k < n_install:
            deadline = start_utc + dt.timedelta(minutes=rng.randrange(span * 24 * 60))
            done = deadline + dt.timedelta(hours=rng.gauss(-24, 20))
            if done > now:
                visit_rows.append(visit(kind="install", deadline=deadline, **base, planned_date=today))
            else:
                visit_rows.append(visit(kind="install", deadline=deadline, status="completed", checkin_at=done,
                                        checkout_at=done + dt.timedelta(minutes=40), planned_date=done.date(), **base))
            continue
        due = month_start + dt.timedelta(days=rng.randrange(span))
        ws, we = due - dt.timedelta(days=15), due + dt.timedelta(days=15)
        r = rng.random()
        if r < 0.04:
            visit_rows.append(visit(kind="pm", status="missed", due_date=due, window_start=ws, window_end=we,
                                    planned_date=due, **base))
            continue
        day = due + dt.timedelta(days=int(rng.gauss(0, 8)))
        at = dt.datetime.combine(day, dt.time(6, 30), UTC) + dt.timedelta(minutes=rng.randrange(480))
        if at > now:
            visit_rows.append(visit(kind="pm", due_date=due, window_start=ws, window_end=we, planned_date=day, **base))
        else:
            visit_rows.append(visit(kind="pm", status="completed", due_date=due, window_start=ws, window_end=we,
                                    checkin_at=at, checkout_at=at + dt.timedelta(minutes=25), planned_date=day,
                                    **base))
    _insert(m.Visit, visit_rows)
    db.session.commit()
    return Generated(n_contractors, len(visit_rows), n_calls, month_start, end)
