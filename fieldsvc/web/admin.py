"""Administration: the audit trail (`/admin/audit`), listed and filtered, and the login locks
(`/admin/locks`, lifted per user) — admins only.

Audit rows are append-only: the ORM refuses to update or delete them (listeners in
fieldsvc.visits.models), and this module offers no way to change them.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import Select, func, select

from fieldsvc.dates import parse_date_input
from fieldsvc.db import db, utcnow
from fieldsvc.text import normalize_code, normalize_digits
from fieldsvc.visits.master import accounts
from fieldsvc.visits.models import AuditEvent, Contractor, LoginLock, Psp, User
from fieldsvc.visits.scope import require_role
from fieldsvc.web.i18n import lang
from fieldsvc.web.nav import add_nav

bp = Blueprint("admin", __name__, url_prefix="/admin")

PAGE_SIZE = 50


def _tehran_day_start(day: dt.date, tz: str) -> dt.datetime:
    from zoneinfo import ZoneInfo
    return dt.datetime.combine(day, dt.time(0), tzinfo=ZoneInfo(tz)).astimezone(dt.timezone.utc)


def audit_query(args: dict[str, str], tz: str, page_lang: str) -> tuple[Select[Any], dict[str, str]]:
    """The filtered audit query from request arguments, and the errors per argument."""
    q = select(AuditEvent)
    errors: dict[str, str] = {}
    action = (args.get("action") or "").strip()
    if action:
        q = q.where(AuditEvent.action == action)
    actor = normalize_digits(args.get("actor") or "").strip().lower()
    if actor:
        q = q.where(func.lower(AuditEvent.actor).contains(actor, autoescape=True))
    object_type = (args.get("object_type") or "").strip()
    if object_type:
        q = q.where(AuditEvent.object_type == object_type)
    object_id = normalize_code(args.get("object_id") or "")
    if object_id:
        if object_id.isdigit() and len(object_id) < 12:
            q = q.where(AuditEvent.object_id == int(object_id))
        else:
            errors["object_id"] = _("Enter a whole number.")
    for key, column in (("psp", AuditEvent.psp_id), ("contractor", AuditEvent.contractor_id)):
        value = normalize_digits(args.get(key) or "")
        if value.isdigit() and len(value) < 12:
            q = q.where(column == int(value))
    for key in ("from", "to"):
        raw = (args.get(key) or "").strip()
        if not raw:
            continue
        try:
            day = parse_date_input(raw, page_lang)
        except ValueError:
            errors[key] = _("Enter a date like %(example)s.",
                            example="1405/09/01" if page_lang == "fa" else "2026-11-22")
            continue
        if key == "from":
            q = q.where(AuditEvent.at >= _tehran_day_start(day, tz))
        else:
            q = q.where(AuditEvent.at < _tehran_day_start(day + dt.timedelta(days=1), tz))
    return q, errors


@bp.get("/audit")
@login_required
def audit():
    """Audit events, newest first, filtered by action, actor, object, tenant and dates."""
    from flask import current_app

    require_role(current_user, "admin")
    q, errors = audit_query(request.args, current_app.config["TIMEZONE"], lang())
    page_raw = normalize_digits(request.args.get("page", "1"))
    page = max(1, int(page_raw)) if page_raw.isdigit() and len(page_raw) < 7 else 1
    total = db.session.scalar(select(func.count()).select_from(q.subquery())) or 0
    events = db.session.scalars(q.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                                .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    actions = db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).all()
    object_types = db.session.scalars(select(AuditEvent.object_type).distinct()
                                      .order_by(AuditEvent.object_type)).all()
    psps = db.session.scalars(select(Psp).order_by(Psp.code)).all()
    contractors = db.session.scalars(select(Contractor).order_by(Contractor.code)).all()
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("admin/audit.html", events=events, total=total, page=page, page_size=PAGE_SIZE,
                           pages=max(1, -(-total // PAGE_SIZE)), args=args, errors=errors, actions=actions,
                           object_types=object_types, psps=psps, contractors=contractors,
                           psp_names={p.id: p for p in psps},
                           contractor_names={c.id: c for c in contractors}, audit=_audit_words()), \
        (422 if errors else 200)


def _audit_words() -> dict:
    """The helpers that put an event in words (fieldsvc.web.audit_text) for the template."""
    from flask import current_app

    from fieldsvc.web import audit_text

    filters = current_app.jinja_env.filters
    return {"action": audit_text.action_text, "object": audit_text.object_text, "state": audit_text.state_text,
            "details": lambda data: audit_text.details(data, filters["date"], filters["datetime"])}


add_nav(lambda: _("Audit trail"), "admin.audit", {"admin"}, "/admin")


@bp.get("/locks")
@login_required
def locks():
    """Usernames locked out after failed logins, per client address, with a way to lift them."""
    require_role(current_user, "admin")
    rows = db.session.scalars(select(LoginLock).where(LoginLock.locked_until > utcnow())
                              .order_by(LoginLock.locked_until.desc())).all()
    users = {u.username.lower(): u for u in db.session.scalars(
        select(User).where(func.lower(User.username).in_([r.username for r in rows] or [""])))}
    return render_template("admin/locks.html", rows=rows, users=users)


@bp.post("/users/<int:user_id>/unlock")
@login_required
def unlock(user_id: int):
    """Lift every login lock of one user (from every address)."""
    require_role(current_user, "admin")
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    accounts.unlock(user, current_user._get_current_object())
    flash(_("%(username)s can log in again.", username=user.username), "success")
    return redirect(url_for("admin.locks"), 303)


add_nav(lambda: _("Login locks"), "admin.locks", {"admin"}, "/admin/locks")
