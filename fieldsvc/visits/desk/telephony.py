"""Phone system integration: the PSP's Asterisk/Issabel dial plan reports each answered call
(caller number, agent) to a webhook; the caller's number finds the merchant, and the agent sees the
ring on the incoming-calls page with a link to the new-call form pre-filled with that merchant, its
terminals and its open calls.

The webhook is authenticated by a per-PSP token (only its SHA-256 is stored; compared in constant
time against every PSP's, so the token alone names the tenant).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Optional

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from fieldsvc.db import db, utcnow
from fieldsvc.text import normalize_digits, normalize_phone
from fieldsvc.visits.audit import record
from fieldsvc.visits.channel_models import ChannelSetting, IncomingPhoneCall
from fieldsvc.visits.desk.errors import CallError
from fieldsvc.visits.i18n_text import gettext as _
from fieldsvc.visits.master import requesters
from fieldsvc.visits.models import Merchant, Psp, Role, ServiceCall, Terminal, User
from fieldsvc.visits.scope import get_scoped, require_role, scoped
from fieldsvc.visits.states import OPEN_CALL_STATES


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def set_token(psp: Psp) -> str:
    """A new webhook token for the PSP (the old one stops working); returned once; commits."""
    token = secrets.token_urlsafe(32)
    setting = db.session.get(ChannelSetting, psp.id) or ChannelSetting(psp_id=psp.id)
    setting.telephony_token_hash = _digest(token)
    db.session.add(setting)
    record("telephony_token", psp, object_type="psp", psp_id=psp.id)
    db.session.commit()
    return token


def psp_for_token(token: str | None) -> Optional[int]:
    """The PSP whose webhook token this is, or None (every stored digest is compared in constant time)."""
    if not token:
        return None
    given = _digest(token)
    found = None
    for psp_id, digest in db.session.execute(select(ChannelSetting.psp_id, ChannelSetting.telephony_token_hash)
                                             .where(ChannelSetting.telephony_token_hash.is_not(None))):
        if hmac.compare_digest(given, digest):
            found = psp_id
    return found


def register_ring(psp_id: int, caller: str, agent: str, external_id: str | None = None) -> IncomingPhoneCall:
    """Record a ring reported by the phone system (the same ``external_id`` twice is one ring); commits."""
    raw = normalize_digits((caller or "").strip())
    if not raw:
        raise CallError(422, "caller", _("Give the caller's number."), "caller")
    try:
        number = normalize_phone(raw)
    except ValueError:
        raise CallError(422, "caller", _("The caller's number is not an Iranian phone number."), "caller") from None
    agent = (agent or "").strip()
    if not agent or len(agent) > 80:
        raise CallError(422, "agent", _("Give the agent's user name or extension (at most 80 characters)."), "agent")
    external_id = (external_id or "").strip()[:80] or None
    if external_id:
        same = db.session.scalars(select(IncomingPhoneCall).where(
            IncomingPhoneCall.psp_id == psp_id, IncomingPhoneCall.external_id == external_id)).first()
        if same is not None:
            return same
    agent_user = db.session.scalars(select(User).where(
        User.username == agent, User.psp_id == psp_id, User.role == Role.PSP,
        User.is_active_user.is_(True))).first()
    merchants = requesters.merchants_by_phone(number, psp_id)
    ring = IncomingPhoneCall(psp_id=psp_id, caller_raw=raw[:40], caller=number, agent=agent,
                             agent_user_id=agent_user.id if agent_user else None,
                             merchant_id=merchants[0].id if merchants else None, external_id=external_id,
                             received_at=utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(ring)
        db.session.commit()
    except IntegrityError:  # the same ring reported twice at once
        db.session.rollback()
        return db.session.scalars(select(IncomingPhoneCall).where(
            IncomingPhoneCall.psp_id == psp_id, IncomingPhoneCall.external_id == external_id)).one()
    return ring


@dataclass
class RingContext:
    """What the agent needs on screen: who may be calling, their terminals and open calls."""

    ring: IncomingPhoneCall
    merchants: list[Merchant] = field(default_factory=list)
    terminals: list[Terminal] = field(default_factory=list)
    open_calls: list[ServiceCall] = field(default_factory=list)
    designated: bool = True


def context(ring: IncomingPhoneCall) -> RingContext:
    """The merchants the caller's number belongs to (the matched one first), their terminals and
    unfinished calls, and whether the caller may open calls without confirmation."""
    merchants = requesters.merchants_by_phone(ring.caller, ring.psp_id)
    ids = [m.id for m in merchants]
    terminals = list(db.session.scalars(select(Terminal).where(Terminal.merchant_id.in_(ids))
                                        .order_by(Terminal.merchant_id, Terminal.serial))) if ids else []
    calls = list(db.session.scalars(select(ServiceCall).where(
        ServiceCall.merchant_id.in_(ids), ServiceCall.status.in_([str(s) for s in OPEN_CALL_STATES]))
        .order_by(ServiceCall.reported_at.desc()))) if ids else []
    designated = all(requesters.may_open(m.id, ring.caller) for m in merchants)
    return RingContext(ring, merchants, terminals, calls, designated)


def recent_rings(user: User, limit: int = 50) -> list[IncomingPhoneCall]:
    """The latest rings of the user's PSP, newest first."""
    require_role(user, Role.PSP, Role.ADMIN)
    return list(db.session.scalars(scoped(IncomingPhoneCall, user)
                                   .order_by(IncomingPhoneCall.received_at.desc(), IncomingPhoneCall.id.desc())
                                   .limit(limit)))


def get_ring(user: User, ring_id: int) -> IncomingPhoneCall:
    require_role(user, Role.PSP, Role.ADMIN)
    return get_scoped(IncomingPhoneCall, ring_id, user)
