"""In a real headless Chromium: the dispatcher accepts a slot option with a click; the tracking
page fits a 360 px phone screen."""
from __future__ import annotations

import pytest

from fieldsvc.db import db
from tests.calls.conftest import new_call

pytestmark = pytest.mark.browser


def _login(page, username: str) -> None:
    """Log in through the login form (its own submit button, not the language switch)."""
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo")
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")


def _own_errors(errors: list[str], failed: list[str]) -> list[str]:
    """Console errors, except the browser's own favicon request."""
    return [e for e in errors if "404" not in e] + [u for u in failed if not u.endswith("/favicon.ico")]


def test_dispatcher_accepts_an_option_with_a_click(page, world, fixed_now):
    call = new_call(world)
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    _login(page, "dispatcher-c1")
    page.console_errors.clear()  # the start page (dispatch board) loads map tiles: not this page
    failed.clear()
    page.goto(f"/psp/calls/{call.id}")
    rows = page.locator("#slot-options tbody tr")
    assert rows.count() >= 2
    rows.first.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert page.locator('[data-status="scheduled"]').count() == 1
    assert page.locator("#slot-options").count() == 0
    assert _own_errors(page.console_errors, failed) == []
    db.session.expire_all()
    assert call.status == "scheduled"


def test_tracking_page_on_a_phone(chromium, live_server, world, fixed_now):
    call = new_call(world)
    context = chromium.new_context(base_url=live_server, viewport={"width": 360, "height": 740},
                                   locale="fa-IR")
    pg = context.new_page()
    errors: list[str] = []
    failed: list[str] = []
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    pg.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    pg.goto(f"/track/{call.tracking_number}")
    assert pg.locator("#status").get_attribute("data-status") == "open"
    pg.fill("#digits", call.merchant.phone[-4:])
    pg.click("#verify button[type=submit]")
    pg.wait_for_load_state("networkidle")
    assert pg.locator("#history li").count() == 1
    assert pg.evaluate("document.documentElement.scrollWidth") <= 360
    assert _own_errors(errors, failed) == []
    context.close()


def test_after_the_shift_the_dispatcher_sees_why_and_takes_tomorrows_option_on_a_phone(chromium, live_server,
                                                                                       world, fixed_now):
    """Issue 19 point 6: at 20:00 the page says today's shifts are over and offers tomorrow."""
    from datetime import timedelta

    from tests.calls.conftest import DAY, tehran

    fixed_now(tehran(DAY, "20:00"))
    call = new_call(world, at=tehran(DAY, "20:00"))
    context = chromium.new_context(base_url=live_server, viewport={"width": 360, "height": 740}, locale="fa-IR")
    pg = context.new_page()
    errors: list[str] = []
    failed: list[str] = []
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    pg.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    _login(pg, "dispatcher-c1")
    errors.clear()
    failed.clear()
    pg.goto(f"/psp/calls/{call.id}")
    assert pg.locator("#slot-reason").get_attribute("data-reason") == "shift_over"
    rows = pg.locator("#slot-options tbody tr")
    assert rows.count() >= 1
    assert rows.first.locator("input[name=date]").get_attribute("value") == (DAY + timedelta(days=1)).isoformat()
    assert pg.evaluate("document.documentElement.scrollWidth") <= 360
    rows.first.locator("button[type=submit]").click()
    pg.wait_for_load_state("networkidle")
    assert pg.locator('[data-status="scheduled"]').count() == 1
    assert _own_errors(errors, failed) == []
    context.close()
    db.session.expire_all()
    from sqlalchemy import select

    from fieldsvc.visits import models as m
    visit = db.session.scalars(select(m.Visit).where(m.Visit.service_call_id == call.id)).one()
    assert call.status == "scheduled" and visit.planned_date == DAY + timedelta(days=1)
