"""Master data pages under /setup: a list (search, sort, paging) and create / edit / deactivate forms
for PSPs, contractors, regions, merchants, terminals and technicians. One set of endpoints per kind
(`setup.merchants_list`, `setup.merchants_new`, …), so each has its own access rule."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from fieldsvc.db import db
from fieldsvc.text import normalize_digits
from fieldsvc.visits.master import records as rec
from fieldsvc.visits.scope import require_role
from fieldsvc.web.setup import bp
from fieldsvc.web.setup.specs import COLUMNS, TITLES, FormValueError, build_form, values

PER_PAGE = 50


def _int_arg(name: str, default: int) -> int:
    raw = normalize_digits(request.args.get(name, "") or "")
    return int(raw) if raw.isdigit() and len(raw) < 7 else default


def _list(kind: str):
    require_role(current_user, "admin", "psp", "dispatcher")
    spec = rec.KINDS[kind]
    q = normalize_digits(request.args.get("q", "") or "").strip()[:100]
    sort = request.args.get("sort", spec.sort[0])
    if sort.lstrip("-") not in spec.sort:
        sort = spec.sort[0]
    active_arg = request.args.get("active", "1")
    active = {"1": True, "0": False}.get(active_arg)
    page = max(1, _int_arg("page", 1))
    items, total = rec.list_records(spec, current_user, q=q, sort=sort, page=page, per_page=PER_PAGE, active=active)
    return render_template("setup/list.html", kind=kind, title=TITLES[kind], columns=COLUMNS[kind], items=items,
                           total=total, page=page, pages=max(1, -(-total // PER_PAGE)), q=q, sort=sort,
                           active=active_arg, may_write=current_user.role in spec.writers,
                           is_active=lambda obj: _is_active(kind, obj))


def _is_active(kind: str, obj: Any) -> bool:
    return obj.status != "removed" if kind == "terminals" else bool(obj.active)


def _save(kind: str, obj: Any = None):
    spec = rec.KINDS[kind]
    require_role(current_user, *spec.writers)
    form = build_form(kind, current_user, obj)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                data = values(kind, form, current_user)
                if obj is None:
                    obj = rec.create_record(spec, current_user, data)
                    flash(_("Saved: %(what)s.", what=_label(obj)), "success")
                else:
                    rec.update_record(spec, obj, current_user, data)
                    flash(_("Changes saved."), "success")
                return redirect(url_for(f"setup.{kind}_list"))
            except (rec.RecordError, FormValueError) as e:
                db.session.rollback()
                target = form._fields.get(e.field or "") or form._fields.get("geometry")
                if target is not None:
                    target.errors = list(target.errors) + [e.message]
                else:
                    flash(e.message, "danger")
        status = 422
    return render_template("setup/form.html", kind=kind, title=TITLES[kind], form=form, obj=obj), status


def _label(obj: Any) -> str:
    return str(getattr(obj, "code", None) or getattr(obj, "serial", "") or obj.id)


def _deactivate(kind: str, record_id: int):
    spec = rec.KINDS[kind]
    require_role(current_user, *spec.writers)
    obj = rec.get_record(spec, record_id, current_user)
    rec.deactivate_record(spec, obj, current_user)
    flash(_("%(what)s is no longer in use; its history is kept.", what=_label(obj)), "success")
    return redirect(url_for(f"setup.{kind}_list"))


def _register(kind: str) -> None:
    def list_view():
        return _list(kind)

    def new_view():
        return _save(kind)

    def edit_view(record_id: int):
        require_role(current_user, *rec.KINDS[kind].writers)
        return _save(kind, rec.get_record(rec.KINDS[kind], record_id, current_user))

    def deactivate_view(record_id: int):
        return _deactivate(kind, record_id)

    bp.add_url_rule(f"/{kind}", f"{kind}_list", login_required(list_view))
    bp.add_url_rule(f"/{kind}/new", f"{kind}_new", login_required(new_view), methods=["GET", "POST"])
    bp.add_url_rule(f"/{kind}/<int:record_id>", f"{kind}_edit", login_required(edit_view), methods=["GET", "POST"])
    bp.add_url_rule(f"/{kind}/<int:record_id>/deactivate", f"{kind}_deactivate", login_required(deactivate_view),
                    methods=["POST"])


for _kind in rec.KINDS:
    _register(_kind)
