"""Slotting an EM call into live routes, and committing the dispatcher's choice.

This module only maps the database to the planner's EM engine and back: timing (waiting for
opening windows, the break), the refusal rules and the ranking are
:mod:`fieldsvc.planner.em`'s (one engine for the call page, the API and "assign to a technician").

The live day is read from the database: each working technician's :class:`Route` of the day with
its visits in ``route_position`` order. Visits checked in or finished are frozen (the technician
is at the last of them, busy until its service ends; else at home), the rest can move; PM visits
may be pushed back to the pool, EM calls and installations never.

:func:`rank_options` ranks the live routes of one or several days together (today's on-call
technicians and the next working day's plan, see :mod:`fieldsvc.visits.desk.slot_answer`, which
is what the call page and ``GET /service-calls/<id>/slot-options`` show).

:func:`assign_call` commits one option in a single transaction: the EM visit on the route of that
day, every later ETA, displaced PM visits back to the due pool and the call scheduled. Two
dispatchers racing for one call: the row lock (``SELECT … FOR UPDATE`` on PostgreSQL) and the
call's optimistic version make exactly one win; the other gets a 409 :class:`CallError`.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Optional
from zoneinfo import ZoneInfo

from fieldsvc.visits.i18n_text import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from fieldsvc import config
from fieldsvc.calendar import WEEKDAY_NAMES
from fieldsvc.db import db, utcnow
from fieldsvc.planner import em
from fieldsvc.planner.em import LiveRoute, LiveStop, Timed
from fieldsvc.planner.matrix import travel_seconds
from fieldsvc.planner.params import SolveParams
from fieldsvc.planner.problem import Break, Point, TimeWindow
from fieldsvc.planner.problem import Visit as PlanVisit
from fieldsvc.visits.plans import due
from fieldsvc.visits.plans.planning import contract_calendars, technician_works
from fieldsvc.visits.audit import record, transition_call, transition_visit
from fieldsvc.visits.desk.errors import CallError
from fieldsvc.visits.models import Merchant, Role, Route, ServiceCall, Technician, User, Visit, VisitKind
from fieldsvc.visits.scope import get_scoped, require_role
from fieldsvc.visits.states import CallStatus, LOCKED_VISIT_STATES, VisitStatus

DAY = 24 * 3600
#: Visits no longer on the day's plan at all.
GONE_STATES = frozenset({VisitStatus.MISSED, VisitStatus.CANCELLED})
#: Days after today searched for a working day with room (and the furthest day a call is put on).
LOOK_AHEAD_DAYS = 7


def _tz() -> ZoneInfo:
    name = config.TIMEZONE
    return ZoneInfo(name)


def day_origin(day: dt.date) -> dt.datetime:
    """Local midnight of ``day`` as aware UTC: second 0 of the planner's day."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=_tz()).astimezone(dt.timezone.utc)


def local_today(now: dt.datetime) -> dt.date:
    return now.astimezone(_tz()).date()


def _hhmm(s: str) -> int:
    h, m = str(s).split(":")
    return int(h) * 3600 + int(m) * 60


def _secs(at: dt.datetime, origin: dt.datetime) -> int:
    return int((at - origin).total_seconds())


def merchant_windows(merchant: Any, day: dt.date) -> tuple[TimeWindow, ...] | None:
    """Opening windows of ``day`` in seconds; () = open any time; None = closed all day."""
    if due.merchant_closed_on(merchant, day):
        return None
    wins = due.opening_windows(merchant, day)
    if wins is None:
        return ()
    return tuple(TimeWindow(_hhmm(a), _hhmm(b)) for a, b in wins)


def _profile(tech: Technician) -> str:
    return tech.vehicle if tech.vehicle in SolveParams().speeds_mps else "car"


# --------------------------------------------------------------------------- the live day


