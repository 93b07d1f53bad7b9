"""Display helpers: Tehran time, Jalali dates. 1 Azar 1405 = Sunday 2026-11-22;
1 Farvardin 1405 = 2026-03-21; 1403 is a Jalali leap year (30 Esfand 1403 = 2025-03-20)."""

import datetime as dt

import pytest

from fieldsvc.dates import (
    date_input_value,
    format_date,
    format_datetime,
    format_time,
    jalali_str,
    parse_date_input,
    to_local,
)

UTC = dt.timezone.utc


def test_to_local():
    local = to_local(dt.datetime(2026, 11, 21, 21, 0, tzinfo=UTC))
    assert (local.date(), local.hour, local.minute) == (dt.date(2026, 11, 22), 0, 30)
    assert local.utcoffset() == dt.timedelta(hours=3, minutes=30)
    assert to_local(dt.datetime(2026, 6, 1, tzinfo=UTC)).utcoffset() == \
        dt.timedelta(hours=3, minutes=30)  # no DST
    assert to_local(dt.datetime(2026, 6, 1, tzinfo=UTC), "Europe/London").hour == 1
    with pytest.raises(ValueError, match="naive"):
        to_local(dt.datetime(2026, 11, 22))


def test_format_date():
    d = dt.date(2026, 11, 22)
    assert format_date(d, "fa") == "۱ آذر ۱۴۰۵"
    assert format_date(dt.date(2026, 3, 21), "fa") == "۱ فروردین ۱۴۰۵"
    assert format_date(dt.date(2027, 3, 20), "fa") == "۲۹ اسفند ۱۴۰۵"
    assert format_date(d, "en") == "2026-11-22"
    assert format_date(d, "fa", weekday=True) == "یک\u200cشنبه ۱ آذر ۱۴۰۵"
    assert format_date(d, "en", weekday=True) == "Sun 2026-11-22"
    # an aware datetime is shown as its Tehran date
    assert format_date(dt.datetime(2026, 11, 21, 21, tzinfo=UTC), "fa") == "۱ آذر ۱۴۰۵"
    assert format_date(dt.datetime(2026, 11, 21, 20, tzinfo=UTC), "en") == "2026-11-21"


def test_format_datetime_and_time():
    t = dt.datetime(2026, 11, 22, 5, 0, tzinfo=UTC)  # 08:30 Tehran
    assert format_datetime(t, "fa") == "۱ آذر ۱۴۰۵، ۰۸:۳۰"
    assert format_datetime(t, "en") == "2026-11-22 08:30"
    assert format_datetime(t, "en", tz="UTC") == "2026-11-22 05:00"
    assert format_time(t, "fa") == "۰۸:۳۰"


def test_jalali_str_and_input_value():
    assert jalali_str(dt.date(2026, 11, 22)) == "1405/09/01"
    assert jalali_str(dt.date(2025, 3, 20)) == "1403/12/30"
    assert date_input_value(dt.date(2026, 11, 22), "fa") == "1405/09/01"
    assert date_input_value(dt.date(2026, 11, 22), "en") == "2026-11-22"


@pytest.mark.parametrize("text", [
    "1405/09/01", "۱۴۰۵/۰۹/۰۱", "١٤٠٥/٠٩/٠١", "1405-9-1", "1405.09.01", " ۱۴۰۵ / ۹ / ۱ ",
    "2026-11-22", "۲۰۲۶-۱۱-۲۲",
])
def test_parse_persian_input(text):
    assert parse_date_input(text, "fa") == dt.date(2026, 11, 22)


def test_parse_english_input_and_round_trip():
    assert parse_date_input("2026-11-22", "en") == dt.date(2026, 11, 22)
    assert parse_date_input("2026/11/22", "en") == dt.date(2026, 11, 22)
    for lang in ("fa", "en"):
        d = dt.date(2025, 3, 20)
        assert parse_date_input(date_input_value(d, lang), lang) == d


@pytest.mark.parametrize("text, lang", [
    ("1405/09/01", "en"),     # Jalali only on Persian pages
    ("1405/13/01", "fa"),
    ("1404/12/30", "fa"),     # 1404 is not a leap year
    ("2026-02-30", "fa"),
    ("22/11/2026", "en"),
    ("yesterday", "en"),
    ("", "fa"),
])
def test_parse_bad_input(text, lang):
    with pytest.raises(ValueError, match="invalid date"):
        parse_date_input(text, lang)
