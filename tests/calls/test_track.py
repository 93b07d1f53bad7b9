"""The public tracking page: status only until the merchant proves the phone digits."""
from __future__ import annotations

from fieldsvc.db import db
from fieldsvc.visits.desk import calls as svc
from fieldsvc.visits.desk import slotting
from tests.calls.conftest import new_call


def test_status_only_until_the_phone_digits_match(client, world, fixed_now):
    call = new_call(world)
    url = f"/track/{call.tracking_number}"
    r = client.get(url)
    assert r.status_code == 200 and b'data-status="open"' in r.data
    assert call.merchant.name.encode() not in r.data and b'id="history"' not in r.data
    assert b'name="viewport"' in r.data  # phone-friendly layout
    phone = call.merchant.phone  # 09120001000
    r = client.post(url, data={"digits": "9999"})
    assert r.status_code == 403 and call.merchant.name.encode() not in r.data
    r = client.post(url, data={"digits": phone[-4:]})
    assert r.status_code == 303
    r = client.get(url)
    assert call.merchant.name.encode() in r.data and b'id="history"' in r.data
    assert b'id="eta"' not in r.data  # not scheduled yet


def test_persian_digits_are_accepted(client, world):
    call = new_call(world)
    persian = call.merchant.phone[-4:].translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert client.post(f"/track/{call.tracking_number}", data={"digits": persian}).status_code == 303


def test_technician_first_name_eta_and_confirmation_code_when_scheduled(client, app, world, fixed_now):
    """The phone digits show the technician and ETA, never the code: the technician knows the phone
    and the tracking number. The code shows only through the merchant's own link from the shop's
    e-mail (issue 16, point 2); the contractor's e-mail does not carry that link."""
    import re

    from fieldsvc.web.mail import read_outbox

    world.contracts[0].require_confirmation_code = True
    db.session.commit()
    call = new_call(world)
    slotting.assign_call(call.id, world.technicians[0].id, 0, world.users["dispatcher-c1"])
    url = f"/track/{call.tracking_number}"
    r = client.get(url)
    assert b'data-status="scheduled"' in r.data and b'id="eta"' not in r.data and b"Tech" not in r.data
    client.post(url, data={"digits": call.merchant.phone[-4:]})
    r = client.get(url)
    assert b'id="eta"' in r.data and b'id="technician">Tech<' in r.data
    assert call.confirmation_code.encode() not in r.data and b'id="code-by-mail"' in r.data

    mails = read_outbox(app.config["OUTBOX_DIR"])
    to_shop = [mm.get_body(("plain",)).get_content() for mm in mails if mm["To"] == call.merchant.email]
    to_contractor = [mm.get_body(("plain",)).get_content() for mm in mails if mm["To"] == call.contractor.email]
    links = {m.group(0) for text in to_shop for m in re.finditer(rf"http\S*{call.tracking_number}\?key=\w+", text)}
    assert len(links) == 1 and to_contractor and not any("key=" in text for text in to_contractor)
    link = links.pop().removeprefix("http://127.0.0.1:5000")

    wrong = app.test_client()
    r = wrong.get(link[:-4] + "0000", follow_redirects=True)
    assert call.confirmation_code.encode() not in r.data
    merchant = app.test_client()
    r = merchant.get(link)
    assert r.status_code == 302 and r.headers["Location"].endswith(url)  # the key leaves the address bar
    r = merchant.get(url)
    assert f'id="code">{call.confirmation_code}<'.encode() in r.data and b'id="technician">Tech<' in r.data


def test_survey_form_after_close_on_the_tracking_page(client, world):
    call = new_call(world)
    admin = world.users["admin"]
    svc.start_call(call, admin)
    svc.resolve_call(call, admin)
    svc.close_call(call, world.users["psp-p1"])
    url = f"/track/{call.tracking_number}"
    assert client.post(f"{url}/survey", data={"score": "5"}).status_code == 403  # not verified yet
    client.post(url, data={"digits": call.merchant.phone[-4:]})
    assert b'id="survey"' in client.get(url).data
    assert client.post(f"{url}/survey", data={"score": "5", "comment": "great"}).status_code == 303
    db.session.expire_all()
    assert call.survey_score == 5
    assert b'id="survey"' not in client.get(url).data


def test_unknown_tracking_number_and_lookup(client, world):
    call = new_call(world)
    assert client.get("/track/EM-1405-00000").status_code == 404
    r = client.get("/track/", query_string={"number": call.tracking_number.lower()})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/track/{call.tracking_number}")
    assert client.get("/track/", query_string={"number": "EM-1"}).status_code == 200


def test_phone_digit_guesses_are_rate_limited(app, world, database_url, tmp_path):
    from fieldsvc.web import create_app

    call = new_call(world)
    limited = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "t",
                          "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": True,
                          "OUTBOX_DIR": str(tmp_path / "outbox")})
    client = limited.test_client()
    codes = [client.post(f"/track/{call.tracking_number}", data={"digits": f"{n:04d}"}).status_code
             for n in range(11)]
    assert codes[:10] == [403] * 10 and codes[10] == 429
    # the right digits are refused too once the limit is reached
    assert client.post(f"/track/{call.tracking_number}",
                       data={"digits": call.merchant.phone[-4:]}).status_code == 429
