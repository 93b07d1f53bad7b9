"""Security fixtures: cheap password hashing, a world with work in both tenants, logged-in clients."""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug import security as wz_security

from fieldsvc.dates import to_local
from fieldsvc.db import db, utcnow
from fieldsvc.text import to_persian_digits
from fieldsvc.visits import models as m
from tests.conftest import login

#: The roles of the matrix; the logged-in ones are users of tenant A (PSP p1, contractor c1).
USERNAMES = {"admin": "admin", "psp": "psp-p1", "dispatcher": "dispatcher-c1", "technician": "tech-c1-1"}
ROLES = ("anonymous", *USERNAMES)


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """One PBKDF2 round instead of scrypt: the world's ten users hash in microseconds."""
    monkeypatch.setattr(m, "generate_password_hash",
                        functools.partial(wz_security.generate_password_hash, method="pbkdf2:sha256:1"))


@pytest.fixture
def limited_app(app: Flask, monkeypatch: pytest.MonkeyPatch):
    """A second application on the same database with rate limits ON. The limiter is one object
    shared by every app: its on/off switch is restored and its counters emptied afterwards."""
    from fieldsvc.web import create_app
    from fieldsvc.web.extensions import limiter

    monkeypatch.setattr(limiter, "enabled", limiter.enabled)
    limited = create_app({**{k: app.config[k] for k in ("SQLALCHEMY_DATABASE_URI", "UPLOAD_DIR", "OUTBOX_DIR")},
                          "TESTING": True, "SECRET_KEY": "limited", "WTF_CSRF_ENABLED": False,
                          "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"})
    try:
        yield limited
    finally:
        limiter.reset()
        with limited.app_context():
            db.engine.dispose()


@dataclass
class Objects:
    """The objects of one side of the matrix (one tenant, or one technician's work)."""

    psp: m.Psp
    contractor: m.Contractor
    contract: m.Contract
    region: m.Region
    merchant: m.Merchant
    terminal: m.Terminal
    technician: m.Technician
    route: m.Route
    visit: m.Visit
    pm_visit: m.Visit
    call: m.ServiceCall
    closed_call: m.ServiceCall
    plan: m.PlanRun
    penalty: m.PenaltyLine
    photo: m.VisitPhoto
    user: m.User | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class SharedContractor:
    """Contractor c1 serves a second PSP, p3: a p3 shop with a call and visits on tech-c1-1's route of
    today. Contractor c1's dispatcher and technician see that work; PSP p1 must not."""

    psp: m.Psp
    contract: m.Contract
    merchant: m.Merchant
    terminal: m.Terminal
    call: m.ServiceCall
    visit: m.Visit
    pm_visit: m.Visit


@dataclass
class Tenants:
    """`a`: tenant A's work, assigned to tech-c1-1 (the users of the matrix belong to A);
    `sibling`: tenant A's work of tech-c1-2 (another technician of the same contractor);
    `b`: tenant B's work (PSP p2, contractor c2) — nobody but the admin may see it;
    `shared`: PSP p3's work done by contractor c1 on tenant A's routes (see SharedContractor)."""

    a: Objects
    sibling: Objects
    b: Objects
    today: dt.date
    world: Any
    shared: SharedContractor | None = None

    def other_psp_secrets(self) -> list[str]:
        """Strings of PSP p3 that PSP p1's users may not see (c1's dispatcher and technicians may)."""
        x = self.shared
        if x is None:
            return []
        names = {x.psp.name, x.psp.name_fa, x.merchant.name, x.merchant.phone, x.merchant.email,
                 x.terminal.serial, x.call.tracking_number, x.call.symptom_text}
        names = {s for s in names if s}
        return sorted(names | {to_persian_digits(s) for s in names})

    def b_secrets(self) -> list[str]:
        """Strings that identify tenant B: none may appear in an answer to a user of A."""
        w = self.world
        names: list[str] = []
        for mer in w.merchants:
            if mer.psp_id == self.b.psp.id:
                names += [mer.name, mer.phone, mer.email]
        for t in w.terminals:
            if t.psp_id == self.b.psp.id:
                names.append(t.serial)
        for tech in w.technicians:
            if tech.contractor_id == self.b.contractor.id:
                names += [tech.name, tech.phone]
        names += [self.b.psp.name, self.b.psp.name_fa, self.b.contractor.name, self.b.contractor.name_fa,
                  self.b.contractor.email, self.b.call.tracking_number, self.b.call.symptom_text,
                  self.b.closed_call.tracking_number,
                  self.b.penalty.reason, "dispatcher-c2", "tech-c2-1", "tech-c2-2", "psp-p2"]
        out = {s for s in names if s}
        out |= {to_persian_digits(s) for s in out}
        return sorted(out)


