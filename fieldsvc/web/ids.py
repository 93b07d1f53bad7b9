"""The one integer converter for ids and other whole numbers that reach us from a request: URL parts
(`<int:…>`), query strings, forms and JSON bodies all go through :func:`to_db_int`, which refuses
anything an INTEGER column cannot hold (2⁶³ used to reach the database and answer 500)."""
from __future__ import annotations

import re
from typing import Any, Mapping

from flask_babel import gettext as _
from marshmallow import ValidationError, fields

from fieldsvc.text import normalize_digits
from fieldsvc.visits.scope import MAX_DB_INT

_WHOLE = re.compile(r"[+-]?\d{1,19}")


def to_db_int(value: Any, *, minimum: int = 0, maximum: int = MAX_DB_INT) -> int:
    """`value` (an int, or text with ASCII, Persian or Arabic-Indic digits) as an int within
    [minimum, maximum]; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError("not a whole number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _WHOLE.fullmatch(normalize_digits(value).strip()):
        number = int(normalize_digits(value).strip())
    else:
        raise ValueError(f"not a whole number: {str(value)[:30]!r}")
    if not minimum <= number <= maximum:
        raise ValueError(f"{number} is outside {minimum}..{maximum}")
    return number


def request_int(source: Mapping[str, Any], name: str, *, minimum: int = 0) -> int | None:
    """The whole number `name` of a query string or form (None when absent or empty); a clear 400
    naming the field when it is not one an id can be."""
    from fieldsvc.web.errors import ApiError

    raw = source.get(name)
    if raw is None or raw == "":
        return None
    try:
        return to_db_int(raw, minimum=minimum)
    except ValueError:
        raise ApiError(400, "invalid_number", _("%(field)s: give a whole number from %(low)s to %(high)s.",
                                                field=name, low=minimum, high=MAX_DB_INT), name) from None


class DbInt(fields.Integer):
    """A marshmallow whole number bounded by :func:`to_db_int` (ids, versions, positions)."""

    def __init__(self, *args: Any, minimum: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.minimum = minimum
        self.metadata.setdefault("minimum", minimum)
        self.metadata.setdefault("maximum", MAX_DB_INT)

    def _validated(self, value: Any) -> int:
        number = super()._validated(value)
        try:
            return to_db_int(number, minimum=self.minimum)
        except ValueError:
            raise ValidationError(f"give a whole number from {self.minimum} to {MAX_DB_INT}") from None
