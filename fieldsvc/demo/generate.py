"""Deterministic synthetic master data: PSPs, contractors, regions, contracts, merchants,
terminals, technicians and users, as plain row dicts with explicit ids (bulk-insert ready).

Everything is drawn from ``random.Random(seed)`` / ``numpy.random.default_rng(seed)``; the only
outside input is the anchor date ``today``. Same seed, size and date → the same rows.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

import numpy as np

from fieldsvc.demo import geo, names
from fieldsvc.demo.reference import (CONTRACTORS, CONTRACTS, FAMILY_SHARE, PSPS, SERIAL_PREFIX,
                                     TERMINAL_MODELS, contract_for)
from fieldsvc.visits.models import Role

DAYS = ("sat", "sun", "mon", "tue", "wed", "thu", "fri")
#: Merchants per technician when sizing the workforce (3,000 merchants → 63 technicians).
MERCHANTS_PER_TECHNICIAN = 48
MIN_TECHNICIANS_PER_CONTRACTOR = 2
#: Terminals per merchant: (count, weight); mean ≈ 1.45.
TERMINALS_PER_MERCHANT = ((1, 68.0), (2, 21.0), (3, 8.0), (4, 3.0))
MIN_TERMINAL_RATIO = 1.34
FIXED_EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)


@dataclass
class DemoRows:
    """Rows per table (dicts of column values, ids included), in insert order."""

    today: date
    psp: list[dict[str, Any]] = field(default_factory=list)
    contractor: list[dict[str, Any]] = field(default_factory=list)
    region: list[dict[str, Any]] = field(default_factory=list)
    contract: list[dict[str, Any]] = field(default_factory=list)
    contract_region: list[dict[str, Any]] = field(default_factory=list)
    merchant: list[dict[str, Any]] = field(default_factory=list)
    terminal: list[dict[str, Any]] = field(default_factory=list)
    technician: list[dict[str, Any]] = field(default_factory=list)
    user: list[dict[str, Any]] = field(default_factory=list)
    service_call: list[dict[str, Any]] = field(default_factory=list)
    visit: list[dict[str, Any]] = field(default_factory=list)
    visit_terminal: list[dict[str, Any]] = field(default_factory=list)
    audit_event: list[dict[str, Any]] = field(default_factory=list)
    #: Lookups used while generating the history (not inserted).
    contract_by_merchant: dict[int, str] = field(default_factory=dict)
    technicians_by_contractor: dict[int, list[dict[str, Any]]] = field(default_factory=dict)

    TABLES = ("psp", "contractor", "region", "contract", "contract_region", "merchant", "terminal",
              "technician", "user", "service_call", "visit", "visit_terminal", "audit_event")

    def counts(self) -> dict[str, int]:
        """Rows per table."""
        return {t: len(getattr(self, t)) for t in self.TABLES}

    def id_of(self, table: str, code: str) -> int:
        """Id of the row of ``table`` whose ``code`` is ``code``."""
        for row in getattr(self, table):
            if row.get("code") == code:
                return row["id"]
        raise KeyError(f"{table} {code!r}")


# --------------------------------------------------------------------------- opening hours


def opening_hours(profile: str, rng: random.Random) -> dict[str, list[list[str]]]:
    """Weekly opening hours ``{"sat": [["09:00","13:00"], ["16:30","21:00"]], ..., "fri": []}``."""
    def week(intervals: list[list[str]], thu: list[list[str]] | None = None,
             fri: list[list[str]] | None = None) -> dict[str, list[list[str]]]:
        out = {d: [list(iv) for iv in intervals] for d in DAYS[:5]}
        out["thu"] = [list(iv) for iv in (intervals if thu is None else thu)]
        out["fri"] = [list(iv) for iv in (fri or [])]
        return out

    if profile == "two_shifts":
        morning, evening = rng.choice([(["09:00", "13:00"], ["16:30", "21:00"]),
                                       (["09:30", "13:30"], ["17:00", "21:30"]),
                                       (["10:00", "14:00"], ["17:00", "22:00"]),
                                       (["08:30", "13:00"], ["16:00", "20:30"])])
        thu = [morning] if rng.random() < 0.3 else None
        fri = [["17:00", "21:00"]] if rng.random() < 0.1 else []
        return week([morning, evening], thu, fri)
    if profile == "long_day":
        fri = [["09:00", "14:00"]] if rng.random() < 0.5 else []
        return week([rng.choice([["08:00", "22:00"], ["09:00", "23:00"], ["08:30", "21:30"]])], None, fri)
    if profile == "always":
        return {d: [["00:00", "24:00"]] for d in DAYS}
    if profile == "bakery":
        return week([["06:00", "10:30"], ["16:00", "20:00"]], None, [["06:00", "10:30"]])
    if profile == "restaurant":
        hours = [["12:00", "16:00"], ["19:00", "23:30"]]
        return week(hours, None, hours)
    if profile == "office":
        return week([["08:00", "16:00"]], [["08:00", "12:00"]], [])
    raise ValueError(f"unknown opening-hours profile {profile!r}")


# --------------------------------------------------------------------------- builders


def _reference(rows: DemoRows) -> None:
    for i, p in enumerate(PSPS, start=1):
        rows.psp.append({"id": i, "code": p.code, "name": p.name, "name_fa": p.name_fa,
                         "created_at": FIXED_EPOCH, "updated_at": FIXED_EPOCH})
    for i, c in enumerate(CONTRACTORS, start=1):
        rows.contractor.append({
            "id": i, "code": c.code, "name": c.name, "name_fa": c.name_fa,
            "email": f"dispatch@{c.code}.example.ir", "phone": f"021{88000000 + 1111 * i}",
            "depot_lat": c.depot[0], "depot_lon": c.depot[1],
            "created_at": FIXED_EPOCH, "updated_at": FIXED_EPOCH})
    geoms = geo.region_geometries()
    for i, r in enumerate(geo.REGIONS, start=1):
        lat, lon = geo.region_centre(r.code)
        rows.region.append({"id": i, "code": r.code, "name": r.name, "name_fa": r.name_fa,
                            "center_lat": lat, "center_lon": lon, "geometry": geoms[r.code]})
    valid_from = date(rows.today.year - 1, rows.today.month, 1)
    for i, k in enumerate(CONTRACTS, start=1):
        rows.contract.append({
            "id": i, "code": k.code, "psp_id": rows.id_of("psp", k.psp),
            "contractor_id": rows.id_of("contractor", k.contractor),
            "valid_from": valid_from, "valid_to": None,
            "pm_interval_days": k.pm_interval_days, "pm_tolerance_days": k.pm_tolerance_days,
            "em_targets": k.targets.to_dict(), "install_deadline_hours": k.install_deadline_hours,
            "calendar": k.calendar.to_dict(), "penalty_terms": k.penalties.to_dict(),
            "geofence_m": k.geofence_m, "require_confirmation_code": k.require_confirmation_code,
            "auto_close_days": k.auto_close_days, "created_at": FIXED_EPOCH, "updated_at": FIXED_EPOCH})
        for code in k.regions:
            rows.contract_region.append({"contract_id": i, "region_id": rows.id_of("region", code)})


def _merchants(rows: DemoRows, n: int, rng: random.Random, nrng: np.random.Generator) -> None:
    points = geo.sample_shop_points(n, nrng)
    kinds = [k for k, _, _ in names.SHOP_KINDS]
    profiles = {k: p for k, p, _ in names.SHOP_KINDS}
    weights = [w for _, _, w in names.SHOP_KINDS]
    psp_codes = [p.code for p in PSPS]
    psp_weights = [p.share for p in PSPS]
    next_code = {p.code: 10_000_000 + 1_000 * i for i, p in enumerate(PSPS)}
    building = 0
    i = 0
    while i < n:
        lat, lon = float(points[i][0]), float(points[i][1])
        # About one shop in ten sits in a shared building (a passage or a mall) with 2-4 others.
        group = rng.choice((2, 3, 4)) if rng.random() < 0.04 else 1
        group = min(group, n - i)
        key = None
        if group > 1:
            building += 1
            key = f"B{building:05d}"
        for _ in range(group):
            psp = names.weighted_choice(rng, tuple(psp_codes), psp_weights)
            kind = names.weighted_choice(rng, tuple(kinds), weights)
            region = geo.region_of(lat, lon)
            next_code[psp] += 1 + rng.randint(0, 2)
            contact = names.person_name(rng)
            phone = names.landline(rng) if rng.random() < 0.7 else names.mobile(rng)
            row = {
                "id": i + 1, "psp_id": rows.id_of("psp", psp), "region_id": rows.id_of("region", region),
                "code": str(next_code[psp]), "name": names.shop_name(rng, kind),
                "address": names.address(rng), "phone": phone,
                "email": f"shop{next_code[psp]}@example.ir" if rng.random() < 0.25 else "",
                "contact_name": contact, "language": "fa", "lat": lat, "lon": lon,
                "opening_hours": opening_hours(profiles[kind], rng), "closed_dates": [],
                "building_key": key, "created_at": FIXED_EPOCH, "updated_at": FIXED_EPOCH,
            }
            rows.merchant.append(row)
            rows.contract_by_merchant[row["id"]] = contract_for(psp, region).code
            i += 1


def _terminals(rows: DemoRows, rng: random.Random) -> None:
    counts = [names.weighted_choice(rng, tuple(c for c, _ in TERMINALS_PER_MERCHANT),
                                    [w for _, w in TERMINALS_PER_MERCHANT]) for _ in rows.merchant]
    need = math.ceil(MIN_TERMINAL_RATIO * len(rows.merchant))
    while sum(counts) < need:
        counts[rng.randrange(len(counts))] += 1
    families = tuple(FAMILY_SHARE)
    serials: set[str] = set()
    tid = 0
    for merchant, count in zip(rows.merchant, counts):
        # A merchant mostly has one family (one PSP batch); a few mix.
        family = names.weighted_choice(rng, families, [FAMILY_SHARE[f] for f in families])
        installed = rows.today - timedelta(days=rng.randint(120, 6 * 365))
        for _ in range(count):
            fam = family if rng.random() < 0.85 else rng.choice(families)
            models = TERMINAL_MODELS[fam]
            model = names.weighted_choice(rng, tuple(m for m, _ in models), [w for _, w in models])
            serial = ""
            while not serial or serial in serials:
                serial = f"{SERIAL_PREFIX[fam]}{rng.randint(10**9, 10**10 - 1)}"
            serials.add(serial)
            tid += 1
            rows.terminal.append({
                "id": tid, "serial": serial, "model": model, "family": fam, "merchant_id": merchant["id"],
                "psp_id": merchant["psp_id"], "status": "active", "installed_on": installed,
                "last_pm_on": None, "created_at": FIXED_EPOCH, "updated_at": FIXED_EPOCH})


SHIFTS = (
    # shift start, end, break start, end, break minutes, weight
    ("08:00", "17:00", "12:30", "14:30", 30, 5.0),
    ("09:00", "18:00", "13:00", "15:00", 45, 3.0),
    ("12:00", "21:00", "14:00", "16:30", 60, 2.0),
)


def _technicians(rows: DemoRows, rng: random.Random, nrng: np.random.Generator) -> None:
    total = max(MIN_TECHNICIANS_PER_CONTRACTOR * len(CONTRACTORS),
                math.ceil(len(rows.merchant) / MERCHANTS_PER_TECHNICIAN))
    per_contractor: dict[str, int] = {c.code: 0 for c in CONTRACTORS}
    for code in rows.contract_by_merchant.values():
        per_contractor[next(k.contractor for k in CONTRACTS if k.code == code)] += 1
    load = sum(per_contractor.values()) or 1
    sizes = {c: max(MIN_TECHNICIANS_PER_CONTRACTOR, round(total * v / load)) for c, v in per_contractor.items()}
    families = tuple(FAMILY_SHARE)
    homes = geo.sample_shop_points(4 * sum(sizes.values()) + 200, nrng)
    h = 0
    tid = 0
    for c in CONTRACTORS:
        cid = rows.id_of("contractor", c.code)
        regions = {r for k in CONTRACTS if k.contractor == c.code for r in k.regions}
        rows.technicians_by_contractor[cid] = []
        for n in range(1, sizes[c.code] + 1):
            while True:
                if h >= len(homes):  # rare: draw more candidate homes
                    homes = np.vstack([homes, geo.sample_shop_points(200, nrng)])
                if geo.region_of(float(homes[h][0]), float(homes[h][1])) in regions:
                    break
                h += 1
            lat, lon = float(homes[h][0]), float(homes[h][1])
            h += 1
            shift = names.weighted_choice(rng, SHIFTS, [s[5] for s in SHIFTS])
            if n <= len(families):
                skills = list(families)  # the first technicians of each contractor know every family
            else:
                skills = sorted(rng.sample(families, rng.choice((2, 3, 3))))
            vehicle = "motorbike" if rng.random() < 0.7 else "car"
            tid += 1
            row = {
                "id": tid, "contractor_id": cid, "code": f"T{n:02d}", "name": names.person_name(rng, 0.1),
                "phone": names.mobile(rng), "home_lat": lat, "home_lon": lon,
                "shift_start": shift[0], "shift_end": shift[1], "break_start": shift[2],
                "break_end": shift[3], "break_minutes": shift[4], "skills": skills, "vehicle": vehicle,
                "max_visits": rng.randint(12, 16), "days_off": ["fri"], "active": True,
                "last_lat": None, "last_lon": None, "last_seen_at": None,
                "created_at": FIXED_EPOCH, "updated_at": FIXED_EPOCH,
            }
            rows.technician.append(row)
            rows.technicians_by_contractor[cid].append(row)


def _users(rows: DemoRows, password_hash: str) -> None:
    def add(username: str, role: Role, name: str, **scope: Any) -> None:
        rows.user.append({
            "id": len(rows.user) + 1, "username": username, "name": name,
            "email": f"{username}@example.ir", "password_hash": password_hash, "role": role.value,
            "psp_id": scope.get("psp_id"), "contractor_id": scope.get("contractor_id"),
            "technician_id": scope.get("technician_id"), "language": None, "show_toman": False,
            "is_active_user": True, "failed_logins": 0, "locked_until": None, "last_login_at": None,
            "created_at": FIXED_EPOCH, "updated_at": FIXED_EPOCH})

    add("admin", Role.ADMIN, "مدیر سامانه")
    for p in rows.psp:
        add(f"psp-{p['code']}", Role.PSP, f"کارشناس {p['name_fa']}", psp_id=p["id"])
    for c in rows.contractor:
        add(f"dispatcher-{c['code']}", Role.DISPATCHER, f"توزیع‌کننده {c['name_fa']}", contractor_id=c["id"])
    for c in rows.contractor:
        for n, t in enumerate(rows.technicians_by_contractor[c["id"]], start=1):
            add(f"tech-{c['code']}-{n}", Role.TECHNICIAN, t["name"], contractor_id=c["id"],
                technician_id=t["id"])


def generate_master_data(seed: int, merchants: int, today: date, password_hash: str) -> DemoRows:
    """Reference data, merchants, terminals, technicians and users for a demo of ``merchants`` shops."""
    if merchants < 10:
        raise ValueError("the demo needs at least 10 merchants")
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    rows = DemoRows(today=today)
    _reference(rows)
    _merchants(rows, merchants, rng, nrng)
    _terminals(rows, rng)
    _technicians(rows, rng, nrng)
    _users(rows, password_hash)
    return rows
