"""The rooms of `fieldsvc.visits` import each other only downwards, and no business code reads
Flask's application, request or `g` (README "Layout")."""
from __future__ import annotations

import ast
from pathlib import Path

VISITS = Path(__file__).resolve().parents[2] / "fieldsvc" / "visits"
#: Bottom to top: a room may import the shared root and the rooms before it, never one after it.
ORDER = ("master", "contracts", "stock", "orders", "plans", "desk", "field", "history", "scorecards")
FLASK_STATE = {"current_app", "g", "request", "session", "has_app_context", "has_request_context"}


def _imports(path: Path) -> list[ast.ImportFrom | ast.Import]:
    return [n for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, (ast.Import, ast.ImportFrom))]


def _room(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[:2] == ["fieldsvc", "visits"] and parts[2] in ORDER else None


def test_rooms_import_only_downwards():
    upward = []
    for path in VISITS.rglob("*.py"):
        here = path.relative_to(VISITS).parts
        mine = here[0] if here[0] in ORDER else None
        for node in _imports(path):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for name in names:
                other = _room(name)
                if other is None:
                    continue
                if mine is None or ORDER.index(other) > ORDER.index(mine):
                    upward.append(f"{'/'.join(here)} imports {name}")
    assert upward == []


def test_business_code_reads_no_flask_state():
    readers = []
    for path in VISITS.rglob("*.py"):
        for node in _imports(path):
            if isinstance(node, ast.ImportFrom) and node.module == "flask":
                readers += [f"{path.relative_to(VISITS)}: {a.name}" for a in node.names if a.name in FLASK_STATE]
            if isinstance(node, ast.Import) and any(a.name == "flask" for a in node.names):
                readers.append(f"{path.relative_to(VISITS)}: import flask")
    assert readers == []


def test_no_import_cycles_between_modules():
    """Imports inside fieldsvc.visits, deferred ones in functions included, form no cycle (calls,
    slotting and notify once needed deferred imports to get round theirs)."""
    graph: dict[str, set[str]] = {}
    for path in VISITS.rglob("*.py"):
        name = ".".join(("fieldsvc", "visits", *path.relative_to(VISITS).with_suffix("").parts)).removesuffix(".__init__")
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("fieldsvc.visits"):
                deps.add(node.module)
                deps.update(f"{node.module}.{a.name}" for a in node.names)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name.startswith("fieldsvc.visits"))
        graph[name] = deps
    graph = {k: {d for d in v if d in graph and d != k} for k, v in graph.items()}
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" → ".join(trail[trail.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    assert cycles == []
