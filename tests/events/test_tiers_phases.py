"""Service tiers tighten the contract's targets; terminals' warranty / paid phases are recorded on
calls at opening and counted per phase (page, API, workbook sheet)."""
from __future__ import annotations

import io
from datetime import date, timedelta

from openpyxl import load_workbook
from sqlalchemy import func, select

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.contracts.service_tiers import tighter
from fieldsvc.visits.desk import calls as svc
from tests.conftest import login
from tests.events.conftest import T0
from tests.factories import DEFAULT_TARGETS


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_tighter_takes_the_smaller_minutes_per_clock():
    out = tighter(DEFAULT_TARGETS, {"critical": {"response_minutes": 60, "resolution_minutes": 500},
                                    "urgent": {"resolution_minutes": 200}})
    assert out["critical"] == {"response_minutes": 60, "resolution_minutes": 240}
    assert out["urgent"] == {"response_minutes": 200, "resolution_minutes": 200}  # on site never after the fix
    assert out["normal"] == DEFAULT_TARGETS["normal"]
    assert DEFAULT_TARGETS["urgent"]["response_minutes"] == 240  # the contract's own dict is untouched


def test_gold_merchant_gets_tighter_deadlines_kept_at_opening(client, world):
    login(client, "psp-p1")
    r = client.post("/api/v1/service-tiers", json={"code": "gold", "name": "Gold",
                                                   "em_targets": {"urgent": {"response_minutes": 60}}})
    assert r.status_code == 201, r.json
    tier_id = r.json["id"]
    merchant = world.merchants[0]
    assert client.put(f"/api/v1/merchant-tiers/{merchant.id}", json={"tier_id": tier_id}).status_code == 200
    gold = svc.open_call(world.users["psp-p1"], priority="urgent", symptom_code="printer", terminal_serial="SN100",
                         reported_at=T0)
    plain = svc.open_call(world.users["psp-p1"], priority="urgent", symptom_code="printer", terminal_serial="SN110",
                          reported_at=T0)
    assert gold.response_by == T0 + timedelta(minutes=60) and plain.response_by == T0 + timedelta(minutes=240)
    assert gold.resolution_by == plain.resolution_by  # the tier sets no fix target: the contract's
    assert gold.profile.tier_code == "gold"
    # the tier loosens later: the open call keeps the targets it was opened with
    r = client.patch(f"/api/v1/service-tiers/{tier_id}", json={"em_targets": {"urgent": {"response_minutes": 200}}})
    assert r.status_code == 200
    svc.change_priority(gold, "critical", world.users["psp-p1"])
    svc.change_priority(gold, "urgent", world.users["psp-p1"])
    assert gold.response_by == T0 + timedelta(minutes=60)
    assert client.get(f"/api/v1/call-queues/{gold.id}").json["targets"]["urgent"]["response_minutes"] == 60


def test_bad_tier_input_names_the_field_and_writes_nothing(client, world):
    login(client, "psp-p1")
    cases = [({"code": "g", "name": "G", "em_targets": {"urgent": {"response_minutes": 0}}},
              "em_targets.urgent.response_minutes"),
             ({"code": "g", "name": "G", "em_targets": {"vip": {"response_minutes": 5}}}, "em_targets.vip"),
             ({"code": "g", "name": "G", "em_targets": {"urgent": {"eta": 5}}}, "em_targets.urgent.eta"),
             ({"code": "g", "name": "G", "em_targets": {}}, "em_targets"),
             ({"code": "", "name": "G", "em_targets": {"urgent": {"response_minutes": 5}}}, "code")]
    for body, field in cases:
        r = client.post("/api/v1/service-tiers", json=body)
        assert r.status_code == 422 and r.json["error"]["field"] == field, r.json
    assert _count(m.ServiceTier) == 0
    good = {"code": "g", "name": "G", "em_targets": {"urgent": {"response_minutes": 5}}}
    assert client.post("/api/v1/service-tiers", json=good).status_code == 201
    r = client.post("/api/v1/service-tiers", json=good)
    assert r.status_code == 409 and r.json["error"]["field"] == "code"
    # a tier of another PSP cannot be given to my merchant
    other = m.ServiceTier(psp_id=world.psps[1].id, code="x", name="X", em_targets={})
    db.session.add(other)
    db.session.commit()
    r = client.put(f"/api/v1/merchant-tiers/{world.merchants[0].id}", json={"tier_id": other.id})
    assert r.status_code == 422 and r.json["error"]["field"] == "tier_id"
    r = client.put(f"/api/v1/merchant-tiers/{world.merchants[3].id}", json={"tier_id": None})
    assert r.status_code == 404
    assert _count(m.MerchantTier) == 0


