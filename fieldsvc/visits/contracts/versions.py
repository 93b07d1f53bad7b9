"""Contract versions with effective dates: which terms are in force, presets, validated amendments.

A contract's terms (SLA targets, calendar, PM intervals, penalties, auto-close, confirmation code)
live in :class:`~fieldsvc.visits.models.ContractVersion` rows. A version runs from its
``effective_from`` until the next version starts. Every SLA clock, KPI and penalty line reads the
version in force when the call was reported or the visit was due (:func:`version_in_force`), so an
amendment, which always starts on a future day, never rewrites a past result.

Contracts made before versions existed (demo data, test factories) have no rows: their own columns
are then their one version, from ``valid_from``.
"""
from __future__ import annotations

import copy
import datetime as dt
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from fieldsvc import config
from fieldsvc.calendar import CalendarSpec
from fieldsvc.db import db
from fieldsvc.visits.audit import record
from fieldsvc.visits.i18n_text import gettext as _
from fieldsvc.visits.contracts.penalties import PenaltyTerms
from fieldsvc.visits.contracts.sla import Priority, SlaTargets
from fieldsvc.visits.models import Contract, ContractVersion, User

__all__ = ["TERM_FIELDS", "PRESETS", "TermsError", "version_in_force", "versions_of", "pm_terms",
           "validate_terms", "preset_terms", "terms_of", "amend", "today_local"]

#: The columns a version carries (the contract's columns of the same names are version 1).
TERM_FIELDS = ("pm_interval_days", "pm_tolerance_days", "pm_intervals", "em_targets", "install_deadline_hours",
               "calendar", "penalty_terms", "geofence_m", "require_confirmation_code", "auto_close_days",
               "type_targets", "reopen_days")
#: Terms only versions carry (the contract's own columns predate them).
VERSION_ONLY_FIELDS = ("pm_intervals", "type_targets")
#: Ticket types that may have their own targets (faults use ``em_targets``).
TYPED_TICKETS = ("change", "information", "installation")

_NO_PENALTIES = PenaltyTerms().to_dict()

#: Starting points for a new contract; every value can be changed before saving.
PRESETS: dict[str, dict[str, Any]] = {
    "business_hours": {
        "pm_interval_days": 90, "pm_tolerance_days": 15, "pm_intervals": {},
        "em_targets": {"critical": {"first_response_minutes": 60, "response_minutes": 240, "resolution_minutes": 480},
                       "urgent": {"first_response_minutes": 120, "response_minutes": 480,
                                  "resolution_minutes": 1440},
                       "normal": {"first_response_minutes": 240, "response_minutes": 960,
                                  "resolution_minutes": 2880},
                       "at_risk_fraction": 0.8},
        "install_deadline_hours": 72, "calendar": CalendarSpec().to_dict(), "penalty_terms": dict(_NO_PENALTIES),
        "geofence_m": 200, "require_confirmation_code": False, "auto_close_days": 3, "reopen_days": 7,
    },
    "24x7": {
        "pm_interval_days": 90, "pm_tolerance_days": 15, "pm_intervals": {},
        "em_targets": {p.value: {"first_response_minutes": 60, "response_minutes": 120, "resolution_minutes": 240}
                       for p in Priority} | {"at_risk_fraction": 0.8},
        "install_deadline_hours": 48, "calendar": CalendarSpec(mode="24x7", iran_holidays=False).to_dict(),
        "penalty_terms": dict(_NO_PENALTIES), "geofence_m": 200, "require_confirmation_code": False,
        "auto_close_days": 3, "reopen_days": 7,
    },
}


class TermsError(ValueError):
    """Contract terms that cannot be saved; ``field`` names the input (dotted path)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def today_local() -> dt.date:
    """Today in the service's time zone (effective dates are local dates)."""
    return dt.datetime.now(ZoneInfo(config.TIMEZONE)).date()


