"""Penalty arithmetic, integer Rial, per-ticket and per-month caps."""

import datetime as dt
import json
import random

import pytest

from fieldsvc.visits.contracts.penalties import (
    Breach,
    BreachKind,
    Charge,
    PenaltyTerms,
    apply_monthly_cap,
    apply_ticket_cap,
    assess,
    charge,
    month_key,
    penalty_amount,
    started_hours,
)

UTC = dt.timezone.utc
TERMS = PenaltyTerms(
    late_response_per_hour=500_000,
    late_resolution_per_hour=1_000_000,
    missed_pm=2_000_000,
    late_pm_per_day=100_000,
    late_install_per_day=300_000,
    ticket_cap=4_000_000,
    monthly_cap=5_000_000,
)


def at(day, hour=10):
    return dt.datetime(2026, 11, day, hour, tzinfo=UTC)


def test_terms_json_shape_and_round_trip():
    data = TERMS.to_dict()
    assert data == {
        "late_response_per_hour": 500_000,
        "late_resolution_per_hour": 1_000_000,
        "missed_pm": 2_000_000,
        "late_pm_per_day": 100_000,
        "late_install_per_day": 300_000,
        "ticket_cap": 4_000_000,
        "monthly_cap": 5_000_000,
    }
    assert PenaltyTerms.from_dict(json.loads(json.dumps(data))) == TERMS
    assert PenaltyTerms.from_dict({}) == PenaltyTerms()
    assert PenaltyTerms().ticket_cap is None


@pytest.mark.parametrize("bad", [
    {"missed_pm": -1}, {"missed_pm": 1.5}, {"missed_pm": True}, {"ticket_cap": -5}, {"fine": 1},
])
def test_bad_terms_are_refused(bad):
    with pytest.raises(ValueError):
        PenaltyTerms.from_dict(bad)


@pytest.mark.parametrize("minutes, hours", [(0, 0), (1, 1), (60, 1), (61, 2), (120, 2), (121, 3)])
def test_started_hours(minutes, hours):
    assert started_hours(minutes) == hours


def test_amount_per_kind():
    def amount(kind, **kw):
        return penalty_amount(TERMS, Breach(kind, "X", at(1), **kw))

    assert amount(BreachKind.LATE_RESPONSE, minutes_late=61) == 1_000_000
    assert amount(BreachKind.LATE_RESPONSE, minutes_late=0) == 0
    assert amount(BreachKind.LATE_RESOLUTION, minutes_late=450) == 8_000_000
    assert amount(BreachKind.MISSED_PM) == 2_000_000
    assert amount(BreachKind.LATE_PM, days_late=3) == 300_000
    assert amount("late_install", days_late=2) == 600_000
    with pytest.raises(ValueError):
        amount("late_lunch")
    with pytest.raises(ValueError):
        amount(BreachKind.LATE_PM, days_late=-1)


def test_ticket_cap_charges_the_earlier_breach_first():
    response = charge(TERMS, Breach(BreachKind.LATE_RESPONSE, "T-1", at(1, 10), minutes_late=150))
    resolution = charge(TERMS, Breach(BreachKind.LATE_RESOLUTION, "T-1", at(2, 10), minutes_late=300))
    other = charge(TERMS, Breach(BreachKind.LATE_RESOLUTION, "T-2", at(1, 9), minutes_late=60))
    assert (response.gross, resolution.gross, other.gross) == (1_500_000, 5_000_000, 1_000_000)
    got = apply_ticket_cap([resolution, other, response], TERMS.ticket_cap)
    assert [c.amount for c in got] == [2_500_000, 1_000_000, 1_500_000]  # input order kept
    assert got[0].capped and not got[2].capped
    assert got[0].gross == 5_000_000
    assert apply_ticket_cap([resolution], None) == [resolution]


def _pm(ref, day, contractor="C1", period="1405-09"):
    return charge(TERMS, Breach(BreachKind.MISSED_PM, ref, at(day), contractor=contractor,
                                period=period))


