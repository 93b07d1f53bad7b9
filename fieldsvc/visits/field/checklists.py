"""PM inspection checklists: their management, the answers sent at check-out, and what a failed
answer starts (issue 23, point 5).

* **Which checklist.** A terminal gets the active checklist of its PSP for its model, else the one
  for its family (model empty). A PM visit shows one checklist per terminal that has one.
* **Answers** travel inside the check-out (``checklist``: ``[{terminal, item_id, passed, value,
  photo, note}]``) so that they share its ``client_event_id``: a check-out sent twice, late or out
  of order is applied once and its answers with it. Each answer is validated when the check-out
  arrives (unknown item, a reading that is not a number, a photo index beyond the photos sent →
  422 naming ``checklist[i].field``); nothing is written then. Missing answers are accepted (the
  visit then counts as an incomplete inspection in the scorecard).
* **Pass or fail.** pass/fail items take ``passed``; readings pass when ``min ≤ value ≤ max``
  (the server decides, whatever the phone says); photo items need a photo (``photo``: its 1-based
  position among the check-out's photos) and pass unless ``passed`` is false.
* **Follow-ups.** A failed item with ``on_fail`` = ``call`` opens a normal-priority EM call for the
  terminal (or links the open call of the same terminal and symptom); ``order`` opens a
  replacement work order of the same model (or links the terminal's open order). When no contract
  covers the merchant the follow-up is not opened and the result says why; the check-out is never
  refused for it (it may come from an offline queue).
* **Feedback.** A PM visit records the merchant's answer to one short question (score 1–5 and a
  comment, or ``declined``).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping, Optional, Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from fieldsvc.visits.refused import Refused
from fieldsvc.db import db
from fieldsvc.text import normalize_code, normalize_digits, normalize_text
from fieldsvc.visits import models as m
from fieldsvc.visits.audit import record
from fieldsvc.visits.contracts.versions import version_in_force
from fieldsvc.visits.desk import calls as desk
from fieldsvc.visits.i18n_text import gettext as _
from fieldsvc.visits.i18n_text import lazy_gettext as _l
from fieldsvc.visits.lifecycle_models import OrderKind, WorkOrder
from fieldsvc.visits.orders import service as orders
from fieldsvc.visits.scope import Forbidden, NotFound, require_role, scoped
from fieldsvc.visits.service_seed_models import (Checklist, ChecklistItem, ChecklistResult, ItemKind, OnFail,
                                                 VisitFeedback)
from fieldsvc.visits.states import OPEN_ORDER_STATES, CallStatus

MANAGE_ROLES = (m.Role.PSP, m.Role.ADMIN)
MAX_ITEMS = 60
MAX_ANSWERS = 400
FEEDBACK_QUESTION = _l("How satisfied are you with this visit and your terminal's service (1 to 5)?")
ITEM_KIND_LABELS = {ItemKind.PASS_FAIL: _l("Pass / fail"), ItemKind.READING: _l("Reading"),
                    ItemKind.PHOTO: _l("Photo")}
ON_FAIL_LABELS = {OnFail.NOTHING: _l("Nothing"), OnFail.CALL: _l("Open a follow-up call"),
                  OnFail.ORDER: _l("Open a replacement order")}
FOLLOW_UP_SYMPTOM = "other"


class ChecklistError(Refused):
    """Refused input: HTTP status, machine code, message and the field at fault; nothing written."""


# --------------------------------------------------------------------------- management


@dataclass(frozen=True)
class ItemInput:
    """One item as typed by the PSP's administrator."""

    label: str
    kind: str = ItemKind.PASS_FAIL
    label_fa: str = ""
    unit: str = ""
    min_value: Optional[float] = None
    max_value: Optional[float] = None
    required: bool = True
    on_fail: str = OnFail.NOTHING


def _psp_for(user: m.User, psp_code: Optional[str]) -> m.Psp:
    require_role(user, *MANAGE_ROLES)
    if user.role == m.Role.PSP:
        psp = db.session.get(m.Psp, user.psp_id) if user.psp_id else None
        if psp is None:
            raise Forbidden("this login belongs to no payment company")
        return psp
    code = normalize_code(psp_code or "").lower()
    if not code:
        raise ChecklistError(_("psp: give the payment company's code"), "psp")
    psp = db.session.scalars(select(m.Psp).where(m.Psp.code.ilike(code))).first()
    if psp is None:
        raise ChecklistError(_("psp: no payment company with code %(code)s", code=code), "psp")
    return psp


