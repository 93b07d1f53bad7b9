"""Search text of the knowledge base: one normaliser for articles and queries (pure, no ORM).

Persian is typed many ways: Arabic ي/ك or Persian ی/ک, Persian, Arabic-Indic or Latin digits,
words joined with a half-space (ZWNJ, ``می‌شود``), written together (``میشود``) or apart
(``می شود``), with or without short vowels. :func:`search_tokens` turns each of these into the same
tokens, so an article written one way is found when typed another way:

* letters and digits as :func:`fieldsvc.text.normalize_text` / :func:`~fieldsvc.text.normalize_digits`
  spell them, case folded, diacritics (harakat, tanwin, superscript alef) dropped;
* a word with half-spaces is indexed joined *and* as its parts; in a query it matches either
  joined or as all of its parts (so ``می‌شود``, ``میشود`` and ``می شود`` find one another).

:func:`text_score` is the SQLite fallback of PostgreSQL's ``ts_rank``: title matches weigh 1, other
matches 0.1 (``ts_rank``'s default weights of A and D), query words of 3+ letters also match as a
prefix (``چاپ`` finds ``چاپگر``, like ``'چاپ':*`` in a tsquery).
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from fieldsvc.text import ZWNJ, normalize_digits, normalize_text

__all__ = ["search_tokens", "query_groups", "index_text", "tsquery_text", "text_score", "model_key",
           "PREFIX_MIN", "TITLE_WEIGHT", "BODY_WEIGHT"]

#: Query words at least this long also match longer words starting with them.
PREFIX_MIN = 3
TITLE_WEIGHT, BODY_WEIGHT = 1.0, 0.1

_DIACRITICS = re.compile("[\u064b-\u065f\u0670\u06d6-\u06ed]")
_WORD = re.compile(rf"[\w{ZWNJ}]+")


def search_tokens(text: str, *, index: bool = False) -> list[str]:
    """The normalised words of ``text`` (see the module doc); ``index``: also the parts of
    half-spaced words, for the stored search text."""
    s = _DIACRITICS.sub("", normalize_digits(normalize_text(text or ""))).casefold()
    out: list[str] = []
    for word in _WORD.findall(s):
        parts = [p for p in word.replace("_", ZWNJ).split(ZWNJ) if p]
        if not parts:
            continue
        out.append("".join(parts))
        if index and len(parts) > 1:
            out.extend(parts)
    return out


#: One query word: its joined spelling and, for a half-spaced word, its parts.
Group = tuple[str, tuple[str, ...]]


def query_groups(text: str) -> list[Group]:
    """The words of a query: (joined, parts); a word matches joined, or when all its parts match."""
    s = _DIACRITICS.sub("", normalize_digits(normalize_text(text or ""))).casefold()
    out: dict[Group, None] = {}
    for word in _WORD.findall(s):
        parts = tuple(p for p in word.replace("_", ZWNJ).split(ZWNJ) if p)
        if parts:
            out.setdefault(("".join(parts), parts if len(parts) > 1 else ()), None)
    return list(out)


def model_key(text: str) -> str:
    """A terminal model as compared: letters and digits only, upper case (``pax-s90`` → ``PAXS90``)."""
    return "".join(search_tokens(text)).upper()


def index_text(*texts: str | Iterable[str]) -> str:
    """Space-separated unique index tokens of ``texts`` (strings or lists of strings), in order."""
    seen: dict[str, None] = {}
    for t in texts:
        for piece in ([t] if isinstance(t, str) else list(t)):
            for tok in search_tokens(str(piece), index=True):
                seen.setdefault(tok, None)
    return " ".join(seen)


def _lexeme(token: str, prefix: bool = True) -> str:
    return f"'{token}':*" if prefix and len(token) >= PREFIX_MIN else f"'{token}'"


def tsquery_text(groups: list[Group]) -> str:
    """A PostgreSQL ``to_tsquery('simple', …)`` text matching any query word (longer ones also as a
    prefix; a half-spaced word joined or as all its parts). Tokens are word characters only, so
    quoting them is enough."""
    terms = []
    for joined, parts in groups:
        if parts:
            together = " & ".join(_lexeme(p, i == len(parts) - 1) for i, p in enumerate(parts))
            terms.append(f"({_lexeme(joined)} | ({together}))")
        else:
            terms.append(_lexeme(joined))
    return " | ".join(terms)


def _matches(token: str, words: set[str], prefix: bool = True) -> bool:
    if token in words:
        return True
    return prefix and len(token) >= PREFIX_MIN and any(w.startswith(token) for w in words)


def _group_matches(group: Group, words: set[str]) -> bool:
    joined, parts = group
    return _matches(joined, words) or bool(parts) and all(
        _matches(p, words, i == len(parts) - 1) for i, p in enumerate(parts))


def text_score(query: list[Group], title: str, body: str) -> float:
    """Relevance of stored ``title``/``body`` index texts to the query words (0: no match)."""
    title_words, body_words = set(title.split()), set(body.split())
    score = 0.0
    for group in query:
        if _group_matches(group, title_words):
            score += TITLE_WEIGHT
        elif _group_matches(group, body_words):
            score += BODY_WEIGHT
    return score
