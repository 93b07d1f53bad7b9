"""Knowledge-base pages and API: search, write (also from a resolved call), suggestions on the call
page and at intake, sending the steps to the merchant by e-mail or SMS, recording the outcome."""
from __future__ import annotations

from sqlalchemy import func, select

from fieldsvc.db import db
from fieldsvc.visits.desk import calls as svc
from fieldsvc.visits.desk import kb
from fieldsvc.visits.desk.sms import read_sms_outbox
from fieldsvc.visits.desk_extra_models import KbArticle, KbArticleUse
from fieldsvc.web.mail import read_outbox
from tests.calls.conftest import new_call
from tests.conftest import login
from tests.kb.conftest import article


def test_api_creates_and_lists_best_first(client, world):
    login(client, "psp-p1")
    r = client.post("/api/v1/kb/articles", json={
        "title_fa": "کارتخوان کار نمی‌کند", "steps_fa": "هد را تمیز کنید", "title_en": "Card reader fails",
        "steps_en": "Clean the head", "symptom_codes": ["card_reader"], "terminal_models": ["PAX S90"]})
    assert r.status_code == 201, r.json
    body = r.json
    assert body["terminal_models"] == ["PAXS90"] and body["stats"]["fixed"] == 0
    client.post("/api/v1/kb/articles", json={"title_en": "Reader light", "steps_en": "card reader LED"})
    r = client.get("/api/v1/kb/articles", query_string={"q": "كارتخوان", "model": "pax s90",
                                                        "symptom": "card_reader"})
    assert r.status_code == 200 and [a["id"] for a in r.json][0] == body["id"]
    r = client.get("/api/v1/kb/articles", query_string={"q": "card reader"})
    assert [a["title_en"] for a in r.json] == ["Card reader fails", "Reader light"]
    spec = client.get("/api/v1/openapi.json").json
    assert {"get", "post"} <= set(spec["paths"]["/api/v1/kb/articles"])


def test_api_refuses_an_article_without_steps_and_writes_nothing(client, world):
    login(client, "psp-p1")
    r = client.post("/api/v1/kb/articles", json={"title_fa": "بدون مراحل", "steps_fa": "  \n "})
    assert r.status_code == 422 and r.json["error"]["field"] == "steps_fa"
    r = client.post("/api/v1/kb/articles", json={"title_fa": "", "steps_fa": "یک"})
    assert r.status_code == 422 and r.json["error"]["field"] == "title_fa"
    r = client.post("/api/v1/kb/articles", json={"title_en": "x", "steps_en": "y", "symptom_codes": ["nope"]})
    assert r.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(KbArticle)) == 0


def test_dispatchers_and_technicians_do_not_write(client, world):
    login(client, "dispatcher-c1")
    r = client.post("/api/v1/kb/articles", json={"title_en": "x", "steps_en": "y"})
    assert r.status_code == 403
    assert client.get("/kb/new").status_code == 403


def test_pages_list_show_and_write_in_both_languages(client, world):
    login(client, "psp-p1")
    for lang in ("en", "fa"):
        client.post(f"/lang/{lang}")
        assert client.get("/kb/new").status_code == 200
    r = client.post("/kb/new", data={"title_fa": "چاپگر کاغذ نمی‌کشد", "steps_fa": "غلتک را تمیز کنید\nکاغذ را عوض کنید",
                                     "symptom_codes": ["printer"], "terminal_models": "PAX S90", "active": "y"})
    assert r.status_code == 303
    a = db.session.scalars(select(KbArticle)).one()
    r = client.get(f"/kb/{a.id}")
    assert "غلتک را تمیز کنید".encode() in r.data and b'id="kb-stats"' in r.data and b'name="viewport"' in r.data
    r = client.get("/kb/", query_string={"q": "چاپگر كاغذ"})
    assert f'data-article="{a.id}"'.encode() in r.data
    client.post("/lang/en")
    assert b"Fixed 0 of 0 calls" in client.get("/kb/").data
    # a form without steps: the field is named, nothing saved
    r = client.post("/kb/new", data={"title_en": "Only a title", "steps_en": ""})
    assert r.status_code == 422 and b'data-field="steps_en"' in r.data
    assert db.session.scalar(select(func.count()).select_from(KbArticle)) == 1
    # edit
    r = client.post(f"/kb/{a.id}/edit", data={"title_fa": "چاپگر", "steps_fa": "یک", "version": str(a.version),
                                              "active": "y"})
    assert r.status_code == 303
    db.session.expire_all()
    assert db.session.get(KbArticle, a.id).title_fa == "چاپگر"


def test_other_psp_cannot_open_or_edit(client, world):
    a = article(world)
    login(client, "psp-p2")
    assert client.get(f"/kb/{a.id}").status_code == 404
    assert client.get(f"/kb/{a.id}/edit").status_code == 404


