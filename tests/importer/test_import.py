"""Bulk import: good files (csv, xlsx), every kind of bad row with its row/column, all-or-nothing,
re-import without duplicates, Persian digits and letters normalised."""
from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.master.importer import import_file
from fieldsvc.commands.imports import import_

MERCHANT_HEADER = "psp,code,name,lat,lon,region,address,phone,opening_hours"
GOOD_MERCHANTS = (
    MERCHANT_HEADER + "\n"
    "p1,M-100,سوپرمارکت رضايي,35.70,51.40,r1,تهران، خیابان انقلاب,021-8877 6655,"
    "\"sat-thu 09:00-13:00,16:30-21:00; fri closed\"\n"
    "p2,M-101,داروخانه كريمي,35.75,51.45,r2,,+98 912 123 4567,daily 24h\n"
)


def write_csv(tmp_path: Path, text: str, name: str = "file.csv", bom: bool = True) -> Path:
    path = tmp_path / name
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    return path


def write_xlsx(tmp_path: Path, rows: list[list], name: str = "file.xlsx") -> Path:
    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    path = tmp_path / name
    wb.save(path)
    return path


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_good_merchants_csv_normalised_and_audited(world, tmp_path):
    admin = world.users["admin"]
    before = count(m.Merchant)
    r = import_file("merchants", write_csv(tmp_path, GOOD_MERCHANTS), "merchants.csv", actor=admin)
    assert r.ok, r.errors
    assert (r.rows, r.created, r.updated) == (2, 2, 0)
    assert count(m.Merchant) == before + 2
    shop = db.session.scalars(select(m.Merchant).where(m.Merchant.code == "M-100")).one()
    assert shop.name == "سوپرمارکت رضایی"  # Arabic yeh → Persian yeh
    assert shop.phone == "02188776655" and shop.region.code == "r1" and shop.psp.code == "p1"
    assert shop.opening_hours["sat"] == [["09:00", "13:00"], ["16:30", "21:00"]]
    assert shop.opening_hours["fri"] == []
    pharmacy = db.session.scalars(select(m.Merchant).where(m.Merchant.code == "M-101")).one()
    assert pharmacy.name == "داروخانه کریمی" and pharmacy.phone == "09121234567"
    assert pharmacy.opening_hours["fri"] == [["00:00", "24:00"]]
    ev = db.session.scalars(select(m.AuditEvent).where(m.AuditEvent.action == "import")).one()
    assert ev.actor == "admin" and ev.data["kind"] == "merchants" and ev.data["rows"] == 2
    assert ev.data["file"] == "merchants.csv" and ev.data["created"] == 2


def test_good_terminals_xlsx_and_technicians_csv(world, tmp_path):
    path = write_xlsx(tmp_path, [
        ["serial", "psp", "model", "family", "merchant", "status", "installed_on", "last_pm_on"],
        ["px 777 001", "p1", "PAX S90", None, "m10", None, date(2025, 3, 1), "1405/06/10"],
        ["VF777002", "p2", "Verifone VX520", "verifone", "m20", "active", None, None],
        ["IN777003", "p1", "Ingenico Move5000", "ingenico", None, None, None, None],
    ])
    r = import_file("terminals", path, path.name)
    assert r.ok, r.errors
    assert r.created == 3
    t = db.session.scalars(select(m.Terminal).where(m.Terminal.serial == "PX777001")).one()
    assert t.family == "pax" and t.merchant.code == "m10" and t.installed_on == date(2025, 3, 1)
    assert t.last_pm_on == date(2026, 9, 1)  # 1405/06/10 Jalali
    stock = db.session.scalars(select(m.Terminal).where(m.Terminal.serial == "IN777003")).one()
    assert stock.merchant_id is None and stock.status == "in_stock"

    techs = write_csv(tmp_path, "contractor,code,name,phone,home_lat,home_lon,skills,vehicle,max_visits,days_off\n"
                                "c1,t9,رضا نمونه,0935 123 4567,35.73,51.39,\"pax, ingenico\",car,14,\"thu,fri\"\n",
                      "techs.csv")
    r = import_file("technicians", techs, "techs.csv")
    assert r.ok, r.errors
    tech = db.session.scalars(select(m.Technician).where(m.Technician.code == "t9")).one()
    assert tech.contractor.code == "c1" and tech.skills == ["pax", "ingenico"] and tech.vehicle == "car"
    assert tech.max_visits == 14 and tech.days_off == ["thu", "fri"] and tech.shift_start == "08:00"


