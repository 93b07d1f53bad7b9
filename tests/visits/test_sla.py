"""SLA arithmetic. Tehran is UTC+03:30; Iranian week Sat–Wed 08–17, Thu 08–13, Fri off;
Nowruz 1405 = 2026-03-21..24. Default targets: critical 120/480, urgent 240/1440,
normal 480/2880 minutes."""

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

from fieldsvc.calendar import CalendarSpec, ClockPausedError
from fieldsvc.visits.contracts.sla import (
    Deadlines,
    PmWindow,
    Priority,
    PriorityTarget,
    SlaState,
    SlaTargets,
    deadlines,
    days_late,
    elapsed_working_minutes,
    install_deadline,
    minutes_late,
    pm_days_late,
    pm_done_status,
    pm_status,
    pm_window,
    sla_state,
)

TEHRAN = ZoneInfo("Asia/Tehran")
UTC = dt.timezone.utc
IR = CalendarSpec()
ALWAYS = CalendarSpec.always()
TARGETS = SlaTargets()


def T(y, m, d, hh=0, mm=0, ss=0):
    return dt.datetime(y, m, d, hh, mm, ss, tzinfo=TEHRAN).astimezone(UTC)


# --------------------------------------------------------------------------- targets


def test_targets_json_shape_and_round_trip():
    data = TARGETS.to_dict()
    assert data == {
        "critical": {"response_minutes": 120, "resolution_minutes": 480},
        "urgent": {"response_minutes": 240, "resolution_minutes": 1440},
        "normal": {"response_minutes": 480, "resolution_minutes": 2880},
        "at_risk_fraction": 0.8,
    }
    assert SlaTargets.from_dict(json.loads(json.dumps(data))) == TARGETS
    partial = SlaTargets.from_dict({"urgent": {"response_minutes": 60, "resolution_minutes": 300}})
    assert partial.urgent == PriorityTarget(60, 300) and partial.normal == TARGETS.normal
    assert TARGETS.for_priority("critical") == PriorityTarget(120, 480)


@pytest.mark.parametrize("bad", [
    {"urgent": {"response_minutes": 60}},
    {"urgent": {"response_minutes": 0, "resolution_minutes": 10}},
    {"urgent": {"response_minutes": 600, "resolution_minutes": 300}},
    {"at_risk_fraction": 1.5},
    {"urgnet": {}},
])
def test_bad_targets_are_refused(bad):
    with pytest.raises(ValueError):
        SlaTargets.from_dict(bad)


def test_unknown_priority():
    with pytest.raises(ValueError, match="unknown priority"):
        TARGETS.for_priority("whenever")


# --------------------------------------------------------------------------- deadlines


def test_deadlines_across_thursday_friday_and_nowruz():
    # reported Wed 2026-03-18 16:00; urgent: 4 h response, 24 h resolution
    got = deadlines(T(2026, 3, 18, 16), Priority.URGENT, TARGETS, IR)
    assert isinstance(got, Deadlines)
    assert got.response_by == T(2026, 3, 19, 11)      # 1 h Wed + 3 h Thu
    assert got.resolution_by == T(2026, 3, 28, 12)    # 1 + 5 (Thu) + 9 (Wed 25) + 5 (Thu 26) + 4 (Sat 28)


def test_priority_change_recomputes_from_the_original_report_time():
    reported = T(2026, 3, 18, 16)
    before = deadlines(reported, "urgent", TARGETS, IR)
    after = deadlines(reported, "critical", TARGETS, IR)
    assert after.response_by == T(2026, 3, 19, 9)     # 1 h Wed + 1 h Thu
    assert after.resolution_by == T(2026, 3, 25, 10)  # 1 + 5 + 2 on Wed after Nowruz
    assert after.response_by < before.response_by


def test_24x7_contract_runs_through_midnight_and_holidays():
    got = deadlines(T(2026, 3, 20, 23), "urgent", TARGETS, ALWAYS)
    assert got == Deadlines(T(2026, 3, 21, 3), T(2026, 3, 21, 23))


