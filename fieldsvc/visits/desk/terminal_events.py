"""Proactive calls: health events from a PSP's switch or terminal management system, the PSP's rules
that turn them into calls, and the scheduler job that opens a call for a terminal silent too long.

Write path (built for thousands of events a second): one batch is validated as a whole (an error
names ``events[i].field`` and nothing is written), serials are resolved with one query, the events
are inserted with one multi-row ``INSERT … ON CONFLICT (psp_id, event_id) DO NOTHING RETURNING`` (on
PostgreSQL and SQLite alike), the terminals' last-seen times with one upsert, and only the few events
a rule matches go on to open calls, in the same transaction. An event id seen before is a replay:
it is answered with the stored result and changes nothing.

Rules (:class:`~fieldsvc.visits.service_models.TerminalEventRule`): kind and code (empty = any code)
→ priority and symptom. A matched event opens a call unless the terminal has an unfinished call
for that symptom (``duplicate``, the answer names that call) or monitoring opened a call for the
terminal less than ``throttle_minutes`` ago (``throttled``).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional, Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, select, update
from sqlalchemy.dialects import postgresql, sqlite

from fieldsvc.calendar import CalendarSpec, working_seconds_between
from fieldsvc.db import db, utcnow
from fieldsvc.text import normalize_code
from fieldsvc.visits.audit import record
from fieldsvc.visits.desk import calls as svc
from fieldsvc.visits.desk.call_targets import attach_profile
from fieldsvc.visits.desk.errors import CallError
from fieldsvc.visits.i18n_text import gettext as _
from fieldsvc.visits.models import Channel, Psp, Role, ServiceCall, Terminal, User
from fieldsvc.visits.scope import Forbidden, NotFound
from fieldsvc.visits.service_models import (EventKind, TerminalEvent, TerminalEventRule, TerminalHealth,
                                            TicketType)
from fieldsvc.visits.states import CallStatus

MAX_BATCH = 1000
RULE_KINDS = (EventKind.ERROR.value, EventKind.SILENT.value, EventKind.LOW_PAPER.value)
EVENT_KINDS = tuple(k.value for k in EventKind)
KIND_LABELS: dict[str, Any] = {"error": _l("Error code"), "silent": _l("Silent since"),
                               "low_paper": _l("Low paper"), "heartbeat": _l("Heartbeat")}
OUTCOME_LABELS: dict[str, Any] = {
    "ignored": _l("No rule"), "call_opened": _l("Call opened"), "duplicate": _l("Open call exists"),
    "throttled": _l("Throttled"), "unknown_terminal": _l("Unknown terminal"), "no_contract": _l("No contract"),
}
#: A clock more than this far ahead of ours is an input error, not a future event.
MAX_CLOCK_SKEW = dt.timedelta(minutes=10)


class EventError(ValueError):
    """Input that cannot be accepted; ``field`` names it (``events[3].kind``); nothing was written."""

    def __init__(self, field: str, message: str, status: int = 422) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message, self.status = field, message, status


@dataclass(frozen=True)
class EventIn:
    event_id: str
    serial: str
    kind: str
    code: str
    occurred_at: dt.datetime
    silent_since: Optional[dt.datetime]


# --------------------------------------------------------------------------- validation


def _text(item: Mapping[str, Any], key: str, where: str, max_len: int, required: bool = True) -> str:
    value = item.get(key)
    if value is None or value == "":
        if required:
            raise EventError(f"{where}.{key}", _("Missing; every event needs it."))
        return ""
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise EventError(f"{where}.{key}", _("Must be text."))
    value = str(value).strip()
    if len(value) > max_len:
        raise EventError(f"{where}.{key}", _("At most %(n)s characters.", n=max_len))
    return value


def _time(item: Mapping[str, Any], key: str, where: str, now: dt.datetime) -> dt.datetime:
    raw = item.get(key)
    if not isinstance(raw, str) or not raw:
        raise EventError(f"{where}.{key}", _("Give the time as ISO 8601 with its time zone, e.g. "
                                             "2026-11-22T09:30:00+03:30."))
    try:
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise EventError(f"{where}.{key}", _("Not a time: give ISO 8601 with its time zone, e.g. "
                                             "2026-11-22T09:30:00+03:30.")) from None
    if value.tzinfo is None:
        raise EventError(f"{where}.{key}", _("Give the time zone (e.g. +03:30 or Z)."))
    value = value.astimezone(dt.timezone.utc)
    if value > now + MAX_CLOCK_SKEW:
        raise EventError(f"{where}.{key}", _("This time is in the future; check the sender's clock."))
    if value.year < 2000:
        raise EventError(f"{where}.{key}", _("This time is too far in the past."))
    return value


def parse_events(items: Any, now: dt.datetime | None = None) -> list[EventIn]:
    """Checked events from the request's list of dicts; EventError names the first bad field."""
    now = now or utcnow()
    if not isinstance(items, list) or not items:
        raise EventError("events", _("Give at least one event."))
    if len(items) > MAX_BATCH:
        raise EventError("events", _("At most %(n)s events per request; split the batch.", n=MAX_BATCH), 413)
    out = []
    for i, item in enumerate(items):
        where = f"events[{i}]"
        if not isinstance(item, Mapping):
            raise EventError(where, _("Each event is an object with event_id, terminal_serial, kind and time."))
        event_id = _text(item, "event_id", where, 64)
        serial = normalize_code(_text(item, "terminal_serial", where, 64))
        kind = _text(item, "kind", where, 16)
        if kind not in EVENT_KINDS:
            raise EventError(f"{where}.kind", _("Choose one of %(kinds)s.", kinds=", ".join(EVENT_KINDS)))
        code = normalize_code(_text(item, "code", where, 32, required=kind == EventKind.ERROR))
        occurred = _time(item, "time", where, now)
        since = None
        if kind == EventKind.SILENT:
            since = _time(item, "silent_since", where, now)
            if since > occurred:
                raise EventError(f"{where}.silent_since", _("Cannot be after the event's time."))
        elif item.get("silent_since") not in (None, ""):
            raise EventError(f"{where}.silent_since", _("Only silent events have silent_since."))
        out.append(EventIn(event_id, serial, kind, code, occurred, since))
    return out


