"""Logging out on the phone forgets the route kept for offline use (issue 16, point 6): the service
worker's caches (merchants' names and phones) and its registration go; the outbox goes only when it is
empty, or after the technician was told what would be lost and agreed."""
from __future__ import annotations

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests.tech.conftest import phone_login
from tests.tech.test_tech_page import phone  # noqa: F401 - the phone-sized browser fixture

CACHED = ("caches.keys().then(ks => Promise.all(ks.map(k => caches.open(k).then(c => c.match(location.href)))))"
          ".then(hits => hits.some(Boolean))")
TECH_CACHES = "caches.keys().then(ks => ks.filter(k => k.startsWith('fieldsvc-tech-')).length)"
OUTBOX = """() => new Promise((resolve) => {
  const req = indexedDB.open('fieldsvc-tech', 1);
  req.onupgradeneeded = () => req.result.createObjectStore('outbox', { keyPath: 'client_event_id' });
  req.onsuccess = () => { const all = req.result.transaction('outbox').objectStore('outbox').getAll();
    all.onsuccess = () => { req.result.close(); resolve(all.result.length); }; };
})"""
REFUSED_ITEM = """(visitId) => new Promise((resolve) => {
  const req = indexedDB.open('fieldsvc-tech', 1);
  req.onsuccess = () => { const tx = req.result.transaction('outbox', 'readwrite');
    tx.objectStore('outbox').put({ client_event_id: 'refused-1', visit_id: visitId, kind: 'check_out',
      url: '', body: {}, photos: [], seq: 1, status: 'failed', error: 'refused', label: 'Shop 1-0' });
    tx.oncomplete = () => { req.result.close(); resolve(true); }; };
})"""


def _ready_offline_copy(page) -> None:
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function(CACHED)


def _log_out(page) -> None:
    """Press the navbar's Log out button (opening the collapsed menu of the phone first)."""
    toggler = page.locator(".navbar-toggler")
    button = page.locator("form[action$='/logout'] [type=submit]")
    if toggler.is_visible() and not button.is_visible():
        toggler.click()
    button.click()


@pytest.mark.browser
def test_logout_with_an_empty_outbox_forgets_the_offline_route(phone, day) -> None:  # noqa: F811
    page = phone
    phone_login(page, "tech-c1-1")
    _ready_offline_copy(page)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    _log_out(page)
    page.wait_for_url("**/login")
    assert dialogs == []
    assert page.evaluate(TECH_CACHES) == 0
    assert page.evaluate("navigator.serviceWorker.getRegistrations().then(r => r.length)") == 0
    page.context.set_offline(True)
    try:
        page.goto("/tech/")
        shown = page.content()
    except PlaywrightError:
        shown = ""  # no copy to serve: the browser's own offline error
    assert day.pm.merchant.name not in shown and day.pm.merchant.phone not in shown
    assert page.console_errors == []


@pytest.mark.browser
def test_logout_says_what_would_be_lost_before_deleting_the_outbox(phone, day) -> None:  # noqa: F811
    page = phone
    phone_login(page, "tech-c1-1")
    _ready_offline_copy(page)
    page.evaluate(REFUSED_ITEM, day.pm.id)
    dialogs: list[str] = []
    answer = {"accept": False}

    def on_dialog(d) -> None:
        dialogs.append(d.message)
        d.accept() if answer["accept"] else d.dismiss()
    page.on("dialog", on_dialog)

    _log_out(page)  # the technician cancels: nothing is deleted, still logged in
    expect(page.locator("article.stop").first).to_be_visible()
    page.wait_for_timeout(300)
    assert len(dialogs) == 1 and "1 check-ins or check-outs" in dialogs[0] and "Shop 1-0" in dialogs[0]
    assert page.url.endswith("/tech/") and page.evaluate(OUTBOX) == 1 and page.evaluate(TECH_CACHES) == 1

    answer["accept"] = True  # agreed: the outbox and the offline copies go
    _log_out(page)
    page.wait_for_url("**/login")
    assert len(dialogs) == 2
    assert page.evaluate(TECH_CACHES) == 0 and page.evaluate(OUTBOX) == 0
