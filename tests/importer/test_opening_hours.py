"""The opening-hours text format used by the import (and shown back to users)."""
from __future__ import annotations

import pytest

from fieldsvc.visits.master.opening_hours import OpeningHoursError, format_opening_hours, parse_opening_hours


def test_two_shifts_friday_closed():
    h = parse_opening_hours("sat-thu 09:00-13:00,16:30-21:00; fri closed")
    assert h["sat"] == h["thu"] == [["09:00", "13:00"], ["16:30", "21:00"]]
    assert h["fri"] == []
    assert format_opening_hours(h) == "sat-thu 09:00-13:00,16:30-21:00; fri closed"


def test_wrapping_range_lists_daily_persian_digits_and_unknown():
    h = parse_opening_hours("thu-sat ۱۰:۰۰-۱۴:۰۰؛ sun,tue 8:30-12:00")
    assert h["thu"] == h["fri"] == h["sat"] == [["10:00", "14:00"]]
    assert h["sun"] == h["tue"] == [["08:30", "12:00"]] and h["mon"] == [] and h["wed"] == []
    assert parse_opening_hours("daily 24h") == {d: [["00:00", "24:00"]] for d in
                                                ("sat", "sun", "mon", "tue", "wed", "thu", "fri")}
    assert format_opening_hours(parse_opening_hours("daily 24h")) == "daily 24h"
    assert parse_opening_hours("  ") == {} and format_opening_hours({}) == ""


@pytest.mark.parametrize("text,message", [
    ("sat-thu 9-13", "invalid time '9'"),
    ("sat-thu 13:00-09:00", "must end after it starts"),
    ("sat 09:00-13:00,12:00-15:00", "overlap"),
    ("sat 09:00-13:00; sat 16:00-20:00", "sat is given twice"),
    ("someday 09:00-13:00", "unknown day 'someday'"),
    ("09:00-13:00", "write days then hours"),
    ("sat 25:00-26:00", "invalid time '25:00'"),
])
def test_errors_name_the_problem(text, message):
    with pytest.raises(OpeningHoursError, match=message):
        parse_opening_hours(text)
