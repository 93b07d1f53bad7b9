"""Knowledge-base pages (`/kb`): search, an article, writing one (from scratch or from a resolved
call), suggestions at intake and on the call page, sending an article's steps to the merchant by
e-mail or SMS and recording whether they fixed the fault. Rules live in fieldsvc.visits.desk.kb."""
from __future__ import annotations

import smtplib
from typing import Any

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from fieldsvc.db import db
from fieldsvc.visits.desk import calls as svc
from fieldsvc.visits.desk import kb
from fieldsvc.visits.desk.errors import CallError
from fieldsvc.visits.desk.sms import SmsGateway, gateway_from
from fieldsvc.visits.desk_extra_models import KbArticle
from fieldsvc.visits.models import Role, ServiceCall, Terminal
from fieldsvc.visits.scope import NotFound, get_scoped, require_role, scoped
from fieldsvc.web.forms import text_filter
from fieldsvc.web.ids import request_int
from fieldsvc.web.nav import add_nav

bp = Blueprint("kb", __name__, url_prefix="/kb")
add_nav(lambda: _("Knowledge base"), "kb.index", {Role.PSP, Role.DISPATCHER, Role.ADMIN}, "/kb")

OUTCOME_LABELS = {"fixed": _l("Fixed the fault"), "not_fixed": _l("Did not fix it")}
CHANNEL_LABELS = {"email": _l("E-mail"), "sms": _l("SMS")}


def _user():
    return current_user._get_current_object()


# --------------------------------------------------------------------------- delivery


def sms_gateway() -> SmsGateway:
    """The configured SMS gateway (``SMS_GATEWAY``: the file outbox by default, see
    :func:`fieldsvc.visits.desk.sms.gateway_from`)."""
    return gateway_from(current_app.config)


class WebArticleSender:
    """Sends an article in the merchant's language: a rendered e-mail through fieldsvc.web.mail, a
    text through the SMS gateway."""

    def _language(self, call: ServiceCall) -> str:
        cfg = current_app.config
        lang = call.merchant.language or cfg["BABEL_DEFAULT_LOCALE"]
        return lang if lang in cfg["LANGUAGES"] else cfg["BABEL_DEFAULT_LOCALE"]

    def email(self, call: ServiceCall, article: KbArticle, to: str) -> None:
        from fieldsvc.web.mail import Mail, deliver

        lang, title, steps = kb.article_text(article, self._language(call))
        base = current_app.config["PUBLIC_BASE_URL"]
        with force_locale(lang):
            subject = _("[%(number)s] How to fix: %(title)s", number=call.tracking_number, title=title)
            values = dict(call=call, title=title, steps=steps.split("\n"), lang_code=lang,
                          direction="rtl" if lang == "fa" else "ltr", tracking_url=svc.tracking_url(call, base))
            text = render_template("email/kb_article.txt", **values)
            html = render_template("email/kb_article.html", **values)
        deliver([Mail(to, subject, text, html, f"{call.tracking_number}-kb{article.id}", lang)])

    def sms(self, call: ServiceCall, article: KbArticle, to: str) -> None:
        lang, title, steps = kb.article_text(article, self._language(call))
        with force_locale(lang):
            head = _("[%(number)s] How to fix: %(title)s", number=call.tracking_number, title=title)
        sms_gateway().send(to, f"{head}\n{steps}", f"{call.tracking_number}-kb{article.id}")


# --------------------------------------------------------------------------- forms


