"""Persian/Arabic text input normalisation and number formatting (pure, no Flask).

* :func:`normalize_digits` — Persian ``۰-۹`` and Arabic-Indic ``٠-٩`` digits → ASCII.
* :func:`normalize_text` — one spelling for letters typed on Arabic or Persian keyboards, for
  names, addresses and search.
* :func:`normalize_code` / :func:`normalize_phone` / :func:`parse_int` — anything a user types
  as a number, serial, code or phone.
* :func:`to_persian_digits`, :func:`format_number`, :func:`format_amount` — display.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

__all__ = [
    "normalize_digits",
    "normalize_text",
    "normalize_code",
    "normalize_phone",
    "parse_int",
    "to_persian_digits",
    "format_number",
    "format_amount",
    "ZWNJ",
]

ZWNJ = "\u200c"
PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"
FA_THOUSANDS = "\u066c"  # ٬ Arabic thousands separator, used in Persian
FA_DECIMAL = "\u066b"    # ٫ Arabic decimal separator, used in Persian

_TO_ASCII = str.maketrans(PERSIAN_DIGITS + ARABIC_DIGITS, "0123456789" * 2)
_TO_PERSIAN = str.maketrans("0123456789", PERSIAN_DIGITS)

_LETTERS = str.maketrans({
    "\u064a": "\u06cc",  # ي Arabic yeh → ی Farsi yeh
    "\u0649": "\u06cc",  # ى alef maksura → ی
    "\u0643": "\u06a9",  # ك Arabic kaf → ک keheh
    "\u06d5": "\u0647",  # ە AE → ه
    "\u06c1": "\u0647",  # ہ heh goal → ه
    "\u0640": None,      # ـ tatweel (kashida) is decoration
    "\u200b": None,      # zero-width space
    "\ufeff": None,      # BOM / zero-width no-break space
    "\u200e": None,      # LRM
    "\u200f": None,      # RLM
    "\u202a": None, "\u202b": None, "\u202c": None, "\u202d": None, "\u202e": None,
})
_HEH_HAMZA = re.compile("[\u0647\u06c1]\u0654")  # ه + hamza above → ۀ
_SPACES = re.compile(r"\s+")
_ZWNJ_RUN = re.compile(ZWNJ + "{2,}")
_ZWNJ_EDGE = re.compile(rf"\s*{ZWNJ}\s+|\s+{ZWNJ}\s*")


def normalize_digits(s: str) -> str:
    """Persian and Arabic-Indic digits → ASCII; everything else unchanged."""
    return s.translate(_TO_ASCII)


def normalize_text(s: str) -> str:
    """Canonical single-line text for storage and search.

    NFKC (folds Arabic presentation forms from PDFs and full-width characters); Arabic ي/ى → ی,
    ك → ک, ە/ہ → ه, ه + hamza above → ۀ; ة is kept (a distinct letter in Arabic-origin words);
    tatweel, zero-width spaces and bidi marks removed; the zero-width non-joiner (ZWNJ) is kept,
    runs of it collapse to one and it is dropped next to a space or at the ends; whitespace
    collapses to single spaces; stripped. Digits are left as typed (see :func:`normalize_digits`).
    """
    s = unicodedata.normalize("NFKC", s).translate(_LETTERS)
    s = _HEH_HAMZA.sub("\u06c0", s)
    s = _ZWNJ_RUN.sub(ZWNJ, s)
    s = _SPACES.sub(" ", s)
    s = _ZWNJ_EDGE.sub(" ", s)
    return s.strip(" " + ZWNJ)


def normalize_code(s: str) -> str:
    """A serial number, tracking number or code: normalised text, ASCII digits, no whitespace
    or ZWNJ, upper case (``"pax ۱۲۳"`` → ``"PAX123"``)."""
    s = normalize_digits(normalize_text(s))
    return re.sub(rf"[\s{ZWNJ}]", "", s).upper()


def parse_int(s: str | int) -> int:
    """An integer typed with any digits and thousands separators (``,`` ``٬`` ``،`` spaces).

    Raises ValueError with the offending text otherwise."""
    if isinstance(s, int) and not isinstance(s, bool):
        return s
    text = normalize_digits(unicodedata.normalize("NFKC", str(s))).strip()
    cleaned = re.sub(r"[,\u066c\u060c\s_]", "", text).replace("\u2212", "-")
    if not re.fullmatch(r"[+-]?\d+", cleaned):
        raise ValueError(f"not a whole number: {s!r}")
    return int(cleaned)


def normalize_phone(s: str, *, mobile_only: bool = False) -> str:
    """Canonical Iranian phone number.

    Mobiles → ``"09xxxxxxxxx"``; landlines (area code + 8 digits) → ``"0AAxxxxxxxx"`` (11 digits,
    e.g. ``"02188776655"``). Accepts any digits, spaces, dashes, dots, parentheses and the prefixes
    ``+98``, ``0098``, ``98`` and ``0``. Raises ValueError with a clear message otherwise (or for a
    landline when ``mobile_only``)."""
    raw = s
    t = normalize_digits(unicodedata.normalize("NFKC", str(s))).strip()
    t = re.sub(r"[\s\-.()/\u200c\u200e\u200f]", "", t)
    if not t:
        raise ValueError("phone number is empty")
    if t.startswith("+"):
        if not t.startswith("+98"):
            raise ValueError(f"{raw!r}: not an Iranian number (expected +98)")
        national = t[3:]
    elif t.startswith("0098"):
        national = t[4:]
    elif t.startswith("98") and len(t) == 12:
        national = t[2:]
    elif t.startswith("0"):
        national = t[1:]
    else:
        national = t
    if national.startswith("0"):
        national = national[1:]  # "+98 0912..." written with the trunk zero
    if not national.isdigit():
        raise ValueError(f"{raw!r}: a phone number may contain only digits, spaces and dashes")
    if len(national) != 10:
        if len(national) == 8:
            raise ValueError(f"{raw!r}: add the area code (e.g. 021 for Tehran)")
        raise ValueError(f"{raw!r}: expected 11 digits like 09121234567 or 02188776655")
    if national[0] == "9":
        return "0" + national
    if mobile_only:
        raise ValueError(f"{raw!r}: not a mobile number (mobiles start with 09)")
    return "0" + national


def phone_key(s: str | None) -> str | None:
    """``s`` in canonical form for lookups, or None when it is empty or not an Iranian number."""
    try:
        return normalize_phone(s) if s else None
    except ValueError:
        return None


def to_persian_digits(s: str | int) -> str:
    """ASCII digits → Persian digits (``"1405/09/01"`` → ``"۱۴۰۵/۰۹/۰۱"``)."""
    return str(s).translate(_TO_PERSIAN)


def format_number(n: int | float | Decimal, lang: str = "en", decimals: int = 0) -> str:
    """Grouped number: ``1,234,567`` (en) or ``۱٬۲۳۴٬۵۶۷`` (fa, Persian digits, ``٬`` thousands,
    ``٫`` decimal point). ``decimals`` digits after the point, rounded half up."""
    q = Decimal(str(n)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    text = f"{q:,.{decimals}f}"
    if lang.startswith("fa"):
        text = text.translate(str.maketrans({",": FA_THOUSANDS, ".": FA_DECIMAL}))
        text = to_persian_digits(text).replace("-", "\u200e\u2212")
    return text


_UNITS = {("fa", "rial"): "ریال", ("fa", "toman"): "تومان",
          ("en", "rial"): "Rial", ("en", "toman"): "Toman"}


def format_amount(rial: int, lang: str = "en", unit: str = "rial") -> str:
    """An amount stored in integer Rial, shown in Rial or Toman (1 Toman = 10 Rial):
    ``format_amount(12_345_670, "fa", "toman")`` → ``"۱٬۲۳۴٬۵۶۷ تومان"``. A Rial amount that is
    not a whole number of Toman shows one decimal."""
    if isinstance(rial, bool) or not isinstance(rial, int):
        raise ValueError(f"amount must be an integer number of Rial, got {rial!r}")
    if unit not in ("rial", "toman"):
        raise ValueError(f"unit must be 'rial' or 'toman', got {unit!r}")
    key = "fa" if lang.startswith("fa") else "en"
    if unit == "toman":
        value: int | Decimal = Decimal(rial) / 10
        decimals = 0 if rial % 10 == 0 else 1
    else:
        value, decimals = rial, 0
    return f"{format_number(value, key, decimals)} {_UNITS[key, unit]}"
