"""Working calendars: Iranian week, holidays (from the holidays package), pauses, time zones.

Hand-checked facts used below (Asia/Tehran is UTC+03:30 all year since Iran dropped DST in 2022):
1 Farvardin 1405 = Sat 2026-03-21; Nowruz holidays 2026-03-21..24 (Sat–Tue);
2026-03-19 is a Thursday (half day), 2026-03-20 a Friday; 2026-11-21 is a Saturday.
"""

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

from fieldsvc.calendar import (
    CalendarSpec,
    ClockPausedError,
    add_working_time,
    day_hours,
    is_holiday,
    is_working_day,
    merge_pauses,
    next_working_days,
    working_intervals,
    working_seconds_between,
)

TEHRAN = ZoneInfo("Asia/Tehran")
UTC = dt.timezone.utc
H = 3600


def T(y, m, d, hh=0, mm=0, ss=0):
    """Tehran wall time → aware UTC datetime."""
    return dt.datetime(y, m, d, hh, mm, ss, tzinfo=TEHRAN).astimezone(UTC)


IR = CalendarSpec()
ALWAYS = CalendarSpec.always()


# --------------------------------------------------------------------------- spec


def test_defaults_are_the_iranian_week():
    assert IR.tz == "Asia/Tehran" and IR.mode == "business" and IR.iran_holidays
    d = IR.to_dict()
    assert d["hours"]["sat"] == [["08:00", "17:00"]]
    assert d["hours"]["wed"] == [["08:00", "17:00"]]
    assert d["hours"]["thu"] == [["08:00", "13:00"]]
    assert d["hours"]["fri"] == []


def test_to_dict_round_trips_through_json():
    spec = CalendarSpec(
        hours={"sat": [("16:30", "21:00"), ("09:00", "13:00")], "sun": [("00:00", "24:00")]},
        extra_holidays={"2026-12-01": "Company day"},
        extra_working_dates=["2026-03-20"],
    )
    data = json.loads(json.dumps(spec.to_dict()))
    assert data["hours"]["sat"] == [["09:00", "13:00"], ["16:30", "21:00"]]  # sorted
    assert data["extra_holidays"] == {"2026-12-01": "Company day"}
    assert data["extra_working_dates"] == ["2026-03-20"]
    again = CalendarSpec.from_dict(data)
    assert again == spec and hash(again) == hash(spec)
    assert CalendarSpec.from_dict({}) == IR
    assert CalendarSpec.from_dict(None) == IR


@pytest.mark.parametrize("bad, word", [
    ({"mode": "weekdays"}, "mode"),
    ({"tz": "Mars/Olympus"}, "tz"),
    ({"hours": {"sat": [("17:00", "08:00")]}}, "hours.sat"),
    ({"hours": {"sat": [("08:00", "12:00"), ("11:00", "14:00")]}}, "overlap"),
    ({"hours": {"sat": [("8:00", "12:00")]}}, "HH:MM"),
    ({"hours": {"saturday": []}}, "weekday"),
    ({"extra_holidays": ["2026-13-01"]}, "extra_holidays"),
    ({"colour": "red"}, "unknown"),
])
def test_bad_specs_are_refused_clearly(bad, word):
    with pytest.raises(ValueError, match=word):
        CalendarSpec.from_dict(bad)


# --------------------------------------------------------------------------- days


def test_weekend_and_holidays():
    assert is_working_day(IR, dt.date(2026, 11, 21))       # Saturday
    assert is_working_day(IR, dt.date(2026, 11, 26))       # Thursday (half day)
    assert day_hours(IR, dt.date(2026, 11, 26)) == (("08:00", "13:00"),)
    assert not is_working_day(IR, dt.date(2026, 11, 27))   # Friday
    for day in (21, 22, 23, 24):                           # Nowruz 1405
        assert not is_working_day(IR, dt.date(2026, 3, day))
        assert "Nowruz" in is_holiday(IR, dt.date(2026, 3, day))
    assert "نوروز" in is_holiday(IR, dt.date(2026, 3, 21), lang="fa")
    assert is_working_day(IR, dt.date(2026, 3, 25))
    assert is_holiday(IR, dt.date(2026, 11, 22)) is None
    assert is_holiday(IR, dt.date(2026, 11, 27)) is None   # a Friday is a weekend, not a holiday
    assert is_holiday(IR, dt.date(2027, 3, 21)) is not None  # another year (cached per year)


def test_without_iran_holidays_nowruz_is_a_working_day():
    spec = CalendarSpec(iran_holidays=False)
    assert is_working_day(spec, dt.date(2026, 3, 21))
    assert is_holiday(spec, dt.date(2026, 3, 21)) is None


