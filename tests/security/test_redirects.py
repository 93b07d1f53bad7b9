"""Every redirect target that comes from a request goes through one check,
fieldsvc.web.redirects.safe_redirect_target (issue 16, point 3), tested with the usual open-redirect
payloads, directly and through each page that redirects to a `next` it was given."""
from __future__ import annotations

import ast
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from fieldsvc.web.redirects import safe_redirect_target

WEB = Path(__file__).resolve().parents[2] / "fieldsvc" / "web"

#: The usual payloads (OWASP, PortSwigger): other hosts in every spelling browsers accept.
PAYLOADS = [
    "//evil.example/", "///evil.example/", "////evil.example/", "/\\evil.example/", "\\\\evil.example/",
    "/\\/evil.example/", "/\t/evil.example/", "/\n/evil.example/", "/\r/evil.example/", "/\t\t/evil.example",
    "/ /evil.example/", "/\u3000/evil.example/", "/\u200b/evil.example/", "/\u00a0/evil.example/",
    "\t//evil.example/", " //evil.example/", "https://evil.example/", "http:evil.example", "http:/evil.example",
    "https:\\\\evil.example", "//evil.example@localhost/", "javascript:alert(1)", "data:text/html,x",
    "evil.example", "/\r\nSet-Cookie: hacked=1", "/account\r\nLocation: //evil.example", "/x\x00y",
    "/%09/evil.example/", "", "x" * 3000,
]
SAFE = ["/account", "/psp/calls/?show=all", "/track/EM-1405-7K3Q9", "/dispatch/?date=1405%2F09%2F01"]


def _browser_view(location: str) -> str:
    """What a browser makes of a Location value: tabs and new lines inside URLs are dropped."""
    return "".join(ch for ch in location if ch not in "\t\r\n").strip()


def _stays_here(location: str) -> bool:
    parts = urlsplit(_browser_view(location).replace("\\", "/"))
    return parts.scheme in ("", "http") and parts.netloc in ("", "localhost")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_check_refuses_other_hosts(payload: str) -> None:
    kept = safe_redirect_target(payload)
    assert kept is None or (_stays_here(kept) and kept == _browser_view(kept)), f"{payload!r} kept as {kept!r}"


@pytest.mark.parametrize("target", SAFE)
def test_the_check_keeps_paths_of_this_site(target: str) -> None:
    assert safe_redirect_target(target) == target


@pytest.mark.parametrize("payload", PAYLOADS)
def test_login_never_sends_anyone_elsewhere(app, world, payload: str) -> None:
    c = app.test_client()
    r = c.post("/login?next=" + quote(payload, safe=""), data={"username": "admin", "password": "demo"})
    if "\x00" in payload:  # refused up front: PostgreSQL cannot store it (fieldsvc.web.security)
        assert r.status_code == 400
        return
    assert r.status_code == 302, f"{payload!r}: answered {r.status_code}"
    assert _stays_here(r.headers["Location"]), f"{payload!r} → {r.headers['Location']!r}"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_language_switch_never_sends_anyone_elsewhere(client, world, payload: str) -> None:
    r = client.post("/lang/en", data={"next": payload})
    if "\x00" in payload:  # refused up front: PostgreSQL cannot store it (fieldsvc.web.security)
        assert r.status_code == 400
        return
    assert r.status_code == 302, f"{payload!r}: answered {r.status_code}"
    assert _stays_here(r.headers["Location"]), f"{payload!r} → {r.headers['Location']!r}"


def test_reported_payloads(client, world) -> None:
    """The two of the report: `/%09/evil.example/` redirected to //evil.example/, `%0A` gave 500."""
    r = client.post("/login?next=/%09/evil.example/", data={"username": "admin", "password": "demo"})
    assert r.status_code == 302 and "evil.example" not in r.headers["Location"]
    r = client.application.test_client().post("/login?next=/account%0A", data={"username": "admin", "password": "demo"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/")


def _redirect_arguments() -> list[tuple[str, int, ast.expr]]:
    out = []
    for path in WEB.rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "redirect" and node.args:
                out.append((str(path.relative_to(WEB)), node.lineno, node.args[0]))
    return out


def _built_here(arg: ast.expr) -> bool:
    """`url_for(...)`, or `safe_redirect_target(...) or url_for(...)`."""
    if isinstance(arg, ast.Call):
        return getattr(arg.func, "id", None) in ("url_for", "safe_redirect_target")
    if isinstance(arg, ast.BoolOp) and isinstance(arg.op, ast.Or):
        return all(_built_here(v) for v in arg.values)
    return False


def test_every_redirect_goes_through_the_one_check() -> None:
    """No view redirects to anything but url_for(...) or safe_redirect_target(...)."""
    found = _redirect_arguments()
    assert len(found) > 20
    bad = [f"{p}:{line}: redirect({ast.unparse(a)})" for p, line, a in found if not _built_here(a)]
    assert not bad, "redirect targets not built by url_for nor checked by safe_redirect_target:\n" + "\n".join(bad)
