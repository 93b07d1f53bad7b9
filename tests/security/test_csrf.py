"""CSRF (issue 8, point 1): every state-changing request made with a cookie session must carry the
token — forms as the hidden `csrf_token` field, scripts as the `X-CSRFToken` header. Bearer-token
API calls need none (no cookie, nothing a foreign site could ride on)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from fieldsvc.db import db
from fieldsvc.visits.models import AuditEvent
from fieldsvc.web import create_app
from tests.security.matrix import EXCLUDED_ENDPOINTS, Ctx, url_values
from tests.security.rules import RULES, Rule

CSRF_FREE = {("auth_api.Token", "POST"),  # exchanges a password for a token: no session involved
             ("telephony_api.Incoming", "POST")}  # the phone system's own token authenticates it, no session


def _state_changing() -> list[tuple[str, str]]:
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True})
    except Exception as e:  # noqa: BLE001
        return [(f"<create_app failed: {e!r}>", "POST")]
    out = set()
    for r in app.url_map.iter_rules():
        if r.endpoint in EXCLUDED_ENDPOINTS:
            continue
        for method in (r.methods or set()) - {"GET", "HEAD", "OPTIONS"}:
            if (r.endpoint, method) not in CSRF_FREE:
                out.add((r.endpoint, method))
    return sorted(out)


@pytest.fixture
def csrf_app(app):
    app.config["WTF_CSRF_ENABLED"] = True
    return app


def _token(client) -> str:
    html = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def test_posts_without_token_are_refused(csrf_app, tenants) -> None:
    """Every state-changing endpoint, with a logged-in admin's cookie and no token: 400, no change."""
    client = csrf_app.test_client()
    r = client.post("/login", data={"username": "admin", "password": "demo", "csrf_token": _token(client)})
    assert r.status_code == 302
    problems = []
    for endpoint, method in _state_changing():
        entry = RULES.get(endpoint)
        if entry is None:
            problems.append(f"{endpoint}: no rule in tests/security/rules.py (see test_isolation_matrix)")
            continue
        rule = entry.get(method) if isinstance(entry, dict) else entry
        assert isinstance(rule, Rule)
        url_rule = next(u for u in csrf_app.url_map.iter_rules() if u.endpoint == endpoint and method in u.methods)
        ctx = Ctx(objs=tenants.a, tenants=tenants, role="admin", side="own")
        path = url_rule.build(url_values(url_rule, rule, ctx), append_unknown=False)[1].split("|", 1)[-1]
        before = db.session.scalar(select(func.count(AuditEvent.id)))
        kw = {"json": rule.json(ctx)} if rule.json else {"data": rule.form(ctx) if rule.form else {}}
        r = client.open(path, method=method, **kw)
        if r.status_code != 400:
            problems.append(f"{method} {path} without CSRF token answered {r.status_code}")
        if db.session.scalar(select(func.count(AuditEvent.id))) != before:
            problems.append(f"{method} {path}: the refused request changed data")
    assert not problems, "\n".join(problems)


def test_form_and_header_tokens_are_accepted(csrf_app, world) -> None:
    client = csrf_app.test_client()
    token = _token(client)
    assert client.post("/login", data={"username": "admin", "password": "demo"}).status_code == 400
    assert client.post("/login", data={"username": "admin", "password": "demo", "csrf_token": token}).status_code == 302
    token = _token(client)  # the session changed at login
    assert client.post("/lang/en", data={"next": "/account"}).status_code == 400
    assert client.post("/lang/en", data={"next": "/account", "csrf_token": token}).status_code == 302
    r = client.delete("/api/v1/auth/token")
    assert r.status_code == 400 and r.is_json and r.get_json()["error"]["code"] == "bad_request"
    r = client.delete("/api/v1/auth/token", headers={"X-CSRFToken": token})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "no_token"  # past CSRF: no bearer token


def test_bearer_calls_need_no_csrf_token(csrf_app, world) -> None:
    client = csrf_app.test_client()
    r = client.post("/api/v1/auth/token", json={"username": "tech-c1-1", "password": "demo"})
    assert r.status_code == 200
    token = r.get_json()["token"]
    r = client.delete("/api/v1/auth/token", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 204


def test_error_message_tells_what_to_do(csrf_app, world) -> None:
    client = csrf_app.test_client()
    login_page = client.get("/login", headers={"Accept-Language": "en"})
    assert login_page.status_code == 200
    r = client.post("/login", data={"username": "admin", "password": "demo"}, headers={"Accept-Language": "en"})
    assert "Reload the page" in r.get_data(as_text=True)
