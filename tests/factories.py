"""A tiny hand-built world for tests: 2 PSPs, 2 contractors, 1 contract each, a few merchants."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from werkzeug.security import generate_password_hash

from fieldsvc.db import db
from fieldsvc.visits import models as m

DEFAULT_TARGETS = {
    "critical": {"response_minutes": 120, "resolution_minutes": 240},
    "urgent": {"response_minutes": 240, "resolution_minutes": 480},
    "normal": {"response_minutes": 480, "resolution_minutes": 1440},
    "at_risk_fraction": 0.8,
}
DEFAULT_CALENDAR = {"tz": "Asia/Tehran", "mode": "business", "iran_holidays": True}
DEFAULT_PENALTIES = {
    "late_response_per_hour": 500_000, "late_resolution_per_hour": 1_000_000,
    "missed_pm": 2_000_000, "late_pm_per_day": 200_000, "late_install_per_day": 1_000_000,
    "ticket_cap": 20_000_000, "monthly_cap": 500_000_000,
}
TWO_SHIFTS = {d: [["09:00", "13:00"], ["16:30", "21:00"]] for d in ("sat", "sun", "mon", "tue", "wed", "thu")}
TWO_SHIFTS["fri"] = []


@dataclass
class World:
    psps: list[m.Psp] = field(default_factory=list)
    contractors: list[m.Contractor] = field(default_factory=list)
    contracts: list[m.Contract] = field(default_factory=list)
    regions: list[m.Region] = field(default_factory=list)
    merchants: list[m.Merchant] = field(default_factory=list)
    terminals: list[m.Terminal] = field(default_factory=list)
    technicians: list[m.Technician] = field(default_factory=list)
    users: dict[str, m.User] = field(default_factory=dict)


@lru_cache(maxsize=8)
def _hash(password: str) -> str:
    return generate_password_hash(password)


def user(username: str, role: str, password: str = "demo", **kw) -> m.User:
    """A user with a (cached) password hash, added to the session."""
    u = m.User(username=username, role=role, name=kw.pop("name", username), password_hash=_hash(password), **kw)
    db.session.add(u)
    return u


def build_world() -> World:
    """Tenant A (PSP p1, contractor c1, region r1) and tenant B (p2, c2, r2), each with
    3 merchants, 4 terminals and 2 technicians; users admin, psp-p1, dispatcher-c1, tech-c1-1, …"""
    w = World()
    for i, (lat, lon) in enumerate([(35.70, 51.40), (35.75, 51.45)], start=1):
        psp = m.Psp(code=f"p{i}", name=f"PSP {i}", name_fa=f"پرداخت {i}")
        con = m.Contractor(code=f"c{i}", name=f"Contractor {i}", name_fa=f"پشتیبان {i}",
                           email=f"c{i}@example.com", depot_lat=lat, depot_lon=lon)
        reg = m.Region(code=f"r{i}", name=f"Region {i}", name_fa=f"منطقه {i}", center_lat=lat, center_lon=lon)
        ctr = m.Contract(code=f"k{i}", psp=psp, contractor=con, valid_from=date(2026, 1, 1),
                         pm_interval_days=90, pm_tolerance_days=15, em_targets=DEFAULT_TARGETS,
                         calendar=DEFAULT_CALENDAR, penalty_terms=DEFAULT_PENALTIES, regions=[reg])
        db.session.add_all([psp, con, reg, ctr])
        w.psps.append(psp)
        w.contractors.append(con)
        w.regions.append(reg)
        w.contracts.append(ctr)
        for j in range(3):
            mer = m.Merchant(psp=psp, region=reg, code=f"m{i}{j}", name=f"Shop {i}-{j}",
                             address=f"Street {j}, Tehran", phone=f"0912000{i}{j}00",
                             email=f"shop{i}{j}@example.com", lat=lat + 0.01 * j, lon=lon + 0.01 * j,
                             opening_hours=TWO_SHIFTS)
            db.session.add(mer)
            w.merchants.append(mer)
            for k in range(2 if j == 0 else 1):
                t = m.Terminal(serial=f"SN{i}{j}{k}", model="PAX S90", family="pax", merchant=mer, psp=psp,
                               installed_on=date(2025, 1, 1), last_pm_on=date(2026, 8, 1))
                db.session.add(t)
                w.terminals.append(t)
        for n in range(1, 3):
            tech = m.Technician(contractor=con, code=f"t{n}", name=f"Tech {i}-{n}", phone=f"0935000{i}{n}00",
                                home_lat=lat, home_lon=lon, skills=["pax", "verifone"],
                                vehicle="motorbike", max_visits=16)
            db.session.add(tech)
            w.technicians.append(tech)
        db.session.flush()
        w.users[f"psp-p{i}"] = user(f"psp-p{i}", "psp", psp_id=psp.id)
        w.users[f"dispatcher-c{i}"] = user(f"dispatcher-c{i}", "dispatcher", contractor_id=con.id)
        for n, tech in enumerate(w.technicians[-2:], start=1):
            w.users[f"tech-c{i}-{n}"] = user(f"tech-c{i}-{n}", "technician", contractor_id=con.id,
                                             technician_id=tech.id)
    w.users["admin"] = user("admin", "admin")
    db.session.commit()
    return w
