"""Support desk pages (issue 21): tier queues with counts and SLA flags, the desk actions
(resolve remotely, transfer, dispatch), staff notes on a call, the notifications bell and page,
and the desk team (who works tier 1 and tier 2, who supervises). Rules live in
``fieldsvc.visits.desk.tiers``, ``notes``, ``inbox``."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from fieldsvc.db import db
from fieldsvc.visits.desk import calls as svc
from fieldsvc.visits.desk import first_response, inbox, notes, tiers
from fieldsvc.visits.desk.errors import CallError
from fieldsvc.visits.desk_models import DeskMember, NoteKind
from fieldsvc.visits.models import Role, ServiceCall, User
from fieldsvc.visits.scope import Forbidden, get_scoped, require_role
from fieldsvc.visits.states import IllegalTransition
from fieldsvc.web.desk_text import notification_text
from fieldsvc.web.ids import request_int
from fieldsvc.web.nav import add_nav
from fieldsvc.web.psp_calls import changed_meanwhile
from fieldsvc.web.redirects import safe_redirect_target

bp = Blueprint("desk", __name__)

STAFF = (Role.PSP, Role.DISPATCHER, Role.ADMIN)
add_nav(lambda: _("Desk queues"), "desk.queue", set(STAFF), "/desk")


def _user() -> User:
    return current_user._get_current_object()


def note_kind_label(kind: str) -> str:
    return {NoteKind.INTERNAL.value: _("Internal note"), NoteKind.REMOTE_STEP.value: _("Remote step"),
            NoteKind.MERCHANT.value: _("To the merchant (e-mail)")}.get(kind, kind)


@bp.app_template_global()
def tier_label(tier: str | None) -> str:
    return str(tiers.TIER_LABELS.get(tier or "tier1", tier))


@bp.app_template_global()
def unread_notifications() -> int:
    """The bell's number (0 for visitors)."""
    if not getattr(current_user, "is_authenticated", False):
        return 0
    return inbox.unread_count(_user())


@bp.app_template_global()
def desk_panel(call: ServiceCall) -> dict[str, Any]:
    """What the call page's desk card needs."""
    user = _user()
    staff = tiers.is_desk_staff(user, call)
    return {"tier": call.tier or "tier1", "notes": notes.notes_of(call), "staff": staff,
            "first_response": first_response.state(call),
            "colleagues": tiers.desk_colleagues(call) if staff else [],
            "codes": tiers.RESOLUTION_CODES, "kinds": [(k.value, note_kind_label(k.value)) for k in NoteKind],
            "kind_label": note_kind_label, "can_note": user.role in STAFF}


# --------------------------------------------------------------------------- queues


@bp.get("/desk/")
@login_required
def home():
    return redirect(url_for("desk.queue"))


@bp.get("/desk/queue", endpoint="queue")
@bp.get("/desk/queue/<tier>")
@login_required
def queue(tier: str = "tier1"):
    user = _user()
    require_role(user, *STAFF)
    if tier not in tiers.TIER_LABELS:
        abort(404)
    mine = request.args.get("mine") == "1"
    rows = tiers.queue(user, tier, mine=mine)
    colleagues_by_call, by_desk = {}, {}
    for r in rows:
        if tiers.is_desk_staff(user, r.call):
            desk_key = (r.call.contract.help_desk, r.call.psp_id, r.call.contractor_id)
            if desk_key not in by_desk:
                by_desk[desk_key] = tiers.desk_colleagues(r.call)
            colleagues_by_call[r.call.id] = by_desk[desk_key]
    return render_template("desk/queue.html", tier=tier, rows=rows, mine=mine, counts=tiers.queue_counts(user),
                           labels=tiers.TIER_LABELS, codes=tiers.RESOLUTION_CODES, svc=svc,
                           colleagues_by_call=colleagues_by_call)


def _back(call_id: int):
    return redirect(safe_redirect_target(request.form.get("next")) or url_for("psp_calls.show", call_id=call_id),
                    303)


