"""Daily evaluation: yesterday's finished services, a repeatable sample, one review per service with
the field named on bad input, and the review scores in the contractor's KPIs and workbook."""
from __future__ import annotations

import io
from datetime import timedelta

from openpyxl import load_workbook
from sqlalchemy import func, select

from fieldsvc.db import db
from fieldsvc.visits.desk import calls as svc
from fieldsvc.visits.desk_extra_models import ServiceReview
from fieldsvc.visits.scorecards import reviews
from fieldsvc.visits.scorecards.kpis import compute_scorecard
from tests.calls.conftest import DAY, T0, new_call, tehran
from tests.conftest import login

TZ = "Asia/Tehran"
SYMPTOMS = ["printer", "battery", "keypad", "sim", "software", "card_reader", "no_power"]


def _closed(world, serial, symptom, user="psp-p1", dispatcher="dispatcher-c1", tech=0):
    call = new_call(world, serial=serial, symptom=symptom, user=user)
    svc.assign_technician(call, world.technicians[tech].id, world.users[dispatcher])
    svc.start_call(call, world.users[dispatcher])
    svc.resolve_call(call, world.users[dispatcher])
    svc.close_call(call, world.users[user], at=tehran(DAY, "18:00"))
    return call


def test_sample_is_repeatable_and_a_share_of_the_day(world, fixed_now):
    calls = [_closed(world, "SN100", s) for s in SYMPTOMS]
    other = _closed(world, "SN200", "printer", user="psp-p2", dispatcher="dispatcher-c2", tech=2)
    services = reviews.finished_services(world.users["psp-p1"], DAY, TZ)
    assert {s.id for s in services} == {c.id for c in calls} and other.id not in {s.id for s in services}
    sample = reviews.daily_sample(services, DAY)
    assert len(sample) == 5 == reviews.sample_size(7)
    again = reviews.daily_sample(list(reversed(reviews.finished_services(world.users["psp-p1"], DAY, TZ))), DAY)
    assert [s.key for s in again] == [s.key for s in sample]
    assert reviews.finished_services(world.users["psp-p1"], DAY - timedelta(days=1), TZ) == []


def test_review_page_saves_once_and_feeds_the_kpis(client, world, fixed_now):
    call = _closed(world, "SN100", "printer")
    foreign = _closed(world, "SN200", "printer", user="psp-p2", dispatcher="dispatcher-c2", tech=2)
    login(client, "psp-p1")
    client.post("/lang/en")
    day = DAY.isoformat()
    r = client.get("/psp/reviews/", query_string={"day": day})
    assert r.status_code == 200 and f'data-service="call-{call.id}"'.encode() in r.data
    assert foreign.tracking_number.encode() not in r.data and b'name="viewport"' in r.data
    # a bad score, a foreign call: refused, nothing written
    client.post("/psp/reviews/", data={"kind": "call", "service_id": call.id, "score": "9", "day": day})
    client.post("/psp/reviews/", data={"kind": "call", "service_id": foreign.id, "score": "3", "day": day})
    assert db.session.scalar(select(func.count()).select_from(ServiceReview)) == 0
    r = client.post("/psp/reviews/", data={"kind": "call", "service_id": call.id, "score": "4",
                                           "comment": "clean fix", "day": day})
    assert r.status_code == 303
    # a retried or corrected submission never duplicates
    client.post("/psp/reviews/", data={"kind": "call", "service_id": call.id, "score": "3", "day": day})
    review = db.session.scalars(select(ServiceReview)).one()
    assert (review.score, review.service_day, review.contractor_id) == (3, DAY, call.contractor_id)
    assert [e.action for e in svc.history(call)].count("reviewed") == 2
    assert b"review-done" in client.get("/psp/reviews/", query_string={"day": day}).data

    card = compute_scorecard(DAY, DAY, user=None, now=T0 + timedelta(days=1))
    row = next(r for r in card.rows if r.code == "c1")
    assert (row.reviews, row.review_score_avg) == (1, 3.0)
    assert row.status("review_score_avg") == "breached"
    assert next(r for r in card.rows if r.code == "c2").reviews == 0
    r = client.get("/api/v1/scorecards", query_string={"from": day, "to": day})
    assert any(x.get("review_score_avg") == 3.0 for x in r.json["rows"])
    from fieldsvc.visits.scorecards.workbook import SUMMARY_COLUMNS, workbook_bytes
    wb = load_workbook(io.BytesIO(workbook_bytes(card, [], lang="en")))
    col = SUMMARY_COLUMNS.index("review_score_avg") + 1
    sheet = wb["Summary"]
    assert sheet.cell(3, col).value == "Review score (1-5)"
    values = {sheet.cell(r, 2).value: sheet.cell(r, col).value for r in range(4, 6)}
    assert values["c1"] == 3.0


def test_dispatchers_do_not_review(client, world):
    login(client, "dispatcher-c1")
    assert client.get("/psp/reviews/").status_code == 403
    assert client.post("/psp/reviews/", data={"kind": "call", "service_id": 1, "score": "3"}).status_code == 403


def test_pm_visits_are_reviewed_too(client, world, fixed_now):
    from fieldsvc.visits import models as m
    v = m.Visit(kind="pm", status="completed", merchant_id=world.merchants[0].id,
                contractor_id=world.contractors[0].id, technician_id=world.technicians[0].id,
                checkin_at=tehran(DAY, "10:00"), checkout_at=tehran(DAY, "10:30"))
    db.session.add(v)
    db.session.commit()
    services = reviews.finished_services(world.users["psp-p1"], DAY, TZ)
    assert [s.key for s in services] == [f"visit-{v.id}"]
    login(client, "psp-p1")
    client.post("/psp/reviews/", data={"kind": "visit", "service_id": v.id, "score": "5", "day": DAY.isoformat()})
    card = compute_scorecard(DAY, DAY, user=None, now=T0 + timedelta(days=1))
    assert next(r for r in card.rows if r.code == "c1").review_score_avg == 5.0