def test_call_page_suggests_sends_and_records_outcome(client, app, world, fixed_now):
    a = article(world)
    call = new_call(world, symptom="printer")
    login(client, "psp-p1")
    r = client.get(f"/psp/calls/{call.id}")
    assert b'id="kb-suggestions"' in r.data and f'data-article="{a.id}"'.encode() in r.data
    before = len(read_outbox(app.config["OUTBOX_DIR"]))
    r = client.post(f"/kb/calls/{call.id}/send", data={"article_id": a.id, "channel": "email"})
    assert r.status_code == 303
    mails = read_outbox(app.config["OUTBOX_DIR"])[before:]
    assert len(mails) == 1 and mails[0]["To"] == call.merchant.email
    assert "رول کاغذ را برگردانید" in mails[0].get_body(("plain",)).get_content()
    # a retried click sends nothing twice
    client.post(f"/kb/calls/{call.id}/send", data={"article_id": a.id, "channel": "email"})
    assert len(read_outbox(app.config["OUTBOX_DIR"])) == before + 1
    # SMS: the shop's mobile, into the SMS outbox
    client.post(f"/kb/calls/{call.id}/send", data={"article_id": a.id, "channel": "sms"})
    sms = [s for s in read_sms_outbox(f"{app.config['OUTBOX_DIR']}/sms") if "راه رفع خرابی" in s["text"]]
    assert len(sms) == 1 and sms[0]["to"] == call.merchant.phone and "درِ کاغذ" in sms[0]["text"]
    client.post(f"/kb/calls/{call.id}/outcome", data={"article_id": a.id, "outcome": "fixed"})
    use = db.session.scalars(select(KbArticleUse)).one()
    assert use.outcome == "fixed" and use.emailed_at and use.sms_at
    assert kb.stats([a.id])[a.id].fixed == 1
    client.post("/lang/en")
    assert b"Fixed 1 of 1 calls" in client.get(f"/kb/{a.id}").data
    actions = [e.action for e in svc.history(call)]
    assert actions.count("kb_sent") == 2 and "kb_outcome" in actions


def test_bad_outcome_and_foreign_article_are_refused(client, world, fixed_now):
    a = article(world, user="psp-p2")
    call = new_call(world)
    login(client, "psp-p1")
    assert client.post(f"/kb/calls/{call.id}/send", data={"article_id": a.id, "channel": "email"}).status_code == 404
    mine = article(world)
    client.post(f"/kb/calls/{call.id}/outcome", data={"article_id": mine.id, "outcome": "maybe"})
    assert db.session.scalar(select(func.count()).select_from(KbArticleUse)) == 0


def test_sms_without_a_mobile_is_refused(world, fixed_now):
    a = article(world)
    call = new_call(world)
    call.merchant.phone = "02188776655"
    db.session.commit()

    class Never:
        def email(self, *a):
            raise AssertionError

        sms = email
    import pytest
    with pytest.raises(kb.CallError) as e:
        kb.send_article(world.users["psp-p1"], call, a, "sms", Never())
    assert e.value.field == "channel"
    assert db.session.scalar(select(func.count()).select_from(KbArticleUse)) == 0


def test_intake_suggestions_by_terminal_and_symptom(client, world):
    a = article(world)
    login(client, "psp-p1")
    r = client.get("/kb/suggest", query_string={"serial": "SN100", "symptom": "printer"})
    assert [x["id"] for x in r.json] == [a.id]
    r = client.get("/kb/suggest", query_string={"terminal_id": world.terminals[0].id, "symptom": "battery"})
    assert r.json == []


def test_article_from_a_resolved_call_in_one_click(client, world, fixed_now):
    call = new_call(world)
    svc.assign_technician(call, world.technicians[0].id, world.users["dispatcher-c1"])
    svc.start_call(call, world.users["dispatcher-c1"])
    svc.resolve_call(call, world.users["dispatcher-c1"], note="کاغذ حرارتی برعکس گذاشته شده بود")
    login(client, "psp-p1")
    r = client.get(f"/psp/calls/{call.id}")
    assert b'id="kb-from-call"' in r.data
    r = client.post(f"/kb/from-call/{call.id}")  # the one click: written, then opened for a last look
    art = db.session.scalars(select(KbArticle)).one()
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/kb/{art.id}/edit")
    assert art.source_call_id == call.id and art.steps_fa == "کاغذ حرارتی برعکس گذاشته شده بود"
    assert art.symptom_codes == [call.symptom_code]
    # a second click (or the form) writes no second article from the same call
    form = {"title_fa": "کاغذ برعکس", "steps_fa": "کاغذ حرارتی برعکس گذاشته شده بود", "source_call_id": call.id,
            "symptom_codes": ["printer"], "terminal_models": "PAX S90", "active": "y"}
    r = client.post("/kb/new", data=form)
    assert r.status_code == 422
    client.post(f"/kb/from-call/{call.id}")
    assert db.session.scalar(select(func.count()).select_from(KbArticle)) == 1
    assert b'id="kb-from-call"' not in client.get(f"/psp/calls/{call.id}").data


def test_a_call_without_a_resolution_note_opens_the_prefilled_form(client, world, fixed_now):
    call = new_call(world)
    svc.assign_technician(call, world.technicians[0].id, world.users["dispatcher-c1"])
    svc.start_call(call, world.users["dispatcher-c1"])
    svc.resolve_call(call, world.users["dispatcher-c1"], note="")
    login(client, "psp-p1")
    r = client.post(f"/kb/from-call/{call.id}")
    assert r.status_code == 303 and f"/kb/new?from_call={call.id}" in r.headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(KbArticle)) == 0
    r = client.get(f"/kb/new?from_call={call.id}")
    assert f'value="{call.id}"'.encode() in r.data


def test_article_from_an_open_call_is_refused(client, world, fixed_now):
    call = new_call(world)
    login(client, "psp-p1")
    r = client.post("/api/v1/kb/articles", json={"title_en": "x", "steps_en": "y", "source_call_id": call.id})
    assert r.status_code == 422 and r.json["error"]["field"] == "source_call_id"


def test_a_failed_send_records_nothing(client, app, world, fixed_now, monkeypatch):
    a = article(world)
    call = new_call(world)
    login(client, "psp-p1")

    def broken(mails):
        raise OSError("mail server down")
    monkeypatch.setattr("fieldsvc.web.mail.deliver", broken)
    r = client.post(f"/kb/calls/{call.id}/send", data={"article_id": a.id, "channel": "email"})
    assert r.status_code == 303
    assert db.session.scalar(select(func.count()).select_from(KbArticleUse)) == 0
    assert not any(e.action == "kb_sent" for e in svc.history(call))
