"""Tenant isolation, generated from the route table (issue 8, point 3).

For every endpoint of the app (except static files and the OpenAPI document), every method, every
role (anonymous, admin, and the PSP, dispatcher and technician users of tenant A) and objects of
tenant A, of tenant B and — for technicians — of a colleague: the status must be what the rule in
tests/security/rules.py says (404 for another tenant's object, 403 for a role that may not act,
401 or the login page for anonymous visitors) and no answer to a user of A may show tenant B's
names, serials, phones or tracking numbers. An endpoint without a rule fails.
"""
from __future__ import annotations

import pytest

from fieldsvc.web import create_app
from tests.security.matrix import EXCLUDED_ENDPOINTS, EXCLUDED_PREFIXES, run_endpoint
from tests.security.rules import RULES


def _endpoints() -> list[str]:
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True})
    except Exception as e:  # noqa: BLE001 - reported by the test below, not as a collection error
        return [f"<create_app failed: {e!r}>"]
    return sorted({r.endpoint for r in app.url_map.iter_rules()
                   if r.endpoint not in EXCLUDED_ENDPOINTS and not r.endpoint.startswith(EXCLUDED_PREFIXES)})


ENDPOINTS = _endpoints()


def test_every_rule_names_an_endpoint() -> None:
    stale = sorted(set(RULES) - set(ENDPOINTS))
    assert not stale, (f"tests/security/rules.py has rules for endpoints that no longer exist: {stale}; "
                       "rename or remove them")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_isolation(endpoint: str, app, tenants, clients) -> None:
    rule = RULES.get(endpoint)
    if rule is None:
        url = [r.rule for r in app.url_map.iter_rules() if r.endpoint == endpoint]
        pytest.fail(f"endpoint {endpoint!r} {url} has no isolation rule: add one to RULES in "
                    "tests/security/rules.py (who may use it, what its URL parameters name, a body if it "
                    "needs one, what it answers)")
    problems = run_endpoint(app, endpoint, rule, tenants, clients)
    assert not problems, "\n".join(problems)
