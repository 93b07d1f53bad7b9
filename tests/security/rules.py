"""The isolation rules, one per endpoint (or per method): who may use it and what it answers.

A new endpoint without a rule here fails tests/security/test_isolation_matrix.py. Add one: the
roles that may use it, what its URL parameters name (see matrix.PARAM_KINDS for the names that
need no entry), a request body when the endpoint needs one, and the statuses it answers.
"""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Mapping

from fieldsvc.db import db, utcnow
from fieldsvc.visits.models import User
from fieldsvc.web.security import issue_token
from tests.security.matrix import ANY_USER, Ctx, Rule

ADMIN = frozenset({"admin"})
PSP = frozenset({"admin", "psp"})
DISPATCH = frozenset({"admin", "dispatcher"})
TECH = frozenset({"admin", "technician"})
OPS = frozenset({"admin", "psp", "dispatcher"})


def _own_token_id(ctx: Ctx) -> int:
    """A token of the requesting user (own side) or of tenant B's technician (foreign side)."""
    username = ctx.username if ctx.side == "own" and ctx.username else "tech-c2-1"
    user = db.session.query(User).filter_by(username=username).one()
    _token, row = issue_token(user, 1, "matrix")
    db.session.commit()
    return row.id


def _now_iso(ctx: Ctx) -> str:
    return utcnow().isoformat()


def _check_in(ctx: Ctx) -> dict[str, Any]:
    m = ctx.objs.merchant
    return {"lat": m.lat, "lon": m.lon, "accuracy_m": 10, "at": utcnow().isoformat(),
            "client_event_id": uuid.uuid4().hex}


def _check_out(ctx: Ctx) -> dict[str, Any]:
    return {"outcome": "fixed", "notes": "", "at": utcnow().isoformat(), "client_event_id": uuid.uuid4().hex}


def _tracking_numbers(b: Any) -> set[str]:
    """A public tracking page of tenant B's call may show that call's own number."""
    from fieldsvc.text import to_persian_digits
    numbers = {b.call.tracking_number, b.closed_call.tracking_number}
    return numbers | {to_persian_digits(n) for n in numbers}


_SURVEY = {"tracking_number": "closed_call.tracking_number", "token": "closed_call.survey_token"}


def _contractor_query(ctx: Ctx) -> dict[str, Any]:
    return {"contractor": ctx.objs.contractor.code, "date": ctx.tenants.today.isoformat()}


def _period(ctx: Ctx) -> dict[str, Any]:
    """The last 30 days, for one contractor (tenant B's on the foreign side)."""
    return {"from": (ctx.tenants.today - dt.timedelta(days=30)).isoformat(), "to": ctx.tenants.today.isoformat(),
            "contractor": ctx.objs.contractor.code}


def _contractor_id(ctx: Ctx) -> dict[str, Any]:
    return {"contractor": ctx.objs.contractor.id}


def _credentials(ctx: Ctx) -> dict[str, Any]:
    return {"username": ctx.username or "tech-c1-1", "password": "demo"}


def _order_id(ctx: Ctx) -> int:
    """An open install order at the side's merchant (made on first use)."""
    from fieldsvc.visits.lifecycle_models import WorkOrder
    from fieldsvc.visits.orders import service as orders
    mer = ctx.objs.merchant
    found = db.session.query(WorkOrder).filter_by(merchant_id=mer.id).first()
    if found is None:
        values = orders.validate(orders.OrderInput("install", mer.code, model="PAX S90"),
                                 db.session.query(User).filter_by(username="admin").one())
        found = orders.create(values, db.session.query(User).filter_by(username="admin").one())
    return found.id


def _warehouse_id(ctx: Ctx) -> int:
    """The place a role stocks: the PSP's warehouse for PSP staff, the contractor's otherwise."""
    from fieldsvc.visits.stock import places
    place = places.psp_warehouse(ctx.objs.psp) if ctx.role == "psp" else places.contractor_warehouse(ctx.objs.contractor)
    db.session.commit()
    return place.id


def _repair_or_van_id(ctx: Ctx) -> int:
    from fieldsvc.visits.stock import places
    place = places.repair_place(ctx.objs.psp) if ctx.role == "psp" else places.van(ctx.objs.technician)
    db.session.commit()
    return place.id


def _receive(ctx: Ctx) -> dict[str, Any]:
    return {"place_id": _warehouse_id(ctx), "serials": [f"MX-{uuid.uuid4().hex[:10]}"], "model": "PAX S90",
            "psp_id": ctx.objs.psp.id}


def _transfer(ctx: Ctx) -> dict[str, Any]:
    return {"from_place_id": _warehouse_id(ctx), "to_place_id": _repair_or_van_id(ctx), "serials": ["NOPE-1"]}


def _parts(ctx: Ctx) -> dict[str, Any]:
    return {"item": "paper_roll", "quantity": 5, "to_place_id": _warehouse_id(ctx)}


_ORDER = {"order_id": _order_id}
_PLACE = {"place_id": _warehouse_id}


