"""One terminal, one timeline: the API's entries in time order, the page, the merchant's timeline,
search by serial / name / phone (Arabic spellings alike), the EM call page's recent history, and
the pages of orders (bulk preview), stock and the van."""
from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import func, select

from fieldsvc.db import db, utcnow
from fieldsvc.visits import models as m
from fieldsvc.visits.orders import service as svc
from fieldsvc.visits.stock import places
from tests.conftest import login
from tests.lifecycle.helpers import spare, van_of
from tests.lifecycle.test_checkout import _on_todays_route
from tests.tech.conftest import checkin_body, checkout_body


def _swap_history(client, world):
    tech = world.technicians[0]
    van = van_of(tech)
    spare("SP-9", world.psps[0], van)
    mer = world.merchants[1]
    reported = utcnow() - timedelta(hours=3)
    call = m.ServiceCall(tracking_number="EM-H-1", terminal_id=mer.terminals[0].id, merchant_id=mer.id,
                         psp_id=mer.psp_id, contractor_id=tech.contractor_id, contract_id=world.contracts[0].id,
                         priority="urgent", symptom_code="printer", status="scheduled", reported_at=reported,
                         response_by=reported + timedelta(hours=8), resolution_by=reported + timedelta(hours=16),
                         technician_id=tech.id)
    db.session.add(call)
    db.session.flush()
    visit = m.Visit(kind="em", status="planned", merchant=mer, contractor_id=tech.contractor_id,
                    contract=world.contracts[0], terminals=[mer.terminals[0]], service_call_id=call.id)
    db.session.add(visit)
    db.session.commit()
    _on_todays_route(visit, tech)
    login(client, "tech-c1-1")
    client.post(f"/api/v1/visits/{visit.id}/check-in", json=checkin_body(visit))
    r = client.post(f"/api/v1/visits/{visit.id}/check-out",
                    json=checkout_body("swapped", old_serial="SN110", new_serial="SP-9"))
    assert r.status_code == 200, r.json
    client.get("/logout")
    return call, visit


def test_terminal_history_lists_everything_oldest_first(client, world):
    call, visit = _swap_history(client, world)
    login(client, "psp-p1")
    r = client.get("/api/v1/terminals/sn۱۱۰/history")
    assert r.status_code == 200, r.json
    entries = r.json["entries"]
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)
    kinds = [e["kind"] for e in entries]
    assert kinds[0] == "installed" and {"em_call", "visit", "swap", "move"} <= set(kinds)
    v = next(e for e in entries if e["kind"] == "visit")
    assert v["visit_kind"] == "em" and v["outcome"] == "swapped" and v["checkin_verified"] is True
    assert v["sla"]["response"] == "met" and v["tracking_number"] == "EM-H-1"
    assert all("/" in e["jalali"] and e["jalali"].startswith("14") for e in entries if e["kind"] != "installed")
    last_move = [e for e in entries if e["kind"] == "move"][-1]
    assert last_move["faulty"] is True and last_move["to_kind"] == "van" and "Tech 1-1" in last_move["to_place"]
    new = client.get("/api/v1/terminals/SP-9/history").json["entries"]
    assert sorted(e["kind"] for e in new if e["kind"] in ("move", "swap")) == ["move", "move", "swap"]
    page = client.get("/terminals/SN110").get_data(as_text=True)
    assert "EM-H-1" in page and "SP-9" in page
    mer = client.get(f"/api/v1/merchants/{visit.merchant_id}/history").json
    assert {"visit", "em_call"} <= {e["kind"] for e in mer["entries"]}
    call_page = client.get(f"/psp/calls/{call.id}").get_data(as_text=True)
    assert "recent-history" in call_page and "SP-9" in call_page
    client.get("/logout")
    login(client, "psp-p2")
    assert client.get("/api/v1/terminals/SN110/history").status_code == 404


def test_search_by_serial_name_and_phone_with_arabic_letters(client, world):
    mer = world.merchants[0]
    mer.name = "فروشگاه کیمیا"
    db.session.commit()
    login(client, "psp-p1")
    assert "فروشگاه کیمیا" in client.get("/terminals?q=فروشگاه كيميا").get_data(as_text=True)  # Arabic ك ي
    assert "SN100" in client.get("/terminals?q=sn10").get_data(as_text=True)
    assert "فروشگاه کیمیا" in client.get("/terminals?q=۰۹۱۲۰۰۰۱۰۰۰").get_data(as_text=True)


