"""E-mails and workbooks in the recipient's or the user's language (issue 9, point 5)."""
from __future__ import annotations

import email
import io
from email import policy
from pathlib import Path

from openpyxl import load_workbook

from fieldsvc.db import db


def test_call_mails_follow_each_recipients_language(app, tenants, clients) -> None:
    merchant = tenants.a.merchant
    merchant.language = "en"
    db.session.commit()
    r = clients["psp"].post("/api/v1/service-calls", json={"terminal_serial": tenants.a.terminal.serial,
                                                            "priority": "normal", "symptom": "printer"})
    assert r.status_code == 201, r.get_data(as_text=True)
    number = r.get_json()["tracking_number"]
    mails = [email.message_from_bytes(p.read_bytes(), policy=policy.default)
             for p in Path(app.config["OUTBOX_DIR"]).glob("*.eml")]
    by_to = {m["To"]: m for m in mails if number in m["Subject"]}
    shop, contractor = by_to[merchant.email], by_to[tenants.a.contractor.email]
    assert shop["Content-Language"] == "en" and "Service call" in shop["Subject"]
    assert contractor["Content-Language"] == "fa" and "درخواست پشتیبانی" in contractor["Subject"]
    html = contractor.get_body(("html",)).get_content()
    assert 'dir="rtl"' in html and 'lang="fa"' in html


def test_scorecard_workbook_in_the_users_language(tenants, clients) -> None:
    client = clients["psp"]
    fa = load_workbook(io.BytesIO(client.get("/psp/scorecards.xlsx", headers={"Accept-Language": "fa"}).data))
    assert "خلاصه" in fa.sheetnames and "جریمه\u200cها" in fa.sheetnames
    assert fa["خلاصه"].sheet_view.rightToLeft
    en = load_workbook(io.BytesIO(client.get("/psp/scorecards.xlsx", headers={"Accept-Language": "en"}).data))
    assert "Summary" in en.sheetnames and not en["Summary"].sheet_view.rightToLeft
