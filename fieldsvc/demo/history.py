"""Ninety days of synthetic history: PM visits (on time, late, missed), EM service calls arriving
by hour and weekday with response/resolution times in the contract calendars, EM visits with GPS
check-ins, surveys, and the open work of "now" (the anchor date's midnight in Tehran).

Deadlines come from :func:`fieldsvc.visits.contracts.sla.deadlines`; elapsed minutes from
:func:`fieldsvc.visits.contracts.sla.elapsed_working_minutes` — the same arithmetic the live services use.
Penalty lines and routes are not written: other code computes them from this history.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import jdatetime
import numpy as np

from fieldsvc.calendar import CalendarSpec, add_working_time, is_holiday
from fieldsvc.demo import geo
from fieldsvc.demo.generate import DemoRows
from fieldsvc.demo.reference import CONTRACTS, ContractDef
from fieldsvc.visits.contracts.sla import deadlines, elapsed_working_minutes

TZ = ZoneInfo("Asia/Tehran")
UTC = timezone.utc
HISTORY_DAYS = 365
#: EM calls per terminal and year.
FAILURES_PER_TERMINAL_YEAR = 1.3
#: Relative call arrivals per local hour (0-23): quiet nights, late-morning and evening peaks.
HOURLY = np.array([0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.4, 0.8, 1.6, 2.6, 3.4, 3.8,
                   3.2, 2.4, 2.0, 2.2, 2.6, 3.0, 3.4, 3.6, 3.0, 2.0, 1.0, 0.5])
#: Relative arrivals per weekday (Python weekday(): Monday = 0); Friday is the weekend.
WEEKDAY_FACTOR = (1.0, 1.0, 1.0, 0.75, 0.35, 1.05, 1.0)
HOLIDAY_FACTOR = 0.45
PRIORITIES = (("critical", 0.12), ("urgent", 0.33), ("normal", 0.55))
#: Symptom codes as offered at intake (fieldsvc.visits.desk.calls.SYMPTOMS), with weights and a Persian note.
SYMPTOMS = (
    ("no_connection", 22, "دستگاه به سرور وصل نمی‌شود"),
    ("card_reader", 14, "کارت را نمی‌خواند"),
    ("printer", 12, "رسید چاپ نمی‌شود"),
    ("no_power", 9, "دستگاه روشن نمی‌شود"),
    ("sim", 9, "سیم‌کارت آنتن نمی‌دهد"),
    ("paper_jam", 6, "کاغذ گیر می‌کند"),
    ("keypad", 6, "صفحه کلید خراب است"),
    ("pin_error", 5, "خطای رمز کارت"),
    ("settlement", 5, "خطای تسویه"),
    ("software", 6, "نیاز به به‌روزرسانی نرم‌افزار"),
    ("battery", 4, "باتری شارژ نمی‌شود"),
    ("other", 2, "ایراد دیگر"),
)
CHANNELS = (("phone", 0.6), ("portal", 0.25), ("email", 0.1), ("web", 0.05))
EM_OUTCOMES = (("fixed", 0.62), ("swapped", 0.13), ("no_fault_found", 0.07), ("needs_parts", 0.13),
               ("merchant_closed", 0.05))
SURVEY_COMMENTS_GOOD = ("", "", "سریع و دقیق بود", "تکنسین مودب بود", "ممنون از پیگیری")
SURVEY_COMMENTS_BAD = ("", "دیر آمدند", "چند بار تماس گرفتم", "دستگاه دوباره خراب شد")
CANCEL_REASONS = ("تماس تکراری", "پذیرنده مشکل را خودش رفع کرد", "ثبت اشتباه پایانه")
FAILED_CHECKIN_REASONS = ("GPS دقیق نبود", "داخل پاساژ آنتن نداشت", "مغازه در طبقه بالا بود")
WEEKDAY_KEY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass
class _Ctx:
    rows: DemoRows
    rng: random.Random
    nrng: np.random.Generator
    today: date
    start: date
    now: datetime
    contracts: dict[str, ContractDef]
    contract_ids: dict[str, int]
    terminals_by_merchant: dict[int, list[dict[str, Any]]]
    techs_for_merchant: dict[int, list[dict[str, Any]]]
    psp_user: dict[int, int]
    dispatcher_user: dict[int, int]
    tech_user: dict[int, int]
    visit_id: int = 0
    call_id: int = 0
    audit_id: int = 0


def _local(day: date, minutes: float) -> datetime:
    m = int(minutes)
    return datetime.combine(day + timedelta(days=m // 1440), time((m % 1440) // 60, m % 60),
                            tzinfo=TZ).astimezone(UTC)


def _hm(s: str) -> int:
    h, m = s.split(":")
    return int(h) * 60 + int(m)


def _open_intervals(merchant: dict[str, Any], day: date) -> list[tuple[int, int]]:
    return [(_hm(a), _hm(b)) for a, b in merchant["opening_hours"].get(WEEKDAY_KEY[day.weekday()], [])]


def _next_open(merchant: dict[str, Any], at: datetime, lead_minutes: int = 20) -> datetime:
    """The first instant at or after ``at`` when the shop is open with ``lead_minutes`` left
    (technicians work 07:00-23:00 even when a shop never closes)."""
    local = at.astimezone(TZ)
    day, minute = local.date(), local.hour * 60 + local.minute
    for offset in range(8):
        d = day + timedelta(days=offset)
        for a, b in _open_intervals(merchant, d):
            a, b = max(a, 7 * 60), min(b, 23 * 60)
            start = max(a, minute) if offset == 0 else a
            if start + lead_minutes <= b:
                return max(at, _local(d, start))
    return at


def _weighted(rng: random.Random, pairs: tuple) -> Any:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs], k=1)[0]


def _checkin_fix(ctx: _Ctx, merchant: dict[str, Any], geofence_m: int) -> dict[str, Any]:
    """GPS of a check-in: mostly within the geofence, some outside with a reason."""
    r = ctx.rng.random()
    if r < 0.86:
        metres = ctx.rng.uniform(3, 0.6 * geofence_m)
    elif r < 0.94:
        metres = ctx.rng.uniform(0.6 * geofence_m, 0.98 * geofence_m)
    else:
        metres = ctx.rng.uniform(1.3 * geofence_m, 8 * geofence_m)
    lat, lon, dist = geo.jitter_point(merchant["lat"], merchant["lon"], metres, ctx.nrng)
    inside = dist <= geofence_m
    return {"checkin_lat": lat, "checkin_lon": lon, "checkin_distance_m": round(dist, 1),
            "checkin_accuracy_m": round(ctx.rng.uniform(4, 35) if inside else ctx.rng.uniform(20, 120), 1),
            "checkin_verified": inside,
            "checkin_reason": "" if inside else ctx.rng.choice(FAILED_CHECKIN_REASONS)}


def _visit_row(ctx: _Ctx, **values: Any) -> dict[str, Any]:
    ctx.visit_id += 1
    row: dict[str, Any] = {
        "id": ctx.visit_id, "kind": "pm", "status": "planned", "merchant_id": None, "contractor_id": None,
        "contract_id": None, "service_call_id": None, "technician_id": None, "route_id": None,
        "route_position": None, "planned_date": None, "eta": None, "planned_start": None,
        "planned_end": None, "service_minutes": 20, "due_date": None, "window_start": None,
        "window_end": None, "deadline": None, "pinned_technician_id": None, "unassigned_reason": "",
        "checkin_at": None, "checkin_received_at": None, "checkin_lat": None, "checkin_lon": None,
        "checkin_accuracy_m": None, "checkin_fix_at": None, "checkin_distance_m": None,
        "checkin_verified": None, "checkin_reason": "", "checkout_at": None, "checkout_received_at": None,
        "outcome": None, "failure_reason": "", "notes": "", "parts_used": [], "old_serial": None,
        "new_serial": None, "merchant_confirmed": False, "version": 1,
    }
    row.update(values)
    row["created_at"] = _local(row["planned_date"] or ctx.start, 0) - timedelta(days=1)
    row["updated_at"] = row["checkout_at"] or row["checkin_at"] or row["created_at"]
    ctx.rows.visit.append(row)
    return row


def _done_visit(ctx: _Ctx, merchant: dict[str, Any], contract: ContractDef, tech: dict[str, Any],
                checkin: datetime, minutes: int, outcome: str, terminals: list[dict[str, Any]],
                **values: Any) -> dict[str, Any]:
    failed = outcome in ("merchant_closed", "merchant_refused")
    checkout = checkin + timedelta(minutes=3 if failed else minutes)
    delay = timedelta(seconds=ctx.rng.choice((2, 5, 9, 30, 240)))
    row = _visit_row(
        ctx, merchant_id=merchant["id"], contractor_id=tech["contractor_id"],
        contract_id=ctx.contract_ids[contract.code], technician_id=tech["id"],
        planned_date=checkin.astimezone(TZ).date(), status="failed" if failed else "completed",
        service_minutes=minutes, checkin_at=checkin, checkin_received_at=checkin + delay,
        checkin_fix_at=checkin - timedelta(seconds=ctx.rng.randint(1, 40)), checkout_at=checkout,
        checkout_received_at=checkout + delay, outcome=outcome,
        failure_reason="مغازه بسته بود" if outcome == "merchant_closed" else "",
        merchant_confirmed=not failed, **_checkin_fix(ctx, merchant, contract.geofence_m), **values)
    for t in terminals:
        ctx.rows.visit_terminal.append({"visit_id": row["id"], "terminal_id": t["id"]})
    last = tech.get("_last_checkout")
    if last is None or checkout > last:
        tech["_last_checkout"] = checkout
        tech["_last_pos"] = (row["checkin_lat"], row["checkin_lon"])
    return row


def _pm_checkin(ctx: _Ctx, merchant: dict[str, Any], tech: dict[str, Any], day: date) -> datetime | None:
    """A check-in time on ``day`` when the shop is open, inside the technician's shift if possible."""
    shop = _open_intervals(merchant, day)
    if not shop:
        return None
    s0, s1 = _hm(tech["shift_start"]), _hm(tech["shift_end"])
    both = [(max(a, s0), min(b, s1)) for a, b in shop if min(b, s1) - max(a, s0) >= 45]
    choices = both or [(max(a, 7 * 60), min(b, 23 * 60)) for a, b in shop if min(b, 23 * 60) - max(a, 7 * 60) >= 45]
    if not choices:
        return None
    a, b = ctx.rng.choice(choices)
    return _local(day, ctx.rng.randint(a, b - 40))


