"""The navigation bar: entries grouped into menus by area, each user seeing only their own."""
from __future__ import annotations

import re

from tests.conftest import login


def _bar(html: str) -> str:
    return html[html.index('<nav class="navbar'):html.index("</nav>")]


def test_staff_see_a_few_menus_and_every_page_they_may_open(client, world):
    login(client, "admin")
    bar = _bar(client.get("/psp/calls/").get_data(as_text=True))
    menus = re.findall(r'dropdown-toggle[^"]*"[^>]*>([^<]+)</a>', bar)
    assert len(menus) <= 5, menus  # one line on a laptop (the layout browser test measures it)
    for path in ("/psp/calls/", "/dispatch/", "/psp/performance", "/admin", "/kb"):
        assert f'href="{path}' in bar, path
    # the menu holding the page one is on is marked
    open_menu = r'dropdown-toggle active[^>]*>[^<]+</a>\s*<ul class="dropdown-menu[^"]*">\s*'
    assert re.search(open_menu + r'<li><a class="dropdown-item active" href="/psp/calls/"', bar)


def test_a_technician_gets_lone_links_not_menus(client, world):
    login(client, "tech-c1-1")
    bar = _bar(client.get("/tech/").get_data(as_text=True))
    assert "dropdown-toggle" not in bar
    assert 'href="/tech/"' in bar or 'href="/tech"' in bar
    assert "/dispatch/" not in bar and "/admin" not in bar
