"""Slotting an EM call into today's live routes, and committing the dispatcher's choice.

The live day is read from the database: each working technician's :class:`Route` of today with
its visits in ``route_position`` order. Visits checked in or finished are frozen (the technician
is at the last of them, busy until its service ends; else at home), the rest can move. The
planner's exhaustive insertion (:func:`fieldsvc.planner.em.slot_options`) proposes positions;
each candidate is then re-timed here with the technician's break, and options that would push
another EM call out of the route are dropped. Ranking: SLA met first, then least lateness, then
added travel, then displaced PM visits.

:func:`assign_call` commits one option in a single transaction: the EM visit on the route, every
later ETA, displaced PM visits back to the due pool and the call scheduled. Two dispatchers
racing for one call: the row lock (``SELECT … FOR UPDATE`` on PostgreSQL) and the call's
optimistic version make exactly one win; the other gets a 409 :class:`CallError`.
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
from fieldsvc.planner.em import LiveRoute, LiveStop, slot_options as planner_slot_options
from fieldsvc.planner.matrix import travel_seconds
from fieldsvc.planner.params import SolveParams
from fieldsvc.planner.problem import Point, TimeWindow
from fieldsvc.planner.problem import Visit as PlanVisit
from fieldsvc.visits.plans import due
from fieldsvc.visits.audit import record, transition_call, transition_visit
from fieldsvc.visits.desk.errors import CallError
from fieldsvc.visits.models import Merchant, Role, Route, ServiceCall, Technician, User, Visit, VisitKind
from fieldsvc.visits.scope import get_scoped, require_role
from fieldsvc.visits.states import CallStatus, LOCKED_VISIT_STATES, VisitStatus

DAY = 24 * 3600
#: Visits no longer on the day's plan at all.
GONE_STATES = frozenset({VisitStatus.MISSED, VisitStatus.CANCELLED})
#: How many planner candidates are re-timed with breaks before the final ranking.
RETIME_CANDIDATES = 40


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


# --------------------------------------------------------------------------- the live day


@dataclass
class SimStop:
    """A stop to time: visit id (None for the new call), place, service, windows, EM deadline."""

    visit_id: Optional[int]
    location: Point
    service: int
    windows: tuple[TimeWindow, ...] = ()
    kind: str = "pm"
    deadline: Optional[int] = None


@dataclass
class LiveTech:
    """One technician's remaining day, in seconds from local midnight."""

    technician: Technician
    route: Optional[Route]
    position: Point
    time: int
    home: Point
    shift_end: int
    break_window: Optional[tuple[int, int, int]]  # (earliest start, latest end, duration)
    max_visits: int
    stops: list[SimStop] = field(default_factory=list)
    frozen: list[Visit] = field(default_factory=list)
    remaining: list[Visit] = field(default_factory=list)

    def day_over(self, params: SolveParams | None = None) -> bool:
        """True when the shift is over, or the work under way and the way home reach its end: the
        technician takes no new call today (as a re-plan leaves them out, see planner.day_over)."""
        profile = self.live_route().profile
        return self.time + travel_seconds(self.position, self.home, profile, params or SolveParams()) >= self.shift_end

    def live_route(self) -> LiveRoute:
        """The planner's view of this remainder of the day."""
        return LiveRoute(
            technician_id=self.technician.id, position=self.position, time=self.time,
            stops=tuple(LiveStop(s.visit_id, s.location, s.service, s.windows, s.deadline) for s in self.stops),
            frozen=0, end=self.home, shift_end=self.shift_end, skills=frozenset(self.technician.skills or []),
            profile=self.technician.vehicle if self.technician.vehicle in SolveParams().speeds_mps else "car",
            max_visits=self.max_visits)


def _stop_of(v: Visit, day: dt.date, origin: dt.datetime) -> SimStop:
    wins = merchant_windows(v.merchant, day)
    return SimStop(v.id, Point(v.merchant.lat, v.merchant.lon), int(v.service_minutes or 0) * 60,
                   wins or (), str(v.kind),
                   _secs(v.deadline, origin) if v.kind == VisitKind.EM and v.deadline else None)


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
                     route: Optional[Route], break_started: bool) -> Optional[LiveTech]:
    if WEEKDAY_NAMES[day.weekday()] in (tech.days_off or []) or not tech.active:
        return None
    origin = day_origin(day)
    visits = sorted((v for v in visits if v.status not in GONE_STATES),
                    key=lambda v: (v.route_position if v.route_position is not None else 10 ** 6, v.id))
    frozen = [v for v in visits if v.status in LOCKED_VISIT_STATES]
    remaining = [v for v in visits if v.status not in LOCKED_VISIT_STATES]
    home = Point(tech.home_lat, tech.home_lon)
    t_now = max(_secs(now, origin), _hhmm(tech.shift_start))
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
    brk = (bs, be, dur) if dur > 0 and free_at + dur <= be and not break_started else None
    lt = LiveTech(tech, route, position, free_at, home, _hhmm(tech.shift_end), brk,
                  max(0, int(tech.max_visits or 0) - len(frozen)), frozen=frozen, remaining=remaining)
    lt.stops = [_stop_of(v, day, origin) for v in remaining]
    return lt