def test_persian_digits_and_decimal_separator(world, tmp_path):
    text = (MERCHANT_HEADER + "\n"
            "p1,۱۲۳۴۵,نانوایی بهار,۳۵٫۷۱۲,٥١.٤٠١,r1,,۰۹۱۲ ۱۲۳ ۴۵۶۷,sat-thu ۰۶:۰۰-۱۰:۳۰\n")
    r = import_file("merchants", write_csv(tmp_path, text, bom=False), "fa.csv")
    assert r.ok, r.errors
    shop = db.session.scalars(select(m.Merchant).where(m.Merchant.code == "12345")).one()
    assert (shop.lat, shop.lon) == (35.712, 51.401)
    assert shop.phone == "09121234567" and shop.opening_hours["sat"] == [["06:00", "10:30"]]


BAD_ROWS = [
    ("merchants", MERCHANT_HEADER, "p1,X1,,35.7,51.4,r1,,,", "row 2, column name: required value is missing"),
    ("merchants", MERCHANT_HEADER, "p1,X1,Shop,abc,51.4,r1,,,", "row 2, column lat: 'abc' is not a number"),
    ("merchants", MERCHANT_HEADER, "p1,X1,Shop,51.4,35.7,r1,,,", "row 2, column lat: latitude 51.4 is outside Iran"),
    ("merchants", MERCHANT_HEADER, "zz,X1,Shop,35.7,51.4,r1,,,", "row 2, column psp: unknown PSP 'zz'"),
    ("merchants", MERCHANT_HEADER, "p1,X1,Shop,35.7,51.4,r9,,,", "row 2, column region: unknown region 'r9'"),
    ("merchants", MERCHANT_HEADER, "p1,X1,Shop,35.7,51.4,r1,,12345,", "row 2, column phone: '12345': expected 11 digits"),
    ("merchants", MERCHANT_HEADER, "p1,X1,Shop,35.7,51.4,r1,,,sat-thu 9-13",
     "row 2, column opening_hours: invalid time '9'"),
    ("merchants", MERCHANT_HEADER, "p1,X1,Shop,35.7,51.4,r1,,,sat-thu 13:00-09:00",
     "row 2, column opening_hours: interval 13:00-09:00 must end after it starts"),
    ("terminals", "serial,psp,model,merchant", "SN-1,p1,PAX S90,m10\nSN-1,p1,PAX S90,m11",
     "row 3, column serial: duplicate: serial SN-1 is also on row 2"),
    ("terminals", "serial,psp,model,merchant", "SN-1,p1,Acme 9,m10", "row 2, column family: blank, and the model"),
    ("terminals", "serial,psp,model,merchant", "SN-1,p1,PAX S90,nope", "row 2, column merchant: unknown merchant 'nope'"),
    ("terminals", "serial,psp,model,merchant", "SN100,p2,PAX S90,", "row 2, column psp: terminal SN100 belongs to another PSP"),
    ("technicians", "contractor,code,name,phone,home_lat,home_lon,skills",
     "c1,t7,Tech,02188776655,35.7,51.4,pax", "row 2, column phone: '02188776655': not a mobile number"),
    ("technicians", "contractor,code,name,phone,home_lat,home_lon,skills,max_visits",
     "c1,t7,Tech,09121234567,35.7,51.4,pax,many", "row 2, column max_visits: 'many' is not a whole number"),
    ("technicians", "contractor,code,name,phone,home_lat,home_lon,skills",
     "c9,t7,Tech,09121234567,35.7,51.4,pax", "row 2, column contractor: unknown contractor 'c9'"),
    ("technicians", "contractor,code,name,phone,home_lat,home_lon,skills",
     "c1,t7,Tech,09121234567,35.7,51.4,pax;abacus", "row 2, column skills: unknown family abacus"),
    ("merchants", "psp,code,name,lat", "p1,X1,Shop,35.7", "row 1, column lon: required column is missing"),
    ("merchants", MERCHANT_HEADER + ",colour", "p1,X1,Shop,35.7,51.4,r1,,,,red", "row 1, column colour: unknown column"),
]


