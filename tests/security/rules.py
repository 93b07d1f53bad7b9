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
}
