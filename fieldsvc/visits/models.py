"""ORM tables of the domain (DESIGN §3). Times are aware UTC, money integer Rial, distances metres."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, Optional

from sqlalchemy import (JSON, BigInteger, Boolean, Column, Date, Float, ForeignKey, Integer, String,
                        Table, Text, UniqueConstraint, event)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, validates
from werkzeug.security import check_password_hash, generate_password_hash

from fieldsvc.db import UTCDateTime, db, utcnow
from fieldsvc.text import phone_key
from fieldsvc.visits.states import CallStatus, VisitStatus

Model = db.Model


class Role(StrEnum):
    ADMIN = "admin"
    PSP = "psp"
    DISPATCHER = "dispatcher"
    TECHNICIAN = "technician"


class VisitKind(StrEnum):
    PM = "pm"
    EM = "em"
    INSTALL = "install"
    REMOVAL = "removal"


class Channel(StrEnum):
    PHONE = "phone"
    PORTAL = "portal"
    EMAIL = "email"
    WEB = "web"
    MONITORING = "monitoring"  # opened by a terminal health event (issue 23)


class Vehicle(StrEnum):
    MOTORBIKE = "motorbike"
    CAR = "car"


class TerminalStatus(StrEnum):
    ACTIVE = "active"
    FAULTY = "faulty"
    REMOVED = "removed"
    IN_STOCK = "in_stock"
    SCRAPPED = "scrapped"


class PenaltyStatus(StrEnum):
    PROPOSED = "proposed"
    CONFIRMED = "confirmed"
    WAIVED = "waived"


class ContractKind(StrEnum):
    UC = "uc"    # underpinning contract: a PSP and an outside contractor
    OLA = "ola"  # operational-level agreement: an internal team measured by the same rules


class PlanStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


def _enum(e: type[StrEnum], length: int = 20) -> String:
    return String(length)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Psp(TimestampMixin, Model):
    """A payment company that owns terminals and contracts contractors."""

    __tablename__ = "psp"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_fa: Mapped[str] = mapped_column(String(200), default="")
    #: Deactivated instead of deleted: history points to it.
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Contractor(TimestampMixin, Model):
    """A support company whose technicians visit merchants."""

    __tablename__ = "contractor"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_fa: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    depot_lat: Mapped[Optional[float]] = mapped_column(Float)
    depot_lon: Mapped[Optional[float]] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    technicians: Mapped[list["Technician"]] = relationship(back_populates="contractor")
    contracts: Mapped[list["Contract"]] = relationship(back_populates="contractor")


class Region(Model):
    """A service area (a county or a district); contracts cover regions."""

    __tablename__ = "region"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_fa: Mapped[str] = mapped_column(String(200), default="")
    center_lat: Mapped[Optional[float]] = mapped_column(Float)
    center_lon: Mapped[Optional[float]] = mapped_column(Float)
    #: Optional GeoJSON geometry of the area.
    geometry: Mapped[Optional[dict]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


contract_region = Table(
    "contract_region", Model.metadata,
    Column("contract_id", ForeignKey("contract.id", ondelete="CASCADE"), primary_key=True),
    Column("region_id", ForeignKey("region.id", ondelete="CASCADE"), primary_key=True),
)


class Contract(TimestampMixin, Model):
    """The PSP–contractor OLA: what is to be done, how fast, in which calendar, at what penalty."""

    __tablename__ = "contract"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    psp_id: Mapped[int] = mapped_column(ForeignKey("psp.id"), index=True)
    contractor_id: Mapped[int] = mapped_column(ForeignKey("contractor.id"), index=True)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[Optional[date]] = mapped_column(Date)
    pm_interval_days: Mapped[int] = mapped_column(Integer, default=90)
    pm_tolerance_days: Mapped[int] = mapped_column(Integer, default=15)
    #: SlaTargets.to_dict(): EM response/resolution minutes per priority.
    em_targets: Mapped[dict] = mapped_column(JSON, default=dict)
    install_deadline_hours: Mapped[int] = mapped_column(Integer, default=72)
    #: CalendarSpec.to_dict(): working hours, weekend, holidays, time zone.
    calendar: Mapped[dict] = mapped_column(JSON, default=dict)
    #: PenaltyTerms.to_dict(): amounts in Rial and caps.
    penalty_terms: Mapped[dict] = mapped_column(JSON, default=dict)
    geofence_m: Mapped[int] = mapped_column(Integer, default=200)
    require_confirmation_code: Mapped[bool] = mapped_column(Boolean, default=False)
    auto_close_days: Mapped[int] = mapped_column(Integer, default=3)
    reopen_days: Mapped[int] = mapped_column(Integer, default=7, server_default="7")
    #: "uc" (PSP and contractor) or "ola" (an internal team): same rules, reported side by side.
    kind: Mapped[str] = mapped_column(_enum(ContractKind, 8), default=ContractKind.UC)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Whose help desk staffs tiers 1 and 2 of the calls ("psp" or "contractor", issue 21).
    help_desk: Mapped[str] = mapped_column(String(12), default="psp", server_default="psp")

    psp: Mapped[Psp] = relationship()
    contractor: Mapped[Contractor] = relationship(back_populates="contracts")
    regions: Mapped[list[Region]] = relationship(secondary=contract_region)
    versions: Mapped[list["ContractVersion"]] = relationship(
        back_populates="contract", order_by="ContractVersion.effective_from")


class ContractVersion(Model):
    """The terms of a contract from one date on; an amendment is a new version, never an edit.

    The contract's own columns keep the terms as first signed; `fieldsvc.visits.contracts.versions`
    picks the version in force for a call's report time or a visit's due date."""

    __tablename__ = "contract_version"
    __table_args__ = (UniqueConstraint("contract_id", "effective_from"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"), index=True)
    number: Mapped[int] = mapped_column(Integer, default=1)
    effective_from: Mapped[date] = mapped_column(Date)
    #: Preset the terms started from ("business_hours", "24x7"), for display only.
    preset: Mapped[str] = mapped_column(String(32), default="")
    pm_interval_days: Mapped[int] = mapped_column(Integer, default=90)
    pm_tolerance_days: Mapped[int] = mapped_column(Integer, default=15)
    #: Per terminal family: {"pax": {"interval_days": 60, "tolerance_days": 10}}; others use the above.
    pm_intervals: Mapped[dict] = mapped_column(JSON, default=dict)
    #: SlaTargets.to_dict(): first-response, on-site and fix minutes per priority.
    em_targets: Mapped[dict] = mapped_column(JSON, default=dict)
    install_deadline_hours: Mapped[int] = mapped_column(Integer, default=72)
    calendar: Mapped[dict] = mapped_column(JSON, default=dict)
    penalty_terms: Mapped[dict] = mapped_column(JSON, default=dict)
    geofence_m: Mapped[int] = mapped_column(Integer, default=200)
    require_confirmation_code: Mapped[bool] = mapped_column(Boolean, default=False)
    auto_close_days: Mapped[int] = mapped_column(Integer, default=3)
    #: Per ticket type other than faults: {"change": {em_targets by priority}, ...}; missing = em_targets.
    type_targets: Mapped[dict] = mapped_column(JSON, default=dict)
    #: Days after resolution during which the merchant may reopen the call on the tracking page.
    reopen_days: Mapped[int] = mapped_column(Integer, default=7, server_default="7")
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    contract: Mapped[Contract] = relationship(back_populates="versions")


class Merchant(TimestampMixin, Model):
    """A shop with one or more terminals of one PSP."""

    __tablename__ = "merchant"
    __table_args__ = (UniqueConstraint("psp_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    psp_id: Mapped[int] = mapped_column(ForeignKey("psp.id"), index=True)
    region_id: Mapped[Optional[int]] = mapped_column(ForeignKey("region.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(400), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    #: ``phone`` in canonical form (:func:`fieldsvc.text.normalize_phone`; None when it is not a
    #: number): an incoming call finds its merchant by an index, not by scanning every phone
    phone_key: Mapped[Optional[str]] = mapped_column(String(16), index=True)
    email: Mapped[str] = mapped_column(String(200), default="")
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(5), default="fa")
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    #: Opening hours per weekday: {"sat": [["09:00","13:00"],["16:30","21:00"]], ..., "fri": []}.
    opening_hours: Mapped[dict] = mapped_column(JSON, default=dict)
    #: Extra closed dates (ISO strings), e.g. the merchant's own holidays.
    closed_dates: Mapped[list] = mapped_column(JSON, default=list)
    #: Groups merchants in one building into one stop when they share it.
    building_key: Mapped[Optional[str]] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    psp: Mapped[Psp] = relationship()
    region: Mapped[Optional[Region]] = relationship()
    terminals: Mapped[list["Terminal"]] = relationship(back_populates="merchant")

    @validates("phone")
    def _keep_phone_key(self, _key: str, phone: str) -> str:
        self.phone_key = phone_key(phone)
        return phone


class Terminal(TimestampMixin, Model):
    """A card terminal installed at a merchant (or in stock)."""

    __tablename__ = "terminal"
    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(64), unique=True)
    model: Mapped[str] = mapped_column(String(64))
    #: Model family; a technician needs it as a skill (e.g. "pax", "verifone", "ingenico").
    family: Mapped[str] = mapped_column(String(32), index=True)
    merchant_id: Mapped[Optional[int]] = mapped_column(ForeignKey("merchant.id"), index=True)
    psp_id: Mapped[int] = mapped_column(ForeignKey("psp.id"), index=True)
    status: Mapped[str] = mapped_column(_enum(TerminalStatus), default=TerminalStatus.ACTIVE)
    installed_on: Mapped[Optional[date]] = mapped_column(Date)
    last_pm_on: Mapped[Optional[date]] = mapped_column(Date)

    merchant: Mapped[Optional[Merchant]] = relationship(back_populates="terminals")
    psp: Mapped[Psp] = relationship()


class Technician(TimestampMixin, Model):
    """A contractor's field technician: the vehicle of the routing problem."""

    __tablename__ = "technician"
    __table_args__ = (UniqueConstraint("contractor_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    contractor_id: Mapped[int] = mapped_column(ForeignKey("contractor.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(32), default="")
    home_lat: Mapped[float] = mapped_column(Float)
    home_lon: Mapped[float] = mapped_column(Float)
    shift_start: Mapped[str] = mapped_column(String(5), default="08:00")
    shift_end: Mapped[str] = mapped_column(String(5), default="17:00")
    break_start: Mapped[str] = mapped_column(String(5), default="12:30")
    break_end: Mapped[str] = mapped_column(String(5), default="14:30")
    break_minutes: Mapped[int] = mapped_column(Integer, default=30)
    skills: Mapped[list] = mapped_column(JSON, default=list)
    vehicle: Mapped[str] = mapped_column(_enum(Vehicle), default=Vehicle.MOTORBIKE)
    max_visits: Mapped[int] = mapped_column(Integer, default=16)
    #: Weekday names the technician does not work ("fri" always off unless listed in workdays).
    days_off: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: On call: takes EM calls of 7x24 contracts outside the shift (evenings, days off, holidays)
    #: until the next shift starts; see fieldsvc.visits.desk.slotting.
    on_call: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Last known position (from check-ins), for re-planning a day under way.
    last_lat: Mapped[Optional[float]] = mapped_column(Float)
    last_lon: Mapped[Optional[float]] = mapped_column(Float)
    last_seen_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    contractor: Mapped[Contractor] = relationship(back_populates="technicians")


class ServiceCall(TimestampMixin, Model):
    """An EM ticket: a merchant's terminal is down."""

    __tablename__ = "service_call"
    id: Mapped[int] = mapped_column(primary_key=True)
    tracking_number: Mapped[str] = mapped_column(String(20), unique=True)
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminal.id"), index=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id"), index=True)
    psp_id: Mapped[int] = mapped_column(ForeignKey("psp.id"), index=True)
    contractor_id: Mapped[int] = mapped_column(ForeignKey("contractor.id"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"), index=True)
    channel: Mapped[str] = mapped_column(_enum(Channel), default=Channel.PHONE)
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    symptom_code: Mapped[str] = mapped_column(String(32))
    symptom_text: Mapped[str] = mapped_column(Text, default="")
    #: who reported the failure (the merchant's staff on the phone), as typed by the PSP desk
    caller_name: Mapped[str] = mapped_column(String(120), default="")
    caller_phone: Mapped[str] = mapped_column(String(32), default="")
    photo_path: Mapped[Optional[str]] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(_enum(CallStatus), default=CallStatus.OPEN, index=True)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    response_by: Mapped[datetime] = mapped_column(UTCDateTime)
    resolution_by: Mapped[datetime] = mapped_column(UTCDateTime)
    responded_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    resolved_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    closed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    #: Working minutes from report to technician on site / to resolution, in the contract calendar.
    response_minutes: Mapped[Optional[int]] = mapped_column(Integer)
    resolution_minutes: Mapped[Optional[int]] = mapped_column(Integer)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    paused_seconds: Mapped[int] = mapped_column(Integer, default=0)
    technician_id: Mapped[Optional[int]] = mapped_column(ForeignKey("technician.id"), index=True)
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    survey_score: Mapped[Optional[int]] = mapped_column(Integer)
    survey_comment: Mapped[str] = mapped_column(Text, default="")
    survey_token: Mapped[Optional[str]] = mapped_column(String(64), unique=True)
    confirmation_code: Mapped[Optional[str]] = mapped_column(String(12))
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    #: Optimistic lock: two dispatchers assigning the same call at once cannot both win.
    version: Mapped[int] = mapped_column(Integer, default=1)
    #: The support desk (issue 21, fieldsvc.visits.desk.tiers): tier1, tier2 or field; the named
    #: colleague it was handed to; the first-response clock; how a remote fix was coded.
    tier: Mapped[str] = mapped_column(String(10), default="tier1", server_default="tier1", index=True)
    assignee_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), index=True)
    first_response_by: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    first_responded_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    first_response_minutes: Mapped[Optional[int]] = mapped_column(Integer)
    #: the tier that made the first response (tier1, tier2; field when a dispatcher's assignment did)
    first_response_tier: Mapped[Optional[str]] = mapped_column(String(10))
    resolution_code: Mapped[Optional[str]] = mapped_column(String(32))
    #: tier1/tier2 when resolved remotely; the tier a field dispatch came from
    remote_resolved_tier: Mapped[Optional[str]] = mapped_column(String(10))
    dispatched_from_tier: Mapped[Optional[str]] = mapped_column(String(10))

    terminal: Mapped[Terminal] = relationship()
    merchant: Mapped[Merchant] = relationship()
    psp: Mapped[Psp] = relationship()
    contractor: Mapped[Contractor] = relationship()
    contract: Mapped[Contract] = relationship()
    technician: Mapped[Optional[Technician]] = relationship()
    assignee: Mapped[Optional["User"]] = relationship(foreign_keys=[assignee_id])
    pauses: Mapped[list["CallPause"]] = relationship(back_populates="call", order_by="CallPause.started_at")

    __mapper_args__ = {"version_id_col": version}


