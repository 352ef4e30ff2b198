"""The import closure of a module within ``generator``, and a digest of its source: the code part of
every cache key (tasks, stage manifests, figures), found by walking imports, never by a hand-kept list.

Contract
--------
:func:`closure` ``(module)`` returns the names of every module of the package that ``module`` can run:

* every ``import`` / ``from ... import`` statement counts, at module level *and* inside functions and
  classes (``ast.walk`` over the whole file); relative imports are resolved against the importing
  module's package; imports of anything outside ``generator`` are ignored (library versions are a
  separate part of each key, :func:`generator.pipeline.store.environment`);
* ``from pkg import name`` depends on the submodule ``pkg.name`` when that file exists, else on
  ``pkg`` itself (its ``__init__``); ``import a.b.c`` depends on ``a.b.c``;
* a module depends on the ``__init__`` of every package above it (Python runs them first): their
  source is part of the closure, but what such an ``__init__`` imports is followed only when the
  package itself is imported (``import pkg``, ``from pkg import name`` for a non-module name).
  ``__init__`` files are meant to hold a docstring only (issue 13), and a registry's imports are not
  a dependency of the modules it registers;
* dynamic imports (``importlib.import_module(string)``) are invisible: code that dispatches by name
  (the runner's task table, the figure registry) keys on the closure of the module it dispatches *to*.

:func:`code_digest` ``(entry_modules)`` is the SHA-256 over the sorted (module name, source bytes) of
the union of their closures. A module named but absent from the tree contributes its name only.

Cost: each file is parsed once per process and the result memoised by (path, mtime_ns, size) -- a
memo of this process only; digests always hash file *contents*. A warm build computes every key of
the default grid in a few milliseconds after the first walk (``tests/test_store_keys.py``).
``root`` (default: the folder holding this ``generator`` package) lets tests walk a copy of the tree.
"""

from __future__ import annotations

import ast
import os
import re
from functools import lru_cache
from pathlib import Path

from generator.common.hashing import sha256_parts
from generator.common.paths import ROOT

PACKAGE = "generator"
DEFAULT_ROOT = ROOT


def module_file(name: str, root: Path | None = None) -> Path | None:
    """The file defining ``name`` under ``root`` (a package's ``__init__.py``), or None."""
    found = _module_file(name, str(root or DEFAULT_ROOT))
    return Path(found) if found is not None else None


@lru_cache(maxsize=8192)
def _module_file(name: str, root: str) -> str | None:
    # memoised for the process: a module file that appears or disappears while it runs is not seen
    base = os.path.join(root, *name.split("."))
    init = os.path.join(base, "__init__.py")
    if os.path.isfile(init):
        return init
    return base + ".py" if os.path.isfile(base + ".py") else None


def _stat_key(path) -> tuple[str, int, int]:
    st = os.stat(path)
    return str(path), st.st_mtime_ns, st.st_size


@lru_cache(maxsize=4096)
def _read(path: str, mtime_ns: int, size: int) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


# A line that starts (after indentation) with ``import`` or ``from X import``; the statement runs to
# the end of the line (with backslash continuations) or, for ``import (``, to the ``)`` that makes it
# parse (a comment inside the parentheses may hold one). Each candidate is parsed on its own; a
# docstring line that only looks like one ("import calls ...") fails to parse and is dropped. Parsing
# candidates instead of whole files is what keeps the walk cheap (ast.parse of the package is ~30x
# slower); a docstring holding a *valid* import statement counts as one, which can only add a
# dependency, never hide one (tests/test_store_keys.py compares the two on the whole package).
_HEAD = re.compile(r"^[ \t]*(?:from[ \t]+[\w.]+[ \t]+import|import)(?=[ \t(])[ \t]*(\(?)", re.M)
_LINE = re.compile(r"[^\n]*(?:\\\n[^\n]*)*")


def _statements(snippet: str) -> list:
    try:
        return ast.parse(snippet).body
    except SyntaxError:
        return []


def _candidate(text: str, head: re.Match) -> list:
    start = head.start() + len(head.group(0)) - len(head.group(0).lstrip())
    if not head.group(1):  # one line (+ backslash continuations)
        return _statements(text[start : _LINE.match(text, head.end()).end()])  # type: ignore[union-attr]  # _LINE matches ''
    close = head.end()
    for _ in range(64):
        close = text.find(")", close)
        if close < 0:
            return []
        found = _statements(text[start : close + 1])
        if found:
            return found
        close += 1
    return []


