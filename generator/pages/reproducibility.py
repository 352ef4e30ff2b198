"""Page ``reproducibility``: versions, the active config, how to regenerate, and every data file.

Determinism: two builds on the same machine must be byte-identical, so this page uses only values that
do not change between builds: package versions (``importlib.metadata``), the Python version, the
config, and the data files' row counts and SHA-256 digests (the data are seeded, so identical inputs
give identical bytes). No dates, host names, paths outside the repository, or timings.

Table cells that are Markdown (code spans for versions, config values and digests; links to the data
files) are built with :func:`generator.render.filters.code` / :func:`~generator.render.filters.link`, so a config
value or file name is shown as text and never becomes markup; everything else is plain text that
``md_table`` escapes. The config file name is written with the ``code`` filter in the template.
"""

from __future__ import annotations

import importlib.metadata
import platform
import re
import tomllib
from decimal import Decimal
from pathlib import Path

import pandas as pd

from generator.common.hashing import sha256_bytes
from generator.contract import schema as contract
from generator.common.paths import ROOT
from generator.render.filters import code, link
from generator.pages.summary import data_dictionary

DIGEST_CHARS = 16  # shown prefix of each file's SHA-256
# Packages that shape the numbers or the site, in display order; the rest of pyproject's list follows.
KEY_PACKAGES = ("numpy", "pandas", "matplotlib", "mkdocs", "mkdocs-material", "mkdocs-static-i18n", "jinja2",
                "latex2mathml", "pymdown-extensions")
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(.*)$")


def _installed(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "—"


def versions(pyproject: Path = ROOT / "pyproject.toml") -> pd.DataFrame:
    """``package, required, installed``: Python first, then the runtime dependencies of pyproject.toml."""
    with open(pyproject, "rb") as fh:
        proj = tomllib.load(fh)["project"]
    deps = {}
    for spec in proj.get("dependencies", []):
        m = _NAME.match(spec)
        if m:
            deps[m.group(1).lower()] = code(m.group(2).strip()) if m.group(2).strip() else "—"
    order = [p for p in KEY_PACKAGES if p in deps] + sorted(p for p in deps if p not in KEY_PACKAGES)
    rows = [{"package": "python", "required": code(proj["requires-python"]) if "requires-python" in proj else "—",
             "installed": platform.python_version()}]
    rows += [{"package": p, "required": deps[p], "installed": _installed(p)} for p in order]
    return pd.DataFrame(rows)


def _value_text(v) -> str:
    """A config value as it would be written in the TOML file."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value_text(x) for x in v) + "]"
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, float):
        return toml_float(v)
    return str(v)


def toml_float(v: float) -> str:
    """The shortest TOML text that reads back as ``v``: 0.1, 50.0, 1e8, 2.5e-5 (``format(v, "g")``
    would print 1e+08 and cut 0.21544346900318834 to 0.215443)."""
    if v != v or v in (float("inf"), float("-inf")):
        return {"nan": "nan", "inf": "inf", "-inf": "-inf"}[repr(v)]
    text = repr(v)
    if v != 0 and not 1e-4 <= abs(v) < 1e6:
        d = Decimal(text).normalize()
        digits = "".join(map(str, d.as_tuple().digits))
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        text = f"{'-' if v < 0 else ''}{mantissa}e{d.adjusted()}"
    return text


def config_tables(grid) -> list[dict]:
    """One ``{section, df(key, value)}`` per config section the data were computed with (grid.json's
    ``sections``, in the config's order). [output] is not among them: it only says where files go
    (often absolute, machine-specific paths), changes no number, and would make two builds differ."""
    out = []
    for name in grid.sections:
        section = grid[name]
        rows = [{"key": key, "value": code(_value_text(value))} for key, value in section.items()]
        out.append({"section": name, "df": pd.DataFrame(rows)})
    return out


def data_files(data_dir: Path) -> pd.DataFrame:
    """Every contract file present: name, rows, columns, SHA-256 prefix."""
    rows = []
    for name, spec in contract.DATA_FILES.items():
        path = Path(data_dir) / name
        if not path.exists():
            continue
        raw = path.read_bytes()
        n_rows = max(raw.count(b"\n") - 1, 0) if raw.endswith(b"\n") else raw.count(b"\n")
        rows.append({"file": link(code(name), f"data/{name}"), "rows": n_rows, "columns": len(spec.columns),
                     "sha256": code(sha256_bytes(raw)[:DIGEST_CHARS])})
    return pd.DataFrame(rows, columns=["file", "rows", "columns", "sha256"])


def context(data) -> dict:
    grid = data.grid
    return {
        "versions": versions(),
        "config_path": grid.config_path,
        "is_default": grid.default_config,
        "config": config_tables(grid),
        "files": data_files(data.data_dir),
        # the data dictionary of the files that exist (a link to a missing file would fail the strict build)
        "datadict": [f for f in data_dictionary() if (Path(data.data_dir) / f["name"]).exists()],
        "digest_chars": DIGEST_CHARS,
        "seeds": list(grid.propagation.seeds),
        "has_training": "training" in grid.sections,
        "example_only": "init=he,activation=relu",
    }
