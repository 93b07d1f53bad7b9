"""Campaigns: selection by model / version / region / serial list, idempotent start and re-run,
work orders for replacements, remote results, progress by contractor, bad input named."""
from __future__ import annotations

import datetime as dt
import io

from sqlalchemy import func, select

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.history.config import change_config
from fieldsvc.visits.service_seed_models import Campaign, CampaignTask
from tests.conftest import login

API = "/api/v1/campaigns"


def _deadline(days: int = 30) -> str:
    return (dt.date.today() + dt.timedelta(days=days)).isoformat()


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_replacement_campaign_opens_one_order_per_terminal_and_never_twice(client, world):
    login(client, "psp-p1")
    body = {"code": "S90-OUT", "name": "Replace PAX S90", "kind": "model_replacement", "deadline": _deadline(),
            "target_model": "PAX A920", "models": ["pax s90"], "regions": ["r1"]}
    r = client.post(API, json=body)
    assert r.status_code == 201, r.json
    assert r.json["added"] == 4 and r.json["created"] is True
    total = r.json["progress"][-1]
    assert (total["contractor"], total["total"], total["pending"], total["done"]) == ("total", 4, 4, 0)
    assert r.json["progress"][0]["contractor"] == "c1"
    orders = db.session.scalars(select(m.WorkOrder)).all()
    assert len(orders) == 4 and {o.kind for o in orders} == {"replacement"} and {o.model for o in orders} == {"PAX A920"}
    # the same request again (a retry) and a re-run: nothing new
    r2 = client.post(API, json=body)
    assert r2.status_code == 200 and r2.json["id"] == r.json["id"] and r2.json["added"] == 0
    r3 = client.post(f"{API}/{r.json['id']}/run")
    assert r3.status_code == 200 and r3.json["added"] == 0
    assert _count(m.WorkOrder) == 4 and _count(CampaignTask) == 4 and _count(Campaign) == 1
    # another definition under the same code is refused
    r4 = client.post(API, json=dict(body, target_model="PAX A80"))
    assert r4.status_code == 409 and r4.json["error"]["field"] == "code"
    # an order done counts as done for its contractor
    o = orders[0]
    o.status, o.done_at = "done", dt.datetime.now(dt.timezone.utc)
    db.session.commit()
    got = client.get(f"{API}/{r.json['id']}").json["progress"][-1]
    assert (got["done"], got["pending"], got["done_on_time"]) == (1, 3, 1)
    # the dispatcher sees the campaign, only their own contractor's part
    login(client, "dispatcher-c1")
    page = client.get(f"/campaigns/{r.json['id']}", headers={"Accept-Language": "fa"})
    assert page.status_code == 200 and "S90-OUT" in page.get_data(as_text=True)
    login(client, "dispatcher-c2")
    assert client.get(f"{API}/{r.json['id']}").status_code == 404


def test_upgrade_by_version_with_remote_results(client, world):
    admin = world.users["psp-p1"]
    t = [t for t in world.terminals if t.psp_id == world.psps[0].id]
    change_config(admin, t[0], {"firmware_version": "1.0"})
    change_config(admin, t[1], {"firmware_version": "1.0"})
    change_config(admin, t[2], {"firmware_version": "2.0"})
    login(client, "psp-p1")
    r = client.post(API, json={"code": "FW2", "name": "Firmware 2.0", "kind": "software_upgrade",
                               "deadline": _deadline(), "target_version": "2.0", "versions": ["1.0"]})
    assert r.status_code == 201 and r.json["added"] == 2, r.json
    cid = r.json["id"]
    res = [{"serial": t[0].serial, "status": "done"}, {"serial": t[1].serial, "status": "failed", "reason": "no signal"}]
    assert client.post(f"{API}/{cid}/results", json={"results": res}).json == {"changed": 2, "unchanged": 0}
    assert client.post(f"{API}/{cid}/results", json={"results": res}).json == {"changed": 0, "unchanged": 2}
    got = client.get(f"{API}/{cid}").json["progress"][-1]
    assert (got["done"], got["failed"], got["pending"]) == (1, 1, 0)
    # the upgrade is on the terminal's configuration history
    hist = client.get(f"/api/v1/terminals/{t[0].serial}/config").json
    assert hist["firmware_version"] == "2.0"
    # a bad row names the row and changes nothing
    bad = client.post(f"{API}/{cid}/results", json={"results": [{"serial": t[1].serial, "status": "done"},
                                                                {"serial": "NOPE", "status": "done"}]})
    assert bad.status_code == 422 and bad.json["error"]["field"] == "results[1].serial"
    assert client.get(f"{API}/{cid}").json["progress"][-1]["failed"] == 1


def test_upgrade_done_when_the_configuration_shows_the_target(client, world):
    psp = world.users["psp-p1"]
    t = world.terminals[0]
    change_config(psp, t, {"firmware_version": "1.0"})
    login(client, "psp-p1")
    cid = client.post(API, json={"code": "FW3", "name": "FW 3", "kind": "software_upgrade", "deadline": _deadline(),
                                 "target_version": "3.0", "serials": [t.serial]}).json["id"]
    change_config(psp, t, {"firmware_version": "3.0"})
    r = client.post(f"{API}/{cid}/run")
    assert r.json["progress"][-1]["done"] == 1