def _local_date(at: dt.date | dt.datetime) -> dt.date:
    if isinstance(at, dt.datetime):
        if at.tzinfo is None:
            at = at.replace(tzinfo=dt.timezone.utc)
        return at.astimezone(ZoneInfo(config.TIMEZONE)).date()
    return at


def _from_columns(contract: Contract) -> ContractVersion:
    """The contract's own terms as a version (not added to the session)."""
    return ContractVersion(contract_id=contract.id, number=1, effective_from=contract.valid_from, preset="",
                           note="", **{f: copy.deepcopy(getattr(contract, f)) if f not in VERSION_ONLY_FIELDS else {}
                                       for f in TERM_FIELDS})


def versions_of(contract: Contract) -> list[ContractVersion]:
    """The contract's versions, oldest first (its own columns when it has none)."""
    rows = sorted(contract.versions, key=lambda v: v.effective_from)
    return rows or [_from_columns(contract)]


def version_in_force(contract: Contract, at: dt.date | dt.datetime) -> ContractVersion:
    """The version of ``contract`` in force at ``at`` (a call's report time, a visit's due date;
    datetimes are read in the service's time zone). Before the first version: the first one."""
    day = _local_date(at)
    versions = versions_of(contract)
    current = versions[0]
    for v in versions:
        if v.effective_from <= day:
            current = v
    return current


def pm_terms(version: ContractVersion, family: str | None = None) -> tuple[int, int]:
    """``(interval_days, tolerance_days)`` of PM for a terminal family under ``version``."""
    special = (version.pm_intervals or {}).get(family or "")
    if special:
        return int(special["interval_days"]), int(special["tolerance_days"])
    return version.pm_interval_days, version.pm_tolerance_days


