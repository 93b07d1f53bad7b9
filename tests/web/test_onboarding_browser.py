"""In a real headless Chromium on a 360 px phone screen, in Persian (RTL): the administrator walks
the set-up pages — a PSP, a contractor, a region pasted as GeoJSON, a contract from the 7×24 preset,
a login, a merchants file previewed and imported — without console errors or sideways scrolling."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from fieldsvc.db import db
from fieldsvc.visits import models as m
from tests.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SQUARE = {"type": "Polygon", "coordinates": [[[51.30, 35.65], [51.50, 35.65], [51.50, 35.80], [51.30, 35.80],
                                              [51.30, 35.65]]]}


def _fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 362, f"{page.url} is {width}px wide on a 360px screen"
    assert page.evaluate("document.documentElement.dir") == "rtl"


def _submit(page, form: str) -> None:
    page.click(f"{form} button[type=submit]")
    page.wait_for_load_state("networkidle")


def test_admin_walks_the_onboarding_pages_on_a_phone(page, world, tmp_path):
    world.users["admin"].language = "fa"
    db.session.commit()
    page.set_viewport_size({"width": 360, "height": 740})
    browser_login(page, "admin")
    page.console_errors.clear()  # the start page loads map tiles from the internet: not these pages
    page.goto("/setup/")
    _fits(page)
    assert page.locator("#setup-steps li").count() == 9

    page.click("#setup-steps a[href='/setup/psps']")
    page.click("#new-record")
    page.fill("#code", "saman")
    page.fill("#name", "Saman Pay")
    page.fill("#name_fa", "سامان")
    _submit(page, "#record-form")
    assert page.url.endswith("/setup/psps")
    assert page.locator("#records tbody tr", has_text="SAMAN").count() == 1
    _fits(page)

    page.goto("/setup/contractors/new")
    page.fill("#code", "fixit")
    page.fill("#name", "Fixit")
    _submit(page, "#record-form")
    page.goto("/setup/regions/new")
    page.fill("#code", "thr")
    page.fill("#name", "Tehran")
    page.fill("#geometry", json.dumps({**SQUARE, "coordinates": [[[51.3, 35.65], [51.5, 35.8], [51.5, 35.65],
                                                                   [51.3, 35.8], [51.3, 35.65]]]}))
    _submit(page, "#record-form")
    assert page.locator("#geometry.is-invalid").count() == 1  # a bow tie crosses itself
    _fits(page)
    page.fill("#geometry", json.dumps(SQUARE))
    _submit(page, "#record-form")
    assert page.url.endswith("/setup/regions")

    psp = db.session.scalars(select(m.Psp).where(m.Psp.code == "SAMAN")).one()
    page.goto("/setup/contracts/new")
    page.click("#preset-form button[value='24x7']")
    page.wait_for_load_state("networkidle")
    assert page.input_value("#critical__response_minutes") == "120"
    page.fill("#code", "saman-fixit")
    page.select_option("#psp_id", str(psp.id))
    page.select_option("#contractor_id", label="FIXIT — Fixit")
    page.fill("#valid_from", "1405/01/01")
    page.select_option("#region_ids", label="THR — Tehran")
    page.select_option("#preset", "24x7")
    _fits(page)
    _submit(page, "#contract-form")
    assert "/setup/contracts/" in page.url
    assert page.locator("#versions tbody tr").count() == 1
    _fits(page)

    page.goto("/setup/users/new")
    page.fill("#username", "saman-desk")
    page.select_option("#role", "psp")
    page.select_option("#psp_id", str(psp.id))
    page.fill("#password", "first-pass-1")
    _submit(page, "#user-form")
    assert page.locator("#users tbody tr", has_text="saman-desk").count() == 1

    csv = tmp_path / "shops.csv"
    csv.write_text("psp,code,name,lat,lon\nsaman,1001,Shop One,35.70,51.40\nsaman,1002,Shop Two,35.71,51.41\n",
                   encoding="utf-8")
    page.goto("/setup/imports")
    page.set_input_files("#file", str(csv))
    _submit(page, "#upload-form")
    assert page.locator("#import-preview").count() == 1
    _fits(page)
    _submit(page, "#confirm-form")
    assert db.session.scalar(select(m.Merchant.id).where(m.Merchant.code == "1002")) is not None
    # the one 422 is the refused bow tie above
    assert [e for e in page.console_errors if "422" not in e] == []