RULES: dict[str, Rule | Mapping[str, Rule]] = {
    # --- login, account (fieldsvc/web/auth.py, fieldsvc/web/api/auth_api.py)
    "auth.login": {
        "GET": Rule(ANY_USER, public=True),
        "POST": Rule(ANY_USER, public=True, form=lambda c: {"username": "nobody", "password": "x"}, ok=(401,)),
    },
    "auth.logout": Rule(ANY_USER, ok=(302,)),
    "auth.set_language": Rule(ANY_USER, public=True, params={"code": lambda c: "en"}, ok=(302,)),
    "auth.home": Rule(ANY_USER, ok=(200, 302)),
    "auth.account": {
        "GET": Rule(ANY_USER),
        "POST": Rule(ANY_USER, form=lambda c: {"action": "settings", "s-language": "fa"}, ok=(302,)),
    },
    "auth.revoke_token": Rule(ANY_USER, params={"token_id": _own_token_id}, ok=(302,), foreign=(404,),
                              owner_only=True),
    "auth_api.Token": {
        "POST": Rule(ANY_USER, public=True, json=_credentials, ok=(200,)),
        "DELETE": Rule(ANY_USER),
    },
    # --- technician pages and API (fieldsvc/web/technician, fieldsvc/web/api/visits_api.py)
    "tech.route": Rule(frozenset({"technician"})),
    "tech.service_worker": Rule(ANY_USER, public=True),
    # load balancers and Compose ask it without a login; 503 while the test schema is not stamped
    "health.healthz": Rule(ANY_USER, public=True, ok=(200, 503)),
    "visits_api.TechRoute": Rule(frozenset({"technician"})),
    "visits_api.VisitResource": Rule(ANY_USER),
    "visits_api.CheckIn": Rule(frozenset({"technician"}), json=_check_in),
    "visits_api.CheckOut": Rule(frozenset({"technician"}), json=_check_out),
    # --- service calls API (fieldsvc/web/api/calls_api.py)
    "calls_api.Calls": {
        "GET": Rule(OPS),
        "POST": Rule(PSP, json=lambda c: {"terminal_serial": c.objs.terminal.serial, "priority": "urgent",
                                          "symptom": "no_connection", "channel": "phone"},
                     ok=(201, 409), foreign=(404,)),
    },
    "calls_api.Call": Rule(ANY_USER),
    "calls_api.SlotOptions": Rule(DISPATCH),
    "calls_api.Assign": Rule(DISPATCH, json=lambda c: {"technician_id": c.objs.technician.id}),
    "calls_api.Transition": Rule(OPS, json=lambda c: {"action": "pause", "reason": "shop closed"}),
    # --- service call pages (fieldsvc/web/psp_calls.py)
    "psp_calls.index": Rule(OPS),
    "psp_calls.terminals": Rule(PSP),
    "psp_calls.new": {
        "GET": Rule(PSP),
        "POST": Rule(PSP, form=lambda c: {"terminal_serial": c.objs.terminal.serial, "channel": "phone",
                                          "priority": "urgent", "symptom": "no_connection"},
                     ok=(302, 422), foreign=(422,)),
    },
    "psp_calls.show": Rule(OPS),
    "psp_calls.action": Rule(OPS, form=lambda c: {"action": "pause", "reason": "shop closed"}, ok=(303,)),
    "psp_calls.assign": Rule(DISPATCH, form=lambda c: {"technician_id": c.objs.technician.id}, ok=(303,)),
    "psp_calls.photo": Rule(ANY_USER),
    # --- public tracking (fieldsvc/web/track.py): anyone with the number sees the status only
    "track.lookup": Rule(ANY_USER, public=True, query=lambda c: {"number": c.objs.call.tracking_number},
                         ok=(302,), foreign=(302,)),
    "track.show": Rule(ANY_USER, public=True, foreign=(200,), public_may_show=_tracking_numbers),
    "track.verify": Rule(ANY_USER, public=True, form=lambda c: {"digits": c.objs.merchant.phone[-4:]},
                         ok=(303,), foreign=(303,), public_may_show=_tracking_numbers),
    "track.survey": {
        "GET": Rule(ANY_USER, public=True, params=_SURVEY, foreign=(200,), public_may_show=_tracking_numbers),
        "POST": Rule(ANY_USER, public=True, params=_SURVEY, form=lambda c: {"score": "5", "comment": ""},
                     ok=(303, 422), foreign=(303, 422), public_may_show=_tracking_numbers),
    },
    "track.survey_verified": Rule(ANY_USER, public=True, form=lambda c: {"score": "5"}, ok=(403,),
                                  foreign=(403,), public_may_show=_tracking_numbers),
    # --- planning and routes API (fieldsvc/web/api/plans_api.py, routes_api.py); the POST names a day
    # whose plan is already running (409), so the matrix starts no solver
    "plans_api.Plans": Rule(DISPATCH, json=lambda c: {"date": (c.tenants.today + dt.timedelta(days=1)).isoformat(),
                                                      "contractor": c.objs.contractor.code, "time_limit": 1},
                            foreign=(404,)),
    "plans_api.PlanOne": {"GET": Rule(DISPATCH), "DELETE": Rule(DISPATCH)},
    "routes_api.Routes": Rule(ANY_USER, query=lambda c: {"date": c.tenants.today.isoformat()}),
    # --- dispatch board (fieldsvc/web/dispatcher); pin without re-optimising (no solver run)
    "dispatch.board": Rule(DISPATCH, query=_contractor_query, foreign=(404,)),
    "dispatch.board_json": Rule(DISPATCH, query=_contractor_query, foreign=(404,)),
    "dispatch.pin": Rule(DISPATCH, form=lambda c: {"technician_id": c.objs.technician.id, "reoptimise": "0",
                                                   "date": c.tenants.today.isoformat()}, ok=(302,)),
    "dispatch.lock": Rule(DISPATCH, form=lambda c: {"locked": "1"}, ok=(302,)),
    "dispatch.due": Rule(DISPATCH, query=_contractor_query, foreign=(404,)),
    # days=0 is refused before any solving: the access checks are what the matrix is after
    "dispatch.horizon": Rule(DISPATCH, form=lambda c: {"contractor": c.objs.contractor.code, "days": "0"},
                             ok=(302,), foreign=(404,)),
    # --- scorecards and the penalty ledger (fieldsvc/web/api/scorecards_api.py)
    "scorecards_api.Scorecards": Rule(OPS, query=_period, foreign=(404,)),
    "scorecards_api.ScorecardsXlsx": Rule(OPS, query=_period, foreign=(404,)),
    "scorecards_api.Penalties": Rule(OPS, query=_period, foreign=(404,)),
    "scorecards_api.Recompute": Rule(PSP, json=_period, foreign=(404,)),
    "scorecards_api.Decide": Rule(PSP, params={"decision": lambda c: "confirm"}, json=lambda c: {"reason": "ok"}),
    # --- payment company pages (fieldsvc/web/psp); list filters by another tenant's contractor id
    # answer an empty list (200) — the leak check makes sure nothing of B is shown
    "psp.home": Rule(OPS),
    "psp.services": Rule(OPS),
    "psp.performance": Rule(OPS),
    "psp.contractor": Rule(OPS, params={"code": "contractor.code"}),
    "psp.unresolved": Rule(OPS, query=_contractor_id, foreign=(200,)),
    "psp.overdue": Rule(OPS, params={"what": lambda c: "pm_overdue"}, query=_contractor_id, foreign=(200,)),
    "psp.work": Rule(OPS),
    "psp.penalties": Rule(OPS, query=_contractor_id, foreign=(200,)),
    "psp.penalties_recompute": Rule(PSP, form=lambda c: {"from": (c.tenants.today - dt.timedelta(days=7)).isoformat(),
                                                          "to": c.tenants.today.isoformat()}, ok=(302,)),
    "psp.penalty_decide": Rule(PSP, params={"decision": lambda c: "confirm"}, form=lambda c: {"reason": "ok"},
                               ok=(302,)),
    "psp.download": Rule(OPS, query=lambda c: {"contractor": c.objs.contractor.code}, foreign=(404,)),
    # --- administration (fieldsvc/web/admin.py)
    "admin.audit": Rule(ADMIN),
    "admin.locks": Rule(ADMIN),
    "unlock.unlock": Rule(ANY_USER, public=True, params={"token": lambda c: "not-a-valid-token"}, ok=(404,)),
    "admin.unlock": Rule(ADMIN, params={"user_id": lambda c: c.tenants.world.users["tech-c1-1"].id}, ok=(303,)),
    # --- terminal lifecycle (issue 20): work orders, stock, timelines, failures
    "orders_api.Orders": {
        "GET": Rule(OPS),
        "POST": Rule(PSP, json=lambda c: {"kind": "install", "merchant": c.objs.merchant.code, "model": "PAX S90"},
                     ok=(201,), foreign=(422,)),
    },
    "orders_api.AtRisk": Rule(OPS),
    "orders_api.OneOrder": Rule(OPS, params=_ORDER, foreign=(404,)),
    "orders_api.Cancel": Rule(PSP, params=_ORDER, json=lambda c: {"reason": "merchant withdrew"}, foreign=(404,)),
    "orders_api.Reopen": Rule(PSP, params=_ORDER, foreign=(404,)),
    "stock_api.Places": Rule(ANY_USER),
    "stock_api.OnePlace": Rule(ANY_USER, params=_PLACE, foreign=(404,)),
    "stock_api.Van": Rule(frozenset({"technician"})),
    "stock_api.HeldCalls": Rule(ANY_USER),
    "stock_api.Receive": Rule(OPS, json=_receive, foreign=(422,)),
    "stock_api.Transfers": Rule(OPS, json=_transfer, foreign=(422,)),
    "stock_api.Spares": Rule(frozenset({"technician"}), json=lambda c: {"family": "pax"}),
    "stock_api.Parts": Rule(OPS, json=_parts, foreign=(422,)),
    "history_api.TerminalHistory": Rule(OPS),
    "history_api.MerchantHistory": Rule(OPS),
    "history_api.TerminalConfig": {
        "GET": Rule(OPS),
        "POST": Rule(PSP, json=lambda c: {"firmware_version": "2.1.7", "connection_type": "4g"}),
    },
    "lifecycle.orders_page": {
        "GET": Rule(OPS),
        "POST": Rule(PSP, form=lambda c: {"kind": "install", "merchant": c.objs.merchant.code, "model": "PAX S90"},
                     ok=(302,), foreign=(422,)),
    },
    "lifecycle.cancel_order": Rule(PSP, params=_ORDER, form=lambda c: {"reason": "withdrawn"}, ok=(302,),
                                   foreign=(404,)),
    "lifecycle.orders_import": {"GET": Rule(PSP), "POST": Rule(PSP, form=lambda c: {}, ok=(200,))},
    "lifecycle.stock_page": Rule(OPS),
    "lifecycle.place_page": {
        "GET": Rule(ANY_USER, params=_PLACE, foreign=(404,)),
        "POST": Rule(ANY_USER, params=_PLACE, form=lambda c: {"action": "transfer", "serials": "NOPE-1"},
                     foreign=(404,)),
    },
    "lifecycle.van_page": Rule(frozenset({"technician"})),
    "lifecycle.van_spare": Rule(frozenset({"technician"}), form=lambda c: {"family": "pax"}, ok=(302,)),
    "lifecycle.search_page": Rule(OPS, query=lambda c: {"q": c.objs.terminal.serial}),
    "lifecycle.terminal_page": Rule(OPS),
    "lifecycle.merchant_page": Rule(OPS),
    "psp.failures": Rule(OPS),
}


