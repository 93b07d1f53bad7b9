"""Campaigns: a PSP's software upgrade, model replacement or SIM swap over a selection of its
terminals, with a deadline (issue 23, point 6).

* **Selection**: installed terminals of the PSP (at a merchant, active or faulty) matching every
  criterion given: models, current firmware versions (the latest ``firmware_version`` of the
  terminal's configuration history), regions (codes), and/or a list of serials (an unknown serial
  is refused naming its row). Terminals already at the target (same model, same firmware) are left
  out.
* **Tasks**: one per terminal (unique per campaign and terminal), with the contractor of the
  contract covering the merchant. ``model_replacement`` campaigns work by **work orders**: each
  task gets a replacement order of the target model (or the terminal's open replacement order);
  ``software_upgrade`` and ``sim_swap`` are **remote** tasks: the PSP's terminal management system
  (or its staff) reports each terminal's result; a software upgrade is also done when the
  terminal's configuration shows the target firmware.
* **Idempotent**: starting a campaign with a code already used with the same definition answers
  the existing campaign (and runs its selection again); with another definition it is refused.
  Running the selection again only adds terminals not in it yet; reporting a result again changes
  nothing.
* **Status of a task**: remote tasks keep their own; work-order tasks follow their order
  (done → done, failed → failed, cancelled → cancelled, else pending): see :func:`status_expr`.
* **On time**: done at or before the end of the deadline's local day.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from fieldsvc.visits.refused import Refused
from fieldsvc import config
from fieldsvc.db import db, utcnow
from fieldsvc.text import normalize_code, normalize_text
from fieldsvc.visits import models as m
from fieldsvc.visits.audit import record
from fieldsvc.visits.i18n_text import gettext as _
from fieldsvc.visits.i18n_text import lazy_gettext as _l
from fieldsvc.visits.lifecycle_models import OrderKind, TerminalConfigChange, WorkOrder
from fieldsvc.visits.orders import service as orders
from fieldsvc.visits.scope import Forbidden, NotFound, require_role
from fieldsvc.visits.service_seed_models import Campaign, CampaignKind, CampaignTask, TaskStatus
from fieldsvc.visits.states import OPEN_ORDER_STATES, OrderStatus

REMOTE, WORK_ORDER = "remote", "work_order"
METHOD = {CampaignKind.SOFTWARE_UPGRADE: REMOTE, CampaignKind.SIM_SWAP: REMOTE,
          CampaignKind.MODEL_REPLACEMENT: WORK_ORDER}
KIND_LABELS = {CampaignKind.SOFTWARE_UPGRADE: _l("Software / firmware upgrade"),
               CampaignKind.MODEL_REPLACEMENT: _l("Replacement of a model"), CampaignKind.SIM_SWAP: _l("SIM swap")}
STATUS_LABELS = {TaskStatus.PENDING: _l("Pending"), TaskStatus.DONE: _l("Done"), TaskStatus.FAILED: _l("Failed"),
                 TaskStatus.CANCELLED: _l("Cancelled")}
MANAGE_ROLES = (m.Role.PSP, m.Role.ADMIN)
VIEW_ROLES = (m.Role.PSP, m.Role.ADMIN, m.Role.DISPATCHER)
MAX_SERIALS = 50_000
MAX_RESULTS = 10_000
CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
INSTALLED = (m.TerminalStatus.ACTIVE, m.TerminalStatus.FAULTY)


class CampaignError(Refused):
    """Refused input: status, machine code, message and the field (or row) at fault; nothing written."""


@dataclass(frozen=True)
class CampaignInput:
    """A campaign as the PSP asks for it (texts normalised here)."""

    code: str
    name: str
    kind: str
    deadline: Optional[dt.date]
    target_version: str = ""
    target_model: str = ""
    models: Sequence[str] = field(default_factory=tuple)
    versions: Sequence[str] = field(default_factory=tuple)
    regions: Sequence[str] = field(default_factory=tuple)
    serials: Sequence[str] = field(default_factory=tuple)
    psp: Optional[str] = None


@dataclass(frozen=True)
class StartResult:
    campaign: Campaign
    created: bool
    added: int


# --------------------------------------------------------------------------- SQL of a task's state


def status_expr() -> ColumnElement:
    """The effective status of a task (work-order tasks follow their order); needs a LEFT JOIN of
    WorkOrder on ``CampaignTask.work_order_id``."""
    return case((CampaignTask.work_order_id.is_(None), CampaignTask.status),
                (WorkOrder.status == OrderStatus.DONE, TaskStatus.DONE.value),
                (WorkOrder.status == OrderStatus.FAILED, TaskStatus.FAILED.value),
                (WorkOrder.status == OrderStatus.CANCELLED, TaskStatus.CANCELLED.value),
                else_=TaskStatus.PENDING.value)


def done_at_expr() -> ColumnElement:
    return case((CampaignTask.work_order_id.is_(None), CampaignTask.done_at), else_=WorkOrder.done_at)


def deadline_end(deadline: dt.date, tz: str | None = None) -> dt.datetime:
    """The end of the deadline's local day (UTC)."""
    zone = ZoneInfo(tz or config.TIMEZONE)
    return dt.datetime.combine(deadline + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.timezone.utc)


