"""Areas import each other at the top of the module (docs/architecture.md): an import of a dbox
module inside a function is only there to defer a heavy third-party library it loads, or, inside
one area, where the imported module builds on the importing one; its line says which.

The command modules (and cli.py) are the exception: they import their area inside each command so
that ``dbox --help`` loads none (tests/test_cli_startup.py)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "dbox"


def _function_local_dbox_imports():
    """(file, line, statement, source line) of each import of a dbox module inside a function."""
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        if rel.parts[0] in ("commands", "testing") or rel.as_posix() == "cli.py":
            continue
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()

        def walk(node, in_function):
            for child in ast.iter_child_nodes(node):
                if in_function and isinstance(child, (ast.Import, ast.ImportFrom)):
                    if isinstance(child, ast.Import):
                        ours = any(a.name == "dbox" or a.name.startswith("dbox.") for a in child.names)
                    else:
                        ours = child.level > 0 or (child.module or "").split(".")[0] == "dbox"
                    if ours:
                        yield rel, child.lineno, ast.unparse(child), lines[child.end_lineno - 1]
                yield from walk(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)))

        yield from walk(ast.parse(text, filename=str(path)), False)


def test_function_local_imports_of_dbox_modules_say_why():
    silent = [f"{rel}:{line}: {statement}" for rel, line, statement, source in _function_local_dbox_imports()
              if "#" not in source]
    assert not silent, ("import these at the top of the module (or, if they load a heavy library or the "
                        "module builds on this one, say so in a comment on the line):\n" + "\n".join(silent))


def test_the_check_sees_a_function_local_import():
    """The walk above finds what it looks for: the deferred Datasette plugin is one."""
    found = {(rel.as_posix(), statement) for rel, _, statement, _ in _function_local_dbox_imports()}
    assert ("insights/browse.py", "from dbox.insights import datasette_plugin") in found