def _work(w: Any, i: int, tech: m.Technician, merchant: m.Merchant, terminal: m.Terminal, today: dt.date,
          upload_dir: Path, tag: str) -> Objects:
    psp, con, ctr, reg = w.psps[i], w.contractors[i], w.contracts[i], w.regions[i]
    now = utcnow()
    route = m.Route(technician=tech, date=today, start_at=now, end_at=now + dt.timedelta(hours=8),
                    travel_seconds=1800, distance_m=12_000)
    call = m.ServiceCall(tracking_number=f"EM{i + 1}{tag}0001", terminal=terminal, merchant=merchant, psp=psp,
                         contractor=con, contract=ctr, priority="urgent", symptom_code="no_power",
                         symptom_text=f"Symptom text of tenant {i + 1}{tag}", status="assigned",
                         reported_at=now - dt.timedelta(hours=1), response_by=now + dt.timedelta(hours=3),
                         resolution_by=now + dt.timedelta(hours=7), technician=tech,
                         survey_token=f"survey{i + 1}{tag}")
    visit = m.Visit(kind="em", status="dispatched", merchant=merchant, contractor=con, contract=ctr,
                    service_call=call, technician=tech, route=route, route_position=0, planned_date=today,
                    eta=now + dt.timedelta(minutes=30), deadline=call.resolution_by, terminals=[terminal])
    pm_visit = m.Visit(kind="pm", status="dispatched", merchant=merchant, contractor=con, contract=ctr,
                       technician=tech, route=route, route_position=1, planned_date=today,
                       eta=now + dt.timedelta(hours=2), due_date=today, window_start=today,
                       window_end=today + dt.timedelta(days=15), terminals=[terminal])
    (upload_dir / "calls").mkdir(parents=True, exist_ok=True)
    (upload_dir / "calls" / f"call-{i + 1}{tag}.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"1" * 64 + b"\xff\xd9")
    call.photo_path = f"calls/call-{i + 1}{tag}.jpg"
    closed = m.ServiceCall(tracking_number=f"EM{i + 1}{tag}0002", terminal=terminal, merchant=merchant, psp=psp,
                           contractor=con, contract=ctr, priority="normal", symptom_code="paper_jam",
                           status="closed", reported_at=now - dt.timedelta(days=2),
                           response_by=now - dt.timedelta(days=1), resolution_by=now - dt.timedelta(hours=20),
                           responded_at=now - dt.timedelta(days=1, hours=2),
                           resolved_at=now - dt.timedelta(days=1), closed_at=now - dt.timedelta(hours=2),
                           technician=tech, survey_token=f"closedsurvey{i + 1}{tag}")
    plan = m.PlanRun(date=today, contractor=con, status="succeeded", progress=1.0,
                     summary={"visits": 2}, created_at=now)
    upload_dir.mkdir(parents=True, exist_ok=True)
    busy = m.PlanRun(date=today + dt.timedelta(days=1), contractor=con, status="running", progress=0.5,
                     created_at=now)
    db.session.add_all([route, call, closed, visit, pm_visit, plan, busy])
    db.session.flush()
    route.plan_run_id = plan.id
    penalty = m.PenaltyLine(contract_id=ctr.id, contractor_id=con.id, psp_id=psp.id, kind="late_response",
                            reference=f"call:{call.id}:response", period=today.strftime("%Y-%m"),
                            occurred_on=today, service_call_id=call.id, minutes_late=30, amount_rial=250_000,
                            reason=f"Late response of tenant {i + 1}{tag}")
    photo_file = upload_dir / f"photo-{i + 1}{tag}.jpg"
    photo_file.write_bytes(b"\xff\xd8\xff\xe0" + b"0" * 64 + b"\xff\xd9")
    photo = m.VisitPhoto(visit_id=visit.id, path=photo_file.name, content_type="image/jpeg",
                         size_bytes=photo_file.stat().st_size)
    db.session.add_all([penalty, photo])
    db.session.flush()
    return Objects(psp=psp, contractor=con, contract=ctr, region=reg, merchant=merchant, terminal=terminal,
                   technician=tech, route=route, visit=visit, pm_visit=pm_visit, call=call, closed_call=closed, plan=plan,
                   penalty=penalty, photo=photo)


@pytest.fixture
def tenants(app: Flask, world: Any) -> Tenants:
    """The `world` plus, in each tenant, a route for today with an EM and a PM visit, a service call,
    a plan run, a penalty line and a photo."""
    today = to_local(utcnow(), app.config["TIMEZONE"]).date()
    upload = Path(app.config["UPLOAD_DIR"])
    merchants_a = [x for x in world.merchants if x.psp_id == world.psps[0].id]
    merchants_b = [x for x in world.merchants if x.psp_id == world.psps[1].id]
    techs_a = [t for t in world.technicians if t.contractor_id == world.contractors[0].id]
    techs_b = [t for t in world.technicians if t.contractor_id == world.contractors[1].id]
    a = _work(world, 0, techs_a[0], merchants_a[0], merchants_a[0].terminals[0], today, upload, "")
    sib = _work(world, 0, techs_a[1], merchants_a[2], merchants_a[2].terminals[0], today, upload, "S")
    b = _work(world, 1, techs_b[0], merchants_b[0], merchants_b[0].terminals[0], today, upload, "")
    a.user, sib.user, b.user = world.users["tech-c1-1"], world.users["tech-c1-2"], world.users["tech-c2-1"]
    shared = _second_psp_of_contractor_a(world, a, today)
    db.session.commit()
    return Tenants(a=a, sibling=sib, b=b, today=today, world=world, shared=shared)


def _second_psp_of_contractor_a(w: Any, a: Objects, today: dt.date) -> SharedContractor:
    """PSP p3 contracts contractor c1 in region r1; its shop's EM call and PM visit are stops on
    tech-c1-1's route of today, between tenant A's own stops."""
    from tests.factories import DEFAULT_CALENDAR, DEFAULT_PENALTIES, DEFAULT_TARGETS, TWO_SHIFTS

    now = utcnow()
    psp = m.Psp(code="p3", name="PSP Three", name_fa="پرداخت سه")
    contract = m.Contract(code="k3", psp=psp, contractor=a.contractor, valid_from=dt.date(2026, 1, 1),
                          pm_interval_days=90, pm_tolerance_days=15, em_targets=DEFAULT_TARGETS,
                          calendar=DEFAULT_CALENDAR, penalty_terms=DEFAULT_PENALTIES, regions=[a.region])
    merchant = m.Merchant(psp=psp, region=a.region, code="m30", name="Shop of PSP Three", address="Third St",
                          phone="09123330777", email="shop30@example.com", lat=a.merchant.lat + 0.003,
                          lon=a.merchant.lon + 0.003, opening_hours=TWO_SHIFTS)
    terminal = m.Terminal(serial="SN3PSP", model="PAX S90", family="pax", merchant=merchant, psp=psp,
                          installed_on=dt.date(2025, 1, 1), last_pm_on=dt.date(2026, 8, 1))
    call = m.ServiceCall(tracking_number="EM3P0001", terminal=terminal, merchant=merchant, psp=psp,
                         contractor=a.contractor, contract=contract, priority="urgent", symptom_code="no_power",
                         symptom_text="Symptom text of PSP three", status="assigned",
                         reported_at=now - dt.timedelta(hours=1), response_by=now + dt.timedelta(hours=3),
                         resolution_by=now + dt.timedelta(hours=7), technician=a.technician)
    visit = m.Visit(kind="em", status="dispatched", merchant=merchant, contractor=a.contractor, contract=contract,
                    service_call=call, technician=a.technician, route=a.route, route_position=2,
                    planned_date=today, eta=now + dt.timedelta(hours=3), deadline=call.resolution_by,
                    terminals=[terminal])
    pm_visit = m.Visit(kind="pm", status="dispatched", merchant=merchant, contractor=a.contractor,
                       contract=contract, technician=a.technician, route=a.route, route_position=3,
                       planned_date=today, eta=now + dt.timedelta(hours=4), due_date=today, window_start=today,
                       window_end=today + dt.timedelta(days=15), terminals=[terminal])
    db.session.add_all([psp, contract, merchant, terminal, call, visit, pm_visit])
    db.session.flush()
    return SharedContractor(psp=psp, contract=contract, merchant=merchant, terminal=terminal, call=call,
                            visit=visit, pm_visit=pm_visit)


@pytest.fixture
def clients(app: Flask, tenants: Tenants) -> dict[str, FlaskClient]:
    """One test client per role, logged in through the login form (anonymous: not logged in)."""
    out = {"anonymous": app.test_client()}
    for role, username in USERNAMES.items():
        c = app.test_client()
        r = login(c, username)
        assert r.status_code == 302, f"login of {username} failed: {r.status_code}"
        out[role] = c
    return out
