"""Audit trail and state changes: every change of state writes one AuditEvent."""
from __future__ import annotations

from typing import Any, Optional

from fieldsvc.db import db, utcnow
from fieldsvc.visits.models import AuditEvent, ServiceCall, User, Visit
from fieldsvc.visits.states import check_call_transition, check_order_transition, check_visit_transition


def record(action: str, obj: Any = None, *, actor: Optional[User] = None, from_state: str | None = None,
           to_state: str | None = None, object_type: str | None = None, object_id: int | None = None,
           psp_id: int | None = None, contractor_id: int | None = None, **data: Any) -> AuditEvent:
    """Add an AuditEvent to the session (the caller's transaction commits it)."""
    if obj is not None:
        object_type = object_type or obj.__tablename__
        object_id = object_id if object_id is not None else getattr(obj, "id", None)
        psp_id = psp_id if psp_id is not None else getattr(obj, "psp_id", None)
        contractor_id = contractor_id if contractor_id is not None else getattr(obj, "contractor_id", None)
    ev = AuditEvent(at=utcnow(), actor_id=actor.id if actor else None,
                    actor=actor.username if actor else "system", action=action,
                    object_type=object_type or "", object_id=object_id, from_state=from_state,
                    to_state=to_state, psp_id=psp_id, contractor_id=contractor_id,
                    data=_jsonable(data))
    db.session.add(ev)
    return ev


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in data.items():
        if hasattr(v, "isoformat"):
            v = v.isoformat()
        out[k] = v
    return out


def transition_call(call: ServiceCall, new: str, *, actor: Optional[User] = None, **data: Any) -> None:
    """Move a service call to `new` (IllegalTransition if not allowed) and audit it."""
    old = call.status
    check_call_transition(old, new)
    call.status = new
    if call.id is None:
        db.session.flush()
    record("status", call, actor=actor, from_state=str(old), to_state=str(new), **data)


def transition_visit(visit: Visit, new: str, *, actor: Optional[User] = None, **data: Any) -> None:
    """Move a visit to `new` (IllegalTransition if not allowed) and audit it."""
    old = visit.status
    check_visit_transition(old, new)
    visit.status = new
    if visit.id is None:
        db.session.flush()
    record("status", visit, actor=actor, from_state=str(old), to_state=str(new), **data)


def transition_order(order: Any, new: str, *, actor: Optional[User] = None, **data: Any) -> None:
    """Move a work order to `new` (IllegalTransition if not allowed) and audit it."""
    old = order.status
    check_order_transition(old, new)
    order.status = new
    if order.id is None:
        db.session.flush()
    record("status", order, actor=actor, from_state=str(old), to_state=str(new), **data)