def _clean_item(item: ItemInput, field: str) -> dict[str, Any]:
    label = normalize_text(item.label or "")
    if not label:
        raise ChecklistError(_("%(field)s.label: give the item's text", field=field), f"{field}.label")
    if len(label) > 200:
        raise ChecklistError(_("%(field)s.label: at most 200 characters", field=field), f"{field}.label")
    if item.kind not in {k.value for k in ItemKind}:
        raise ChecklistError(_("%(field)s.kind: choose one of %(kinds)s", field=field,
                               kinds=", ".join(k.value for k in ItemKind)), f"{field}.kind")
    if item.on_fail not in {k.value for k in OnFail}:
        raise ChecklistError(_("%(field)s.on_fail: choose one of %(kinds)s", field=field,
                               kinds=", ".join(k.value for k in OnFail)), f"{field}.on_fail")
    lo, hi = item.min_value, item.max_value
    if item.kind == ItemKind.READING:
        if lo is None and hi is None:
            raise ChecklistError(_("%(field)s.min_value: a reading needs an acceptable range (a minimum, a "
                                   "maximum or both)", field=field), f"{field}.min_value")
        if lo is not None and hi is not None and lo > hi:
            raise ChecklistError(_("%(field)s.max_value: the maximum is below the minimum", field=field),
                                 f"{field}.max_value")
    else:
        lo = hi = None
    return {"label": label, "label_fa": normalize_text(item.label_fa or "")[:200], "kind": item.kind,
            "unit": normalize_text(item.unit or "")[:16] if item.kind == ItemKind.READING else "",
            "min_value": lo, "max_value": hi, "required": bool(item.required), "on_fail": item.on_fail}


def create_checklist(user: m.User, *, family: str, name: str, model: str = "", psp_code: Optional[str] = None,
                     items: Sequence[ItemInput] = ()) -> Checklist:
    """A new checklist with its items (all checked first); 409 when the PSP already has one for
    this family and model. Commits."""
    psp = _psp_for(user, psp_code)
    family = normalize_text(family or "").lower()
    if not family:
        raise ChecklistError(_("family: give the terminal family, e.g. pax"), "family")
    known = {f for (f,) in db.session.execute(select(m.Terminal.family).distinct())} | set(orders.KNOWN_FAMILIES)
    if family not in known:
        raise ChecklistError(_("family: %(family)s is not a known terminal family; use one of %(known)s",
                               family=family, known=", ".join(sorted(known))), "family")
    model = normalize_text(model or "")[:64]
    name = normalize_text(name or "")
    if not name:
        raise ChecklistError(_("name: give the checklist a name"), "name")
    if len(items) > MAX_ITEMS:
        raise ChecklistError(_("items: at most %(n)s items", n=MAX_ITEMS), "items")
    cleaned = [_clean_item(it, f"items[{i}]") for i, it in enumerate(items)]
    labels = [c["label"].lower() for c in cleaned]
    if len(set(labels)) != len(labels):
        raise ChecklistError(_("items: two items have the same text"), "items")
    existing = db.session.scalars(select(Checklist).where(
        Checklist.psp_id == psp.id, Checklist.family == family, Checklist.model == model)).first()
    if existing is not None:
        raise ChecklistError(_("family: %(psp)s already has checklist %(name)s for this family and model; "
                               "add items to it", psp=psp.code, name=existing.name), "family",
                             status=409, code="conflict")
    cl = Checklist(psp_id=psp.id, family=family, model=model, name=name[:200], active=True)
    try:
        db.session.add(cl)
        db.session.flush()
        for pos, c in enumerate(cleaned):
            db.session.add(ChecklistItem(checklist_id=cl.id, position=pos, **c))
        record("created", cl, actor=user, family=family, model=model, items=len(cleaned))
        db.session.commit()
    except IntegrityError:  # the same checklist created at the same moment
        db.session.rollback()
        raise ChecklistError(_("family: %(psp)s already has checklist %(name)s for this family and model; "
                               "add items to it", psp=psp.code, name=name), "family",
                             status=409, code="conflict") from None
    return cl


