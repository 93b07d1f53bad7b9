"""The isolation matrix engine: what each endpoint must answer to each role for its own tenant's
objects and for another tenant's. The rules themselves live in `tests/security/rules.py`."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule as UrlRule

from tests.security.conftest import USERNAMES, Objects, Tenants

#: Endpoints the matrix does not cover: static files and the public API description.
EXCLUDED_ENDPOINTS = frozenset({"static", "vendor"})
EXCLUDED_PREFIXES = ("api-docs.",)

ANY_USER = frozenset(USERNAMES)
PASS = "passes access control"  # an allowed state-changing request: anything but 401/403/404/405/5xx


@dataclass
class Ctx:
    """What a value factory may use: the objects of the side under test, the role, the world."""

    objs: Objects
    tenants: Tenants
    role: str
    side: str

    @property
    def username(self) -> str | None:
        return USERNAMES.get(self.role)


Value = str | Callable[[Ctx], Any]


@dataclass(frozen=True)
class Rule:
    """Who may use an endpoint and what it answers.

    roles: roles allowed to use it (list "admin" too); everyone else gets 403.
    params: URL parameter → an attribute path in `Objects` ("visit.id", "call.tracking_number") or
        a callable(ctx); parameters named like PARAM_KINDS need no entry.
    public: anonymous visitors may use it (otherwise: 401 under /api, redirect to /login elsewhere).
    ok: statuses for an allowed role with its own objects (default: 200 for GET, PASS otherwise).
    foreign: statuses for an allowed role (not admin) given another tenant's objects; default 404
        when a URL parameter names a tenant object; set it when only the body or query does.
    json / form / query: request body or query string factories (callables of ctx).
    public_may_show: for a public page, strings of the foreign object it may legitimately show.
    owner_only: the objects belong to one user (their API tokens): even the admin gets `foreign`.
    """

    roles: frozenset[str]
    params: Mapping[str, Value] = field(default_factory=dict)
    public: bool = False
    ok: tuple[int, ...] | str | None = None
    foreign: tuple[int, ...] | None = None
    json: Callable[[Ctx], Any] | None = None
    form: Callable[[Ctx], dict[str, Any]] | None = None
    query: Callable[[Ctx], dict[str, Any]] | None = None
    public_may_show: Callable[[Objects], set[str]] | None = None
    owner_only: bool = False


#: URL parameter names and the objects they name (the value is taken from the side under test).
PARAM_KINDS: dict[str, str] = {
    "visit_id": "visit.id", "call_id": "call.id", "route_id": "route.id", "technician_id": "technician.id",
    "tech_id": "technician.id", "plan_id": "plan.id", "run_id": "plan.id", "penalty_id": "penalty.id",
    "line_id": "penalty.id", "merchant_id": "merchant.id", "terminal_id": "terminal.id",
    "photo_id": "photo.id", "tracking_number": "call.tracking_number", "serial": "terminal.serial",
    "contract_id": "contract.id", "psp_id": "psp.id", "contractor_id": "contractor.id",
    "contractor_code": "contractor.code", "psp_code": "psp.code", "survey_token": "call.survey_token",
    "token": "call.survey_token",
}
#: Kinds that belong to one technician (a technician may not see a colleague's).
TECHNICIAN_KINDS = frozenset({"visit", "pm_visit", "route", "call", "closed_call", "photo", "technician"})
NOT_TENANT = frozenset({"region"})


def resolve(value: Value, ctx: Ctx) -> Any:
    if callable(value):
        return value(ctx)
    obj: Any = ctx.objs
    for part in value.split("."):
        obj = getattr(obj, part)
    return obj


def kinds_of(url_rule: UrlRule, rule: Rule) -> set[str]:
    """The Objects kinds named by the URL parameters (callables name none)."""
    out = set()
    for arg in url_rule.arguments:
        v = rule.params.get(arg, PARAM_KINDS.get(arg))
        if isinstance(v, str):
            out.add(v.split(".")[0])
    return out - NOT_TENANT


def url_values(url_rule: UrlRule, rule: Rule, ctx: Ctx) -> dict[str, Any]:
    values = {}
    for arg in url_rule.arguments:
        v = rule.params.get(arg, PARAM_KINDS.get(arg))
        if v is None:
            raise LookupError(f"URL parameter <{arg}> of {url_rule.rule}: add it to the rule's params "
                              f"(an Objects attribute path such as 'visit.id', or a callable of ctx)")
        values[arg] = resolve(v, ctx)
    return values


@dataclass
class Check:
    role: str
    side: str
    method: str
    url: str
    status: int
    expected: str
    body: str
    location: str


def expected_for(rule: Rule, role: str, side: str, method: str, is_api: bool,
                 tenant_url: bool) -> tuple[set[int] | str, str]:
    """The acceptable statuses (or PASS / 'login') and a description."""
    ok: tuple[int, ...] | str = rule.ok if rule.ok is not None else ((200,) if method == "GET" else PASS)
    if role == "anonymous":
        if rule.public:
            return (set(ok) if not isinstance(ok, str) else ok), "public"
        return ({401} if is_api else "login"), "anonymous must log in"
    if role not in rule.roles:
        return ({403} if side == "own" else {403, 404}), f"role {role} not allowed"
    if side == "own" or (role == "admin" and not rule.owner_only):
        return (set(ok) if not isinstance(ok, str) else ok), "allowed"
    if rule.foreign is not None:
        return set(rule.foreign), "another tenant's object"
    return {404}, "another tenant's object" if tenant_url else "another technician's object"


def status_ok(exp: set[int] | str, status: int, location: str) -> bool:
    if exp == PASS:
        return status not in (401, 403, 404, 405) and status < 500
    if exp == "login":
        return status in (301, 302, 303) and "/login" in location
    return status in exp  # type: ignore[operator]


def run_endpoint(app: Flask, endpoint: str, entry: Rule | Mapping[str, Rule], tenants: Tenants,
                 clients: Mapping[str, FlaskClient]) -> list[str]:
    """Every URL rule and method of `endpoint` × every role × own/foreign objects; the problems."""
    problems: list[str] = []
    secrets = tenants.b_secrets()
    for url_rule in [r for r in app.url_map.iter_rules() if r.endpoint == endpoint]:
        for method in sorted((url_rule.methods or set()) - {"HEAD", "OPTIONS"}):
            rule = entry.get(method) if isinstance(entry, Mapping) else entry
            if rule is None:
                problems.append(f"{method} {url_rule.rule}: no rule for this method")
                continue
            kinds = kinds_of(url_rule, rule)
            tenant_url = bool(kinds)
            is_api = url_rule.rule.startswith("/api/")
            # Requests that must be refused come first, so allowed state changes happen last.
            plan: list[tuple[str, str]] = []
            for role in ("anonymous", "technician", "dispatcher", "psp", "admin"):
                sides = ["own"]
                if tenant_url or rule.foreign is not None:
                    sides.insert(0, "foreign")
                if role == "technician" and kinds & TECHNICIAN_KINDS and role in rule.roles:
                    sides.insert(0, "sibling")
                plan += [(role, s) for s in sides]
            plan.sort(key=lambda rs: (rs[0] in rule.roles or (rs[0] == "anonymous" and rule.public),
                                      rs[0] == "admin", rs[1] == "own"))
            for role, side in plan:
                objs = {"own": tenants.a, "foreign": tenants.b, "sibling": tenants.sibling}[side]
                ctx = Ctx(objs=objs, tenants=tenants, role=role, side=side)
                try:
                    path = url_rule.build(url_values(url_rule, rule, ctx), append_unknown=False)[1]
                except LookupError as e:
                    problems.append(str(e))
                    break
                path = path.split("|", 1)[-1]
                kw: dict[str, Any] = {}
                if rule.query:
                    kw["query_string"] = rule.query(ctx)
                if rule.json:
                    kw["json"] = rule.json(ctx)
                if rule.form:
                    kw["data"] = rule.form(ctx)
                resp = clients[role].open(path, method=method, headers={"Accept-Language": "fa"}, **kw)
                body = resp.get_data().decode("utf-8", errors="replace")
                location = resp.headers.get("Location", "")
                exp, why = expected_for(rule, role, side, method, is_api, tenant_url)
                if not status_ok(exp, resp.status_code, location):
                    problems.append(f"{method} {path} as {role} ({side} objects, {why}): answered "
                                    f"{resp.status_code}, expected {sorted(exp) if isinstance(exp, set) else exp}"
                                    f" — {body[:300]!r}")
                if role == "psp":
                    # contractor c1 also serves PSP p3: PSP p1 sees none of p3's work on c1's routes
                    leaked = [s for s in tenants.other_psp_secrets() if s in body]
                    if leaked:
                        problems.append(f"{method} {path} as psp ({side} objects): the answer shows another "
                                        f"PSP's work of a shared contractor {leaked[:5]}")
                if role != "admin":
                    # What the request itself carried (a serial typed into a form) may be echoed back.
                    sent = path + repr(kw)
                    allowed = {x for x in secrets if x in sent}
                    if rule.public and side == "foreign" and rule.public_may_show:
                        allowed |= rule.public_may_show(tenants.b)
                    leaked = [s for s in secrets if s in body and s not in allowed]
                    if leaked:
                        problems.append(f"{method} {path} as {role} ({side} objects): the answer shows "
                                        f"tenant B's data {leaked[:5]}")
    return problems