# --------------------------------------------------------------------------- PM


def _pm_history(ctx: _Ctx) -> None:
    rng = ctx.rng
    for merchant in ctx.rows.merchant:
        terminals = ctx.terminals_by_merchant.get(merchant["id"], [])
        if not terminals:
            continue
        k = ctx.contracts[ctx.rows.contract_by_merchant[merchant["id"]]]
        interval, tol = k.pm_interval_days, k.pm_tolerance_days
        last = ctx.start - timedelta(days=rng.randint(0, interval - 1))
        techs = ctx.techs_for_merchant[merchant["id"]]
        minutes = 15 + 10 * len(terminals)
        while True:
            due = last + timedelta(days=interval)
            lo, hi = due - timedelta(days=tol), due + timedelta(days=tol)
            if lo >= ctx.today:
                break
            window = {"due_date": due, "window_start": lo, "window_end": hi}
            r = rng.random()
            tech = rng.choice(techs)
            if r < 0.72:
                day = max(ctx.start, lo + timedelta(days=rng.randint(0, 2 * tol)))
            elif r < 0.86:
                day = hi + timedelta(days=rng.randint(1, 25))
            else:
                planned = max(ctx.start, lo + timedelta(days=rng.randint(0, 2 * tol)))
                if planned >= ctx.today:
                    break
                _visit_row(ctx, kind="pm", status="missed", merchant_id=merchant["id"],
                           contractor_id=tech["contractor_id"], contract_id=ctx.contract_ids[k.code],
                           technician_id=tech["id"], planned_date=planned,
                           service_minutes=minutes, notes="تکنسین در روز برنامه مراجعه نکرد", **window)
                if rng.random() < 0.4:
                    break  # still overdue today
                day = max(planned, hi) + timedelta(days=rng.randint(1, 20))
            checkin = None
            for _ in range(4):
                if day >= ctx.today:
                    break
                if day.weekday() != 4:  # technicians do not work on Friday
                    checkin = _pm_checkin(ctx, merchant, tech, day)
                    if checkin is not None:
                        break
                day += timedelta(days=1)
            if checkin is None:
                break
            if rng.random() < 0.03:  # a first attempt found the shop closed
                _done_visit(ctx, merchant, k, tech, checkin - timedelta(days=1), minutes, "merchant_closed",
                            terminals, kind="pm", **window)
            _done_visit(ctx, merchant, k, tech, checkin, minutes, "pm_done", terminals, kind="pm", **window)
            last = checkin.astimezone(TZ).date()
        for t in terminals:
            t["last_pm_on"] = last


