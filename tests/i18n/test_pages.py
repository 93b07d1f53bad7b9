"""Key pages in Persian and English (issue 9, points 2, 3 and 6): `lang`/`dir`, the RTL stylesheet,
a translated heading, Jalali dates and Persian digits in Persian; Gregorian and ASCII in English."""
from __future__ import annotations

import re

import pytest

from fieldsvc.dates import format_date
from fieldsvc.db import db

RTL_CSS = "css/bootstrap.rtl.min.css"
LTR_CSS = "css/bootstrap.min.css"


def _h1(html: str) -> str:
    m = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)
    assert m, "the page has no <h1>"
    return re.sub(r"<[^>]+>", "", m.group(1))


PAGES = [
    # role, path (format with the tenant fixture), Persian heading, English heading, shows today's date
    ("anonymous", "/login", "ورود", "Log in", False),
    ("anonymous", "/track/", "پیگیری درخواست پشتیبانی", "Track a service call", False),
    ("technician", "/tech/", "مسیر من", "My route", True),
    ("dispatcher", "/dispatch/", "اعزام", "Dispatch", True),
    ("psp", "/psp/", "کارهای باز در این لحظه", "Open work now", False),
    ("psp", "/psp/penalties", "دفتر جریمه\u200cها", "Penalty ledger", True),
    ("admin", "/admin/audit", "گزارش رویدادها", "Audit trail", False),
    ("technician", "/account", "حساب من", "My account", False),
]


@pytest.mark.parametrize(("role", "path", "fa_heading", "en_heading", "shows_today"), PAGES)
def test_page_in_both_languages(role, path, fa_heading, en_heading, shows_today, tenants, clients) -> None:
    path = path.format(call=tenants.a.call.id)
    client = clients[role]
    fa = client.get(path, headers={"Accept-Language": "fa-IR,fa;q=0.9,en;q=0.5"})
    assert fa.status_code == 200, path
    html = fa.get_data(as_text=True)
    assert '<html lang="fa" dir="rtl">' in html
    assert RTL_CSS in html and LTR_CSS not in html
    assert re.search(r"[\u0600-\u06ff]", _h1(html)), f"{path}: the Persian heading is not Persian: {_h1(html)!r}"
    if fa_heading:
        assert fa_heading in _h1(html)
    if shows_today:
        assert format_date(tenants.today, "fa") in html  # e.g. "۱ آذر ۱۴۰۵"
    en = client.get(path, headers={"Accept-Language": "en-US,en;q=0.9"})
    html_en = en.get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in html_en
    assert LTR_CSS in html_en and RTL_CSS not in html_en
    if en_heading:
        assert en_heading in _h1(html_en)
    assert not re.search(r"[\u0600-\u06ff]", _h1(html_en).replace("فارسی", "")), _h1(html_en)
    if shows_today:
        assert tenants.today.isoformat() in html_en


def test_call_page_shows_persian_digits_and_jalali_times(tenants, clients) -> None:
    html = clients["psp"].get(f"/psp/calls/{tenants.a.call.id}", headers={"Accept-Language": "fa"}).get_data(as_text=True)
    body = html.split("<main", 1)[1]
    jalali_month = re.search(r"[۰-۹]+ (فروردین|اردیبهشت|خرداد|تیر|مرداد|شهریور|مهر|آبان|آذر|دی|بهمن|اسفند) [۰-۹]{4}", body)
    assert jalali_month, "no Jalali date on the call page"


def test_amounts_in_rial_or_toman_with_persian_separators(tenants, clients) -> None:
    client = clients["psp"]
    html = client.get("/psp/penalties", headers={"Accept-Language": "fa"}).get_data(as_text=True)
    assert "۲۵۰٬۰۰۰ ریال" in html
    html = client.get("/psp/penalties", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "250,000 Rial" in html
    user = tenants.world.users["psp-p1"]
    user.show_toman = True
    db.session.commit()
    html = client.get("/psp/penalties", headers={"Accept-Language": "fa"}).get_data(as_text=True)
    assert "۲۵٬۰۰۰ تومان" in html and "۲۵۰٬۰۰۰ ریال" not in html


def test_language_choice_order(tenants, clients, app) -> None:
    """The user's setting, else the session's choice, else the browser's Accept-Language."""
    anon = app.test_client()
    assert 'lang="en"' in anon.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'lang="fa"' in anon.get("/login", headers={"Accept-Language": "fa"}).get_data(as_text=True)
    assert 'lang="fa"' in anon.get("/login", headers={"Accept-Language": "de"}).get_data(as_text=True)  # default
    r = anon.post("/lang/en", data={"next": "/login"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/login")
    assert 'lang="en"' in anon.get("/login", headers={"Accept-Language": "fa"}).get_data(as_text=True)
    tech = clients["technician"]
    tech.post("/lang/fa", data={"next": "/account"})
    user = tenants.world.users["tech-c1-1"]
    db.session.refresh(user)
    assert user.language == "fa"
    other = app.test_client()  # a new browser: the user's setting follows them
    other.post("/login", data={"username": "tech-c1-1", "password": "demo"})
    assert 'lang="fa"' in other.get("/account", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_language_switch_is_on_every_page(tenants, clients) -> None:
    for role, path in (("anonymous", "/login"), ("technician", "/tech/"), ("dispatcher", "/dispatch/"),
                       ("psp", "/psp/"), ("admin", "/admin/audit")):
        html = clients[role].get(path, headers={"Accept-Language": "fa"}).get_data(as_text=True)
        assert 'action="/lang/en"' in html, path
        html = clients[role].get(path, headers={"Accept-Language": "en"}).get_data(as_text=True)
        assert 'action="/lang/fa"' in html, path


def test_display_filters(app) -> None:
    import datetime as dt

    from flask import render_template_string
    from flask_babel import refresh

    t = dt.datetime(2026, 11, 22, 5, 30, tzinfo=dt.timezone.utc)  # 09:00 in Tehran
    src = "{{ t|date }}|{{ t|time }}|{{ 1234567|number }}|{{ 2500000|amount }}|{{ '08:00'|digits }}|{{ 85.4|percent }}"
    with app.test_request_context("/", headers={"Accept-Language": "fa"}):
        refresh()
        assert render_template_string(src, t=t) == "۱ آذر ۱۴۰۵|۰۹:۰۰|۱٬۲۳۴٬۵۶۷|۲٬۵۰۰٬۰۰۰ ریال|۰۸:۰۰|۸۵٪"
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        refresh()
        assert render_template_string(src, t=t) == "2026-11-22|09:00|1,234,567|2,500,000 Rial|08:00|85%"


def test_conflict_message_in_the_users_language(app) -> None:
    from flask_babel import refresh

    from fieldsvc.visits.states import IllegalTransition
    from fieldsvc.web.errors import transition_message

    e = IllegalTransition("visit", "completed", "checked_in")
    with app.test_request_context("/", headers={"Accept-Language": "fa"}):
        refresh()
        assert "«انجام\u200cشده»" in transition_message(e) and "«ورود ثبت شده»" in transition_message(e)
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        refresh()
        assert transition_message(e).startswith("Not possible now: this visit is “Completed” and cannot become "
                                                "“Checked in”.")
