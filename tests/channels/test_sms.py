"""SMS: part counting (GSM 7-bit and UCS-2), status texts within two parts, the file outbox, the
Kavenegar-style HTTP gateway against a local fake, and each merchant's choice of SMS or e-mail."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from fieldsvc.db import db
from fieldsvc.visits.desk import calls as svc
from fieldsvc.visits.desk import sms
from fieldsvc.visits.master.requesters import RequesterError
from fieldsvc.web.mail import read_outbox
from fieldsvc.web.sms_notify import status_text
from tests.conftest import login


@pytest.mark.parametrize("text,encoding,parts", [
    ("a" * 160, "gsm7", 1), ("a" * 161, "gsm7", 2), ("a" * 306, "gsm7", 2), ("a" * 307, "gsm7", 3),
    ("[" * 80, "gsm7", 1), ("[" * 81, "gsm7", 2),               # extension characters count twice
    ("س" * 70, "ucs2", 1), ("س" * 71, "ucs2", 2), ("س" * 134, "ucs2", 2), ("س" * 135, "ucs2", 3),
    ("a" * 69 + "س", "ucs2", 1), ("a" * 70 + "س", "ucs2", 2),  # one Persian letter makes it all UCS-2
    ("😀" * 35, "ucs2", 1), ("😀" * 36, "ucs2", 2),              # surrogate pairs are two units
])
def test_parts_are_counted_as_phones_count_them(text, encoding, parts):
    size = sms.sms_size(text)
    assert (size.encoding, size.parts) == (encoding, parts)


def test_fit_keeps_whole_optional_lines_within_the_limit():
    required = "س" * 120
    assert sms.fit(required, "کوتاه\n" + "ب" * 40) == required + "\nکوتاه"
    assert sms.sms_size(sms.fit(required, "ب" * 100)).parts == 2


@pytest.mark.parametrize("language", ["fa", "en"])
@pytest.mark.parametrize("status", list(svc.STATUS_LABELS))
def test_every_status_text_fits_two_parts_with_the_merchants_link(app, world, language, status):
    call = svc.open_call(world.users["psp-p1"], priority="urgent", symptom_code="printer", terminal_serial="SN110")
    call.technician = world.technicians[0]
    base = "https://pos-support.example-psp.ir"
    text = status_text(call, status, base, "s" * 48, language)
    size = sms.sms_size(text)
    assert size.parts <= 2, (size, text)
    assert f"{base}/track/{call.tracking_number}?key=" in text
    if language == "fa":
        assert size.encoding == "ucs2"


def test_a_new_call_goes_to_the_merchant_by_sms_and_email_by_default(app, world):
    call = svc.open_call(world.users["psp-p1"], priority="urgent", symptom_code="printer", terminal_serial="SN110")
    [text] = sms.read_sms_outbox(sms.sms_outbox_dir(app.config))
    assert text["to"] == "09120001100" and call.tracking_number in text["text"] and text["parts"] <= 2
    assert any(m["To"] == "shop11@example.com" for m in read_outbox(app.config["OUTBOX_DIR"]))


def test_sms_only_merchants_get_no_email_and_email_only_ones_no_sms(app, world):
    user = world.users["psp-p1"]
    m11, m12 = world.merchants[1], world.merchants[2]
    sms.set_preference(user, m11, "sms")
    sms.set_preference(user, m12, "email")
    svc.open_call(user, priority="urgent", symptom_code="printer", terminal_serial="SN110")
    svc.open_call(user, priority="urgent", symptom_code="printer", terminal_serial="SN120")
    assert [s["to"] for s in sms.read_sms_outbox(sms.sms_outbox_dir(app.config))] == ["09120001100"]
    to = {m["To"] for m in read_outbox(app.config["OUTBOX_DIR"])}
    assert "shop11@example.com" not in to and "shop12@example.com" in to
    assert "c1@example.com" in to  # the contractor is told either way


def test_a_landline_shop_needs_a_mobile_for_sms(app, world):
    user = world.users["psp-p1"]
    shop = world.merchants[1]
    shop.phone = "02188776655"
    db.session.commit()
    with pytest.raises(RequesterError) as e:
        sms.set_preference(user, shop, "sms")
    assert e.value.field == "mobile"
    with pytest.raises(RequesterError) as e:
        sms.set_preference(user, shop, "sms", mobile="02188776655")
    assert e.value.field == "mobile"
    pref = sms.set_preference(user, shop, "sms", mobile="+98 935 000 1122")
    assert pref.mobile == "09350001122" and sms.sms_number(shop) == "09350001122"


def test_the_http_gateway_posts_to_the_provider(httpserver):
    httpserver.expect_request("/v1/KEY123/sms/send.json", method="POST").respond_with_json(
        {"return": {"status": 200, "message": "تایید شد"}, "entries": [{"messageid": 8792343, "status": 1}]})
    gw = sms.KavenegarGateway(httpserver.url_for("/v1"), "KEY123", sender="10004346")
    assert gw.send("09120001100", "درخواست شما ثبت شد") == "8792343"
    [(request, _)] = httpserver.log
    assert request.form["receptor"] == "09120001100" and request.form["sender"] == "10004346"
    assert request.form["message"] == "درخواست شما ثبت شد"


def test_the_http_gateway_raises_on_refusal(httpserver):
    httpserver.expect_request("/v1/KEY123/sms/send.json").respond_with_json(
        {"return": {"status": 418, "message": "credit"}, "entries": None}, status=418)
    with pytest.raises(sms.SmsError, match="418"):
        sms.KavenegarGateway(httpserver.url_for("/v1"), "KEY123").send("09120001100", "x")


def test_the_configured_http_gateway_sends_call_notifications(app, world, httpserver):
    httpserver.expect_request("/v1/K/sms/send.json").respond_with_json(
        {"return": {"status": 200, "message": "ok"}, "entries": [{"messageid": 1}]})
    app.config.update(SMS_GATEWAY="kavenegar", SMS_URL=httpserver.url_for("/v1"), SMS_API_KEY="K")
    call = svc.open_call(world.users["psp-p1"], priority="urgent", symptom_code="printer", terminal_serial="SN110")
    [(request, _)] = httpserver.log
    assert call.tracking_number in request.form["message"] and request.form["receptor"] == "09120001100"


def test_a_failing_gateway_never_blocks_the_call(app, world, httpserver):
    httpserver.expect_request("/v1/K/sms/send.json").respond_with_data("down", status=502)
    app.config.update(SMS_GATEWAY="kavenegar", SMS_URL=httpserver.url_for("/v1"), SMS_API_KEY="K")
    svc.open_call(world.users["psp-p1"], priority="urgent", symptom_code="printer", terminal_serial="SN110")
    assert len(db.session.scalars(select(svc.ServiceCall)).all()) == 1


def test_the_notify_api_and_page_refuse_bad_input_and_save_good(client, world):
    login(client, "psp-p1")
    mid = world.merchants[1].id
    bad = client.put(f"/api/v1/merchants/{mid}/notify-by", json={"notify_by": "fax"})
    assert bad.status_code == 422 and bad.get_json()["error"]["field"] == "notify_by"
    bad = client.put(f"/api/v1/merchants/{mid}/notify-by", json={"notify_by": "sms", "mobile": "021"})
    assert bad.status_code == 422 and bad.get_json()["error"]["field"] == "mobile"
    assert client.get(f"/api/v1/merchants/{mid}/notify-by").get_json()["notify_by"] == "both"
    ok = client.put(f"/api/v1/merchants/{mid}/notify-by", json={"notify_by": "sms"})
    assert ok.status_code == 200 and ok.get_json() == {"notify_by": "sms", "mobile": ""}
    other = client.put(f"/api/v1/merchants/{world.merchants[3].id}/notify-by", json={"notify_by": "sms"})
    assert other.status_code == 404  # another PSP's merchant
    page = client.post("/psp/desk/notify", data={"merchant_code": "m12", "notify_by": "email"})
    assert page.status_code == 302
    assert sms.preference(world.merchants[2]).notify_by == "email"
    assert client.post("/psp/desk/notify", data={"merchant_code": "nope", "notify_by": "email"}).status_code == 422


def test_the_cli_sends_a_test_sms(app):
    from fieldsvc.cli import main
    out = app.test_cli_runner().invoke(main, ["channels", "send-sms", "--to", "۰۹۱۲۱۲۳۴۵۶۷", "--text", "سلام"])
    assert out.exit_code == 0, out.output
    [sent] = sms.read_sms_outbox(sms.sms_outbox_dir(app.config))
    assert json.dumps(sent, ensure_ascii=False) and sent["to"] == "09121234567" and sent["parts"] == 1
