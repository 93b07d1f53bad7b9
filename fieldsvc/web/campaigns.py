"""Campaign pages (issue 23.6): the PSP starts a campaign (selection by model, version, region or
an uploaded list of serials) and follows its progress by contractor against its deadline;
dispatchers see their own part. Rules: :mod:`fieldsvc.visits.orders.campaigns`."""
from __future__ import annotations

import csv
import io
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from fieldsvc.dates import parse_date_input
from fieldsvc.visits import models as m
from fieldsvc.visits.orders import campaigns as svc
from fieldsvc.visits.scope import require_role
from fieldsvc.web.i18n import lang
from fieldsvc.web.nav import add_nav

bp = Blueprint("campaigns", __name__)
R = m.Role
MAX_FILE_BYTES = 2 * 1024 * 1024

add_nav(lambda: _("Campaigns"), "campaigns.list_page", {R.PSP, R.DISPATCHER}, "/campaigns")


def _user() -> m.User:
    return current_user._get_current_object()


def _words(raw: str) -> list[str]:
    return [w.strip() for w in (raw or "").replace("،", ",").replace("\n", ",").split(",") if w.strip()]


def serials_from_upload(field: str = "serials_file") -> list[str]:
    """Serials of an uploaded .csv / .txt (first column of each row; a 'serial' header is skipped)."""
    f = request.files.get(field)
    if f is None or not f.filename:
        return []
    data = f.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise svc.CampaignError(_("serials_file: at most 2 MB"), "serials_file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise svc.CampaignError(_("serials_file: save the list as UTF-8 text or CSV"), "serials_file") from None
    out = []
    for row in csv.reader(io.StringIO(text)):
        if row and row[0].strip() and row[0].strip().lower() not in ("serial", "سریال"):
            out.append(row[0].strip())
    return out


def _form_input() -> svc.CampaignInput:
    f = request.form
    raw_deadline = (f.get("deadline") or "").strip()
    try:
        deadline = parse_date_input(raw_deadline, lang()) if raw_deadline else None
    except ValueError as e:
        raise svc.CampaignError(f"deadline: {e}", "deadline") from None
    return svc.CampaignInput(code=f.get("code", ""), name=f.get("name", ""), kind=f.get("kind", ""), deadline=deadline,
                             target_version=f.get("target_version", ""), target_model=f.get("target_model", ""),
                             models=_words(f.get("models", "")), versions=_words(f.get("versions", "")),
                             regions=_words(f.get("regions", "")),
                             serials=_words(f.get("serials", "")) + serials_from_upload(), psp=f.get("psp") or None)


@bp.route("/campaigns", methods=["GET", "POST"])
@login_required
def list_page():
    user = _user()
    require_role(user, *svc.VIEW_ROLES)
    error, form = None, {}
    if request.method == "POST":
        require_role(user, *svc.MANAGE_ROLES)
        form = request.form.to_dict()
        try:
            res = svc.start_campaign(user, _form_input())
            flash(_("Campaign %(code)s started: %(n)s terminals.", code=res.campaign.code, n=res.added)
                  if res.created else _("Campaign %(code)s already existed; %(n)s terminals added.",
                                        code=res.campaign.code, n=res.added), "success")
            return redirect(url_for("campaigns.detail_page", campaign_id=res.campaign.id))
        except svc.CampaignError as e:
            error = e
    rows = [(c, svc.progress(user, c)[-1]) for c in svc.visible_campaigns(user)]
    return render_template("campaigns/list.html", rows=rows, error=error, form=form, kinds=svc.KIND_LABELS,
                           can_manage=user.role in svc.MANAGE_ROLES, ask_psp=user.role == R.ADMIN), \
        (error.status if error else 200)


def _results_from_form() -> list[svc.ResultInput]:
    out = []
    for i, row in enumerate(csv.reader(io.StringIO(request.form.get("results", ""))), start=1):
        cells = [c.strip() for c in row]
        if not cells or not cells[0] or cells[0].lower() == "serial":
            continue
        if len(cells) < 2:
            raise svc.CampaignError(_("results: row %(row)s: write serial, done or failed, reason", row=i), "results")
        out.append(svc.ResultInput(serial=cells[0], status=cells[1].lower(), reason=cells[2] if len(cells) > 2 else ""))
    return out


@bp.route("/campaigns/<int:campaign_id>", methods=["GET", "POST"])
@login_required
def detail_page(campaign_id: int):
    user = _user()
    c = svc.get_campaign(user, campaign_id)
    error: Any = None
    if request.method == "POST":
        require_role(user, *svc.MANAGE_ROLES)
        try:
            if request.form.get("action") == "results":
                res = svc.record_results(user, c, _results_from_form())
                flash(_("%(n)s results recorded; %(u)s unchanged.", n=res["changed"], u=res["unchanged"]), "success")
            else:
                added = svc.run_campaign(user, c)
                flash(_("Selection run again: %(n)s terminals added.", n=added), "success")
            return redirect(url_for("campaigns.detail_page", campaign_id=c.id))
        except svc.CampaignError as e:
            error = e
    rows = svc.progress(user, c)
    return render_template("campaigns/detail.html", c=c, rows=rows[:-1], total=rows[-1], error=error,
                           tasks=svc.task_rows(user, c), kinds=svc.KIND_LABELS, statuses=svc.STATUS_LABELS,
                           can_manage=user.role in svc.MANAGE_ROLES, overdue=svc.deadline_end(c.deadline) <= svc.utcnow()), \
        (error.status if error else 200)
