"""EM service calls: intake, routing to the contractor, SLA clocks, lifecycle, escalation, survey.

Every function here that changes data commits its own transaction (services own commits); every
status change goes through :func:`fieldsvc.visits.audit.transition_call`, and
:mod:`fieldsvc.visits.desk.notify` e-mails the merchant and the contractor after the commit.
Errors a person can fix are :class:`CallError` (HTTP status, machine code, message, field).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Optional

import jdatetime
from fieldsvc.visits.i18n_text import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from fieldsvc.calendar import CalendarSpec
from fieldsvc.db import db, utcnow
from fieldsvc.text import normalize_code, normalize_digits
from fieldsvc.visits.desk import first_response
from fieldsvc.visits.desk.errors import CallError
from fieldsvc.visits.audit import record, transition_call, transition_visit
from fieldsvc.visits.models import (AuditEvent, CallPause, Channel, Contract, Merchant, Role, ServiceCall,
                                    Technician, Terminal, User, Visit, VisitKind)
from fieldsvc.visits.scope import Forbidden, get_scoped, require_role, scoped
from fieldsvc.visits.contracts.sla import SlaState, SlaTargets, deadlines, sla_state
from fieldsvc.visits.desk.call_targets import TICKET_TYPE_VALUES, attach_profile, call_targets
from fieldsvc.visits.contracts.versions import version_in_force
from fieldsvc.visits.states import OPEN_CALL_STATES, CallStatus, IllegalTransition, VisitStatus

#: Symptom codes offered at intake, with their (translatable) labels.
SYMPTOMS: dict[str, Any] = {
    "no_power": _l("Does not power on"),
    "no_connection": _l("No connection to the host / network"),
    "card_reader": _l("Card reader does not read cards"),
    "printer": _l("Printer does not print"),
    "paper_jam": _l("Paper jam or paper cover broken"),
    "keypad": _l("Keypad or screen broken"),
    "pin_error": _l("PIN entry or PIN pad error"),
    "settlement": _l("Settlement or reconciliation error"),
    "software": _l("Software error or update needed"),
    "sim": _l("SIM card or GPRS problem"),
    "battery": _l("Battery or charger problem"),
    "other": _l("Other (describe in the text)"),
    # requests rather than faults (ticket types, issue 23)
    "change_merchant_id": _l("Change the merchant ID / terminal ID"),
    "add_sim": _l("Add or change a SIM card"),
    "change_config": _l("Change settings or software configuration"),
    "info_request": _l("Question or information request"),
    "new_terminal": _l("Install a new terminal"),
}
PRIORITIES: dict[str, Any] = {"critical": _l("Critical"), "urgent": _l("Urgent"), "normal": _l("Normal")}
CHANNELS: dict[str, Any] = {"phone": _l("Phone"), "portal": _l("Portal"), "email": _l("E-mail"),
                            "web": _l("Web"), "monitoring": _l("Monitoring (automatic)")}
STATUS_LABELS: dict[str, Any] = {
    "open": _l("Open"), "assigned": _l("Assigned"), "scheduled": _l("Scheduled"),
    "in_progress": _l("Technician on site"), "resolved": _l("Resolved"), "closed": _l("Closed"),
    "cancelled": _l("Cancelled"),
}
ESCALATION_LABELS: dict[int, Any] = {0: _l("None"), 1: _l("Level 1"), 2: _l("Level 2"), 3: _l("Supervisor")}

#: Crockford base32: no I, L, O, U — nothing to misread on the phone.
TRACKING_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
TRACKING_SUFFIX_LEN = 5
PHOTO_TYPES = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}
PHOTO_MAX_BYTES = 5 * 1024 * 1024


# --------------------------------------------------------------------------- tracking numbers


def new_tracking_number(at: datetime) -> str:
    """``EM-<Jalali year>-<5 Crockford characters>``, e.g. ``EM-1405-0A7K3``."""
    year = jdatetime.date.fromgregorian(date=at.date()).year
    suffix = "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_SUFFIX_LEN))
    return f"EM-{year}-{suffix}"


def normalize_tracking_number(text: str) -> str:
    """Upper-case ASCII, Persian digits converted, O→0 and I/L→1 in the suffix, whitespace removed
    (:func:`fieldsvc.text.normalize_code`)."""
    t = normalize_code(text or "")
    parts = t.split("-")
    if len(parts) == 3:
        parts[2] = parts[2].replace("O", "0").replace("I", "1").replace("L", "1")
    return "-".join(parts)


def find_by_tracking_number(text: str) -> Optional[ServiceCall]:
    """The call with this tracking number (forgiving about case and look-alike letters), or None."""
    number = normalize_tracking_number(text)
    return db.session.scalars(select(ServiceCall).where(ServiceCall.tracking_number == number)).first()


# --------------------------------------------------------------------------- routing and clocks


def contract_for(terminal: Terminal, on: date) -> Contract:
    """The contract of the terminal's PSP covering its merchant's region on ``on`` (latest wins)."""
    merchant = terminal.merchant
    if merchant is None:
        raise CallError(422, "no_merchant", _("Terminal %(serial)s is not installed at a merchant.",
                                               serial=terminal.serial), "terminal_serial")
    q = (select(Contract).where(Contract.psp_id == merchant.psp_id, Contract.valid_from <= on, Contract.active.is_(True),
                                or_(Contract.valid_to.is_(None), Contract.valid_to >= on))
         .order_by(Contract.valid_from.desc(), Contract.id.desc()))
    for contract in db.session.scalars(q):
        if any(r.id == merchant.region_id for r in contract.regions):
            return contract
    raise CallError(422, "no_contract", _("No contractor covers the region of merchant %(name)s for this PSP. "
                                          "Ask the administrator to add the region to a contract.",
                                          name=merchant.name), "terminal_serial")


def targets_of(contract: Contract, at: date | datetime) -> SlaTargets:
    """SLA targets of the contract version in force at ``at`` (a call's report time)."""
    return SlaTargets.from_dict(version_in_force(contract, at).em_targets)


def calendar_of(contract: Contract, at: date | datetime) -> CalendarSpec:
    """Working calendar of the contract version in force at ``at`` (a call's report time)."""
    return CalendarSpec.from_dict(version_in_force(contract, at).calendar)


def pause_intervals(call: ServiceCall) -> list[tuple[datetime, Optional[datetime]]]:
    return [(p.started_at, p.ended_at) for p in call.pauses]


def is_paused(call: ServiceCall) -> bool:
    return any(p.ended_at is None for p in call.pauses)


def recompute_deadlines(call: ServiceCall, now: datetime | None = None) -> None:
    """Set response_by / resolution_by from the original report time, priority and pauses (an open
    pause counts until ``now``: the deadlines "if resumed now")."""
    now = now or utcnow()
    d = deadlines(call.reported_at, call.priority, call_targets(call),
                  calendar_of(call.contract, call.reported_at),
                  pause_intervals(call), now=max(now, call.reported_at))
    call.response_by, call.resolution_by = d.response_by, d.resolution_by
    call.first_response_by = first_response.deadline(call, now)


@dataclass(frozen=True)
class SlaFlags:
    """The state of both clocks of a call, for lists and the API."""

    response: str
    resolution: str
    paused: bool
    escalation_level: int

    @property
    def worst(self) -> str:
        order = [SlaState.BREACHED, SlaState.MISSED, SlaState.AT_RISK, SlaState.OK, SlaState.MET]
        return next(s.value for s in order if s.value in (self.response, self.resolution))


def sla_flags(call: ServiceCall, now: datetime | None = None) -> SlaFlags:
    """Response and resolution SLA states (ok, at_risk, breached, met, missed) of a call."""
    now = now or utcnow()
    cal = calendar_of(call.contract, call.reported_at)
    frac = call_targets(call).at_risk_fraction
    pauses = pause_intervals(call)
    responded = call.responded_at
    resolved = call.resolved_at
    if call.status == CallStatus.CANCELLED:
        responded = responded or call.updated_at
        resolved = resolved or call.updated_at
    resp = sla_state(now, call.reported_at, call.response_by, done_at=responded, calendar=cal,
                     pauses=pauses, at_risk_fraction=frac)
    reso = sla_state(now, call.reported_at, call.resolution_by, done_at=resolved, calendar=cal,
                     pauses=pauses, at_risk_fraction=frac)
    return SlaFlags(resp.value, reso.value, is_paused(call), call.escalation_level)


# --------------------------------------------------------------------------- intake


def store_photo(data: bytes, content_type: str, upload_dir: str | Path) -> str:
    """Check an uploaded photo (JPEG/PNG/WebP, ≤ 5 MB, really an image of sane size) and stage it
    under ``upload_dir/calls/``: the file is written only when the transaction that creates the call
    commits (fieldsvc.visits.uploads). Returns the path relative to ``upload_dir``."""
    from fieldsvc.visits import uploads
    from fieldsvc.visits.images import MAX_PIXELS, ImageRejected, image_format

    if content_type not in PHOTO_TYPES:
        raise CallError(422, "photo_type", _("The photo must be a JPEG, PNG or WebP image."), "photo")
    if len(data) > PHOTO_MAX_BYTES:
        raise CallError(422, "photo_size", _("The photo is larger than 5 MB; send a smaller one."), "photo")
    try:
        fmt = image_format(data).lower()
    except ImageRejected as e:
        if e.reason == "too_many_pixels":
            raise CallError(422, "photo_size", _("The photo has too many pixels (at most %(mp)s megapixels); "
                                                 "send a smaller one.", mp=MAX_PIXELS // 1_000_000), "photo") from None
        raise CallError(422, "photo_type", _("The file is not a readable image."), "photo") from None
    if fmt not in ("jpeg", "png", "webp"):
        raise CallError(422, "photo_type", _("The photo must be a JPEG, PNG or WebP image."), "photo")
    rel = Path("calls") / f"{secrets.token_hex(12)}.{'jpg' if fmt == 'jpeg' else fmt}"
    return uploads.stage(db.session, upload_dir, rel, data)


def _terminal_for_intake(user: User, terminal_serial: str | None, terminal_id: int | None,
                         merchant_id: int | None) -> Terminal:
    if terminal_serial:
        serial = normalize_digits(terminal_serial).strip().upper()
        t = db.session.scalars(scoped(Terminal, user).where(Terminal.serial == serial)).first()
        if t is None:
            raise CallError(404, "unknown_serial", _("No terminal with serial %(serial)s is registered for "
                                                      "your organisation. Check the serial on the "
                                                      "terminal's label.", serial=serial), "terminal_serial")
        return t
    if terminal_id is None:
        raise CallError(422, "terminal_required", _("Give the terminal's serial, or choose the merchant "
                                                     "and the terminal."), "terminal_serial")
    try:
        t = get_scoped(Terminal, terminal_id, user)
    except LookupError:
        raise CallError(404, "unknown_terminal", _("This terminal does not exist."), "terminal_id") from None
    if merchant_id is not None and t.merchant_id != merchant_id:
        raise CallError(422, "terminal_not_at_merchant", _("Terminal %(serial)s is not installed at this "
                                                            "merchant.", serial=t.serial), "terminal_id")
    return t


def open_duplicate(terminal_id: int, symptom_code: str) -> Optional[ServiceCall]:
    """An unfinished call for the same terminal and symptom, if there is one."""
    return db.session.scalars(select(ServiceCall).where(
        ServiceCall.terminal_id == terminal_id, ServiceCall.symptom_code == symptom_code,
        ServiceCall.status.in_([str(s) for s in OPEN_CALL_STATES]))).first()


def add_new_call(call: ServiceCall, contract: Contract, at: datetime) -> None:
    """Add a new call to the session with a fresh tracking number (drawn again if taken) and, when
    the contract asks for one, the merchant's confirmation code."""
    if version_in_force(contract, at).require_confirmation_code:
        call.confirmation_code = "".join(secrets.choice("0123456789") for _ in range(6))
    for attempt in range(8):
        call.tracking_number = new_tracking_number(at)
        try:
            with db.session.begin_nested():
                db.session.add(call)
                db.session.flush()
            return
        except IntegrityError:
            if attempt == 7:
                raise  # same tracking number drawn eight times: something else is wrong


def check_choices(priority: str, symptom_code: str, channel: str, ticket_type: str) -> None:
    """CallError naming the first of a request's chosen values that is not one of the choices."""
    if ticket_type not in TICKET_TYPE_VALUES:
        raise CallError(422, "ticket_type", _("Choose a ticket type: fault, change, information or installation."),
                        "ticket_type")
    if priority not in PRIORITIES:
        raise CallError(422, "priority", _("Choose a priority: critical, urgent or normal."), "priority")
    if symptom_code not in SYMPTOMS:
        raise CallError(422, "symptom", _("Choose a symptom from the list."), "symptom")
    if channel not in {c.value for c in Channel}:
        raise CallError(422, "channel", _("Choose a channel: phone, portal, e-mail or web."), "channel")


def open_call(user: User, *, priority: str, symptom_code: str, channel: str = "phone",
              terminal_serial: str | None = None, terminal_id: int | None = None,
              merchant_id: int | None = None, symptom_text: str = "", photo_path: str | None = None,
              reported_at: datetime | None = None, caller_name: str = "", caller_phone: str = "",
              ticket_type: str = "fault") -> ServiceCall:
    """Register a call (PSP staff or admin): tracking number, contractor, deadlines; commits."""
    require_role(user, Role.PSP, Role.ADMIN)
    check_choices(priority, symptom_code, channel, ticket_type)
    terminal = _terminal_for_intake(user, terminal_serial, terminal_id, merchant_id)
    dup = open_duplicate(terminal.id, symptom_code)
    if dup is not None:
        raise CallError(409, "duplicate_call", _("Terminal %(serial)s already has an open call %(number)s for "
                                                 "this symptom; follow that call instead.",
                                                 serial=terminal.serial, number=dup.tracking_number),
                        "terminal_serial", call_id=dup.id)
    reported_at = reported_at or utcnow()
    contract = contract_for(terminal, reported_at.date())
    call = ServiceCall(terminal=terminal, merchant=terminal.merchant, psp_id=terminal.merchant.psp_id,
                       contractor_id=contract.contractor_id, contract=contract, channel=channel,
                       priority=priority, symptom_code=symptom_code, symptom_text=(symptom_text or "").strip(),
                       photo_path=photo_path, status=CallStatus.OPEN, reported_at=reported_at,
                       created_by_id=user.id, caller_name=(caller_name or "").strip()[:120],
                       caller_phone=normalize_digits((caller_phone or "").strip())[:32])
    call.pauses = []
    attach_profile(call, ticket_type)
    recompute_deadlines(call, reported_at)
    add_new_call(call, contract, reported_at)
    record("created", call, actor=user, to_state=CallStatus.OPEN.value, tracking_number=call.tracking_number,
           priority=priority, symptom=symptom_code, channel=channel, ticket_type=ticket_type)
    db.session.commit()
    return call


# --------------------------------------------------------------------------- clock changes


def pause_call(call: ServiceCall, reason: str, actor: User, at: datetime | None = None) -> CallPause:
    """Stop the SLA clock (shop closed, merchant asked to postpone); commits."""
    require_role(actor, Role.PSP, Role.DISPATCHER, Role.ADMIN)
    reason = (reason or "").strip()
    if not reason:
        raise CallError(422, "reason", _("Say why the clock stops (e.g. shop closed)."), "reason")
    if call.status not in OPEN_CALL_STATES:
        raise CallError(409, "not_open", _("Only an unfinished call can be paused."), "status")
    if is_paused(call):
        raise CallError(409, "already_paused", _("The clock of this call is already paused."), "status")
    at = at or utcnow()
    pause = CallPause(call=call, started_at=max(at, call.reported_at), reason=reason[:200])
    db.session.add(pause)
    record("paused", call, actor=actor, reason=reason)
    db.session.commit()
    return pause


def resume_call(call: ServiceCall, actor: User, at: datetime | None = None) -> None:
    """Restart the SLA clock; the deadlines move back by the paused working time; commits."""
    require_role(actor, Role.PSP, Role.DISPATCHER, Role.ADMIN)
    open_pauses = [p for p in call.pauses if p.ended_at is None]
    if not open_pauses:
        raise CallError(409, "not_paused", _("The clock of this call is not paused."), "status")
    at = at or utcnow()
    for p in open_pauses:
        p.ended_at = max(at, p.started_at)
        call.paused_seconds = (call.paused_seconds or 0) + int((p.ended_at - p.started_at).total_seconds())
    recompute_deadlines(call, at)
    record("resumed", call, actor=actor, response_by=call.response_by, resolution_by=call.resolution_by)
    db.session.commit()


def change_priority(call: ServiceCall, priority: str, actor: User, reason: str = "") -> None:
    """New priority; both deadlines are recomputed from the original report time; commits."""
    require_role(actor, Role.PSP, Role.ADMIN)
    if priority not in PRIORITIES:
        raise CallError(422, "priority", _("Choose a priority: critical, urgent or normal."), "priority")
    if call.status not in OPEN_CALL_STATES:
        raise CallError(409, "not_open", _("The priority of a finished call cannot change."), "priority")
    if priority == call.priority:
        return
    old = call.priority
    call.priority = priority
    recompute_deadlines(call)
    for v in _active_visits(call):
        v.deadline = call.response_by
    record("priority", call, actor=actor, old=old, new=priority, reason=reason,
           response_by=call.response_by, resolution_by=call.resolution_by)
    db.session.commit()


# --------------------------------------------------------------------------- lifecycle


def _active_visits(call: ServiceCall) -> list[Visit]:
    return list(db.session.scalars(select(Visit).where(
        Visit.service_call_id == call.id, Visit.kind == VisitKind.EM,
        Visit.status.in_([VisitStatus.PLANNED, VisitStatus.DISPATCHED, VisitStatus.CHECKED_IN]))))


def _check_version(call: ServiceCall, expected_version: int | None) -> None:
    if expected_version is not None and call.version != expected_version:
        raise CallError(409, "stale", _("Someone else changed this call meanwhile; reload the page and try "
                                        "again."), "version", call_id=call.id)


def _working_minutes(call: ServiceCall, end: datetime) -> int:
    from fieldsvc.visits.contracts.sla import elapsed_working_minutes
    return max(0, round(elapsed_working_minutes(call.reported_at, end, calendar_of(call.contract, call.reported_at),
                                                pause_intervals(call))))


def _set_status(call: ServiceCall, new: CallStatus, actor: User | None, **data: Any) -> None:
    transition_call(call, new.value, actor=actor, **data)


def assign_technician(call: ServiceCall, technician_id: int, actor: User,
                      expected_version: int | None = None) -> Visit | None:
    """Give the call to a technician without choosing a position: it goes on the technician's day
    at once, with an ETA (→ scheduled; see :mod:`fieldsvc.visits.desk.assign_day`), or, when no day of
    the coming week fits, stays with the technician unrouted (→ assigned). Returns the EM visit
    (None when unrouted); commits. Choosing a position today is
    :func:`fieldsvc.visits.desk.slotting.assign_call`."""
    require_role(actor, Role.DISPATCHER, Role.ADMIN)
    _check_version(call, expected_version)
    tech = db.session.get(Technician, technician_id)
    if tech is None or tech.contractor_id != call.contractor_id or not tech.active:
        raise CallError(422, "technician", _("Choose an active technician of the call's contractor."),
                        "technician_id")
    from fieldsvc.visits.desk.assign_day import place_on_technicians_day

    try:
        visit = place_on_technicians_day(call, tech, actor, utcnow())
        if visit is None:
            call.technician_id = tech.id
            _set_status(call, CallStatus.ASSIGNED, actor, technician_id=tech.id)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return visit


def start_call(call: ServiceCall, actor: User | None, at: datetime | None = None) -> None:
    """Technician on site (→ in_progress): the response clock stops; commits."""
    if actor is not None:
        require_role(actor, Role.DISPATCHER, Role.TECHNICIAN, Role.ADMIN)
    at = at or utcnow()
    _set_status(call, CallStatus.IN_PROGRESS, actor)
    if call.responded_at is None:
        call.responded_at = at
        call.response_minutes = _working_minutes(call, at)
    db.session.commit()


def resolve_call(call: ServiceCall, actor: User | None, at: datetime | None = None, note: str = "") -> None:
    """Terminal working again (→ resolved): the resolution clock stops; commits."""
    if actor is not None:
        require_role(actor, Role.DISPATCHER, Role.TECHNICIAN, Role.ADMIN)
    if call.status == CallStatus.OPEN:  # open → resolved is the desk's remote resolution (desk.tiers)
        raise IllegalTransition("service call", call.status, CallStatus.RESOLVED.value)
    at = at or utcnow()
    _set_status(call, CallStatus.RESOLVED, actor, note=note)
    call.resolved_at = at
    call.resolution_minutes = _working_minutes(call, at)
    if call.responded_at is None:
        call.responded_at = at
        call.response_minutes = call.resolution_minutes
    db.session.commit()


def _close(call: ServiceCall, actor: User | None, at: datetime, **data: Any) -> None:
    _set_status(call, CallStatus.CLOSED, actor, **data)
    call.closed_at = at
    if not call.survey_token:
        call.survey_token = secrets.token_urlsafe(18)


def close_call(call: ServiceCall, actor: User, note: str = "", at: datetime | None = None) -> None:
    """QC verification by PSP staff (resolved → closed); the merchant gets the survey; commits."""
    require_role(actor, Role.PSP, Role.ADMIN)
    _close(call, actor, at or utcnow(), note=note, qc=True)
    db.session.commit()


def reopen_call(call: ServiceCall, actor: User, reason: str) -> None:
    """Resolved or closed, but the terminal fails again (→ open); the original deadlines stay; commits."""
    require_role(actor, Role.PSP, Role.ADMIN)
    reason = (reason or "").strip()
    if not reason:
        raise CallError(422, "reason", _("Say why the call is reopened."), "reason")
    _set_status(call, CallStatus.OPEN, actor, reason=reason)
    call.resolved_at = None
    call.resolution_minutes = None
    call.closed_at = None
    call.technician_id = None
    db.session.commit()


def cancel_call(call: ServiceCall, actor: User, reason: str) -> None:
    """Cancel with a reason; its planned EM visit leaves the route; commits."""
    require_role(actor, Role.PSP, Role.ADMIN)
    reason = (reason or "").strip()
    if not reason:
        raise CallError(422, "reason", _("Say why the call is cancelled."), "reason")
    _set_status(call, CallStatus.CANCELLED, actor, reason=reason)
    call.cancel_reason = reason
    for p in call.pauses:
        if p.ended_at is None:
            p.ended_at = utcnow()
    _take_off_routes(call, actor, "call cancelled")
    db.session.commit()


def _take_off_routes(call: ServiceCall, actor: User | None, why: str) -> None:
    """Cancel the call's EM visits not yet started and re-time the routes they leave."""
    routes = set()
    for v in _active_visits(call):
        if v.status == VisitStatus.CHECKED_IN:
            continue
        transition_visit(v, VisitStatus.CANCELLED.value, actor=actor, reason=why)
        if v.route_id is not None:
            routes.add(v.route_id)
        v.route_id, v.route_position = None, None
    db.session.flush()
    if routes:
        from fieldsvc.visits.desk.slotting import refresh_route_times
        for rid in routes:
            refresh_route_times(rid)


def unassign_call(call: ServiceCall, actor: User, reason: str = "") -> None:
    """Back to open (dispatcher): the planned EM visit leaves its route, later ETAs move up, so the
    call can be slotted again, e.g. to another technician; commits."""
    require_role(actor, Role.DISPATCHER, Role.ADMIN)
    if any(v.status == VisitStatus.CHECKED_IN for v in _active_visits(call)):
        raise CallError(409, "on_site", _("The technician is already on site for this call."), "status")
    _set_status(call, CallStatus.OPEN, actor, reason=reason, unassigned=True)
    call.technician_id = None
    _take_off_routes(call, actor, "call unassigned")
    db.session.commit()


#: Lifecycle actions of :func:`apply_action` (the API's `transition` and the call page's buttons).
ACTIONS = ("start", "resolve", "close", "reopen", "cancel", "pause", "resume", "priority", "assign", "unassign")


def apply_action(call: ServiceCall, user: User, action: str, *, reason: str = "", priority: str | None = None,
                 technician_id: int | None = None) -> None:
    """Run one lifecycle action on a call (shared by the API and the call page)."""
    if action == "start":
        start_call(call, user)
    elif action == "resolve":
        resolve_call(call, user, note=reason)
    elif action == "close":
        close_call(call, user, note=reason)
    elif action == "reopen":
        reopen_call(call, user, reason)
    elif action == "cancel":
        cancel_call(call, user, reason)
    elif action == "pause":
        pause_call(call, reason, user)
    elif action == "resume":
        resume_call(call, user)
    elif action == "priority":
        if not priority:
            raise CallError(422, "priority", _("Choose a priority: critical, urgent or normal."), "priority")
        change_priority(call, priority, user, reason)
    elif action == "unassign":
        unassign_call(call, user, reason)
    elif action == "assign":
        if technician_id is None:
            raise CallError(422, "technician", _("Choose an active technician of the call's contractor."),
                            "technician_id")
        assign_technician(call, technician_id, user)
    else:
        raise CallError(422, "action", _("Unknown action %(action)s.", action=action), "action")


def technicians_for(call: ServiceCall, user: User) -> list[Technician]:
    """Active technicians of the call's contractor that the user may see, by name."""
    return list(db.session.scalars(scoped(Technician, user).where(
        Technician.contractor_id == call.contractor_id, Technician.active.is_(True)).order_by(Technician.name)))


def history(call: ServiceCall) -> list[AuditEvent]:
    """The call's audit trail, oldest first."""
    return list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == ServiceCall.__tablename__, AuditEvent.object_id == call.id)
        .order_by(AuditEvent.at, AuditEvent.id)))