@dataclass
class LiveTech:
    """One technician's remaining day, in seconds from local midnight of that day (the ORM rows
    beside the planner's view). ``on_call``: outside the shift, until the next shift starts."""

    technician: Technician
    route: Optional[Route]
    position: Point
    time: int
    home: Point
    shift_end: int
    break_window: Optional[Break]
    max_visits: int
    stops: list[LiveStop] = field(default_factory=list)
    frozen: list[Any] = field(default_factory=list)
    remaining: list[Any] = field(default_factory=list)
    on_call: bool = False

    def day_over(self, params: SolveParams | None = None) -> bool:
        """True when the shift is over, or the work under way and the way home reach its end: the
        technician takes no new call today (as a re-plan leaves them out, see planner.day_over)."""
        back = travel_seconds(self.position, self.home, _profile(self.technician), params or SolveParams())
        return self.time + back >= self.shift_end

    def live_route(self, offset: int = 0, day: int = 0) -> LiveRoute:
        """The planner's view of this remainder of the day (times moved by ``offset`` seconds)."""
        route = LiveRoute(
            technician_id=self.technician.id, position=self.position, time=self.time, stops=tuple(self.stops),
            frozen=0, end=self.home, shift_end=self.shift_end, skills=frozenset(self.technician.skills or []),
            profile=_profile(self.technician), max_visits=self.max_visits, break_=self.break_window,
            on_call=self.on_call)
        return em.shifted(route, offset, day)


def _stop_of(v: Any, day: dt.date, origin: dt.datetime) -> LiveStop:
    wins = merchant_windows(v.merchant, day)
    return LiveStop(v.id, Point(v.merchant.lat, v.merchant.lon), int(v.service_minutes or 0) * 60, wins or (),
                    _secs(v.deadline, origin) if v.kind == VisitKind.EM and v.deadline else None,
                    movable=v.kind == VisitKind.PM)


@dataclass(frozen=True)
class _MerchantRow:
    lat: float
    lon: float
    opening_hours: dict
    closed_dates: list


@dataclass(frozen=True)
class _VisitRow:
    """The columns of a visit that timing needs (read without building ORM objects)."""

    id: int
    kind: str
    status: str
    route_position: Optional[int]
    service_minutes: int
    deadline: Optional[dt.datetime]
    checkin_at: Optional[dt.datetime]
    checkout_at: Optional[dt.datetime]
    merchant: _MerchantRow


def _build_live_tech(tech: Technician, day: dt.date, now: dt.datetime, visits: list[Any],
                     route: Optional[Route], break_started: bool, on_call: bool = False) -> Optional[LiveTech]:
    """The technician's rest of ``day``; ``on_call``: from now until the next shift starts,
    no break and no daily visit limit (the on-call duty is outside the working day)."""
    if not tech.active or (not on_call and WEEKDAY_NAMES[day.weekday()] in (tech.days_off or [])):
        return None
    origin = day_origin(day)
    visits = sorted((v for v in visits if v.status not in GONE_STATES),
                    key=lambda v: (v.route_position if v.route_position is not None else 10 ** 6, v.id))
    frozen = [v for v in visits if v.status in LOCKED_VISIT_STATES]
    remaining = [v for v in visits if v.status not in LOCKED_VISIT_STATES]
    home = Point(tech.home_lat, tech.home_lon)
    t_now = _secs(now, origin) if on_call else max(_secs(now, origin), _hhmm(tech.shift_start))
    position, free_at = home, t_now
    if frozen:
        last = max(frozen, key=lambda v: (v.checkin_at or origin, v.route_position or 0))
        position = Point(last.merchant.lat, last.merchant.lon)
        if last.status == VisitStatus.CHECKED_IN:
            started = _secs(last.checkin_at, origin) if last.checkin_at else t_now
            free_at = max(t_now, started + int(last.service_minutes or 0) * 60)
        elif last.checkout_at is not None:
            free_at = max(t_now, _secs(last.checkout_at, origin))
    bs, be, dur = _hhmm(tech.break_start), _hhmm(tech.break_end), int(tech.break_minutes or 0) * 60
    brk = (Break(TimeWindow(bs, be), dur) if dur > 0 and free_at + dur <= be and not break_started and not on_call
           else None)
    if on_call:
        shift_end, max_visits = DAY + _hhmm(tech.shift_start), len(remaining) + 1
    else:
        shift_end, max_visits = _hhmm(tech.shift_end), max(0, int(tech.max_visits or 0) - len(frozen))
    lt = LiveTech(tech, route, position, free_at, home, shift_end, brk, max_visits, frozen=frozen,
                  remaining=remaining, on_call=on_call)
    lt.stops = [_stop_of(v, day, origin) for v in remaining]
    return lt


