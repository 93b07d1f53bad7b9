"""Pages of the PM inspection checklists (issue 23.5): the PSP's administrator (or an admin)
creates a checklist per terminal family or model and adds or retires items; dispatchers read them.
Rules: :mod:`fieldsvc.visits.field.checklists`."""
from __future__ import annotations

from typing import Any, Optional

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from fieldsvc.visits import models as m
from fieldsvc.visits.field import checklists as svc
from fieldsvc.visits.scope import require_role
from fieldsvc.visits.service_seed_models import ItemKind, OnFail
from fieldsvc.web.ids import request_int
from fieldsvc.web.nav import add_nav

bp = Blueprint("checklists", __name__)
R = m.Role
VIEW = {R.PSP, R.ADMIN, R.DISPATCHER}

add_nav(lambda: _("Checklists"), "checklists.list_page", {R.PSP, R.DISPATCHER}, "/checklists")


def _user() -> m.User:
    return current_user._get_current_object()


def _float(raw: str, field: str) -> Optional[float]:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return svc._number(raw, field)
    except svc.ChecklistError:
        raise svc.ChecklistError(_("%(field)s: give a number", field=field), field) from None


def item_from_form(form: Any) -> svc.ItemInput:
    """The item typed in a form (numbers checked, the field named when wrong)."""
    return svc.ItemInput(label=form.get("label", ""), label_fa=form.get("label_fa", ""),
                         kind=form.get("kind", ItemKind.PASS_FAIL), unit=form.get("unit", ""),
                         min_value=_float(form.get("min_value", ""), "min_value"),
                         max_value=_float(form.get("max_value", ""), "max_value"),
                         required=form.get("required") in ("1", "yes", "on"), on_fail=form.get("on_fail", OnFail.NOTHING))


def _ctx(**kw: Any) -> dict[str, Any]:
    return {"item_kinds": svc.ITEM_KIND_LABELS, "on_fail_labels": svc.ON_FAIL_LABELS, **kw}


@bp.route("/checklists", methods=["GET", "POST"])
@login_required
def list_page():
    user = _user()
    require_role(user, *VIEW)
    error, form = None, {}
    if request.method == "POST":
        require_role(user, *svc.MANAGE_ROLES)
        form = {k: request.form.get(k, "") for k in ("psp", "family", "model", "name")}
        try:
            cl = svc.create_checklist(user, family=form["family"], model=form["model"], name=form["name"],
                                      psp_code=form["psp"] or None)
            flash(_("Checklist %(name)s created; now add its items.", name=cl.name), "success")
            return redirect(url_for("checklists.detail_page", checklist_id=cl.id))
        except svc.ChecklistError as e:
            error = e
    return render_template("checklists/list.html", **_ctx(rows=svc.visible_checklists(user), error=error, form=form,
                           can_manage=user.role in svc.MANAGE_ROLES, ask_psp=user.role == R.ADMIN)), \
        (error.status if error else 200)


@bp.route("/checklists/<int:checklist_id>", methods=["GET", "POST"])
@login_required
def detail_page(checklist_id: int):
    user = _user()
    require_role(user, *VIEW)
    cl = svc.get_checklist(user, checklist_id)
    error, form = None, {}
    if request.method == "POST":
        form = request.form.to_dict()
        action = form.get("action", "add")
        try:
            if action == "retire":
                item_id = request_int(request.form, "item_id", minimum=1)
                svc.retire_item(user, cl.id, item_id or 0)
                flash(_("Item retired."), "success")
            elif action in ("activate", "deactivate"):
                svc.set_active(user, cl.id, action == "activate")
            else:
                svc.add_item(user, cl.id, item_from_form(request.form))
                flash(_("Item added."), "success")
            return redirect(url_for("checklists.detail_page", checklist_id=cl.id))
        except svc.ChecklistError as e:
            error = e
    return render_template("checklists/detail.html", **_ctx(cl=cl, error=error, form=form,
                           can_manage=user.role in svc.MANAGE_ROLES)), (error.status if error else 200)
