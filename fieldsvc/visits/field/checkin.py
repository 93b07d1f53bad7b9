"""Check-in and check-out of a visit from the technician's phone, applied exactly once.

Rules (issue 6, DESIGN §3):

* **Idempotency.** Every event carries a ``client_event_id`` (a UUID made on the phone). The
  first arrival is stored in the ClientEvent ledger and applied; any later arrival of the same id
  changes nothing and answers the same visit (HTTP 200, not an error). The unique constraint on
  the ledger also settles two copies racing in parallel.
* **Device time.** ``at`` (and the position's ``fix_at``) are the phone's clock, bounded by the
  server's receipt time: a time in the future of receipt is clamped to the receipt time; an EM
  check-in before the call was reported is clamped to the report time. The sent value and the
  clamp are kept in the event's payload and the audit trail. SLA instants use these device times:
  ``ServiceCall.responded_at`` = check-in time, ``resolved_at`` = check-out time of a fixing outcome.
* **Order.** Events are applied in device-time order whatever order they arrive in. A check-out
  that arrives before its check-in is stored *pending* (answered 202) and applied the moment the
  check-in arrives; a check-out never implies a check-in (without the check-in there is no GPS
  proof). A check-out stamped before its check-in is applied at the check-in time (clamped,
  recorded). A second check-in for a visit already checked in is kept in the ledger; if its
  device time is earlier it becomes the visit's check-in (it is the true arrival), otherwise it
  is recorded as ``superseded``. A second, different check-out of a finished visit is refused (409).
* **GPS proof.** The raw position, accuracy, fix time and the haversine distance to the merchant
  are stored. The check-in is verified only when the position is within the contract's geofence
  (default 200 m), the fix is at most two minutes older than ``at`` (a missing fix time means
  the fix was taken at ``at``) and the accuracy is no worse than the geofence radius. Otherwise it
  is accepted only with a typed reason and flagged (``checkin_verified`` False, ``checkin_flags``
  naming the failed checks). Location denied or unavailable: a flagged check-in with a reason.
* **Completion** changes, in the same transaction, the visit's status, the PM due date of its
  terminals or the EM call's status (see :mod:`fieldsvc.visits.field.outcomes`), the swapped
  terminals and the photos.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from fieldsvc import config
from fieldsvc.planner.matrix import distance_m
from fieldsvc.planner.problem import Point
from fieldsvc.db import db, utcnow
from fieldsvc.text import normalize_code
from fieldsvc.visits.field import checklists, order_checkout
from fieldsvc.visits.desk.calls import calendar_of, pause_intervals, recompute_deadlines
from fieldsvc.visits.field import checkin_rules as rules
from fieldsvc.visits.field import outcomes as vo
from fieldsvc.visits.i18n_text import gettext as _
from fieldsvc.visits.audit import record, transition_call, transition_visit
from fieldsvc.visits.models import (CallPause, ClientEvent, Contract, ContractVersion, Role, ServiceCall, Terminal,
                                    TerminalStatus, User, Visit, VisitKind, VisitPhoto)
from fieldsvc.visits.scope import get_scoped, require_role
from fieldsvc.visits.contracts.sla import elapsed_working_minutes
from fieldsvc.visits.contracts.versions import version_in_force
from fieldsvc.visits.states import OPEN_CALL_STATES, CallStatus, VisitStatus
from fieldsvc.visits.stock.moves import CONSUMABLES, use_at_visit
from fieldsvc.visits.stock.places import van
from fieldsvc.visits.field.photos import PhotoError, StoredPhoto, check_photos, remove_photos, store_photos

DEFAULT_GEOFENCE_M = 200
MAX_FIX_AGE = timedelta(minutes=2)
CHECK_IN, CHECK_OUT = "check_in", "check_out"
APPLIED, PENDING, SUPERSEDED = "applied", "pending", "superseded"
MAX_PARTS = 20
RETRIES = 3
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class VisitEventError(ValueError):
    """A check-in/out that is refused: HTTP status, machine code, message and the field at fault."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


