"""Issue 17.3: check-ins off the planned day or outside the shop's hours, and implausibly short
visits, are flagged and need a reason."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.field.checkin_rules import check_out_flags, open_at
from tests.conftest import login
from tests.tech.conftest import TEHRAN, checkin_body, checkout_body, now, today_local

IN, OUT = "/api/v1/visits/{}/check-in", "/api/v1/visits/{}/check-out"


@pytest.fixture
def tech(client, day):
    login(client, "tech-c1-1")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _needs_reason_then_flagged(tech, visit, body, flag):
    r = tech.post(IN.format(visit.id), json=body)
    assert r.status_code == 422 and r.json["error"]["field"] == "reason", r.json
    assert r.json["error"]["code"] == "reason_required"
    body["reason"] = "The merchant asked us to come early"
    r = tech.post(IN.format(visit.id), json=body)
    assert r.status_code == 200, r.json
    assert r.json["checkin"]["verified"] is False and flag in r.json["checkin"]["flags"]
    return r


def test_check_in_for_a_visit_planned_tomorrow_is_flagged(tech, day):
    day.pm.planned_date = today_local() + timedelta(days=1)
    db.session.commit()
    r = _needs_reason_then_flagged(tech, day.pm, checkin_body(day.pm), "off_day")
    assert r.json["checkin"]["distance_m"] < 50  # at the shop: only the day is wrong


def test_check_in_while_the_shop_is_closed_is_flagged(tech, day):
    local = now().astimezone(TEHRAN)
    # one minute of opening, far from the current time of day
    hours = [["23:58", "23:59"]] if local.hour < 12 else [["00:00", "00:01"]]
    day.pm.merchant.opening_hours = {d: hours for d in ("sat", "sun", "mon", "tue", "wed", "thu", "fri")}
    db.session.commit()
    _needs_reason_then_flagged(tech, day.pm, checkin_body(day.pm), "closed_hours")


def test_a_visit_shorter_than_two_minutes_needs_a_reason(tech, day):
    arrived = now() - timedelta(seconds=50)
    assert tech.post(IN.format(day.pm.id), json=checkin_body(day.pm, at=arrived)).status_code == 200
    body = checkout_body("pm_done")
    r = tech.post(OUT.format(day.pm.id), json=body)
    assert r.status_code == 422 and r.json["error"]["field"] == "reason"
    assert db.session.get(m.Visit, day.pm.id).status == "checked_in"
    body["reason"] = "Terminal removed by the merchant already"
    r = tech.post(OUT.format(day.pm.id), json=body)
    assert r.status_code == 200, r.json
    assert r.json["checkout"]["flags"] == ["short_visit"]
    assert r.json["checkout"]["reason"] == "Terminal removed by the merchant already"


def test_rules_on_the_clock():
    shop = m.Merchant(opening_hours={"sun": [["09:00", "13:00"], ["16:30", "21:00"]]}, closed_dates=[])
    sunday = datetime(2026, 11, 22, tzinfo=TEHRAN)
    assert open_at(shop, sunday.replace(hour=10), TEHRAN)
    assert not open_at(shop, sunday.replace(hour=14), TEHRAN)
    assert not open_at(shop, sunday.replace(hour=22), TEHRAN)
    assert not open_at(shop, (sunday + timedelta(days=1)).replace(hour=10), TEHRAN)  # no Monday hours
    assert open_at(m.Merchant(opening_hours={}, closed_dates=[]), sunday, TEHRAN)  # hours unknown
    t0 = datetime(2026, 11, 22, 8, tzinfo=timezone.utc)
    assert check_out_flags(t0, t0 + timedelta(seconds=0.9)) == ("short_visit",)
    assert check_out_flags(t0, t0 + timedelta(minutes=2)) == ()
