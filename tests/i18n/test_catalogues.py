"""Complete catalogues (issue 9, point 1): a string in a template or view without a Persian
translation fails here — extracted in memory with Babel, compared with the fa catalogue (a missing,
empty or fuzzy entry is missing). See tests/i18n/catalogue.py for how to update the catalogues."""
from __future__ import annotations

import io
import subprocess

from babel.messages.mofile import write_mo

from tests.i18n.catalogue import REPO, TRANSLATIONS, catalogue, extracted, placeholders


def _translated(msg) -> bool:
    if msg is None or "fuzzy" in msg.flags:
        return False
    strings = msg.string if isinstance(msg.string, (list, tuple)) else [msg.string]
    return bool(strings) and all(s and s.strip() for s in strings)


def test_every_string_has_a_persian_translation() -> None:
    fa = catalogue("fa")
    missing = []
    for msgid, where in sorted(extracted().items(), key=lambda kv: kv[1][0]):
        key = msgid[0] if isinstance(msgid, tuple) else msgid
        if not _translated(fa.get(key)):
            missing.append(f"{where[0]}: {msgid!r}")
    assert not missing, (f"{len(missing)} strings have no Persian translation in "
                         "fieldsvc/translations/fa/LC_MESSAGES/messages.po (update the catalogue as "
                         "tests/i18n/catalogue.py says):\n" + "\n".join(missing))


def test_translations_keep_their_placeholders() -> None:
    """`%(name)s` in the English text must be in the Persian one (else formatting fails or drops data)."""
    bad = []
    for msg in catalogue("fa"):
        if not msg.id or not _translated(msg):
            continue
        ids = msg.id if isinstance(msg.id, (list, tuple)) else [msg.id]
        strings = msg.string if isinstance(msg.string, (list, tuple)) else [msg.string]
        want = set().union(*(placeholders(i) for i in ids))
        for s in strings:
            got = placeholders(s)
            if not got <= want or not placeholders(ids[0]) - {"num", "n", "count"} <= got:
                bad.append(f"{msg.id!r} → {s!r}")
    assert not bad, "placeholders differ:\n" + "\n".join(bad)


def test_translations_are_persian() -> None:
    """Persian text uses Persian letters (ی ک), never Arabic ي ك, and no untranslated English sentence."""
    bad = []
    for msg in catalogue("fa"):
        if not msg.id or not _translated(msg):
            continue
        for s in (msg.string if isinstance(msg.string, (list, tuple)) else [msg.string]):
            if "\u064a" in s or "\u0643" in s:
                bad.append(f"Arabic letters in {s!r}")
            if s == msg.id and any(c.isalpha() for c in s) and len(s.split()) > 1:
                bad.append(f"left in English: {s!r}")
    assert not bad, "\n".join(bad)


def test_english_catalogue_lists_every_string() -> None:
    en = catalogue("en")
    missing = [m for m in extracted() if en.get(m[0] if isinstance(m, tuple) else m) is None]
    assert not missing, f"not in the en catalogue: {missing[:20]}"


def test_catalogues_compile_without_errors() -> None:
    for lang in ("fa", "en"):
        cat = catalogue(lang)
        errors = [(msg.id, errs) for msg, errs in cat.check() if errs]
        assert not errors, f"{lang}: {errors[:10]}"
        buf = io.BytesIO()
        write_mo(buf, cat)
        assert buf.getvalue()


def test_compiled_catalogues_are_not_committed() -> None:
    """The .mo files are built by `make install` (and at start-up when older than the .po)."""
    tracked = subprocess.run(["git", "ls-files", "--", "*.mo"], cwd=REPO, capture_output=True, text=True,
                             check=True).stdout.split()
    assert tracked == []
    assert (TRANSLATIONS / "messages.pot").exists()
