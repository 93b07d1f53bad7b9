"""WTForms helpers: Persian/Arabic digits and letter variants normalised before validation.

Use them as field filters, which WTForms runs before the validators::

    from fieldsvc.web.forms import normalize_filter, code_filter, phone_filter
    serial = StringField(_l("Serial"), filters=[code_filter], validators=[DataRequired()])
    count = IntegerField(_l("Visits"), filters=[normalize_filter])    # "۱۲" → 12
    phone = StringField(_l("Phone"), filters=[phone_filter])           # "۰۹۱۲ ۱۲۳ ۴۵۶۷" → "09121234567"

`NormalizingIntegerField` / `NormalizingDecimalField` / `NormalizingFloatField` accept Persian and
Arabic digits and the separators ``٬`` ``،`` ``٫`` directly (an IntegerField converts its raw input
before filters run, so a filter alone is too late for numbers typed in Persian), and
`JalaliDateField` reads Jalali dates on Persian pages.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import DecimalField, FloatField, IntegerField, StringField

from fieldsvc.dates import date_input_value, parse_date_input
from fieldsvc.text import normalize_code, normalize_digits, normalize_phone, normalize_text

__all__ = ["normalize_filter", "text_filter", "code_filter", "phone_filter", "normalize_number_text",
           "NormalizingIntegerField", "NormalizingDecimalField", "NormalizingFloatField",
           "JalaliDateField"]

_NUMBER_PUNCT = str.maketrans({"\u066c": "", "\u060c": "", ",": "", "\u066b": ".", "\u2212": "-",
                               "\u200e": "", "\u200f": "", " ": ""})


def normalize_filter(value: Any) -> Any:
    """Persian/Arabic digits → ASCII and letter variants unified, surrounding space stripped;
    non-strings (None, numbers already parsed) pass through unchanged."""
    if not isinstance(value, str):
        return value
    return normalize_digits(normalize_text(value))


def text_filter(value: Any) -> Any:
    """Names, addresses, free text: letter variants unified, digits left as typed."""
    return normalize_text(value) if isinstance(value, str) else value


def code_filter(value: Any) -> Any:
    """Serial numbers, tracking numbers, codes: ASCII digits, no spaces, upper case."""
    return normalize_code(value) if isinstance(value, str) and value.strip() else value


def phone_filter(value: Any) -> Any:
    """Iranian phone numbers in their canonical form; left as typed when not a valid number, so
    a validator can say what is wrong."""
    if not isinstance(value, str) or not value.strip():
        return value
    try:
        return normalize_phone(value)
    except ValueError:
        return normalize_digits(value).strip()


def normalize_number_text(value: str) -> str:
    """A number typed with any digits and Persian/English separators → plain ASCII (``"۱٬۲۳۴٫۵"`` →
    ``"1234.5"``)."""
    return normalize_digits(value).translate(_NUMBER_PUNCT)


class _NormalizingNumber:
    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist and isinstance(valuelist[0], str):
            valuelist = [normalize_number_text(valuelist[0])] + list(valuelist[1:])
        super().process_formdata(valuelist)  # type: ignore[misc]


class NormalizingIntegerField(_NormalizingNumber, IntegerField):
    """IntegerField that accepts ``۱۲`` and ``١٢`` as 12."""


class NormalizingDecimalField(_NormalizingNumber, DecimalField):
    """DecimalField that accepts Persian digits and ``٫`` as the decimal point."""


class NormalizingFloatField(_NormalizingNumber, FloatField):
    """FloatField that accepts Persian digits and ``٫`` as the decimal point (coordinates)."""


class JalaliDateField(StringField):
    """A date typed as Jalali (``۱۴۰۵/۰۹/۰۱``) on Persian pages or ISO (``2026-11-22``); `data` is a
    `datetime.date`. Rendered with the value in the page's calendar."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.data: dt.date | None

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        if isinstance(self.data, dt.date):
            return date_input_value(self.data, _page_lang())
        return ""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        try:
            self.data = parse_date_input(str(valuelist[0]), _page_lang())
        except ValueError as e:
            self.data = None
            raise ValueError(str(_l("Enter a date like %(example)s.",
                                    example="1405/09/01" if _page_lang() == "fa" else "2026-11-22"))) from e


def _page_lang() -> str:
    from fieldsvc.web.i18n import lang
    try:
        return lang()
    except RuntimeError:
        return "en"