def test_phases_recorded_on_calls_and_counted(client, world):
    login(client, "psp-p1")
    sn100 = world.terminals[0]
    bad = client.put(f"/api/v1/terminal-phases/{sn100.id}", json={"phases": [
        {"phase": "warranty", "starts_on": "2025-01-01", "ends_on": "2026-11-30"},
        {"phase": "paid", "starts_on": "2026-11-30"}]})
    assert bad.status_code == 422 and bad.json["error"]["field"] == "phases[1].starts_on"
    for body, field in [([{"phase": "gold", "starts_on": "2025-01-01"}], "phases[0].phase"),
                        ([{"phase": "paid", "starts_on": "2025-13-01"}], "phases[0].starts_on"),
                        ([{"phase": "paid", "starts_on": "2025-01-02", "ends_on": "2025-01-01"}], "phases[0].ends_on")]:
        r = client.put(f"/api/v1/terminal-phases/{sn100.id}", json={"phases": body})
        assert r.status_code == 422 and r.json["error"]["field"] == field, r.json
    assert _count(m.TerminalPhase) == 0
    r = client.put(f"/api/v1/terminal-phases/{sn100.id}", json={"phases": [
        {"phase": "warranty", "starts_on": "2025-01-01", "ends_on": "2026-11-22"},
        {"phase": "paid", "starts_on": "2026-11-23"}]})
    assert r.status_code == 200 and [p["phase"] for p in r.json["phases"]] == ["warranty", "paid"]
    user = world.users["psp-p1"]
    in_warranty = svc.open_call(user, priority="urgent", symptom_code="printer", terminal_serial="SN100", reported_at=T0)
    svc.cancel_call(in_warranty, user, "test")
    paid = svc.open_call(user, priority="urgent", symptom_code="printer", terminal_serial="SN100",
                         reported_at=T0 + timedelta(days=1))
    none = svc.open_call(user, priority="urgent", symptom_code="printer", terminal_serial="SN110", reported_at=T0)
    assert (in_warranty.profile.service_phase, paid.profile.service_phase, none.profile.service_phase) == \
        ("warranty", "paid", "none")
    # changing the phases later leaves the calls as they were opened
    client.put(f"/api/v1/terminal-phases/{sn100.id}", json={"phases": [{"phase": "paid", "starts_on": "2020-01-01"}]})
    db.session.refresh(in_warranty.profile)
    assert in_warranty.profile.service_phase == "warranty"
    rep = client.get("/api/v1/reports/service-phases?start=2026-11-01&end=2026-11-30").json
    assert rep["totals"]["warranty"] == {"opened": 1, "fixed": 0, "cancelled": 1, "unfinished": 0}
    assert rep["totals"]["paid"]["opened"] == 1 and rep["totals"]["none"]["opened"] == 1
    bad = client.get("/api/v1/reports/service-phases?start=2026-11-30&end=2026-11-01")
    assert bad.status_code == 422 and bad.json["error"]["field"] == "end"
    page = client.get("/psp/service/phases?from=2026-11-01&to=2026-11-30").get_data(as_text=True)
    assert 'data-phase="warranty"' in page and 'data-phase="paid"' in page
    xlsx = client.get("/psp/scorecards.xlsx?from=2026-11-01&to=2026-11-30")
    assert xlsx.status_code == 200
    wb = load_workbook(io.BytesIO(xlsx.data))
    sheet = next(ws for ws in wb.worksheets if [c.value for c in ws[1]][:1] and ws.max_column == 8
                 and ws["E1"].value and ws["A2"].value == "c1")
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2, max_row=4)]
    assert sum(r[4] for r in values if r[4]) == 3  # opened, over the three phase rows of c1


def test_tier_and_phase_pages(client, world):
    login(client, "psp-p1")
    page = client.get("/psp/service/tiers")
    assert page.status_code == 200
    csrf = ""  # CSRF is off in the test app
    r = client.post("/psp/service/tiers", data={"action": "tier", "t-csrf_token": csrf, "t-code": "silver",
                                                "t-name": "Silver", "t-urgent_response": "120"})
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    tier = db.session.scalars(select(m.ServiceTier)).one()
    assert tier.em_targets == {"urgent": {"response_minutes": 120}}
    r = client.post("/psp/service/tiers", data={"action": "tier", "t-csrf_token": csrf, "t-code": "empty",
                                                "t-name": "Empty"})
    assert r.status_code == 422 and _count(m.ServiceTier) == 1
    r = client.post("/psp/service/tiers", data={"action": "merchant", "mt-csrf_token": csrf, "mt-merchant": "m10",
                                                "mt-tier": str(tier.id)})
    assert r.status_code == 302 and db.session.get(m.MerchantTier, world.merchants[0].id).tier_id == tier.id
    r = client.post("/psp/service/tiers", data={"action": "phases", "ph-csrf_token": csrf, "ph-serial": "SN100",
                                                "ph-warranty_from": "1403/10/12", "ph-warranty_to": "1405/09/01",
                                                "ph-paid_from": "1405/09/02"})
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]
    phases = db.session.scalars(select(m.TerminalPhase).order_by(m.TerminalPhase.starts_on)).all()
    assert [(p.phase, p.starts_on, p.ends_on) for p in phases] == [
        ("warranty", date(2025, 1, 1), date(2026, 11, 22)), ("paid", date(2026, 11, 23), None)]
    r = client.post("/psp/service/tiers", data={"action": "phases", "ph-csrf_token": csrf, "ph-serial": "SN100",
                                                "ph-warranty_from": "1405/09/05", "ph-warranty_to": "1405/09/01"})
    assert r.status_code == 422 and _count(m.TerminalPhase) == 2
