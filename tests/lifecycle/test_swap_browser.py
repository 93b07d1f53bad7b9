"""A swap from the phone (headless Chromium at 360 px): the technician checks in at the EM call,
picks "Terminal swapped", types the new serial in Persian digits; the new terminal leaves the van
for the merchant and the old one is in the van, faulty — and the van page shows it."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from fieldsvc.db import db
from fieldsvc.visits import models as m
from tests.lifecycle.helpers import spare, van_of
from tests.tech.conftest import day, phone_login  # noqa: F401 - the day fixture
from tests.tech.test_tech_page import PHONE, card, phone, settled  # noqa: F401 - the phone fixture


@pytest.mark.browser
def test_swap_from_the_phone_takes_the_new_terminal_from_the_van(phone, day, world):  # noqa: F811
    page = phone
    tech = world.technicians[0]
    van = van_of(tech)
    spare("SWAP-1", world.psps[0], van)
    mer = day.em.merchant
    page.context.set_geolocation({"latitude": mer.lat, "longitude": mer.lon, "accuracy": 15})
    phone_login(page, "tech-c1-1")
    em = card(page, day.em)
    em.locator(".checkin-btn").click()
    expect(em.locator(".checkout-form")).to_be_visible()
    settled(page, m.Visit, day.em.id, lambda v: v.status == "checked_in")
    em.locator(".outcome").select_option("swapped")
    expect(em.locator(".new-serial")).to_be_visible()
    expect(em.locator(".old-serial")).to_have_value("SN110")
    em.locator(".new-serial").fill("swap-۱")
    em.locator(".checkout-btn").click()
    # seconds after the check-in: a visit this short needs a reason (issue 17.3)
    expect(em.locator(".stop-message")).to_contain_text("less than two minutes")
    em.locator(".checkout-reason").fill("Swap only: the terminal was dead")
    em.locator(".checkout-btn").click()
    expect(em.locator(".stop-message")).to_contain_text("Done")
    visit = settled(page, m.Visit, day.em.id, lambda v: v.status == "completed")
    assert visit.outcome == "swapped" and visit.new_serial == "SWAP-1"
    db.session.expire_all()
    places = {t.serial: db.session.get(m.TerminalPlace, t.id) for t in db.session.query(m.Terminal).filter(
        m.Terminal.serial.in_(["SN110", "SWAP-1"]))}
    assert places["SN110"].place_id == van.id and places["SN110"].faulty is True
    assert places["SWAP-1"].place.merchant_id == mer.id
    page.goto("/tech/van")
    expect(page.locator("main")).to_contain_text("SN110")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.console_errors == []
