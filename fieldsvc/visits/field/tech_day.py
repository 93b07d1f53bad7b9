"""A technician's day as the phone shows it: the stops of the day in route order, and the plain
dict of one visit that the page and the API both use."""
from __future__ import annotations

from datetime import date
from typing import Any, Optional

from sqlalchemy import or_
from sqlalchemy.orm import selectinload

from fieldsvc.db import db
from fieldsvc.visits.field import outcomes as vo
from fieldsvc.visits.field.checkin import geofence_m, requires_confirmation_code
from fieldsvc.visits.field.checklists import phone_checklists
from fieldsvc.visits.models import Route, ServiceCall, Technician, User, Visit
from fieldsvc.visits.scope import require_role, scoped
from fieldsvc.visits.states import VisitStatus

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HIDDEN = (VisitStatus.CANCELLED,)


def day_visits(user: User, day: date) -> tuple[Optional[Technician], Optional[Route], list[Visit]]:
    """The logged-in technician, their route of `day` and its visits in order (visits planned
    for that day outside the route come after, by ETA)."""
    require_role(user, "technician")
    tech = db.session.get(Technician, user.technician_id) if user.technician_id else None
    route = db.session.scalars(scoped(Route, user).where(Route.date == day)).first()
    clause = Visit.planned_date == day
    if route is not None:
        clause = or_(Visit.route_id == route.id, clause)
    visits = db.session.scalars(
        scoped(Visit, user).where(clause, Visit.status.notin_(HIDDEN))
        .options(selectinload(Visit.merchant), selectinload(Visit.terminals),
                 selectinload(Visit.service_call).selectinload(ServiceCall.contract),
                 selectinload(Visit.photos), selectinload(Visit.contract))).all()
    visits.sort(key=lambda v: (v.route_id is None or (route is not None and v.route_id != route.id),
                               v.route_position if v.route_position is not None else 10**6,
                               v.eta or v.planned_start or v.deadline or v.created_at, v.id))
    return tech, route, visits


def hours_on(opening_hours: dict | None, day: date) -> list[list[str]]:
    """The merchant's opening intervals on `day` (e.g. [["09:00","13:00"],["16:30","21:00"]])."""
    return list((opening_hours or {}).get(WEEKDAYS[day.weekday()], []))


def visit_dict(visit: Visit) -> dict[str, Any]:
    """Everything the phone needs about one visit (JSON-ready apart from datetimes)."""
    m, call = visit.merchant, visit.service_call
    return {
        "id": visit.id, "kind": visit.kind, "status": visit.status, "planned_date": visit.planned_date,
        "route_position": visit.route_position, "eta": visit.eta, "deadline": _deadline(visit),
        "geofence_m": geofence_m(visit), "requires_confirmation_code": requires_confirmation_code(visit),
        "outcomes": [str(o) for o in vo.outcomes_for(visit.kind)],
        "merchant": {"id": m.id, "name": m.name, "address": m.address, "phone": m.phone,
                     "lat": m.lat, "lon": m.lon, "opening_hours": m.opening_hours or {}},
        "terminals": [{"serial": t.serial, "model": t.model, "status": t.status} for t in visit.terminals],
        "checklists": phone_checklists(visit, "en"),
        "service_call": None if call is None else {
            "id": call.id, "tracking_number": call.tracking_number, "priority": call.priority,
            "status": call.status, "symptom_code": call.symptom_code, "symptom_text": call.symptom_text,
            "response_by": call.response_by, "resolution_by": call.resolution_by,
            "responded_at": call.responded_at, "resolved_at": call.resolved_at},
        "checkin": None if visit.checkin_at is None else {
            "at": visit.checkin_at, "received_at": visit.checkin_received_at, "lat": visit.checkin_lat,
            "lon": visit.checkin_lon, "accuracy_m": visit.checkin_accuracy_m, "fix_at": visit.checkin_fix_at,
            "distance_m": visit.checkin_distance_m, "verified": bool(visit.checkin_verified),
            "flags": list(visit.checkin_flags or []), "reason": visit.checkin_reason},
        "checkout": None if visit.checkout_at is None else {
            "at": visit.checkout_at, "received_at": visit.checkout_received_at, "outcome": visit.outcome,
            "notes": visit.notes, "parts_used": list(visit.parts_used or []),
            "consumables_used": dict(visit.consumables_used or {}), "old_serial": visit.old_serial,
            "new_serial": visit.new_serial, "merchant_confirmed": visit.merchant_confirmed,
            "flags": list(visit.checkout_flags or []), "reason": visit.checkout_reason,
            "photos": [{"id": p.id, "content_type": p.content_type, "size_bytes": p.size_bytes}
                       for p in visit.photos]},
    }


def _deadline(visit: Visit):
    if visit.deadline is not None:
        return visit.deadline
    return visit.service_call.resolution_by if visit.service_call is not None else None
