"""`fieldsvc demo`: deterministic, inside Tehran, scaled, with users that log in and a history that
has breaches and open work."""
from __future__ import annotations

from datetime import date, timedelta

import shapely
from click.testing import CliRunner
from sqlalchemy import create_engine, func, select, text

from fieldsvc.calendar import CalendarSpec
from fieldsvc.db import db
from fieldsvc.demo import geo
from fieldsvc.demo.build import build_demo, build_rows, demo_digest
from fieldsvc.visits import models as m
from fieldsvc.visits.contracts.sla import SlaTargets, deadlines
from fieldsvc.visits.states import OPEN_CALL_STATES
from tests.conftest import _empty_tables, login

TODAY = date(2026, 11, 22)
SMALL = 60


def test_same_seed_same_data_other_seed_other_data(app):
    first = build_demo(seed=7, merchants=SMALL, today=TODAY, reset=False)
    assert first.digest == demo_digest()
    db.session.remove()
    _empty_tables()
    again = build_demo(seed=7, merchants=SMALL, today=TODAY, reset=False)
    assert again.digest == first.digest
    assert again.counts == first.counts
    db.session.remove()
    _empty_tables()
    other = build_demo(seed=8, merchants=SMALL, today=TODAY, reset=False)
    assert other.digest != first.digest


def test_points_inside_tehran_county_and_dense_around_commercial_centres():
    rows = build_rows(seed=3, merchants=400, today=TODAY, password_hash="x")
    county = geo.tehran_county()
    lat = [r["lat"] for r in rows.merchant] + [t["home_lat"] for t in rows.technician]
    lon = [r["lon"] for r in rows.merchant] + [t["home_lon"] for t in rows.technician]
    assert shapely.contains_xy(county, lon, lat).all()
    near = sum(1 for r in rows.merchant
               if min(geo.distance_km(r["lat"], r["lon"], h.lat, h.lon) for h in geo.HOTSPOTS) <= 2.5)
    # uniform points would put well under a third of the shops within 2.5 km of a hot spot
    assert near / len(rows.merchant) > 0.6
    assert {r["region_id"] for r in rows.merchant} == {r["id"] for r in rows.region}


def test_default_size_meets_the_brief_and_counts_scale():
    from fieldsvc.commands.demo import demo

    default = next(p.default for p in demo.params if p.name == "merchants")
    assert default == 3000  # the brief's size; the rows per merchant are checked below at 300 and 600
    small = build_rows(seed=1405, merchants=300, today=TODAY, password_hash="x")
    double = build_rows(seed=1405, merchants=600, today=TODAY, password_hash="x")
    assert (len(small.merchant), len(double.merchant)) == (300, 600)
    for rows in (small, double):
        assert len({t["serial"] for t in rows.terminal}) == len(rows.terminal)
        assert 1.34 <= len(rows.terminal) / len(rows.merchant) <= 2.0
        assert len({t["family"] for t in rows.terminal}) >= 3
        assert len(rows.psp) == 2 and len(rows.contractor) == 4 and len(rows.contract) == 4
    # technicians and calls grow with the merchants: 3,000 merchants give ten times 300's work
    assert len(small.technician) < len(double.technician) and len(small.service_call) < len(double.service_call)
    assert len(double.technician) * 5 >= 60  # ≥ 60 technicians at 3,000 merchants
    for techs in small.technicians_by_contractor.values():
        assert len(techs) >= 2
        # every terminal family is covered by someone in each contractor
        assert {f for t in techs for f in t["skills"]} >= {"pax", "verifone", "ingenico"}


def test_users_exist_and_log_in(app, client):
    result = build_demo(seed=1, merchants=SMALL, today=TODAY, password="s3cret", reset=False)
    names = {u for u, _, _ in result.logins}
    assert {"admin", "psp-arya", "psp-nikan", "dispatcher-alborz", "dispatcher-damavand", "dispatcher-zagros",
            "dispatcher-sahand", "tech-alborz-1", "tech-sahand-2"} <= names
    n_techs = db.session.scalar(select(func.count()).select_from(m.Technician))
    assert sum(1 for _, role, _ in result.logins if role == "technician") == n_techs
    tech_user = db.session.scalars(select(m.User).where(m.User.username == "tech-zagros-1")).one()
    assert tech_user.technician.contractor.code == "zagros" and tech_user.contractor_id == tech_user.technician.contractor_id
    psp_user = db.session.scalars(select(m.User).where(m.User.username == "psp-nikan")).one()
    assert psp_user.role == "psp" and psp_user.psp.code == "nikan"
    assert login(client, "dispatcher-alborz", "s3cret").status_code == 302
    client.get("/logout")
    assert login(client, "admin", "demo").status_code != 302


