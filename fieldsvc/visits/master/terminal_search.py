"""Find the terminal of a merchant's call as the desk types (issue 17.7).

One query, limited to :data:`LIMIT` rows, within the user's scope: the text is matched against
the terminal's serial (normalised like every code: Persian digits, case, spaces), its id, the
merchant's name and code, and the merchant's phone (digits only, so "0912 000 1100" finds
"09120001100"). Exact serial and id matches come first.
"""
from __future__ import annotations

import re

from sqlalchemy import case, func, or_, select

from fieldsvc.db import db
from fieldsvc.text import normalize_code, normalize_digits, normalize_text
from fieldsvc.visits.models import Merchant, Terminal, User
from fieldsvc.visits.scope import scoped

LIMIT = 20
MIN_CHARS = 2


def search_terminals(user: User, text: str, limit: int = LIMIT) -> list[Terminal]:
    """Terminals at merchants the user may open calls for, matching ``text`` (see the module)."""
    words = normalize_text(normalize_digits(text or "")).strip()
    if len(words) < MIN_CHARS and not words.isdigit():  # a terminal id may be one digit
        return []
    code = normalize_code(words)
    digits = re.sub(r"\D", "", words)
    like = f"%{words.lower()}%"
    merchants = scoped(Merchant, user).with_only_columns(Merchant.id)
    conditions = [func.upper(Terminal.serial).like(f"%{code}%"), func.lower(Merchant.name).like(like),
                  func.lower(Merchant.code).like(like)]
    if len(digits) >= 4:
        conditions.append(func.replace(func.replace(Merchant.phone, " ", ""), "-", "").like(f"%{digits}%"))
    if digits and digits == words:
        conditions.append(Terminal.id == int(digits))
    exact = case((func.upper(Terminal.serial) == code, 0), (Terminal.id == (int(digits) if digits.isdigit() and
                                                                            len(digits) < 10 else -1), 0), else_=1)
    q = (select(Terminal).join(Merchant, Terminal.merchant_id == Merchant.id)
         .where(Terminal.merchant_id.in_(merchants), or_(*conditions))
         .order_by(exact, Merchant.name, Terminal.serial).limit(limit))
    return list(db.session.scalars(q))


def terminal_choice(t: Terminal) -> dict:
    """A search result as the form's picker shows it."""
    m = t.merchant
    return {"id": t.id, "serial": t.serial, "model": t.model,
            "merchant": {"id": m.id, "name": m.name, "code": m.code, "phone": m.phone, "address": m.address}}