def _today() -> dt.date:
    return utcnow().astimezone(ZoneInfo(config.TIMEZONE)).date()


# --------------------------------------------------------------------------- validation


def _psp_for(user: m.User, code: Optional[str]) -> m.Psp:
    require_role(user, *MANAGE_ROLES)
    if user.role == m.Role.PSP:
        psp = db.session.get(m.Psp, user.psp_id) if user.psp_id else None
        if psp is None:
            raise Forbidden("this login belongs to no payment company")
        return psp
    code = normalize_code(code or "").lower()
    psp = db.session.scalars(select(m.Psp).where(func.lower(m.Psp.code) == code)).first() if code else None
    if psp is None:
        raise CampaignError(_("psp: give the code of a payment company"), "psp")
    return psp


def _clean_list(values: Sequence[str], *, code: bool = False) -> list[str]:
    out, seen = [], set()
    for v in values or ():
        s = normalize_code(str(v)) if code else normalize_text(str(v))
        if s and s.lower() not in seen:
            seen.add(s.lower())
            out.append(s)
    return out


def latest_firmware() -> Any:
    """Subquery: terminal_id → its current firmware_version."""
    last = (select(TerminalConfigChange.terminal_id.label("tid"), func.max(TerminalConfigChange.id).label("cid"))
            .where(TerminalConfigChange.field == "firmware_version").group_by(TerminalConfigChange.terminal_id)
            .subquery())
    return (select(last.c.tid, TerminalConfigChange.new_value.label("version"))
            .join(TerminalConfigChange, TerminalConfigChange.id == last.c.cid).subquery())


def validate(user: m.User, inp: CampaignInput) -> dict[str, Any]:
    """Check a campaign; the values to create it with, or CampaignError naming the field."""
    psp = _psp_for(user, inp.psp)
    code = normalize_code(inp.code or "")
    if not CODE_RE.fullmatch(code):
        raise CampaignError(_("code: 1 to 32 letters, digits, '-', '_' or '.'"), "code")
    name = normalize_text(inp.name or "")
    if not name or len(name) > 200:
        raise CampaignError(_("name: give the campaign a name (at most 200 characters)"), "name")
    try:
        kind = CampaignKind(inp.kind)
    except ValueError:
        raise CampaignError(_("kind: choose one of %(kinds)s", kinds=", ".join(k.value for k in CampaignKind)),
                            "kind") from None
    if inp.deadline is None:
        raise CampaignError(_("deadline: give the date by which the campaign must be done"), "deadline")
    target_version = normalize_text(inp.target_version or "")[:64]
    target_model = normalize_text(inp.target_model or "")[:64]
    if kind == CampaignKind.SOFTWARE_UPGRADE and not target_version:
        raise CampaignError(_("target_version: give the software version to install"), "target_version")
    if kind == CampaignKind.MODEL_REPLACEMENT:
        if not target_model:
            raise CampaignError(_("target_model: give the model the terminals are replaced with"), "target_model")
        try:
            family = orders._family(target_model, "")
        except orders.OrderError as e:
            raise CampaignError(e.message.replace("family:", "target_model:", 1), "target_model") from None
    else:
        family = ""
    selection = {"models": _clean_list(inp.models), "versions": _clean_list(inp.versions),
                 "regions": _clean_list(inp.regions), "serials": _clean_list(inp.serials, code=True)}
    if not any(selection.values()):
        raise CampaignError(_("selection: choose the terminals by model, version, region or a list of serials"),
                            "selection")
    if len(selection["serials"]) > MAX_SERIALS:
        raise CampaignError(_("serials: at most %(n)s serials", n=MAX_SERIALS), "serials")
    for i, code_ in enumerate(selection["regions"]):
        if db.session.scalar(select(m.Region.id).where(func.lower(m.Region.code) == code_.lower())) is None:
            raise CampaignError(_("regions[%(i)s]: no region with code %(code)s", i=i, code=code_), f"regions[{i}]")
    if selection["serials"]:
        known = set(db.session.scalars(select(m.Terminal.serial).where(
            m.Terminal.psp_id == psp.id, m.Terminal.serial.in_(selection["serials"]))))
        for i, s in enumerate(selection["serials"]):
            if s not in known:
                raise CampaignError(_("serials: row %(row)s: %(serial)s is not a terminal of %(psp)s",
                                      row=i + 1, serial=s, psp=psp.code), f"serials[{i}]")
    return {"psp": psp, "code": code, "name": name, "kind": kind, "method": METHOD[kind],
            "deadline": inp.deadline, "target_version": target_version, "target_model": target_model,
            "family": family, "selection": selection}


