"""Contracts as a PSP writes them: create from a preset (version 1), change the parties' details,
deactivate. Terms change only through a new version (:func:`fieldsvc.visits.contracts.versions.amend`).

Admins manage every contract; PSP staff the contracts of their own PSP.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Mapping, Optional

from sqlalchemy import func, or_, select

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.audit import record
from fieldsvc.visits.i18n_text import gettext as _
from fieldsvc.visits.contracts.versions import VERSION_ONLY_FIELDS, TermsError, preset_terms, validate_terms
from fieldsvc.visits.scope import Forbidden, NotFound, get_scoped

WRITERS = ("admin", "psp")


def _may_write(user: m.User) -> None:
    if user.role not in WRITERS:
        raise Forbidden("only administrators and PSP staff change contracts")


def _regions(ids: Any, user: m.User) -> list[m.Region]:
    out = []
    for rid in ids or []:
        try:
            out.append(get_scoped(m.Region, rid, user))
        except NotFound:
            raise TermsError("region_ids", _("Choose regions from the list.")) from None
    return out


def _help_desk(value: Any) -> str:
    """Whose help desk works tiers 1 and 2 of the contract's calls: "psp" or "contractor"."""
    if value not in ("psp", "contractor"):
        raise TermsError("help_desk", _("Choose whose help desk answers the calls first: the payment company's "
                                        "or the contractor's."))
    return str(value)


def create_contract(user: m.User, data: Mapping[str, Any], commit: bool = True) -> m.Contract:
    """A contract and its version 1: ``data`` has code, psp_id, contractor_id, valid_from,
    optional valid_to, kind, region_ids, preset and ``terms`` overriding the preset's."""
    _may_write(user)
    psp_id = user.psp_id if user.role == "psp" else data.get("psp_id")
    try:
        psp = get_scoped(m.Psp, psp_id, user) if psp_id is not None else None
    except NotFound:
        psp = None
    if psp is None:
        raise TermsError("psp_id", _("Choose the payment company."))
    try:  # PSP staff contract contractors the administrator has linked to them
        contractor = get_scoped(m.Contractor, data.get("contractor_id"), user) if data.get("contractor_id") else None
    except NotFound:
        contractor = None
    if contractor is None or not contractor.active:
        raise TermsError("contractor_id", _("Choose an active contractor linked to you by the administrator."))
    code = str(data.get("code") or "").strip()
    if not code:
        raise TermsError("code", _("Give the contract a code."))
    if db.session.scalar(select(func.count()).select_from(m.Contract)
                         .where(or_(m.Contract.code == code, func.lower(m.Contract.code) == code.lower()))):
        raise TermsError("code", _("%(value)s is already used; choose another.", value=code))
    valid_from, valid_to = data.get("valid_from"), data.get("valid_to")
    if not isinstance(valid_from, dt.date):
        raise TermsError("valid_from", _("Give the date the contract starts."))
    if valid_to is not None and valid_to < valid_from:
        raise TermsError("valid_to", _("The contract cannot end before it starts."))
    kind = data.get("kind", m.ContractKind.UC)
    if kind not in {k.value for k in m.ContractKind}:
        raise TermsError("kind", "choose uc (a contractor) or ola (an internal team)")
    help_desk = _help_desk(data.get("help_desk", "psp"))
    preset = data.get("preset") or "business_hours"
    terms = validate_terms({**preset_terms(preset), **dict(data.get("terms") or {})})
    regions = _regions(data.get("region_ids"), user)
    contract = m.Contract(code=code, psp=psp, contractor=contractor, valid_from=valid_from, valid_to=valid_to,
                          kind=kind, help_desk=help_desk, regions=regions,
                          **{k: v for k, v in terms.items() if k not in VERSION_ONLY_FIELDS})
    db.session.add(contract)
    version = m.ContractVersion(contract=contract, number=1, effective_from=valid_from, preset=preset,
                                created_by_id=user.id, **terms)
    db.session.add(version)
    db.session.flush()
    record("created", contract, actor=user, preset=preset, kind=kind)
    if commit:
        db.session.commit()
    return contract


def update_contract(user: m.User, contract: m.Contract, data: Mapping[str, Any], commit: bool = True) -> m.Contract:
    """Change what is not a term: regions, end date, kind, active flag. Terms: add a version."""
    _may_write(user)
    fields: list[str] = []
    if "region_ids" in data:
        contract.regions = _regions(data["region_ids"], user)
        fields.append("region_ids")
    if "valid_to" in data:
        valid_to: Optional[dt.date] = data["valid_to"]
        if valid_to is not None and valid_to < contract.valid_from:
            raise TermsError("valid_to", _("The contract cannot end before it starts."))
        contract.valid_to = valid_to
        fields.append("valid_to")
    if "kind" in data:
        if data["kind"] not in {k.value for k in m.ContractKind}:
            raise TermsError("kind", "choose uc or ola")
        contract.kind = data["kind"]
        fields.append("kind")
    if "active" in data:
        contract.active = bool(data["active"])
        fields.append("active")
    if "help_desk" in data:
        contract.help_desk = _help_desk(data["help_desk"])
        fields.append("help_desk")
    record("updated", contract, actor=user, fields=fields)
    if commit:
        db.session.commit()
    return contract
