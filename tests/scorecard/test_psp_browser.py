"""The /psp tables in a real browser: sort, filter, no console errors, a phone-sized screen."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser
Q = "from=2026-05-01&to=2026-05-31"


def browser_login(page, username: str) -> None:
    """Log in through the real form (Enter in the password field, not the navbar's buttons)."""
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo")
    page.press("input[name=password]", "Enter")
    page.wait_for_load_state("networkidle")


def test_performance_table_sorts_and_filters(page, month):
    browser_login(page, "admin")
    page.console_errors.clear()          # the admin's landing page (dispatch board) is not ours
    page.goto(f"/psp/performance?{Q}")
    rows = page.locator("#performance tbody tr")
    assert rows.count() == 2
    codes = lambda: [t.strip() for t in page.locator("#performance tbody tr td:nth-child(2) span").all_inner_texts()]
    assert codes() == ["c2", "c1"]                      # ranked by score
    page.locator("#performance thead th").nth(0).click()  # rank ascending
    page.locator("#performance thead th").nth(0).click()  # rank descending
    assert codes() == ["c1", "c2"]
    page.fill("input[data-filter-for=performance]", "c2")
    assert page.locator("#performance tbody tr:not([hidden])").count() == 1
    assert page.console_errors == []


def test_phone_width_pages_render_without_errors(page, month):
    page.set_viewport_size({"width": 360, "height": 740})
    browser_login(page, "psp-p1")
    page.console_errors.clear()
    for path in ("/psp/", f"/psp/services?{Q}", f"/psp/performance/c1?{Q}", f"/psp/penalties?{Q}",
                 "/psp/unresolved?hours=24"):
        page.goto(path)
        assert page.locator("h1").count() == 1, path
        # nothing but the scrollable tables is wider than the screen
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= 380, (path, overflow)
    assert page.console_errors == []