def load_live_tech(tech: Technician, day: dt.date, now: dt.datetime) -> Optional[LiveTech]:
    """The rest of ``tech``'s ``day`` as of ``now`` with its ORM route and visits, for changing
    them (None on a day off)."""
    route = db.session.scalars(select(Route).where(Route.technician_id == tech.id, Route.date == day)
                               .options(selectinload(Route.visits).selectinload(Visit.merchant))).first()
    started = bool(route is not None and route.break_start is not None and route.break_start <= now)
    return _build_live_tech(tech, day, now, list(route.visits) if route else [], route, started)


def load_live_day(contractor_id: int, day: dt.date, now: dt.datetime) -> list[LiveTech]:
    """Every working technician of the contractor with the rest of their ``day`` (read only: the
    visits are plain rows, which keeps a 600-stop day fast)."""
    techs = db.session.scalars(select(Technician).where(Technician.contractor_id == contractor_id,
                                                        Technician.active.is_(True))
                               .order_by(Technician.id)).all()
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
                                                         break_started.get(t.id, False))) is not None]
    return [lt for lt in live if not lt.day_over()]  # a technician whose day is over is skipped


# --------------------------------------------------------------------------- timing with breaks


def _fit(arr: int, windows: tuple[TimeWindow, ...]) -> Optional[int]:
    if not windows:
        return arr
    for w in windows:
        if arr <= w.end:
            return max(arr, w.start)
    return None


@dataclass
class Timing:
    """Times of one stop in a re-timed route (None when the stop no longer fits)."""

    arrival: int
    start: int
    end: int
    travel: int


@dataclass
class Timed:
    """A re-timed route: per stop its timing or None (displaced); totals."""

    times: list[Optional[Timing]]
    travel: int
    end: int
    break_at: Optional[int]


def retime(lt: LiveTech, stops: list[SimStop], params: SolveParams | None = None) -> Timed:
    """Forward timing of ``stops`` from the technician's position and time: waiting for opening
    windows; the break is taken as late as possible (before the first stop that would end after the
    break's latest start, waiting for its window if need be), so calls come before lunch; stops past
    every window or the shift are displaced."""
    params = params or SolveParams()
    profile = lt.live_route().profile
    t, here, travel = lt.time, lt.position, 0
    brk = lt.break_window
    break_at: Optional[int] = None
    out: list[Optional[Timing]] = []
    for s in stops:
        leg = travel_seconds(here, s.location, profile, params)
        if brk and break_at is None:
            bs, be, dur = brk
            start_guess = _fit(t + leg, s.windows)
            if start_guess is not None and start_guess + s.service > be - dur:
                break_at = max(t, bs)
                t = break_at + dur
        arr = t + leg
        st = _fit(arr, s.windows)
        if st is None or st + s.service > lt.shift_end:
            out.append(None)
            continue
        out.append(Timing(arr, st, st + s.service, leg))
        t, here, travel = st + s.service, s.location, travel + leg
    back = travel_seconds(here, lt.home, profile, params)
    return Timed(out, travel + back, t + back, break_at)


# --------------------------------------------------------------------------- options


@dataclass
class Option:
    """One way to serve the call: technician, position among the remaining stops, times."""

    technician_id: int
    technician_name: str
    position: int
    eta: dt.datetime
    arrival: dt.datetime
    added_travel_seconds: int
    sla_met: bool
    late_seconds: int
    displaced_visits: list[int]

    def as_dict(self) -> dict[str, Any]:
        return {"technician_id": self.technician_id, "technician_name": self.technician_name,
                "position": self.position, "eta": self.eta, "arrival": self.arrival,
                "added_travel_seconds": self.added_travel_seconds, "sla_met": self.sla_met,
                "late_seconds": self.late_seconds, "displaced_visits": self.displaced_visits}


def _rank(o: Option) -> tuple:
    return (not o.sla_met, o.late_seconds, o.added_travel_seconds, len(o.displaced_visits), o.eta)


