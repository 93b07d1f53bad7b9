"""The new pages on a phone and a laptop, in Persian and English: nothing scrolls sideways, every
action stays in view, and Persian pages show no Latin digits outside codes (the checks of
tests/web/test_layout_browser.py)."""
from __future__ import annotations

import datetime as dt

import pytest

from fieldsvc.db import db
from fieldsvc.visits.field import checklists
from fieldsvc.visits.history.config import change_config
from fieldsvc.visits.orders import campaigns
from tests.conftest import browser_login
from tests.tech.conftest import _device_times_just_before_the_day, day  # noqa: F401 (fixtures)
from tests.web.test_layout_browser import CHECKS, SIZES

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("language", ["fa", "en"])
@pytest.mark.parametrize("size", ["phone", "laptop"])
def test_campaign_checklist_and_comparison_pages_fit(chromium, live_server, world, language, size):
    psp = world.users["psp-p1"]
    psp.language = language
    db.session.commit()
    cl = checklists.create_checklist(psp, family="pax", name="PAX PM", items=[
        checklists.ItemInput(label="Battery voltage", label_fa="ولتاژ باتری", kind="reading", min_value=3.6,
                             max_value=4.2, unit="V", on_fail="order")])
    change_config(psp, world.terminals[0], {"firmware_version": "1.0"})
    deadline = dt.date.today() + dt.timedelta(days=20)
    c = campaigns.start_campaign(psp, campaigns.CampaignInput(
        code="S90-OUT", name="Replace S90", kind="model_replacement", deadline=deadline, target_model="PAX A920",
        regions=["r1"])).campaign
    pages = ["/campaigns", f"/campaigns/{c.id}", "/checklists", f"/checklists/{cl.id}", "/psp/year-on-year"]
    context = chromium.new_context(base_url=live_server, viewport=SIZES[size], locale=f"{language}-IR",
                                   is_mobile=size == "phone", has_touch=size == "phone")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    problems = {}
    try:
        browser_login(page, "psp-p1")
        for path in pages:
            page.goto(path)
            page.wait_for_load_state("load")
            assert page.get_attribute("html", "lang") == language
            found = page.evaluate(CHECKS, language == "fa")
            if found:
                problems[path] = found
    finally:
        context.close()
    assert not problems, "\n".join(f"{name}: {p}" for name, ps in problems.items() for p in ps)
    assert errors == []


def test_technician_checklist_fits_a_phone_in_persian(chromium, live_server, day, world):  # noqa: F811
    """The PM stop with its checklist and the merchant's question, Persian, 360 px wide."""
    checklists.create_checklist(world.users["psp-p1"], family="pax", name="PAX PM", items=[
        checklists.ItemInput(label="Battery voltage", label_fa="ولتاژ باتری", kind="reading", min_value=3.6,
                             max_value=4.2, unit="V"),
        checklists.ItemInput(label="Printer", label_fa="چاپگر"), checklists.ItemInput(label="Label", kind="photo")])
    world.users["tech-c1-1"].language = "fa"
    db.session.commit()
    context = chromium.new_context(base_url=live_server, viewport=SIZES["phone"], locale="fa-IR", is_mobile=True,
                                   has_touch=True)
    page = context.new_page()
    try:
        from tests.tech.conftest import phone_login
        phone_login(page, "tech-c1-1")
        page.evaluate("document.querySelectorAll('.checkout-form').forEach(f => f.classList.remove('d-none'))")
        assert page.locator(".checklist-item").count() == 9  # 3 terminals with a checklist × 3 items
        found = page.evaluate(CHECKS, True)
    finally:
        context.close()
    assert found == [], found