def test_extra_holidays_and_extra_working_dates():
    spec = CalendarSpec(extra_holidays=[dt.date(2026, 11, 22)],
                        extra_working_dates=[dt.date(2026, 3, 21), dt.date(2026, 11, 27)])
    assert not is_working_day(spec, dt.date(2026, 11, 22))
    assert is_holiday(spec, dt.date(2026, 11, 22)) == "Holiday"
    # a working date overrides a public holiday (Saturday hours) ...
    assert day_hours(spec, dt.date(2026, 3, 21)) == (("08:00", "17:00"),)
    # ... and a Friday, with the special day hours
    assert day_hours(spec, dt.date(2026, 11, 27)) == (("08:00", "17:00"),)


def test_24x7_every_day_works_but_holidays_are_still_reported():
    assert is_working_day(ALWAYS, dt.date(2026, 3, 21))
    assert is_working_day(ALWAYS, dt.date(2026, 11, 27))
    assert is_holiday(ALWAYS, dt.date(2026, 3, 21)) is not None


def test_next_working_days_skips_friday_and_nowruz():
    assert next_working_days(IR, dt.date(2026, 3, 18), 5) == [
        dt.date(2026, 3, 18), dt.date(2026, 3, 19),  # Wed, Thu
        dt.date(2026, 3, 25), dt.date(2026, 3, 26),  # Fri 20 off, Nowruz 21-24
        dt.date(2026, 3, 28),                        # Fri 27 off
    ]
    assert next_working_days(IR, dt.date(2026, 11, 27), 1) == [dt.date(2026, 11, 28)]
    assert next_working_days(IR, dt.date(2026, 11, 27), 0) == []


# --------------------------------------------------------------------------- intervals


def test_working_intervals_across_thursday_and_friday():
    got = working_intervals(IR, T(2026, 11, 25, 15, 30), T(2026, 11, 28, 10, 0))
    assert got == [
        (T(2026, 11, 25, 15, 30), T(2026, 11, 25, 17)),  # Wed
        (T(2026, 11, 26, 8), T(2026, 11, 26, 13)),       # Thu half day
        (T(2026, 11, 28, 8), T(2026, 11, 28, 10)),       # Sat (Fri skipped)
    ]
    assert all(a.tzinfo == UTC for a, _ in got)
    assert working_intervals(IR, T(2026, 11, 28), T(2026, 11, 27)) == []


def test_tehran_has_no_dst():
    # 08:00 Tehran is 04:30 UTC in winter and in summer alike
    assert working_intervals(IR, T(2026, 1, 10), T(2026, 1, 10, 23))[0][0] == \
        dt.datetime(2026, 1, 10, 4, 30, tzinfo=UTC)
    assert working_intervals(IR, T(2026, 6, 20), T(2026, 6, 20, 23))[0][0] == \
        dt.datetime(2026, 6, 20, 4, 30, tzinfo=UTC)


def test_other_zone_with_dst_keeps_wall_clock_hours():
    spec = CalendarSpec(tz="Europe/Berlin", iran_holidays=False,
                        hours={d: [("08:00", "16:00")] for d in ("mon", "tue", "wed", "thu", "fri")})
    fri = working_intervals(spec, dt.datetime(2026, 3, 27, tzinfo=UTC),
                            dt.datetime(2026, 3, 31, tzinfo=UTC))
    assert fri[0] == (dt.datetime(2026, 3, 27, 7, tzinfo=UTC), dt.datetime(2026, 3, 27, 15, tzinfo=UTC))
    assert fri[1] == (dt.datetime(2026, 3, 30, 6, tzinfo=UTC), dt.datetime(2026, 3, 30, 14, tzinfo=UTC))


def test_round_the_clock_days_merge_across_midnight():
    spec = CalendarSpec(iran_holidays=False, hours={d: [("00:00", "24:00")] for d in
                                                    ("sat", "sun", "mon")})
    got = working_intervals(spec, T(2026, 11, 21, 22), T(2026, 11, 23, 2))
    assert got == [(T(2026, 11, 21, 22), T(2026, 11, 23, 2))]


def test_inputs_must_be_aware():
    with pytest.raises(ValueError, match="timezone-aware"):
        add_working_time(IR, dt.datetime(2026, 11, 21, 9), 60)


# --------------------------------------------------------------------------- add / between


@pytest.mark.parametrize("start, hours, expected", [
    (T(2026, 11, 21, 9), 4, T(2026, 11, 21, 13)),           # inside a day
    (T(2026, 11, 21, 6), 1, T(2026, 11, 21, 9)),            # before opening: waits until 08:00
    (T(2026, 11, 21, 0), 9, T(2026, 11, 21, 17)),           # from midnight, ends at closing ...
    (T(2026, 11, 21, 8), 9, T(2026, 11, 21, 17)),           # ... not at next morning's opening
    (T(2026, 11, 21, 20), 2, T(2026, 11, 22, 10)),          # after closing: next day
    (T(2026, 11, 25, 15, 30), 4, T(2026, 11, 26, 10, 30)),  # Wed 1.5 h + Thu 2.5 h
    (T(2026, 11, 26, 12), 4, T(2026, 11, 28, 11)),          # Thu 1 h, Fri off, Sat 3 h
    (T(2026, 11, 27, 10), 1, T(2026, 11, 28, 9)),           # reported on Friday
    (T(2026, 3, 18, 16), 24, T(2026, 3, 28, 12)),           # 1 + 5 + (Nowruz) + 9 + 5 + 4
])
def test_add_working_time(start, hours, expected):
    assert add_working_time(IR, start, hours * H) == expected
    assert working_seconds_between(IR, start, expected) == hours * H


