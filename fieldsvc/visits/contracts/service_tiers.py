"""Service tiers of merchants (gold, silver) and the warranty / paid phases of terminals.

A tier's targets tighten the contract's: for each priority and each clock the SLA uses the smaller
number of minutes (:func:`tighter`). A terminal's phase on a day is the phase row covering it
(:func:`phase_on`). PSP staff manage their own PSP's tiers and terminals; administrators all.
Every change is audited; bad input raises :class:`TierError` naming the field, nothing written.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

from sqlalchemy import select

from fieldsvc.db import db
from fieldsvc.text import normalize_code
from fieldsvc.visits import models as m
from fieldsvc.visits.audit import record
from fieldsvc.visits.contracts.sla import Priority
from fieldsvc.visits.i18n_text import gettext as _
from fieldsvc.visits.scope import Forbidden, NotFound, get_scoped
from fieldsvc.visits.service_models import MerchantTier, ServicePhase, ServiceTier, TerminalPhase

CLOCKS = ("first_response_minutes", "response_minutes", "resolution_minutes")
_MAX_MINUTES = 525_600


class TierError(ValueError):
    """Input that cannot be saved; ``field`` names it; ``status`` is the HTTP status to answer."""

    def __init__(self, field: str, message: str, status: int = 422) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message, self.status = field, message, status


def _may_write(user: m.User) -> None:
    if user.role not in (m.Role.ADMIN, m.Role.PSP):
        raise Forbidden("only administrators and PSP staff manage tiers and phases")


# --------------------------------------------------------------------------- targets


def validate_tier_targets(raw: Any) -> dict[str, dict[str, int]]:
    """``{priority: {clock: minutes}}`` with any subset of priorities and clocks."""
    if not isinstance(raw, Mapping) or not raw:
        raise TierError("em_targets", _("Give the targets per priority, e.g. "
                                        "{\"critical\": {\"response_minutes\": 60}}."))
    out: dict[str, dict[str, int]] = {}
    for prio, clocks in raw.items():
        if prio not in {p.value for p in Priority}:
            raise TierError(f"em_targets.{prio}", _("Unknown priority; use critical, urgent or normal."))
        if not isinstance(clocks, Mapping) or not clocks:
            raise TierError(f"em_targets.{prio}", _("Give response_minutes and/or resolution_minutes."))
        out[prio] = {}
        for clock, minutes in clocks.items():
            path = f"em_targets.{prio}.{clock}"
            if clock not in CLOCKS:
                raise TierError(path, _("Unknown target; use %(names)s.", names=", ".join(CLOCKS)))
            if isinstance(minutes, bool) or not isinstance(minutes, int) or not 0 < minutes <= _MAX_MINUTES:
                raise TierError(path, _("Must be a whole number of minutes above zero, not %(value)s.",
                                        value=repr(minutes)))
            out[prio][clock] = minutes
    return out


def tighter(contract_targets: Mapping[str, Any], tier_targets: Mapping[str, Any] | None) -> dict[str, Any]:
    """The contract's em_targets with every clock the tier sets lowered to the tier's minutes (the
    tighter of the two). Keeps the order first response ≤ on site ≤ fix."""
    out = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in contract_targets.items()}
    for prio, clocks in (tier_targets or {}).items():
        base = out.get(prio)
        if not isinstance(base, dict):
            continue
        for clock, minutes in clocks.items():
            if base.get(clock) is None or minutes < base[clock]:
                base[clock] = minutes
        if base["resolution_minutes"] < base["response_minutes"]:
            base["response_minutes"] = base["resolution_minutes"]
        if base.get("first_response_minutes") and base["first_response_minutes"] > base["response_minutes"]:
            base["first_response_minutes"] = base["response_minutes"]
    return out


# --------------------------------------------------------------------------- tiers


def _psp_id(user: m.User, psp_id: Any) -> int:
    if user.role == m.Role.PSP:
        return user.psp_id
    try:
        return get_scoped(m.Psp, psp_id, user).id
    except (NotFound, TypeError, ValueError):
        raise TierError("psp_id", _("Choose the payment company.")) from None


def create_tier(user: m.User, data: Mapping[str, Any]) -> ServiceTier:
    """A new tier of the user's PSP (``code``, ``name``, ``em_targets``); commits."""
    _may_write(user)
    psp_id = _psp_id(user, data.get("psp_id"))
    code = normalize_code(str(data.get("code") or "")).lower()
    if not code:
        raise TierError("code", _("Give the tier a code, e.g. gold."))
    name = str(data.get("name") or "").strip()[:120]
    if not name:
        raise TierError("name", _("Give the tier a name."))
    targets = validate_tier_targets(data.get("em_targets"))
    if db.session.scalar(select(ServiceTier.id).where(ServiceTier.psp_id == psp_id, ServiceTier.code == code)):
        raise TierError("code", _("%(value)s is already used; choose another.", value=code), 409)
    tier = ServiceTier(psp_id=psp_id, code=code, name=name, em_targets=targets)
    db.session.add(tier)
    db.session.flush()
    record("created", tier, actor=user, code=code, em_targets=targets)
    db.session.commit()
    return tier


def get_tier(user: m.User, tier_id: int) -> ServiceTier:
    _may_write(user)
    tier = db.session.get(ServiceTier, tier_id)
    if tier is None or (user.role != m.Role.ADMIN and tier.psp_id != user.psp_id):
        raise NotFound("ServiceTier", tier_id)
    return tier


