"""Explicit state machines for service calls and visits."""
from __future__ import annotations

from enum import StrEnum


class IllegalTransition(ValueError):
    """A state change the state machine does not allow."""

    def __init__(self, what: str, current: str, new: str) -> None:
        super().__init__(f"Cannot move {what} from '{current}' to '{new}'")
        self.what, self.current, self.new = what, current, new


class CallStatus(StrEnum):
    OPEN = "open"
    ASSIGNED = "assigned"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class VisitStatus(StrEnum):
    PLANNED = "planned"
    DISPATCHED = "dispatched"
    CHECKED_IN = "checked_in"
    COMPLETED = "completed"
    FAILED = "failed"
    MISSED = "missed"
    CANCELLED = "cancelled"


C, V = CallStatus, VisitStatus

CALL_TRANSITIONS: dict[CallStatus, frozenset[CallStatus]] = {
    # open → resolved: fixed remotely at a desk tier (fieldsvc.visits.desk.tiers)
    C.OPEN: frozenset({C.ASSIGNED, C.SCHEDULED, C.IN_PROGRESS, C.RESOLVED, C.CANCELLED}),
    C.ASSIGNED: frozenset({C.SCHEDULED, C.IN_PROGRESS, C.OPEN, C.CANCELLED}),
    C.SCHEDULED: frozenset({C.IN_PROGRESS, C.ASSIGNED, C.OPEN, C.RESOLVED, C.CANCELLED}),
    C.IN_PROGRESS: frozenset({C.RESOLVED, C.ASSIGNED, C.SCHEDULED, C.CANCELLED}),
    C.RESOLVED: frozenset({C.CLOSED, C.OPEN}),
    C.CLOSED: frozenset({C.OPEN}),
    C.CANCELLED: frozenset(),
}

VISIT_TRANSITIONS: dict[VisitStatus, frozenset[VisitStatus]] = {
    V.PLANNED: frozenset({V.DISPATCHED, V.CHECKED_IN, V.MISSED, V.CANCELLED}),
    V.DISPATCHED: frozenset({V.PLANNED, V.CHECKED_IN, V.MISSED, V.CANCELLED}),
    V.CHECKED_IN: frozenset({V.COMPLETED, V.FAILED}),
    V.COMPLETED: frozenset(),
    V.FAILED: frozenset(),
    V.MISSED: frozenset(),
    V.CANCELLED: frozenset(),
}

#: Calls not yet resolved: they count as open work.
OPEN_CALL_STATES = frozenset({C.OPEN, C.ASSIGNED, C.SCHEDULED, C.IN_PROGRESS})
#: Visits whose place in a route must not move when a day is re-planned.
LOCKED_VISIT_STATES = frozenset({V.CHECKED_IN, V.COMPLETED, V.FAILED})
FINAL_VISIT_STATES = frozenset({V.COMPLETED, V.FAILED, V.MISSED, V.CANCELLED})


def check_call_transition(current: str, new: str) -> None:
    """Raise IllegalTransition unless a service call may go from `current` to `new`."""
    if CallStatus(new) not in CALL_TRANSITIONS[CallStatus(current)]:
        raise IllegalTransition("service call", current, new)


def check_visit_transition(current: str, new: str) -> None:
    """Raise IllegalTransition unless a visit may go from `current` to `new`."""
    if VisitStatus(new) not in VISIT_TRANSITIONS[VisitStatus(current)]:
        raise IllegalTransition("visit", current, new)


class OrderStatus(StrEnum):
    OPEN = "open"
    SCHEDULED = "scheduled"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


OS = OrderStatus

#: Work orders (issue 20): a failed order may be opened again (a new visit is made).
ORDER_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OS.OPEN: frozenset({OS.SCHEDULED, OS.CANCELLED}),
    OS.SCHEDULED: frozenset({OS.OPEN, OS.DONE, OS.FAILED, OS.CANCELLED}),
    OS.DONE: frozenset(),
    OS.FAILED: frozenset({OS.OPEN, OS.CANCELLED}),
    OS.CANCELLED: frozenset(),
}
OPEN_ORDER_STATES = frozenset({OS.OPEN, OS.SCHEDULED})


def check_order_transition(current: str, new: str) -> None:
    """Raise IllegalTransition unless a work order may go from `current` to `new`."""
    if OrderStatus(new) not in ORDER_TRANSITIONS[OrderStatus(current)]:
        raise IllegalTransition("work order", current, new)
