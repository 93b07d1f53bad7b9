"""Knowledge-base API: search articles best first, create one. Rules live in fieldsvc.visits.desk.kb."""
from __future__ import annotations

from datetime import timezone
from typing import Any

from flask import url_for
from flask.views import MethodView
from flask_login import current_user, login_required
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from fieldsvc.visits.desk import calls as svc
from fieldsvc.visits.desk import kb
from fieldsvc.visits.desk.errors import CallError
from fieldsvc.visits.desk_extra_models import KbArticle
from fieldsvc.web.errors import ApiError
from fieldsvc.web.ids import DbInt

blp = Blueprint("kb_api", __name__, url_prefix="/api/v1/kb", description="Knowledge base of known fixes")

_aware = {"format": "iso", "default_timezone": timezone.utc}


class ArticleQuerySchema(Schema):
    q = fields.String(load_default="", validate=validate.Length(max=500),
                      metadata={"description": "words in any spelling (Persian/Arabic letters and digits, "
                                               "half-spaces); empty: by symptom and model only"})
    model = fields.String(load_default="", validate=validate.Length(max=64),
                          metadata={"description": "terminal model: only articles for it or for any model"})
    symptom = fields.String(load_default="", validate=validate.OneOf([""] + list(svc.SYMPTOMS)),
                            metadata={"description": "symptom code: only articles for it or for any symptom"})
    limit = fields.Integer(load_default=20, validate=validate.Range(1, 100))


class ArticleInSchema(Schema):
    title_fa = fields.String(load_default="", validate=validate.Length(max=200))
    title_en = fields.String(load_default="", validate=validate.Length(max=200))
    steps_fa = fields.String(load_default="", validate=validate.Length(max=kb.MAX_STEPS),
                             metadata={"description": "one step per line; steps_fa or steps_en is required"})
    steps_en = fields.String(load_default="", validate=validate.Length(max=kb.MAX_STEPS))
    symptom_codes = fields.List(fields.String(validate=validate.OneOf(list(svc.SYMPTOMS))), load_default=list)
    terminal_models = fields.List(fields.String(validate=validate.Length(1, 64)), load_default=list)
    active = fields.Boolean(load_default=True)
    psp_id = DbInt(allow_none=True, load_default=None,
                   metadata={"description": "administrators: the PSP of the article (none: every PSP)"})
    source_call_id = DbInt(allow_none=True, load_default=None,
                           metadata={"description": "the resolved call the article is written from"})


class ArticleStatsSchema(Schema):
    offered = fields.Integer(metadata={"description": "calls it was offered on"})
    fixed = fields.Integer(metadata={"description": "calls it fixed"})
    not_fixed = fields.Integer()
    fix_rate_pct = fields.Float(allow_none=True)


class ArticleSchema(Schema):
    id = fields.Integer()
    url = fields.String()
    psp_id = fields.Integer(allow_none=True)
    title_fa = fields.String()
    title_en = fields.String()
    steps_fa = fields.String()
    steps_en = fields.String()
    symptom_codes = fields.List(fields.String())
    terminal_models = fields.List(fields.String())
    active = fields.Boolean()
    source_call_id = fields.Integer(allow_none=True)
    version = fields.Integer()
    updated_at = fields.AwareDateTime(**_aware)
    stats = fields.Nested(ArticleStatsSchema)
    score = fields.Float(allow_none=True, metadata={"description": "relevance of a search result"})


def article_dict(a: KbArticle, st: kb.ArticleStats, score: float | None = None) -> dict[str, Any]:
    return {"id": a.id, "url": url_for("kb.show", article_id=a.id), "psp_id": a.psp_id,
            "title_fa": a.title_fa, "title_en": a.title_en, "steps_fa": a.steps_fa, "steps_en": a.steps_en,
            "symptom_codes": a.symptom_codes or [], "terminal_models": a.terminal_models or [],
            "active": a.active, "source_call_id": a.source_call_id, "version": a.version,
            "updated_at": a.updated_at, "score": score,
            "stats": {"offered": st.offered, "fixed": st.fixed, "not_fixed": st.not_fixed,
                      "fix_rate_pct": st.fix_rate}}


@blp.route("/articles")
class Articles(MethodView):
    decorators = [login_required]

    @blp.arguments(ArticleQuerySchema, location="query")
    @blp.response(200, ArticleSchema(many=True))
    def get(self, args: dict):
        """Articles best first: text relevance (Persian spelling variants folded), then those written
        for the symptom and terminal model, then those that fixed the most calls."""
        hits = kb.search(current_user._get_current_object(), args["q"], model=args["model"],
                         symptom=args["symptom"], limit=args["limit"])
        return [article_dict(h.article, h.stats, h.score) for h in hits]

    @blp.arguments(ArticleInSchema)
    @blp.response(201, ArticleSchema)
    def post(self, body: dict):
        """Write an article (PSP staff for their PSP, administrators for any PSP or all)."""
        try:
            art = kb.save_article(current_user._get_current_object(), body)
        except CallError as e:
            raise ApiError(e.status, e.code, e.message, e.field) from None
        return article_dict(art, kb.ArticleStats())