def existing_campaign(psp_id: int, code: str) -> Optional[Campaign]:
    return db.session.scalars(select(Campaign).where(Campaign.psp_id == psp_id, Campaign.code == code)).first()


def _same_definition(c: Campaign, v: Mapping[str, Any]) -> bool:
    return (c.name, c.kind, c.deadline, c.target_version, c.target_model, c.selection) == (
        v["name"], v["kind"], v["deadline"], v["target_version"], v["target_model"], v["selection"])


# --------------------------------------------------------------------------- start and run


def start_campaign(user: m.User, inp: CampaignInput) -> StartResult:
    """Create the campaign and its tasks; a repeat of the same campaign answers the existing one
    (its selection run again). All or nothing; commits. Two copies of one request racing: the
    unique (PSP, code) and (campaign, terminal) constraints stop the second, which is then
    answered as a repeat."""
    try:
        return _start(user, inp)
    except IntegrityError:
        db.session.rollback()
        return _start(user, inp)


def _start(user: m.User, inp: CampaignInput) -> StartResult:
    try:
        v = validate(user, inp)
        existing = existing_campaign(v["psp"].id, v["code"])
        if existing is not None:
            if not _same_definition(existing, v):
                raise CampaignError(_("code: campaign %(code)s already exists with another definition",
                                      code=v["code"]), "code", status=409, code="conflict")
            added = _run(existing, user)
            db.session.commit()
            return StartResult(existing, False, added)
        if v["deadline"] < _today():
            raise CampaignError(_("deadline: the date has passed"), "deadline")
        c = Campaign(psp_id=v["psp"].id, code=v["code"], name=v["name"], kind=v["kind"], method=v["method"],
                     target_version=v["target_version"], target_model=v["target_model"], deadline=v["deadline"],
                     selection=v["selection"], status="active", created_by_id=user.id)
        db.session.add(c)
        db.session.flush()
        record("created", c, actor=user, code=c.code, kind=c.kind, deadline=c.deadline, selection=c.selection)
        added = _run(c, user)
        db.session.commit()
        return StartResult(c, True, added)
    except BaseException:
        db.session.rollback()
        raise


def run_campaign(user: m.User, campaign: Campaign) -> int:
    """Run the selection again: add terminals not in the campaign yet, open missing orders,
    take in finished upgrades. Returns how many tasks were added; commits."""
    require_role(user, *MANAGE_ROLES)
    for attempt in (1, 2):
        try:
            added = _run(campaign, user)
            db.session.commit()
            return added
        except IntegrityError:  # the same terminals added by a run at the same time: run again
            db.session.rollback()
            if attempt == 2:
                raise
        except BaseException:
            db.session.rollback()
            raise
    return 0


