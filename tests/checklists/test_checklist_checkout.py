"""PM inspection at check-out: answers stored once whatever the delivery order, failures open
their follow-ups, bad answers refused naming the field with nothing written, the terminal's
history and the merchant's feedback."""
from __future__ import annotations

import io
import json

from sqlalchemy import func, select

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.service_seed_models import ChecklistResult, VisitFeedback
from tests.conftest import login
from tests.tech.conftest import checkin_body, checkout_body, image_bytes

IN, OUT = "/api/v1/visits/{}/check-in", "/api/v1/visits/{}/check-out"


def _items(cl):
    return {it.label: it.id for it in cl.items}


def _answers(cl, serial, *, printer=True, volts=3.9):
    ids = _items(cl)
    return [{"terminal": serial, "item_id": ids["Printer prints clearly"], "passed": printer},
            {"terminal": serial, "item_id": ids["Battery voltage"], "value": volts}]


def _count(model, **where) -> int:
    q = select(func.count()).select_from(model)
    for k, v in where.items():
        q = q.where(getattr(model, k) == v)
    return db.session.scalar(q)


def test_answers_stored_once_and_failures_open_follow_ups(client, day, checklist):
    login(client, "tech-c1-1")
    serials = sorted(t.serial for t in day.pm.terminals)
    answers = _answers(checklist, serials[0], printer=False, volts="۳٫۲") + _answers(checklist, serials[1])
    body = checkout_body("pm_done", checklist=answers, feedback={"score": 4, "comment": "خوب بود"})
    # the check-out arrives before its check-in (offline queue), then again (lost answer)
    r = client.post(OUT.format(day.pm.id), json=body)
    assert r.status_code == 202, r.json
    assert client.post(IN.format(day.pm.id), json=checkin_body(day.pm)).status_code == 200
    r2 = client.post(OUT.format(day.pm.id), json=body)
    assert r2.status_code == 200 and r2.json["event"]["duplicate"] is True
    db.session.expire_all()
    assert _count(ChecklistResult, visit_id=day.pm.id) == 4
    failed = db.session.scalars(select(ChecklistResult).where(ChecklistResult.passed.is_(False))).all()
    assert len(failed) == 2
    reading = next(r for r in failed if r.value is not None)
    assert reading.value == 3.2 and reading.follow_up_order_id is not None
    call_result = next(r for r in failed if r.value is None)
    call = db.session.get(m.ServiceCall, call_result.follow_up_call_id)
    assert call.terminal.serial == serials[0] and call.status == "open" and "Printer" in call.symptom_text
    order = db.session.get(m.WorkOrder, reading.follow_up_order_id)
    assert order.kind == "replacement" and order.terminal.serial == serials[0]
    fb = db.session.scalars(select(VisitFeedback)).one()
    assert (fb.visit_id, fb.score, fb.comment) == (day.pm.id, 4, "خوب بود")
    # the terminal's history shows the inspection
    login(client, "psp-p1")
    hist = client.get(f"/api/v1/terminals/{serials[0]}/history").json["entries"]
    ins = [e for e in hist if e["kind"] == "inspection"]
    assert len(ins) == 1 and ins[0]["failed"] == 2 and ins[0]["feedback"]["score"] == 4
    page = client.get(f"/terminals/{serials[0]}", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and b"PM inspection of visit" in page.data
    got = client.get(f"/api/v1/visits/{day.pm.id}/inspection").json
    assert len(got["answers"]) == 4 and got["feedback"]["comment"] == "خوب بود"


def test_repeated_failure_links_the_open_follow_up_instead_of_a_second(client, day, checklist):
    login(client, "tech-c1-1")
    serials = sorted(t.serial for t in day.pm.terminals)
    client.post(IN.format(day.pm.id), json=checkin_body(day.pm))
    client.post(OUT.format(day.pm.id), json=checkout_body("pm_done", checklist=_answers(checklist, serials[0], printer=False, volts=5)))
    # the other technician's PM at another merchant is not involved; a second PM of the same
    # terminal (pm2 has other terminals) — simulate with a new visit of the same terminal
    t = db.session.scalars(select(m.Terminal).where(m.Terminal.serial == serials[0])).one()
    v = m.Visit(kind="pm", status="dispatched", merchant_id=t.merchant_id, contractor_id=day.pm.contractor_id,
                contract_id=day.pm.contract_id, technician_id=day.pm.technician_id, planned_date=day.pm.planned_date,
                terminals=[t])
    db.session.add(v)
    db.session.commit()
    client.post(IN.format(v.id), json=checkin_body(v))
    r = client.post(OUT.format(v.id), json=checkout_body("pm_done", checklist=_answers(checklist, serials[0], printer=False, volts=5)))
    assert r.status_code == 200, r.json
    assert _count(m.ServiceCall, symptom_code="other") == 1
    assert _count(m.WorkOrder, kind="replacement") == 1
    links = db.session.scalars(select(ChecklistResult.follow_up_call_id).where(
        ChecklistResult.follow_up_call_id.is_not(None))).all()
    assert len(links) == 2 and len(set(links)) == 1


def test_bad_answers_name_the_field_and_write_nothing(client, day, checklist):
    login(client, "tech-c1-1")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.post(IN.format(day.pm.id), json=checkin_body(day.pm))
    serial = sorted(t.serial for t in day.pm.terminals)[0]
    ids = _items(checklist)
    bad = [
        ([{"terminal": serial, "item_id": ids["Battery voltage"], "value": "high"}], "checklist[0].value"),
        ([{"terminal": serial, "item_id": 999999}], "checklist[0].item_id"),
        ([{"terminal": "NOPE", "item_id": ids["Battery voltage"], "value": 4}], "checklist[0].terminal"),
        ([{"terminal": serial, "item_id": ids["Printer prints clearly"]}], "checklist[0].passed"),
        ([{"terminal": serial, "item_id": ids["Photo of the label"], "photo": 1}], "checklist[0].photo"),
        ([{"terminal": serial, "item_id": "x"}], "checklist[0].item_id"),
        (_answers(checklist, serial) + _answers(checklist, serial)[:1], "checklist[2].item_id"),
    ]
    for answers, field in bad:
        r = client.post(OUT.format(day.pm.id), json=checkout_body("pm_done", checklist=answers))
        assert r.status_code in (400, 422), (field, r.json)
        assert r.json["error"]["field"] == field, (field, r.json)
    r = client.post(OUT.format(day.pm.id), json=checkout_body("pm_done", feedback={"score": 9}))
    assert r.status_code == 422 and r.json["error"]["field"] == "feedback.score"
    db.session.expire_all()
    assert db.session.get(m.Visit, day.pm.id).status == "checked_in"
    assert _count(ChecklistResult) == 0 and _count(VisitFeedback) == 0 and _count(m.ServiceCall, symptom_code="other") == 0
    # an EM visit has no checklist
    client.post(IN.format(day.em.id), json=checkin_body(day.em))
    r = client.post(OUT.format(day.em.id), json=checkout_body("fixed", checklist=_answers(checklist, serial)))
    assert r.status_code == 422 and r.json["error"]["field"] == "checklist"


def test_photo_item_points_at_a_checkout_photo(client, day, checklist, app):
    login(client, "tech-c1-1")
    client.post(IN.format(day.pm.id), json=checkin_body(day.pm))
    serial = sorted(t.serial for t in day.pm.terminals)[0]
    ids = _items(checklist)
    body = checkout_body("pm_done", checklist=[{"terminal": serial, "item_id": ids["Photo of the label"], "photo": 2}])
    r = client.post(OUT.format(day.pm.id), data={
        "payload": json.dumps(body),
        "photos": [(io.BytesIO(image_bytes()), "a.jpg"), (io.BytesIO(image_bytes("PNG")), "label.png")]},
        content_type="multipart/form-data")
    assert r.status_code == 200, r.json
    res = db.session.scalars(select(ChecklistResult)).one()
    photo = db.session.get(m.VisitPhoto, res.photo_id)
    assert photo.content_type == "image/png" and res.passed is True


def test_technician_page_shows_the_checklist_and_the_question(client, day, checklist):
    login(client, "tech-c1-1")
    html = client.get("/tech/", headers={"Accept-Language": "fa"}).get_data(as_text=True)
    assert "چاپگر تمیز چاپ می‌کند" in html and 'data-kind="reading"' in html
    assert html.count('class="feedback') == 2  # two PM stops, not the EM stop



def test_visit_api_lists_the_checklist_to_fill(client, day, checklist):
    login(client, "tech-c1-1")
    v = client.get(f"/api/v1/visits/{day.pm.id}").json
    assert len(v["checklists"]) == 2
    items = v["checklists"][0]["items"]
    assert [i["kind"] for i in items] == ["pass_fail", "reading", "photo"] and items[1]["min"] == 3.6
    assert items[0]["label_fa"] == "چاپگر تمیز چاپ می‌کند"
    assert client.get(f"/api/v1/visits/{day.em.id}").json["checklists"] == []