class ArticleForm(FlaskForm):
    title_fa = StringField(_l("Title (Persian)"), filters=[text_filter], validators=[Optional(), Length(max=200)])
    steps_fa = TextAreaField(_l("Steps (Persian), one per line"), validators=[Optional(), Length(max=kb.MAX_STEPS)])
    title_en = StringField(_l("Title (English)"), filters=[text_filter], validators=[Optional(), Length(max=200)])
    steps_en = TextAreaField(_l("Steps (English), one per line"), validators=[Optional(), Length(max=kb.MAX_STEPS)])
    symptom_codes = SelectMultipleField(_l("Symptoms it fixes (none: any)"), choices=[], validate_choice=True,
                                        option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False))
    terminal_models = StringField(_l("Terminal models, separated by commas (empty: any)"), filters=[text_filter],
                                  validators=[Optional(), Length(max=500)])
    psp_id = SelectField(_l("PSP"), choices=[], validate_choice=False)
    active = BooleanField(_l("Offered to the desk (active)"), default=True)
    source_call_id = HiddenField(validators=[Optional(), Regexp(r"^\d{1,12}$")])
    version = HiddenField(validators=[Optional(), Regexp(r"^\d{1,12}$")])

    def fill_choices(self, user) -> None:
        self.symptom_codes.choices = [(k, str(v)) for k, v in svc.SYMPTOMS.items()]
        self.psp_id.choices = [("", _("Every PSP"))] + [(str(i), n) for i, n in kb.psp_choices()[1:]]

    def data_for_service(self) -> dict[str, Any]:
        psp = (self.psp_id.data or "").strip()
        return {"title_fa": self.title_fa.data, "title_en": self.title_en.data, "steps_fa": self.steps_fa.data,
                "steps_en": self.steps_en.data, "symptom_codes": self.symptom_codes.data or [],
                "terminal_models": self.terminal_models.data or "", "active": bool(self.active.data),
                "psp_id": int(psp) if psp.isdigit() else None,
                "source_call_id": request_int(request.form, "source_call_id")}


# --------------------------------------------------------------------------- pages


@bp.get("/")
@login_required
def index():
    user = _user()
    require_role(user, Role.PSP, Role.DISPATCHER, Role.ADMIN)
    q = request.args.get("q", "")
    model = request.args.get("model", "")
    symptom = request.args.get("symptom", "")
    hits = kb.search(user, q, model=model, symptom=symptom if symptom in svc.SYMPTOMS else "", limit=50)
    models = sorted({m for (m,) in db.session.execute(scoped(Terminal, user).with_only_columns(
        Terminal.model).distinct().limit(200)) if m})
    return render_template("kb/list.html", hits=hits, q=q, model=model, symptom=symptom, models=models,
                           svc=svc, can_write=kb.can_write(user))


@bp.get("/<int:article_id>")
@login_required
def show(article_id: int):
    user = _user()
    require_role(user, *kb.READER_ROLES)
    article = kb.get_article(user, article_id)
    stats = kb.stats([article.id]).get(article.id, kb.ArticleStats())
    return render_template("kb/show.html", article=article, stats=stats, svc=svc,
                           can_write=kb.can_write(user, article))


def _edit(article: KbArticle | None):
    user = _user()
    require_role(user, *kb.WRITER_ROLES)
    form = ArticleForm()
    form.fill_choices(user)
    error = None
    if request.method == "GET":
        if article is not None:
            form.process(obj=article, terminal_models=", ".join(article.terminal_models or []),
                         psp_id=str(article.psp_id or ""), version=str(article.version))
        elif request.args.get("from_call"):
            try:
                draft = kb.draft_from_call(user, request_int(request.args, "from_call") or 0)
            except CallError as e:
                flash(e.message, "error")
                return redirect(url_for("kb.index"))
            form.process(data={k: v for k, v in draft.items() if k in form._fields},
                         terminal_models=", ".join(draft["terminal_models"]),
                         source_call_id=str(draft["source_call_id"]), psp_id="", active=True)
    elif form.validate_on_submit():
        try:
            saved = kb.save_article(user, form.data_for_service(), article,
                                    expected_version=request_int(request.form, "version"))
        except CallError as e:
            error = e
            if e.field in form._fields:
                form[e.field].errors = list(form[e.field].errors) + [e.message]
        else:
            flash(_("Article saved."), "success")
            return redirect(url_for("kb.show", article_id=saved.id), 303)
    status = 422 if (error is not None or form.errors) else 200
    return render_template("kb/form.html", form=form, article=article, error=error,
                           is_admin=user.role == Role.ADMIN), status


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    return _edit(None)


@bp.route("/from-call/<int:call_id>", methods=["POST"])
@login_required
def from_call(call_id: int):
    """One click on a resolved call: the article is written from it and opened for a last look; a
    call without a resolution note (no steps to copy) opens the prefilled form instead."""
    user = _user()
    try:
        draft = kb.draft_from_call(user, call_id)
        saved = kb.save_article(user, {**draft, "active": True})
    except CallError as e:
        if e.status == 404:
            abort(404)
        if e.field not in ("steps_fa", "steps_en", "steps"):
            flash(e.message, "error")
            return redirect(url_for("psp_calls.show", call_id=call_id), 303)
        return redirect(url_for("kb.new", from_call=call_id), 303)
    flash(_("Article written from the call: check its steps."), "success")
    return redirect(url_for("kb.edit", article_id=saved.id), 303)