def test_pauses_push_deadlines_back():
    reported = T(2026, 11, 21, 9)  # Saturday
    assert deadlines(reported, "urgent", TARGETS, IR).response_by == T(2026, 11, 21, 13)
    pauses = [(T(2026, 11, 21, 10), T(2026, 11, 21, 11)),
              (T(2026, 11, 21, 10, 30), T(2026, 11, 21, 11, 30))]  # overlapping: 1.5 h
    got = deadlines(reported, "urgent", TARGETS, IR, pauses)
    assert got.response_by == T(2026, 11, 21, 14, 30)
    # resolution (24 h): Sat 8 h - 1.5 h paused = 6.5, Sun 9 → 15.5, Mon 8.5 h → 16:30
    assert got.resolution_by == T(2026, 11, 23, 16, 30)
    assert deadlines(reported, "urgent", TARGETS, IR).resolution_by == T(2026, 11, 23, 15)


def test_open_pause_needs_now():
    reported = T(2026, 11, 21, 9)
    pauses = [(T(2026, 11, 21, 10), None)]
    with pytest.raises(ClockPausedError):
        deadlines(reported, "urgent", TARGETS, IR, pauses)
    got = deadlines(reported, "urgent", TARGETS, IR, pauses, now=T(2026, 11, 21, 12))
    assert got.response_by == T(2026, 11, 21, 15)  # 2 h paused so far


# --------------------------------------------------------------------------- states


def test_sla_state_done():
    deadline = T(2026, 11, 21, 13)
    kw = dict(started_at=T(2026, 11, 21, 9), deadline=deadline, calendar=IR)
    assert sla_state(T(2026, 11, 22), done_at=deadline, **kw) == SlaState.MET
    assert sla_state(T(2026, 11, 22), done_at=T(2026, 11, 21, 13, 1), **kw) == "missed"


def test_sla_state_open_ok_at_risk_breached():
    kw = dict(started_at=T(2026, 11, 21, 9), deadline=T(2026, 11, 21, 13), calendar=IR)
    assert sla_state(T(2026, 11, 21, 12), **kw) == SlaState.OK           # 3 h of 4 = 0.75
    assert sla_state(T(2026, 11, 21, 12, 12), **kw) == SlaState.AT_RISK  # 3.2 h = 0.80
    assert sla_state(T(2026, 11, 21, 13), **kw) == SlaState.AT_RISK     # exactly at the deadline
    assert sla_state(T(2026, 11, 21, 13, 0, 1), **kw) == SlaState.BREACHED
    assert sla_state(T(2026, 11, 21, 12, 12), at_risk_fraction=0.9, **kw) == SlaState.OK


def test_sla_state_counts_working_time_over_the_weekend():
    start = T(2026, 11, 26, 12)                  # Thu
    deadline = T(2026, 11, 28, 11)               # 1 h Thu + 3 h Sat
    kw = dict(started_at=start, deadline=deadline, calendar=IR)
    assert sla_state(T(2026, 11, 27, 20), **kw) == "ok"          # Friday evening: 1 h of 4 used
    assert sla_state(T(2026, 11, 28, 10, 24), **kw) == "at_risk"  # 3.4 h of 4
    # wall clock: Friday evening is already 32 of 47 hours (0.68) → still ok; Sat 10:24 → at risk
    assert sla_state(T(2026, 11, 28, 6), started_at=start, deadline=deadline) == "at_risk"


def test_sla_state_with_a_pause():
    start = T(2026, 11, 21, 9)
    pauses = [(T(2026, 11, 21, 10), T(2026, 11, 21, 11, 30))]
    deadline = T(2026, 11, 21, 14, 30)
    # at 13:00: 2.5 h used of 4 → ok (without the pause it would be 4 h of 5.5)
    assert sla_state(T(2026, 11, 21, 13), start, deadline, calendar=IR, pauses=pauses) == "ok"
    assert sla_state(T(2026, 11, 21, 14), start, deadline, calendar=IR, pauses=pauses) == "at_risk"