# --- master data API (fieldsvc/web/api/master_api.py): admins manage PSPs, contractors and regions,
# PSP staff their merchants, terminals and contracts, dispatchers their technicians; nothing is
# deleted (DELETE deactivates)
def _unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


_MASTER_BODIES: dict[str, Any] = {
    "psps": lambda c: {"code": _unique("p"), "name": "New PSP"},
    "contractors": lambda c: {"code": _unique("c"), "name": "New contractor"},
    "regions": lambda c: {"code": _unique("r"), "name": "New region", "geometry": {
        "type": "Polygon", "coordinates": [[[51.3, 35.6], [51.5, 35.6], [51.5, 35.8], [51.3, 35.8], [51.3, 35.6]]]}},
    "merchants": lambda c: {"code": _unique("m"), "name": "New shop", "lat": 35.7, "lon": 51.4,
                            "psp_id": c.objs.psp.id},
    "terminals": lambda c: {"serial": _unique("SN"), "model": "PAX S90", "family": "pax", "psp_id": c.objs.psp.id},
    "technicians": lambda c: {"code": _unique("t"), "name": "New technician", "home_lat": 35.7, "home_lon": 51.4,
                              "contractor_id": c.objs.contractor.id, "skills": ["pax"]},
}
_MASTER = {  # kind: (URL object, roles that write)
    "psps": ("psp.id", ADMIN), "contractors": ("contractor.id", ADMIN), "regions": ("region.id", ADMIN),
    "merchants": ("merchant.id", PSP), "terminals": ("terminal.id", PSP), "technicians": ("technician.id", DISPATCH),
}
for _kind, (_obj, _writers) in _MASTER.items():
    _label = _kind[:-1].capitalize()
    RULES[f"master_api.{_label}List"] = {"GET": Rule(OPS), "POST": Rule(_writers, json=_MASTER_BODIES[_kind])}
    RULES[f"master_api.{_label}Item"] = {
        "GET": Rule(OPS, params={"record_id": _obj}),
        "PATCH": Rule(_writers, params={"record_id": _obj}, json=lambda c: {}),
        "DELETE": Rule(_writers, params={"record_id": _obj}),
    }

