"""In a real headless Chromium: the merchant's self-service on a 360 px phone (Persian), and the desk
sending a suggested article from the call page."""
from __future__ import annotations

import pytest

from fieldsvc.db import db
from fieldsvc.visits.desk import calls as svc
from fieldsvc.visits.desk_extra_models import KbArticleUse, MerchantComment, ServiceFeedback
from tests.calls.conftest import new_call
from tests.kb.conftest import article

pytestmark = pytest.mark.browser


def _resolved(world):
    call = new_call(world, serial="SN100", symptom="printer")
    d = world.users["dispatcher-c1"]
    svc.assign_technician(call, world.technicians[0].id, d)
    svc.start_call(call, d)
    svc.resolve_call(call, d, note="paper roll turned")
    return call


def test_merchant_self_service_on_a_phone(chromium, live_server, world, fixed_now):
    call = _resolved(world)
    other = new_call(world, serial="SN101", symptom="battery")
    context = chromium.new_context(base_url=live_server, viewport={"width": 360, "height": 740}, locale="fa-IR")
    pg = context.new_page()
    errors: list[str] = []
    failed: list[str] = []
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    pg.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    try:
        pg.goto(f"/track/{call.tracking_number}")
        assert pg.locator("#comment-form").count() == 0  # nothing before the phone digits
        pg.fill("#digits", call.merchant.phone[-4:])
        pg.click("#verify button[type=submit]")
        pg.wait_for_load_state("networkidle")
        assert pg.locator(f'#shop-calls [data-call="{other.tracking_number}"]').count() == 1
        pg.fill("#comment-text", "کاغذ را عوض کردم")
        pg.click("#comment-form button[type=submit]")
        pg.wait_for_load_state("networkidle")
        assert "کاغذ را عوض کردم" in pg.locator("#comment-list").inner_text()
        pg.click("#confirm-fix")
        pg.wait_for_load_state("networkidle")
        assert pg.locator("#status").get_attribute("data-status") == "closed"
        for name, n in (("score", 5), ("speed_score", 4), ("technician_score", 5), ("quality_score", 3)):
            pg.click(f"label[for={name}{n}]")
        pg.click("#survey button[type=submit]")
        pg.wait_for_load_state("networkidle")
        # the page fits the phone: no horizontal scrolling
        assert pg.evaluate("document.documentElement.scrollWidth") <= 360
        assert [e for e in errors] == [] and [u for u in failed if not u.endswith("/favicon.ico")] == []
    finally:
        context.close()
    db.session.expire_all()
    assert db.session.query(MerchantComment).count() == 1
    fb = db.session.query(ServiceFeedback).one()
    assert (call.status, call.survey_score, fb.quality_score) == ("closed", 5, 3)


def test_desk_sends_a_suggested_article_and_records_the_fix(page, world, fixed_now):
    a = article(world)
    call = new_call(world, serial="SN100", symptom="printer")
    page.goto("/login")
    page.fill("input[name=username]", "psp-p1")
    page.fill("input[name=password]", "demo")
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")
    page.goto(f"/psp/calls/{call.id}")
    item = page.locator(f'#kb-suggestions [data-article="{a.id}"]')
    assert item.count() == 1
    item.locator("input[name=channel][value=email] + button").click()
    page.wait_for_load_state("networkidle")
    item = page.locator(f'#kb-suggestions [data-article="{a.id}"]')
    item.locator("input[name=outcome][value=fixed] + button").click()
    page.wait_for_load_state("networkidle")
    assert page.locator(f'#kb-suggestions [data-article="{a.id}"] .kb-outcome').count() == 1
    db.session.expire_all()
    use = db.session.query(KbArticleUse).one()
    assert use.emailed_at is not None and use.outcome == "fixed"


def test_intake_suggests_articles_for_the_terminal_and_symptom(page, world):
    a = article(world)
    page.goto("/login")
    page.fill("input[name=username]", "psp-p1")
    page.fill("input[name=password]", "demo")
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")
    page.goto("/psp/calls/new")
    assert page.locator("#kb-intake").is_hidden()
    page.fill("input[name=terminal_serial]", "SN100")
    page.select_option("select[name=symptom]", "printer")
    page.locator(f'#kb-intake-list [data-article="{a.id}"]').wait_for()
    assert page.locator("#kb-intake").is_visible()