def visible_checklists(user: m.User) -> list[Checklist]:
    """Checklists the user may see (PSP: its own; dispatchers: those of PSPs they work for)."""
    require_role(user, m.Role.PSP, m.Role.ADMIN, m.Role.DISPATCHER)
    q = select(Checklist)
    if user.role == m.Role.PSP:
        q = q.where(Checklist.psp_id == user.psp_id)
    elif user.role == m.Role.DISPATCHER:
        q = q.where(Checklist.psp_id.in_(select(m.Contract.psp_id).where(
            m.Contract.contractor_id == user.contractor_id)))
    return list(db.session.scalars(q.order_by(Checklist.family, Checklist.model, Checklist.id)))


def get_checklist(user: m.User, checklist_id: int) -> Checklist:
    for cl in visible_checklists(user):
        if cl.id == checklist_id:
            return cl
    raise NotFound("checklist", checklist_id)


def _managed(user: m.User, checklist_id: int) -> Checklist:
    require_role(user, *MANAGE_ROLES)
    return get_checklist(user, checklist_id)


def add_item(user: m.User, checklist_id: int, item: ItemInput) -> ChecklistItem:
    """Add an item at the end; an active item with the same text already there answers 409 (a
    replayed request adds nothing). Commits."""
    cl = _managed(user, checklist_id)
    c = _clean_item(item, "item")
    if any(it.active and it.label.lower() == c["label"].lower() for it in cl.items):
        raise ChecklistError(_("item.label: the checklist already has this item"), "item.label",
                             status=409, code="conflict")
    if sum(1 for it in cl.items if it.active) >= MAX_ITEMS:
        raise ChecklistError(_("items: at most %(n)s items", n=MAX_ITEMS), "items")
    pos = max((it.position for it in cl.items), default=-1) + 1
    it = ChecklistItem(checklist_id=cl.id, position=pos, **c)
    db.session.add(it)
    db.session.flush()
    record("item_added", cl, actor=user, item_id=it.id, label=c["label"], kind=c["kind"])
    db.session.commit()
    return it


def retire_item(user: m.User, checklist_id: int, item_id: int) -> ChecklistItem:
    """Take an item off the checklist (its past results stay). Idempotent. Commits."""
    cl = _managed(user, checklist_id)
    it = next((i for i in cl.items if i.id == item_id), None)
    if it is None:
        raise NotFound("checklist item", item_id)
    if it.active:
        it.active = False
        record("item_retired", cl, actor=user, item_id=it.id, label=it.label)
        db.session.commit()
    return it


def set_active(user: m.User, checklist_id: int, active: bool) -> Checklist:
    cl = _managed(user, checklist_id)
    if cl.active != active:
        cl.active = active
        record("activated" if active else "deactivated", cl, actor=user)
        db.session.commit()
    return cl


# --------------------------------------------------------------------------- the visit's checklists


def checklist_for(terminal: m.Terminal) -> Optional[Checklist]:
    """The active checklist of the terminal's PSP for its model, else for its family."""
    rows = db.session.scalars(select(Checklist).where(
        Checklist.psp_id == terminal.psp_id, Checklist.family == (terminal.family or "").lower(),
        Checklist.active.is_(True), Checklist.model.in_([terminal.model or "", ""]))).all()
    rows.sort(key=lambda c: c.model == "")
    return rows[0] if rows else None


def visit_checklists(visit: m.Visit) -> list[tuple[m.Terminal, Checklist]]:
    """(terminal, checklist) for each terminal of a PM visit that has a checklist."""
    if visit.kind != m.VisitKind.PM:
        return []
    out = []
    for t in sorted(visit.terminals, key=lambda t: t.serial):
        cl = checklist_for(t)
        if cl is not None:
            out.append((t, cl))
    return out


def active_items(cl: Checklist) -> list[ChecklistItem]:
    return [it for it in cl.items if it.active]


def item_label(item: ChecklistItem, lang: str) -> str:
    return (item.label_fa or item.label) if lang == "fa" else item.label