_SAME_ROLE_IN_B = {"admin": "admin", "psp": "psp-p2", "dispatcher": "dispatcher-c2", "technician": "tech-c2-1"}


def _user_id(ctx: Ctx) -> int:
    """The requesting user's own login (in every manager's scope), or tenant B's of the same role."""
    name = ctx.username if ctx.side == "own" else _SAME_ROLE_IN_B.get(ctx.role, "psp-p2")
    return db.session.query(User).filter_by(username=name or "psp-p2").one().id


_ROLE_FOR = {"admin": "admin", "psp": "psp", "dispatcher": "dispatcher", "technician": "technician"}
RULES["master_api.UserList"] = {
    "GET": Rule(OPS),
    "POST": Rule(OPS, json=lambda c: {"username": _unique("u"), "password": "first-password",
                                      "role": _ROLE_FOR.get(c.role, "psp"), "psp_id": c.objs.psp.id,
                                      "contractor_id": c.objs.contractor.id}),
}
RULES["master_api.UserItem"] = {
    "GET": Rule(OPS, params={"user_id": _user_id}, foreign=(404,)),
    "PATCH": Rule(OPS, params={"user_id": _user_id}, json=lambda c: {"name": "Renamed"}, foreign=(404,)),
    "DELETE": Rule(OPS, params={"user_id": _user_id}, foreign=(404,)),
}


def _new_contract(ctx: Ctx) -> dict[str, Any]:
    return {"code": _unique("k"), "psp_id": ctx.objs.psp.id, "contractor_id": ctx.objs.contractor.id,
            "valid_from": ctx.tenants.today.isoformat(), "region_ids": [ctx.objs.region.id], "preset": "24x7"}


RULES["master_api.ContractList"] = {"GET": Rule(OPS), "POST": Rule(PSP, json=_new_contract)}
RULES["master_api.ContractItem"] = {
    "GET": Rule(OPS), "PATCH": Rule(PSP, json=lambda c: {"kind": "uc"}), "DELETE": Rule(PSP)}
RULES["master_api.ContractVersions"] = {
    "GET": Rule(OPS),
    "POST": Rule(PSP, json=lambda c: {"effective_from": (c.tenants.today + dt.timedelta(days=30)).isoformat(),
                                      "auto_close_days": 5}),
}

