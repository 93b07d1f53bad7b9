"""Persian word lists for realistic demo names, addresses and phone numbers."""
from __future__ import annotations

import random
from typing import Any

#: (shop kind in Persian, opening-hours profile, weight). Profiles are defined in generate.py.
SHOP_KINDS: tuple[tuple[str, str, float], ...] = (
    ("سوپرمارکت", "two_shifts", 14),
    ("هایپرمارکت", "long_day", 2),
    ("داروخانه", "two_shifts", 6),
    ("داروخانه شبانه‌روزی", "always", 1.5),
    ("سوپرمارکت شبانه‌روزی", "always", 1.5),
    ("نانوایی", "bakery", 6),
    ("قنادی", "two_shifts", 4),
    ("میوه و تره‌بار", "long_day", 4),
    ("پوشاک", "two_shifts", 8),
    ("کفش", "two_shifts", 4),
    ("لوازم خانگی", "two_shifts", 4),
    ("موبایل", "two_shifts", 6),
    ("کتاب‌فروشی", "two_shifts", 2),
    ("رستوران", "restaurant", 5),
    ("کافه", "restaurant", 3),
    ("آرایشگاه", "two_shifts", 3),
    ("عینک", "two_shifts", 2),
    ("طلا و جواهر", "two_shifts", 3),
    ("لوازم التحریر", "two_shifts", 2),
    ("خشکبار", "two_shifts", 2),
    ("قصابی", "two_shifts", 3),
    ("ابزارآلات", "office", 3),
    ("لوازم یدکی", "office", 3),
    ("کلینیک دندانپزشکی", "office", 2),
    ("آزمایشگاه", "office", 1),
    ("جایگاه سوخت", "always", 1),
)

#: Family names (also used for technicians and contact persons).
SURNAMES: tuple[str, ...] = (
    "احمدی", "محمدی", "حسینی", "رضایی", "موسوی", "کریمی", "جعفری", "صادقی", "رحیمی", "هاشمی",
    "نوری", "کاظمی", "قاسمی", "عباسی", "ابراهیمی", "اکبری", "یوسفی", "مرادی", "شریفی", "طاهری",
    "نجفی", "فرهادی", "سلیمانی", "زمانی", "کامرانی", "بهرامی", "توکلی", "خسروی", "امیری", "سبحانی",
    "افشار", "تهرانی", "اصفهانی", "شیرازی", "تبریزی", "کرمانی", "یزدی", "رشتی", "قزوینی", "مشهدی",
    "پارسا", "نیکنام", "فروتن", "راستگو", "مهرابی", "صالحی", "باقری", "حیدری", "ملکی", "عسگری",
)

#: Place-like and pleasant words used as shop names ("نانوایی بهار", "سوپرمارکت آفتاب").
BRAND_WORDS: tuple[str, ...] = (
    "بهار", "آفتاب", "ستاره", "نگین", "الماس", "پارس", "آریا", "کوروش", "سپید", "مهتاب",
    "گلستان", "نسیم", "آسمان", "امید", "ایران", "البرز", "سپهر", "رویال", "ماهان", "پردیس",
    "شمیران", "ونک", "تجریش", "نارمک", "صادقیه", "جنت", "ستارخان", "پیروزی", "آزادی", "انقلاب",
)

FIRST_NAMES_MALE: tuple[str, ...] = (
    "علی", "محمد", "حسین", "رضا", "مهدی", "امیر", "سعید", "حمید", "مجید", "وحید",
    "مصطفی", "جواد", "احسان", "میلاد", "پویا", "بهزاد", "کامران", "فرهاد", "یاسر", "عرفان",
)
FIRST_NAMES_FEMALE: tuple[str, ...] = (
    "زهرا", "فاطمه", "مریم", "سارا", "نرگس", "لیلا", "الهام", "مینا", "نازنین", "شیرین",
)

#: Real Tehran streets (their names only; numbers and alleys are invented).
STREETS: tuple[str, ...] = (
    "خیابان ولیعصر", "خیابان انقلاب", "خیابان آزادی", "خیابان شریعتی", "خیابان مطهری",
    "خیابان طالقانی", "خیابان جمهوری", "خیابان ستارخان", "خیابان پیروزی", "خیابان دماوند",
    "خیابان کریمخان زند", "خیابان فاطمی", "خیابان مولوی", "خیابان خیام", "خیابان ناصرخسرو",
    "خیابان سعدی", "خیابان فردوسی", "خیابان حافظ", "خیابان بهار", "خیابان میرداماد",
    "خیابان گاندی", "خیابان پاسداران", "خیابان نیاوران", "خیابان سهروردی", "خیابان هفت‌تیر",
    "خیابان کارگر", "خیابان توحید", "خیابان نواب", "خیابان قزوین", "خیابان شوش",
    "بلوار کشاورز", "بلوار فرحزادی", "بلوار مرزداران", "بلوار تهرانپارس", "بلوار اشرفی اصفهانی",
    "خیابان سی‌متری نیروی هوایی", "خیابان هنگام", "خیابان رسالت", "خیابان فرجام", "خیابان زنجان",
)
ALLEY_WORDS: tuple[str, ...] = (
    "لاله", "نرگس", "یاس", "مریم", "شقایق", "بنفشه", "سوسن", "نسترن", "اقاقیا", "صنوبر",
    "سرو", "چنار", "بهار", "آزادی", "دانش", "امید", "شهید رضایی", "شهید احمدی", "گلستان", "نیلوفر",
)

#: Mobile prefixes of Iranian operators (MCI, Irancell, Rightel).
MOBILE_PREFIXES: tuple[str, ...] = ("0912", "0919", "0935", "0936", "0937", "0901", "0902", "0921", "0990")


def weighted_choice(rng: random.Random, items: tuple, weights: tuple[float, ...] | list[float]) -> Any:
    """One item drawn with the given weights."""
    return rng.choices(items, weights=weights, k=1)[0]


def person_name(rng: random.Random, female_share: float = 0.2) -> str:
    """A Persian full name."""
    first = rng.choice(FIRST_NAMES_FEMALE if rng.random() < female_share else FIRST_NAMES_MALE)
    return f"{first} {rng.choice(SURNAMES)}"


def shop_name(rng: random.Random, kind: str) -> str:
    """A shop name: kind + family or place word (``"داروخانه دکتر کریمی"``, ``"نانوایی بهار"``)."""
    if kind.startswith("داروخانه") or kind.startswith("کلینیک"):
        return f"{kind} دکتر {rng.choice(SURNAMES)}"
    if rng.random() < 0.55:
        return f"{kind} {rng.choice(SURNAMES)}"
    return f"{kind} {rng.choice(BRAND_WORDS)}"


def address(rng: random.Random) -> str:
    """A Tehran street address in Persian."""
    street = rng.choice(STREETS)
    number = rng.randint(1, 480)
    if rng.random() < 0.6:
        return f"تهران، {street}، کوچه {rng.choice(ALLEY_WORDS)}، پلاک {number}"
    return f"تهران، {street}، نبش کوچه {rng.choice(ALLEY_WORDS)}، پلاک {number}"


def landline(rng: random.Random) -> str:
    """A Tehran landline, canonical form ``021xxxxxxxx``."""
    return f"021{rng.randint(2, 8)}{rng.randint(0, 9_999_999):07d}"


def mobile(rng: random.Random) -> str:
    """An Iranian mobile number, canonical form ``09xxxxxxxxx``."""
    return f"{rng.choice(MOBILE_PREFIXES)}{rng.randint(0, 9_999_999):07d}"