def phone_checklists(visit: m.Visit, lang: str) -> list[dict[str, Any]]:
    """What the technician's page shows (and keeps offline) for one visit."""
    out = []
    for t, cl in visit_checklists(visit):
        out.append({"terminal": t.serial, "model": t.model, "checklist": cl.name, "items": [
            {"id": it.id, "label": item_label(it, lang), "label_fa": it.label_fa, "kind": it.kind, "unit": it.unit,
             "min": it.min_value, "max": it.max_value, "required": it.required}
            for it in active_items(cl)]})
    return out


# --------------------------------------------------------------------------- answers at check-out


def _number(raw: Any, field: str) -> float:
    if isinstance(raw, bool):
        raise ChecklistError(_("%(field)s: give a number", field=field), field)
    if isinstance(raw, (int, float)):
        return float(raw)
    text = normalize_digits(str(raw or "")).strip().replace("٫", ".").replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        raise ChecklistError(_("%(field)s: give a number", field=field), field) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ChecklistError(_("%(field)s: give a number", field=field), field)
    return value


def validate_answers(visit: m.Visit, answers: Sequence[Mapping[str, Any]], feedback: Optional[Mapping[str, Any]],
                     n_photos: int) -> dict[str, Any]:
    """Check the check-out's answers and feedback against the visit; the JSON kept in the
    check-out's ledger payload (``{"checklist": [...], "feedback": {...} | None}``)."""
    answers = list(answers or [])
    if answers and visit.kind != m.VisitKind.PM:
        raise ChecklistError(_("checklist: only PM visits have an inspection checklist"), "checklist")
    if len(answers) > MAX_ANSWERS:
        raise ChecklistError(_("checklist: at most %(n)s answers", n=MAX_ANSWERS), "checklist")
    lists = {t.serial: (t, {it.id: it for it in active_items(cl)}) for t, cl in visit_checklists(visit)}
    seen: set[tuple[str, int]] = set()
    out = []
    for i, a in enumerate(answers):
        f = f"checklist[{i}]"
        if not isinstance(a, Mapping):
            raise ChecklistError(_("%(field)s: each answer is an object", field=f), f)
        serial = normalize_code(str(a.get("terminal") or ""))
        if not serial and len(lists) == 1:
            serial = next(iter(lists))
        if serial not in lists:
            raise ChecklistError(_("%(field)s.terminal: %(serial)s is not a terminal of this visit with a "
                                   "checklist", field=f, serial=serial or "-"), f"{f}.terminal")
        terminal, items = lists[serial]
        try:
            item_id = int(a.get("item_id"))
        except (TypeError, ValueError):
            item_id = None
        item = items.get(item_id) if item_id is not None else None
        if item is None:
            raise ChecklistError(_("%(field)s.item_id: not an item of the checklist of %(serial)s", field=f,
                                   serial=serial), f"{f}.item_id")
        if (serial, item.id) in seen:
            raise ChecklistError(_("%(field)s.item_id: answered twice for %(serial)s", field=f, serial=serial),
                                 f"{f}.item_id")
        seen.add((serial, item.id))
        given = a.get("passed")
        if given is not None and not isinstance(given, bool):
            raise ChecklistError(_("%(field)s.passed: true or false", field=f), f"{f}.passed")
        value = photo = None
        if item.kind == ItemKind.PASS_FAIL:
            if given is None:
                raise ChecklistError(_("%(field)s.passed: say whether %(label)s passed", field=f,
                                       label=item.label), f"{f}.passed")
            passed = given
        elif item.kind == ItemKind.READING:
            value = _number(a.get("value"), f"{f}.value")
            passed = ((item.min_value is None or value >= item.min_value)
                      and (item.max_value is None or value <= item.max_value))
        else:
            try:
                photo = int(a.get("photo"))
            except (TypeError, ValueError):
                photo = None
            if photo is None or not 1 <= photo <= n_photos:
                raise ChecklistError(_("%(field)s.photo: give the position (1 to %(n)s) of the photo among the "
                                       "check-out's photos", field=f, n=n_photos), f"{f}.photo")
            passed = given is not False
        note = normalize_text(str(a.get("note") or ""))
        if len(note) > 500:
            raise ChecklistError(_("%(field)s.note: at most 500 characters", field=f), f"{f}.note")
        out.append({"terminal_id": terminal.id, "item_id": item.id, "passed": passed, "value": value,
                    "photo": photo, "note": note})
    return {"checklist": out, "feedback": _validate_feedback(visit, feedback)}