# --------------------------------------------------------------------------- EM


def _audit(ctx: _Ctx, at: datetime, action: str, object_type: str, object_id: int, *, actor_id: int | None,
           actor: str, from_state: str | None, to_state: str | None, psp_id: int | None,
           contractor_id: int | None, **data: Any) -> None:
    ctx.audit_id += 1
    ctx.rows.audit_event.append({
        "id": ctx.audit_id, "at": at, "actor_id": actor_id, "actor": actor, "action": action,
        "object_type": object_type, "object_id": object_id, "from_state": from_state, "to_state": to_state,
        "psp_id": psp_id, "contractor_id": contractor_id, "data": data})


def _username(ctx: _Ctx, user_id: int | None) -> str:
    return "system" if user_id is None else ctx.rows.user[user_id - 1]["username"]


def _call_arrivals(ctx: _Ctx) -> list[datetime]:
    base = len(ctx.rows.terminal) * FAILURES_PER_TERMINAL_YEAR / 365.0
    hourly = HOURLY / HOURLY.sum()
    out: list[datetime] = []
    iran = CalendarSpec()
    for offset in range(HISTORY_DAYS):
        day = ctx.start + timedelta(days=offset)
        rate = base * WEEKDAY_FACTOR[day.weekday()]
        if is_holiday(iran, day):
            rate *= HOLIDAY_FACTOR
        n = int(ctx.nrng.poisson(rate))
        hours = ctx.nrng.choice(24, size=n, p=hourly)
        for h in sorted(int(x) for x in hours):
            out.append(_local(day, h * 60 + ctx.rng.randint(0, 59)))
    out.sort()
    return out