def load_live_tech(tech: Technician, day: dt.date, now: dt.datetime, on_call: bool = False) -> Optional[LiveTech]:
    """The rest of ``tech``'s ``day`` as of ``now`` with its ORM route and visits, for changing
    them (None on a day off)."""
    route = db.session.scalars(select(Route).where(Route.technician_id == tech.id, Route.date == day)
                               .options(selectinload(Route.visits).selectinload(Visit.merchant))).first()
    started = bool(route is not None and route.break_start is not None and route.break_start <= now)
    return _build_live_tech(tech, day, now, list(route.visits) if route else [], route, started, on_call)


def _read_day(techs: list[Technician], day: dt.date, now: dt.datetime, on_call: bool) -> list[LiveTech]:
    """The live day of ``techs`` read as plain rows (keeps a 600-stop day fast)."""
    if not techs:
        return []
    q = (select(Route.technician_id, Route.break_start, Visit.id, Visit.kind, Visit.status, Visit.route_position,
                Visit.service_minutes, Visit.deadline, Visit.checkin_at, Visit.checkout_at, Merchant.lat,
                Merchant.lon, Merchant.opening_hours, Merchant.closed_dates)
         .join(Visit, Visit.route_id == Route.id).join(Merchant, Merchant.id == Visit.merchant_id)
         .where(Route.date == day, Route.technician_id.in_([t.id for t in techs]),
                Visit.status.notin_([str(s) for s in GONE_STATES])))
    rows: dict[int, list[_VisitRow]] = {}
    break_started: dict[int, bool] = {}
    for r in db.session.execute(q):
        rows.setdefault(r.technician_id, []).append(_VisitRow(
            r.id, r.kind, r.status, r.route_position, r.service_minutes, r.deadline, r.checkin_at, r.checkout_at,
            _MerchantRow(r.lat, r.lon, r.opening_hours or {}, r.closed_dates or [])))
        break_started[r.technician_id] = r.break_start is not None and r.break_start <= now
    live = [lt for t in techs if (lt := _build_live_tech(t, day, now, rows.get(t.id, []), None,
                                                         break_started.get(t.id, False), on_call)) is not None]
    return [lt for lt in live if not lt.day_over()]  # a technician whose day is over is skipped


def active_technicians(contractor_id: int) -> list[Technician]:
    """The contractor's active technicians, by id."""
    return list(db.session.scalars(select(Technician).where(Technician.contractor_id == contractor_id,
                                                            Technician.active.is_(True)).order_by(Technician.id)))


def load_live_day(contractor_id: int, day: dt.date, now: dt.datetime) -> list[LiveTech]:
    """Every technician of the contractor working ``day`` (personal days off, Fridays and public
    holidays of the contractor's calendars as the day plan counts them) with the rest of their day;
    technicians whose day is over are left out."""
    calendars = contract_calendars(contractor_id, day)
    techs = [t for t in active_technicians(contractor_id) if technician_works(t, day, calendars)]
    return _read_day(techs, day, now, on_call=False)


def load_on_call(contractor_id: int, now: dt.datetime, exclude: set[int] = frozenset()) -> list[LiveTech]:
    """The contractor's on-call technicians outside their shift today (not in ``exclude``, the
    ones still working): free from now until their next shift starts."""
    techs = [t for t in active_technicians(contractor_id) if t.on_call and t.id not in exclude]
    return _read_day(techs, local_today(now), now, on_call=True)


def runs_24x7(call: ServiceCall, day: dt.date) -> bool:
    """Does the call's contract run its clock 7×24 (on-call technicians may take it)?"""
    return due.contract_calendar(call.contract, day).mode == "24x7"


# --------------------------------------------------------------------------- options


@dataclass
class Option:
    """One way to serve the call: technician, day, position among the remaining stops, times."""

    technician_id: int
    technician_name: str
    position: int
    eta: dt.datetime
    arrival: dt.datetime
    added_travel_seconds: int
    sla_met: bool
    late_seconds: int
    displaced_visits: list[int]
    day: Optional[dt.date] = None
    on_call: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"technician_id": self.technician_id, "technician_name": self.technician_name,
                "position": self.position, "eta": self.eta, "arrival": self.arrival,
                "added_travel_seconds": self.added_travel_seconds, "sla_met": self.sla_met,
                "late_seconds": self.late_seconds, "displaced_visits": self.displaced_visits,
                "date": self.day, "on_call": self.on_call}