@bp.route("/<int:article_id>/edit", methods=["GET", "POST"])
@login_required
def edit(article_id: int):
    user = _user()
    require_role(user, *kb.WRITER_ROLES)
    article = kb.get_article(user, article_id)
    if not kb.can_write(user, article):
        raise NotFound("KbArticle", article_id)
    return _edit(article)


@bp.get("/suggest")
@login_required
def suggest():
    """Intake's suggestions: articles for the terminal (id or serial) and symptom, as JSON."""
    user = _user()
    require_role(user, Role.PSP, Role.DISPATCHER, Role.ADMIN)
    model = ""
    terminal_id = request_int(request.args, "terminal_id")
    serial = (request.args.get("serial") or "").strip()
    terminal = None
    if terminal_id is not None:
        terminal = db.session.scalars(scoped(Terminal, user).where(Terminal.id == terminal_id)).first()
    elif serial:
        from fieldsvc.text import normalize_digits
        terminal = db.session.scalars(scoped(Terminal, user).where(
            Terminal.serial == normalize_digits(serial).strip().upper())).first()
    if terminal is not None:
        model = terminal.model or ""
    symptom = request.args.get("symptom", "")
    hits = kb.search(user, request.args.get("q", ""), model=model,
                     symptom=symptom if symptom in svc.SYMPTOMS else "", limit=5)
    lang = "en" if str(request.args.get("lang") or "").startswith("en") else "fa"
    return jsonify([{"id": h.article.id, "title": kb.article_text(h.article, lang)[1],
                     "url": url_for("kb.show", article_id=h.article.id), "fixed": h.stats.fixed,
                     "offered": h.stats.offered} for h in hits])


# --------------------------------------------------------------------------- on a call


def _call_and_article(call_id: int) -> tuple[ServiceCall, KbArticle]:
    user = _user()
    require_role(user, Role.PSP, Role.DISPATCHER, Role.ADMIN)
    call = get_scoped(ServiceCall, call_id, user)
    article_id = request_int(request.form, "article_id")
    if article_id is None:
        raise NotFound("KbArticle", None)
    return call, kb.get_article(user, article_id)


@bp.post("/calls/<int:call_id>/send")
@login_required
def send(call_id: int):
    call, article = _call_and_article(call_id)
    try:
        kb.send_article(_user(), call, article, request.form.get("channel", ""), WebArticleSender())
    except CallError as e:
        flash(e.message, "error")
    except (OSError, smtplib.SMTPException):  # nothing was recorded: the desk may simply try again
        current_app.logger.exception("could not send article %s for call %s", article.id, call.id)
        flash(_("The message could not be sent; nothing was recorded. Try again in a moment."), "error")
    else:
        flash(_("The steps were sent to the merchant."), "success")
    return redirect(url_for("psp_calls.show", call_id=call.id, _anchor="kb"), 303)


@bp.post("/calls/<int:call_id>/outcome")
@login_required
def outcome(call_id: int):
    call, article = _call_and_article(call_id)
    try:
        kb.record_outcome(_user(), call, article, request.form.get("outcome", ""))
    except CallError as e:
        flash(e.message, "error")
    else:
        flash(_("Saved."), "success")
    return redirect(url_for("psp_calls.show", call_id=call.id, _anchor="kb"), 303)


@bp.app_template_global()
def kb_for_call(call: ServiceCall) -> dict[str, Any]:
    """The call page's knowledge-base panel: suggestions, articles already offered, and whether the
    user may send (desk roles, unfinished call) or write an article from the call (resolved)."""
    user = _user()
    if user.role not in (Role.PSP, Role.DISPATCHER, Role.ADMIN):
        return {}
    uses = kb.uses_of_call(call)
    offered = {u.article_id: u for u in uses}
    hits = kb.suggest_for_call(user, call)
    extra = [u.article for u in uses if u.article_id not in {h.article.id for h in hits}]
    from fieldsvc.visits.desk_extra_models import KbArticle as _Article
    written = db.session.scalar(select(_Article.id).where(_Article.source_call_id == call.id))
    return {"hits": hits, "extra": extra, "offered": offered, "outcomes": OUTCOME_LABELS,
            "channels": CHANNEL_LABELS, "can_send": call.status not in ("closed", "cancelled"),
            "from_call": kb.can_write(user) and call.status in ("resolved", "closed") and written is None,
            "written": written}
