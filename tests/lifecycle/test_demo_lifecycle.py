"""The demo has stock in warehouses and vans, open installation orders due this week, removals, a
low-stock warehouse and terminals with a history."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from fieldsvc.db import db
from fieldsvc.demo.build import build_demo
from fieldsvc.visits import models as m
from fieldsvc.visits.history.timeline import terminal_history
from fieldsvc.visits.stock.moves import levels

TODAY = dt.date(2026, 11, 22)  # a Sunday


@pytest.mark.slow
def test_demo_has_stock_orders_and_histories(app):
    result = build_demo(seed=5, merchants=60, today=TODAY, reset=False)
    assert result.counts["orders"] > 0 and result.counts["spares"] > 0
    kinds = dict(db.session.execute(select(m.StockPlace.kind, func.count(m.TerminalPlace.terminal_id))
                                    .join(m.TerminalPlace, m.TerminalPlace.place_id == m.StockPlace.id)
                                    .group_by(m.StockPlace.kind)).all())
    assert kinds["van"] > 0 and kinds["psp_warehouse"] > 0 and kinds["contractor_warehouse"] > 0
    assert kinds["repair"] > 0
    orders = db.session.scalars(select(m.WorkOrder)).all()
    week_end = TODAY + dt.timedelta(days=7)
    zone = ZoneInfo("Asia/Tehran")
    installs = [o for o in orders if o.kind == "install" and o.status == "open"]
    assert installs and all(TODAY <= o.deadline.astimezone(zone).date() <= week_end for o in installs)
    assert any(o.kind == "removal" for o in orders)
    whs = db.session.scalars(select(m.StockPlace).where(m.StockPlace.kind == "contractor_warehouse")).all()
    assert any(lv.low for w in whs for lv in levels(w))
    busy = db.session.scalar(select(m.ServiceCall.terminal_id).group_by(m.ServiceCall.terminal_id)
                             .order_by(func.count().desc()).limit(1))
    entries = terminal_history(db.session.get(m.Terminal, busy))
    assert {"em_call", "visit"} <= {e["kind"] for e in entries}