def preset_terms(name: str) -> dict[str, Any]:
    """A copy of a preset's terms (TermsError naming ``preset`` when unknown)."""
    if name not in PRESETS:
        raise TermsError("preset", f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    return copy.deepcopy(PRESETS[name])


# --------------------------------------------------------------------------- validation


#: Upper bounds of whole-number terms (a year of minutes, ten years of days, …).
_MAX = {"minutes": 525_600, "days": 3_650, "hours": 8_760, "geofence_m": 100_000}


def _positive(data: Mapping[str, Any], key: str, path: str | None = None, *, zero: bool = False) -> int:
    value = data.get(key)
    path = path or key
    if isinstance(value, bool) or not isinstance(value, int):
        raise TermsError(path, _("Must be a whole number, not %(value)s.", value=repr(value)))
    if value < 0 or (value == 0 and not zero):
        raise TermsError(path, _("Must be zero or more, not %(value)s.", value=value) if zero
                         else _("Must be more than zero, not %(value)s.", value=value))
    unit = next((u for u in ("minutes", "days", "hours") if key.endswith(u)), key)
    if value > _MAX.get(unit, 10**9):
        raise TermsError(path, _("Must be at most %(most)s, not %(value)s.", most=_MAX.get(unit, 10**9), value=value))
    return value


def _targets(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise TermsError("em_targets", "give the targets per priority (critical, urgent, normal)")
    unknown = set(raw) - {p.value for p in Priority} - {"at_risk_fraction"}
    if unknown:
        raise TermsError(f"em_targets.{sorted(unknown)[0]}", "unknown priority; use critical, urgent or normal")
    for p in Priority:
        t = raw.get(p.value)
        if not isinstance(t, Mapping):
            raise TermsError(f"em_targets.{p.value}", "give first_response_minutes, response_minutes (on site) "
                                                      "and resolution_minutes (fix)")
        base = f"em_targets.{p.value}"
        on_site = _positive(t, "response_minutes", f"{base}.response_minutes")
        fix = _positive(t, "resolution_minutes", f"{base}.resolution_minutes")
        if t.get("first_response_minutes") is not None:
            first = _positive(t, "first_response_minutes", f"{base}.first_response_minutes")
            if first > on_site:
                raise TermsError(f"{base}.first_response_minutes",
                                 _("The first response (%(first)s min) cannot come after the on-site target "
                                   "(%(on_site)s min).", first=first, on_site=on_site))
        if fix < on_site:
            raise TermsError(f"{base}.resolution_minutes",
                             _("The fix target (%(fix)s min) is shorter than the on-site target (%(on_site)s min).",
                               fix=fix, on_site=on_site))
    fraction = raw.get("at_risk_fraction", 0.8)
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction <= 1:
        raise TermsError("em_targets.at_risk_fraction", f"must be a fraction above 0 and at most 1, got {fraction!r}")
    return SlaTargets.from_dict(raw).to_dict()


def _calendar(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise TermsError("calendar", "give the calendar (mode, hours, holidays)")
    try:
        spec = CalendarSpec.from_dict(raw)
    except Exception as e:  # noqa: BLE001 - any malformed calendar is the caller's input error
        text = str(e)
        field = text.split(":", 1)[0] if ":" in text else ""
        raise TermsError(f"calendar.{field}" if field and " " not in field else "calendar", text) from None
    if spec.mode == "business" and not any(spec.hours):
        raise TermsError("calendar.hours", _("The calendar has no working hours; give at least one day's hours "
                                             "or choose 7×24."))
    return spec.to_dict()


def _penalties(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise TermsError("penalty_terms", "give the penalty amounts in Rial")
    names = set(_NO_PENALTIES)
    for key, value in raw.items():
        if key not in names:
            raise TermsError(f"penalty_terms.{key}", f"unknown penalty term; use {sorted(names)}")
        if value is None and key.endswith("_cap"):
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10**15:
            raise TermsError(f"penalty_terms.{key}", _("Must be zero or more Rial (at most 10^15), not %(value)s.",
                                                        value=repr(value)))
    return PenaltyTerms.from_dict(raw).to_dict()


def _pm_intervals(raw: Any, default_interval: int) -> dict[str, Any]:
    if raw in (None, {}):
        return {}
    if not isinstance(raw, Mapping):
        raise TermsError("pm_intervals", "give {family: {interval_days, tolerance_days}}")
    out = {}
    for family, spec in raw.items():
        base = f"pm_intervals.{family}"
        if not isinstance(spec, Mapping):
            raise TermsError(base, "give interval_days and tolerance_days")
        interval = _positive(spec, "interval_days", f"{base}.interval_days")
        tolerance = _positive(spec, "tolerance_days", f"{base}.tolerance_days", zero=True)
        if tolerance >= interval:
            raise TermsError(f"{base}.tolerance_days", _("Must be shorter than the interval (%(days)s days).",
                                                        days=interval))
        out[str(family).strip().lower()] = {"interval_days": interval, "tolerance_days": tolerance}
    return out


def validate_terms(terms: Mapping[str, Any]) -> dict[str, Any]:
    """Checked, normalised terms (every key of TERM_FIELDS); TermsError names the first bad field."""
    unknown = set(terms) - set(TERM_FIELDS)
    if unknown:
        raise TermsError(sorted(unknown)[0], "unknown contract term")
    missing = [f for f in TERM_FIELDS if f not in terms and f not in (*VERSION_ONLY_FIELDS, "reopen_days")]
    if missing:
        raise TermsError(missing[0], "missing; start from a preset or give every term")
    out: dict[str, Any] = {}
    out["pm_interval_days"] = _positive(terms, "pm_interval_days")
    out["pm_tolerance_days"] = _positive(terms, "pm_tolerance_days", zero=True)
    if out["pm_tolerance_days"] >= out["pm_interval_days"]:
        raise TermsError("pm_tolerance_days", _("Must be shorter than the interval (%(days)s days).",
                                                days=out["pm_interval_days"]))
    out["pm_intervals"] = _pm_intervals(terms.get("pm_intervals"), out["pm_interval_days"])
    out["em_targets"] = _targets(terms["em_targets"])
    out["install_deadline_hours"] = _positive(terms, "install_deadline_hours")
    out["calendar"] = _calendar(terms["calendar"])
    out["penalty_terms"] = _penalties(terms["penalty_terms"])
    out["geofence_m"] = _positive(terms, "geofence_m")
    if not isinstance(terms["require_confirmation_code"], bool):
        raise TermsError("require_confirmation_code", "must be true or false")
    out["require_confirmation_code"] = terms["require_confirmation_code"]
    out["auto_close_days"] = _positive(terms, "auto_close_days")
    out["type_targets"] = _type_targets(terms.get("type_targets"))
    #: terms written before the merchant could reopen calls: a week
    out["reopen_days"] = _positive(terms, "reopen_days", zero=True) if "reopen_days" in terms else 7
    return out


def _type_targets(raw: Any) -> dict[str, Any]:
    """``{ticket type: em_targets}`` for change, information and installation requests."""
    if raw in (None, {}):
        return {}
    if not isinstance(raw, Mapping):
        raise TermsError("type_targets", "give {ticket type: targets per priority}")
    out = {}
    for kind, targets in raw.items():
        if kind not in TYPED_TICKETS:
            raise TermsError(f"type_targets.{kind}", f"unknown ticket type; use {', '.join(TYPED_TICKETS)}")
        try:
            out[kind] = _targets(targets)
        except TermsError as e:
            raise TermsError(f"type_targets.{kind}{e.field.removeprefix('em_targets')}", e.message) from None
    return out


def terms_of(version: ContractVersion | Contract) -> dict[str, Any]:
    """The terms of a version (or a contract's own columns) as a plain dict."""
    out = {f: copy.deepcopy(getattr(version, f, None)) for f in TERM_FIELDS}
    for f in VERSION_ONLY_FIELDS:
        out[f] = out[f] or {}
    return out


# --------------------------------------------------------------------------- amendments


def _materialise_first(contract: Contract) -> None:
    """Give a contract made without versions its version 1 row (its own columns)."""
    if not contract.versions:
        first = _from_columns(contract)
        first.contract = contract
        db.session.add(first)


def amend(contract: Contract, effective_from: dt.date, changes: Mapping[str, Any], actor: User | None,
          note: str = "", *, today: dt.date | None = None, commit: bool = True) -> ContractVersion:
    """A new version of ``contract`` from ``effective_from``: the terms in force before it, with
    ``changes`` applied. It must start after today (what is already measured stays measured),
    after the last version's start (versions follow one another; two cannot start on one day) and
    within the contract's validity. Audited; nothing is written when TermsError is raised."""
    today = today or today_local()
    if not isinstance(effective_from, dt.date) or isinstance(effective_from, dt.datetime):
        raise TermsError("effective_from", _("Give the date the new terms start."))
    if effective_from <= today:
        raise TermsError("effective_from", _("New terms start on a future day (after %(today)s): results already "
                                             "measured keep the terms they were measured with.",
                                             today=today.isoformat()))
    versions = versions_of(contract)
    last = versions[-1]
    if effective_from <= last.effective_from:
        raise TermsError("effective_from", _("This overlaps version %(number)s, which starts on %(day)s; a new "
                                             "version must start after it.", number=last.number,
                                             day=last.effective_from.isoformat()))
    if contract.valid_to is not None and effective_from > contract.valid_to:
        raise TermsError("effective_from", _("This is after the contract ends (%(day)s).",
                                             day=contract.valid_to.isoformat()))
    terms = validate_terms({**terms_of(last), **dict(changes)})
    _materialise_first(contract)
    version = ContractVersion(contract=contract, number=last.number + 1, effective_from=effective_from,
                              note=note, created_by_id=actor.id if actor else None, **terms)
    db.session.add(version)
    db.session.flush()
    record("contract_amended", contract, actor=actor, version=version.number,
           effective_from=effective_from, changed=sorted(k for k in changes if changes[k] != terms_of(last).get(k)))
    if commit:
        db.session.commit()
    return version