def update_tier(user: m.User, tier: ServiceTier, data: Mapping[str, Any]) -> ServiceTier:
    """Change a tier's name, targets or active flag (calls already opened keep their targets)."""
    _may_write(user)
    changes: dict[str, Any] = {}
    if "name" in data:
        name = str(data.get("name") or "").strip()[:120]
        if not name:
            raise TierError("name", _("Give the tier a name."))
        tier.name = changes["name"] = name
    if "em_targets" in data:
        tier.em_targets = changes["em_targets"] = validate_tier_targets(data["em_targets"])
    if "active" in data:
        tier.active = changes["active"] = bool(data["active"])
    record("updated", tier, actor=user, **changes)
    db.session.commit()
    return tier


def list_tiers(user: m.User) -> list[ServiceTier]:
    q = select(ServiceTier).order_by(ServiceTier.psp_id, ServiceTier.code)
    if user.role != m.Role.ADMIN:
        q = q.where(ServiceTier.psp_id == user.psp_id)
    return list(db.session.scalars(q))


def set_merchant_tier(user: m.User, merchant_id: int, tier_id: int | None) -> MerchantTier | None:
    """Put a merchant in a tier of its PSP (``tier_id`` None: no tier); commits."""
    _may_write(user)
    try:
        merchant = get_scoped(m.Merchant, merchant_id, user)
    except NotFound:
        raise TierError("merchant_id", _("No such merchant among yours."), 404) from None
    row = db.session.get(MerchantTier, merchant.id)
    old = row.tier.code if row else None
    if tier_id is None:
        if row is not None:
            db.session.delete(row)
        record("tier_changed", merchant, actor=user, old=old, new=None)
        db.session.commit()
        return None
    tier = db.session.get(ServiceTier, tier_id)
    if tier is None or tier.psp_id != merchant.psp_id or not tier.active:
        raise TierError("tier_id", _("Choose an active tier of the merchant's payment company."))
    if row is None:
        row = MerchantTier(merchant_id=merchant.id, tier_id=tier.id)
        db.session.add(row)
    else:
        row.tier_id = tier.id
    record("tier_changed", merchant, actor=user, old=old, new=tier.code)
    db.session.commit()
    return row


def tier_of(merchant_id: int) -> ServiceTier | None:
    """The merchant's active tier, or None."""
    return db.session.scalars(select(ServiceTier).join(MerchantTier, MerchantTier.tier_id == ServiceTier.id)
                              .where(MerchantTier.merchant_id == merchant_id, ServiceTier.active.is_(True))).first()


# --------------------------------------------------------------------------- phases


def phase_on(terminal_id: int, day: dt.date) -> str:
    """``warranty``, ``paid`` or ``none``: the terminal's phase on ``day``."""
    row = db.session.scalars(select(TerminalPhase).where(
        TerminalPhase.terminal_id == terminal_id, TerminalPhase.starts_on <= day)
        .order_by(TerminalPhase.starts_on.desc())).first()
    if row is None or (row.ends_on is not None and row.ends_on < day):
        return ServicePhase.NONE.value
    return row.phase


def phases_of(terminal_id: int) -> list[TerminalPhase]:
    return list(db.session.scalars(select(TerminalPhase).where(TerminalPhase.terminal_id == terminal_id)
                                   .order_by(TerminalPhase.starts_on)))


def _date(value: Any, field: str, required: bool = True) -> dt.date | None:
    if value is None and not required:
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise TierError(field, _("Give a date as YYYY-MM-DD."))


def set_phases(user: m.User, terminal_id: int, phases: Any) -> list[TerminalPhase]:
    """Replace a terminal's phases with ``phases`` ([{phase, starts_on, ends_on}], in any order;
    they may not overlap); audited; commits. Calls already opened keep the phase they recorded."""
    _may_write(user)
    try:
        terminal = get_scoped(m.Terminal, terminal_id, user)
    except NotFound:
        raise TierError("terminal_id", _("No such terminal among yours."), 404) from None
    if not isinstance(phases, list):
        raise TierError("phases", _("Give a list of phases."))
    rows = []
    for i, p in enumerate(phases):
        where = f"phases[{i}]"
        if not isinstance(p, Mapping):
            raise TierError(where, _("Give phase, starts_on and ends_on."))
        phase = p.get("phase")
        if phase not in (ServicePhase.WARRANTY, ServicePhase.PAID):
            raise TierError(f"{where}.phase", _("Choose warranty or paid."))
        starts = _date(p.get("starts_on"), f"{where}.starts_on")
        ends = _date(p.get("ends_on"), f"{where}.ends_on", required=False)
        if ends is not None and starts is not None and ends < starts:
            raise TierError(f"{where}.ends_on", _("The phase cannot end before it starts."))
        rows.append((starts, ends, str(phase), where))
    rows.sort(key=lambda r: r[0])
    for (_s1, e1, _p1, _w1), (s2, _e2, _p2, w2) in zip(rows, rows[1:]):
        if e1 is None or e1 >= s2:
            raise TierError(f"{w2}.starts_on", _("The phases overlap: one phase must end before the next starts."))
    for old in phases_of(terminal.id):
        db.session.delete(old)
    db.session.flush()
    out = [TerminalPhase(terminal_id=terminal.id, phase=p, starts_on=s, ends_on=e) for s, e, p, _w in rows]
    db.session.add_all(out)
    record("phases_changed", terminal, actor=user,
           phases=[{"phase": p, "starts_on": s.isoformat(), "ends_on": e.isoformat() if e else None}
                   for s, e, p, _w in rows])
    db.session.commit()
    return out
