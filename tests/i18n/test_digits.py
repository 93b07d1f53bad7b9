"""Persian and Arabic digits and letter variants typed anywhere a number, serial, code, date or
phone is expected (issue 9, point 4): the form helpers of fieldsvc.web.forms, and real pages."""
from __future__ import annotations

import datetime as dt

import pytest
from flask_babel import refresh
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from fieldsvc.db import db
from fieldsvc.visits.models import ServiceCall
from fieldsvc.web.forms import (JalaliDateField, NormalizingDecimalField, NormalizingFloatField,
                                NormalizingIntegerField, code_filter, normalize_filter, phone_filter,
                                text_filter)
from wtforms import StringField


@pytest.mark.parametrize(("typed", "expected"), [
    ("۱۲۳", "123"), ("١٢٣", "123"), ("  ۴۵ ", "45"), ("علي", "علی"), ("كد ۷", "کد 7"), (None, None), (12, 12)])
def test_normalize_filter(typed, expected) -> None:
    assert normalize_filter(typed) == expected


def test_other_filters() -> None:
    assert code_filter(" sn ۱۰۰ ") == "SN100"
    assert phone_filter("۰۹۱۲ ۱۲۳ ۴۵۶۷") == "09121234567"
    assert phone_filter("+۹۸ ۲۱ ۸۸۷۷ ۶۶۵۵") == "02188776655"
    assert phone_filter("۱۲۳") == "123"  # left for the validator to reject
    assert text_filter("فروشگاه  علي") == "فروشگاه علی"


class _Form(FlaskForm):
    class Meta:
        csrf = False

    count = NormalizingIntegerField()
    price = NormalizingDecimalField()
    lat = NormalizingFloatField()
    day = JalaliDateField()
    serial = StringField(filters=[code_filter])


def _form(app, lang: str, **data: str) -> _Form:
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        refresh()  # the test's app context outlives the request: forget the last language
        return _Form(formdata=MultiDict(data))


def test_numbers_dates_and_codes_typed_in_persian(app) -> None:
    form = _form(app, "fa", count="۱٬۲۰۰", price="۱۲٫۵", lat="۳۵٫۷۰۱", day="۱۴۰۵/۰۹/۰۱", serial="pax ۱۲۳")
    assert form.count.data == 1200 and str(form.price.data) == "12.5" and form.lat.data == pytest.approx(35.701)
    assert form.day.data == dt.date(2026, 11, 22) and form.serial.data == "PAX123"
    form = _form(app, "en", count="٣", day="2026-11-22", lat="35.7")
    assert form.count.data == 3 and form.day.data == dt.date(2026, 11, 22) and form.lat.data == 35.7


def test_bad_date_names_the_expected_form(app) -> None:
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        refresh()
        form = _Form(formdata=MultiDict({"day": "22/11/2026"}))
        assert not form.validate()
        assert "2026-11-22" in form.day.errors[0]
    with app.test_request_context("/", headers={"Accept-Language": "fa"}):
        refresh()
        form = _Form(formdata=MultiDict({"day": "1405/13/01"}))
        assert not form.validate() and "1405/09/01" in form.day.errors[0]
        # rendered back in Jalali on Persian pages
        form = _Form(data={"day": dt.date(2026, 11, 22)})
        assert form.day._value() == "1405/09/01"


def test_call_intake_accepts_a_serial_typed_in_persian(tenants, clients) -> None:
    serial = tenants.a.terminal.serial  # "SN100"
    typed = "sn" + serial[2:].translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    r = clients["psp"].post("/psp/calls/new", data={"terminal_serial": typed, "channel": "phone",
                                                     "priority": "urgent", "symptom": "printer"})
    assert r.status_code in (302, 303), r.get_data(as_text=True)[:500]
    call = db.session.scalars(select(ServiceCall).where(ServiceCall.symptom_code == "printer")).one()
    assert call.terminal.serial == serial


def test_tracking_number_typed_in_persian_digits(tenants, clients) -> None:
    number = tenants.a.call.tracking_number
    typed = number.lower().translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    r = clients["anonymous"].get("/track/", query_string={"number": typed})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/track/{number}")


def test_dispatch_board_reads_a_jalali_date_in_persian_digits(tenants, clients) -> None:
    r = clients["dispatcher"].get("/dispatch/", query_string={"date": "۱۴۰۵/۰۹/۰۲"},
                                  headers={"Accept-Language": "en"})
    assert r.status_code == 200 and "2026-11-23" in r.get_data(as_text=True)


def test_audit_filter_reads_persian_digits(tenants, clients) -> None:
    user_id = tenants.world.users["psp-p1"].id
    r = clients["admin"].get("/admin/audit", query_string={"object_id": str(user_id).translate(
        str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")), "object_type": "user"}, headers={"Accept-Language": "en"})
    assert r.status_code == 200
    rows = r.get_data(as_text=True).split('id="audit-table"', 1)[1]
    assert f"user {user_id}" in rows and ">psp-p1<" in rows
