"""Master data API: create, list (search, sort, paging), update, deactivate; bad input names the field
and writes nothing; users with a first password; deactivation on the next request, tokens included."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.web.security import issue_token
from tests.conftest import login

SQUARE = {"type": "Polygon", "coordinates": [[[51.3, 35.6], [51.5, 35.6], [51.5, 35.8], [51.3, 35.8], [51.3, 35.6]]]}
BOWTIE = {"type": "Polygon", "coordinates": [[[51.3, 35.6], [51.5, 35.8], [51.5, 35.6], [51.3, 35.8], [51.3, 35.6]]]}


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_admin_creates_lists_updates_and_deactivates_a_psp(client, world):
    login(client, "admin")
    r = client.post("/api/v1/psps", json={"code": "saman", "name": "Saman Pay"})
    assert r.status_code == 201, r.json
    pid = r.json["id"]
    assert client.post("/api/v1/psps", json={"code": "SAMAN", "name": "Again"}).json["error"]["field"] == "code"
    page = client.get("/api/v1/psps?q=sam&sort=-code&per_page=1").json
    assert page["total"] == 1 and page["items"][0]["code"] == "saman"
    assert client.get("/api/v1/psps?sort=colour").json["error"]["field"] == "sort"
    assert client.patch(f"/api/v1/psps/{pid}", json={"name": "Saman"}).json["name"] == "Saman"
    assert client.delete(f"/api/v1/psps/{pid}").json["active"] is False
    assert db.session.get(m.Psp, pid) is not None  # never deleted
    assert client.get("/api/v1/psps?active=false").json["total"] == 1


def test_paging_at_ten_thousand_merchants(client, world):
    psp = world.psps[0]
    db.session.execute(m.Merchant.__table__.insert(), [
        {"psp_id": psp.id, "code": f"bulk{i:05d}", "name": f"Bulk shop {i}", "lat": 35.7, "lon": 51.4,
         "address": "", "phone": "", "email": "", "contact_name": "", "language": "fa", "opening_hours": {},
         "closed_dates": [], "active": True, "created_at": dt.datetime.now(dt.timezone.utc),
         "updated_at": dt.datetime.now(dt.timezone.utc)} for i in range(10_000)])
    db.session.commit()
    login(client, "psp-p1")
    page = client.get("/api/v1/merchants?q=bulk&sort=-code&page=3&per_page=100").json
    assert page["total"] == 10_000 and len(page["items"]) == 100
    assert page["items"][0]["code"] == "bulk09799"


def test_region_polygon_is_checked_and_merchants_fall_into_it(client, world):
    login(client, "admin")
    before = _count(m.Region)
    r = client.post("/api/v1/regions", json={"code": "bow", "name": "Bow tie", "geometry": BOWTIE},
                    headers={"Accept-Language": "en"})
    assert r.status_code == 422 and r.json["error"]["field"] == "geometry" and "cross" in r.json["error"]["message"]
    r = client.post("/api/v1/regions", json={"code": "bow", "name": "Bow tie", "geometry": BOWTIE},
                    headers={"Accept-Language": "fa"})
    assert "مرز نباید خودش را قطع کند" in r.json["error"]["message"]  # in the user's language
    r = client.post("/api/v1/regions", json={"code": "bad", "name": "Bad", "geometry": "not json"})
    assert r.status_code == 422 and r.json["error"]["field"] == "geometry"
    assert _count(m.Region) == before
    r = client.post("/api/v1/regions", json={"code": "sq", "name": "Square", "geometry": SQUARE})
    assert r.status_code == 201, r.json
    rid = r.json["id"]
    r = client.post("/api/v1/merchants", json={"psp_id": world.psps[0].id, "code": "in-sq", "name": "Inside",
                                               "lat": 35.7, "lon": 51.4})
    assert r.status_code == 201 and r.json["region_id"] == rid


def test_terminal_serial_under_another_psp_and_unknown_skill_are_refused(client, world):
    login(client, "psp-p2")
    r = client.post("/api/v1/terminals", json={"serial": world.terminals[0].serial, "model": "PAX S90",
                                               "family": "pax"}, headers={"Accept-Language": "en"})
    assert r.status_code == 409 and r.json["error"]["field"] == "serial" and "another PSP" in r.json["error"]["message"]
    login(client, "dispatcher-c1")
    r = client.post("/api/v1/technicians", json={"code": "t9", "name": "New", "home_lat": 35.7, "home_lon": 51.4,
                                                 "skills": ["pax", "teleport"]})
    assert r.status_code == 422 and r.json["error"]["field"] == "skills" and "teleport" in r.json["error"]["message"]
    r = client.post("/api/v1/technicians", json={"code": "t9", "name": "New", "home_lat": 35.7, "home_lon": 51.4,
                                                 "skills": ["PAX"], "contractor_id": world.contractors[1].id})
    assert r.status_code == 201 and r.json["contractor_id"] == world.contractors[0].id  # pinned to own
    assert r.json["skills"] == ["pax"]


def test_contract_from_preset_versions_and_bad_terms(client, world):
    login(client, "psp-p1")
    r = client.post("/api/v1/contracts", json={"code": "p1-other", "contractor_id": world.contractors[1].id,
                                               "valid_from": "2026-01-01"})
    assert r.status_code == 422 and r.json["error"]["field"] == "contractor_id"  # not linked to p1 by the admin
    r = client.post("/api/v1/contracts", json={"code": "p1-24x7", "contractor_id": world.contractors[0].id,
                                               "valid_from": "2026-01-01", "region_ids": [world.regions[0].id],
                                               "preset": "24x7", "kind": "ola"})
    assert r.status_code == 201, r.json
    body = r.json
    assert body["psp_id"] == world.psps[0].id and body["kind"] == "ola"
    assert body["in_force"]["em_targets"]["critical"] == {"first_response_minutes": 60, "response_minutes": 120,
                                                          "resolution_minutes": 240}
    cid = body["id"]
    before = _count(m.ContractVersion)
    for changes, field in (({"em_targets": {"critical": {"response_minutes": 120, "resolution_minutes": 60},
                                            "urgent": {"response_minutes": 1, "resolution_minutes": 2},
                                            "normal": {"response_minutes": 1, "resolution_minutes": 2}}},
                            "em_targets.critical.resolution_minutes"),
                           ({"calendar": {"mode": "business", "hours": {}}}, "calendar.hours"),
                           ({"effective_from": "2026-01-01"}, "effective_from")):
        r = client.post(f"/api/v1/contracts/{cid}/versions", json={"effective_from": "2099-01-01", **changes})
        assert r.status_code == 422 and r.json["error"]["field"] == field, r.json
    assert _count(m.ContractVersion) == before
    r = client.post(f"/api/v1/contracts/{cid}/versions", json={"effective_from": "2099-01-01", "auto_close_days": 9})
    assert r.status_code == 201 and r.json["number"] == 2
    assert [v["auto_close_days"] for v in client.get(f"/api/v1/contracts/{cid}/versions").json] == [3, 9]
    r = client.post("/api/v1/contracts", json={"code": "p1-bad", "contractor_id": world.contractors[0].id,
                                               "valid_from": "2026-01-01",
                                               "terms": {"em_targets": {"critical": {"response_minutes": -5}}}})
    assert r.status_code == 422 and r.json["error"]["field"] == "em_targets.critical.response_minutes"
    assert client.delete(f"/api/v1/contracts/{cid}").json["active"] is False


def test_first_password_must_be_changed_and_deactivation_stops_tokens(client, world, app):
    login(client, "admin")
    r = client.post("/api/v1/users", json={"username": "newpsp", "password": "given-pass-1", "role": "psp",
                                           "psp_id": world.psps[0].id, "language": "en"})
    assert r.status_code == 201 and r.json["must_change_password"] is True
    uid = r.json["id"]
    other = app.test_client()
    assert login(other, "newpsp", "given-pass-1").status_code == 302
    assert other.get("/api/v1/psps").json["error"]["code"] == "password_change_required"
    page = other.get("/psp/services")
    assert page.status_code == 302 and "/account" in page.headers["Location"]
    r = other.post("/account", data={"action": "password", "p-current": "given-pass-1", "p-new": "my-own-pass",
                                     "p-repeat": "my-own-pass"})
    assert r.status_code == 302
    assert other.get("/api/v1/psps").status_code == 200
    token, _row = issue_token(db.session.get(m.User, uid), 1, "test")
    db.session.commit()
    bearer = {"Authorization": f"Bearer {token}"}
    assert app.test_client().get("/api/v1/psps", headers=bearer).status_code == 200
    assert client.delete(f"/api/v1/users/{uid}").json["active"] is False
    assert other.get("/api/v1/psps").status_code == 401
    assert app.test_client().get("/api/v1/psps", headers=bearer).status_code == 401


def test_dispatcher_manages_only_its_contractors_logins(client, world):
    login(client, "dispatcher-c1")
    names = {u["username"] for u in client.get("/api/v1/users?per_page=200").json["items"]}
    assert names == {"dispatcher-c1", "tech-c1-1", "tech-c1-2"}
    r = client.post("/api/v1/users", json={"username": "boss2", "password": "given-pass-1", "role": "admin"})
    assert r.status_code == 403 and r.json["error"]["field"] == "role"
    r = client.post("/api/v1/users", json={"username": "tech-other", "password": "given-pass-1",
                                           "role": "technician", "technician_id": world.technicians[2].id})
    assert r.status_code == 422 and r.json["error"]["field"] == "technician_id"


def test_codes_differing_only_in_non_ascii_case_are_refused_not_500(client, world):
    """SQLite's lower() folds ASCII only: an exact duplicate must still be found (found by the fuzz)."""
    login(client, "admin")
    assert client.post("/api/v1/contractors", json={"code": "ÒÝ-1", "name": "A"}).status_code == 201
    r = client.post("/api/v1/contractors", json={"code": "ÒÝ-1", "name": "B"})
    assert r.status_code == 409 and r.json["error"]["field"] == "code"
    assert client.post("/api/v1/terminals", json={"serial": "ÒSN", "model": "x", "family": "pax",
                                                  "psp_id": world.psps[0].id}).status_code == 201
    r = client.post("/api/v1/terminals", json={"serial": "ÒSN", "model": "x", "family": "pax",
                                               "psp_id": world.psps[1].id})
    assert r.status_code == 409 and r.json["error"]["field"] == "serial"


def test_a_new_region_takes_the_merchants_without_region_inside_it(client, world):
    login(client, "admin")
    inside, outside = world.merchants[0], world.merchants[3]  # (35.70, 51.40) and (35.75, 51.45)
    for mer in (inside, outside):
        mer.region_id = None
    db.session.commit()
    small = {"type": "Polygon", "coordinates": [[[51.39, 35.69], [51.41, 35.69], [51.41, 35.71], [51.39, 35.71],
                                                 [51.39, 35.69]]]}
    r = client.post("/api/v1/regions", json={"code": "tiny", "name": "Tiny", "geometry": small})
    assert r.status_code == 201
    db.session.expire_all()
    assert db.session.get(m.Merchant, inside.id).region_id == r.json["id"]
    assert db.session.get(m.Merchant, outside.id).region_id is None