def status_history(call: ServiceCall) -> list[AuditEvent]:
    """Only the status changes (and the creation) of the call, oldest first."""
    return [e for e in history(call) if e.action in ("created", "status")]


# --------------------------------------------------------------------------- periodic jobs


def escalation_level(call: ServiceCall, now: datetime) -> int:
    """0 none · 1 response at risk · 2 response breached or resolution at risk · 3 resolution breached."""
    if call.status not in OPEN_CALL_STATES or is_paused(call):
        return 0
    flags = sla_flags(call, now)
    level = 0
    if flags.response == SlaState.AT_RISK:
        level = 1
    if flags.response in (SlaState.BREACHED, SlaState.MISSED) or flags.resolution == SlaState.AT_RISK:
        level = 2
    if flags.resolution == SlaState.BREACHED:
        level = 3
    return level


def escalate_due_calls(now: datetime | None = None) -> int:
    """Scheduler job: raise the escalation level of unfinished calls whose deadlines approach or
    passed (levels never go down by themselves). Returns how many calls were escalated; commits."""
    now = now or utcnow()
    calls = db.session.scalars(select(ServiceCall).where(
        ServiceCall.status.in_([str(s) for s in OPEN_CALL_STATES]))).all()
    raised = 0
    for call in calls:
        if call.pauses and not is_paused(call):
            recompute_deadlines(call, now)  # pauses recorded elsewhere (e.g. "merchant closed" at check-out)
        level = escalation_level(call, now)
        if level > call.escalation_level:
            record("escalated", call, from_state=str(call.escalation_level), to_state=str(level),
                   level=level, at=now)
            call.escalation_level = level
            raised += 1
    db.session.commit()
    return raised


