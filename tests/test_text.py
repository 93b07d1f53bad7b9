"""Persian/Arabic input normalisation and number formatting."""

from decimal import Decimal

import pytest

from fieldsvc.text import (
    ZWNJ,
    format_amount,
    format_number,
    normalize_code,
    normalize_digits,
    normalize_phone,
    normalize_text,
    parse_int,
    to_persian_digits,
)


def test_normalize_digits():
    assert normalize_digits("۰۱۲۳۴۵۶۷۸۹") == "0123456789"   # Persian
    assert normalize_digits("٠١٢٣٤٥٦٧٨٩") == "0123456789"   # Arabic-Indic
    assert normalize_digits("کد ۱۲-٣4") == "کد 12-34"
    assert normalize_digits("") == ""


def test_normalize_text_letters():
    assert normalize_text("علي") == "علی"          # Arabic yeh
    assert normalize_text("موسى") == "موسی"        # alef maksura
    assert normalize_text("كرمان") == "کرمان"      # Arabic kaf
    assert normalize_text("خانه\u0654 ما") == "خانۀ ما"  # heh + hamza above
    assert normalize_text("خانۀ ما") == "خانۀ ما"
    assert normalize_text("مكة") == "مکة"          # teh marbuta kept
    assert normalize_text("\ufefb") == "لا"        # presentation form (PDF paste)
    assert normalize_text("تـــهران") == "تهران"    # tatweel


def test_normalize_text_spaces_and_zwnj():
    assert normalize_text("  فروشگاه \t  رضا \n ") == "فروشگاه رضا"
    assert normalize_text(f"می{ZWNJ}روم") == f"می{ZWNJ}روم"          # kept
    assert normalize_text(f"می{ZWNJ}{ZWNJ}روم") == f"می{ZWNJ}روم"    # collapsed
    assert normalize_text(f"کتاب{ZWNJ} ها") == "کتاب ها"                # next to a space
    assert normalize_text(f"{ZWNJ}سلام{ZWNJ}") == "سلام"
    assert normalize_text("a\u200bb\u200fc") == "abc"                   # ZWSP, RLM removed
    assert normalize_text("۱۲۳") == "۱۲۳"                               # digits untouched


def test_normalize_code_and_parse_int():
    assert normalize_code(" pax ۱۲۳-ab ") == "PAX123-AB"
    assert normalize_code("ك٤٥") == "ک45"
    assert parse_int("۱٬۲۳۴٬۵۶۷") == 1234567
    assert parse_int("1,234") == 1234
    assert parse_int(" -۵ ") == -5
    assert parse_int(42) == 42
    for bad in ("", "12a", "1.5", "۱۲ ریال"):
        with pytest.raises(ValueError, match="whole number"):
            parse_int(bad)


@pytest.mark.parametrize("raw", [
    "09121234567", "+989121234567", "00989121234567", "989121234567", "9121234567",
    "۰۹۱۲ ۱۲۳ ۴۵۶۷", "٠٩١٢-١٢٣-٤٥٦٧", "+98 (912) 123-4567", "+98 0912 123 4567",
])
def test_mobile_forms(raw):
    assert normalize_phone(raw) == "09121234567"


def test_landline():
    assert normalize_phone("021-8877 6655") == "02188776655"
    assert normalize_phone("+98 21 88776655") == "02188776655"
    assert normalize_phone("۰۳۱۳۲۲۲۳۳۴۴") == "03132223344"
    with pytest.raises(ValueError, match="not a mobile"):
        normalize_phone("02188776655", mobile_only=True)


@pytest.mark.parametrize("raw, message", [
    ("", "empty"),
    ("88776655", "area code"),
    ("0912123456", "11 digits"),
    ("+1 202 555 0100", "not an Iranian"),
    ("0912abc4567", "only digits"),
    ("091212345678", "11 digits"),
])
def test_bad_phones(raw, message):
    with pytest.raises(ValueError, match=message):
        normalize_phone(raw)


def test_to_persian_digits():
    assert to_persian_digits("1405/09/01") == "۱۴۰۵/۰۹/۰۱"
    assert to_persian_digits(2026) == "۲۰۲۶"


def test_format_number():
    assert format_number(1234567, "en") == "1,234,567"
    assert format_number(1234567, "fa") == "۱٬۲۳۴٬۵۶۷"
    assert format_number(999, "fa") == "۹۹۹"
    assert format_number(0, "fa") == "۰"
    assert format_number(1234.56, "fa", decimals=1) == "۱٬۲۳۴٫۶"
    assert format_number(Decimal("2.5"), "en") == "3"          # half up
    assert format_number(-1234, "en") == "-1,234"
    assert format_number(-1234, "fa") == "\u200e\u2212۱٬۲۳۴"


def test_format_amount():
    assert format_amount(12_345_670, "fa") == "۱۲٬۳۴۵٬۶۷۰ ریال"
    assert format_amount(12_345_670, "fa", "toman") == "۱٬۲۳۴٬۵۶۷ تومان"
    assert format_amount(12_345_675, "fa", "toman") == "۱٬۲۳۴٬۵۶۷٫۵ تومان"
    assert format_amount(1_500_000, "en") == "1,500,000 Rial"
    assert format_amount(1_500_000, "en", unit="toman") == "150,000 Toman"
    with pytest.raises(ValueError):
        format_amount(1.5, "en")
    with pytest.raises(ValueError):
        format_amount(10, "en", unit="dollar")