# --- bulk imports API (fieldsvc/web/api/imports_api.py): admins only; a dry run writes nothing
RULES["imports_api.Import"] = Rule(ADMIN, params={"kind": lambda c: "merchants"}, query=lambda c: {"dry_run": 1},
                                   ok=(422,))

# --- set-up pages (fieldsvc/web/setup): the same writers as the API; an empty form answers 422
RULES["setup.index"] = Rule(OPS)
for _kind, (_obj, _writers) in _MASTER.items():
    RULES[f"setup.{_kind}_list"] = Rule(OPS)
    RULES[f"setup.{_kind}_new"] = {"GET": Rule(_writers), "POST": Rule(_writers, form=lambda c: {})}
    RULES[f"setup.{_kind}_edit"] = {"GET": Rule(_writers, params={"record_id": _obj}),
                                    "POST": Rule(_writers, params={"record_id": _obj}, form=lambda c: {})}
    RULES[f"setup.{_kind}_deactivate"] = Rule(_writers, params={"record_id": _obj}, ok=(302,))
RULES["setup.contracts_list"] = Rule(OPS)
RULES["setup.contracts_new"] = {"GET": Rule(PSP), "POST": Rule(PSP, form=lambda c: {})}
RULES["setup.contracts_show"] = {"GET": Rule(OPS), "POST": Rule(PSP, form=lambda c: {})}
RULES["setup.contracts_deactivate"] = Rule(PSP, ok=(302,))
RULES["setup.users_list"] = Rule(OPS)
RULES["setup.users_new"] = {"GET": Rule(OPS), "POST": Rule(OPS, form=lambda c: {})}
RULES["setup.users_deactivate"] = Rule(OPS, params={"user_id": _user_id}, ok=(302,), foreign=(404,))
RULES["setup.imports"] = {"GET": Rule(ADMIN), "POST": Rule(ADMIN, form=lambda c: {"kind": "merchants"})}
RULES["setup.imports_confirm"] = Rule(ADMIN, form=lambda c: {"kind": "merchants", "token": "nothing"}, ok=(302,))
RULES["setup.users_edit"] = {"GET": Rule(OPS, params={"user_id": _user_id}, foreign=(404,)),
                             "POST": Rule(OPS, params={"user_id": _user_id}, form=lambda c: {"language": "fa"},
                                          foreign=(404,))}


# --- PM inspection checklists and campaigns (issue 23: fieldsvc/web/checklists.py, campaigns.py and their APIs)
def _checklist_id(ctx: Ctx) -> int:
    """The side's PSP's PAX checklist with one item (made on first use)."""
    from fieldsvc.visits.service_seed_models import Checklist, ChecklistItem
    found = db.session.query(Checklist).filter_by(psp_id=ctx.objs.psp.id, family="pax", model="").first()
    if found is None:
        found = Checklist(psp_id=ctx.objs.psp.id, family="pax", model="", name="Matrix PM")
        db.session.add(found)
        db.session.flush()
        db.session.add(ChecklistItem(checklist_id=found.id, label="Printer", position=0))
        db.session.commit()
    return found.id


def _checklist_item_id(ctx: Ctx) -> int:
    from fieldsvc.visits.service_seed_models import ChecklistItem
    return db.session.query(ChecklistItem).filter_by(checklist_id=_checklist_id(ctx)).first().id


def _campaign_id(ctx: Ctx) -> int:
    """A SIM swap campaign of the side's PSP over the side's terminal (made on first use)."""
    from fieldsvc.visits.service_seed_models import Campaign, CampaignTask
    found = db.session.query(Campaign).filter_by(psp_id=ctx.objs.psp.id, code="MATRIX").first()
    if found is None:
        found = Campaign(psp_id=ctx.objs.psp.id, code="MATRIX", name="Matrix", kind="sim_swap", method="remote",
                         deadline=ctx.tenants.today + dt.timedelta(days=30), selection={"serials": []})
        db.session.add(found)
        db.session.flush()
        db.session.add(CampaignTask(campaign_id=found.id, terminal_id=ctx.objs.terminal.id,
                                    contractor_id=ctx.objs.contractor.id))
        db.session.commit()
    return found.id


def _new_campaign(ctx: Ctx) -> dict[str, Any]:
    return {"code": _unique("K"), "name": "SIM", "kind": "sim_swap", "psp": ctx.objs.psp.code,
            "deadline": (ctx.tenants.today + dt.timedelta(days=30)).isoformat(), "serials": [ctx.objs.terminal.serial]}