def _validate_feedback(visit: m.Visit, feedback: Optional[Mapping[str, Any]]) -> Optional[dict[str, Any]]:
    if not feedback:
        return None
    if visit.kind != m.VisitKind.PM:
        raise ChecklistError(_("feedback: the merchant's question is asked on PM visits"), "feedback")
    declined = feedback.get("declined") is True
    score = feedback.get("score")
    if score is not None:
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            raise ChecklistError(_("feedback.score: a whole number from 1 to 5"), "feedback.score")
    comment = normalize_text(str(feedback.get("comment") or ""))
    if len(comment) > 1000:
        raise ChecklistError(_("feedback.comment: at most 1000 characters"), "feedback.comment")
    if score is None and not declined and not comment:
        return None
    return {"score": None if declined else score, "comment": comment, "declined": declined}


def apply_answers(visit: m.Visit, data: Mapping[str, Any], photos: Sequence[m.VisitPhoto],
                  user: Optional[m.User], at: datetime) -> list[ChecklistResult]:
    """Write the validated answers and feedback of an applied check-out (the caller commits):
    the results, then the follow-ups of failed items."""
    results = []
    for a in data.get("checklist") or []:
        if db.session.scalars(select(ChecklistResult.id).where(
                ChecklistResult.visit_id == visit.id, ChecklistResult.terminal_id == a["terminal_id"],
                ChecklistResult.item_id == a["item_id"])).first() is not None:
            continue
        photo = photos[a["photo"] - 1] if a.get("photo") and a["photo"] <= len(photos) else None
        r = ChecklistResult(visit_id=visit.id, terminal_id=a["terminal_id"], item_id=a["item_id"],
                            passed=a["passed"], value=a.get("value"), photo_id=photo.id if photo else None,
                            note=a.get("note") or "", created_at=at)
        db.session.add(r)
        results.append(r)
    db.session.flush()
    for r in results:
        if not r.passed:
            _follow_up(visit, r, user, at)
    fb = data.get("feedback")
    if fb and db.session.scalars(select(VisitFeedback.id).where(VisitFeedback.visit_id == visit.id)).first() is None:
        db.session.add(VisitFeedback(visit_id=visit.id, score=fb.get("score"), comment=fb.get("comment") or "",
                                     declined=bool(fb.get("declined")), created_at=at))
    if results or fb:
        record("inspection", visit, actor=user, at=at, answers=len(results),
               failed=sum(1 for r in results if not r.passed), feedback=bool(fb))
    return results


def _follow_up(visit: m.Visit, r: ChecklistResult, user: Optional[m.User], at: datetime) -> None:
    item = db.session.get(ChecklistItem, r.item_id)
    terminal = db.session.get(m.Terminal, r.terminal_id)
    if item is None or terminal is None or item.on_fail == OnFail.NOTHING:
        return
    why = _("PM inspection of visit %(visit)s: %(label)s failed", visit=visit.id, label=item.label)
    if r.value is not None:
        why += f" ({r.value:g}{(' ' + item.unit) if item.unit else ''})"
    try:
        if item.on_fail == OnFail.CALL:
            r.follow_up_call_id = _follow_up_call(terminal, why, user, at).id
        else:
            r.follow_up_order_id = _follow_up_order(terminal, why, user, at).id
    except (orders.OrderError, desk.CallError, LookupError) as e:
        message = getattr(e, "message", str(e))
        r.note = (r.note + " | " if r.note else "") + _("follow-up not opened: %(why)s", why=message)
        record("follow_up_refused", visit, actor=user, item_id=item.id, reason=message)


