"""/psp pages: render, scope, every number links to a list of that many rows, ledger decisions."""
from __future__ import annotations

import re
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.scorecards.ledger import recompute_period
from tests.conftest import login as _login
from tests.scorecard.dataset import END, NOW, START

Q = "from=2026-05-01&to=2026-05-31"


def login(client, username: str) -> None:
    """Log in and switch to English, so the assertions can read the English labels."""
    _login(client, username)
    client.post("/lang/en")


def _links(html: str, prefix: str) -> list[str]:
    return [h.replace("&amp;", "&") for h in re.findall(r'href="(/psp/[^"]*)"', html) if h.startswith(prefix)]


def test_psp_home_is_the_landing_page(client, month):
    login(client, "psp-p1")
    r = client.get("/", follow_redirects=True)
    assert r.status_code == 200 and r.request.path == "/psp/"
    html = r.get_data(as_text=True)
    assert "Contractor 1" in html and "Contractor 2" not in html and "psp-bars" in html
    for href in _links(html, "/psp/unresolved") + _links(html, "/psp/overdue"):
        assert client.get(href).status_code == 200, href


def test_performance_numbers_link_to_lists_of_that_size(client, month):
    login(client, "psp-p1")
    r = client.get(f"/psp/performance?{Q}")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "/psp/scorecards.xlsx" in html
    # em_calls of c1 is 5: its link opens a list of 5 calls
    href = next(h for h in _links(html, "/psp/work") if "list=em_calls" in h)
    page = client.get(href).get_data(as_text=True)
    assert len(re.findall(r"/psp/calls/\d+", page)) == 5
    for href in set(_links(html, "/psp/work")):
        assert client.get(href).status_code == 200, href
    detail = client.get(f"/psp/performance/c1?{Q}")
    text = detail.get_data(as_text=True)
    assert detail.status_code == 200 and "polyline" in text and "late_response" not in text
    for href in set(_links(text, "/psp/work")):
        assert client.get(href).status_code == 200, href


def test_download_button_gives_the_workbook(client, month):
    login(client, "psp-p1")
    r = client.get(f"/psp/scorecards.xlsx?{Q}")
    assert r.status_code == 200
    wb = load_workbook(BytesIO(r.data))
    assert "c1" in wb.sheetnames and "c2" not in wb.sheetnames


def test_services_unresolved_and_scope(client, month):
    login(client, "psp-p2")
    assert client.get(f"/psp/performance/c1?{Q}").status_code == 404
    html = client.get(f"/psp/services?{Q}").get_data(as_text=True)
    assert "Contractor 2" in html and "Contractor 1" not in html
    assert client.get("/psp/unresolved?hours=24").status_code == 200
    r = client.get(f"/psp/work?list=em_calls&{Q}")
    assert len(re.findall(r"/psp/calls/\d+", r.get_data(as_text=True))) == 1
    client.post("/logout")
    login(client, "tech-c1-1")
    assert client.get("/psp/").status_code == 403


def test_dispatcher_sees_own_scorecard_per_technician(client, month):
    login(client, "dispatcher-c1")
    r = client.get(f"/psp/performance?{Q}&group_by=technician")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Tech 1-1" in html and "Tech 2-1" not in html
    assert client.get(f"/psp/performance/c2?{Q}").status_code == 404


def test_ledger_page_confirm_and_waive(client, month, world):
    recompute_period(START, END, user=None, now=NOW)
    login(client, "psp-p1")
    html = client.get(f"/psp/penalties?{Q}").get_data(as_text=True)
    assert "/confirm" in html and "Confirm" in html
    line = db.session.scalars(select(m.PenaltyLine).where(m.PenaltyLine.kind == "missed_pm")).first()
    r = client.post(f"/psp/penalties/{line.id}/waive", data={"reason": "", "from": "2026-05-01", "to": "2026-05-31"},
                    follow_redirects=True)
    assert "Write the reason for waiving" in r.get_data(as_text=True)
    client.post(f"/psp/penalties/{line.id}/waive", data={"reason": "renovation", "from": "2026-05-01",
                                                         "to": "2026-05-31"})
    db.session.refresh(line)
    assert (line.status, line.reason) == ("waived", "renovation")
    other = db.session.scalars(select(m.PenaltyLine).where(m.PenaltyLine.status == "proposed")).first()
    client.post(f"/psp/penalties/{other.id}/confirm", data={"from": "2026-05-01", "to": "2026-05-31"})
    db.session.refresh(other)
    assert other.status == "confirmed"
    r = client.post("/psp/penalties/recompute", data={"from": "2026-05-01", "to": "2026-05-31"},
                    follow_redirects=True)
    assert r.status_code == 200
    client.post("/logout")
    login(client, "psp-p2")
    assert client.post(f"/psp/penalties/{other.id}/confirm", data={}).status_code == 404
    assert "renovation" not in client.get(f"/psp/penalties?{Q}").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/psp/", "/psp/services", "/psp/performance"])
def test_persian_charts_have_persian_digits_and_whole_labels(client, month, path):
    """Issue 17.5: bars are HTML (labels wrap, never cut to a letter), values in Persian digits,
    labels marked as Latin codes."""
    _login(client, "psp-p1")
    client.post("/lang/fa")
    html = client.get(path).get_data(as_text=True)
    chart = html[html.index('<figure class="psp-bars"'):html.index("</figure>")]
    values = re.findall(r'class="psp-bar-value"><bdi>([^<]*)</bdi>', chart)
    assert values and not any(re.search(r"[0-9]", v) for v in values), values
    labels = re.findall(r'<bdi class="code" dir="ltr" translate="no">([^<]*)</bdi>', chart)
    assert labels and all(len(label) > 1 for label in labels)