@pytest.mark.parametrize("kind,header,body,expected", BAD_ROWS)
def test_bad_row_is_reported_with_row_and_column(world, tmp_path, kind, header, body, expected):
    before = (count(m.Merchant), count(m.Terminal), count(m.Technician), count(m.AuditEvent))
    r = import_file(kind, write_csv(tmp_path, f"{header}\n{body}\n"), "bad.csv")
    assert not r.ok
    messages = [str(e) for e in r.errors]
    assert any(msg.startswith(expected) for msg in messages), messages
    assert (count(m.Merchant), count(m.Terminal), count(m.Technician), count(m.AuditEvent)) == before


def test_mixed_file_writes_nothing_and_lists_every_error(world, tmp_path):
    text = (MERCHANT_HEADER + "\n"
            "p1,G1,Good one,35.70,51.40,r1,,,\n"
            "p1,B1,Bad lat,95,51.40,r1,,,\n"
            "p1,G2,Good two,35.71,51.41,r1,,,\n"
            "p1,G1,Again,35.71,51.41,r1,,0912,\n")
    before = count(m.Merchant)
    r = import_file("merchants", write_csv(tmp_path, text), "mixed.csv")
    assert [str(e).split(":")[0] for e in r.errors] == ["row 3, column lat", "row 5, column code",
                                                         "row 5, column phone"]
    assert count(m.Merchant) == before
    assert db.session.scalars(select(m.Merchant).where(m.Merchant.code == "G1")).first() is None
    assert not db.session.scalars(select(m.AuditEvent).where(m.AuditEvent.action == "import")).first()


def test_reimport_updates_instead_of_duplicating(world, tmp_path):
    path = write_csv(tmp_path, GOOD_MERCHANTS)
    assert import_file("merchants", path, "m.csv").created == 2
    changed = GOOD_MERCHANTS.replace("سوپرمارکت رضايي", "سوپرمارکت رضایی جدید")
    r = import_file("merchants", write_csv(tmp_path, changed, "m2.csv"), "m2.csv")
    assert (r.ok, r.created, r.updated) == (True, 0, 2)
    shops = db.session.scalars(select(m.Merchant).where(m.Merchant.code == "M-100")).all()
    assert len(shops) == 1 and shops[0].name == "سوپرمارکت رضایی جدید"
    assert shops[0].address == "تهران، خیابان انقلاب"
    # the same serial twice across imports is one terminal
    tpath = write_csv(tmp_path, "serial,psp,model,merchant\nNEW1,p1,PAX S90,m10\n", "t.csv")
    assert import_file("terminals", tpath, "t.csv").created == 1
    n = count(m.Terminal)
    assert import_file("terminals", tpath, "t.csv").updated == 1
    assert count(m.Terminal) == n


def test_stream_upload_and_xlsx_errors(world):
    stream = io.BytesIO(GOOD_MERCHANTS.encode("utf-8"))
    r = import_file("merchants", stream, "upload.csv")
    assert r.ok and r.created == 2
    wb = Workbook()
    wb.active.append(["psp", "code", "name", "lat", "lon"])
    wb.active.append(["p1", "X9", "Shop", 35.7, 70.5])
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    r = import_file("merchants", buf, "upload.xlsx")
    assert [str(e)[:24] for e in r.errors] == ["row 2, column lon: longi"]
    r = import_file("merchants", io.BytesIO(b"\xff\xfe garbage"), "x.csv")
    assert not r.ok and "UTF-8" in str(r.errors[0])


def test_cli_exit_codes_and_messages(app, world, tmp_path):
    runner = app.test_cli_runner()
    good = write_csv(tmp_path, GOOD_MERCHANTS, "good.csv")
    out = runner.invoke(import_, ["merchants", str(good)])
    assert out.exit_code == 0, out.output
    assert "imported 2 merchants (2 created, 0 updated)" in out.output
    bad = write_csv(tmp_path, MERCHANT_HEADER + "\np1,Z1,Shop,35.7,51.4,r1,,,nonsense\n", "bad.csv")
    out = runner.invoke(import_, ["merchants", str(bad)])
    assert out.exit_code == 1
    assert "row 2, column opening_hours:" in out.output and "nothing was imported" in out.output
