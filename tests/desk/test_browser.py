"""In a real headless Chromium on a phone-sized screen: a tier 1 agent resolves a call remotely
from the queue page, in Persian; the queue fits the phone's width."""
from __future__ import annotations

import pytest

from fieldsvc.db import db
from fieldsvc.visits import models as m
from tests.desk.conftest import new_call

pytestmark = pytest.mark.browser


def test_tier_1_agent_resolves_a_call_remotely_from_the_queue_on_a_phone(chromium, live_server, desk, clock):
    call = new_call(desk)
    other = new_call(desk, serial="SN110")
    desk.users["agent"].language = "fa"
    db.session.commit()
    context = chromium.new_context(base_url=live_server, viewport={"width": 360, "height": 740},
                                   is_mobile=True, has_touch=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto("/login")
        page.fill("input[name=username]", "agent")
        page.fill("input[name=password]", "demo")
        page.click("main form button[type=submit]")
        page.wait_for_load_state("networkidle")
        page.goto("/desk/queue/tier1")
        assert page.locator("html").get_attribute("dir") == "rtl"
        assert page.locator('[data-count="tier1"]').inner_text() == "۲"
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"the queue is {width} px wide on a 360 px screen"
        card = page.locator(f'[data-call-id="{call.id}"]')
        card.locator("details:has(.resolve-form) > summary").click()
        card.locator("select[name=resolution_code]").select_option("guided_merchant")
        card.locator("textarea[name=reason]").fill("کاغذ برعکس گذاشته شده بود")
        card.locator(".resolve-form button[type=submit]").click()
        page.wait_for_load_state("networkidle")
        assert page.url.endswith("/desk/queue/tier1")
        assert page.locator(".alert-success").count() == 1
        assert page.locator(f'[data-call-id="{call.id}"]').count() == 0  # left the queue
        assert page.locator(f'[data-call-id="{other.id}"]').count() == 1
        assert page.locator('[data-count="tier1"]').inner_text() == "۱"
    finally:
        context.close()
    db.session.expire_all()
    fixed = db.session.get(m.ServiceCall, call.id)
    assert fixed.status == "resolved" and fixed.resolution_code == "guided_merchant"
    assert fixed.remote_resolved_tier == "tier1" and fixed.first_responded_at is not None
    assert errors == []