def call_visit(call: ServiceCall, days: list[tuple[dt.date, int]], base: dt.datetime) -> Optional[PlanVisit]:
    """The new EM visit of ``call`` for the planner: the merchant's windows on each ``(day,
    offset)`` (seconds from ``base``), the SLA deadline from ``base``; None when closed on all."""
    wins: list[TimeWindow] = []
    for day, off in sorted(days, key=lambda d: d[1]):
        w = merchant_windows(call.merchant, day)
        if w is None:
            continue
        wins.extend(TimeWindow(x.start + off, x.end + off) for x in (w or (TimeWindow(0, DAY),)))
    if not wins:
        return None
    if len(days) == 1 and merchant_windows(call.merchant, days[0][0]) == ():
        wins = []  # open any time
    family = call.terminal.family
    return PlanVisit(id=f"call:{call.id}", location=Point(call.merchant.lat, call.merchant.lon),
                     service=due.service_minutes(VisitKind.EM, 1) * 60, time_windows=tuple(wins),
                     skills=frozenset({family}) if family else frozenset(), kind="em",
                     sla_deadline=_secs(call.response_by, base) if call.response_by else None)


def rank_options(call: ServiceCall, groups: list[tuple[dt.date, list[LiveTech]]], base_day: dt.date, limit: int,
                 params: SolveParams | None = None) -> list[Option]:
    """Ranked options over live days ``groups`` (one planner ranking; times from ``base_day``)."""
    base = day_origin(base_day)
    offsets = [(day, _secs(day_origin(day), base)) for day, _ in groups]
    visit = call_visit(call, offsets, base)
    if visit is None:
        return []
    routes: list[LiveRoute] = []
    names: dict[int, str] = {}
    for (day, off), (_day, live) in zip(offsets, groups):
        routes.extend(lt.live_route(off, (day - base_day).days) for lt in live)
        names.update((lt.technician.id, lt.technician.name) for lt in live)
    ranked = em.slot_options(routes, visit, params or SolveParams(), limit=limit)
    return [Option(o.technician_id, names[o.technician_id], o.position, base + dt.timedelta(seconds=o.eta),
                   base + dt.timedelta(seconds=o.arrival), o.added_travel_seconds, o.sla_met, o.late_seconds,
                   [int(v) for v in o.displaced_visits], base_day + dt.timedelta(days=o.day), o.on_call)
            for o in ranked]


def options_for(call: ServiceCall, live: list[LiveTech], day: dt.date, limit: int = 5,
                params: SolveParams | None = None) -> list[Option]:
    """Ranked options for ``call`` in the live day ``live`` of ``day`` (best first)."""
    return rank_options(call, [(day, live)], day, limit, params)


def slot_options(call_id: int, user: User, now: dt.datetime | None = None, limit: int = 5) -> list[Option]:
    """Ranked options to serve the call in today's routes only (see
    :func:`fieldsvc.visits.desk.slot_answer.slot_answer` for the whole answer with later days,
    on-call technicians and the reason of an empty answer)."""
    require_role(user, Role.DISPATCHER, Role.ADMIN)
    call = get_scoped(ServiceCall, call_id, user)
    now = now or utcnow()
    if call.status not in (CallStatus.OPEN, CallStatus.ASSIGNED):
        return []
    day = local_today(now)
    return options_for(call, load_live_day(call.contractor_id, day, now), day, limit)


# --------------------------------------------------------------------------- committing


def _lock_call(call_id: int, user: User) -> ServiceCall:
    q = select(ServiceCall).where(ServiceCall.id == call_id).execution_options(populate_existing=True)
    if db.session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update()
    db.session.execute(q)
    return get_scoped(ServiceCall, call_id, user)


def _write_times(lt: LiveTech, order: list[Visit], timed: Timed, origin: dt.datetime) -> None:
    base = max((v.route_position for v in lt.frozen if v.route_position is not None), default=-1) + 1
    pos = base
    for v, tm in zip(order, timed.times):
        if tm is None:
            continue
        v.route_position = pos
        v.eta = origin + dt.timedelta(seconds=tm.start)
        v.planned_start = v.eta
        v.planned_end = origin + dt.timedelta(seconds=tm.end)
        pos += 1
    for v, tm in zip(order, timed.times):  # still on the route but out of time: keep them last
        if tm is None and v.route_id is not None:
            v.route_position = pos
            pos += 1
    route = lt.route
    if route is not None:
        route.travel_seconds = timed.travel
        route.service_seconds = sum(tm.end - tm.start for tm in timed.times if tm is not None)
        if timed.break_at is not None and lt.break_window:
            route.break_start = origin + dt.timedelta(seconds=timed.break_at)
            route.break_end = route.break_start + dt.timedelta(seconds=lt.break_window.duration)
        route.end_at = origin + dt.timedelta(seconds=timed.end)