def test_bulk_orders_preview_then_all_or_nothing(client, world):
    login(client, "psp-p1")
    client.post("/lang/en")
    bad = "kind,merchant,terminal_serial,model\ninstall,m10,,PAX S90\nremoval,m11,SN100,\n"
    r = client.post("/orders/import", data={"file": (io.BytesIO(bad.encode()), "o.csv")},
                    content_type="multipart/form-data")
    text = r.get_data(as_text=True)
    assert "terminal_serial" in text and "row 3" in text
    assert db.session.scalar(select(func.count()).select_from(svc.WorkOrder)) == 0
    good = "kind,merchant,terminal_serial,model\ninstall,m10,,PAX S90\nremoval,m11,SN110,\n"
    r = client.post("/orders/import", data={"file": (io.BytesIO(good.encode()), "o.csv")},
                    content_type="multipart/form-data")
    assert db.session.scalar(select(func.count()).select_from(svc.WorkOrder)) == 0  # a preview writes nothing
    from fieldsvc.visits.orders.bulk import preview_file
    rows = preview_file(io.BytesIO(good.encode()), "o.csv", world.users["psp-p1"]).rows_json()
    r = client.post("/orders/import", data={"rows": rows})
    assert r.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(svc.WorkOrder)) == 2


def test_order_stock_and_van_pages(client, world):
    login(client, "psp-p1")
    r = client.post("/orders", data={"kind": "removal", "merchant": "m11", "terminal_serial": "SN100"})
    assert r.status_code == 422 and 'data-field="terminal_serial"' in r.get_data(as_text=True)
    assert client.post("/orders", data={"kind": "install", "merchant": "m11", "model": "PAX S90"}).status_code == 302
    assert "WO-" in client.get("/orders").get_data(as_text=True)
    client.get("/logout")
    wh = places.contractor_warehouse(world.contractors[0])
    spare("VAN-1", world.psps[0], wh)
    login(client, "dispatcher-c1")
    assert "VAN-1" in client.get(f"/stock/{wh.id}").get_data(as_text=True)
    assert client.get("/stock").status_code == 200
    client.get("/logout")
    login(client, "tech-c1-1")
    r = client.post("/tech/van/spare", data={"family": "pax"})
    assert r.status_code == 302
    assert "VAN-1" in client.get("/tech/van").get_data(as_text=True)


def test_configuration_changes_are_history(client, world):
    login(client, "psp-p1")
    r = client.post("/api/v1/terminals/SN100/config", json={"firmware_version": "2.1.7", "sim_number": "12345"})
    assert r.status_code == 422 and r.json["error"]["field"] == "sim_number"
    assert db.session.scalar(select(func.count()).select_from(m.TerminalConfigChange)) == 0  # nothing written
    r = client.post("/api/v1/terminals/SN100/config", json={
        "firmware_version": "2.1.7", "connection_type": "GPRS", "sim_number": "۰۹۱۲ ۳۴۵ ۶۷۸۹",
        "switch_merchant_id": "۱۲۳۴۵۶۷۸", "switch_terminal_id": "87654321"})
    assert r.status_code == 200, r.json
    assert r.json["sim_number"] == "09123456789" and r.json["switch_merchant_id"] == "12345678"
    r = client.post("/api/v1/terminals/SN100/config", json={"firmware_version": "2.2.0", "connection_type": "gprs"})
    assert r.json["firmware_version"] == "2.2.0"
    entries = client.get("/api/v1/terminals/SN100/history").json["entries"]
    changes = [(e["field"], e["old_value"], e["new_value"]) for e in entries if e["kind"] == "config"]
    assert ("firmware_version", "2.1.7", "2.2.0") in changes and len(changes) == 6  # gprs unchanged: no row
    assert "2.2.0" in client.get("/terminals/SN100").get_data(as_text=True)
    client.get("/logout")
    login(client, "dispatcher-c1")
    assert client.get("/api/v1/terminals/SN100/config").json["connection_type"] == "gprs"
    assert client.post("/api/v1/terminals/SN100/config", json={"firmware_version": "9"}).status_code == 403


def test_bulk_orders_from_xlsx_name_the_row_and_column(world):
    from openpyxl import Workbook

    from fieldsvc.visits.orders.bulk import commit_rows, preview_file
    wb = Workbook()
    ws = wb.active
    ws.append(["kind", "merchant", "terminal_serial", "model"])
    ws.append(["install", "m10", None, "PAX S90"])
    ws.append(["relocation", "m11", "SN110", None])  # no target merchant
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    preview = preview_file(buf, "orders.xlsx", world.users["psp-p1"])
    assert [(e.row, e.column) for e in preview.errors] == [(3, "target_merchant")]
    assert commit_rows(preview.rows_json(), world.users["psp-p1"]).created == 0
    assert db.session.scalar(select(func.count()).select_from(svc.WorkOrder)) == 0
