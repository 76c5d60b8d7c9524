"""The layering of docs/architecture.md, kept true: the areas of src/dbox import one way (no cycle,
nothing reaching up a layer), function-local imports included, and SQL runs only in dbox.store."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "dbox"

# docs/architecture.md's layers, lowest first: an area imports its own layer (without a cycle) or
# lower ones. A new area not listed here counts as a feature area (the "features" layer) when it is
# a package, as a base helper when it is a top-level module.
LAYERS = [
    ("base", {"errors", "paths", "console", "text", "numbers", "masking", "readers", "normalize", "geo",
              "config", "secrets", "output", "files", "streets", "hookspecs", "plugins"}),
    ("language", {"filters"}),
    ("store", {"store"}),
    ("services", {"channels", "privacy"}),
    ("selection", {"segments"}),
    ("intake", {"importing", "electoral"}),
    ("sending", {"sending"}),
    ("features", {"social", "organizing", "insights", "forms"}),
    ("live", {"serve"}),
    ("interface", {"commands", "cli", "__main__"}),
]
RANK = {area: i for i, (_, areas) in enumerate(LAYERS) for area in areas}
FEATURES = next(i for i, (name, _) in enumerate(LAYERS) if name == "features")


def rank(area: str) -> int:
    return RANK.get(area, 0 if (SRC / f"{area}.py").is_file() else FEATURES)
# Datasette runs the facet queries of dbox.store.insights through its own API (``self.ds.execute``).
SQL_ALLOWED = {("insights/datasette_plugin.py", "self.ds")}


@functools.lru_cache(maxsize=1)
def _modules():
    """(path, relative path, syntax tree) of every module of the app, parsed once per process (the
    checks below read the same trees: parsing and walking them is seconds of CPU each time)."""
    modules = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        if rel.parts[0] == "testing":   # test helpers shipped in the package, not part of the app
            continue
        modules.append((path, rel, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))))
    return tuple(modules)


def _area(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) < 2 or parts[0] != "dbox":
        return None
    name = parts[1]
    return name if (SRC / name).is_dir() or (SRC / f"{name}.py").is_file() else None


def _imports(rel: Path, tree: ast.AST):
    """(imported module, line) for every import of the file, wherever it stands."""
    package = ["dbox", *rel.with_suffix("").parts]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:-node.level]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                yield f"{module}.{alias.name}", node.lineno


def area_edges() -> dict[tuple[str, str], list[str]]:
    """(from area, to area) -> where: ``file:line`` of each import that makes the edge."""
    edges: dict[tuple[str, str], list[str]] = {}
    for _, rel, tree in _modules():
        me = rel.parts[0].removesuffix(".py")
        for module, line in _imports(rel, tree):
            other = _area(module)
            if other and other != me:
                edges.setdefault((me, other), []).append(f"{rel}:{line}")
    return edges


def _cycles(edges) -> list[list[str]]:
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_areas_form_a_dag():
    edges = area_edges()
    cycles = _cycles(edges)
    detail = [f"{a} -> {b}: {', '.join(where[:3])}" for cycle in cycles for (a, b), where in sorted(edges.items())
              if a in cycle and b in cycle]
    assert not cycles, "cycle between areas: " + " | ".join(" <-> ".join(c) for c in cycles) + "\n" + "\n".join(detail)


def test_no_area_imports_a_higher_layer():
    upward = [f"{a} ({LAYERS[rank(a)][0]}) -> {b} ({LAYERS[rank(b)][0]}): " + ", ".join(where[:3])
              for (a, b), where in sorted(area_edges().items()) if rank(a) < rank(b)]
    assert not upward, "imports that reach up a layer (see docs/architecture.md):\n" + "\n".join(upward)


@functools.lru_cache(maxsize=1)
def _outside_store():
    """(file, node) for every node of every module outside dbox/store/ (walked once per process)."""
    return tuple((rel, node) for _, rel, tree in _modules() if rel.parts[0] != "store" for node in ast.walk(tree))


def _is_sql_call(rel: Path, node: ast.AST) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("execute", "executemany", "executescript")
            and (rel.as_posix(), ast.unparse(node.func.value)) not in SQL_ALLOWED)


def test_sql_runs_only_in_the_store():
    found = [f"{rel}:{node.lineno}: {ast.unparse(node.func)}(...)" for rel, node in _outside_store()
             if _is_sql_call(rel, node)]
    assert not found, "SQL outside dbox.store (add a function to dbox/store/ instead):\n" + "\n".join(found)


def test_sqlite_errors_stay_in_the_store():
    """sqlite3's exceptions become dbox errors in dbox.store; areas catch those."""
    found = [f"{rel}:{node.lineno}: except {ast.unparse(node.type)}" for rel, node in _outside_store()
             if isinstance(node, ast.ExceptHandler) and node.type is not None and "sqlite3." in ast.unparse(node.type)]
    assert not found, "sqlite3 errors caught outside dbox.store:\n" + "\n".join(found)


def test_areas_never_reach_the_raw_connection():
    """The store hands out no connection: areas call dbox.store functions (``store.conn`` stays inside)."""
    found = [f"{rel}:{node.lineno}: store.conn" for rel, node in _outside_store()
             if isinstance(node, ast.Attribute) and node.attr == "conn" and ast.unparse(node.value) == "store"]
    assert not found, "raw store connection used outside dbox.store:\n" + "\n".join(found)


@pytest.mark.parametrize("doc", ["docs/architecture.md"])
def test_the_map_names_every_area(doc):
    text = (SRC.parent.parent / doc).read_text(encoding="utf-8")
    missing = [area for _, areas in LAYERS for area in sorted(areas) if f"`{area}`" not in text]
    assert not missing, f"{doc} does not place: {', '.join(missing)}"
