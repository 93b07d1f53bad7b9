"""Language and time zone of each request; Jinja filters for dates, numbers and amounts."""
from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import Babel, get_locale
from flask_login import current_user
from markupsafe import Markup

TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"


def select_locale() -> str:
    """The user's setting, else the session's choice, else the browser's Accept-Language.

    Outside a request (jobs, the CLI, services called directly) messages stay in their English
    source text; code that writes for a person forces the locale (``flask_babel.force_locale``)."""
    if not has_request_context():
        return "en"
    langs = current_app.config["LANGUAGES"]
    if getattr(current_user, "is_authenticated", False) and getattr(current_user, "language", None) in langs:
        return current_user.language
    if session.get("lang") in langs:
        return session["lang"]
    return request.accept_languages.best_match(langs) or current_app.config["BABEL_DEFAULT_LOCALE"]


def lang() -> str:
    """Current language code ('fa' or 'en')."""
    loc = get_locale()
    return loc.language if loc else current_app.config["BABEL_DEFAULT_LOCALE"]


#: Between the parts of a heading or a line (issue 17.8): not "·", which reads as the Persian zero.
SEPARATOR = Markup('<span class="sep" aria-hidden="true"> | </span>')


def code_markup(value: object) -> Markup:
    """A code meant to stay Latin (serial, tracking number, username, phone): isolated, left to
    right, never translated, never wrapped (``{{ x|code }}``)."""
    return Markup('<bdi class="code" dir="ltr" translate="no">{}</bdi>').format("" if value is None else value)


def name_markup(value: object) -> Markup:
    """A name or address as typed: isolated for bidi in its own direction, not translated."""
    return Markup('<bdi dir="auto" translate="no">{}</bdi>').format("" if value is None else value)


def text_dir() -> str:
    return "rtl" if lang() == "fa" else "ltr"


def compile_catalogues(directory: Path = TRANSLATIONS_DIR) -> list[Path]:
    """Compile every `messages.po` whose `.mo` is missing or older (`make install` does it too, so
    a catalogue edited since cannot be served stale); returns the files written."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=po.parent.parent.name)
        tmp = mo.with_suffix(f".mo.{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            write_mo(fh, catalog)
        tmp.replace(mo)
        written.append(mo)
    return written


def init_i18n(app: Flask, babel: Babel) -> None:
    """Bind Flask-Babel and register the display filters."""
    from fieldsvc import dates, text

    try:
        compile_catalogues()
    except OSError as e:  # a read-only installation keeps the catalogues compiled at install time
        app.logger.warning("translations not recompiled: %s", e)
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(TRANSLATIONS_DIR))
    tz = app.config["TIMEZONE"]

    def _date(d: date | datetime | None) -> str:
        if d is None:
            return "—"
        if isinstance(d, datetime):
            d = dates.to_local(d, tz).date()
        return dates.format_date(d, lang())

    def _datetime(d: datetime | None) -> str:
        return "—" if d is None else dates.format_datetime(d, lang(), tz)

    def _time(d: datetime | None) -> str:
        if d is None:
            return "—"
        s = dates.to_local(d, tz).strftime("%H:%M")
        return text.to_persian_digits(s) if lang() == "fa" else s

    def _number(n: float | int | None) -> str:
        return "—" if n is None else text.format_number(n, lang())

    def _amount(rial: int | None) -> str:
        unit = "toman" if getattr(current_user, "show_toman", False) else "rial"
        return "—" if rial is None else text.format_amount(rial, lang(), unit)

    def _digits(value: object) -> str:
        """Any text with its ASCII digits in Persian on Persian pages (times, counts, codes shown
        as words): ``{{ '08:00'|digits }}`` → ``۰۸:۰۰``."""
        value = "—" if value is None else str(value)
        return text.to_persian_digits(value) if lang() == "fa" else value

    def _percent(value: float | None, decimals: int = 0) -> str:
        """A percentage (0–100): ``۸۵٪`` / ``85%``."""
        if value is None:
            return "—"
        return text.format_number(value, lang(), decimals) + ("٪" if lang() == "fa" else "%")

    app.jinja_env.filters.update(date=_date, datetime=_datetime, time=_time, number=_number, amount=_amount,
                                 digits=_digits, percent=_percent, code=code_markup, name=name_markup,
                                 decimal=lambda n: "—" if n is None else text.format_number(n, lang(), 2))
    app.jinja_env.globals.update(lang=lang, text_dir=text_dir, sep=SEPARATOR)