@dataclass(frozen=True)
class EventResult:
    """What a check-in/out did: the visit, its ledger row, and whether it was a repeat."""

    visit: Visit
    event: ClientEvent
    duplicate: bool

    @property
    def status(self) -> str:
        """"applied", "pending" (check-out waiting for its check-in) or "superseded"."""
        return self.event.result


@dataclass(frozen=True)
class Proof:
    """The GPS checks of one check-in."""

    distance_m: Optional[float]
    flags: tuple[str, ...]

    @property
    def verified(self) -> bool:
        return not self.flags


# --------------------------------------------------------------------------- helpers


def visit_contract(visit: Visit) -> Optional[Contract]:
    """The contract a visit is done under (its own, its call's, or the merchant's PSP with the
    visit's contractor)."""
    if visit.contract is not None:
        return visit.contract
    if visit.service_call is not None:
        return visit.service_call.contract
    return db.session.scalars(select(Contract).where(
        Contract.psp_id == visit.merchant.psp_id, Contract.contractor_id == visit.contractor_id)
        .order_by(Contract.valid_from.desc())).first()


def visit_terms(visit: Visit) -> Optional[ContractVersion]:
    """The version of the visit's contract in force when its call was reported or it was due."""
    contract = visit_contract(visit)
    if contract is None:
        return None
    at = (visit.service_call.reported_at if visit.service_call is not None
          else visit.due_date or visit.planned_date or utcnow())
    return version_in_force(contract, at)


def geofence_m(visit: Visit) -> int:
    """The geofence radius of the visit's contract in metres (200 by default)."""
    terms = visit_terms(visit)
    return terms.geofence_m if terms is not None and terms.geofence_m else DEFAULT_GEOFENCE_M


def assess_position(visit: Visit, lat: Optional[float], lon: Optional[float],
                    accuracy_m: Optional[float], at: datetime, fix_at: Optional[datetime]) -> Proof:
    """Distance to the merchant and the failed checks (empty = verified)."""
    radius = geofence_m(visit)
    if lat is None or lon is None:
        return Proof(None, ("no_position",))
    dist = distance_m(Point(lat, lon), Point(visit.merchant.lat, visit.merchant.lon))
    flags = []
    if dist > radius:
        flags.append("distance")
    if fix_at is not None and at - fix_at > MAX_FIX_AGE:
        flags.append("stale_fix")
    if accuracy_m is None or accuracy_m > radius:
        flags.append("accuracy")
    return Proof(round(dist, 1), tuple(flags))


def _tz(visit: Visit) -> str:
    terms = visit_terms(visit)
    if terms is not None and (terms.calendar or {}).get("tz"):
        return terms.calendar["tz"]
    return config.TIMEZONE


def local_date(visit: Visit, at: datetime) -> date:
    """The calendar date of `at` where the visit takes place."""
    return at.astimezone(ZoneInfo(_tz(visit))).date()


def next_opening(visit: Visit, after: datetime) -> Optional[datetime]:
    """The merchant's next opening instant (UTC) after `after`, from its opening hours and closed
    dates, within a week; None when the hours are unknown."""
    hours = visit.merchant.opening_hours or {}
    closed = set(visit.merchant.closed_dates or [])
    zone = ZoneInfo(_tz(visit))
    local = after.astimezone(zone)
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        if day.isoformat() in closed:
            continue
        for start, _end in sorted(hours.get(WEEKDAYS[day.weekday()], [])):
            hh, mm = (int(x) for x in start.split(":"))
            opens = datetime(day.year, day.month, day.day, hh, mm, tzinfo=zone)
            if opens > local:
                return opens.astimezone(after.tzinfo)
    return None


def expected_confirmation_code(visit: Visit) -> Optional[str]:
    """The code the merchant must give: the call's, else the visit's own."""
    if visit.service_call is not None and visit.service_call.confirmation_code:
        return visit.service_call.confirmation_code
    return visit.confirmation_code