def call_stop(call: ServiceCall, day: dt.date) -> SimStop:
    """The new EM visit of ``call`` as a stop of ``day`` (None windows = merchant closed)."""
    origin = day_origin(day)
    wins = merchant_windows(call.merchant, day)
    return SimStop(None, Point(call.merchant.lat, call.merchant.lon), due.service_minutes(VisitKind.EM, 1) * 60,
                   wins or (), "em", _secs(call.response_by, origin))


def _evaluate(lt: LiveTech, new: SimStop, position: int, base: Timed, origin: dt.datetime,
              params: SolveParams) -> Optional[Option]:
    order = lt.stops[:position] + [new] + lt.stops[position:]
    timed = retime(lt, order, params)
    mine = timed.times[position]
    if mine is None:
        return None
    was_out = {s.visit_id for s, tm in zip(lt.stops, base.times) if tm is None}
    displaced: list[int] = []
    for s, tm in zip(order, timed.times):
        if s is new or tm is not None or s.visit_id in was_out:
            continue
        if s.kind != VisitKind.PM:
            return None  # never push another EM call (or an installation) out of the day
        displaced.append(int(s.visit_id))
    if len(order) - len(displaced) - len(was_out) > lt.max_visits:
        return None
    # another EM stop that met its deadline before must still meet it
    before = {s.visit_id: tm for s, tm in zip(lt.stops, base.times)}
    for s, tm in zip(order, timed.times):
        if s is new or tm is None or s.deadline is None:
            continue
        old = before.get(s.visit_id)
        if old is not None and old.start <= s.deadline < tm.start:
            return None
    late = max(0, mine.start - new.deadline) if new.deadline is not None else 0
    return Option(lt.technician.id, lt.technician.name, position,
                  origin + dt.timedelta(seconds=mine.start), origin + dt.timedelta(seconds=mine.arrival),
                  max(0, timed.travel - base.travel), late == 0, late, displaced)


def options_for(call: ServiceCall, live: list[LiveTech], day: dt.date, limit: int = 5,
                params: SolveParams | None = None) -> list[Option]:
    """Ranked options for ``call`` in the live day ``live`` (best first)."""
    params = params or SolveParams()
    new = call_stop(call, day)
    if merchant_windows(call.merchant, day) is None:
        return []
    origin = day_origin(day)
    family = call.terminal.family
    pv = PlanVisit(id=f"call:{call.id}", location=new.location, service=new.service, time_windows=new.windows,
                   skills=frozenset({family}) if family else frozenset(), kind="em", sla_deadline=new.deadline)
    by_id = {lt.technician.id: lt for lt in live}
    candidates = planner_slot_options([lt.live_route() for lt in live], pv, params, limit=None)
    bases: dict[int, Timed] = {}
    seen: set[tuple[int, int]] = set()
    out: list[Option] = []
    for cand in candidates:
        if len(out) >= RETIME_CANDIDATES:
            break
        key = (cand.technician_id, cand.position)
        if key in seen:
            continue
        seen.add(key)
        lt = by_id[cand.technician_id]
        if lt.technician.id not in bases:
            bases[lt.technician.id] = retime(lt, lt.stops, params)
        opt = _evaluate(lt, new, cand.position, bases[lt.technician.id], origin, params)
        if opt is not None:
            out.append(opt)
    out.sort(key=_rank)
    best_per_tech: list[Option] = []
    techs: set[int] = set()
    for o in out:  # the best few technicians first, then further positions
        if o.technician_id not in techs:
            techs.add(o.technician_id)
            best_per_tech.append(o)
    rest = [o for o in out if o not in best_per_tech]
    return (best_per_tech + rest)[:limit]


def slot_options(call_id: int, user: User, now: dt.datetime | None = None, limit: int = 5) -> list[Option]:
    """Ranked options to serve the call today, for a dispatcher (or admin) who may see it."""
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
            route.break_end = route.break_start + dt.timedelta(seconds=lt.break_window[2])
        route.end_at = origin + dt.timedelta(seconds=timed.end)


def _push_back(v: Visit, actor: Optional[User], why: str) -> None:
    if v.status == VisitStatus.DISPATCHED:
        transition_visit(v, VisitStatus.PLANNED.value, actor=actor, reason=why)
    v.route_id, v.route_position, v.technician_id = None, None, None
    v.eta = v.planned_start = v.planned_end = None
    v.unassigned_reason = why[:200]
    record("displaced", v, actor=actor, reason=why)