# --------------------------------------------------------------------------- minutes


def test_elapsed_working_minutes():
    assert elapsed_working_minutes(T(2026, 11, 26, 12), T(2026, 11, 28, 9, 30), IR) == 150
    assert elapsed_working_minutes(T(2026, 11, 26, 12), T(2026, 11, 28, 9, 30)) == 45.5 * 60
    pause = [(T(2026, 11, 28, 8), T(2026, 11, 28, 9))]
    assert elapsed_working_minutes(T(2026, 11, 26, 12), T(2026, 11, 28, 9, 30), IR, pause) == 90


def test_minutes_late_in_calendar_time():
    deadline = T(2026, 11, 25, 16)  # Wed
    assert minutes_late(deadline, T(2026, 11, 25, 15), IR) == 0
    assert minutes_late(deadline, deadline, IR) == 0
    assert minutes_late(deadline, T(2026, 11, 28, 9, 30), IR) == 60 + 300 + 90  # Wed, Thu, Sat
    assert minutes_late(deadline, T(2026, 11, 25, 16, 0, 30), IR) == 1          # started minute
    assert minutes_late(deadline, T(2026, 11, 25, 17, 30), None) == 90          # wall clock


def test_late_after_closing_is_at_least_one_minute():
    deadline = T(2026, 11, 25, 17)  # Wed closing time
    assert minutes_late(deadline, T(2026, 11, 25, 20), IR) == 1
    assert minutes_late(deadline, T(2026, 11, 26, 8, 10), IR) == 10


# --------------------------------------------------------------------------- PM


def test_pm_window_and_status():
    w = pm_window(dt.date(2026, 8, 24), 90, 15)
    assert w == PmWindow(dt.date(2026, 11, 22), dt.date(2026, 11, 7), dt.date(2026, 12, 7))
    due, earliest, latest = w
    assert pm_status(dt.date(2026, 11, 6), w) == "upcoming"
    assert pm_status(earliest, w) == "due"
    assert pm_status(latest, w) == "due"
    assert pm_status(dt.date(2026, 12, 8), w) == "overdue"
    assert pm_done_status(dt.date(2026, 11, 1), w) == "early"
    assert pm_done_status(due, w) == "in_window"
    assert pm_done_status(dt.date(2026, 12, 10), w) == "late"
    assert pm_days_late(dt.date(2026, 12, 10), w) == 3
    assert pm_days_late(due, w) == 0


@pytest.mark.parametrize("interval, tolerance", [(0, 0), (90, -1), (90, 90)])
def test_pm_window_bad_input(interval, tolerance):
    with pytest.raises(ValueError):
        pm_window(dt.date(2026, 1, 1), interval, tolerance)


# --------------------------------------------------------------------------- installation


def test_install_deadline_and_days_late():
    # 72 working hours from Wed 2026-11-25 16:00: 1 (Wed) + 5 (Thu) + 9 * 5 (Sat 28 .. Wed 2 Dec)
    # + 5 (Thu 3 Dec) + 9 (Sat 5 Dec, Fri 4 off) = 65 → 7 h on Sun 6 Dec → 15:00
    deadline = install_deadline(T(2026, 11, 25, 16), 72, IR)
    assert deadline == T(2026, 12, 6, 15)
    assert days_late(deadline, deadline) == 0
    assert days_late(deadline, deadline + dt.timedelta(seconds=1)) == 1
    assert days_late(deadline, deadline + dt.timedelta(days=1)) == 1
    assert days_late(deadline, deadline + dt.timedelta(days=1, seconds=1)) == 2
    with pytest.raises(ValueError):
        install_deadline(T(2026, 11, 25, 16), 0, IR)