def ensure_confirmation_code(visit: Visit) -> str:
    """The visit's confirmation code, creating a 6-digit per-visit code when none exists
    (the caller commits; show or send it to the merchant)."""
    code = expected_confirmation_code(visit)
    if not code:
        code = visit.confirmation_code = f"{secrets.randbelow(10**6):06d}"
    return code


def requires_confirmation_code(visit: Visit) -> bool:
    terms = visit_terms(visit)
    return bool(terms is not None and terms.require_confirmation_code)


def _bound(at: datetime, received: datetime, visit: Visit) -> tuple[datetime, Optional[str]]:
    """Device time bounded by the receipt time (and an EM call's report time)."""
    if at.tzinfo is None:
        raise VisitEventError(422, "invalid", "at: give the time with its UTC offset", "at")
    if at > received:
        return received, "future"
    call = visit.service_call
    if call is not None and at < call.reported_at:
        return call.reported_at, "before_report"
    return at, None


def _working_minutes(call: ServiceCall, end: datetime) -> int:
    """Working minutes from the report to `end` in the contract's calendar, without pauses."""
    return max(0, round(elapsed_working_minutes(call.reported_at, end, calendar_of(call.contract, call.reported_at),
                                                pause_intervals(call))))


def _existing(client_event_id: str, user: User, visit_id: int, kind: str) -> Optional[ClientEvent]:
    ev = db.session.scalars(select(ClientEvent).where(ClientEvent.client_event_id == client_event_id)).first()
    if ev is not None and (ev.user_id != user.id or ev.visit_id != visit_id or ev.kind != kind):
        raise VisitEventError(409, "event_id_reused",
                              "This client_event_id was already used for another event; "
                              "make a new one for each event.", "client_event_id")
    return ev


def _visit_for(visit_id: int, user: User) -> Visit:
    """The technician's own visit, row-locked (PostgreSQL) so that events of one visit are
    applied one after the other; SQLite serialises writers and the version column catches races."""
    require_role(user, Role.TECHNICIAN)
    visit = get_scoped(Visit, visit_id, user)
    db.session.refresh(visit, with_for_update=True)
    return visit


def _retrying(fn: Callable[..., EventResult], *args: Any, **kw: Any) -> EventResult:
    """Run one event; when another event of the same visit committed first, run it again."""
    for _attempt in range(RETRIES):
        try:
            return fn(*args, **kw)
        except StaleDataError:
            db.session.rollback()
    raise VisitEventError(409, "conflict", _("The visit was changed at the same time; send the event again."), None)


def _duplicate_after_race(client_event_id: str, user: User, visit_id: int, kind: str) -> Optional[EventResult]:
    db.session.rollback()
    ev = _existing(client_event_id, user, visit_id, kind)
    if ev is None:
        return None
    return EventResult(db.session.get(Visit, visit_id), ev, True)


# --------------------------------------------------------------------------- check-in


def check_in(visit_id: int, user: User, lat: Optional[float], lon: Optional[float],
             accuracy_m: Optional[float], at: datetime, fix_at: Optional[datetime],
             client_event_id: str, reason: Optional[str] = None, *,
             position_error: Optional[str] = None, received_at: Optional[datetime] = None) -> EventResult:
    """Record the technician's arrival at the merchant (see the module rules) and commit.

    `position_error` ("denied", "unavailable", "timeout") says why there is no position.
    Raises VisitEventError (422/409), NotFound (another technician's visit), Forbidden."""
    return _retrying(_check_in, visit_id, user, lat, lon, accuracy_m, at, fix_at, client_event_id, reason,
                     position_error=position_error, received_at=received_at)


