"""Bad input answers a clear 4xx, never 500 (issue 16, point 8): every integer that reaches us from a
URL, a query string, a form or a JSON body goes through one converter (fieldsvc.web.ids.to_db_int)
bounded to what an INTEGER column holds; deeply nested JSON; decompression-bomb images."""
from __future__ import annotations

import ast
import base64
import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from fieldsvc.visits.scope import MAX_DB_INT
from fieldsvc.web.security import DbIntConverter

WEB = Path(__file__).resolve().parents[2] / "fieldsvc" / "web"
HUGE = 2**63
TOO_BIG = [str(HUGE), str(MAX_DB_INT + 1), "9" * 40, "-1", "1e9", "۹۹۹۹۹۹۹۹۹۹۹۹۹۹۹۹۹۹۹۹"]


def _filler(conv) -> str:
    """A value the converter of a non-integer URL part accepts."""
    items = getattr(conv, "items", None)
    return sorted(items)[0] if items else "x"


def test_every_integer_url_part_uses_the_bounded_converter(app, clients) -> None:
    """Each `<int:…>` of the route table, at 2⁶³ (and other numbers no column holds), is not found."""
    sentinel = 7_654_321
    checked = 0
    for rule in app.url_map.iter_rules():
        ints = [name for name, conv in rule._converters.items() if conv.__class__.__name__.endswith("IntConverter")
                or conv.__class__.__name__ == "IntegerConverter"]
        if not ints:
            continue
        for name in ints:
            assert isinstance(rule._converters[name], DbIntConverter), f"{rule.rule}: <{name}> is not bounded"
        values = {a: (sentinel if a in ints else _filler(rule._converters[a])) for a in rule.arguments}
        built = rule.build(values, append_unknown=False)[1].split("|", 1)[-1]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            for raw in (str(HUGE), str(MAX_DB_INT + 1), "9" * 30):
                path = built.replace(str(sentinel), raw)
                r = clients["admin"].open(path, method=method)
                assert r.status_code == 404, f"{method} {path}: {r.status_code}"
                checked += 1
    assert checked > 30


def _api_integers(app) -> list[tuple[str, str, str, str, dict]]:
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    comps = spec.get("components", {}).get("schemas", {})

    def resolve(s: dict) -> dict:
        return comps[s["$ref"].rsplit("/", 1)[-1]] if "$ref" in s else s

    def walk(schema: dict, prefix: str = ""):
        for k, v in (resolve(schema).get("properties") or {}).items():
            v = resolve(v)
            if v.get("type") == "integer":
                yield prefix + k, v
            elif "properties" in v:
                yield from walk(v, f"{prefix}{k}.")
    out = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if method == "parameters":
                continue
            for p in op.get("parameters", []):
                if p["in"] == "query" and p.get("schema", {}).get("type") == "integer":
                    out.append((method, path, "query", p["name"], p["schema"]))
            for content in (op.get("requestBody") or {}).get("content", {}).values():
                out += [(method, path, "body", name, v) for name, v in walk(content.get("schema", {}))]
    return out


def test_every_api_integer_is_bounded(app, tenants, clients) -> None:
    """Every integer the API reads (query or body) declares and enforces a bound an INTEGER holds."""
    found = _api_integers(app)
    assert {n for *_x, n, _s in found} >= {"technician_id", "terminal_id", "technician", "position"}
    for method, path, where, name, schema in found:
        assert schema.get("maximum") is not None and schema["maximum"] <= MAX_DB_INT, \
            f"{method.upper()} {path} {where} '{name}' has no bound (use fieldsvc.web.ids.DbInt)"
        url = path.replace("{call_id}", str(tenants.a.call.id))
        kw = {"query_string": {name: str(HUGE), "date": "2026-11-30"}} if where == "query" else {"json": {name: HUGE}}
        r = clients["admin"].open(url, method=method.upper(), **kw)
        assert r.status_code in (400, 404, 409, 422), f"{method.upper()} {url} {name}={HUGE}: {r.status_code}"


#: Whole numbers the pages read from query strings and forms (the report's cases first).
PAGE_INTEGERS = [
    ("GET", "/psp/unresolved", "contractor", "psp"),
    ("GET", "/psp/penalties", "contractor", "psp"),
    ("GET", "/psp/overdue/pm_overdue", "contractor", "psp"),
    ("GET", "/psp/overdue/installs_late", "contractor", "psp"),
    ("GET", "/psp/work", "key", "psp"),
    ("POST", "/psp/calls/{call}/action", "technician_id", "dispatcher"),
    ("POST", "/psp/calls/{call}/action", "version", "dispatcher"),
    ("POST", "/psp/calls/{call}/assign", "technician_id", "dispatcher"),
    ("POST", "/psp/calls/{call}/assign", "position", "dispatcher"),
    ("POST", "/psp/calls/new", "terminal_id", "psp"),
    ("POST", "/dispatch/visits/{visit}/pin", "technician_id", "dispatcher"),
    ("POST", "/dispatch/horizon", "days", "dispatcher"),
]