_CL = {"checklist_id": _checklist_id}
_CAMP = {"campaign_id": _campaign_id}
RULES.update({
    "checklists.list_page": {
        "GET": Rule(OPS),
        "POST": Rule(PSP, form=lambda c: {"family": "pax", "model": _unique("M"), "name": "X", "psp": c.objs.psp.code},
                     ok=(302,)),
    },
    "checklists.detail_page": {
        "GET": Rule(OPS, params=_CL, foreign=(404,)),
        "POST": Rule(PSP, params=_CL, form=lambda c: {"action": "add", "label": _unique("item")}, ok=(302,),
                     foreign=(404,)),
    },
    "checklists_api.Checklists": {
        "GET": Rule(OPS),
        "POST": Rule(PSP, json=lambda c: {"family": "pax", "model": _unique("M"), "name": "X", "psp": c.objs.psp.code}),
    },
    "checklists_api.OneChecklist": Rule(OPS, params=_CL, foreign=(404,)),
    "checklists_api.ChecklistItems": Rule(PSP, params=_CL, json=lambda c: {"label": _unique("i")}, foreign=(404,)),
    "checklists_api.RetireItem": Rule(PSP, params={"checklist_id": _checklist_id, "item_id": _checklist_item_id},
                                      foreign=(404,)),
    "checklists_api.VisitInspection": Rule(ANY_USER),
    "campaigns.list_page": {
        "GET": Rule(OPS),
        "POST": Rule(PSP, form=lambda c: dict(_new_campaign(c), serials=c.objs.terminal.serial), ok=(302,)),
    },
    "campaigns.detail_page": {
        "GET": Rule(OPS, params=_CAMP, foreign=(404,)),
        "POST": Rule(PSP, params=_CAMP, form=lambda c: {"action": "run"}, ok=(302,), foreign=(404,)),
    },
    "campaigns_api.Campaigns": {"GET": Rule(OPS), "POST": Rule(PSP, json=_new_campaign)},
    "campaigns_api.OneCampaign": Rule(OPS, params=_CAMP, foreign=(404,)),
    "campaigns_api.RunCampaign": Rule(PSP, params=_CAMP, foreign=(404,)),
    "campaigns_api.CampaignResults": Rule(PSP, params=_CAMP, foreign=(404,), json=lambda c: {
        "results": [{"serial": c.objs.terminal.serial, "status": "done"}]}),
    "scorecards_api.ScorecardsYearOnYear": Rule(OPS, query=_period, foreign=(404,)),
    "psp.year_on_year": Rule(OPS),
})
# --- ticket types, proactive calls, service tiers and phases (issue 23, i23b)
def _event(ctx: Ctx) -> dict[str, Any]:
    return {"event_id": _unique("ev"), "terminal_serial": ctx.objs.terminal.serial, "kind": "heartbeat",
            "time": utcnow().isoformat(), "psp_id": ctx.objs.psp.id}


def _rule_id(ctx: Ctx) -> int:
    from fieldsvc.visits.service_models import TerminalEventRule
    rule = TerminalEventRule(psp_id=ctx.objs.psp.id, kind="error", code=_unique("E")[:20], priority="normal",
                             symptom_code="software", throttle_minutes=60)
    db.session.add(rule)
    db.session.commit()
    return rule.id


def _tier_id(ctx: Ctx) -> int:
    from fieldsvc.visits.service_models import ServiceTier
    tier = ServiceTier(psp_id=ctx.objs.psp.id, code=_unique("t"), name="Tier", em_targets={})
    db.session.add(tier)
    db.session.commit()
    return tier.id


def _days(ctx: Ctx) -> dict[str, Any]:
    return {"start": (ctx.tenants.today - dt.timedelta(days=30)).isoformat(), "end": ctx.tenants.today.isoformat()}


RULES["events_api.TerminalEvents"] = {"GET": Rule(PSP), "POST": Rule(PSP, json=_event, foreign=(200,))}
RULES["events_api.Rules"] = {
    "GET": Rule(PSP),
    "POST": Rule(PSP, json=lambda c: {"kind": "error", "code": _unique("E")[:20], "symptom": "software",
                                      "psp_id": c.objs.psp.id}, ok=(201,), foreign=(201,))}
RULES["events_api.Rule"] = {
    "GET": Rule(PSP, params={"rule_id": _rule_id}, foreign=(404,)),
    "PATCH": Rule(PSP, params={"rule_id": _rule_id}, json=lambda c: {"throttle_minutes": 30}, foreign=(404,))}
RULES["service_api.Queues"] = {
    "GET": Rule(OPS),
    "POST": Rule(PSP, json=lambda c: {"ticket_type": "change", "terminal_serial": c.objs.terminal.serial,
                                      "priority": "normal", "symptom": "add_sim"}, ok=(201, 409), foreign=(404,))}
RULES["service_api.TypedCall"] = Rule(ANY_USER)  # like calls_api.Call: a technician sees own calls
RULES["service_api.Split"] = Rule(PSP, json=lambda c: {"parts": [{"symptom": "keypad"}]}, ok=(201, 409))
RULES["service_api.Convert"] = Rule(PSP, json=lambda c: {"model": "PAX S90"}, ok=(409, 422))
RULES["service_api.Tiers"] = {
    "GET": Rule(PSP),
    "POST": Rule(PSP, json=lambda c: {"code": _unique("t"), "name": "Tier", "psp_id": c.objs.psp.id,
                                      "em_targets": {"urgent": {"response_minutes": 60}}}, ok=(201,), foreign=(201,))}
RULES["service_api.Tier"] = Rule(PSP, params={"tier_id": _tier_id}, json=lambda c: {"name": "Renamed"},
                                 foreign=(404,))
