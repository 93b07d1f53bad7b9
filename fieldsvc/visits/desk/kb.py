"""The support desk's knowledge base: articles, relevance search, suggestions for a call, sending an
article's steps to the merchant and recording whether they fixed the fault.

Who: the desk (PSP staff, dispatchers, administrators) reads the articles of its scope (shared
articles, ``psp_id`` None, and those of its PSP, or of the PSPs its contractor works for);
PSP staff write their PSP's articles, administrators any. Search is PostgreSQL full-text search
(``to_tsvector('simple', …)`` over the normalised text of :mod:`fieldsvc.visits.desk.kb_search`,
``ts_rank``) in production and token scoring in Python on SQLite; both then add the same boosts for
an article written for the call's symptom and terminal model and for its record of fixes.

Every change commits its own transaction and is in the audit trail; bad input is a
:class:`~fieldsvc.visits.desk.errors.CallError` naming the field, with nothing written.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Optional, Protocol

from sqlalchemy import Select, case, false, func, literal_column, or_, select, true
from sqlalchemy.exc import IntegrityError

from fieldsvc.db import db, utcnow
from fieldsvc.text import normalize_phone, normalize_text
from fieldsvc.visits.audit import record
from fieldsvc.visits.desk.errors import CallError
from fieldsvc.visits.desk.kb_search import index_text, model_key, query_groups, text_score, tsquery_text
from fieldsvc.visits.desk_extra_models import FTS_DOCUMENT, KbArticle, KbArticleUse
from fieldsvc.visits.i18n_text import gettext as _
from fieldsvc.visits.models import AuditEvent, Contract, Psp, Role, ServiceCall, User
from fieldsvc.visits.scope import Forbidden, NotFound, require_role

__all__ = ["ArticleHit", "ArticleStats", "ArticleSender", "visible_articles", "get_article", "save_article",
           "search", "suggest_for_call", "stats", "draft_from_call", "send_article", "record_outcome",
           "uses_of_call", "article_text", "WRITER_ROLES", "READER_ROLES", "OUTCOMES", "MAX_STEPS"]

WRITER_ROLES = (Role.PSP, Role.ADMIN)
READER_ROLES = (Role.PSP, Role.DISPATCHER, Role.ADMIN)
OUTCOMES = ("fixed", "not_fixed")
MAX_TITLE, MAX_STEPS = 200, 8000
#: Boosts added to the text relevance (0–1, relative to the best match of the search).
SYMPTOM_BOOST, MODEL_BOOST, FIX_BOOST = 0.3, 0.2, 0.05


# --------------------------------------------------------------------------- scope


def _scope(user: User) -> Any:
    if user.role == Role.ADMIN:
        return true()
    if user.role == Role.PSP:
        return or_(KbArticle.psp_id.is_(None), KbArticle.psp_id == user.psp_id) if user.psp_id else false()
    if user.role == Role.DISPATCHER and user.contractor_id:
        psps = select(Contract.psp_id).where(Contract.contractor_id == user.contractor_id)
        return or_(KbArticle.psp_id.is_(None), KbArticle.psp_id.in_(psps))
    return false()


def visible_articles(user: User, *, include_inactive: bool = False) -> Select:
    """``select(KbArticle)`` limited to what ``user`` may read (active ones unless asked)."""
    require_role(user, *READER_ROLES)
    stmt = select(KbArticle).where(_scope(user))
    return stmt if include_inactive else stmt.where(KbArticle.active.is_(True))


def get_article(user: User, article_id: int) -> KbArticle:
    """The article if ``user`` may read it (inactive ones only for its writers), else NotFound."""
    art = db.session.scalars(visible_articles(user, include_inactive=True).where(KbArticle.id == article_id)).first()
    if art is None or (not art.active and not can_write(user, art)):
        raise NotFound("KbArticle", article_id)
    return art


def can_write(user: User, article: KbArticle | None = None) -> bool:
    """Whether ``user`` may create articles (``article`` None) or edit ``article``."""
    if user.role == Role.ADMIN:
        return True
    if user.role != Role.PSP or not user.psp_id:
        return False
    return article is None or article.psp_id == user.psp_id


# --------------------------------------------------------------------------- writing


def _clean_lines(text: str) -> str:
    """Steps: each line normalised (Arabic letters, invisible marks), blank runs collapsed."""
    lines = [normalize_text(line) for line in (text or "").replace("\r\n", "\n").split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def _codes(values: Any, name: str) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        values = [v for v in values.replace("،", ",").split(",")]
    if not isinstance(values, (list, tuple)):
        raise CallError(422, name, _("Give a list."), name)
    return list(dict.fromkeys(v for v in (str(x).strip() for x in values) if v))


def _validated(data: dict[str, Any]) -> dict[str, Any]:
    from fieldsvc.visits.desk.calls import SYMPTOMS

    out = {k: normalize_text(str(data.get(k) or "")) for k in ("title_fa", "title_en")}
    out.update({k: _clean_lines(str(data.get(k) or "")) for k in ("steps_fa", "steps_en")})
    if not out["title_fa"] and not out["title_en"]:
        raise CallError(422, "title", _("Give the article a title in Persian or in English."), "title_fa")
    if not out["steps_fa"] and not out["steps_en"]:
        field = "steps_en" if out["title_en"] and not out["title_fa"] else "steps_fa"
        raise CallError(422, "steps", _("Write the steps of the fix in Persian or in English."), field)
    for lang in ("fa", "en"):
        if out[f"steps_{lang}"] and not out[f"title_{lang}"]:
            raise CallError(422, "title", _("Steps in one language need a title in the same language."),
                            f"title_{lang}")
        if out[f"title_{lang}"] and not out[f"steps_{lang}"]:
            raise CallError(422, "steps", _("A title in one language needs the steps in the same language."),
                            f"steps_{lang}")
        if len(out[f"title_{lang}"]) > MAX_TITLE:
            raise CallError(422, "title", _("The title is longer than %(n)s characters.", n=MAX_TITLE),
                            f"title_{lang}")
        if len(out[f"steps_{lang}"]) > MAX_STEPS:
            raise CallError(422, "steps", _("The steps are longer than %(n)s characters.", n=MAX_STEPS),
                            f"steps_{lang}")
    symptoms = _codes(data.get("symptom_codes"), "symptom_codes")
    unknown = [s for s in symptoms if s not in SYMPTOMS]
    if unknown:
        raise CallError(422, "symptom", _("Unknown symptom code %(code)s.", code=unknown[0]), "symptom_codes")
    models = [model_key(m) for m in _codes(data.get("terminal_models"), "terminal_models")]
    if any(len(m) > 64 for m in models):
        raise CallError(422, "terminal_models", _("A terminal model has at most 64 characters."), "terminal_models")
    out["symptom_codes"] = symptoms
    out["terminal_models"] = list(dict.fromkeys(m for m in models if m))
    return out


def _index(article: KbArticle) -> None:
    article.search_title = index_text(article.title_fa, article.title_en)
    article.search_body = index_text(article.steps_fa, article.steps_en, article.symptom_codes or [],
                                     article.terminal_models or [])


def save_article(user: User, data: dict[str, Any], article: KbArticle | None = None, *,
                 expected_version: int | None = None) -> KbArticle:
    """Create (``article`` None) or edit an article; commits. ``data``: title_fa, title_en, steps_fa,
    steps_en, symptom_codes, terminal_models (lists or comma-separated), active, and for a new
    article psp_id (administrators; PSP staff always write for their PSP) and source_call_id."""
    if not can_write(user, article):
        raise Forbidden("only PSP staff and administrators write knowledge-base articles")
    if article is not None and expected_version is not None and article.version != expected_version:
        raise CallError(409, "stale", _("Someone else changed this article meanwhile; reload the page and try "
                                        "again."), "version")
    values = _validated(data)
    creating = article is None
    if creating:
        psp_id = user.psp_id if user.role == Role.PSP else data.get("psp_id")
        if psp_id is not None and db.session.get(Psp, psp_id) is None:
            raise CallError(422, "psp", _("This PSP does not exist."), "psp_id")
        article = KbArticle(psp_id=psp_id, created_by_id=user.id)
        source = data.get("source_call_id")
        if source is not None:
            call = _call_for_article(user, source)
            if call.psp_id != psp_id and psp_id is not None:
                raise CallError(422, "source_call", _("The call belongs to another PSP."), "source_call_id")
            article.source_call_id = call.id
    for key, value in values.items():
        setattr(article, key, value)
    if "active" in data and data["active"] is not None:
        article.active = bool(data["active"])
    article.updated_by_id = user.id
    _index(article)
    try:
        with db.session.begin_nested():
            db.session.add(article)
            db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise CallError(409, "article_exists", _("An article was already written from this call."),
                        "source_call_id") from None
    record("kb_created" if creating else "kb_edited", article, actor=user,
           title=article.title_fa or article.title_en, source_call_id=article.source_call_id)
    db.session.commit()
    return article


def _call_for_article(user: User, call_id: Any) -> ServiceCall:
    from fieldsvc.visits.scope import get_scoped

    try:
        call = get_scoped(ServiceCall, int(call_id), user)
    except (LookupError, TypeError, ValueError):
        raise CallError(404, "source_call", _("This call does not exist."), "source_call_id") from None
    if call.status not in ("resolved", "closed"):
        raise CallError(422, "source_call", _("Write an article from a call only once it is resolved."),
                        "source_call_id")
    return call


def resolution_note(call: ServiceCall) -> str:
    """What the person who resolved the call wrote (the note of its last move to resolved or closed)."""
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == ServiceCall.__tablename__, AuditEvent.object_id == call.id,
        AuditEvent.action == "status", AuditEvent.to_state.in_(["resolved", "closed"]))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())).all()
    for e in events:
        note = str((e.data or {}).get("note") or (e.data or {}).get("resolution_note") or "").strip()
        if note:
            return note
    return ""


def draft_from_call(user: User, call_id: int) -> dict[str, Any]:
    """The fields of a new article prefilled from a resolved call: symptom, terminal model, what the
    merchant said and how it was resolved."""
    from fieldsvc.visits.desk.calls import SYMPTOMS

    if not can_write(user):
        raise Forbidden("only PSP staff and administrators write knowledge-base articles")
    call = _call_for_article(user, call_id)
    symptom = str(SYMPTOMS.get(call.symptom_code, call.symptom_code))
    note = resolution_note(call)
    steps = note
    model = call.terminal.model if call.terminal else ""
    title = f"{symptom} — {model}" if model else symptom
    lang = "en" if (user.language or "fa") == "en" else "fa"
    return {"title_fa": title if lang == "fa" else "", "title_en": title if lang == "en" else "",
            "steps_fa": steps if lang == "fa" else "", "steps_en": steps if lang == "en" else "",
            "symptom_codes": [call.symptom_code], "terminal_models": [model] if model else [],
            "source_call_id": call.id, "symptom_text": call.symptom_text}


# --------------------------------------------------------------------------- search


@dataclass(frozen=True)
class ArticleStats:
    """How often an article was offered on calls and how often it fixed the fault."""

    offered: int = 0
    fixed: int = 0
    not_fixed: int = 0

    @property
    def fix_rate(self) -> float | None:
        decided = self.fixed + self.not_fixed
        return round(100.0 * self.fixed / decided, 1) if decided else None


@dataclass(frozen=True)
class ArticleHit:
    """A search result: the article, its relevance and why it matched."""

    article: KbArticle
    score: float
    text_score: float
    symptom_match: bool
    model_match: bool
    stats: ArticleStats = field(default_factory=ArticleStats)


def stats(article_ids: list[int]) -> dict[int, ArticleStats]:
    """Offered / fixed / not fixed counts per article."""
    if not article_ids:
        return {}
    rows = db.session.execute(select(
        KbArticleUse.article_id, func.count(),
        func.sum(case((KbArticleUse.outcome == "fixed", 1), else_=0)),
        func.sum(case((KbArticleUse.outcome == "not_fixed", 1), else_=0)))
        .where(KbArticleUse.article_id.in_(article_ids)).group_by(KbArticleUse.article_id)).all()
    return {aid: ArticleStats(int(n or 0), int(f or 0), int(nf or 0)) for aid, n, f, nf in rows}


def _text_scores(stmt: Select, tokens: list, limit: int) -> list[tuple[KbArticle, float]]:
    if db.session.get_bind().dialect.name == "postgresql":
        doc = literal_column(FTS_DOCUMENT)
        query = func.to_tsquery("simple", tsquery_text(tokens))
        rank = func.ts_rank(doc, query).label("rank")
        rows = db.session.execute(stmt.add_columns(rank).where(doc.op("@@")(query))
                                  .order_by(rank.desc(), KbArticle.id).limit(limit)).all()
        return [(a, float(r)) for a, r in rows]
    scored = [(a, text_score(tokens, a.search_title, a.search_body)) for a in db.session.scalars(stmt)]
    scored = [(a, s) for a, s in scored if s > 0]
    scored.sort(key=lambda x: (-x[1], x[0].id))
    return scored[:limit]


def search(user: User, q: str = "", *, model: str = "", symptom: str = "", limit: int = 20,
           include_inactive: bool = False) -> list[ArticleHit]:
    """Articles best first. ``q``: words of any spelling (see kb_search); ``model``/``symptom``:
    only articles written for them or for any model/symptom, those written for them first."""
    stmt = visible_articles(user, include_inactive=include_inactive)
    limit = max(1, min(int(limit), 100))
    tokens = query_groups(q)
    if tokens:
        candidates = _text_scores(stmt, tokens, 500)
    else:
        candidates = [(a, 0.0) for a in db.session.scalars(stmt.order_by(KbArticle.id.desc()).limit(500))]
    want_model = model_key(model or "")
    want_symptom = (symptom or "").strip()
    kept = []
    for art, score in candidates:
        codes, models = art.symptom_codes or [], art.terminal_models or []
        if want_symptom and codes and want_symptom not in codes:
            continue
        if want_model and models and want_model not in models:
            continue
        kept.append((art, score, bool(want_symptom and want_symptom in codes),
                     bool(want_model and want_model in models)))
    counts = stats([a.id for a, *_ in kept])
    best = max((s for _a, s, *_ in kept), default=0.0) or 1.0
    hits = []
    for art, score, s_match, m_match in kept:
        st = counts.get(art.id, ArticleStats())
        total = (score / best + SYMPTOM_BOOST * s_match + MODEL_BOOST * m_match
                 + FIX_BOOST * math.log1p(st.fixed))
        hits.append(ArticleHit(art, round(total, 4), round(score, 4), s_match, m_match, st))
    hits.sort(key=lambda h: (-h.score, -h.stats.fixed, h.article.id))
    return hits[:limit]


def suggest_for_call(user: User, call: ServiceCall, limit: int = 5) -> list[ArticleHit]:
    """The articles most relevant to a call: its symptom and terminal model, then what the merchant said."""
    model = call.terminal.model if call.terminal else ""
    hits = search(user, call.symptom_text or "", model=model, symptom=call.symptom_code, limit=limit)
    if len(hits) < limit:
        seen = {h.article.id for h in hits}
        hits += [h for h in search(user, "", model=model, symptom=call.symptom_code, limit=limit)
                 if h.article.id not in seen and (h.symptom_match or h.model_match)][:limit - len(hits)]
    return hits


# --------------------------------------------------------------------------- sending and outcome


def article_text(article: KbArticle, language: str) -> tuple[str, str, str]:
    """(language, title, steps) in ``language`` when written in it, else in the other one."""
    order = ("en", "fa") if language == "en" else ("fa", "en")
    for lang in order:
        if getattr(article, f"steps_{lang}"):
            return lang, getattr(article, f"title_{lang}"), getattr(article, f"steps_{lang}")
    return language, article.title_fa or article.title_en, ""


class ArticleSender(Protocol):
    """Delivers an article to a merchant; the web layer renders e-mails, an SMS gateway sends texts."""

    def email(self, call: ServiceCall, article: KbArticle, to: str) -> None: ...

    def sms(self, call: ServiceCall, article: KbArticle, to: str) -> None: ...


def _use(call: ServiceCall, article: KbArticle, user: User) -> KbArticleUse:
    """The row of this article on this call, added to the session (flushed) when new."""
    use = db.session.scalars(select(KbArticleUse).where(
        KbArticleUse.article_id == article.id, KbArticleUse.call_id == call.id)).first()
    if use is None:
        use = KbArticleUse(article_id=article.id, call_id=call.id, sent_by_id=user.id, created_at=utcnow())
        db.session.add(use)
        try:
            db.session.flush()
        except IntegrityError:  # the same article offered at the same moment by someone else
            db.session.rollback()
            raise CallError(409, "stale", _("Someone else changed this call meanwhile; reload the page and try "
                                            "again."), "article_id") from None
    return use


def _merchant_mobile(call: ServiceCall) -> str:
    for raw in (call.caller_phone, call.merchant.phone):
        try:
            return normalize_phone(raw or "", mobile_only=True)
        except ValueError:
            continue
    raise CallError(422, "no_mobile", _("Neither the caller nor the shop has a mobile number for an SMS; "
                                        "send the article by e-mail."), "channel")


def send_article(user: User, call: ServiceCall, article: KbArticle, channel: str, sender: ArticleSender,
                 at: datetime | None = None) -> KbArticleUse:
    """Send the article's steps to the call's merchant by ``email`` or ``sms``; commits. Sending
    the same article by the same channel twice is refused (a retried click sends nothing twice)."""
    require_role(user, Role.PSP, Role.DISPATCHER, Role.ADMIN)
    if channel not in ("email", "sms"):
        raise CallError(422, "channel", _("Choose e-mail or SMS."), "channel")
    if call.status in ("closed", "cancelled"):
        raise CallError(409, "call_finished", _("The call is finished; nothing is sent."), "call_id")
    at = at or utcnow()
    if channel == "email":
        to = (call.merchant.email or "").strip()
        if not to:
            raise CallError(422, "no_email", _("The shop has no e-mail address; send the article by SMS."),
                            "channel")
    else:
        to = _merchant_mobile(call)
    use = _use(call, article, user)
    if (use.emailed_at if channel == "email" else use.sms_at) is not None:
        raise CallError(409, "already_sent", _("This article was already sent to the merchant by this channel."),
                        "channel")
    if channel == "email":
        use.emailed_to, use.emailed_at = to, at
    else:
        use.sms_to, use.sms_at = to, at
    record("kb_sent", call, actor=user, article_id=article.id, channel=channel, to=to)
    db.session.flush()
    try:
        (sender.email if channel == "email" else sender.sms)(call, article, to)
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    return use


def record_outcome(user: User, call: ServiceCall, article: KbArticle, outcome: str) -> KbArticleUse:
    """Whether the article's steps fixed the call's fault (the desk asks the merchant); commits."""
    require_role(user, Role.PSP, Role.DISPATCHER, Role.ADMIN)
    if outcome not in OUTCOMES:
        raise CallError(422, "outcome", _("Say whether the steps fixed the fault."), "outcome")
    use = _use(call, article, user)
    use.outcome, use.outcome_at, use.outcome_by_id = outcome, utcnow(), user.id
    record("kb_outcome", call, actor=user, article_id=article.id, outcome=outcome)
    db.session.commit()
    return use


def uses_of_call(call: ServiceCall) -> list[KbArticleUse]:
    """The articles offered on a call, oldest first."""
    return list(db.session.scalars(select(KbArticleUse).where(KbArticleUse.call_id == call.id)
                                   .order_by(KbArticleUse.id)))


def psp_choices() -> list[tuple[Optional[int], str]]:
    """PSPs an administrator may file an article under (None: every PSP)."""
    return [(None, "")] + [(p.id, p.name) for p in db.session.scalars(select(Psp).order_by(Psp.name))]
