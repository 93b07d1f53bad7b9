"""Extraction of the translatable strings, in memory, with the settings of `pybabel extract`.

To bring the catalogues up to date after adding strings (the i18n owner does this):

    .venv/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o fieldsvc/translations/messages.pot .
    .venv/bin/pybabel update -i fieldsvc/translations/messages.pot -d fieldsvc/translations --no-fuzzy-matching

then translate the new entries of fieldsvc/translations/fa/LC_MESSAGES/messages.po.
"""
from __future__ import annotations

import re
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

REPO = Path(__file__).resolve().parents[2]
TRANSLATIONS = REPO / "fieldsvc" / "translations"
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2),
            "_ln": (1, 2)}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|\{(\w*)\}")


def extracted() -> dict[str | tuple[str, ...], list[str]]:
    """Every msgid (a tuple for plurals) found in templates and Python, with where it is used."""
    with (REPO / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    out: dict[str | tuple[str, ...], list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(REPO), method_map, options_map, keywords=KEYWORDS):
        if isinstance(message, (list, tuple)):
            message = tuple(m for m in message if m is not None)
            key: str | tuple[str, ...] = message if len(message) > 1 else message[0]
        else:
            key = message
        if not key:
            continue
        out.setdefault(key, []).append(f"{filename}:{lineno}")
    return out


def catalogue(lang: str) -> Catalog:
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=lang)


def placeholders(text: str) -> set[str]:
    return {a or b for a, b in PLACEHOLDER.findall(text)}
