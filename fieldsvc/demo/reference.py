"""The fixed cast of the demo: two PSPs, four contractors, their contracts and the regions they cover.

Contracts differ on purpose (PM interval and tolerance, EM targets, calendar, penalties, geofence)
so scorecards and penalties have something to compare. Each PSP covers every region once; the two
PSPs split the city between different contractors, so their regions overlap.
"""
from __future__ import annotations

from dataclasses import dataclass

from fieldsvc.calendar import CalendarSpec
from fieldsvc.visits.contracts.penalties import PenaltyTerms
from fieldsvc.visits.contracts.sla import PriorityTarget, SlaTargets


@dataclass(frozen=True)
class PspDef:
    code: str
    name: str
    name_fa: str
    #: Share of the demo's merchants held by this PSP.
    share: float


@dataclass(frozen=True)
class ContractorDef:
    code: str
    name: str
    name_fa: str
    depot: tuple[float, float]


@dataclass(frozen=True)
class ContractDef:
    code: str
    psp: str
    contractor: str
    regions: tuple[str, ...]
    pm_interval_days: int
    pm_tolerance_days: int
    targets: SlaTargets
    calendar: CalendarSpec
    penalties: PenaltyTerms
    geofence_m: int
    install_deadline_hours: int
    require_confirmation_code: bool
    auto_close_days: int


PSPS: tuple[PspDef, ...] = (
    PspDef("arya", "Arya Pay", "آریا پرداخت", 0.55),
    PspDef("nikan", "Nikan Card", "نیکان کارت", 0.45),
)

CONTRACTORS: tuple[ContractorDef, ...] = (
    ContractorDef("alborz", "Alborz Support", "پشتیبانی البرز", (35.7290, 51.3990)),
    ContractorDef("damavand", "Damavand Services", "خدمات دماوند", (35.7050, 51.4810)),
    ContractorDef("zagros", "Zagros Technic", "زاگرس فن", (35.7560, 51.4460)),
    ContractorDef("sahand", "Sahand Network", "شبکه سهند", (35.6900, 51.3570)),
)

_IRAN_WEEK = CalendarSpec()
_LONG_WEEK = CalendarSpec(hours={d: [("08:00", "18:00")] for d in ("sat", "sun", "mon", "tue", "wed")}
                          | {"thu": [("08:00", "14:00")]})
_HALF_PAST = CalendarSpec(hours={d: [("08:30", "17:30")] for d in ("sat", "sun", "mon", "tue", "wed")}
                          | {"thu": [("08:30", "13:00")]})

CONTRACTS: tuple[ContractDef, ...] = (
    ContractDef(
        "arya-alborz-1405", "arya", "alborz", ("thr-c", "thr-n", "thr-w"),
        pm_interval_days=90, pm_tolerance_days=15,
        targets=SlaTargets(PriorityTarget(120, 480), PriorityTarget(240, 960), PriorityTarget(480, 1920)),
        calendar=_IRAN_WEEK,
        penalties=PenaltyTerms(late_response_per_hour=500_000, late_resolution_per_hour=1_000_000,
                               missed_pm=2_000_000, late_pm_per_day=200_000, late_install_per_day=1_000_000,
                               ticket_cap=20_000_000, monthly_cap=500_000_000),
        geofence_m=200, install_deadline_hours=72, require_confirmation_code=False, auto_close_days=3),
    ContractDef(
        "arya-damavand-1405", "arya", "damavand", ("thr-e", "thr-s"),
        pm_interval_days=60, pm_tolerance_days=10,
        targets=SlaTargets(PriorityTarget(90, 360), PriorityTarget(180, 720), PriorityTarget(360, 1440)),
        calendar=CalendarSpec.always(),
        penalties=PenaltyTerms(late_response_per_hour=400_000, late_resolution_per_hour=800_000,
                               missed_pm=1_500_000, late_pm_per_day=150_000, late_install_per_day=800_000,
                               ticket_cap=15_000_000, monthly_cap=400_000_000),
        geofence_m=200, install_deadline_hours=48, require_confirmation_code=True, auto_close_days=2),
    ContractDef(
        "nikan-zagros-1405", "nikan", "zagros", ("thr-n", "thr-e"),
        pm_interval_days=120, pm_tolerance_days=20,
        targets=SlaTargets(PriorityTarget(180, 600), PriorityTarget(300, 1200), PriorityTarget(600, 2400)),
        calendar=_LONG_WEEK,
        penalties=PenaltyTerms(late_response_per_hour=600_000, late_resolution_per_hour=1_200_000,
                               missed_pm=2_500_000, late_pm_per_day=250_000, late_install_per_day=1_200_000,
                               ticket_cap=25_000_000, monthly_cap=600_000_000),
        geofence_m=300, install_deadline_hours=96, require_confirmation_code=False, auto_close_days=3),
    ContractDef(
        "nikan-sahand-1405", "nikan", "sahand", ("thr-c", "thr-w", "thr-s"),
        pm_interval_days=90, pm_tolerance_days=10,
        targets=SlaTargets(PriorityTarget(120, 420), PriorityTarget(240, 900), PriorityTarget(480, 1800)),
        calendar=_HALF_PAST,
        penalties=PenaltyTerms(late_response_per_hour=450_000, late_resolution_per_hour=900_000,
                               missed_pm=1_800_000, late_pm_per_day=180_000, late_install_per_day=900_000,
                               ticket_cap=18_000_000, monthly_cap=450_000_000),
        geofence_m=150, install_deadline_hours=72, require_confirmation_code=False, auto_close_days=4),
)


def contract_for(psp_code: str, region_code: str) -> ContractDef:
    """The one contract of ``psp_code`` that covers ``region_code``."""
    for c in CONTRACTS:
        if c.psp == psp_code and region_code in c.regions:
            return c
    raise LookupError(f"no demo contract of {psp_code} covers {region_code}")


#: Terminal models per family: (model, weight). Families are the technicians' skills.
TERMINAL_MODELS: dict[str, tuple[tuple[str, float], ...]] = {
    "pax": (("PAX S90", 3.0), ("PAX S910", 2.0), ("PAX D210", 1.0)),
    "verifone": (("Verifone VX520", 3.0), ("Verifone V240m", 1.5), ("Verifone VX675", 1.0)),
    "ingenico": (("Ingenico iWL220", 2.0), ("Ingenico Move5000", 2.0), ("Ingenico iCT220", 1.0)),
}
FAMILY_SHARE: dict[str, float] = {"pax": 0.45, "verifone": 0.30, "ingenico": 0.25}
SERIAL_PREFIX: dict[str, str] = {"pax": "PX", "verifone": "VF", "ingenico": "IN"}