class CallPause(Model):
    """A stretch during which the SLA clock stops (shop closed, merchant asked to postpone)."""

    __tablename__ = "call_pause"
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("service_call.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(200))

    call: Mapped[ServiceCall] = relationship(back_populates="pauses")


class PlanRun(Model):
    """One planning run: parameters, progress, result summary, unassigned visits with reasons."""

    __tablename__ = "plan_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="daily")
    date: Mapped[date] = mapped_column(Date, index=True)
    days: Mapped[int] = mapped_column(Integer, default=1)
    contractor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("contractor.id"), index=True)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(_enum(PlanStatus), default=PlanStatus.QUEUED)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(String(300), default="")
    objective: Mapped[Optional[int]] = mapped_column(BigInteger)
    summary: Mapped[dict] = mapped_column(JSON, default=dict)
    unassigned: Mapped[list] = mapped_column(JSON, default=list)
    error: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    finished_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    #: host:pid of the process solving it, and when that process last said it is alive (a run
    #: whose heartbeat is too old is failed, see fieldsvc.visits.plans.runs.reap_dead_runs)
    worker: Mapped[str] = mapped_column(String(120), default="")
    heartbeat_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    contractor: Mapped[Optional[Contractor]] = relationship()


class JobRun(Model):
    """One run of a scheduled job in one time slot: the unique (job, slot) pair lets only the first
    of several `fieldsvc scheduler` processes (on one or many machines) run it."""

    __tablename__ = "job_run"
    __table_args__ = (UniqueConstraint("job", "slot"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(80))
    slot: Mapped[str] = mapped_column(String(40))
    host: Mapped[str] = mapped_column(String(120), default="")
    status: Mapped[str] = mapped_column(String(20), default="running")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)