def _check_in(visit_id: int, user: User, lat: Optional[float], lon: Optional[float],
              accuracy_m: Optional[float], at: datetime, fix_at: Optional[datetime],
              client_event_id: str, reason: Optional[str] = None, *,
              position_error: Optional[str] = None, received_at: Optional[datetime] = None) -> EventResult:
    visit = _visit_for(visit_id, user)
    existing = _existing(client_event_id, user, visit.id, CHECK_IN)
    if existing is not None:
        return EventResult(visit, existing, True)
    received = received_at or utcnow()
    at_b, clamp = _bound(at, received, visit)
    fix_b = min(fix_at, received) if fix_at is not None else None
    proof = assess_position(visit, lat, lon, accuracy_m, at_b, fix_b)
    timing = rules.check_in_flags(visit, at_b, ZoneInfo(_tz(visit)))
    reason = (reason or "").strip()
    if not proof.verified and not reason:
        raise VisitEventError(422, "reason_required", _reason_message(proof, geofence_m(visit)), "reason")
    if timing and not reason:
        raise VisitEventError(422, "reason_required", rules.reason_message(timing), "reason")
    proof = Proof(proof.distance_m, proof.flags + timing)
    if visit.status not in (VisitStatus.PLANNED, VisitStatus.DISPATCHED, VisitStatus.CHECKED_IN,
                            VisitStatus.COMPLETED, VisitStatus.FAILED):
        raise VisitEventError(409, "visit_closed", _("This visit is %(status)s; it cannot be checked in.",
                                                    status=str(visit.status)), "status")
    payload = {"lat": lat, "lon": lon, "accuracy_m": accuracy_m, "at": at.isoformat(),
               "fix_at": fix_at.isoformat() if fix_at else None, "reason": reason,
               "position_error": position_error, "clamped": clamp,
               "distance_m": proof.distance_m, "flags": list(proof.flags)}
    ev = ClientEvent(client_event_id=client_event_id, visit_id=visit.id, user_id=user.id, kind=CHECK_IN,
                     device_at=at_b, received_at=received, payload=payload, applied=False, result="")
    try:
        db.session.add(ev)
        db.session.flush()
        _apply_check_in(visit, ev, user, proof, fix_b)
        _apply_pending_check_outs(visit)
        db.session.commit()
    except IntegrityError:
        dup = _duplicate_after_race(client_event_id, user, visit_id, CHECK_IN)
        if dup is None:
            raise
        return dup
    return EventResult(visit, ev, False)


def _reason_message(proof: Proof, radius: int) -> str:
    parts = {"distance": _("you are %(distance)s m from the shop (the limit is %(radius)s m)",
                           distance=f"{proof.distance_m:.0f}", radius=radius)
             if proof.distance_m is not None else "",
             "stale_fix": _("the location fix is older than two minutes"),
             "accuracy": _("the location is not accurate enough (worse than %(radius)s m)", radius=radius),
             "no_position": _("there is no location")}
    why = "; ".join(parts[f] for f in proof.flags if parts[f])
    return _("Location not verified: %(why)s. Type a reason to check in anyway (the check-in will be flagged).",
             why=why)


def _apply_check_in(visit: Visit, ev: ClientEvent, user: User, proof: Proof, fix_at: Optional[datetime]) -> None:
    p = ev.payload
    if visit.status in (VisitStatus.PLANNED, VisitStatus.DISPATCHED):
        _set_check_in(visit, ev, proof, fix_at)
        transition_visit(visit, VisitStatus.CHECKED_IN, actor=user, at=ev.device_at, verified=proof.verified,
                         distance_m=proof.distance_m, flags=list(proof.flags), clamped=p.get("clamped"),
                         client_event_id=ev.client_event_id)
    elif visit.checkin_at is not None and ev.device_at < visit.checkin_at:
        earlier_than = visit.checkin_at
        _set_check_in(visit, ev, proof, fix_at)
        for old in db.session.scalars(select(ClientEvent).where(
                ClientEvent.visit_id == visit.id, ClientEvent.kind == CHECK_IN,
                ClientEvent.result == APPLIED, ClientEvent.id != ev.id)):
            old.result = SUPERSEDED
        record("checkin_replaced", visit, actor=user, at=ev.device_at, replaced_at=earlier_than,
               client_event_id=ev.client_event_id)
    else:
        ev.result = SUPERSEDED
        record("checkin_superseded", visit, actor=user, at=ev.device_at, client_event_id=ev.client_event_id)
        return
    ev.applied, ev.result = True, APPLIED
    if requires_confirmation_code(visit):
        ensure_confirmation_code(visit)
    _update_call_on_arrival(visit, user)
    tech = visit.technician
    if tech is not None and p.get("lat") is not None and (
            tech.last_seen_at is None or tech.last_seen_at <= ev.device_at):
        tech.last_lat, tech.last_lon, tech.last_seen_at = p["lat"], p["lon"], ev.device_at


