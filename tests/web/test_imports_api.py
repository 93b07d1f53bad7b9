"""POST /api/v1/imports/<kind>: a dry run previews and writes nothing; errors read "row N, column X";
a real import writes all rows and one audit event."""
from __future__ import annotations

import io

from sqlalchemy import func, select

from fieldsvc.db import db
from fieldsvc.visits import models as m
from tests.conftest import login

GOOD = ("psp,code,name,lat,lon,region\n"
        "p1,shop-a,Shop A,35.70,51.40,r1\n"
        "p1,shop-b,Shop B,35.71,51.41,r1\n")
BAD = ("psp,code,name,lat,lon,region\n"
       "p1,shop-a,Shop A,35.70,51.40,r1\n"
       "nobody,shop-c,Shop C,95,51.41,r1\n")


def _count(model, **where) -> int:
    stmt = select(func.count()).select_from(model)
    for k, v in where.items():
        stmt = stmt.where(getattr(model, k) == v)
    return db.session.scalar(stmt)


def _post(client, text: str, dry_run: bool):
    return client.post(f"/api/v1/imports/merchants{'?dry_run=1' if dry_run else ''}",
                       data={"file": (io.BytesIO(text.encode()), "shops.csv")}, content_type="multipart/form-data")


def test_dry_run_previews_then_the_import_writes_all_and_one_audit_event(client, world):
    login(client, "admin")
    merchants = _count(m.Merchant)
    r = _post(client, GOOD, True)
    assert r.status_code == 200 and r.json["dry_run"] and r.json["created"] == 2, r.json
    assert [p["code"] for p in r.json["preview"]] == ["shop-a", "shop-b"]
    assert _count(m.Merchant) == merchants and _count(m.AuditEvent, action="import") == 0
    r = _post(client, GOOD, False)
    assert r.status_code == 200 and r.json["ok"] and r.json["created"] == 2
    assert _count(m.Merchant) == merchants + 2 and _count(m.AuditEvent, action="import") == 1


def test_errors_name_row_and_column_and_nothing_is_written(client, world):
    login(client, "admin")
    merchants = _count(m.Merchant)
    r = _post(client, BAD, False)
    assert r.status_code == 422 and not r.json["ok"]
    messages = [e["message"] for e in r.json["errors"]]
    assert any(x.startswith("row 3, column psp:") for x in messages), messages
    assert any(x.startswith("row 3, column lat:") for x in messages), messages
    assert _count(m.Merchant) == merchants


def test_only_admins_import(client, world):
    login(client, "psp-p1")
    assert _post(client, GOOD, True).status_code == 403


def test_regions_from_geojson(client, world):
    import json
    login(client, "admin")
    square = [[[51.3, 35.6], [51.5, 35.6], [51.5, 35.8], [51.3, 35.8], [51.3, 35.6]]]
    bowtie = [[[51.3, 35.6], [51.5, 35.8], [51.5, 35.6], [51.3, 35.8], [51.3, 35.6]]]
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "sq", "name": "Square"},
         "geometry": {"type": "Polygon", "coordinates": square}},
        {"type": "Feature", "properties": {"code": "bow", "name": "Bow"},
         "geometry": {"type": "Polygon", "coordinates": bowtie}}]}

    def post(d, dry):
        return client.post(f"/api/v1/imports/regions{'?dry_run=1' if dry else ''}",
                           data={"file": (io.BytesIO(json.dumps(d).encode()), "areas.geojson")},
                           content_type="multipart/form-data")
    regions = _count(m.Region)
    r = post(doc, False)
    assert r.status_code == 422 and r.json["errors"][0]["message"].startswith("feature 2, column geometry:")
    assert _count(m.Region) == regions
    doc["features"].pop()
    assert post(doc, True).json["preview"][0]["code"] == "sq" and _count(m.Region) == regions
    assert post(doc, False).status_code == 200 and _count(m.Region) == regions + 1
