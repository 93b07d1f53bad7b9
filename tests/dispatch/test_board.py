"""The board's pages and actions, the plans API (progress endpoint) and the routes API with scope."""
from __future__ import annotations

import re
import time

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.plans import planning
from tests.conftest import login as _login
from tests.dispatch.conftest import DAY, c1_visits


def login(client, username: str) -> None:
    """Log in and read the pages in English (the default language is Persian)."""
    _login(client, username)
    client.post("/lang/en")


def _wait(client, run_id: int, timeout: float = 60) -> dict:
    """Poll the progress endpoint until the run ends (the board's script does the same)."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/plans/{run_id}").get_json()
        seen.append(body["progress"])
        if body["status"] in ("succeeded", "failed", "cancelled"):
            body["seen"] = seen
            return body
        time.sleep(0.3)
    raise AssertionError(f"plan run {run_id} did not finish: {seen[-3:]}")


def test_home_sends_dispatchers_to_the_board(client, world):
    login(client, "dispatcher-c1")
    r = client.get("/")
    assert r.status_code == 302 and r.headers["Location"].endswith("/dispatch/")


def test_board_shows_technicians_routes_and_unassigned(client, pm_world):
    c1 = pm_world.contractors[0]
    # Shop 1-2 sells ingenico terminals nobody can service: it stays unassigned with a reason
    pm_world.terminals[3].family = "ingenico"
    db.session.commit()
    planning.plan_contractor_day(c1.id, DAY, time_limit=1)
    login(client, "dispatcher-c1")
    r = client.get(f"/dispatch/?date={DAY.isoformat()}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    for text in ("Tech 1-1", "Tech 1-2", "Plan this day", 'id="map"', "tl-stop", "OpenStreetMap contributors",
                 "No technician has the skills for these terminals.", "Shop 1-2", "/vendor/leaflet/leaflet.js"):
        assert text in html, text
    assert "Tech 2-1" not in html
    assert "Last plan: stored" in html
    client.post("/lang/fa")
    fa = client.get(f"/dispatch/?date={DAY.isoformat()}").get_data(as_text=True)
    assert "آخرین برنامه‌ریزی: ذخیره شد" in fa
    assert re.search(r'class="tl-tick"[^>]*>[۰-۹]{2}:[۰-۹]{2}<', fa), "hour ticks in Persian digits"
    client.post("/lang/en")
    data = client.get(f"/dispatch/board.json?date={DAY.isoformat()}").get_json()
    assert data["totals"]["visits"] == 2 and data["totals"]["pm"] == 2
    assert data["totals"]["distance_m"] > 0 and 0 < data["totals"]["utilisation"] < 1
    assert [u["reason"] for u in data["unassigned"]] == ["skills"]
    stops = [s for t in data["technicians"] for s in t["stops"]]
    assert all(s["t_start"] < s["t_end"] for s in stops)


def test_board_in_persian_shows_a_jalali_date(client, world):
    login(client, "dispatcher-c1")
    client.post("/lang/fa")
    html = client.get(f"/dispatch/?date={DAY.isoformat()}").get_data(as_text=True)
    assert 'dir="rtl"' in html
    assert "۱۴۰۵/۰۹/۲۸" in html  # the date field pre-filled in Jalali, Persian digits (issue 17.8)


def test_board_scope_and_roles(client, world):
    login(client, "dispatcher-c2")
    assert client.get("/dispatch/?contractor=c1").status_code == 404
    assert "Contractor 2" in client.get("/dispatch/").get_data(as_text=True)
    client.post("/logout")
    login(client, "tech-c1-1")
    assert client.get("/dispatch/").status_code == 403
    client.post("/logout")
    login(client, "admin")
    html = client.get("/dispatch/?contractor=c2").get_data(as_text=True)
    assert "Tech 2-1" in html and 'id="contractor-pick"' in html


def test_plan_api_runs_in_background_and_reports_progress(client, pm_world):
    login(client, "dispatcher-c1")
    r = client.post("/api/v1/plans", json={"date": DAY.isoformat(), "time_limit": 1})
    assert r.status_code == 202
    run_id = r.get_json()["id"]
    body = _wait(client, run_id)
    assert body["status"] == "succeeded", body
    assert body["progress"] == 1.0 and body["summary"]["served"] == 3
    assert {"status", "progress", "message", "summary"} <= set(body)
    # another contractor's dispatcher cannot see it; a technician cannot start one
    client.post("/logout")
    login(client, "dispatcher-c2")
    assert client.get(f"/api/v1/plans/{run_id}").status_code == 404
    assert client.post("/api/v1/plans", json={"date": DAY.isoformat(), "contractor": "c1"}).status_code == 404
    client.post("/logout")
    login(client, "tech-c1-1")
    assert client.post("/api/v1/plans", json={"date": DAY.isoformat()}).status_code == 403


def test_plan_api_validates_input(client, world):
    login(client, "admin")
    r = client.post("/api/v1/plans", json={"date": "not a date", "contractor": "c1"})
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "date"
    r = client.post("/api/v1/plans", json={"date": DAY.isoformat()})
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "contractor"


def test_routes_api_shape_and_scope(client, pm_world):
    planning.plan_contractor_day(pm_world.contractors[0].id, DAY, time_limit=1)
    login(client, "dispatcher-c1")
    routes = client.get(f"/api/v1/routes?date={DAY.isoformat()}").get_json()
    assert routes and {"technician", "date", "stops", "travel_seconds", "distance_m"} <= set(routes[0])
    stop = routes[0]["stops"][0]
    assert {"visit_id", "kind", "merchant", "terminals", "eta", "window", "status"} <= set(stop)
    assert {"id", "name", "lat", "lon"} <= set(stop["merchant"])
    assert stop["window"]["start"] < stop["window"]["end"]
    assert sum(len(r["stops"]) for r in routes) == 3
    tech_id = routes[0]["technician"]["id"]
    one = client.get(f"/api/v1/routes?date=1405/09/28&technician={tech_id}").get_json()  # Jalali date
    assert [r["technician"]["id"] for r in one] == [tech_id]
    client.post("/logout")
    login(client, "dispatcher-c2")
    assert client.get(f"/api/v1/routes?date={DAY.isoformat()}").get_json() == []
    assert client.get(f"/api/v1/routes?date={DAY.isoformat()}&technician={tech_id}").status_code == 404


def test_pin_then_reoptimise_and_lock(client, pm_world):
    c1 = pm_world.contractors[0]
    planning.plan_contractor_day(c1.id, DAY, time_limit=1)
    t2 = pm_world.technicians[1]
    visit = c1_visits(pm_world)[0]
    login(client, "dispatcher-c1")
    r = client.post(f"/dispatch/visits/{visit.id}/pin", data={"technician_id": t2.id, "date": DAY.isoformat()})
    assert r.status_code == 302
    run = db.session.scalars(db.select(m.PlanRun).order_by(m.PlanRun.id.desc())).first()
    assert _wait(client, run.id)["status"] == "succeeded"
    db.session.expire_all()
    visit = db.session.get(m.Visit, visit.id)
    assert visit.pinned_technician_id == t2.id and visit.technician_id == t2.id
    route = visit.route
    assert client.post(f"/dispatch/routes/{route.id}/lock", data={"locked": "1"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(m.Route, route.id).locked is True
    html = client.get(f"/dispatch/?date={DAY.isoformat()}").get_data(as_text=True)
    assert "Unlock route" in html
    # another contractor's dispatcher can neither pin nor lock
    client.post("/logout")
    login(client, "dispatcher-c2")
    assert client.post(f"/dispatch/visits/{visit.id}/pin", data={"technician_id": ""}).status_code == 404
    assert client.post(f"/dispatch/routes/{route.id}/lock", data={"locked": "0"}).status_code == 404


def test_pm_due_page_and_spreading_from_the_web(client, pm_world):
    login(client, "dispatcher-c1")
    html = client.get("/dispatch/due").get_data(as_text=True)
    assert "Shop 1-0" in html and "SN100, SN101" in html and "Shop 2-0" not in html
    assert client.get("/dispatch/due?contractor=c2").status_code == 404
    r = client.post("/dispatch/horizon", data={"days": "31"})
    assert r.status_code == 302
    run = db.session.scalars(db.select(m.PlanRun).where(m.PlanRun.kind == "horizon")).one()
    assert run.contractor_id == pm_world.contractors[0].id and run.days == 31
    assert "got a day" in client.get("/dispatch/due").get_data(as_text=True)
