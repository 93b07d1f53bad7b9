"""Contract versions: the terms in force by date, validated amendments, past results unchanged."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.contracts.versions import (PRESETS, TermsError, amend, pm_terms, preset_terms,
                                                validate_terms, version_in_force, versions_of)
from fieldsvc.visits.desk import calls as svc
from fieldsvc.visits.scorecards.ledger import recompute_period
from tests.calls.conftest import DAY, T0, fixed_now, new_call, tehran  # noqa: F401 - fixture


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_without_versions_the_contract_columns_are_version_one(world):
    k = world.contracts[0]
    [v] = versions_of(k)
    assert v.number == 1 and v.effective_from == k.valid_from and v.em_targets == k.em_targets
    assert version_in_force(k, dt.date(2020, 1, 1)).em_targets == k.em_targets


def test_version_in_force_follows_effective_dates(world):
    k = world.contracts[0]
    v2 = amend(k, dt.date(2026, 3, 1), {"auto_close_days": 5}, world.users["admin"], today=dt.date(2026, 2, 1))
    v3 = amend(k, dt.date(2026, 6, 1), {"auto_close_days": 7}, world.users["admin"], today=dt.date(2026, 2, 1))
    assert [v.number for v in versions_of(k)] == [1, 2, 3]
    assert version_in_force(k, dt.date(2026, 2, 28)).auto_close_days == 3
    assert version_in_force(k, dt.date(2026, 3, 1)) is v2
    assert version_in_force(k, dt.date(2026, 5, 31)) is v2
    assert version_in_force(k, dt.date(2026, 6, 1)) is v3
    # a datetime is read in Tehran time: 31 May 21:00 UTC is already 1 June in Tehran
    assert version_in_force(k, dt.datetime(2026, 5, 31, 21, 0, tzinfo=dt.timezone.utc)) is v3
    event = db.session.scalars(select(m.AuditEvent).where(m.AuditEvent.action == "contract_amended")
                               .order_by(m.AuditEvent.id.desc())).first()
    assert event.data["version"] == 3 and event.data["changed"] == ["auto_close_days"]


@pytest.mark.parametrize(("effective", "changes", "field"), [
    (dt.date(2026, 11, 22), {}, "effective_from"),  # today: would rewrite what is measured today
    (dt.date(2026, 11, 1), {}, "effective_from"),
    (dt.date(2026, 12, 1), {"em_targets": {**PRESETS["24x7"]["em_targets"],
                                           "urgent": {"response_minutes": 0, "resolution_minutes": 60}}},
     "em_targets.urgent.response_minutes"),
    (dt.date(2026, 12, 1), {"em_targets": {**PRESETS["24x7"]["em_targets"],
                                           "critical": {"response_minutes": 120, "resolution_minutes": 60}}},
     "em_targets.critical.resolution_minutes"),
    (dt.date(2026, 12, 1), {"calendar": {"mode": "business", "hours": {}}}, "calendar.hours"),
    (dt.date(2026, 12, 1), {"pm_tolerance_days": 90}, "pm_tolerance_days"),
    (dt.date(2026, 12, 1), {"penalty_terms": {"missed_pm": -1}}, "penalty_terms.missed_pm"),
    (dt.date(2026, 12, 1), {"pm_intervals": {"pax": {"interval_days": 60, "tolerance_days": 60}}},
     "pm_intervals.pax.tolerance_days"),
    (dt.date(2026, 12, 1), {"auto_close_days": 10**12}, "auto_close_days"),  # would overflow an INTEGER column
    (dt.date(2026, 12, 1), {"calendar": {"mode": "business", "hours": {"sat": 5}}}, "calendar"),
])
def test_bad_amendments_name_the_field_and_write_nothing(world, effective, changes, field):
    k = world.contracts[0]
    before = (_count(m.ContractVersion), _count(m.AuditEvent))
    with pytest.raises(TermsError) as err:
        amend(k, effective, changes, world.users["admin"], today=DAY)
    assert err.value.field == field, err.value
    db.session.rollback()
    assert (_count(m.ContractVersion), _count(m.AuditEvent)) == before


def test_overlapping_versions_are_refused(world):
    k = world.contracts[0]
    amend(k, dt.date(2026, 12, 10), {"auto_close_days": 5}, None, today=DAY)
    for day in (dt.date(2026, 12, 10), dt.date(2026, 12, 5)):
        with pytest.raises(TermsError) as err:
            amend(k, day, {"auto_close_days": 6}, None, today=DAY)
        assert err.value.field == "effective_from" and "overlaps version 2" in err.value.message
    assert len(versions_of(k)) == 2


def test_presets_are_valid_and_the_7x24_promise_is_1_2_4_hours():
    for name in PRESETS:
        assert validate_terms(preset_terms(name))
    crit = PRESETS["24x7"]["em_targets"]["critical"]
    assert (crit["first_response_minutes"], crit["response_minutes"], crit["resolution_minutes"]) == (60, 120, 240)
    assert PRESETS["24x7"]["calendar"]["mode"] == "24x7"
    with pytest.raises(TermsError) as err:
        preset_terms("weekends")
    assert err.value.field == "preset"


def test_pm_interval_per_terminal_family(world):
    k = world.contracts[0]
    v = amend(k, dt.date(2026, 12, 1), {"pm_intervals": {"PAX": {"interval_days": 60, "tolerance_days": 5}}},
              None, today=DAY)
    assert pm_terms(v, "pax") == (60, 5) and pm_terms(v, "verifone") == (90, 15)


@pytest.mark.usefixtures("fixed_now")
def test_an_amendment_does_not_rewrite_an_earlier_calls_deadlines(world):
    k = world.contracts[0]
    early = new_call(world, priority="urgent")
    before = (early.response_by, early.resolution_by)
    tighter = {**k.em_targets, "urgent": {"response_minutes": 30, "resolution_minutes": 60},
               "critical": {"response_minutes": 30, "resolution_minutes": 60}}
    amend(k, DAY + dt.timedelta(days=1), {"em_targets": tighter, "calendar": PRESETS["24x7"]["calendar"]},
          world.users["admin"], today=DAY)
    # anything that recomputes the earlier call's clocks still reads version 1
    svc.recompute_deadlines(early, T0 + dt.timedelta(days=3))
    assert (early.response_by, early.resolution_by) == before
    svc.change_priority(early, "critical", world.users["psp-p1"], "escalated by phone")
    assert early.response_by == tehran(DAY, "11:30")  # 120 working minutes of version 1
    # a call reported once version 2 is in force gets its targets: 30 minutes, round the clock
    later_at = tehran(DAY + dt.timedelta(days=5), "23:00")  # a Friday night
    later = new_call(world, serial="SN110", priority="urgent", at=later_at)
    assert later.response_by == later_at + dt.timedelta(minutes=30)
    assert later.resolution_by == later_at + dt.timedelta(minutes=60)


def test_penalties_use_the_terms_in_force_when_the_breach_occurred(world):
    from tests.scorecard.dataset import END, NOW, START, build
    build(world)
    recompute_period(START, END, user=None, now=NOW)
    first = {x.reference: x.amount_rial for x in db.session.scalars(select(m.PenaltyLine))}
    k = world.contracts[0]
    doubled = {key: (v * 2 if v else v) for key, v in k.penalty_terms.items()}
    # an amendment from after the month leaves the month's lines as they are
    amend(k, END + dt.timedelta(days=1), {"penalty_terms": doubled}, None, today=END)
    assert not recompute_period(START, END, user=None, now=NOW).changed
    assert {x.reference: x.amount_rial for x in db.session.scalars(select(m.PenaltyLine))} == first
    # had it been in force from the 1st, the same breaches would cost more (the rule can fail)
    db.session.delete(versions_of(k)[-1])
    db.session.commit()
    db.session.expire_all()
    amend(k, START, {"penalty_terms": doubled}, None, today=START - dt.timedelta(days=1))
    assert recompute_period(START, END, user=None, now=NOW).changed