def selected_terminals(c: Campaign) -> list[m.Terminal]:
    """The installed terminals the campaign's selection picks (targets already met left out)."""
    sel = c.selection or {}
    q = (select(m.Terminal).join(m.Merchant, m.Merchant.id == m.Terminal.merchant_id)
         .where(m.Terminal.psp_id == c.psp_id, m.Terminal.status.in_([str(s) for s in INSTALLED])))
    if sel.get("models"):
        q = q.where(func.lower(m.Terminal.model).in_([x.lower() for x in sel["models"]]))
    fw = latest_firmware()
    q = q.outerjoin(fw, fw.c.tid == m.Terminal.id)
    if sel.get("versions"):
        q = q.where(fw.c.version.in_(sel["versions"]))
    if sel.get("regions"):
        q = q.join(m.Region, m.Region.id == m.Merchant.region_id).where(
            func.lower(m.Region.code).in_([x.lower() for x in sel["regions"]]))
    if sel.get("serials"):
        q = q.where(m.Terminal.serial.in_(sel["serials"]))
    if c.kind == CampaignKind.MODEL_REPLACEMENT:
        q = q.where(func.lower(m.Terminal.model) != c.target_model.lower())
    if c.kind == CampaignKind.SOFTWARE_UPGRADE:
        q = q.where((fw.c.version.is_(None)) | (fw.c.version != c.target_version))
    return list(db.session.scalars(q.order_by(m.Terminal.serial)))


def _run(c: Campaign, user: Optional[m.User]) -> int:
    have = set(db.session.scalars(select(CampaignTask.terminal_id).where(CampaignTask.campaign_id == c.id)))
    added = 0
    now = utcnow()
    for t in selected_terminals(c):
        if t.id in have:
            continue
        task = CampaignTask(campaign_id=c.id, terminal_id=t.id, status=TaskStatus.PENDING, created_at=now)
        try:
            task.contractor_id = orders.contract_for(t.merchant, now.date()).contractor_id
        except orders.OrderError as e:
            task.reason = e.message
        db.session.add(task)
        added += 1
    db.session.flush()
    if c.method == WORK_ORDER:
        _open_orders(c, user)
    if c.kind == CampaignKind.SOFTWARE_UPGRADE:
        _take_in_upgrades(c, user)
    if added:
        record("tasks_added", c, actor=user, added=added)
    return added


def _open_orders(c: Campaign, user: Optional[m.User]) -> None:
    """A replacement order for each pending task without one (or the terminal's open one)."""
    tasks = db.session.scalars(select(CampaignTask).where(
        CampaignTask.campaign_id == c.id, CampaignTask.work_order_id.is_(None),
        CampaignTask.status == TaskStatus.PENDING)).all()
    for task in tasks:
        t = task.terminal
        busy = db.session.scalars(select(WorkOrder).where(
            WorkOrder.terminal_id == t.id, WorkOrder.status.in_(OPEN_ORDER_STATES))).first()
        if busy is not None:
            if busy.kind == OrderKind.REPLACEMENT:
                task.work_order_id, task.reason = busy.id, ""
            else:
                task.reason = _("terminal has open order %(number)s; run the campaign again when it is finished",
                                number=busy.number)
            continue
        values = {"kind": OrderKind.REPLACEMENT, "merchant": t.merchant, "terminal": t, "target": None,
                  "model": c.target_model, "family": orders._family(c.target_model, ""),
                  "notes": _("Campaign %(code)s: %(name)s", code=c.code, name=c.name)}
        try:
            order = orders.create(values, user, commit=False)
        except orders.OrderError as e:
            task.reason = e.message
            continue
        task.work_order_id, task.reason = order.id, ""
        task.contractor_id = order.contractor_id


def _take_in_upgrades(c: Campaign, user: Optional[m.User]) -> None:
    """Pending upgrade tasks whose terminal's configuration shows the target firmware are done."""
    fw = latest_firmware()
    rows = db.session.execute(select(CampaignTask, TerminalConfigChange.at)
                              .join(fw, fw.c.tid == CampaignTask.terminal_id)
                              .join(TerminalConfigChange, and_(TerminalConfigChange.terminal_id == CampaignTask.terminal_id,
                                                               TerminalConfigChange.field == "firmware_version",
                                                               TerminalConfigChange.new_value == c.target_version))
                              .where(CampaignTask.campaign_id == c.id, CampaignTask.status == TaskStatus.PENDING,
                                     fw.c.version == c.target_version)).all()
    for task, at in rows:
        if task.status == TaskStatus.PENDING:
            task.status, task.done_at, task.reason = TaskStatus.DONE, at, ""
            record("task_done", c, actor=user, terminal_id=task.terminal_id, source="configuration")