@pytest.mark.parametrize("method, path, name, role", PAGE_INTEGERS)
def test_page_integers_are_bounded(app, tenants, clients, method, path, name, role) -> None:
    url = path.format(call=tenants.a.call.id, visit=tenants.a.pm_visit.id)
    for raw in TOO_BIG:
        values = {name: raw, "action": "assign", "list": "em_calls", "contractor": tenants.a.contractor.code,
                  "channel": "phone", "priority": "urgent", "symptom": "printer", "reoptimise": "0"}
        if name == "contractor":
            values.pop("contractor")
            values["contractor"] = raw
        kw = {"query_string": values} if method == "GET" else {"data": values}
        r = clients[role].open(url, method=method, **kw)
        assert r.status_code in (302, 303, 400, 404, 422), f"{method} {url} {name}={raw}: {r.status_code}"
        if r.status_code == 400:
            assert name in r.get_data(as_text=True)


def test_no_page_reads_an_integer_around_the_converter() -> None:
    """Views never call `int(...)` on request data nor `.get(..., type=int)` (unbounded, silent)."""
    bad = []
    for path in WEB.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            text = ast.unparse(node)
            if any(k.arg == "type" and ast.unparse(k.value) == "int" for k in node.keywords):
                bad.append(f"{path.name}:{node.lineno}: {text}")
            elif getattr(node.func, "id", None) == "int" and node.args and any(
                    w in ast.unparse(node.args[0]) for w in ("request.", "form.", "args.", "body[", "body.get")):
                bad.append(f"{path.name}:{node.lineno}: {text}")
    assert not bad, "use fieldsvc.web.ids.request_int / DbInt instead:\n" + "\n".join(bad)


@pytest.mark.parametrize("body", ["[" * 100_000 + "]" * 100_000, '{"a":' * 50 + "1" + "}" * 50],
                         ids=["100000 arrays", "50 objects"])
def test_deeply_nested_json_is_a_clear_400(client, world, body: str) -> None:
    """Anonymous, on the token endpoint and on any page: no recursion error (500)."""
    r = client.post("/api/v1/auth/token", data=body, content_type="application/json")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "json_too_deep"
    for url in ("/login", "/track/EM-1405-00000", "/api/v1/service-calls"):
        r = client.post(url, data=body, content_type="application/json")
        assert r.status_code == 400, f"{url}: {r.status_code}"


def bomb_png(width: int = 20_000, height: int = 20_000) -> bytes:
    """A tiny PNG whose header claims width×height pixels (Pillow's decompression-bomb case)."""
    buf = io.BytesIO()
    Image.new("L", (1, 1)).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    return bytes(data)


@pytest.mark.parametrize("size", [(20_000, 20_000), (8_000, 8_000)], ids=["20000x20000", "8000x8000"])
def test_decompression_bomb_at_intake_is_refused(app, tenants, clients, size) -> None:
    r = clients["psp"].post("/psp/calls/new", data={
        "terminal_serial": tenants.a.merchant.terminals[-1].serial, "channel": "phone", "priority": "urgent",
        "symptom": "printer", "photo": (io.BytesIO(bomb_png(*size)), "big.png", "image/png")},
        content_type="multipart/form-data")
    assert r.status_code == 422 and ("megapixels" in r.get_data(as_text=True) or "مگاپیکسل" in r.get_data(as_text=True))
    assert not (Path(app.config["UPLOAD_DIR"]) / "calls").exists() or not any(
        p.name.endswith(".png") for p in (Path(app.config["UPLOAD_DIR"]) / "calls").iterdir())


@pytest.mark.parametrize("size", [(20_000, 20_000), (8_000, 8_000)], ids=["20000x20000", "8000x8000"])
def test_decompression_bomb_at_check_out_is_refused(tenants, clients, size) -> None:
    data = "data:image/png;base64," + base64.b64encode(bomb_png(*size)).decode()
    r = clients["technician"].post(f"/api/v1/visits/{tenants.a.pm_visit.id}/check-out", json={
        "outcome": "pm_done", "notes": "", "at": "2026-11-30T10:00:00+00:00", "client_event_id": "bomb-000001",
        "photos": [{"filename": "big.png", "data": data}]})
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "photos"
