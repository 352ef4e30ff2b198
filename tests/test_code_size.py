"""Files readable in one sitting: no function over 100 lines, no module over 400 lines.

Counted from the AST (a function's span from ``def`` to its last line, docstring and comments included;
a module's physical lines). ``KNOWN_LONG`` lists what is still over the limit; the list may only
shrink: a listed entry that fits now fails too, so that it is removed.
"""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "generator"
MAX_FUNCTION, MAX_MODULE = 100, 400

KNOWN_LONG: set[str] = set()


def too_long() -> set[str]:
    out = set()
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG.parent).as_posix()
        src = path.read_text("utf-8")
        if len(src.splitlines()) > MAX_MODULE:
            out.add(rel)
        for node in ast.walk(ast.parse(src)):
            is_function = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            if is_function and node.end_lineno - node.lineno + 1 > MAX_FUNCTION:
                out.add(f"{rel}:{node.name}")
    return out


def test_functions_and_modules_fit_in_one_sitting():
    found = too_long()
    assert not found - KNOWN_LONG, (
        f"over the limit ({MAX_FUNCTION} lines a function, {MAX_MODULE} a module): {sorted(found - KNOWN_LONG)}"
    )
    assert not KNOWN_LONG - found, f"fits now, remove from KNOWN_LONG: {sorted(KNOWN_LONG - found)}"


def test_the_counter_sees_a_long_function(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION))
    tree = ast.parse(f"def f():\n{body}\n")
    node = tree.body[0]
    assert node.end_lineno - node.lineno + 1 == MAX_FUNCTION + 1
