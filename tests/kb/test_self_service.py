"""The merchant's self-service on the tracking page: the shop's own calls only, comments and photos,
confirming a fix, reopening within the contract's days, the survey by factor and PM visit feedback;
every action needs the phone digits and is rate-limited."""
from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import func, select

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.desk import calls as svc
from fieldsvc.visits.desk_extra_models import MerchantComment, ServiceFeedback
from tests.calls.conftest import T0, new_call
from tests.conftest import login


def _verify(client, call):
    assert client.post(f"/track/{call.tracking_number}", data={"digits": call.merchant.phone[-4:]}).status_code == 303


def _resolved(world, serial="SN100", symptom="printer"):
    call = new_call(world, serial=serial, symptom=symptom)
    d = world.users["dispatcher-c1"]
    svc.assign_technician(call, world.technicians[0].id, d)
    svc.start_call(call, d)
    svc.resolve_call(call, d, note="reset")
    return call


def _png() -> bytes:
    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buf, "PNG")
    return buf.getvalue()


def test_the_shop_sees_its_own_calls_never_another_shops(client, world, fixed_now):
    a = new_call(world, serial="SN100", symptom="printer")
    b = new_call(world, serial="SN101", symptom="battery")        # same shop (m10), other terminal
    other = new_call(world, serial="SN110", symptom="printer")    # shop m11
    _verify(client, a)
    page = client.get(f"/track/{a.tracking_number}").data
    assert f'data-call="{b.tracking_number}"'.encode() in page
    assert other.tracking_number.encode() not in page
    # the shop's other call opens without typing the digits again; another shop's does not
    assert b'id="details"' in client.get(f"/track/{b.tracking_number}").data
    r = client.get(f"/track/{other.tracking_number}")
    assert b'id="details"' not in r.data and other.merchant.name.encode() not in r.data
    assert client.post(f"/track/{other.tracking_number}/comment", data={"comment": "hi"}).status_code == 403


def test_comment_and_photo_reach_the_call_page(client, app, world, fixed_now):
    call = new_call(world)
    assert client.post(f"/track/{call.tracking_number}/comment", data={"comment": "x"}).status_code == 403
    _verify(client, call)
    r = client.post(f"/track/{call.tracking_number}/comment",
                    data={"comment": "دستگاه هنوز بوق می‌زند", "photo": (io.BytesIO(_png()), "p.png", "image/png")},
                    content_type="multipart/form-data")
    assert r.status_code == 303
    c = db.session.scalars(select(MerchantComment)).one()
    assert c.photo_path and (app.config["UPLOAD_DIR"] + "/" + c.photo_path)
    assert "دستگاه هنوز بوق".encode() in client.get(f"/track/{call.tracking_number}").data
    # an empty comment without a photo is refused, nothing written
    client.post(f"/track/{call.tracking_number}/comment", data={"comment": "  "})
    assert db.session.scalar(select(func.count()).select_from(MerchantComment)) == 1
    # a file that is not an image is refused, nothing written
    client.post(f"/track/{call.tracking_number}/comment",
                data={"comment": "x", "photo": (io.BytesIO(b"not an image"), "p.png", "image/png")},
                content_type="multipart/form-data")
    assert db.session.scalar(select(func.count()).select_from(MerchantComment)) == 1
    staff = app.test_client()
    login(staff, "psp-p1")
    page = staff.get(f"/psp/calls/{call.id}").data
    assert b'id="merchant-side"' in page and "دستگاه هنوز بوق".encode() in page
    assert staff.get(f"/psp/calls/{call.id}/comments/{c.id}/photo").status_code == 200
    other = app.test_client()
    login(other, "psp-p2")
    assert other.get(f"/psp/calls/{call.id}/comments/{c.id}/photo").status_code == 404
    assert any(e.action == "merchant_comment" for e in svc.history(call))


def test_confirm_a_fix_closes_the_call_and_opens_the_survey_by_factor(client, world, fixed_now):
    call = _resolved(world)
    _verify(client, call)
    page = client.get(f"/track/{call.tracking_number}").data
    assert b'id="confirm-fix"' in page
    assert client.post(f"/track/{call.tracking_number}/confirm").status_code == 303
    db.session.expire_all()
    assert call.status == "closed" and call.survey_token
    ev = [e for e in svc.history(call) if e.to_state == "closed"][-1]
    assert ev.data.get("merchant_confirmed") and ev.actor == "system"
    page = client.get(f"/track/{call.tracking_number}").data
    assert b'name="speed_score"' in page and b'name="quality_score"' in page
    # a missing factor: refused, nothing written
    r = client.post(f"/track/{call.tracking_number}/survey", data={"score": "4", "speed_score": "5",
                                                                   "technician_score": "5"})
    assert r.status_code == 422
    db.session.expire_all()
    assert call.survey_score is None and db.session.scalar(select(func.count()).select_from(ServiceFeedback)) == 0
    r = client.post(f"/track/{call.tracking_number}/survey", data={
        "score": "4", "speed_score": "5", "technician_score": "3", "quality_score": "4", "comment": "ok"})
    assert r.status_code == 303
    db.session.expire_all()
    fb = db.session.scalars(select(ServiceFeedback)).one()
    assert (call.survey_score, fb.speed_score, fb.technician_score, fb.quality_score) == (4, 5, 3, 4)