# --------------------------------------------------------------------------- remote results


@dataclass(frozen=True)
class ResultInput:
    serial: str
    status: str
    reason: str = ""
    at: Optional[dt.datetime] = None


def record_results(user: m.User, c: Campaign, results: Sequence[ResultInput]) -> dict[str, int]:
    """Remote results reported by the terminal management system or the PSP's staff, all checked
    first (a wrong row is named, nothing written). A task already done stays done; the same result
    again changes nothing. Returns {"changed", "unchanged"}; commits."""
    require_role(user, *MANAGE_ROLES)
    if c.method != REMOTE:
        raise CampaignError(_("results: this campaign works by work orders; their technicians' check-outs "
                              "report the results"), "results", status=409, code="conflict")
    if not results:
        raise CampaignError(_("results: send at least one result"), "results")
    if len(results) > MAX_RESULTS:
        raise CampaignError(_("results: at most %(n)s rows", n=MAX_RESULTS), "results")
    tasks = {t.terminal.serial: t for t in db.session.scalars(select(CampaignTask).where(CampaignTask.campaign_id == c.id))}
    now = utcnow()
    clean = []
    for i, r in enumerate(results):
        serial = normalize_code(r.serial or "")
        if serial not in tasks:
            raise CampaignError(_("results[%(i)s].serial: %(serial)s is not a terminal of this campaign",
                                  i=i, serial=serial or "-"), f"results[{i}].serial")
        if r.status not in (TaskStatus.DONE, TaskStatus.FAILED):
            raise CampaignError(_("results[%(i)s].status: done or failed", i=i), f"results[{i}].status")
        at = r.at or now
        if at.tzinfo is None:
            raise CampaignError(_("results[%(i)s].at: give the time with its UTC offset", i=i), f"results[{i}].at")
        reason = normalize_text(r.reason or "")[:500]
        if r.status == TaskStatus.FAILED and not reason:
            raise CampaignError(_("results[%(i)s].reason: say why it failed", i=i), f"results[{i}].reason")
        clean.append((tasks[serial], str(r.status), min(at, now), reason))
    changed = 0
    try:
        for task, status, at, reason in clean:
            if task.status == TaskStatus.DONE or (task.status == status and task.reason == reason):
                continue
            task.status, task.reason = status, reason
            task.done_at = at if status == TaskStatus.DONE else None
            changed += 1
            if status == TaskStatus.DONE and c.kind == CampaignKind.SOFTWARE_UPGRADE:
                _set_firmware(task.terminal, c.target_version, at, user)
        if changed:
            record("results", c, actor=user, changed=changed)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return {"changed": changed, "unchanged": len(clean) - changed}


def _set_firmware(t: m.Terminal, version: str, at: dt.datetime, user: Optional[m.User]) -> None:
    old = db.session.scalars(select(TerminalConfigChange.new_value).where(
        TerminalConfigChange.terminal_id == t.id, TerminalConfigChange.field == "firmware_version")
        .order_by(TerminalConfigChange.at.desc(), TerminalConfigChange.id.desc())).first()
    if old != version:
        db.session.add(TerminalConfigChange(terminal_id=t.id, at=at, field="firmware_version", old_value=old,
                                            new_value=version, actor_id=user.id if user else None,
                                            actor=user.username if user else "system"))


# --------------------------------------------------------------------------- reading


def visible_campaigns(user: m.User) -> list[Campaign]:
    """PSP: its campaigns; dispatchers: campaigns with tasks of their contractor; admin: all."""
    require_role(user, *VIEW_ROLES)
    q = select(Campaign)
    if user.role == m.Role.PSP:
        q = q.where(Campaign.psp_id == user.psp_id)
    elif user.role == m.Role.DISPATCHER:
        q = q.where(Campaign.id.in_(select(CampaignTask.campaign_id).where(
            CampaignTask.contractor_id == user.contractor_id)))
    return list(db.session.scalars(q.order_by(Campaign.deadline, Campaign.id)))