def test_bad_input_names_the_field_and_writes_nothing(client, world):
    login(client, "psp-p1")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    ok = {"code": "X1", "name": "x", "kind": "sim_swap", "deadline": _deadline(), "regions": ["r1"]}
    cases = [
        (dict(ok, code="bad code!"), "code"),
        (dict(ok, kind="paint"), "kind"),
        (dict(ok, deadline="2026-13-40"), "deadline"),
        (dict(ok, deadline=(dt.date.today() - dt.timedelta(days=3)).isoformat()), "deadline"),
        (dict(ok, regions=[]), "selection"),
        (dict(ok, regions=["r9"]), "regions[0]"),
        (dict(ok, regions=[], serials=["SN100", "SN999"]), "serials[1]"),
        (dict(ok, regions=[], serials=["SN200"]), "serials[0]"),  # a terminal of the other PSP
        (dict(ok, kind="software_upgrade"), "target_version"),
        (dict(ok, kind="model_replacement", target_model="Toaster 3000"), "target_model"),
    ]
    for body, field in cases:
        r = client.post(API, json=body)
        assert r.status_code == 422, (field, r.json)
        assert r.json["error"]["field"] == field, (field, r.json)
    assert _count(Campaign) == 0 and _count(CampaignTask) == 0 and _count(m.WorkOrder) == 0
    login(client, "tech-c1-1")
    assert client.post(API, json=ok).status_code == 403


def test_campaign_page_with_an_uploaded_list(client, world):
    login(client, "psp-p1")
    data = {"code": "SIM-1", "name": "SIM swap", "kind": "sim_swap", "deadline": _deadline(10),
            "serials_file": (io.BytesIO("serial\nSN100\nsn101\n".encode()), "list.csv")}
    r = client.post("/campaigns", data=data, content_type="multipart/form-data")
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    page = client.get(r.headers["Location"], headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "SN100" in page and "SN101" in page and "Progress by contractor" in page
    bad = client.post("/campaigns", data=dict(data, code="SIM-2", serials_file=(io.BytesIO(b"SN100\nZZZ\n"), "l.csv")),
                      content_type="multipart/form-data", headers={"Accept-Language": "en"})
    assert bad.status_code == 422 and "row 2" in bad.get_data(as_text=True)
    assert _count(Campaign) == 1


def test_campaign_on_time_feeds_the_contractor_kpi(client, world):
    from fieldsvc.visits.scorecards.kpis import compute_scorecard

    login(client, "psp-p1")
    deadline = dt.date.today() + dt.timedelta(days=5)
    r = client.post(API, json={"code": "SIMS", "name": "SIM", "kind": "sim_swap", "deadline": deadline.isoformat(),
                               "regions": ["r1"]})
    serials = ["SN100", "SN101"]
    client.post(f"{API}/{r.json['id']}/results", json={"results": [
        {"serial": serials[0], "status": "done"}, {"serial": serials[1], "status": "failed", "reason": "shop refused"}]})
    card = compute_scorecard(deadline, deadline, user=None)
    row = next(x for x in card.rows if x.code == "c1")
    # 4 tasks; done on time 1; decided: done + failed (the others are pending before the deadline)
    assert (row.campaign_tasks_due, row.campaign_tasks_on_time, row.campaign_tasks_decided) == (4, 1, 2)
    assert row.campaign_on_time_pct == 50.0
    # after the deadline the pending ones count as decided (not on time)
    late = compute_scorecard(deadline, deadline, user=None,
                             now=dt.datetime.combine(deadline + dt.timedelta(days=2), dt.time(12), dt.timezone.utc))
    assert next(x for x in late.rows if x.code == "c1").campaign_on_time_pct == 25.0


def test_two_copies_racing_make_one_campaign(world, monkeypatch):
    """The second copy looked before the first committed: the unique code stops it and it is
    answered as a repeat, with no second task or order."""
    from fieldsvc.visits.orders import campaigns as svc

    psp = world.users["psp-p1"]
    inp = svc.CampaignInput(code="RACE", name="Race", kind="model_replacement",
                            deadline=dt.date.today() + dt.timedelta(days=9), target_model="PAX A920", regions=["r1"])
    first = svc.start_campaign(psp, inp)
    real, calls = svc.existing_campaign, []

    def blind_once(psp_id, code):
        calls.append(code)
        return None if len(calls) == 1 else real(psp_id, code)

    monkeypatch.setattr(svc, "existing_campaign", blind_once)
    again = svc.start_campaign(psp, inp)
    assert again.campaign.id == first.campaign.id and again.created is False and again.added == 0
    assert len(calls) == 2
    assert _count(Campaign) == 1 and _count(CampaignTask) == 4 and _count(m.WorkOrder) == 4