# --------------------------------------------------------------------------- write path


def _insert(table: Any) -> Any:
    return (postgresql.insert(table) if db.engine.dialect.name == "postgresql" else sqlite.insert(table))


def _rules(psp_id: int) -> dict[tuple[str, str], TerminalEventRule]:
    rows = db.session.scalars(select(TerminalEventRule).where(TerminalEventRule.psp_id == psp_id,
                                                              TerminalEventRule.active.is_(True)))
    return {(r.kind, r.code): r for r in rows}


def _rule_for(rules: Mapping[tuple[str, str], TerminalEventRule], kind: str, code: str) -> TerminalEventRule | None:
    return rules.get((kind, code)) or rules.get((kind, ""))


def _terminal_ids(psp_id: int, serials: Iterable[str]) -> dict[str, int]:
    wanted = sorted(set(serials))
    out: dict[str, int] = {}
    for i in range(0, len(wanted), 500):
        out.update({serial: tid for serial, tid in db.session.execute(select(Terminal.serial, Terminal.id).where(
            Terminal.psp_id == psp_id, Terminal.serial.in_(wanted[i:i + 500])))})
    return out


def _touch_health(psp_id: int, seen: Mapping[int, dt.datetime]) -> None:
    """Raise each terminal's last-seen time to ``seen[terminal_id]`` (never lower it)."""
    if not seen:
        return
    table = TerminalHealth.__table__
    stmt = _insert(table)
    stmt = stmt.on_conflict_do_update(index_elements=[table.c.terminal_id], set_={
        "last_seen_at": case((stmt.excluded.last_seen_at > table.c.last_seen_at, stmt.excluded.last_seen_at),
                             else_=table.c.last_seen_at)})
    # executemany: one compiled statement, batched by the driver ("insertmanyvalues")
    db.session.execute(stmt, [{"terminal_id": t, "psp_id": psp_id, "last_seen_at": at}
                              for t, at in sorted(seen.items())])