def get_campaign(user: m.User, campaign_id: int) -> Campaign:
    for c in visible_campaigns(user):
        if c.id == campaign_id:
            return c
    raise NotFound("campaign", campaign_id)


@dataclass
class ProgressRow:
    contractor_id: Optional[int]
    contractor: str
    total: int = 0
    done: int = 0
    done_on_time: int = 0
    failed: int = 0
    pending: int = 0
    overdue: int = 0
    cancelled: int = 0

    @property
    def done_pct(self) -> Optional[float]:
        active = self.total - self.cancelled
        return round(100.0 * self.done / active, 1) if active else None


def progress(user: m.User, c: Campaign) -> list[ProgressRow]:
    """Done, failed, pending (and overdue) per contractor, one SQL aggregate; a dispatcher sees
    only their own row. The last row is the total."""
    status = status_expr()
    done_at = done_at_expr()
    end = deadline_end(c.deadline)
    late = utcnow() >= end
    stmt = (select(CampaignTask.contractor_id, func.count(),
                   func.sum(case((status == TaskStatus.DONE.value, 1), else_=0)),
                   func.sum(case((and_(status == TaskStatus.DONE.value, done_at < end), 1), else_=0)),
                   func.sum(case((status == TaskStatus.FAILED.value, 1), else_=0)),
                   func.sum(case((status == TaskStatus.PENDING.value, 1), else_=0)),
                   func.sum(case((status == TaskStatus.CANCELLED.value, 1), else_=0)))
            .select_from(CampaignTask).outerjoin(WorkOrder, WorkOrder.id == CampaignTask.work_order_id)
            .where(CampaignTask.campaign_id == c.id).group_by(CampaignTask.contractor_id))
    if user.role == m.Role.DISPATCHER:
        stmt = stmt.where(CampaignTask.contractor_id == user.contractor_id)
    names = dict(db.session.execute(select(m.Contractor.id, m.Contractor.code)).all())
    rows, total = [], ProgressRow(None, "")
    for cid, n, done, on_time, failed, pending, cancelled in db.session.execute(stmt).all():
        r = ProgressRow(cid, names.get(cid, "—"), int(n), int(done or 0), int(on_time or 0), int(failed or 0),
                        int(pending or 0), int(pending or 0) if late else 0, int(cancelled or 0))
        rows.append(r)
        for k in ("total", "done", "done_on_time", "failed", "pending", "overdue", "cancelled"):
            setattr(total, k, getattr(total, k) + getattr(r, k))
    rows.sort(key=lambda r: r.contractor)
    return rows + [total]


def task_rows(user: m.User, c: Campaign, limit: int = 500) -> list[dict[str, Any]]:
    """The campaign's terminals with their effective status (first ``limit``)."""
    wo = aliased(WorkOrder)
    status = case((CampaignTask.work_order_id.is_(None), CampaignTask.status),
                  (wo.status == OrderStatus.DONE, "done"), (wo.status == OrderStatus.FAILED, "failed"),
                  (wo.status == OrderStatus.CANCELLED, "cancelled"), else_="pending")
    stmt = (select(m.Terminal.serial, m.Terminal.model, m.Contractor.code, status, wo.number,
                   case((CampaignTask.work_order_id.is_(None), CampaignTask.done_at), else_=wo.done_at),
                   CampaignTask.reason)
            .select_from(CampaignTask).join(m.Terminal, m.Terminal.id == CampaignTask.terminal_id)
            .outerjoin(m.Contractor, m.Contractor.id == CampaignTask.contractor_id)
            .outerjoin(wo, wo.id == CampaignTask.work_order_id)
            .where(CampaignTask.campaign_id == c.id).order_by(m.Terminal.serial).limit(limit))
    if user.role == m.Role.DISPATCHER:
        stmt = stmt.where(CampaignTask.contractor_id == user.contractor_id)
    return [{"serial": s, "model": mo, "contractor": cc, "status": st, "work_order": num, "done_at": d,
             "reason": r or ""} for s, mo, cc, st, num, d, r in db.session.execute(stmt).all()]