def _follow_up_call(terminal: m.Terminal, why: str, user: Optional[m.User], at: datetime) -> m.ServiceCall:
    dup = desk.open_duplicate(terminal.id, FOLLOW_UP_SYMPTOM)
    if dup is not None:
        return dup
    if terminal.merchant is None:
        raise LookupError(_("the terminal is not at a merchant"))
    contract = desk.contract_for(terminal, at.date())
    call = m.ServiceCall(terminal=terminal, merchant=terminal.merchant, psp_id=terminal.merchant.psp_id,
                         contractor_id=contract.contractor_id, contract=contract, channel=m.Channel.WEB,
                         priority="normal", symptom_code=FOLLOW_UP_SYMPTOM, symptom_text=why,
                         status=CallStatus.OPEN, reported_at=at, created_by_id=user.id if user else None)
    call.pauses = []
    desk.recompute_deadlines(call, at)
    for attempt in range(8):
        call.tracking_number = desk.new_tracking_number(at)
        try:
            with db.session.begin_nested():
                db.session.add(call)
                db.session.flush()
            break
        except IntegrityError:  # the same tracking number drawn twice: draw again
            if attempt == 7:
                raise
    if contract is not None and call.confirmation_code is None:
        terms = version_in_force(contract, at)
        if terms.require_confirmation_code:
            call.confirmation_code = f"{secrets.randbelow(10**6):06d}"
    record("created", call, actor=user, to_state=CallStatus.OPEN.value, tracking_number=call.tracking_number,
           priority="normal", symptom=FOLLOW_UP_SYMPTOM, channel=str(m.Channel.WEB), source="pm_inspection")
    return call


def _follow_up_order(terminal: m.Terminal, why: str, user: Optional[m.User], at: datetime) -> WorkOrder:
    busy = db.session.scalars(select(WorkOrder).where(
        WorkOrder.terminal_id == terminal.id, WorkOrder.status.in_(OPEN_ORDER_STATES))).first()
    if busy is not None:
        return busy
    if terminal.merchant is None:
        raise LookupError(_("the terminal is not at a merchant"))
    values = {"kind": OrderKind.REPLACEMENT, "merchant": terminal.merchant, "terminal": terminal, "target": None,
              "model": terminal.model, "family": terminal.family, "notes": why}
    return orders.create(values, user, requested_at=at, commit=False)


# --------------------------------------------------------------------------- reading results


def visit_results(visit_ids: Sequence[int]) -> dict[int, list[ChecklistResult]]:
    """visit id → its results (items loaded), in item order."""
    if not visit_ids:
        return {}
    out: dict[int, list[ChecklistResult]] = {}
    for r in db.session.scalars(select(ChecklistResult).where(ChecklistResult.visit_id.in_(list(visit_ids)))
                                .join(ChecklistItem).order_by(ChecklistItem.position, ChecklistResult.id)):
        out.setdefault(r.visit_id, []).append(r)
    return out


def result_dict(r: ChecklistResult) -> dict[str, Any]:
    it = r.item
    return {"item_id": it.id, "label": it.label, "label_fa": it.label_fa, "kind": it.kind, "unit": it.unit,
            "min": it.min_value, "max": it.max_value, "passed": r.passed, "value": r.value,
            "photo_id": r.photo_id, "note": r.note, "follow_up_call_id": r.follow_up_call_id,
            "follow_up_order_id": r.follow_up_order_id, "terminal_id": r.terminal_id}


def feedback_of(visit_id: int) -> Optional[VisitFeedback]:
    return db.session.scalars(select(VisitFeedback).where(VisitFeedback.visit_id == visit_id)).first()


def terminal_inspections(terminal: m.Terminal) -> list[dict[str, Any]]:
    """One entry per PM visit that inspected the terminal: its answers, failures and feedback
    (for :mod:`fieldsvc.visits.history.timeline`)."""
    rows = db.session.scalars(select(ChecklistResult).where(ChecklistResult.terminal_id == terminal.id)
                              .join(ChecklistItem).order_by(ChecklistResult.visit_id, ChecklistItem.position)).all()
    by_visit: dict[int, list[ChecklistResult]] = {}
    for r in rows:
        by_visit.setdefault(r.visit_id, []).append(r)
    out = []
    for vid, rs in by_visit.items():
        fb = feedback_of(vid)
        out.append({"visit_id": vid, "at": min(r.created_at for r in rs), "answers": [result_dict(r) for r in rs],
                    "failed": sum(1 for r in rs if not r.passed),
                    "feedback": None if fb is None else {"score": fb.score, "comment": fb.comment,
                                                         "declined": fb.declined}})
    return out


def scoped_visit_ids(user: m.User, visit_ids: Sequence[int]) -> list[int]:
    """Those of ``visit_ids`` the user may see."""
    return list(db.session.scalars(scoped(m.Visit, user).with_only_columns(m.Visit.id)
                                   .where(m.Visit.id.in_(list(visit_ids)))))