def ingest(psp_id: int, items: Any, actor: User | None = None, now: dt.datetime | None = None) -> dict[str, Any]:
    """Store a batch of events and act on them; returns {accepted, replayed, calls_opened, results}
    with one result per event in the order sent. Commits once; EventError → nothing written."""
    now = now or utcnow()
    events = parse_events(items, now)
    first: dict[str, EventIn] = {}
    for e in events:
        first.setdefault(e.event_id, e)  # an id twice in one batch: the second is a replay
    ids = _terminal_ids(psp_id, (e.serial for e in first.values()))
    rules = _rules(psp_id)
    rows = []
    for e in first.values():
        tid = ids.get(e.serial)
        outcome = "unknown_terminal" if tid is None else ("pending" if _rule_for(rules, e.kind, e.code)
                                                          and e.kind != EventKind.HEARTBEAT else "ignored")
        rows.append({"psp_id": psp_id, "event_id": e.event_id, "terminal_serial": e.serial, "terminal_id": tid,
                     "kind": e.kind, "code": e.code, "occurred_at": e.occurred_at, "silent_since": e.silent_since,
                     "received_at": now, "outcome": outcome, "detail": ""})
    table = TerminalEvent.__table__
    try:
        stmt = (_insert(table).on_conflict_do_nothing(index_elements=[table.c.psp_id, table.c.event_id])
                .returning(table.c.id, table.c.event_id))
        # executemany with RETURNING: SQLAlchemy sends multi-row INSERTs ("insertmanyvalues") from
        # one compiled statement; a conflicting row returns nothing, so only new events come back
        fresh = {eid: rid for rid, eid in db.session.execute(stmt, rows)}
        seen: dict[int, dt.datetime] = {}
        for e in first.values():
            tid = ids.get(e.serial)
            if e.event_id in fresh and tid is not None:
                at = e.silent_since or e.occurred_at
                seen[tid] = max(seen.get(tid, at), at)
        _touch_health(psp_id, seen)
        pending = [(fresh[e.event_id], e) for e in sorted(first.values(), key=lambda e: e.occurred_at)
                   if e.event_id in fresh and ids.get(e.serial) is not None
                   and _rule_for(rules, e.kind, e.code) and e.kind != EventKind.HEARTBEAT]
        opened = 0
        known: dict[str, tuple[str, int | None, str]] = {r["event_id"]: (r["outcome"], None, "") for r in rows
                                                          if r["event_id"] in fresh}
        for row_id, e in pending:
            rule = _rule_for(rules, e.kind, e.code)
            assert rule is not None
            outcome, call, detail = act_on(ids[e.serial], rule, now, actor, event_row_id=row_id,
                                           text=f"{e.kind} {e.code}".strip())
            opened += outcome == "call_opened"
            known[e.event_id] = (outcome, call.id if call else None, detail)
            db.session.execute(update(table).where(table.c.id == row_id).values(
                outcome=outcome, call_id=call.id if call else None, detail=detail))
        replayed = [eid for eid in first if eid not in fresh]
        for i in range(0, len(replayed), 500):  # replays: the result stored the first time
            for eid, outcome, call_id, detail in db.session.execute(
                    select(table.c.event_id, table.c.outcome, table.c.call_id, table.c.detail).where(
                        table.c.psp_id == psp_id, table.c.event_id.in_(replayed[i:i + 500]))):
                known[eid] = (outcome, call_id, detail)
        call_ids = {c for _o, c, _d in known.values() if c}
        tracking = {cid: number for cid, number in db.session.execute(
            select(ServiceCall.id, ServiceCall.tracking_number).where(ServiceCall.id.in_(call_ids)))} if call_ids else {}
        results, reported = [], set()
        for e in events:
            replay = e.event_id not in fresh or e.event_id in reported
            reported.add(e.event_id)
            outcome, call_id, detail = known[e.event_id]
            results.append({"event_id": e.event_id, "outcome": outcome, "call_id": call_id,
                            "tracking_number": tracking.get(call_id) if call_id else None, "replay": replay,
                            "detail": detail or None})
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return {"accepted": len(fresh), "replayed": len(events) - len(fresh), "calls_opened": opened,
            "results": results}


# --------------------------------------------------------------------------- opening calls


def _health(terminal_id: int) -> TerminalHealth | None:
    q = select(TerminalHealth).where(TerminalHealth.terminal_id == terminal_id)
    if db.engine.dialect.name == "postgresql":
        q = q.with_for_update()  # two batches for one terminal decide one after the other
    return db.session.scalars(q).first()


def act_on(terminal_id: int, rule: TerminalEventRule, now: dt.datetime, actor: User | None, *,
           event_row_id: int | None = None, text: str = "") -> tuple[str, ServiceCall | None, str]:
    """Open a call for a matched event unless deduplicated or throttled; returns (outcome, call,
    detail). Does not commit."""
    terminal = db.session.get(Terminal, terminal_id)
    dup = svc.open_duplicate(terminal_id, rule.symptom_code)
    if dup is not None:
        return "duplicate", dup, ""
    health = _health(terminal_id)
    if (health is not None and health.last_auto_call_at is not None
            and now - health.last_auto_call_at < dt.timedelta(minutes=rule.throttle_minutes)):
        return "throttled", None, ""
    try:
        call = open_monitoring_call(terminal, rule, now, actor, event_row_id=event_row_id, text=text)
    except CallError as e:
        return e.code if e.code == "no_contract" else "ignored", None, e.message
    if health is None:
        health = TerminalHealth(terminal_id=terminal_id, psp_id=terminal.psp_id, last_seen_at=now)
        db.session.add(health)
    health.last_auto_call_at = now
    return "call_opened", call, ""