def _tracking_number(ctx: _Ctx, at: datetime, used: set[str]) -> str:
    year = jdatetime.date.fromgregorian(date=at.astimezone(TZ).date()).year
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    while True:
        number = f"EM-{year}-" + "".join(ctx.rng.choice(alphabet) for _ in range(5))
        if number not in used:
            used.add(number)
            return number


def _em_history(ctx: _Ctx) -> None:
    rng = ctx.rng
    used: set[str] = set()
    arrivals = _call_arrivals(ctx)
    # Open work now: at least a few calls per 150 terminals are still being worked on.
    want_open = max(4, len(ctx.rows.terminal) // 150)
    forced: list[datetime] = []
    yesterday = ctx.today - timedelta(days=1)
    for j in range(want_open):
        day = yesterday - timedelta(days=rng.choice((0, 0, 0, 1, 2, 3)) if j % 3 == 0 else 0)
        forced.append(_local(day, rng.randint(15 * 60, 22 * 60 + 30)))
    items = [(at, False) for at in arrivals] + [(at, True) for at in forced]
    items.sort(key=lambda x: (x[0], x[1]))
    for reported, keep_open in items:
        _one_call(ctx, reported, keep_open, used)


def _one_call(ctx: _Ctx, reported: datetime, keep_open: bool, used: set[str]) -> None:
    rng = ctx.rng
    terminal = rng.choice(ctx.rows.terminal)
    merchant = ctx.rows.merchant[terminal["merchant_id"] - 1]
    k = ctx.contracts[ctx.rows.contract_by_merchant[merchant["id"]]]
    cal, targets = k.calendar, k.targets
    priority = _weighted(rng, PRIORITIES)
    symptom = rng.choices(SYMPTOMS, weights=[s[1] for s in SYMPTOMS], k=1)[0]
    dl = deadlines(reported, priority, targets, cal)
    target = targets.for_priority(priority)
    tech = rng.choice(ctx.techs_for_merchant[merchant["id"]])
    psp_user = ctx.psp_user[merchant["psp_id"]]
    ctx.call_id += 1
    call: dict[str, Any] = {
        "id": ctx.call_id, "tracking_number": _tracking_number(ctx, reported, used),
        "terminal_id": terminal["id"], "merchant_id": merchant["id"], "psp_id": merchant["psp_id"],
        "contractor_id": tech["contractor_id"], "contract_id": ctx.contract_ids[k.code],
        "channel": _weighted(rng, CHANNELS), "priority": priority, "symptom_code": symptom[0],
        "symptom_text": symptom[2], "photo_path": None, "status": "closed", "reported_at": reported,
        "response_by": dl.response_by, "resolution_by": dl.resolution_by, "responded_at": None,
        "resolved_at": None, "closed_at": None, "response_minutes": None, "resolution_minutes": None,
        "escalation_level": 0, "paused_seconds": 0, "technician_id": tech["id"], "cancel_reason": "",
        "survey_score": None, "survey_comment": "", "survey_token": None,
        "confirmation_code": f"{rng.randint(0, 999_999):06d}" if k.require_confirmation_code else None,
        "created_by_id": psp_user, "version": 1, "created_at": reported, "updated_at": reported,
        # the demo's past calls went from the PSP's help desk to a technician (issue 21)
        "tier": "field", "dispatched_from_tier": "tier1",
    }
    ctx.rows.service_call.append(call)
    audit_base = {"psp_id": call["psp_id"], "contractor_id": call["contractor_id"]}

    if not keep_open and rng.random() < 0.03:
        at = reported + timedelta(minutes=rng.randint(10, 120))
        if at < ctx.now:
            call.update(status="cancelled", cancel_reason=rng.choice(CANCEL_REASONS), technician_id=None,
                        updated_at=at)
            return

    # Response: a share of the target in working time (lognormal: most on time, ~15 % late),
    # then the first moment the shop is open.
    factor = float(ctx.nrng.lognormal(math.log(0.4), 0.6))
    arrive = add_working_time(cal, reported, target.response_minutes * 60 * factor)
    arrive = _next_open(merchant, arrive + timedelta(minutes=rng.randint(0, 15)))
    if keep_open or arrive >= ctx.now:
        _live_open_call(ctx, call, reported, dl.response_by, audit_base)
        return
    minutes = rng.randint(20, 60)
    outcome = _weighted(rng, EM_OUTCOMES)
    em = {"kind": "em", "service_call_id": call["id"], "deadline": dl.resolution_by}
    v1 = _done_visit(ctx, merchant, k, tech, arrive, minutes, outcome, [terminal], **em)
    if outcome == "swapped":
        v1["old_serial"], v1["new_serial"] = terminal["serial"], None
        v1["notes"] = "دستگاه جایگزین موقت نصب شد"
    call["responded_at"] = arrive
    call["response_minutes"] = max(0, round(elapsed_working_minutes(reported, arrive, cal)))
    resolved_at = v1["checkout_at"]
    if outcome in ("needs_parts", "merchant_closed"):
        if v1["checkout_at"] >= ctx.now:
            _live_after_visit(ctx, call, "in_progress", reported, v1, audit_base)
            return
        v1["parts_used"] = []
        gap = float(ctx.nrng.lognormal(math.log(0.35), 0.5)) * target.resolution_minutes * 60
        again = _next_open(merchant, add_working_time(cal, v1["checkout_at"], gap))
        if again + timedelta(minutes=60) >= ctx.now:
            _live_after_visit(ctx, call, "assigned", reported, v1, audit_base)
            return
        v2 = _done_visit(ctx, merchant, k, tech, again, rng.randint(20, 50),
                         rng.choice(("fixed", "fixed", "swapped")), [terminal], **em)
        resolved_at = v2["checkout_at"]
    if resolved_at >= ctx.now:
        _live_after_visit(ctx, call, "in_progress", reported, v1, audit_base)
        return
    call["resolved_at"] = resolved_at
    call["resolution_minutes"] = max(0, round(elapsed_working_minutes(reported, resolved_at, cal)))
    late = resolved_at > dl.resolution_by
    if late and rng.random() < 0.5:
        call["escalation_level"] = 1 if rng.random() < 0.7 else 2
    qc = rng.random() < 0.6
    closed_at = resolved_at + (timedelta(hours=rng.randint(1, 20)) if qc else timedelta(days=k.auto_close_days))
    if closed_at >= ctx.now:
        call.update(status="resolved", updated_at=resolved_at)
        _audit_chain(ctx, call, reported, [("open", "assigned", reported + timedelta(minutes=20)),
                                           ("assigned", "in_progress", call["responded_at"]),
                                           ("in_progress", "resolved", resolved_at)], audit_base)
        return
    call.update(status="closed", closed_at=closed_at, updated_at=closed_at,
                survey_token="%024x" % rng.getrandbits(96))
    if rng.random() < 0.55:
        good = not late and call["responded_at"] <= dl.response_by
        call["survey_score"] = rng.choice((5, 5, 5, 4, 4, 3) if good else (4, 3, 3, 2, 2, 1))
        call["survey_comment"] = rng.choice(SURVEY_COMMENTS_GOOD if good else SURVEY_COMMENTS_BAD)


def _audit_chain(ctx: _Ctx, call: dict[str, Any], reported: datetime,
                 steps: list[tuple[str, str, datetime]], base: dict[str, Any]) -> None:
    """AuditEvents of a call that is still live: created, then each status change."""
    psp_user = call["created_by_id"]
    _audit(ctx, reported, "created", "service_call", call["id"], actor_id=psp_user,
           actor=_username(ctx, psp_user), from_state=None, to_state="open",
           tracking_number=call["tracking_number"], priority=call["priority"], symptom=call["symptom_code"],
           channel=call["channel"], **base)
    dispatcher = ctx.dispatcher_user[call["contractor_id"]]
    for old, new, at in steps:
        if new == "assigned":
            actor_id = dispatcher
        elif call["technician_id"] is not None:
            actor_id = ctx.tech_user[call["technician_id"]]
        else:
            actor_id = None
        extra = {"technician_id": call["technician_id"]} if new == "assigned" else {}
        _audit(ctx, at, "status", "service_call", call["id"], actor_id=actor_id, actor=_username(ctx, actor_id),
               from_state=old, to_state=new, **extra, **base)


def _live_open_call(ctx: _Ctx, call: dict[str, Any], reported: datetime, response_by: datetime,
                    base: dict[str, Any]) -> None:
    """A call nobody has reached yet: open, or assigned to a technician by the dispatcher."""
    rng = ctx.rng
    age = ctx.now - reported
    steps: list[tuple[str, str, datetime]] = []
    if age > timedelta(hours=2) and rng.random() < 0.6:
        call["status"] = "assigned"
        steps.append(("open", "assigned", reported + timedelta(minutes=rng.randint(15, 90))))
    else:
        call.update(status="open", technician_id=None)
    if ctx.now > response_by:
        call["escalation_level"] = 1 if ctx.now - response_by < timedelta(hours=8) else 2
    ctx.rows.terminal[call["terminal_id"] - 1]["status"] = "faulty"
    _audit_chain(ctx, call, reported, steps, base)


def _live_after_visit(ctx: _Ctx, call: dict[str, Any], status: str, reported: datetime, v1: dict[str, Any],
                      base: dict[str, Any]) -> None:
    """A call visited once and not yet resolved (parts ordered, or the technician still on site)."""
    call["status"] = status
    call["responded_at"] = v1["checkin_at"]
    k = ctx.contracts[next(c for c, i in ctx.contract_ids.items() if i == call["contract_id"])]
    call["response_minutes"] = max(0, round(elapsed_working_minutes(reported, v1["checkin_at"], k.calendar)))
    steps = [("open", "assigned", reported + timedelta(minutes=20)),
             ("assigned", "in_progress", v1["checkin_at"])]
    if status == "in_progress":
        v1.update(status="checked_in", checkout_at=None, checkout_received_at=None, outcome=None,
                  failure_reason="", merchant_confirmed=False, updated_at=v1["checkin_at"])
        _audit(ctx, v1["checkin_at"], "status", "visit", v1["id"], actor_id=ctx.tech_user[v1["technician_id"]],
               actor=_username(ctx, ctx.tech_user[v1["technician_id"]]), from_state="planned",
               to_state="checked_in", **base)
    else:
        steps.append(("in_progress", "assigned", v1["checkout_at"]))
    ctx.rows.terminal[call["terminal_id"] - 1]["status"] = "faulty"
    _audit_chain(ctx, call, reported, steps, base)


# --------------------------------------------------------------------------- entry point


def _nearest_technicians(rows: DemoRows) -> dict[int, list[dict[str, Any]]]:
    fams: dict[int, set[str]] = {}
    for t in rows.terminal:
        fams.setdefault(t["merchant_id"], set()).add(t["family"])
    contractor_of = {k.code: k.contractor for k in CONTRACTS}
    cid = {c["code"]: c["id"] for c in rows.contractor}
    out: dict[int, list[dict[str, Any]]] = {}
    for m in rows.merchant:
        techs = rows.technicians_by_contractor[cid[contractor_of[rows.contract_by_merchant[m["id"]]]]]
        need = fams.get(m["id"], set())
        able = [t for t in techs if need <= set(t["skills"])] or techs
        able = sorted(able, key=lambda t: (t["home_lat"] - m["lat"]) ** 2 + (t["home_lon"] - m["lon"]) ** 2)
        out[m["id"]] = able[:3]
    return out


def generate_history(rows: DemoRows, seed: int) -> None:
    """Add a year (HISTORY_DAYS) of PM/EM history and today's open work to ``rows`` (in place)."""
    today = rows.today
    by_merchant: dict[int, list[dict[str, Any]]] = {}
    for t in rows.terminal:
        by_merchant.setdefault(t["merchant_id"], []).append(t)
    users = {(u["role"], u["psp_id"], u["contractor_id"], u["technician_id"]): u["id"] for u in rows.user}
    ctx = _Ctx(
        rows=rows, rng=random.Random(seed * 7919 + 1), nrng=np.random.default_rng(seed + 1_000_003),
        today=today, start=today - timedelta(days=HISTORY_DAYS),
        now=datetime.combine(today, time(0, 0), tzinfo=TZ).astimezone(UTC),
        contracts={k.code: k for k in CONTRACTS}, contract_ids={c["code"]: c["id"] for c in rows.contract},
        terminals_by_merchant=by_merchant, techs_for_merchant=_nearest_technicians(rows),
        psp_user={p["id"]: users[("psp", p["id"], None, None)] for p in rows.psp},
        dispatcher_user={c["id"]: users[("dispatcher", None, c["id"], None)] for c in rows.contractor},
        tech_user={t["id"]: users[("technician", None, t["contractor_id"], t["id"])] for t in rows.technician},
    )
    _pm_history(ctx)
    _em_history(ctx)
    for t in rows.technician:
        last = t.pop("_last_checkout", None)
        pos = t.pop("_last_pos", None)
        if last is not None and last >= ctx.now - timedelta(days=3):
            t["last_lat"], t["last_lon"], t["last_seen_at"] = pos[0], pos[1], last
