"""Pages of the terminal lifecycle: work orders (one by one and bulk with a preview), stock per
place with transfers and receiving, the technician's van, one terminal's and one merchant's
timeline, and search. Rules live in fieldsvc.visits.orders, .stock and .history."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from fieldsvc.db import db
from fieldsvc.text import parse_int
from fieldsvc.visits import models as m
from fieldsvc.visits.desk.parts_wait import held_for_parts
from fieldsvc.visits.history import timeline
from fieldsvc.visits.history.config import current_config
from fieldsvc.visits.lifecycle_models import OrderKind
from fieldsvc.visits.orders import bulk
from fieldsvc.visits.orders import service as orders
from fieldsvc.visits.plans.order_risks import orders_at_risk
from fieldsvc.visits.scope import get_scoped, require_role
from fieldsvc.visits.states import IllegalTransition, OrderStatus
from fieldsvc.visits.stock import service as stock
from fieldsvc.visits.stock.moves import CONSUMABLES, StockError, levels, terminals_at
from fieldsvc.visits.stock.places import place_label
from fieldsvc.web.errors import transition_message
from fieldsvc.web.nav import add_nav

bp = Blueprint("lifecycle", __name__)
R = m.Role
STAFF = {R.PSP, R.ADMIN, R.DISPATCHER}

add_nav(lambda: _("Work orders"), "lifecycle.orders_page", STAFF, "/orders")
add_nav(lambda: _("Stock"), "lifecycle.stock_page", STAFF, "/stock")
add_nav(lambda: _("Terminals"), "lifecycle.search_page", STAFF, "/terminals")
add_nav(lambda: _("My van"), "lifecycle.van_page", {R.TECHNICIAN}, "/tech/van")


def _user() -> m.User:
    return current_user._get_current_object()


@bp.route("/orders", methods=["GET", "POST"])
@login_required
def orders_page():
    user = _user()
    require_role(user, *STAFF)
    error, form = None, {}
    if request.method == "POST":
        form = {k: request.form.get(k, "") for k in ("kind", "merchant", "terminal_serial", "model", "family",
                                                      "target_merchant", "notes")}
        try:
            o = orders.create_order(orders.OrderInput(**form), user)
            flash(_("Order %(number)s created; deadline %(deadline)s.", number=o.number,
                    deadline=o.deadline.date().isoformat()), "success")
            return redirect(url_for("lifecycle.orders_page"))
        except orders.OrderError as e:
            error = e
    status, kind = request.args.get("status") or None, request.args.get("kind") or None
    try:
        rows = orders.list_orders(user, status, kind)
    except orders.OrderError as e:
        rows, error = [], e
    return render_template("lifecycle/orders.html", rows=rows, risks=orders_at_risk(user), error=error,
                           form=form, kinds=[k.value for k in OrderKind], statuses=[s.value for s in OrderStatus],
                           status=status, kind=kind, can_create=user.role in (R.PSP, R.ADMIN)), \
        422 if error else 200


@bp.post("/orders/<int:order_id>/cancel")
@login_required
def cancel_order(order_id: int):
    user = _user()
    order = orders.get_order(user, order_id)
    try:
        orders.cancel_order(order, user, request.form.get("reason", ""))
    except orders.OrderError as e:
        flash(e.message, "error")
    except IllegalTransition as e:
        db.session.rollback()
        flash(transition_message(e), "error")
    return redirect(url_for("lifecycle.orders_page"))


@bp.route("/orders/import", methods=["GET", "POST"])
@login_required
def orders_import():
    """Upload → preview every row (nothing written) → confirm: all rows created, or none."""
    user = _user()
    require_role(user, R.PSP, R.ADMIN)
    preview = None
    if request.method == "POST":
        if request.form.get("rows"):
            preview = bulk.commit_rows(request.form["rows"], user)
            if preview.ok:
                flash(_("%(n)s orders created.", n=preview.created), "success")
                return redirect(url_for("lifecycle.orders_page"))
        else:
            f = request.files.get("file")
            if f is None or not f.filename:
                flash(_("Choose a .xlsx or .csv file."), "error")
            else:
                preview = bulk.preview_file(f.stream, f.filename, user)
    return render_template("lifecycle/import.html", preview=preview, columns=bulk.COLUMNS)


@bp.get("/stock")
@login_required
def stock_page():
    user = _user()
    require_role(user, *STAFF)
    rows = [(p, place_label(p), len(terminals_at(p)), [lv for lv in levels(p) if lv.low])
            for p in stock.visible_places(user)]
    return render_template("lifecycle/stock.html", rows=rows, held=held_for_parts(user))


def _int(name: str) -> int | None:
    try:
        return parse_int(request.form.get(name, "")) if request.form.get(name) else None
    except ValueError:
        return None


@bp.route("/stock/<int:place_id>", methods=["GET", "POST"])
@login_required
def place_page(place_id: int):
    user = _user()
    place = stock.get_place(user, place_id)
    error = None
    if request.method == "POST":
        serials = request.form.get("serials", "").split()
        action = request.form.get("action")
        try:
            if action == "receive":
                stock.receive_terminals(user, place.id, serials, request.form.get("model", ""),
                                        request.form.get("family", ""), _int("psp_id"))
            elif action == "transfer":
                stock.transfer_terminals(user, place.id, _int("to_place_id"), serials,
                                         request.form.get("reason", "") or "transfer")
            elif action == "parts":
                qty = _int("quantity")
                stock.move_parts(user, request.form.get("item", ""), qty if qty is not None else 0,
                                 None if request.form.get("direction") == "in" else place.id,
                                 place.id if request.form.get("direction") == "in" else _int("to_place_id"))
            flash(_("Saved."), "success")
            return redirect(url_for("lifecycle.place_page", place_id=place.id))
        except StockError as e:
            error = e
    others = [p for p in stock.visible_places(user) if p.id != place.id]
    return render_template("lifecycle/place.html", place=place, label=place_label(place),
                           terminals=terminals_at(place), levels=levels(place), others=others,
                           place_label=place_label, consumables=CONSUMABLES, error=error), 422 if error else 200


@bp.get("/tech/van")
@login_required
def van_page():
    user = _user()
    try:
        place = stock.technician_van(user)
    except StockError:
        require_role(user, R.TECHNICIAN)
        raise
    return render_template("lifecycle/van.html", place=place, terminals=terminals_at(place), levels=levels(place))


@bp.post("/tech/van/spare")
@login_required
def van_spare():
    require_role(_user(), R.TECHNICIAN)
    try:
        t = stock.take_spare(_user(), request.form.get("family", ""))
        flash(_("%(serial)s is in your van.", serial=t.serial), "success")
    except StockError as e:
        flash(e.message, "error")
    return redirect(url_for("lifecycle.van_page"))


@bp.get("/terminals")
@login_required
def search_page():
    user = _user()
    require_role(user, *STAFF)
    q = request.args.get("q", "")
    return render_template("lifecycle/search.html", q=q, found=timeline.search(user, q))


@bp.get("/terminals/<serial>")
@login_required
def terminal_page(serial: str):
    user = _user()
    require_role(user, *STAFF)
    t = timeline.find_terminal(user, serial)
    return render_template("lifecycle/timeline.html", title=t.serial, terminal=t, merchant=t.merchant,
                           entries=timeline.terminal_history(t), config=current_config(t))


@bp.get("/merchants/<int:merchant_id>/history")
@login_required
def merchant_page(merchant_id: int):
    user = _user()
    require_role(user, *STAFF)
    mer = get_scoped(m.Merchant, merchant_id, user)
    return render_template("lifecycle/timeline.html", title=mer.name, terminal=None, merchant=mer,
                           entries=timeline.merchant_history(mer))
