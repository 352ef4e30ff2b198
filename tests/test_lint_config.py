"""`make lint` and pyproject.toml agree: every tool the lint target runs is pinned to one exact version in the
test extra (a new ruff or mypy release may add findings or reformat code, so an unpinned tool could fail a
build of an unchanged tree), `make test` runs the lint target, and mypy's configured scope exists."""

from __future__ import annotations

import re
import tomllib

from generator.common.paths import ROOT

MAKEFILE = (ROOT / "Makefile").read_text("utf-8")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))


def recipe(target: str) -> tuple[list[str], str]:
    """The prerequisites and the recipe text (its tab-indented lines) of a Makefile target."""
    m = re.search(rf"^{target}:([^\n]*)\n((?:\t[^\n]*\n)*)", MAKEFILE, re.MULTILINE)
    assert m, f"no `{target}` target in the Makefile"
    return m.group(1).split(), m.group(2)


def pins() -> dict[str, str]:
    """name -> version of each ``name==version`` requirement in the test extra."""
    out = {}
    for req in PYPROJECT["project"]["optional-dependencies"]["test"]:
        m = re.fullmatch(r"([A-Za-z0-9._-]+)==([0-9][A-Za-z0-9.]*)", req.strip())
        if m:
            out[m.group(1).lower()] = m.group(2)
    return out


def test_every_lint_tool_is_pinned_exactly():
    _, body = recipe("lint")
    commands = re.findall(r'"((?:ruff|mypy)[^"]*)"', body)
    assert commands, body
    tools = {c.split()[0] for c in commands}
    assert tools == {"ruff", "mypy"}, commands
    assert {"ruff check .", "ruff format --check ."} <= set(commands), commands
    pinned = pins()
    missing = sorted(t for t in tools | {"pandas-stubs"} if t not in pinned)
    assert not missing, f"not pinned with == in the test extra: {missing}"


def test_make_test_runs_lint():
    prerequisites, _ = recipe("test")
    assert "lint" in prerequisites


def test_mypy_scope_exists_and_ruff_width_is_set():
    files = PYPROJECT["tool"]["mypy"]["files"]
    assert files and all((ROOT / f).is_dir() for f in files), files
    assert {"generator/engine", "generator/analysis"} <= set(files)
    assert 100 <= PYPROJECT["tool"]["ruff"]["line-length"] <= 120
