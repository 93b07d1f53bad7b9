"""Security headers and the Content-Security-Policy on every page (issue 8, point 1).

Every HTML page any role can open is fetched; its inline scripts must carry the request's CSP nonce
and no element may have an inline event handler (onclick=…), which the policy would block."""
from __future__ import annotations

import re
from html.parser import HTMLParser


from fieldsvc.web import create_app
from tests.security.matrix import EXCLUDED_ENDPOINTS, EXCLUDED_PREFIXES, Ctx, url_values
from tests.security.rules import RULES, Rule

ROLE_PREFERENCE = ("dispatcher", "psp", "technician", "admin")


def test_headers_on_a_page(client, world) -> None:
    r = client.get("/login")
    csp = r.headers["Content-Security-Policy"]
    directives = dict((d.strip().split(" ", 1) + [""])[:2] for d in csp.split(";") if d.strip())
    assert "'unsafe-inline'" not in directives["script-src"] and "'unsafe-eval'" not in directives["script-src"]
    assert re.search(r"'nonce-[\w-]{16,}'", directives["script-src"])
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'self'"
    assert "http:" not in directives["default-src"] and "*" not in directives["default-src"]
    assert r.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "same-origin"
    second = client.get("/login").headers["Content-Security-Policy"]
    assert second != csp, "the nonce must change on every request"


def test_headers_on_api_and_errors(client, world) -> None:
    for path in ("/api/v1/openapi.json", "/no-such-page", "/api/v1/no-such"):
        r = client.get(path)
        assert r.headers["X-Content-Type-Options"] == "nosniff", path
        assert "Content-Security-Policy" in r.headers, path


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inline_without_nonce: list[str] = []
        self.nonces: set[str] = set()
        self.handlers: list[str] = []
        self.javascript_urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.handlers.append(f"<{tag} {name}=…>")
            if name in ("href", "src", "action") and value and value.strip().lower().startswith("javascript:"):
                self.javascript_urls.append(f"<{tag} {name}={value[:40]}>")
        if tag == "script" and not a.get("src") and a.get("type", "") not in ("application/json",
                                                                               "application/ld+json"):
            if a.get("nonce"):
                self.nonces.add(a["nonce"] or "")
            else:
                self.inline_without_nonce.append(self.getpos().__repr__())


def _page_endpoints() -> list[str]:
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True})
    except Exception as e:  # noqa: BLE001
        return [f"<create_app failed: {e!r}>"]
    return sorted({r.endpoint for r in app.url_map.iter_rules()
                   if "GET" in (r.methods or ()) and not r.rule.startswith("/api/")
                   and r.endpoint not in EXCLUDED_ENDPOINTS and not r.endpoint.startswith(EXCLUDED_PREFIXES)})


def _check_page(endpoint: str, app, tenants, clients) -> list[str]:
    entry = RULES.get(endpoint)
    if entry is None:
        return [f"{endpoint}: no rule in tests/security/rules.py (see test_isolation_matrix)"]
    rule = entry.get("GET") if isinstance(entry, dict) else entry
    assert isinstance(rule, Rule)
    role = "anonymous" if rule.public else next(r for r in ROLE_PREFERENCE if r in rule.roles)
    url_rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint and "GET" in r.methods)
    ctx = Ctx(objs=tenants.a, tenants=tenants, role=role, side="own")
    path = url_rule.build(url_values(url_rule, rule, ctx), append_unknown=False)[1].split("|", 1)[-1]
    r = clients[role].get(path, query_string=rule.query(ctx) if rule.query else None)
    if r.status_code in (301, 302, 303):
        r = clients[role].get(r.headers["Location"])
    if r.mimetype != "text/html":
        return []
    html = r.get_data(as_text=True)
    nonce = re.search(r"'nonce-([^']+)'", r.headers["Content-Security-Policy"]).group(1)
    parser = _Scripts()
    parser.feed(html)
    problems = []
    if parser.inline_without_nonce:
        problems.append(f"{path}: inline <script> without nonce at {parser.inline_without_nonce}")
    if not parser.nonces <= {nonce}:
        problems.append(f"{path}: a script nonce differs from the CSP's")
    if parser.handlers:
        problems.append(f"{path}: inline event handlers are blocked by the CSP: {parser.handlers}")
    if parser.javascript_urls:
        problems.append(f"{path}: javascript: URLs are blocked by the CSP: {parser.javascript_urls}")
    external = [u for u in re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?://[^"]+)"', html)]
    if external:
        problems.append(f"{path}: scripts or stylesheets from outside (must come from packages): {external}")
    return problems


def test_page_scripts_follow_the_csp(app, tenants, clients) -> None:
    """Every HTML page (as a role that may open it): nonces on inline scripts, no inline handlers,
    no javascript: URLs, no scripts or stylesheets from a CDN."""
    problems: list[str] = []
    for endpoint in _page_endpoints():
        problems += _check_page(endpoint, app, tenants, clients)
    assert not problems, "\n".join(problems)
