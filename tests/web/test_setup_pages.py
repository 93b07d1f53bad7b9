"""Set-up pages: lists search, sort and page (10,000 merchants), forms show errors at the field and
write nothing, deactivation keeps the row, a PSP's staff edit only their own merchants, English too."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from fieldsvc.db import db
from fieldsvc.visits import models as m
from tests.conftest import login


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_merchant_list_searches_sorts_and_pages_ten_thousand(client, world):
    now = dt.datetime.now(dt.timezone.utc)
    db.session.execute(m.Merchant.__table__.insert(), [
        {"psp_id": world.psps[0].id, "code": f"bulk{i:05d}", "name": f"Bulk shop {i}", "lat": 35.7, "lon": 51.4,
         "address": "", "phone": "", "email": "", "contact_name": "", "language": "fa", "opening_hours": {},
         "closed_dates": [], "active": True, "created_at": now, "updated_at": now} for i in range(10_000)])
    db.session.commit()
    login(client, "psp-p1")
    page = client.get("/setup/merchants?q=bulk&sort=-code&page=2").get_data(as_text=True)
    assert "bulk09949" in page and "bulk09950" not in page and "bulk09899" not in page
    assert "Shop 2-0" not in page  # tenant B's merchant
    assert client.get("/setup/merchants?sort=nonsense&page=۲").status_code == 200


def test_form_errors_sit_at_the_field_and_nothing_is_written(client, world):
    login(client, "admin")
    psps = _count(m.Psp)
    r = client.post("/setup/psps/new", data={"code": "p1", "name": "Duplicate"})
    assert r.status_code == 422 and "is-invalid" in r.get_data(as_text=True) and _count(m.Psp) == psps
    r = client.post("/setup/technicians/new", data={"contractor_id": world.contractors[0].id, "code": "t9",
                                                    "name": "New", "home_lat": "۳۵٫۷", "home_lon": "51.4",
                                                    "skills": "pax, teleport", "shift_start": "08:00",
                                                    "shift_end": "17:00", "vehicle": "car", "days_off": ""})
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and "teleport" in page


def test_edit_and_deactivate_keep_the_row(client, world):
    login(client, "psp-p1")
    mer = world.merchants[0]
    r = client.post(f"/setup/merchants/{mer.id}", data={"code": mer.code, "name": "Renamed shop", "lat": "35.70",
                                                        "lon": "51.40", "language": "fa",
                                                        "opening_hours": "sat-thu 09:00-21:00; fri closed",
                                                        "closed_dates": "1405/09/20"})
    assert r.status_code == 302, r.get_data(as_text=True)[-3000:]
    db.session.refresh(mer)
    assert mer.name == "Renamed shop" and mer.closed_dates == ["2026-12-11"] and mer.opening_hours["fri"] == []
    assert client.post(f"/setup/merchants/{mer.id}/deactivate").status_code == 302
    db.session.refresh(mer)
    assert mer.active is False and db.session.get(m.Merchant, mer.id) is not None
    other = world.merchants[3]  # tenant B's
    assert client.get(f"/setup/merchants/{other.id}").status_code == 404
    assert client.get("/setup/psps/new").status_code == 403


def test_pages_speak_english_too(client, world):
    world.users["admin"].language = "en"
    db.session.commit()
    login(client, "admin")
    page = client.get("/setup/contracts/new?preset=24x7").get_data(as_text=True)
    assert 'dir="ltr"' in page and "Service targets per priority" in page and 'value="240"' in page


def test_a_login_gets_a_new_first_password(client, world, app):
    login(client, "dispatcher-c1")
    tech_login = world.users["tech-c1-1"]
    r = client.post(f"/setup/users/{tech_login.id}", data={"name": "Tech One", "language": "en",
                                                           "password": "another-first-1"})
    assert r.status_code == 302
    db.session.refresh(tech_login)
    assert tech_login.name == "Tech One" and tech_login.language == "en" and tech_login.must_change_password
    other = app.test_client()
    assert login(other, "tech-c1-1", "another-first-1").status_code == 302
    assert other.get("/api/v1/tech/route").status_code == 403  # until the password is changed
    assert client.get(f"/setup/users/{world.users['tech-c2-1'].id}").status_code == 404
