"""The support desk tests' world: first-response targets, desk members (tier 1 agent, tier 2
expert, their supervisors) in PSP p1, and a clock frozen at T0 in every desk module."""
from __future__ import annotations

import copy
from datetime import datetime

import pytest

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.desk_models import DeskMember
from tests.calls.conftest import DAY, T0, new_call, tehran  # noqa: F401  (re-exported for the tests)
from tests.factories import DEFAULT_TARGETS, user

#: first response / on site / fix, in working minutes
DESK_TARGETS = copy.deepcopy(DEFAULT_TARGETS)
for _p, _first in (("critical", 30), ("urgent", 60), ("normal", 120)):
    DESK_TARGETS[_p]["first_response_minutes"] = _first


@pytest.fixture
def desk(world):
    """The world plus desk users of PSP p1: agent (tier 1), expert (tier 2), sup1 and sup2
    (supervisors of tiers 1 and 2), with e-mail addresses; contracts with first-response targets."""
    for contract in world.contracts:
        contract.em_targets = copy.deepcopy(DESK_TARGETS)
    p1 = world.psps[0].id
    people = {
        "agent": ("tier1", False), "expert": ("tier2", False), "sup1": ("tier1", True), "sup2": ("tier2", True),
    }
    for name, (tier, supervisor) in people.items():
        u = user(name, "psp", psp_id=p1, email=f"{name}@psp1.example.com", name=name.title(), language="en")
        db.session.flush()
        db.session.add(DeskMember(user_id=u.id, tier=tier, supervisor=supervisor))
        world.users[name] = u
    world.users["dispatcher-c1"].email = "dispatch@c1.example.com"
    db.session.commit()
    return world


@pytest.fixture
def clock(monkeypatch):
    """Freeze the services' clock at T0; call the returned setter to move it."""
    state = {"now": T0}

    def now() -> datetime:
        return state["now"]

    import fieldsvc.visits.audit as audit_mod
    import fieldsvc.visits.desk.alerts as alerts_mod
    import fieldsvc.visits.desk.calls as calls_mod
    import fieldsvc.visits.desk.first_response as first_mod
    import fieldsvc.visits.desk.inbox as inbox_mod
    import fieldsvc.visits.desk.notes as notes_mod
    import fieldsvc.visits.desk.slotting as slot_mod
    import fieldsvc.visits.desk.tiers as tiers_mod
    for mod in (audit_mod, alerts_mod, calls_mod, first_mod, inbox_mod, notes_mod, slot_mod, tiers_mod):
        monkeypatch.setattr(mod, "utcnow", now)

    def set_now(value: datetime) -> None:
        state["now"] = value
    return set_now


def audit(call: m.ServiceCall, action: str | None = None) -> list[m.AuditEvent]:
    q = db.select(m.AuditEvent).where(m.AuditEvent.object_type == "service_call", m.AuditEvent.object_id == call.id)
    if action:
        q = q.where(m.AuditEvent.action == action)
    return list(db.session.scalars(q.order_by(m.AuditEvent.id)))