def _set_check_in(visit: Visit, ev: ClientEvent, proof: Proof, fix_at: Optional[datetime]) -> None:
    p = ev.payload
    visit.checkin_at = ev.device_at
    visit.checkin_received_at = ev.received_at
    visit.checkin_lat, visit.checkin_lon = p.get("lat"), p.get("lon")
    visit.checkin_accuracy_m = p.get("accuracy_m")
    visit.checkin_fix_at = fix_at
    visit.checkin_distance_m = proof.distance_m
    visit.checkin_verified = proof.verified
    visit.checkin_flags = list(proof.flags)
    visit.checkin_reason = p.get("reason") or ""


def _update_call_on_arrival(visit: Visit, user: User) -> None:
    call = visit.service_call
    if call is None:
        return
    at = visit.checkin_at
    if call.responded_at is None or at < call.responded_at:
        call.responded_at = at
        call.response_minutes = _working_minutes(call, at)
    if call.status in (CallStatus.OPEN, CallStatus.ASSIGNED, CallStatus.SCHEDULED):
        transition_call(call, CallStatus.IN_PROGRESS, actor=user, visit_id=visit.id, at=at)


# --------------------------------------------------------------------------- check-out


def check_out(visit_id: int, user: User, outcome: str, notes: str, at: datetime, client_event_id: str,
              parts_used: Sequence[str] = (), old_serial: Optional[str] = None,
              new_serial: Optional[str] = None, confirmation_code: Optional[str] = None,
              photos: Iterable[tuple[str, bytes]] = (), *, received_at: Optional[datetime] = None,
              upload_dir: str, reason: Optional[str] = None, checklist: Sequence[dict] = (),
              feedback: Optional[dict] = None, consumables_used: Optional[Mapping[str, int]] = None) -> EventResult:
    """Record the end of a visit with its outcome (see the module rules) and commit.

    `photos` are (file name, bytes) pairs, stored under `upload_dir`. A check-out that arrives before its check-in is kept
    pending and applied when the check-in arrives (EventResult.status == "pending").
    `checklist` and `feedback`: the PM inspection's answers (:mod:`fieldsvc.visits.field.checklists`).
    `consumables_used` (item → count, see :data:`~fieldsvc.visits.stock.moves.CONSUMABLES`): taken from the
    technician's van when the check-out is applied, once; what the van did not hold is recorded as a shortfall.
    Raises VisitEventError (422/409), NotFound (another technician's visit), Forbidden."""
    return _retrying(_check_out, visit_id, user, outcome, notes, at, client_event_id, parts_used, old_serial,
                     new_serial, confirmation_code, list(photos), received_at=received_at, upload_dir=upload_dir,
                     reason=reason, checklist=list(checklist or ()), feedback=feedback,
                     consumables_used=dict(consumables_used or {}))


