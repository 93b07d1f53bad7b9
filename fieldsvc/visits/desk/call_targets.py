"""The SLA targets of one call: its ticket type's targets in the contract version in force when it
was reported, tightened by the merchant's service tier as it was at opening; and the profile
(type, phase, tier) a call records when it is opened.
"""
from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from fieldsvc import config
from fieldsvc.visits.contracts.service_tiers import phase_on, tier_of, tighter
from fieldsvc.visits.contracts.sla import SlaTargets
from fieldsvc.visits.contracts.versions import version_in_force
from fieldsvc.visits.models import ServiceCall
from fieldsvc.visits.service_models import CallProfile, TicketType

TICKET_TYPE_VALUES = tuple(t.value for t in TicketType)


def _local_day(at: dt.datetime) -> dt.date:
    return at.astimezone(ZoneInfo(config.TIMEZONE)).date()


def ticket_type_of(call: ServiceCall) -> str:
    """The call's ticket type (calls opened before types existed are faults)."""
    profile = getattr(call, "profile", None)
    return profile.ticket_type if profile is not None else TicketType.FAULT.value


def targets_dict(call: ServiceCall) -> dict[str, Any]:
    """em_targets (as a dict) that apply to ``call``."""
    version = version_in_force(call.contract, call.reported_at)
    kind = ticket_type_of(call)
    base = (version.type_targets or {}).get(kind) if kind != TicketType.FAULT else None
    base = dict(base or version.em_targets or {})
    profile = getattr(call, "profile", None)
    return tighter(base, profile.tier_targets if profile is not None else None)


def call_targets(call: ServiceCall) -> SlaTargets:
    """The SlaTargets of ``call`` (type targets of the contract, tightened by the tier)."""
    return SlaTargets.from_dict(targets_dict(call))


def attach_profile(call: ServiceCall, ticket_type: str = TicketType.FAULT.value, **extra: Any) -> CallProfile:
    """Record on a new call (terminal, merchant and report time set) its ticket type, the terminal's
    service phase on the report day and the merchant's tier with its targets."""
    tier = tier_of(call.merchant.id) if call.merchant is not None and call.merchant.id is not None else None
    profile = CallProfile(ticket_type=ticket_type,
                          service_phase=phase_on(call.terminal.id, _local_day(call.reported_at)),
                          tier_code=tier.code if tier else "", tier_targets=dict(tier.em_targets) if tier else {},
                          **extra)
    call.profile = profile
    return profile
