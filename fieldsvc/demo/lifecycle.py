"""The demo's terminal lifecycle (issue 20): spares in the PSP and contractor warehouses and in the
technicians' vans, parts with one low-stock warehouse, faulty terminals in repair, open
installation orders due this week and removal orders — made through the real services, after the
bulk insert, deterministically for ``(seed, today)``."""
from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

from sqlalchemy import select

from fieldsvc.db import db
from fieldsvc.demo.reference import SERIAL_PREFIX, TERMINAL_MODELS
from fieldsvc.visits import models as m
from fieldsvc.visits.orders import service as orders
from fieldsvc.visits.stock import places
from fieldsvc.visits.stock.moves import move_consumable, move_terminal, set_minimum

WAREHOUSE_SPARES = 12   # per family and PSP, in the PSP's warehouse
CONTRACTOR_SPARES = 4   # per family a contractor's technicians know, in its warehouse
VAN_SPARES = 2          # per technician, of their first skill
INSTALLS, REMOVALS = 6, 3  # open orders per PSP


def _new(rng: random.Random, psp: m.Psp, family: str, n: int) -> m.Terminal:
    model = TERMINAL_MODELS[family][0][0]
    t = m.Terminal(serial=f"{SERIAL_PREFIX[family]}N{psp.id}{n:05d}{rng.randrange(10)}", model=model,
                   family=family, psp_id=psp.id, status=m.TerminalStatus.IN_STOCK)
    db.session.add(t)
    db.session.flush()
    return t


def add_lifecycle(seed: int, today: dt.date, tz: str = "Asia/Tehran") -> dict[str, int]:
    """Stock and orders on top of the bulk-inserted demo; commits; returns counts."""
    rng = random.Random(seed * 7919 + 20)
    admin = db.session.scalars(select(m.User).where(m.User.role == m.Role.ADMIN).order_by(m.User.id)).first()
    counts = {"spares": 0, "orders": 0}
    n = 0
    for psp in db.session.scalars(select(m.Psp).order_by(m.Psp.id)):
        wh = places.psp_warehouse(psp)
        for family in TERMINAL_MODELS:
            for _ in range(WAREHOUSE_SPARES):
                n += 1
                move_terminal(_new(rng, psp, family, n), wh, expected_from=None, actor=admin, reason="received")
                counts["spares"] += 1
        move_consumable("paper_roll", 500, None, wh, actor=admin, reason="received")
        move_consumable("sim_card", 120, None, wh, actor=admin, reason="received")
        contractors = db.session.scalars(select(m.Contractor).where(m.Contractor.id.in_(
            select(m.Contract.contractor_id).where(m.Contract.psp_id == psp.id))).order_by(m.Contractor.id))
        for con in contractors:
            cwh = places.contractor_warehouse(con)
            techs = list(db.session.scalars(select(m.Technician).where(m.Technician.contractor_id == con.id)
                                            .order_by(m.Technician.id)))
            families = sorted({f for t in techs for f in (t.skills or []) if f in TERMINAL_MODELS})
            for family in families:
                for _ in range(CONTRACTOR_SPARES):
                    n += 1
                    t = _new(rng, psp, family, n)
                    move_terminal(t, wh, expected_from=None, actor=admin, reason="received")
                    move_terminal(t, cwh, expected_from=wh, actor=admin, reason="issued to contractor")
            for tech in techs:
                family = next((f for f in (tech.skills or []) if f in TERMINAL_MODELS), None)
                if family is None:
                    continue
                van = places.van(tech)
                for _ in range(VAN_SPARES):
                    n += 1
                    t = _new(rng, psp, family, n)
                    move_terminal(t, wh, expected_from=None, actor=admin, reason="received")
                    move_terminal(t, cwh, expected_from=wh, actor=admin, reason="issued to contractor")
                    move_terminal(t, van, expected_from=cwh, actor=admin, reason="loaded into the van")
                    counts["spares"] += 1
                move_consumable("paper_roll", 10, None, van, actor=admin, reason="loaded into the van")
            paper = 8 if con.id % 2 else 60  # every other contractor runs low on paper
            move_consumable("paper_roll", paper, None, cwh, actor=admin, reason="received")
            move_consumable("battery", 15, None, cwh, actor=admin, reason="received")
            set_minimum(cwh, "paper_roll", 20, admin)
            set_minimum(cwh, "battery", 10, admin)
        # two faulty terminals in repair
        repair = places.repair_place(psp)
        for family in list(TERMINAL_MODELS)[:2]:
            n += 1
            t = _new(rng, psp, family, n)
            move_terminal(t, wh, expected_from=None, actor=admin, reason="returned faulty", faulty=True)
            move_terminal(t, repair, expected_from=wh, actor=admin, reason="sent for repair")
        db.session.commit()
        counts["orders"] += _orders(rng, psp, admin, today, tz)
    return counts


def _orders(rng: random.Random, psp: m.Psp, admin: m.User, today: dt.date, tz: str) -> int:
    """Installation orders asked for over the last three days (due this week) and removals."""
    merchants = list(db.session.scalars(select(m.Merchant).where(m.Merchant.psp_id == psp.id)
                                        .order_by(m.Merchant.id)))
    if not merchants:
        return 0
    made = 0
    picks = rng.sample(merchants, min(len(merchants), INSTALLS + REMOVALS))
    for i, mer in enumerate(picks):
        try:
            contract = orders.contract_for(mer, today)
        except orders.OrderError:
            continue  # a merchant outside every contract's regions
        # asked far enough back that the deadline (contract hours in its calendar) falls this week
        for back in range(0, 30):
            asked = dt.datetime.combine(today - dt.timedelta(days=back), dt.time(9 + i % 6), ZoneInfo(tz))
            if orders.order_deadline(contract, asked).astimezone(ZoneInfo(tz)).date() <= \
                    today + dt.timedelta(days=6 - i % 4):
                break
        if i < INSTALLS:
            family = list(TERMINAL_MODELS)[i % len(TERMINAL_MODELS)]
            data = orders.OrderInput("install", mer.code, model=TERMINAL_MODELS[family][0][0])
        else:
            term = next((t for t in mer.terminals if t.status == m.TerminalStatus.ACTIVE), None)
            if term is None:
                continue
            data = orders.OrderInput("removal", mer.code, terminal_serial=term.serial,
                                     notes="merchant closed the account")
        try:
            orders.create(orders.validate(data, admin), admin, requested_at=asked.astimezone(dt.timezone.utc))
            made += 1
        except orders.OrderError:
            db.session.rollback()  # e.g. a merchant outside every contract's regions
    return made