def _push_back(v: Visit, actor: Optional[User], why: str) -> None:
    if v.status == VisitStatus.DISPATCHED:
        transition_visit(v, VisitStatus.PLANNED.value, actor=actor, reason=why)
    v.route_id, v.route_position, v.technician_id = None, None, None
    v.eta = v.planned_start = v.planned_end = None
    v.unassigned_reason = why[:200]
    record("displaced", v, actor=actor, reason=why)


def assign_call(call_id: int, technician_id: int, position: Optional[int], actor: User,
                expected_version: Optional[int] = None, now: dt.datetime | None = None,
                day: Optional[dt.date] = None, on_call: bool = False) -> Route:
    """Put the call on ``technician_id``'s route of ``day`` (today by default; ``on_call``: today
    outside the shift) at ``position`` (None: the best one) in one transaction; later ETAs move,
    displaced PM visits go back to the due pool, the call becomes scheduled. 409 CallError when
    someone else changed or assigned the call first."""
    require_role(actor, Role.DISPATCHER, Role.ADMIN)
    now = now or utcnow()
    try:
        route = assign_on_day(call_id, technician_id, position, actor, now, day,
                              expected_version=expected_version, on_call=on_call)
        db.session.commit()
    except (StaleDataError, IntegrityError, OperationalError) as e:
        db.session.rollback()
        if isinstance(e, OperationalError) and "locked" not in str(e).lower():
            raise
        raise CallError(409, "conflict", _("Someone else assigned this call at the same time; reload the page "
                                           "to see who."), "version") from None
    except Exception:
        db.session.rollback()
        raise
    return route


def _check_call(call: ServiceCall, expected_version: Optional[int]) -> None:
    if call.status not in (CallStatus.OPEN, CallStatus.ASSIGNED):
        who = call.technician.name if call.technician else "—"
        raise CallError(409, "already_assigned", _("This call is already %(status)s (technician: %(who)s); "
                                                   "reload the page.", status=call.status, who=who),
                        "status", call_id=call.id)
    if expected_version is not None and call.version != expected_version:
        raise CallError(409, "stale", _("Someone else changed this call meanwhile; reload the page and try "
                                        "again."), "version", call_id=call.id)


def _check_technician(call: ServiceCall, tech: Optional[Technician]) -> Technician:
    if tech is None or tech.contractor_id != call.contractor_id or not tech.active:
        raise CallError(422, "technician", _("Choose an active technician of the call's contractor."),
                        "technician_id")
    family = call.terminal.family
    if family and family not in (tech.skills or []):
        raise CallError(422, "skills", _("%(name)s is not trained for %(family)s terminals.", name=tech.name,
                                         family=family), "technician_id")
    return tech


def _live_for_assign(call: ServiceCall, tech: Technician, day: dt.date, today: dt.date, now: dt.datetime,
                     on_call: bool) -> LiveTech:
    """The technician's live day to put the call on, or the CallError saying why not."""
    if not today <= day <= today + dt.timedelta(days=LOOK_AHEAD_DAYS):
        raise CallError(422, "date", _("Choose a day from today to %(n)s days ahead.", n=LOOK_AHEAD_DAYS), "date")
    if on_call:
        if day != today or not tech.on_call or not runs_24x7(call, day):
            raise CallError(422, "on_call", _("Only today, an on-call technician and a 7×24 contract allow an "
                                              "on-call assignment."), "on_call")
    elif not technician_works(tech, day, contract_calendars(call.contractor_id, day)):
        if day == today:
            raise CallError(422, "day_off", _("%(name)s does not work today.", name=tech.name), "technician_id")
        raise CallError(422, "day_off", _("%(name)s does not work on that day.", name=tech.name), "technician_id")
    lt = load_live_tech(tech, day, now, on_call=on_call)
    if lt is None:
        raise CallError(422, "day_off", _("%(name)s does not work today.", name=tech.name), "technician_id")
    if lt.day_over():
        raise CallError(422, "day_over", _("The working day of %(name)s is over (the shift ends at %(end)s); "
                                           "choose another technician or leave the call for tomorrow's plan.",
                                           name=tech.name, end=tech.shift_end), "technician_id")
    if merchant_windows(call.merchant, day) is None:
        raise CallError(422, "closed", _("The merchant is closed today; pause the call instead.") if day == today
                        else _("The merchant is closed on that day."), "position")
    return lt