def test_history_has_breaches_open_work_and_real_sla_arithmetic(app):
    build_demo(seed=11, merchants=300, today=TODAY, reset=False)
    s = db.session
    calls = s.scalars(select(m.ServiceCall)).all()
    assert any(c.responded_at and c.responded_at > c.response_by for c in calls)
    assert any(c.resolved_at and c.resolved_at > c.resolution_by for c in calls)
    assert any(c.resolved_at and c.resolved_at <= c.resolution_by for c in calls)
    open_calls = [c for c in calls if c.status in OPEN_CALL_STATES]
    assert len(open_calls) >= 4
    assert any(c.status == "closed" and c.survey_score for c in calls)
    # the deadlines are the contract's, computed by fieldsvc.visits.contracts.sla
    c = next(c for c in calls if c.priority == "critical")
    k = c.contract
    assert (c.response_by, c.resolution_by) == tuple(deadlines(c.reported_at, c.priority,
                                                               SlaTargets.from_dict(k.em_targets),
                                                               CalendarSpec.from_dict(k.calendar)))
    # calls arrive over the whole year of history, fewer on Fridays
    days = {c.reported_at.date() for c in calls}
    assert min(days) <= TODAY - timedelta(days=85)
    visits = s.scalars(select(m.Visit)).all()
    pm = [v for v in visits if v.kind == "pm"]
    assert any(v.status == "missed" for v in pm)
    assert any(v.status == "completed" and v.window_end and v.planned_date <= v.window_end for v in pm)
    assert any(v.status == "completed" and v.window_end and v.planned_date > v.window_end for v in pm)
    em = [v for v in visits if v.kind == "em" and v.checkin_at]
    assert em and all(v.checkin_lat and v.checkin_distance_m is not None for v in em)
    assert any(v.checkin_verified is False for v in visits) and any(v.checkin_verified for v in visits)
    assert s.scalar(select(func.count()).select_from(m.Terminal).where(m.Terminal.last_pm_on.is_not(None)))
    # live open calls carry their audit trail
    audited = set(s.scalars(select(m.AuditEvent.object_id).where(m.AuditEvent.object_type == "service_call",
                                                                 m.AuditEvent.action == "created")))
    assert {c.id for c in open_calls} <= audited
    # contracts differ and the two PSPs' contracts overlap regions with different contractors
    contracts = s.scalars(select(m.Contract)).all()
    assert len({k.pm_interval_days for k in contracts}) >= 3
    assert {k.calendar["mode"] for k in contracts} == {"24x7", "business"}
    by_psp: dict[str, set[str]] = {}
    for k in contracts:
        by_psp.setdefault(k.psp.code, set()).update(r.code for r in k.regions)
    assert by_psp["arya"] & by_psp["nikan"]
    assert not s.scalars(select(m.PenaltyLine)).first() and not s.scalars(select(m.Route)).first()


def test_cli_builds_database_from_scratch(tmp_path):
    from fieldsvc.commands.demo import demo

    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    engine = create_engine(url)
    with engine.begin() as conn:  # an old table that the rebuild must drop
        conn.execute(text("CREATE TABLE leftover (id INTEGER)"))
    args = ["--merchants", str(SMALL), "--seed", "5", "--today", "2026-11-22", "--database-url", url,
            "--no-plan", "--no-serve"]
    result = CliRunner().invoke(demo, args)
    assert result.exit_code == 0, result.output
    assert "Demo logins (password: demo)" in result.output and "dispatcher-sahand" in result.output
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM merchant")).scalar() == SMALL
        assert conn.execute(text("SELECT count(*) FROM user WHERE username='admin'")).scalar() == 1
        tables = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))}
    assert "leftover" not in tables and "alembic_version" in tables
    engine.dispose()