def assign_call(call_id: int, technician_id: int, position: Optional[int], actor: User,
                expected_version: Optional[int] = None, now: dt.datetime | None = None) -> Route:
    """Put the call on ``technician_id``'s route of today at ``position`` (None: the best one) in one
    transaction; later ETAs move, displaced PM visits go back to the due pool, the call becomes
    scheduled. 409 CallError when someone else changed or assigned the call first."""
    require_role(actor, Role.DISPATCHER, Role.ADMIN)
    now = now or utcnow()
    try:
        route = _assign(call_id, technician_id, position, actor, expected_version, now)
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


def _assign(call_id: int, technician_id: int, position: Optional[int], actor: User,
            expected_version: Optional[int], now: dt.datetime, day: Optional[dt.date] = None) -> Route:
    call = _lock_call(call_id, actor)
    if call.status not in (CallStatus.OPEN, CallStatus.ASSIGNED):
        who = call.technician.name if call.technician else "—"
        raise CallError(409, "already_assigned", _("This call is already %(status)s (technician: %(who)s); "
                                                   "reload the page.", status=call.status, who=who),
                        "status", call_id=call.id)
    if expected_version is not None and call.version != expected_version:
        raise CallError(409, "stale", _("Someone else changed this call meanwhile; reload the page and try "
                                        "again."), "version", call_id=call.id)
    tech = db.session.get(Technician, technician_id)
    if tech is None or tech.contractor_id != call.contractor_id or not tech.active:
        raise CallError(422, "technician", _("Choose an active technician of the call's contractor."),
                        "technician_id")
    family = call.terminal.family
    if family and family not in (tech.skills or []):
        raise CallError(422, "skills", _("%(name)s is not trained for %(family)s terminals.", name=tech.name,
                                         family=family), "technician_id")
    day = day or local_today(now)
    origin = day_origin(day)
    route = db.session.scalars(select(Route).where(Route.technician_id == tech.id, Route.date == day)
                               .with_for_update() if db.session.get_bind().dialect.name == "postgresql"
                               else select(Route).where(Route.technician_id == tech.id, Route.date == day)).first()
    lt = load_live_tech(tech, day, now)
    if lt is None:
        raise CallError(422, "day_off", _("%(name)s does not work today.", name=tech.name), "technician_id")
    if lt.day_over():
        raise CallError(422, "day_over", _("The working day of %(name)s is over (the shift ends at %(end)s); "
                                           "choose another technician or leave the call for tomorrow's plan.",
                                           name=tech.name, end=tech.shift_end), "technician_id")
    if merchant_windows(call.merchant, day) is None:
        raise CallError(422, "closed", _("The merchant is closed today; pause the call instead."), "position")
    new = call_stop(call, day)
    base = retime(lt, lt.stops)
    if position is None:
        opts = [o for p in range(len(lt.stops) + 1) if (o := _evaluate(lt, new, p, base, origin, SolveParams()))]
        if not opts:
            raise CallError(422, "no_slot", _("%(name)s has no room for this call today.", name=tech.name),
                            "technician_id")
        position = min(opts, key=_rank).position
    if not 0 <= position <= len(lt.stops):
        raise CallError(422, "position", _("Position must be between 0 and %(n)s.", n=len(lt.stops)), "position")
    opt = _evaluate(lt, new, position, base, origin, SolveParams())
    if opt is None:
        raise CallError(422, "no_slot", _("This position does not fit %(name)s's day (opening hours, shift, "
                                          "visits a day or another EM call's deadline).", name=tech.name),
                        "position")
    if route is None:
        route = Route(technician_id=tech.id, date=day, start_at=origin + dt.timedelta(seconds=lt.time))
        db.session.add(route)
        db.session.flush()
        lt.route = route
    visit = Visit(kind=VisitKind.EM, status=VisitStatus.PLANNED, merchant_id=call.merchant_id,
                  contractor_id=call.contractor_id, contract_id=call.contract_id, service_call_id=call.id,
                  technician_id=tech.id, route_id=route.id, planned_date=day,
                  service_minutes=new.service // 60, deadline=call.response_by, due_date=day)
    visit.terminals = [call.terminal]
    db.session.add(visit)
    db.session.flush()
    order = lt.remaining[:position] + [visit] + lt.remaining[position:]
    stops = lt.stops[:position] + [new] + lt.stops[position:]
    timed = retime(lt, stops)
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
           displaced=list(opt.displaced_visits))
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
    timed = retime(lt, lt.stops)
    _write_times(lt, lt.remaining, timed, day_origin(route.date))