@bp.post("/desk/calls/<int:call_id>/act")
@login_required
def act(call_id: int):
    """One desk action from the queue or the call page."""
    user = _user()
    require_role(user, *STAFF)
    call = get_scoped(ServiceCall, call_id, user)
    if changed_meanwhile(call):
        return _back(call.id)
    action = request.form.get("action", "")
    try:
        tiers.apply_desk_action(call, user, action, reason=request.form.get("reason", ""),
                                resolution_code=request.form.get("resolution_code") or None,
                                to_tier=request.form.get("to_tier") or None,
                                to_user_id=request_int(request.form, "to_user_id"))
    except CallError as e:
        flash(e.message, "error")
    except IllegalTransition as e:
        flash(_("Not possible now: %(why)s", why=str(e)), "error")
    except Forbidden:
        flash(_("Only the help desk of this call's contract works its tiers."), "error")
    else:
        flash({"resolve_remotely": _("Resolved remotely: %(number)s now waits for the QC close.",
                                     number=call.tracking_number),
               "transfer": _("Transferred: %(number)s.", number=call.tracking_number),
               "dispatch": _("Sent to the field: the dispatcher assigns a technician to %(number)s.",
                             number=call.tracking_number)}.get(action, _("Saved.")), "success")
    return _back(call.id)


@bp.post("/desk/calls/<int:call_id>/notes")
@login_required
def add_note(call_id: int):
    user = _user()
    require_role(user, *STAFF)
    call = get_scoped(ServiceCall, call_id, user)
    try:
        notes.add_note(call, user, request.form.get("body", ""), request.form.get("kind", NoteKind.INTERNAL))
    except CallError as e:
        flash(e.message, "error")
    else:
        flash(_("Note added."), "success")
    return redirect(url_for("psp_calls.show", call_id=call.id, _anchor="notes"), 303)


# --------------------------------------------------------------------------- notifications


@bp.get("/notifications")
@login_required
def notifications():
    user = _user()
    items = [(n, notification_text(n.kind, n.data or {})) for n in inbox.latest(user)]
    return render_template("desk/notifications.html", items=items)


@bp.post("/notifications/read")
@login_required
def mark_read():
    user = _user()
    one = request_int(request.form, "id")
    inbox.mark_read(user, None if one is None else [one])
    return redirect(safe_redirect_target(request.form.get("next")) or url_for("desk.notifications"), 303)


# --------------------------------------------------------------------------- team


def _team_scope(user: User) -> Any:
    """The users whose desk membership ``user`` manages: admins all staff; a desk supervisor the
    users of their own organisation."""
    if user.role == Role.ADMIN:
        return User.role.in_([Role.PSP, Role.DISPATCHER])
    supervises = db.session.scalar(select(DeskMember.id).where(DeskMember.user_id == user.id,
                                                               DeskMember.supervisor.is_(True)))
    if supervises is None:
        abort(403)
    if user.role == Role.PSP:
        return (User.role == Role.PSP) & (User.psp_id == user.psp_id)
    if user.role == Role.DISPATCHER:
        return (User.role == Role.DISPATCHER) & (User.contractor_id == user.contractor_id)
    abort(403)


@bp.route("/desk/team", methods=["GET", "POST"])
@login_required
def team():
    user = _user()
    require_role(user, *STAFF)
    clause = _team_scope(user)
    if request.method == "POST":
        target = db.session.scalars(select(User).where(User.id == request_int(request.form, "user_id"), clause)).first()
        tier = request.form.get("tier", "")
        if target is None:
            flash(_("Choose a colleague."), "error")
        elif tier not in tiers.DESK_TIERS:
            flash(_("Choose tier 1 or tier 2."), "error")
        else:
            row = db.session.scalars(select(DeskMember).where(DeskMember.user_id == target.id,
                                                              DeskMember.tier == tier)).first()
            if request.form.get("remove") == "1":
                if row is not None:
                    db.session.delete(row)
            else:
                row = row or DeskMember(user_id=target.id, tier=tier)
                row.supervisor = request.form.get("supervisor") == "1"
                db.session.add(row)
            from fieldsvc.visits.audit import record
            record("desk_member", target, actor=user, tier=tier, removed=request.form.get("remove") == "1",
                   supervisor=request.form.get("supervisor") == "1")
            db.session.commit()
            flash(_("Saved."), "success")
        return redirect(url_for("desk.team"), 303)
    people = list(db.session.scalars(select(User).where(clause, User.is_active_user.is_(True))
                                     .order_by(User.name, User.username)))
    members = {}
    for row in db.session.scalars(select(DeskMember).where(DeskMember.user_id.in_([u.id for u in people]))):
        members.setdefault(row.user_id, []).append(row)
    return render_template("desk/team.html", people=people, members=members)
