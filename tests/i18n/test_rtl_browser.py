"""Right-to-left layout in a real browser (issue 9, point 6): the technician's route on a phone and
the dispatch board on a laptop, in Persian. Screenshots are saved (pytest's tmp dir, or
$FIELDSVC_SCREENSHOTS) and the layout is checked from the rendered boxes: what comes first in
the document sits to the right of what follows."""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from fieldsvc.db import db
from tests.conftest import browser_login

pytestmark = pytest.mark.browser


def _persian(tenants, *usernames: str) -> None:
    for name in usernames:
        tenants.world.users[name].language = "fa"
    db.session.commit()


def _timed_day(tenants) -> None:
    """Give tenant A's two stops planned times (09:00 and 11:00 Tehran) so the timeline has blocks."""
    tz = ZoneInfo("Asia/Tehran")
    a = tenants.a
    for v, hour in ((a.visit, 9), (a.pm_visit, 11)):
        start = dt.datetime.combine(tenants.today, dt.time(hour), tzinfo=tz).astimezone(dt.timezone.utc)
        v.eta, v.planned_start, v.planned_end = start - dt.timedelta(minutes=5), start, start + dt.timedelta(minutes=30)
    a.route.start_at = dt.datetime.combine(tenants.today, dt.time(8), tzinfo=tz).astimezone(dt.timezone.utc)
    a.route.end_at = dt.datetime.combine(tenants.today, dt.time(13), tzinfo=tz).astimezone(dt.timezone.utc)
    db.session.commit()


def _shot(page, tmp_path: Path, name: str) -> Path:
    folder = Path(os.environ.get("FIELDSVC_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 5_000
    return path


def _box(page, selector: str) -> dict:
    loc = page.locator(selector).first
    loc.wait_for(state="visible")
    box = loc.bounding_box()
    assert box, f"{selector} is not rendered"
    return box


def _right(box: dict) -> float:
    return box["x"] + box["width"]


def test_technician_route_on_a_phone_is_right_to_left(chromium, live_server, tenants, tmp_path) -> None:
    _persian(tenants, "tech-c1-1")
    context = chromium.new_context(base_url=live_server, viewport={"width": 360, "height": 740},
                                   locale="fa-IR", is_mobile=True, has_touch=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        browser_login(page, "tech-c1-1")
        page.goto("/tech/")
        page.wait_for_load_state("networkidle")
        _shot(page, tmp_path, "tech-route-fa-360")
        assert page.get_attribute("html", "dir") == "rtl" and page.get_attribute("html", "lang") == "fa"
        assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
        # heading at the right, the online badge at the left
        h1, badge = _box(page, "#tech-app h1"), _box(page, "#net-status")
        assert _right(h1) > _right(badge) and h1["x"] > badge["x"]
        assert "مسیر من" in page.inner_text("#tech-app h1")
        # within a stop: the first button (call the shop) is right of the second (map)
        stop = f"#stop-{tenants.a.visit.id}"
        call_btn, map_btn = _box(page, f"{stop} a[href^='tel:']"), _box(page, f"{stop} a[href^='geo:']")
        if abs(call_btn["y"] - map_btn["y"]) < 5:  # side by side
            assert call_btn["x"] > map_btn["x"]
        # the merchant's name starts at the card's right edge
        card, name = _box(page, stop), _box(page, f"{stop} h2")
        assert _right(card) - _right(name) < card["width"] * 0.15
        # nothing wider than the phone
        assert page.evaluate("document.documentElement.scrollWidth") <= 360 + 1
        assert not errors, errors
    finally:
        context.close()


def test_dispatch_board_is_right_to_left(page, tenants, tmp_path) -> None:
    _persian(tenants, "dispatcher-c1")
    _timed_day(tenants)
    browser_login(page, "dispatcher-c1")
    page.goto("/dispatch/")
    page.wait_for_load_state("networkidle")
    _shot(page, tmp_path, "dispatch-board-fa-1280")
    assert page.get_attribute("html", "dir") == "rtl"
    assert "اعزام" in page.inner_text("#dispatch-board h1")
    # the header's title right of its date form
    h1, form = _box(page, "#dispatch-board header h1"), _box(page, "#dispatch-board header form")
    assert h1["x"] > form["x"]
    # each timeline row: the technician's name right of the track
    row = f".tl-row[data-technician='{tenants.a.technician.id}']"
    name, track = _box(page, f"{row} .tl-name"), _box(page, f"{row} .tl-track")
    assert name["x"] > track["x"]
    # time runs right to left: the 09:00 stop is right of the 11:00 stop, the first hour tick right of the last
    stops = page.locator(f"{row} .tl-block.tl-stop")
    assert stops.count() == 2
    first, second = stops.nth(0).bounding_box(), stops.nth(1).bounding_box()
    assert first["x"] > second["x"]
    ticks = page.locator(".tl-axis .tl-tick")
    assert ticks.count() >= 2
    assert ticks.first.bounding_box()["x"] > ticks.last.bounding_box()["x"]
    # the map keeps working in RTL (Leaflet from our vendor files)
    page.locator("#map .leaflet-container, #map.leaflet-container").first.wait_for(state="attached")
    assert not [e for e in page.console_errors if "tile.openstreetmap" not in e and "ERR_" not in e], page.console_errors


def test_dispatch_board_in_english_is_left_to_right(page, tenants) -> None:
    tenants.world.users["dispatcher-c1"].language = "en"
    db.session.commit()
    _timed_day(tenants)
    browser_login(page, "dispatcher-c1")
    page.goto("/dispatch/")
    page.wait_for_load_state("networkidle")
    assert page.get_attribute("html", "dir") == "ltr"
    row = f".tl-row[data-technician='{tenants.a.technician.id}']"
    name, track = _box(page, f"{row} .tl-name"), _box(page, f"{row} .tl-track")
    assert name["x"] < track["x"]
    stops = page.locator(f"{row} .tl-block.tl-stop")
    assert stops.nth(0).bounding_box()["x"] < stops.nth(1).bounding_box()["x"]