def open_monitoring_call(terminal: Terminal, rule: TerminalEventRule, now: dt.datetime, actor: User | None, *,
                         event_row_id: int | None = None, text: str = "") -> ServiceCall:
    """A fault call opened by monitoring (channel ``monitoring``), with the usual contractor,
    deadlines and tracking number; audited; does not commit. CallError when no contract covers it."""
    if terminal.merchant is None:
        raise CallError(422, "no_merchant", _("Terminal %(serial)s is not installed at a merchant.",
                                               serial=terminal.serial), "terminal_serial")
    contract = svc.contract_for(terminal, now.date())
    call = ServiceCall(terminal=terminal, merchant=terminal.merchant, psp_id=terminal.merchant.psp_id,
                       contractor_id=contract.contractor_id, contract=contract, channel=Channel.MONITORING.value,
                       priority=rule.priority, symptom_code=rule.symptom_code,
                       symptom_text=_("Opened automatically by monitoring: %(what)s.", what=text),
                       status=CallStatus.OPEN, reported_at=now, created_by_id=actor.id if actor else None)
    call.pauses = []
    attach_profile(call, TicketType.FAULT.value, event_id=event_row_id)
    svc.recompute_deadlines(call, now)
    svc.add_new_call(call, contract, now)
    record("created", call, actor=actor, to_state=CallStatus.OPEN.value, tracking_number=call.tracking_number,
           priority=call.priority, symptom=call.symptom_code, channel=call.channel, rule_id=rule.id, what=text)
    return call


# --------------------------------------------------------------------------- silence job


def _calendar_for(terminal: Terminal, now: dt.datetime) -> CalendarSpec:
    try:
        return svc.calendar_of(svc.contract_for(terminal, now.date()), now)
    except CallError:
        return CalendarSpec()  # the Iranian business week and holidays


def open_calls_for_silent_terminals(now: dt.datetime | None = None) -> int:
    """Scheduler job: for every PSP with an active ``silent`` rule that sets ``silent_hours``, open a
    call for each monitored terminal not heard from for that many business hours (its contract's
    calendar; Iranian holidays count as off), once per silence. Returns how many calls; commits."""
    now = now or utcnow()
    opened = 0
    rules = db.session.scalars(select(TerminalEventRule).where(
        TerminalEventRule.kind == EventKind.SILENT, TerminalEventRule.active.is_(True),
        TerminalEventRule.silent_hours.is_not(None))).all()
    for rule in rules:
        hours = int(rule.silent_hours or 0)
        candidates = db.session.scalars(select(TerminalHealth).where(
            TerminalHealth.psp_id == rule.psp_id, TerminalHealth.last_seen_at <= now - dt.timedelta(hours=hours))).all()
        for h in candidates:
            if h.last_auto_call_at is not None and h.last_auto_call_at >= h.last_seen_at:
                continue  # this silence already has its call
            terminal = db.session.get(Terminal, h.terminal_id)
            if terminal is None or terminal.merchant is None or terminal.status == "removed":
                continue
            if working_seconds_between(_calendar_for(terminal, now), h.last_seen_at, now) < hours * 3600:
                continue
            outcome, _call, _detail = act_on(h.terminal_id, rule, now, None,
                                             text=f"silent since {h.last_seen_at:%Y-%m-%d %H:%M} UTC")
            if outcome == "duplicate":
                h.last_auto_call_at = now  # the open call covers this silence
            opened += outcome == "call_opened"
        db.session.commit()
    return opened


# --------------------------------------------------------------------------- rules


def _psp_of(user: User, psp_id: Any) -> int:
    if user.role == Role.PSP:
        return user.psp_id
    if user.role != Role.ADMIN:
        raise Forbidden("only PSP staff and administrators manage monitoring rules")
    if isinstance(psp_id, int) and not isinstance(psp_id, bool) and db.session.get(Psp, psp_id) is not None:
        return psp_id
    raise EventError("psp_id", _("Choose the payment company."))