class Route(Model):
    """A technician's stored day: ordered visits (Visit.route_position), travel and times."""

    __tablename__ = "route"
    __table_args__ = (UniqueConstraint("technician_id", "date"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    technician_id: Mapped[int] = mapped_column(ForeignKey("technician.id"), index=True)
    date: Mapped[date] = mapped_column(Date, index=True)
    plan_run_id: Mapped[Optional[int]] = mapped_column(ForeignKey("plan_run.id"))
    start_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    end_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    break_start: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    break_end: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    travel_seconds: Mapped[int] = mapped_column(Integer, default=0)
    distance_m: Mapped[int] = mapped_column(Integer, default=0)
    service_seconds: Mapped[int] = mapped_column(Integer, default=0)
    waiting_seconds: Mapped[int] = mapped_column(Integer, default=0)
    #: A locked route is kept as it is when the day is re-optimised.
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    technician: Mapped[Technician] = relationship()
    plan_run: Mapped[Optional[PlanRun]] = relationship()
    visits: Mapped[list["Visit"]] = relationship(back_populates="route", order_by="Visit.route_position")


visit_terminal = Table(
    "visit_terminal", Model.metadata,
    Column("visit_id", ForeignKey("visit.id", ondelete="CASCADE"), primary_key=True),
    Column("terminal_id", ForeignKey("terminal.id", ondelete="CASCADE"), primary_key=True),
)


class Visit(TimestampMixin, Model):
    """One trip to one merchant: PM, EM, install or removal, for one or more of its terminals."""

    __tablename__ = "visit"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(_enum(VisitKind), index=True)
    status: Mapped[str] = mapped_column(_enum(VisitStatus), default=VisitStatus.PLANNED, index=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id"), index=True)
    contractor_id: Mapped[int] = mapped_column(ForeignKey("contractor.id"), index=True)
    contract_id: Mapped[Optional[int]] = mapped_column(ForeignKey("contract.id"), index=True)
    service_call_id: Mapped[Optional[int]] = mapped_column(ForeignKey("service_call.id"), index=True)
    technician_id: Mapped[Optional[int]] = mapped_column(ForeignKey("technician.id"), index=True)
    route_id: Mapped[Optional[int]] = mapped_column(ForeignKey("route.id", ondelete="SET NULL"), index=True)
    route_position: Mapped[Optional[int]] = mapped_column(Integer)
    planned_date: Mapped[Optional[date]] = mapped_column(Date, index=True)
    eta: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    planned_start: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    planned_end: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    service_minutes: Mapped[int] = mapped_column(Integer, default=20)
    #: PM: due date and the contract's tolerance window; EM/install: the deadline to meet.
    due_date: Mapped[Optional[date]] = mapped_column(Date, index=True)
    window_start: Mapped[Optional[date]] = mapped_column(Date)
    window_end: Mapped[Optional[date]] = mapped_column(Date)
    deadline: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    pinned_technician_id: Mapped[Optional[int]] = mapped_column(ForeignKey("technician.id"))
    unassigned_reason: Mapped[str] = mapped_column(String(200), default="")
    checkin_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    checkin_received_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    checkin_lat: Mapped[Optional[float]] = mapped_column(Float)
    checkin_lon: Mapped[Optional[float]] = mapped_column(Float)
    checkin_accuracy_m: Mapped[Optional[float]] = mapped_column(Float)
    checkin_fix_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    checkin_distance_m: Mapped[Optional[float]] = mapped_column(Float)
    checkin_verified: Mapped[Optional[bool]] = mapped_column(Boolean)
    checkin_reason: Mapped[str] = mapped_column(Text, default="")
    #: Why a check-in is unverified: "distance", "stale_fix", "accuracy", "no_position".
    checkin_flags: Mapped[list] = mapped_column(JSON, default=list)
    #: Why a check-out is unusual: "short_visit" (see fieldsvc.visits.field.checkin_rules); its reason.
    checkout_flags: Mapped[list] = mapped_column(JSON, default=list)
    checkout_reason: Mapped[str] = mapped_column(Text, default="")
    checkout_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    checkout_received_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    outcome: Mapped[Optional[str]] = mapped_column(String(32))
    failure_reason: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    parts_used: Mapped[list] = mapped_column(JSON, default=list)
    #: counted parts used (item → count), taken from the technician's van at check-out
    consumables_used: Mapped[Optional[dict]] = mapped_column(JSON, default=dict)
    old_serial: Mapped[Optional[str]] = mapped_column(String(64))
    new_serial: Mapped[Optional[str]] = mapped_column(String(64))
    merchant_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Code the merchant gives the technician at check-out when a visit has no call code.
    confirmation_code: Mapped[Optional[str]] = mapped_column(String(12))
    version: Mapped[int] = mapped_column(Integer, default=1)

    merchant: Mapped[Merchant] = relationship()
    contractor: Mapped[Contractor] = relationship()
    contract: Mapped[Optional[Contract]] = relationship()
    service_call: Mapped[Optional[ServiceCall]] = relationship()
    technician: Mapped[Optional[Technician]] = relationship(foreign_keys=[technician_id])
    pinned_technician: Mapped[Optional[Technician]] = relationship(foreign_keys=[pinned_technician_id])
    route: Mapped[Optional[Route]] = relationship(back_populates="visits")
    terminals: Mapped[list[Terminal]] = relationship(secondary=visit_terminal)
    photos: Mapped[list["VisitPhoto"]] = relationship(back_populates="visit")

    __mapper_args__ = {"version_id_col": version}


class VisitPhoto(Model):
    """A photo taken at check-out; the file lives outside the database."""

    __tablename__ = "visit_photo"
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(300))
    content_type: Mapped[str] = mapped_column(String(50))
    size_bytes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    visit: Mapped[Visit] = relationship(back_populates="photos")


class ClientEvent(Model):
    """A check-in/out sent by a phone, kept once per client_event_id (idempotency ledger)."""

    __tablename__ = "client_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_event_id: Mapped[str] = mapped_column(String(64), unique=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    kind: Mapped[str] = mapped_column(String(16))
    device_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    applied: Mapped[bool] = mapped_column(Boolean, default=False)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    result: Mapped[str] = mapped_column(String(200), default="")


class PenaltyLine(Model):
    """One entry of the penalty ledger. Confirmed lines never change; a correction is a new line."""

    __tablename__ = "penalty_line"
    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"), index=True)
    contractor_id: Mapped[int] = mapped_column(ForeignKey("contractor.id"), index=True)
    psp_id: Mapped[int] = mapped_column(ForeignKey("psp.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    #: Stable key of the breach (e.g. "call:123:response"), so recomputing never duplicates.
    reference: Mapped[str] = mapped_column(String(64), index=True)
    period: Mapped[str] = mapped_column(String(7), index=True)
    occurred_on: Mapped[date] = mapped_column(Date)
    service_call_id: Mapped[Optional[int]] = mapped_column(ForeignKey("service_call.id"))
    visit_id: Mapped[Optional[int]] = mapped_column(ForeignKey("visit.id"))
    minutes_late: Mapped[int] = mapped_column(Integer, default=0)
    amount_rial: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(_enum(PenaltyStatus), default=PenaltyStatus.PROPOSED)
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    corrects_id: Mapped[Optional[int]] = mapped_column(ForeignKey("penalty_line.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class User(TimestampMixin, Model):
    """A person who logs in; role and scope decide what they see."""

    __tablename__ = "user"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(_enum(Role))
    psp_id: Mapped[Optional[int]] = mapped_column(ForeignKey("psp.id"))
    contractor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("contractor.id"))
    technician_id: Mapped[Optional[int]] = mapped_column(ForeignKey("technician.id"))
    language: Mapped[Optional[str]] = mapped_column(String(5))
    show_toman: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active_user: Mapped[bool] = mapped_column(Boolean, default=True)
    #: A first password set by an administrator: the user must choose their own at first login.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    last_login_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    #: Raised to end every session of the user (logout, password change, deactivation); a
    #: session cookie carries the value it was made with and is refused once they differ.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    psp: Mapped[Optional[Psp]] = relationship()
    contractor: Mapped[Optional[Contractor]] = relationship()
    technician: Mapped[Optional[Technician]] = relationship()

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.is_active_user

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)


class ApiToken(Model):
    """A bearer token for integrations; only its SHA-256 is stored."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    last_used_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class LoginLock(Model):
    """Failed logins of one typed username from one client address (known user or not), and the
    lock they caused: an attacker elsewhere cannot lock a real user out (fieldsvc.visits.master.accounts)."""

    __tablename__ = "login_lock"
    username: Mapped[str] = mapped_column(String(80), primary_key=True)
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEvent(Model):
    """Append-only record of who did what, when, to what."""

    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), index=True)
    actor: Mapped[str] = mapped_column(String(80), default="system")
    action: Mapped[str] = mapped_column(String(40), index=True)
    object_type: Mapped[str] = mapped_column(String(40), index=True)
    object_id: Mapped[Optional[int]] = mapped_column(Integer, index=True)
    from_state: Mapped[Optional[str]] = mapped_column(String(20))
    to_state: Mapped[Optional[str]] = mapped_column(String(20))
    psp_id: Mapped[Optional[int]] = mapped_column(ForeignKey("psp.id"), index=True)
    contractor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("contractor.id"), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AppendOnlyError(RuntimeError):
    """Audit rows are never updated or deleted."""


@event.listens_for(AuditEvent, "before_update")
def _no_audit_update(mapper: Any, connection: Any, target: Any) -> None:
    raise AppendOnlyError("audit events are append-only: they cannot be changed")


@event.listens_for(AuditEvent, "before_delete")
def _no_audit_delete(mapper: Any, connection: Any, target: Any) -> None:
    raise AppendOnlyError("audit events are append-only: they cannot be deleted")


@event.listens_for(Session, "do_orm_execute")
def _no_audit_bulk_change(state: Any) -> None:
    """Bulk `update(AuditEvent)` / `delete(AuditEvent)` statements are refused too."""
    if state.is_update or state.is_delete:
        # an ORM statement names its entity; a Core one (`Table.update()`) only its table, and
        # asking it for an entity raises KeyError
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) == AuditEvent.__table__.name:
            raise AppendOnlyError("audit events are append-only: they cannot be changed or deleted")


def region_id_col() -> Column:
    """The region column of the contract↔region link table (for scope queries)."""
    return contract_region.c.region_id


# The terminal lifecycle tables (work orders, stock) live in their own module; importing it here
# puts them in the one metadata every caller of this module sees.
from fieldsvc.visits.lifecycle_models import (ConsumableStock, OrderKind, PlaceKind, StockMove,  # noqa: E402
                                              StockPlace, TerminalConfigChange, TerminalPlace, WorkOrder)

__all_lifecycle__ = (ConsumableStock, OrderKind, PlaceKind, StockMove, StockPlace, TerminalConfigChange,
                     TerminalPlace, WorkOrder)

# PM inspection checklists and campaigns (issue 23) likewise.
from fieldsvc.visits.service_seed_models import (Campaign, CampaignTask, Checklist, ChecklistItem,  # noqa: E402
                                                 ChecklistResult, VisitFeedback)

__all_service_seeds__ = (Campaign, CampaignTask, Checklist, ChecklistItem, ChecklistResult, VisitFeedback)
# Ticket types, service tiers and phases, terminal monitoring (issue 23).
from fieldsvc.visits.service_models import (CallProfile, MerchantTier, ServiceTier, TerminalEvent,  # noqa: E402
                                            TerminalEventRule, TerminalHealth, TerminalPhase)

__all_service__ = (CallProfile, MerchantTier, ServiceTier, TerminalEvent, TerminalEventRule, TerminalHealth,
                   TerminalPhase)
# The intake channels' tables (requesters, held calls, inbound e-mail, phone, SMS choice), issue 23.
from fieldsvc.visits.channel_models import (ChannelSetting, DesignatedRequester, HeldCall,  # noqa: E402
                                            IncomingPhoneCall, InboundEmail, MerchantContactPref,
                                            RequesterGroup, RequesterGroupMerchant)

__all_channels__ = (ChannelSetting, DesignatedRequester, HeldCall, IncomingPhoneCall, InboundEmail,
                    MerchantContactPref, RequesterGroup, RequesterGroupMerchant)
# The support desk tables (issue 21): desk members, call notes, notifications, alerts sent.
from fieldsvc.visits.desk_models import CallAlert, CallNote, DeskMember, Notification  # noqa: E402

__all_desk__ = (CallAlert, CallNote, DeskMember, Notification)
# The support desk's tables (knowledge base, merchant self-service, daily review), likewise.
from fieldsvc.visits.desk_extra_models import (KbArticle, KbArticleUse, MerchantComment,  # noqa: E402
                                               ServiceFeedback, ServiceReview)

__all_desk_extra__ = (KbArticle, KbArticleUse, MerchantComment, ServiceFeedback, ServiceReview)