def assign_on_day(call_id: int, technician_id: int, position: Optional[int], actor: User, now: dt.datetime,
                  day: Optional[dt.date] = None, expected_version: Optional[int] = None,
                  on_call: bool = False) -> Route:
    """The work of :func:`assign_call` without the commit: the call on ``technician_id``'s route of
    ``day`` (today by default) at ``position`` (None: the best one); a future day's visit is pinned
    to the technician so that day's plan keeps it with them."""
    call = _lock_call(call_id, actor)
    _check_call(call, expected_version)
    tech = _check_technician(call, db.session.get(Technician, technician_id))
    today = local_today(now)
    day = day or today
    origin = day_origin(day)
    q = select(Route).where(Route.technician_id == tech.id, Route.date == day)
    route = db.session.scalars(q.with_for_update() if db.session.get_bind().dialect.name == "postgresql"
                               else q).first()
    lt = _live_for_assign(call, tech, day, today, now, on_call)
    visit_of_call = call_visit(call, [(day, 0)], origin)
    assert visit_of_call is not None  # the merchant is open that day (checked above)
    live = lt.live_route()
    params = SolveParams()
    if position is None:
        best = em.slot_options([live], visit_of_call, params, limit=1)
        if not best:
            raise CallError(422, "no_slot", _("%(name)s has no room for this call today.", name=tech.name)
                            if day == today else _("%(name)s has no room for this call on that day.",
                                                   name=tech.name), "technician_id")
        position = best[0].position
    if not 0 <= position <= len(lt.stops):
        raise CallError(422, "position", _("Position must be between 0 and %(n)s.", n=len(lt.stops)), "position")
    found = em.evaluate(live, visit_of_call, position, params)
    if found is None:
        raise CallError(422, "no_slot", _("This position does not fit %(name)s's day (opening hours, shift, "
                                          "visits a day or another EM call's deadline).", name=tech.name),
                        "position")
    opt, timed = found
    if route is None:
        route = Route(technician_id=tech.id, date=day, start_at=origin + dt.timedelta(seconds=lt.time))
        db.session.add(route)
        db.session.flush()
        lt.route = route
    visit = Visit(kind=VisitKind.EM, status=VisitStatus.PLANNED, merchant_id=call.merchant_id,
                  contractor_id=call.contractor_id, contract_id=call.contract_id, service_call_id=call.id,
                  technician_id=tech.id, route_id=route.id, planned_date=day,
                  service_minutes=visit_of_call.service // 60, deadline=call.response_by, due_date=day,
                  pinned_technician_id=tech.id if day != today else None)
    visit.terminals = [call.terminal]
    db.session.add(visit)
    db.session.flush()
    order = lt.remaining[:position] + [visit] + lt.remaining[position:]
    why = _("Displaced by EM call %(number)s", number=call.tracking_number)
    for v in order:
        if v.id in opt.displaced_visits and v is not visit:
            _push_back(v, actor, why)
    _write_times(lt, order, timed, origin)
    call.technician_id = tech.id
    transition_call(call, CallStatus.SCHEDULED.value, actor=actor, technician_id=tech.id, visit_id=visit.id,
                    eta=visit.eta)
    record("slotted", call, actor=actor, technician_id=tech.id, position=position, eta=visit.eta,
           added_travel_seconds=opt.added_travel_seconds, sla_met=opt.sla_met,
           displaced=list(opt.displaced_visits), date=day.isoformat(), on_call=on_call)
    db.session.flush()
    return route


def refresh_route_times(route_id: int, now: dt.datetime | None = None) -> None:
    """Re-time the not yet started visits of a route in their current order (no commit)."""
    route = db.session.get(Route, route_id)
    if route is None:
        return
    now = now or utcnow()
    lt = load_live_tech(route.technician, route.date, max(now, day_origin(route.date)))
    if lt is None:
        return
    timed = em.retime(lt.live_route(), lt.stops)
    _write_times(lt, lt.remaining, timed, day_origin(route.date))