def test_monthly_cap_is_chronological_and_per_contractor_and_period():
    lines = [_pm("V3", 3), _pm("V1", 1), _pm("V2", 2), _pm("V4", 4),
             _pm("B1", 5, contractor="C2"), _pm("V9", 9, period="1405-10")]
    got = apply_monthly_cap(lines, 5_000_000)
    amounts = {c.breach.reference: c.amount for c in got}
    assert amounts == {"V1": 2_000_000, "V2": 2_000_000, "V3": 1_000_000, "V4": 0,
                       "B1": 2_000_000, "V9": 2_000_000}
    assert [c.breach.reference for c in got] == ["V3", "V1", "V2", "V4", "B1", "V9"]
    assert sum(c.amount for c in got if c.breach.contractor == "C1"
               and c.breach.period == "1405-09") == 5_000_000


def test_monthly_cap_is_deterministic_and_stable_when_the_ledger_grows():
    lines = [_pm(f"V{i}", 1 + i % 5) for i in range(8)]
    first = apply_monthly_cap(lines, 5_000_000)
    shuffled = lines[:]
    random.Random(7).shuffle(shuffled)
    again = {c.breach.reference: c.amount for c in apply_monthly_cap(shuffled, 5_000_000)}
    assert again == {c.breach.reference: c.amount for c in first}
    # same instant: ties broken by reference
    assert {c.breach.reference: c.amount for c in first}["V0"] == 2_000_000  # day 1
    # a later breach never changes earlier lines
    grown = apply_monthly_cap(lines + [_pm("V99", 28)], 5_000_000)
    assert [c.amount for c in grown[:-1]] == [c.amount for c in first]
    assert grown[-1].amount == 0


def test_monthly_cap_applies_after_ticket_cap_in_assess():
    breaches = [
        Breach(BreachKind.LATE_RESPONSE, "T-1", at(1), minutes_late=150, contractor="C1"),
        Breach(BreachKind.LATE_RESOLUTION, "T-1", at(2), minutes_late=300, contractor="C1"),
        Breach(BreachKind.MISSED_PM, "V-1", at(3), contractor="C1"),
        Breach(BreachKind.LATE_INSTALL, "I-1", at(4), days_late=2, contractor="C1"),
    ]
    got = assess(TERMS, breaches)
    assert all(isinstance(c, Charge) for c in got)
    # ticket cap: 1.5 M + 2.5 M = 4 M; then the month: 4 M + 1 M of the PM, 0 for installation
    assert [c.amount for c in got] == [1_500_000, 2_500_000, 1_000_000, 0]
    assert [c.gross for c in got] == [1_500_000, 5_000_000, 2_000_000, 600_000]
    assert all(type(c.amount) is int for c in got)
    uncapped = assess(PenaltyTerms(missed_pm=7), [Breach("missed_pm", "V", at(1))] * 3)
    assert [c.amount for c in uncapped] == [7, 7, 7]


def test_dates_and_datetimes_order_together_and_naive_is_refused():
    a = _pm("A", 1)
    b = charge(TERMS, Breach(BreachKind.LATE_PM, "B", dt.date(2026, 11, 1), days_late=30,
                             contractor="C1", period="1405-09"))
    got = apply_monthly_cap([a, b], 4_000_000)
    assert [c.amount for c in got] == [1_000_000, 3_000_000]  # the date (midnight) comes first
    naive = charge(TERMS, Breach(BreachKind.MISSED_PM, "N", dt.datetime(2026, 11, 1)))
    with pytest.raises(ValueError, match="timezone-aware"):
        apply_monthly_cap([naive], 1)


def test_month_key_jalali_in_tehran_time():
    assert month_key(dt.date(2026, 11, 22)) == "1405-09"
    assert month_key(dt.date(2026, 11, 21)) == "1405-08"
    assert month_key(dt.date(2026, 11, 21), "gregorian") == "2026-11"
    # 21:00 UTC is 00:30 the next day in Tehran: 1 Azar
    assert month_key(dt.datetime(2026, 11, 21, 21, tzinfo=UTC)) == "1405-09"
    assert month_key(dt.datetime(2026, 11, 21, 20, tzinfo=UTC)) == "1405-08"
    with pytest.raises(ValueError):
        month_key(dt.date(2026, 11, 21), "lunar")