def auto_close_resolved_calls(now: datetime | None = None) -> int:
    """Scheduler job: close resolved calls older than their contract's ``auto_close_days``.
    Returns how many were closed; commits."""
    now = now or utcnow()
    calls = db.session.scalars(select(ServiceCall).where(ServiceCall.status == CallStatus.RESOLVED)).all()
    closed = 0
    for call in calls:
        since = call.resolved_at or call.updated_at
        if since + timedelta(days=version_in_force(call.contract, call.reported_at).auto_close_days) <= now:
            _close(call, None, now, auto=True)
            closed += 1
    db.session.commit()
    return closed


# --------------------------------------------------------------------------- survey


def submit_survey(call: ServiceCall, token: str, score: int, comment: str = "") -> None:
    """Store the merchant's satisfaction (1–5 and a comment) once, after closing; commits."""
    if call.status != CallStatus.CLOSED or not call.survey_token or not secrets.compare_digest(
            call.survey_token, token or ""):
        raise CallError(404, "survey", _("This survey link is not valid."), "token")
    if call.survey_score is not None:
        raise CallError(409, "survey_done", _("Thank you: the survey of this call was already answered."),
                        "score")
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise CallError(422, "score", _("Choose a score from 1 to 5."), "score")
    call.survey_score = score
    call.survey_comment = (comment or "").strip()[:2000]
    record("survey", call, score=score)
    db.session.commit()