@lru_cache(maxsize=4096)
def _import_statements(path: str, mtime_ns: int, size: int) -> tuple:
    """Every import in the file as ``(level, module or "", (names...))``; ``import a.b`` is ``(0, "a.b", ())``."""
    text = _read(path, mtime_ns, size).decode("utf-8")
    out: list[tuple[int, str, tuple[str, ...]]] = []
    for head in _HEAD.finditer(text):
        for node in _candidate(text, head):
            if isinstance(node, ast.Import):
                out += [(0, alias.name, ()) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                out.append((node.level, node.module or "", tuple(a.name for a in node.names)))
    return tuple(out)


def ast_import_statements(path: Path) -> tuple:
    """The same list from a full parse of the file (slow; the tests compare it with the fast scan)."""
    out: list[tuple[int, str, tuple[str, ...]]] = []
    for node in ast.walk(ast.parse(Path(path).read_bytes())):
        if isinstance(node, ast.Import):
            out += [(0, alias.name, ()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            out.append((node.level, node.module or "", tuple(a.name for a in node.names)))
    return tuple(out)


def _in_package(name: str) -> bool:
    return name == PACKAGE or name.startswith(PACKAGE + ".")


def direct_imports(name: str, root: Path | None = None) -> frozenset[str]:
    """The package modules ``name`` imports itself (resolved; outside modules dropped)."""
    path = module_file(name, root)
    if path is None:
        return frozenset()
    return _resolve(name, str(root or DEFAULT_ROOT), _stat_key(path))


@lru_cache(maxsize=4096)
def _resolve(name: str, root: str, stat: tuple) -> frozenset[str]:
    is_package = stat[0].endswith("__init__.py")
    found: set[str] = set()
    for level, module, names in _import_statements(*stat):
        if level:
            parts = name.split(".") if is_package else name.split(".")[:-1]
            parts = parts[: len(parts) - (level - 1)]
            base = ".".join(parts + ([module] if module else []))
        else:
            base = module
        if not _in_package(base):
            continue
        if not names:
            found.add(base)
            continue
        for n in names:
            sub = f"{base}.{n}"
            found.add(sub if n != "*" and module_file(sub, Path(root)) is not None else base)
    found.discard(name)
    return frozenset(found)


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


_CLOSURES: dict = {}  # (name, root) -> (closure, ((module, stat key), ...)) of this process


def _members_stat(members) -> tuple:
    return tuple((m, _stat_key(f) if (f := _module_file(m, root)) is not None else None) for m, root in members)


def closure(name: str, root: Path | None = None) -> frozenset[str]:
    """``name`` plus every package module it can run (see the module docstring for the rules)."""
    root_s = str(root or DEFAULT_ROOT)
    memo = _CLOSURES.get((name, root_s))
    if memo is not None and _members_stat((m, root_s) for m in sorted(memo[0])) == memo[1]:
        return memo[0]  # no file of the closure changed since it was walked
    seen: set[str] = set()
    todo = [name]
    while todo:
        mod = todo.pop()
        if mod in seen:
            continue
        seen.add(mod)
        todo += [m for m in direct_imports(mod, root) if m not in seen]
    result = frozenset(seen | {p for m in seen for p in _parents(m) if _in_package(p)})
    _CLOSURES[(name, root_s)] = (result, _members_stat((m, root_s) for m in sorted(result)))
    return result


def closure_of_all(names, root: Path | None = None) -> frozenset[str]:
    out: set[str] = set()
    for n in names:
        out |= closure(n, root)
    return frozenset(out)


def code_digest(entry_modules, root: Path | None = None) -> str:
    """SHA-256 over the sorted (module name, source bytes) of the union of the entries' closures."""
    return digest_modules(closure_of_all(entry_modules, root), root)


def digest_modules(modules, root: Path | None = None) -> str:
    """SHA-256 over the sorted (module name, source bytes) of exactly ``modules`` (a closure)."""
    root_s = str(root or DEFAULT_ROOT)
    return _digest(_members_stat((m, root_s) for m in sorted(modules)))


@lru_cache(maxsize=1024)
def _digest(items: tuple) -> str:
    def parts():
        for mod, stat in items:
            yield mod.encode() + b"\0"
            if stat is not None:
                data = _read(*stat)
                yield len(data).to_bytes(8, "little")
                yield data

    return sha256_parts(parts())