def _check_out(visit_id: int, user: User, outcome: str, notes: str, at: datetime, client_event_id: str,
               parts_used: Sequence[str], old_serial: Optional[str], new_serial: Optional[str],
               confirmation_code: Optional[str], photos: list[tuple[str, bytes]], *,
               received_at: Optional[datetime], upload_dir: str,
               reason: Optional[str] = None, checklist: Sequence[dict] = (),
               feedback: Optional[dict] = None, consumables_used: Optional[Mapping[str, int]] = None) -> EventResult:
    visit = _visit_for(visit_id, user)
    existing = _existing(client_event_id, user, visit.id, CHECK_OUT)
    if existing is not None:
        return EventResult(visit, existing, True)
    received = received_at or utcnow()
    at_b, clamp = _bound(at, received, visit)
    payload = _check_out_payload(visit, outcome, notes, parts_used, old_serial, new_serial, confirmation_code)
    payload["consumables"] = _consumables(consumables_used or {})
    if visit.status in (VisitStatus.COMPLETED, VisitStatus.FAILED):
        raise VisitEventError(409, "already_checked_out",
                              _("This visit was already checked out (%(outcome)s); nothing was changed.",
                                outcome=str(visit.outcome)), "client_event_id")
    if visit.status not in (VisitStatus.PLANNED, VisitStatus.DISPATCHED, VisitStatus.CHECKED_IN):
        raise VisitEventError(409, "visit_closed", _("This visit is %(status)s; it cannot be checked out.",
                                                    status=str(visit.status)), "status")
    reason = (reason or "").strip()
    short = rules.check_out_flags(visit.checkin_at, at_b) if visit.status == VisitStatus.CHECKED_IN else ()
    if short and not reason:
        raise VisitEventError(422, "reason_required", rules.reason_message(short), "reason")
    payload["reason"] = reason
    try:
        payload["inspection"] = checklists.validate_answers(visit, checklist, feedback, len(photos))
    except checklists.ChecklistError as e:
        raise VisitEventError(e.status, e.code, e.message, e.field) from e
    try:
        checked = check_photos(photos)
    except PhotoError as e:
        raise VisitEventError(422, "bad_photo", str(e), "photos") from e
    stored: list[StoredPhoto] = store_photos(upload_dir, visit.id, checked) if checked else []
    payload.update(at=at.isoformat(), clamped=clamp, photos=[s.to_dict() for s in stored])
    ev = ClientEvent(client_event_id=client_event_id, visit_id=visit.id, user_id=user.id, kind=CHECK_OUT,
                     device_at=at_b, received_at=received, payload=payload, applied=False, result=PENDING)
    try:
        db.session.add(ev)
        db.session.flush()
        if visit.status == VisitStatus.CHECKED_IN:
            _apply_check_out(visit, ev, user)
        else:
            visit.updated_at = received  # a new version: a check-in committing meanwhile forces a retry
            record("checkout_pending", visit, actor=user, at=at_b, client_event_id=client_event_id)
        db.session.commit()
    except IntegrityError:
        remove_photos(upload_dir, stored)
        dup = _duplicate_after_race(client_event_id, user, visit_id, CHECK_OUT)
        if dup is None:
            raise
        return dup
    except BaseException:
        db.session.rollback()
        remove_photos(upload_dir, stored)
        raise
    return EventResult(visit, ev, False)


def _check_out_payload(visit: Visit, outcome: str, notes: str, parts_used: Sequence[str],
                       old_serial: Optional[str], new_serial: Optional[str],
                       confirmation_code: Optional[str]) -> dict[str, Any]:
    """Validate the check-out fields against the visit; the ledger payload."""
    allowed = vo.outcomes_for(visit.kind)
    if outcome not in allowed:
        raise VisitEventError(422, "invalid", f"outcome: choose one of {', '.join(allowed)} for a "
                              f"{visit.kind} visit", "outcome")
    parts = [p.strip() for p in parts_used if p and p.strip()]
    if len(parts) > MAX_PARTS:
        raise VisitEventError(422, "invalid", f"parts_used: at most {MAX_PARTS} parts", "parts_used")
    old = normalize_code(old_serial) if old_serial else None
    new = normalize_code(new_serial) if new_serial else None
    if outcome == vo.Outcome.SWAPPED and visit.kind != VisitKind.INSTALL:
        _check_swap(visit, old, new)
    try:  # work orders and stock: the serials installed / removed (issue 20)
        serials = order_checkout.validate(visit, outcome, old, new, None)
    except order_checkout.CheckoutRefused as e:
        raise VisitEventError(422, "invalid", e.message, e.field) from e
    old, new = serials["old_serial"], serials["new_serial"]
    confirmed = False
    if requires_confirmation_code(visit):
        given = normalize_code(confirmation_code or "")
        if not given:
            raise VisitEventError(422, "confirmation_required",
                                  _("confirmation_code: ask the merchant for the confirmation code and type it."),
                                  "confirmation_code")
        expected = expected_confirmation_code(visit)
        if expected is None or normalize_code(expected) != given:
            raise VisitEventError(422, "confirmation_mismatch",
                                  _("confirmation_code: the code does not match; check it with the merchant."),
                                  "confirmation_code")
        confirmed = True
    return {"outcome": str(outcome), "notes": (notes or "").strip(), "parts_used": parts,
            "old_serial": old, "new_serial": new, "confirmed": confirmed}