def _check_rule(data: Mapping[str, Any], rule: TerminalEventRule) -> None:
    if "kind" in data:
        if data["kind"] not in RULE_KINDS:
            raise EventError("kind", _("Choose one of %(kinds)s.", kinds=", ".join(RULE_KINDS)))
        rule.kind = data["kind"]
    if "code" in data:
        code = normalize_code(str(data["code"] or ""))
        if len(code) > 32:
            raise EventError("code", _("At most %(n)s characters.", n=32))
        rule.code = code
    if "priority" in data:
        if data["priority"] not in svc.PRIORITIES:
            raise EventError("priority", _("Choose a priority: critical, urgent or normal."))
        rule.priority = data["priority"]
    if "symptom" in data:
        if data["symptom"] not in svc.SYMPTOMS:
            raise EventError("symptom", _("Choose a symptom from the list."))
        rule.symptom_code = data["symptom"]
    if "throttle_minutes" in data:
        v = data["throttle_minutes"]
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 43_200:
            raise EventError("throttle_minutes", _("Give whole minutes from 0 to 43200 (30 days)."))
        rule.throttle_minutes = v
    if "silent_hours" in data:
        v = data["silent_hours"]
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 720):
            raise EventError("silent_hours", _("Give whole business hours from 1 to 720, or nothing."))
        rule.silent_hours = v
    if "active" in data:
        rule.active = bool(data["active"])
    if rule.kind != EventKind.SILENT and rule.silent_hours is not None:
        raise EventError("silent_hours", _("Only a rule for silent terminals has silent hours."))
    if rule.kind == EventKind.SILENT and rule.code:
        raise EventError("code", _("Silent events have no code; leave it empty."))
    if not rule.symptom_code:
        raise EventError("symptom", _("Choose a symptom from the list."))


def _unique(rule: TerminalEventRule) -> None:
    clash = db.session.scalars(select(TerminalEventRule).where(
        TerminalEventRule.psp_id == rule.psp_id, TerminalEventRule.kind == rule.kind,
        TerminalEventRule.code == rule.code, TerminalEventRule.id != (rule.id or 0))).first()
    if clash is not None:
        raise EventError("code", _("A rule for %(kind)s %(code)s exists already; change that one.",
                                   kind=rule.kind, code=rule.code or "*"), 409)


def create_rule(user: User, data: Mapping[str, Any]) -> TerminalEventRule:
    """A new rule of the user's PSP; EventError names the field; audited; commits."""
    rule = TerminalEventRule(psp_id=_psp_of(user, data.get("psp_id")), code="", priority="normal",
                             throttle_minutes=240, active=True, symptom_code="")
    for key in ("kind", "symptom"):
        if key not in data:
            raise EventError(key, _("Missing; a rule needs it."))
    _check_rule(data, rule)
    _unique(rule)
    db.session.add(rule)
    db.session.flush()
    record("created", rule, actor=user, kind=rule.kind, code=rule.code, priority=rule.priority,
           symptom=rule.symptom_code, throttle_minutes=rule.throttle_minutes, silent_hours=rule.silent_hours)
    db.session.commit()
    return rule


def get_rule(user: User, rule_id: int) -> TerminalEventRule:
    if user.role not in (Role.ADMIN, Role.PSP):
        raise Forbidden("only PSP staff and administrators see monitoring rules")
    rule = db.session.get(TerminalEventRule, rule_id)
    if rule is None or (user.role != Role.ADMIN and rule.psp_id != user.psp_id):
        raise NotFound("TerminalEventRule", rule_id)
    return rule


def update_rule(user: User, rule: TerminalEventRule, data: Mapping[str, Any]) -> TerminalEventRule:
    """Change a rule (kind, code, priority, symptom, throttle, silent hours, active); commits."""
    _psp_of(user, rule.psp_id)
    try:
        _check_rule(data, rule)
        _unique(rule)
    except EventError:
        db.session.rollback()
        raise
    record("updated", rule, actor=user, **{k: data[k] for k in sorted(data) if k != "psp_id"})
    db.session.commit()
    return rule


def list_rules(user: User) -> list[TerminalEventRule]:
    if user.role not in (Role.ADMIN, Role.PSP):
        raise Forbidden("only PSP staff and administrators see monitoring rules")
    q = select(TerminalEventRule).order_by(TerminalEventRule.psp_id, TerminalEventRule.kind, TerminalEventRule.code)
    if user.role == Role.PSP:
        q = q.where(TerminalEventRule.psp_id == user.psp_id)
    return list(db.session.scalars(q))


def recent_events(user: User, limit: int = 100, outcome: str | None = None) -> Sequence[TerminalEvent]:
    """The latest events the user's PSP sent (admins: every PSP)."""
    if user.role not in (Role.ADMIN, Role.PSP):
        raise Forbidden("only PSP staff and administrators see monitoring events")
    q = select(TerminalEvent).order_by(TerminalEvent.id.desc()).limit(limit)
    if user.role == Role.PSP:
        q = q.where(TerminalEvent.psp_id == user.psp_id)
    if outcome:
        q = q.where(TerminalEvent.outcome == outcome)
    return db.session.scalars(q).all()
