"""The penalty ledger: every breach of a period priced by its contract's :class:`PenaltyTerms`.

:func:`recompute_period` is idempotent: the breach ``reference`` (``"call:123:response"``,
``"visit:45:pm"``, ``"visit:46:install"``) is the stable key of a line, so the same inputs never
add rows. A *proposed* line whose breach changed is updated in place (or deleted when the breach
is gone); a *confirmed* line never changes: a difference becomes a new proposed correction line
(``corrects_id`` = the confirmed line, amount = the difference, possibly negative); a *waived*
line stays waived.

Caps (arithmetic in :mod:`fieldsvc.visits.contracts.penalties`): the per-ticket cap groups a call's response
and resolution lines (``call:123``); the monthly cap groups a contractor's lines of one Jalali month
(``PenaltyLine.period``). Lines of the same month outside the recomputed set (another part of the
month computed earlier) use up the monthly cap first.

Only the services here change penalty lines; each change is audited.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from fieldsvc.db import db, utcnow
from fieldsvc.visits import models as m
from fieldsvc.visits.audit import record
from fieldsvc.visits.contracts.penalties import (Breach, BreachKind, Charge, PenaltyTerms, apply_monthly_cap,
                                      apply_ticket_cap, charge, month_key)
from fieldsvc.visits.contracts.versions import version_in_force
from fieldsvc.visits.scope import get_scoped, require_role, scope_clause
from fieldsvc.visits.scorecards.kpis import BreachRow, find_breaches, resolve_filters
from fieldsvc.visits.states import IllegalTransition

__all__ = ["LedgerResult", "recompute_period", "confirm_line", "waive_line", "ticket_key",
           "ledger_lines"]

PS = m.PenaltyStatus


@dataclass
class LedgerResult:
    """What a recompute did (counts of lines)."""

    created: int = 0
    updated: int = 0
    corrections: int = 0
    deleted: int = 0
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.corrections or self.deleted)


def ticket_key(reference: str) -> str:
    """The per-ticket cap group of a line reference: ``"call:123:response"`` → ``"call:123"``."""
    return reference.rsplit(":", 1)[0]


def _charges(breaches: Sequence[BreachRow], used: dict[tuple[int, str], int]) -> dict[str, tuple[BreachRow, Charge]]:
    """Price breaches per contract terms, apply the ticket cap, then the monthly cap (minus
    ``used``: the month's amounts already in the ledger outside this set)."""
    contracts = {c.id: c for c in db.session.scalars(
        select(m.Contract).where(m.Contract.id.in_({b.contract_id for b in breaches})))}
    by_contract: dict[tuple[int, int], list[BreachRow]] = defaultdict(list)
    versions = {}
    for b in breaches:  # the terms in force when the call was reported or the visit was due
        version = version_in_force(contracts[b.contract_id], b.occurred_on)
        versions[(b.contract_id, version.number)] = version
        by_contract[(b.contract_id, version.number)].append(b)
    out: dict[str, tuple[BreachRow, Charge]] = {}
    for key, rows in by_contract.items():
        terms = PenaltyTerms.from_dict(versions[key].penalty_terms)
        charged = [charge(terms, Breach(BreachKind(b.kind), ticket_key(b.reference), b.deadline,
                                        minutes_late=b.minutes_late, days_late=b.days_late,
                                        contractor=b.contractor_id, period=month_key(b.occurred_on)))
                   for b in rows]
        charged = apply_ticket_cap(charged, terms.ticket_cap)
        groups: dict[tuple[int, str], list[int]] = defaultdict(list)
        for i, c in enumerate(charged):
            groups[(c.breach.contractor, c.breach.period)].append(i)
        for g, idx in groups.items():
            cap = None if terms.monthly_cap is None else max(0, terms.monthly_cap - used.get(g, 0))
            capped = apply_monthly_cap([charged[i] for i in idx], cap)
            for i, c in zip(idx, capped):
                charged[i] = c
        for b, c in zip(rows, charged):
            if c.gross > 0:
                out[b.reference] = (b, c)
    return out


def recompute_period(start: dt.date, end: dt.date, *, user: m.User | None,
                     psp_code: str | None = None, contractor_code: str | None = None,
                     now: dt.datetime | None = None, commit: bool = True) -> LedgerResult:
    """Bring the ledger of ``[start, end]`` in line with the breaches (see the module docstring).
    ``user`` None is the command line; otherwise PSP staff or an admin, within their scope."""
    if user is not None:
        require_role(user, m.Role.PSP, m.Role.ADMIN)
    now = now or utcnow()
    psp_id, contractor_ids = resolve_filters(user, psp_code, contractor_code)
    breaches = find_breaches(start, end, user=user, psp_id=psp_id, contractor_ids=contractor_ids, now=now)
    pl = m.PenaltyLine
    stmt = select(pl).where(pl.occurred_on >= start, pl.occurred_on <= end)
    if user is not None:
        stmt = stmt.where(scope_clause(pl, user))
    if psp_id is not None:
        stmt = stmt.where(pl.psp_id == psp_id)
    if contractor_ids is not None:
        stmt = stmt.where(pl.contractor_id.in_(contractor_ids))
    existing: dict[str, list[m.PenaltyLine]] = defaultdict(list)
    for line in db.session.scalars(stmt.order_by(pl.id)):
        existing[line.reference].append(line)
    refs = {b.reference for b in breaches} | set(existing)
    used = _month_used_outside(breaches, refs)
    priced = _charges(breaches, used)
    result = LedgerResult()
    for ref in sorted(refs):
        lines = existing.get(ref, [])
        got = priced.get(ref)
        _reconcile(ref, lines, got, result, user, now)
    record("penalty_recompute", actor=user, object_type="penalty_line", psp_id=psp_id,
           start=start, end=end, created=result.created, updated=result.updated,
           corrections=result.corrections, deleted=result.deleted)
    if commit:
        db.session.commit()
    return result


def _month_used_outside(breaches: Sequence[BreachRow], refs: set[str]) -> dict[tuple[int, str], int]:
    """Per (contractor, month): amounts of non-waived lines of that month not recomputed now."""
    keys = {(b.contractor_id, month_key(b.occurred_on)) for b in breaches}
    if not keys:
        return {}
    pl = m.PenaltyLine
    stmt = (select(pl.contractor_id, pl.period, pl.reference, func.sum(pl.amount_rial))
            .where(pl.status != PS.WAIVED, pl.contractor_id.in_({k[0] for k in keys}),
                   pl.period.in_({k[1] for k in keys}))
            .group_by(pl.contractor_id, pl.period, pl.reference))
    used: dict[tuple[int, str], int] = defaultdict(int)
    for con, period, ref, amount in db.session.execute(stmt):
        if (con, period) in keys and ref not in refs:
            used[(con, period)] += int(amount or 0)
    return used


def _new_line(b: BreachRow, c: Charge, amount: int, corrects: m.PenaltyLine | None = None) -> m.PenaltyLine:
    line = m.PenaltyLine(contract_id=b.contract_id, contractor_id=b.contractor_id, psp_id=b.psp_id,
                         kind=b.kind, reference=b.reference, period=month_key(b.occurred_on),
                         occurred_on=b.occurred_on, service_call_id=b.service_call_id,
                         visit_id=b.visit_id, minutes_late=b.minutes_late or b.days_late * 1440,
                         amount_rial=amount, status=PS.PROPOSED,
                         corrects_id=corrects.id if corrects else None)
    db.session.add(line)
    return line


def _reconcile(ref: str, lines: list[m.PenaltyLine], got: tuple[BreachRow, Charge] | None,
               result: LedgerResult, user: m.User | None, now: dt.datetime) -> None:
    target = got[1].amount if got else 0
    if any(x.status == PS.WAIVED and x.corrects_id is None for x in lines):
        result.unchanged += 1                      # a waived breach stays waived
        return
    originals = [x for x in lines if x.corrects_id is None]
    confirmed = [x for x in lines if x.status == PS.CONFIRMED]
    proposed = [x for x in lines if x.status == PS.PROPOSED]
    if not confirmed:
        if got is None:
            for x in proposed:
                record("penalty_deleted", x, actor=user, reference=ref, amount_rial=x.amount_rial)
                db.session.delete(x)
                result.deleted += 1
            return
        b, c = got
        if not originals:
            _new_line(b, c, target)
            result.created += 1
            return
        line = originals[0]
        minutes = b.minutes_late or b.days_late * 1440
        if (line.amount_rial, line.minutes_late, line.occurred_on, line.kind) != (target, minutes, b.occurred_on, b.kind):
            record("penalty_updated", line, actor=user, reference=ref, old_amount=line.amount_rial,
                   new_amount=target)
            line.amount_rial, line.minutes_late, line.occurred_on, line.kind = target, minutes, b.occurred_on, b.kind
            line.period = month_key(b.occurred_on)
            result.updated += 1
        else:
            result.unchanged += 1
        return
    # A confirmed amount exists: only corrections may move the total.
    settled = sum(x.amount_rial for x in confirmed)
    pending = [x for x in proposed if x.corrects_id is not None]
    diff = target - settled
    if pending:
        line = pending[-1]
        if diff == 0:
            record("penalty_deleted", line, actor=user, reference=ref, amount_rial=line.amount_rial)
            db.session.delete(line)
            result.deleted += 1
        elif line.amount_rial != diff:
            record("penalty_updated", line, actor=user, reference=ref, old_amount=line.amount_rial,
                   new_amount=diff)
            line.amount_rial = diff
            if got:
                line.minutes_late = got[0].minutes_late or got[0].days_late * 1440
            result.updated += 1
        else:
            result.unchanged += 1
        return
    waived_fix = [x for x in lines if x.status == PS.WAIVED and x.corrects_id is not None]
    if diff == 0 or (waived_fix and waived_fix[-1].amount_rial == diff):
        result.unchanged += 1                      # nothing to correct, or this correction was waived
        return
    base = confirmed[0]
    if got is None:
        b = BreachRow(base.contractor_id, base.contract_id, base.psp_id, base.kind, ref, base.occurred_on,
                      now, None, 0, 0, base.service_call_id, base.visit_id)
        c = Charge(Breach(BreachKind(base.kind), ticket_key(ref), base.occurred_on), 0, 0)
    else:
        b, c = got
    line = _new_line(b, c, diff, corrects=base)
    db.session.flush()
    record("penalty_correction", line, actor=user, reference=ref, corrects=base.id, amount_rial=diff)
    result.corrections += 1


def _decide(line_id: int, user: m.User, new: str, reason: str) -> m.PenaltyLine:
    require_role(user, m.Role.PSP, m.Role.ADMIN)
    line = get_scoped(m.PenaltyLine, line_id, user)
    if line.status != PS.PROPOSED:
        raise IllegalTransition("penalty line", line.status, new)
    old = line.status
    line.status, line.reason = new, reason
    line.decided_by_id, line.decided_at = user.id, utcnow()
    record("status", line, actor=user, from_state=str(old), to_state=str(new), reason=reason,
           amount_rial=line.amount_rial, reference=line.reference)
    db.session.commit()
    return line


def confirm_line(line_id: int, user: m.User, reason: str = "") -> m.PenaltyLine:
    """Confirm a proposed line (PSP staff or admin): it never changes again."""
    return _decide(line_id, user, PS.CONFIRMED, reason)


def waive_line(line_id: int, user: m.User, reason: str) -> m.PenaltyLine:
    """Waive a proposed line with a reason (required)."""
    if not (reason or "").strip():
        raise ValueError("a reason is required to waive a penalty")
    return _decide(line_id, user, PS.WAIVED, reason.strip())


def ledger_lines(start: dt.date, end: dt.date, *, user: m.User | None, psp_id: int | None = None,
                 contractor_ids: Sequence[int] | None = None, status: str | None = None,
                 kind: str | None = None) -> list[m.PenaltyLine]:
    """Penalty lines of the period (by ``occurred_on``) within the user's scope, oldest first."""
    pl = m.PenaltyLine
    stmt = select(pl).where(pl.occurred_on >= start, pl.occurred_on <= end)
    if user is not None:
        stmt = stmt.where(scope_clause(pl, user))
    if psp_id is not None:
        stmt = stmt.where(pl.psp_id == psp_id)
    if contractor_ids is not None:
        stmt = stmt.where(pl.contractor_id.in_(contractor_ids))
    if status:
        stmt = stmt.where(pl.status == status)
    if kind:
        stmt = stmt.where(pl.kind == kind)
    return list(db.session.scalars(stmt.order_by(pl.occurred_on, pl.reference, pl.id)))