#: most of one counted part a check-out may report
MAX_CONSUMABLE = 50


def _consumables(used: Mapping[str, int]) -> dict[str, int]:
    """The counted parts a check-out reports, checked (item → count, zero counts left out)."""
    out = {}
    for item, n in used.items():
        field = f"consumables_used.{item}"
        if item not in CONSUMABLES:
            raise VisitEventError(422, "invalid", _("%(field)s: not a counted part; choose from %(items)s",
                                                    field=field, items=", ".join(CONSUMABLES)), field)
        if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= MAX_CONSUMABLE:
            raise VisitEventError(422, "invalid", _("%(field)s: give a whole number from 0 to %(max)s",
                                                    field=field, max=MAX_CONSUMABLE), field)
        if n:
            out[item] = n
    return out


def _use_from_van(visit: Visit, used: Mapping[str, int], user: Optional[User]) -> None:
    """Take the visit's counted parts from its technician's van; a shortfall is audited on the visit."""
    visit.consumables_used = dict(used)
    if not used or visit.technician is None:
        return
    for s in use_at_visit(van(visit.technician), used, actor=user, visit_id=visit.id):
        record("van_stock_short", visit, actor=user, item=s.item, used=s.used, in_van=s.held)


def _check_swap(visit: Visit, old: Optional[str], new: Optional[str]) -> None:
    if not old:
        raise VisitEventError(422, "invalid", _("old_serial: type the serial of the terminal taken out"), "old_serial")
    if not new:
        raise VisitEventError(422, "invalid", _("new_serial: type the serial of the terminal put in"), "new_serial")
    if old == new:
        raise VisitEventError(422, "invalid", _("new_serial: the new serial is the same as the old one"), "new_serial")
    old_t = db.session.scalars(select(Terminal).where(Terminal.serial == old)).first()
    if old_t is None or old_t.merchant_id != visit.merchant_id:
        raise VisitEventError(422, "invalid", _("old_serial: %(serial)s is not a terminal of this merchant", serial=old), "old_serial")
    new_t = db.session.scalars(select(Terminal).where(Terminal.serial == new)).first()
    if new_t is not None and (new_t.psp_id != old_t.psp_id or
                              (new_t.merchant_id not in (None, visit.merchant_id))):
        raise VisitEventError(422, "invalid",
                              _("new_serial: %(serial)s belongs to another merchant or payment company", serial=new), "new_serial")


def _apply_pending_check_outs(visit: Visit) -> None:
    pending = db.session.scalars(select(ClientEvent).where(
        ClientEvent.visit_id == visit.id, ClientEvent.kind == CHECK_OUT, ClientEvent.result == PENDING)
        .order_by(ClientEvent.device_at, ClientEvent.id)).all()
    for ev in pending:
        if visit.status != VisitStatus.CHECKED_IN:
            ev.result = SUPERSEDED
            continue
        _apply_check_out(visit, ev, db.session.get(User, ev.user_id))