def test_add_zero_and_24x7_across_midnight():
    assert add_working_time(IR, T(2026, 11, 27, 10), 0) == T(2026, 11, 27, 10)
    assert add_working_time(ALWAYS, T(2026, 3, 20, 23), 4 * H) == T(2026, 3, 21, 3)
    assert working_seconds_between(ALWAYS, T(2026, 3, 20, 23), T(2026, 3, 21, 3)) == 4 * H
    with pytest.raises(ValueError):
        add_working_time(IR, T(2026, 11, 21), -1)


def test_working_seconds_between_counts_only_working_time():
    assert working_seconds_between(IR, T(2026, 11, 26, 12), T(2026, 11, 28, 9)) == 2 * H
    assert working_seconds_between(IR, T(2026, 11, 28, 9), T(2026, 11, 26, 12)) == -2 * H
    assert working_seconds_between(IR, T(2026, 11, 27, 9), T(2026, 11, 27, 18)) == 0
    assert working_seconds_between(IR, T(2026, 11, 21, 9), T(2026, 11, 21, 9, 0, 59)) == 59


def test_calendar_without_any_working_time_fails_clearly():
    spec = CalendarSpec(hours={})
    with pytest.raises(ValueError, match="no working"):
        add_working_time(spec, T(2026, 11, 21), 60)
    with pytest.raises(ValueError, match="no working"):
        next_working_days(spec, dt.date(2026, 11, 21), 1)


# --------------------------------------------------------------------------- pauses


def test_pause_pushes_the_target_back():
    start = T(2026, 11, 21, 9)
    pause = [(T(2026, 11, 21, 10), T(2026, 11, 21, 11, 30))]
    assert add_working_time(IR, start, 4 * H, pause) == T(2026, 11, 21, 14, 30)
    assert working_seconds_between(IR, start, T(2026, 11, 21, 14, 30), pause) == 4 * H


def test_overlapping_pauses_count_once():
    start = T(2026, 11, 21, 9)
    pauses = [(T(2026, 11, 21, 10, 30), T(2026, 11, 21, 11, 30)),
              (T(2026, 11, 21, 10), T(2026, 11, 21, 11)),
              (T(2026, 11, 21, 11), T(2026, 11, 21, 11, 15))]
    assert merge_pauses(pauses) == [(T(2026, 11, 21, 10), T(2026, 11, 21, 11, 30))]
    assert add_working_time(IR, start, 4 * H, pauses) == T(2026, 11, 21, 14, 30)


def test_pause_outside_working_hours_changes_nothing():
    start = T(2026, 11, 26, 12)  # Thu
    pause = [(T(2026, 11, 26, 14), T(2026, 11, 28, 7))]  # Thu afternoon .. Sat before opening
    assert add_working_time(IR, start, 4 * H, pause) == T(2026, 11, 28, 11)


def test_pause_before_start_only_counts_from_start():
    pause = [(T(2026, 11, 21, 7), T(2026, 11, 21, 10))]
    assert add_working_time(IR, T(2026, 11, 21, 9), H, pause) == T(2026, 11, 21, 11)


def test_open_pause():
    start = T(2026, 11, 21, 9)
    pauses = [(T(2026, 11, 21, 10), None), (T(2026, 11, 21, 12), T(2026, 11, 21, 13))]
    with pytest.raises(ClockPausedError) as err:
        add_working_time(IR, start, 4 * H, pauses)
    assert err.value.paused_at == T(2026, 11, 21, 10)
    # treated as ending now: 1 h before the pause, 3 h after 12:00
    assert add_working_time(IR, start, 4 * H, pauses, now=T(2026, 11, 21, 12)) == \
        T(2026, 11, 21, 16)
    # target reached before the open pause starts: no error
    assert add_working_time(IR, start, 30 * 60, pauses) == T(2026, 11, 21, 9, 30)
    # between: the open pause runs to the end of the span
    assert working_seconds_between(IR, start, T(2026, 11, 21, 16), pauses) == H


def test_pause_ending_before_it_starts_is_refused():
    with pytest.raises(ValueError, match="pauses\\[0\\]"):
        merge_pauses([(T(2026, 11, 21, 10), T(2026, 11, 21, 9))])