RULES["service_api.MerchantTierView"] = Rule(PSP, json=lambda c: {"tier_id": None})
RULES["service_api.Phases"] = {"GET": Rule(PSP), "PUT": Rule(PSP, json=lambda c: {"phases": []})}
RULES["service_api.PhaseReportView"] = Rule(OPS, query=_days)
RULES["service_pages.split"] = Rule(PSP, form=lambda c: {"symptom": "keypad"}, ok=(302,))
RULES["service_pages.to_order"] = Rule(PSP, form=lambda c: {"model": "PAX S90"}, ok=(302,))
RULES["service_pages.monitoring"] = {"GET": Rule(PSP), "POST": Rule(PSP, form=lambda c: {}, ok=(422,))}
RULES["service_pages.tiers_page"] = {"GET": Rule(PSP), "POST": Rule(PSP, form=lambda c: {}, ok=(422,))}
RULES["service_pages.phases"] = Rule(OPS)
# --- intake channels (issue 23): hold queue, requester groups, SMS choice, phone webhook
def _held_id(ctx: Ctx) -> int:
    from fieldsvc.visits.channel_models import HeldCall
    held = HeldCall(psp_id=ctx.objs.psp.id, merchant_id=ctx.objs.merchant.id, terminal_id=ctx.objs.terminal.id,
                    channel="phone", priority="normal", symptom_code="printer", reason="not_designated")
    db.session.add(held)
    db.session.commit()
    return held.id


def _group(ctx: Ctx) -> Any:
    from fieldsvc.visits.channel_models import RequesterGroup
    if getattr(ctx, "group", None) is None:
        ctx.group = RequesterGroup(psp_id=ctx.objs.psp.id, kind="chain", name=f"matrix {uuid.uuid4().hex}")  # type: ignore[attr-defined]
        db.session.add(ctx.group)  # type: ignore[attr-defined]
        db.session.commit()
    return ctx.group  # type: ignore[attr-defined]


def _requester_id(ctx: Ctx) -> int:
    from fieldsvc.visits.channel_models import DesignatedRequester
    person = DesignatedRequester(group_id=_group(ctx).id, name="Matrix", phone="09120000000")
    db.session.add(person)
    db.session.commit()
    return person.id


def _ring(ctx: Ctx) -> dict[str, Any]:
    from fieldsvc.visits.desk.telephony import set_token
    return {"caller": ctx.objs.merchant.phone or "09120000000", "agent": "psp-p1", "token": set_token(ctx.objs.psp)}


_HELD = {"held_id": _held_id}
_GROUP = {"group_id": lambda c: _group(c).id}
RULES["channels_api.HeldCalls"] = Rule(PSP)
RULES["channels_api.ConfirmHeld"] = Rule(PSP, params=_HELD, json=lambda c: {}, foreign=(404,))
RULES["channels_api.RejectHeld"] = Rule(PSP, params=_HELD, json=lambda c: {"reason": "matrix"}, foreign=(404,))
RULES["channels_api.Groups"] = {"GET": Rule(PSP), "POST": Rule(PSP, json=lambda c: {
    "kind": "chain", "name": f"matrix {uuid.uuid4().hex}"})}
RULES["channels_api.GroupMerchants"] = Rule(PSP, params=_GROUP, json=lambda c: {"merchant_code": c.objs.merchant.code},
                                            foreign=(404,))
RULES["channels_api.GroupRequesters"] = Rule(PSP, params=_GROUP, json=lambda c: {
    "name": "Matrix", "email": f"{uuid.uuid4().hex}@matrix.test"}, foreign=(404,))
RULES["channels_api.GroupRequester"] = Rule(PSP, params={**_GROUP, "requester_id": _requester_id}, foreign=(404,))
RULES["channels_api.MerchantNotify"] = {"GET": Rule(PSP), "PUT": Rule(PSP, json=lambda c: {"notify_by": "email"})}
# the phone system authenticates with its PSP's token, not a login: every caller with the token is answered
RULES["telephony_api.Incoming"] = Rule(ANY_USER, public=True, json=_ring, ok=(201,))
RULES["channel_pages.index"] = Rule(PSP)
RULES["channel_pages.incoming"] = Rule(PSP)
RULES["channel_pages.confirm"] = Rule(PSP, params=_HELD, form=lambda c: {
    "terminal_serial": c.objs.terminal.serial, "priority": "normal", "symptom": "printer"}, ok=(302,),
    foreign=(404,))
RULES["channel_pages.reject"] = Rule(PSP, params=_HELD, form=lambda c: {"reason": "matrix"}, ok=(302,),
                                     foreign=(404,))


def _held_with_photo(ctx: Ctx) -> int:
    """A held request with a photo (made on first use)."""
    if "held_photo" not in ctx.objs.extra:
        import io

        from flask import current_app
        from PIL import Image

        from fieldsvc.visits.channel_models import HeldCall
        from fieldsvc.visits.desk import calls as svc
        buf = io.BytesIO()
        Image.new("RGB", (4, 4), "green").save(buf, "PNG")
        held = db.session.get(HeldCall, _held_id(ctx))
        held.photo_path = svc.store_photo(buf.getvalue(), "image/png", current_app.config["UPLOAD_DIR"])
        db.session.commit()
        ctx.objs.extra["held_photo"] = held.id
    return ctx.objs.extra["held_photo"]


RULES["channel_pages.held_photo"] = Rule(PSP, params={"held_id": _held_with_photo}, foreign=(404,))
RULES["channel_pages.groups"] = Rule(PSP, form=lambda c: {"kind": "chain", "name": f"matrix {uuid.uuid4().hex}"})
RULES["channel_pages.group"] = Rule(PSP, params=_GROUP, form=lambda c: {
    "action": "merchant", "m-merchant_code": c.objs.merchant.code}, foreign=(404,))
RULES["channel_pages.notify_by"] = Rule(PSP, form=lambda c: {"merchant_code": c.objs.merchant.code,
                                                             "notify_by": "email"})