# --------------------------------------------------------------------------- queries


def list_calls(user: User, status: str | None = None, open_only: bool = False) -> list[ServiceCall]:
    """Calls the user may see, newest first (optionally one status, or only unfinished ones)."""
    if user.role == Role.TECHNICIAN:
        raise Forbidden("technicians see their calls on their route")
    q = scoped(ServiceCall, user).order_by(ServiceCall.escalation_level.desc(), ServiceCall.reported_at.desc())
    if status:
        q = q.where(ServiceCall.status == status)
    elif open_only:
        q = q.where(ServiceCall.status.in_([str(s) for s in OPEN_CALL_STATES]))
    return list(db.session.scalars(q.limit(500)))


def merchants_for_intake(user: User) -> list[Merchant]:
    """Merchants the user may open calls for, by name."""
    return list(db.session.scalars(scoped(Merchant, user).order_by(Merchant.name).limit(2000)))


def tracking_url(call: ServiceCall, base_url: str) -> str:
    return f"{base_url.rstrip('/')}/track/{call.tracking_number}"


def survey_url(call: ServiceCall, base_url: str) -> str | None:
    if not call.survey_token:
        return None
    return f"{tracking_url(call, base_url)}/survey/{call.survey_token}"


def phone_digits_match(call: ServiceCall, typed: str) -> bool:
    """True when ``typed`` is the last four digits of the merchant's phone."""
    digits = "".join(ch for ch in normalize_digits(typed or "") if ch.isdigit())
    phone = "".join(ch for ch in normalize_digits(call.merchant.phone or "") if ch.isdigit())
    return len(digits) == 4 and len(phone) >= 4 and secrets.compare_digest(phone[-4:], digits)