def _apply_check_out(visit: Visit, ev: ClientEvent, user: Optional[User]) -> None:
    p = ev.payload
    at = ev.device_at
    clamped = p.get("clamped")
    if visit.checkin_at is not None and at < visit.checkin_at:
        at, clamped = visit.checkin_at, "before_check_in"
    outcome = vo.Outcome(p["outcome"])
    visit.checkout_at = at
    visit.checkout_received_at = ev.received_at
    visit.outcome = str(outcome)
    visit.notes = p.get("notes", "")
    visit.parts_used = list(p.get("parts_used", []))
    _use_from_van(visit, p.get("consumables") or {}, user)
    visit.old_serial, visit.new_serial = p.get("old_serial"), p.get("new_serial")
    visit.merchant_confirmed = bool(p.get("confirmed"))
    visit.checkout_flags = list(rules.check_out_flags(visit.checkin_at, at))
    visit.checkout_reason = p.get("reason") or ""
    if outcome in vo.FAILED_OUTCOMES:
        visit.failure_reason = vo.outcome_label(outcome) + (f": {visit.notes}" if visit.notes else "")
    added = [VisitPhoto(visit_id=visit.id, path=ph["path"], content_type=ph["content_type"],
                        size_bytes=ph["size_bytes"]) for ph in p.get("photos", [])]
    db.session.add_all(added)
    if p.get("inspection"):
        db.session.flush()
        checklists.apply_answers(visit, p["inspection"], added, user, at)
    transition_visit(visit, vo.visit_status_after(outcome), actor=user, at=at, outcome=str(outcome),
                     clamped=clamped, client_event_id=ev.client_event_id, flags=list(visit.checkout_flags))
    day = local_date(visit, at)
    if visit.kind == VisitKind.PM and outcome in vo.PM_DONE_OUTCOMES:
        for t in visit.terminals:
            if t.last_pm_on is None or t.last_pm_on < day:
                t.last_pm_on = day
    if outcome == vo.Outcome.SWAPPED and visit.kind != VisitKind.INSTALL:
        _swap(visit, p["old_serial"], p["new_serial"], day, user)
    elif outcome == vo.Outcome.INSTALLED:
        for t in visit.terminals:
            t.status, t.merchant_id, t.installed_on = TerminalStatus.ACTIVE, visit.merchant_id, day
    elif outcome == vo.Outcome.REMOVED:
        for t in visit.terminals:
            t.status, t.merchant_id = TerminalStatus.REMOVED, None
    try:
        order_checkout.apply(visit, outcome, p, user, at, day)
    except order_checkout.StockError as e:
        raise VisitEventError(409, e.code, e.message, e.field) from e
    _update_call_on_completion(visit, outcome, at, user)
    ev.applied, ev.result = True, APPLIED


def _swap(visit: Visit, old: str, new: str, day: date, user: Optional[User]) -> None:
    old_t = db.session.scalars(select(Terminal).where(Terminal.serial == old)).one()
    new_t = db.session.scalars(select(Terminal).where(Terminal.serial == new)).first()
    if new_t is None:
        new_t = Terminal(serial=new, model=old_t.model, family=old_t.family, psp_id=old_t.psp_id)
        db.session.add(new_t)
    new_t.merchant_id, new_t.status, new_t.installed_on = visit.merchant_id, TerminalStatus.ACTIVE, day
    new_t.last_pm_on = day if visit.kind == VisitKind.PM else new_t.last_pm_on
    old_t.merchant_id, old_t.status = None, TerminalStatus.REMOVED
    if new_t not in visit.terminals:
        visit.terminals.append(new_t)
    db.session.flush()
    record("terminal_swapped", visit, actor=user, old_serial=old, new_serial=new)


def _update_call_on_completion(visit: Visit, outcome: vo.Outcome, at: datetime, user: Optional[User]) -> None:
    call = visit.service_call
    if call is None or call.status not in OPEN_CALL_STATES:
        return
    if call.status != CallStatus.IN_PROGRESS:
        transition_call(call, CallStatus.IN_PROGRESS, actor=user, visit_id=visit.id, at=at)
    target = vo.call_status_after(outcome)
    if target == CallStatus.RESOLVED:
        call.resolved_at = at
        call.resolution_minutes = _working_minutes(call, at)
    elif outcome == vo.Outcome.MERCHANT_CLOSED:
        reopens = next_opening(visit, at)
        call.pauses.append(CallPause(started_at=at, ended_at=reopens, reason="merchant closed"))
        if reopens is not None:
            call.paused_seconds = (call.paused_seconds or 0) + int((reopens - at).total_seconds())
            recompute_deadlines(call, at)
    transition_call(call, target, actor=user, visit_id=visit.id, at=at, outcome=str(outcome))