# --- the support desk (issue 21: fieldsvc/web/desk.py, fieldsvc/web/api/desk_api.py)
RULES["desk.home"] = Rule(ANY_USER, ok=(302,))
RULES["desk.queue"] = Rule(OPS, params={"tier": lambda c: "tier1"})
# a desk action by a user who is not the call's help desk is refused on the page with a message
RULES["desk.act"] = Rule(OPS, form=lambda c: {"action": "transfer", "to_tier": "tier2", "reason": "expert"},
                         ok=(303,))
RULES["desk.add_note"] = Rule(OPS, form=lambda c: {"body": "checked the host logs"}, ok=(303,))
RULES["desk.notifications"] = Rule(ANY_USER)
RULES["desk.mark_read"] = Rule(ANY_USER, ok=(303,))
# desk supervisors of the organisation may manage it too (none in the matrix's world)
RULES["desk.team"] = {"GET": Rule(ADMIN),
                      "POST": Rule(ADMIN, form=lambda c: {"user_id": 1, "tier": "tier1"}, ok=(303,))}
RULES["desk_api.Notes"] = {"GET": Rule(OPS),
                           "POST": Rule(OPS, json=lambda c: {"body": "checked the host logs"}, ok=(201,))}
# --- knowledge base, merchant self-service, daily evaluation (issue 21: fieldsvc/web/kb.py,
# api/kb_api.py, track_self.py, reviews.py)
def _article_id(ctx: Ctx) -> int:
    """An article of the side's PSP (made on first use)."""
    if "article" not in ctx.objs.extra:
        from fieldsvc.visits.desk_extra_models import KbArticle
        art = KbArticle(psp_id=ctx.objs.psp.id, title_en="Matrix article", steps_en="step one",
                        search_title="matrix article", search_body="step one", symptom_codes=[], terminal_models=[])
        db.session.add(art)
        db.session.commit()
        ctx.objs.extra["article"] = art.id
    return ctx.objs.extra["article"]


def _comment_id(ctx: Ctx) -> int:
    """A merchant comment with a photo on the side's call (made on first use)."""
    if "comment" not in ctx.objs.extra:
        import io

        from flask import current_app
        from PIL import Image

        from fieldsvc.visits.desk import calls as svc
        from fieldsvc.visits.desk_extra_models import MerchantComment
        buf = io.BytesIO()
        Image.new("RGB", (4, 4), "blue").save(buf, "PNG")
        path = svc.store_photo(buf.getvalue(), "image/png", current_app.config["UPLOAD_DIR"])
        comment = MerchantComment(call_id=ctx.objs.call.id, text="matrix", photo_path=path)
        db.session.add(comment)
        db.session.commit()
        ctx.objs.extra["comment"] = comment.id
    return ctx.objs.extra["comment"]


_ARTICLE = {"article_id": _article_id}
_NOT_VERIFIED = {"ok": (403,), "foreign": (403,), "public_may_show": _tracking_numbers}
RULES.update({
    "kb.index": Rule(OPS),
    "kb.show": Rule(OPS, params=_ARTICLE, foreign=(404,)),
    "kb.new": {"GET": Rule(PSP), "POST": Rule(PSP, form=lambda c: {"title_en": "New fix", "steps_en": "one"})},
    "kb.edit": {"GET": Rule(PSP, params=_ARTICLE, foreign=(404,)),
                "POST": Rule(PSP, params=_ARTICLE, form=lambda c: {"title_en": "Edited", "steps_en": "two"},
                             foreign=(404,))},
    "kb.from_call": Rule(PSP, ok=(303,), foreign=(404,)),
    "kb.suggest": Rule(OPS, query=lambda c: {"serial": c.objs.terminal.serial, "symptom": "printer"}, foreign=(200,)),
    "kb.send": Rule(OPS, form=lambda c: {"article_id": _article_id(c), "channel": "email"}, ok=(303,)),
    "kb.outcome": Rule(OPS, form=lambda c: {"article_id": _article_id(c), "outcome": "fixed"}, ok=(303,)),
    "kb_api.Articles": {"GET": Rule(OPS, query=lambda c: {"q": "matrix"}),
                        "POST": Rule(PSP, json=lambda c: {"title_en": "API fix", "steps_en": "one"}, ok=(201,))},
    # the merchant's actions need the phone digits first (the matrix's clients never typed them)
    "track_self.comment": Rule(ANY_USER, public=True, form=lambda c: {"comment": "hello"}, **_NOT_VERIFIED),
    "track_self.confirm": Rule(ANY_USER, public=True, **_NOT_VERIFIED),
    "track_self.reopen": Rule(ANY_USER, public=True, form=lambda c: {"reason": "again"}, **_NOT_VERIFIED),
    "track_self.visit_feedback": Rule(ANY_USER, public=True, form=lambda c: {"score": "5"}, **_NOT_VERIFIED),
    "track_self.comment_photo": Rule(OPS, params={"comment_id": _comment_id}),
    "reviews.index": Rule(PSP),
    # a review naming another tenant's call is refused with a message (nothing written, see
    # tests/evaluation/test_reviews.py)
    "reviews.save": Rule(PSP, form=lambda c: {"kind": "call", "service_id": c.objs.closed_call.id, "score": "4"},
                         ok=(303,), foreign=(303,)),
})