def test_confirm_needs_a_resolved_call(client, world, fixed_now):
    call = new_call(world)
    _verify(client, call)
    client.post(f"/track/{call.tracking_number}/confirm")
    db.session.expire_all()
    assert call.status == "open"


def test_reopen_within_the_contracts_days_only(client, world, fixed_now):
    call = _resolved(world)
    world.contracts[0].reopen_days = 2
    db.session.commit()
    _verify(client, call)
    assert b'id="reopen"' in client.get(f"/track/{call.tracking_number}").data
    client.post(f"/track/{call.tracking_number}/reopen", data={"reason": ""})
    db.session.expire_all()
    assert call.status == "resolved"
    assert client.post(f"/track/{call.tracking_number}/reopen", data={"reason": "باز خراب شد"}).status_code == 303
    db.session.expire_all()
    assert call.status == "open" and call.resolved_at is None
    ev = svc.history(call)[-1]
    assert ev.to_state == "open" and ev.data["by_merchant"] and ev.data["reason"] == "باز خراب شد"


def test_reopen_after_the_window_is_refused(client, world, fixed_now):
    call = _resolved(world)
    world.contracts[0].reopen_days = 2
    call.resolved_at = T0 - timedelta(days=3)
    db.session.commit()
    _verify(client, call)
    assert b'id="reopen"' not in client.get(f"/track/{call.tracking_number}").data
    client.post(f"/track/{call.tracking_number}/reopen", data={"reason": "again"})
    db.session.expire_all()
    assert call.status == "resolved"


def test_pm_visit_feedback_once_and_only_for_the_shop(client, world, fixed_now):
    call = new_call(world)
    from fieldsvc.db import utcnow
    now = utcnow()
    mine = m.Visit(kind="pm", status="completed", merchant_id=call.merchant_id, contractor_id=call.contractor_id,
                   technician_id=world.technicians[0].id, checkin_at=now - timedelta(days=2, minutes=20),
                   checkout_at=now - timedelta(days=2))
    theirs = m.Visit(kind="pm", status="completed", merchant_id=world.merchants[1].id,
                     contractor_id=call.contractor_id, technician_id=world.technicians[0].id,
                     checkin_at=now - timedelta(days=2, minutes=20), checkout_at=now - timedelta(days=2))
    db.session.add_all([mine, theirs])
    db.session.commit()
    _verify(client, call)
    page = client.get(f"/track/{call.tracking_number}").data
    assert f'data-visit="{mine.id}"'.encode() in page and f'data-visit="{theirs.id}"'.encode() not in page
    form = {"score": "5", "speed_score": "5", "technician_score": "4", "quality_score": "5"}
    client.post(f"/track/{call.tracking_number}/visits/{theirs.id}/feedback", data=form)
    assert db.session.scalar(select(func.count()).select_from(ServiceFeedback)) == 0
    client.post(f"/track/{call.tracking_number}/visits/{mine.id}/feedback", data=form)
    client.post(f"/track/{call.tracking_number}/visits/{mine.id}/feedback", data=form)
    fb = db.session.scalars(select(ServiceFeedback)).one()
    assert fb.visit_id == mine.id and fb.technician_score == 4
    assert f'data-visit="{mine.id}"'.encode() not in client.get(f"/track/{call.tracking_number}").data


def test_tracking_page_actions_are_rate_limited(app, world, database_url, tmp_path, fixed_now):
    from fieldsvc.web import create_app

    call = new_call(world)
    limited = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "t",
                          "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": True,
                          "OUTBOX_DIR": str(tmp_path / "outbox"), "UPLOAD_DIR": str(tmp_path / "up")})
    client = limited.test_client()
    _verify(client, call)
    codes = [client.post(f"/track/{call.tracking_number}/comment", data={"comment": f"n{n}"}).status_code
             for n in range(21)]
    assert codes[:20] == [303] * 20 and codes[20] == 429
    # the same call spelled differently counts against the same limit
    assert client.post(f"/track/{call.tracking_number.lower()}/confirm").status_code == 429
