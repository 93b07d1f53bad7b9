"""Check-out outcomes: the list a technician picks from, which visit kinds allow which, and
what each one means for the visit and the EM call.

* ``pm_done`` (PM visits; also ``fixed`` / ``swapped`` on a PM visit) sets the terminals'
  ``last_pm_on`` to the check-out's local date.
* ``fixed``, ``swapped``, ``no_fault_found`` resolve the EM call.
* ``needs_parts``, ``merchant_closed``, ``merchant_refused`` send the EM call back to
  ``assigned`` (a new visit must be planned); ``merchant_closed`` also pauses its SLA clock
  until the merchant's next opening time.
* ``installed`` / ``removed`` finish installation and removal visits.
* The visit ends ``failed`` for ``merchant_closed`` and ``merchant_refused`` (nothing could be
  done on site), ``completed`` otherwise.
"""
from __future__ import annotations

from enum import StrEnum

from flask_babel import lazy_gettext as _l

from fieldsvc.visits.models import VisitKind
from fieldsvc.visits.states import CallStatus, VisitStatus


class Outcome(StrEnum):
    PM_DONE = "pm_done"
    FIXED = "fixed"
    SWAPPED = "swapped"
    NEEDS_PARTS = "needs_parts"
    MERCHANT_CLOSED = "merchant_closed"
    MERCHANT_REFUSED = "merchant_refused"
    NO_FAULT_FOUND = "no_fault_found"
    INSTALLED = "installed"
    REMOVED = "removed"


OUTCOME_LABELS = {
    Outcome.PM_DONE: _l("PM done"),
    Outcome.FIXED: _l("Fixed"),
    Outcome.SWAPPED: _l("Terminal swapped"),
    Outcome.NEEDS_PARTS: _l("Needs parts"),
    Outcome.MERCHANT_CLOSED: _l("Merchant closed"),
    Outcome.MERCHANT_REFUSED: _l("Merchant refused"),
    Outcome.NO_FAULT_FOUND: _l("No fault found"),
    Outcome.INSTALLED: _l("Installed"),
    Outcome.REMOVED: _l("Removed"),
}

_O = Outcome
OUTCOMES_BY_KIND: dict[str, tuple[Outcome, ...]] = {
    VisitKind.PM: (_O.PM_DONE, _O.FIXED, _O.SWAPPED, _O.NEEDS_PARTS, _O.MERCHANT_CLOSED, _O.MERCHANT_REFUSED),
    VisitKind.EM: (_O.FIXED, _O.SWAPPED, _O.NO_FAULT_FOUND, _O.NEEDS_PARTS, _O.MERCHANT_CLOSED,
                   _O.MERCHANT_REFUSED),
    VisitKind.INSTALL: (_O.INSTALLED, _O.SWAPPED, _O.NEEDS_PARTS, _O.MERCHANT_CLOSED, _O.MERCHANT_REFUSED),
    VisitKind.REMOVAL: (_O.REMOVED, _O.MERCHANT_CLOSED, _O.MERCHANT_REFUSED),
}

#: Outcomes after which a PM visit counts as done for its terminals.
PM_DONE_OUTCOMES = frozenset({_O.PM_DONE, _O.FIXED, _O.SWAPPED})
#: Outcomes that resolve an EM call.
RESOLVING_OUTCOMES = frozenset({_O.FIXED, _O.SWAPPED, _O.NO_FAULT_FOUND})
#: Outcomes after which nothing was done on site: the visit fails.
FAILED_OUTCOMES = frozenset({_O.MERCHANT_CLOSED, _O.MERCHANT_REFUSED})


def outcome_label(outcome: str) -> str:
    """The translated label of an outcome."""
    return str(OUTCOME_LABELS[Outcome(outcome)])


def outcomes_for(kind: str) -> tuple[Outcome, ...]:
    """Outcomes a technician may choose for a visit of `kind`."""
    return OUTCOMES_BY_KIND.get(kind, tuple(Outcome))


def visit_status_after(outcome: str) -> VisitStatus:
    """The visit's final status for `outcome`."""
    return VisitStatus.FAILED if Outcome(outcome) in FAILED_OUTCOMES else VisitStatus.COMPLETED


def call_status_after(outcome: str) -> CallStatus:
    """The EM call's status after a visit with `outcome`."""
    return CallStatus.RESOLVED if Outcome(outcome) in RESOLVING_OUTCOMES else CallStatus.ASSIGNED
