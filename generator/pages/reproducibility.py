"""Page ``reproducibility``: versions, the active config, how to regenerate, and every data file.

Determinism: two builds on the same machine must be byte-identical, so this page uses only values that
do not change between builds: package versions (``importlib.metadata``), the Python version, the
config, and the data files' row counts and SHA-256 digests (the data are seeded, so identical inputs
give identical bytes). No dates, host names, paths outside the repository, or timings.

Table cells that are Markdown (code spans for versions, config values and digests; links to the data
files) are built with :func:`generator.render.filters.code` / :func:`~generator.render.filters.link`, so a config
value or file name is shown as text and never becomes markup; everything else is plain text that
``md_table`` escapes. The config file name is written with the ``code`` filter in the template.

The "how to cite" box is read from ``CITATION.cff`` at render time (:func:`citation`): the page shows
what that file says, as plain text and as BibTeX, and nothing the file does not hold (no year without
``date-released``, no DOI or URL without ``doi`` / ``repository-code``), so the two can never disagree.
"""

from __future__ import annotations

import importlib.metadata
import platform
import re
import tomllib
from decimal import Decimal
from pathlib import Path

import pandas as pd
import yaml

from generator.common.hashing import sha256_bytes
from generator.common.paths import ROOT
from generator.contract import schema as contract
from generator.contract.datapackage import LICENSE, PACKAGE_FILE
from generator.contract.licences import LICENCES
from generator.pages.summary import data_dictionary
from generator.render.filters import code, link

DIGEST_CHARS = 16  # shown prefix of each file's SHA-256
# Packages that shape the numbers or the site, in display order; the rest of pyproject's list follows.
KEY_PACKAGES = (
    "numpy",
    "pandas",
    "matplotlib",
    "mkdocs",
    "mkdocs-material",
    "mkdocs-static-i18n",
    "jinja2",
    "latex2mathml",
    "pymdown-extensions",
)
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
    rows = [
        {
            "package": "python",
            "required": code(proj["requires-python"]) if "requires-python" in proj else "—",
            "installed": platform.python_version(),
        }
    ]
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
        rows.append(
            {
                "file": link(code(name), f"data/{name}"),
                "rows": n_rows,
                "columns": len(spec.columns),
                "sha256": code(sha256_bytes(raw)[:DIGEST_CHARS]),
            }
        )
    return pd.DataFrame(rows, columns=["file", "rows", "columns", "sha256"])


CITATION_FILE = ROOT / "CITATION.cff"
# The licences CITATION.cff may name: generator/contract/licences.py (code MIT, the rest CC BY 4.0).


def _person(author: dict, bibtex: bool) -> str:
    """One CFF author: an entity (``name``) kept whole, in BibTeX braced so it is not split into
    first/last names; a person as "Given Family" (plain) or "Family, Given" (BibTeX)."""
    if "name" in author:
        return f"{{{author['name']}}}" if bibtex else author["name"]
    family = " ".join(str(author[k]) for k in ("name-particle", "family-names") if author.get(k))
    given = str(author.get("given-names", ""))
    if bibtex:
        return f"{family}, {given}" if given else family
    return f"{given} {family}".strip()


def citation(path: Path = CITATION_FILE) -> dict:
    """``{plain, bibtex}``: the citation of ``CITATION.cff`` as one line of text and as a BibTeX
    ``@software`` entry (key: the title up to its first colon, lower-case alphanumerics)."""
    cff = yaml.safe_load(Path(path).read_text("utf-8"))
    authors = cff["authors"]
    licences = cff.get("license", [])
    licences = [licences] if isinstance(licences, str) else list(licences)
    if len(licences) != 2 or any(lic not in LICENCES for lic in licences):
        raise ValueError(f"{path}: license must be [code licence, content licence] of {sorted(LICENCES)}")
    year = str(cff["date-released"])[:4] if cff.get("date-released") else None
    url = cff.get("repository-code") or cff.get("url")
    doi = cff.get("doi")
    plain = ", ".join(_person(a, False) for a in authors)
    plain += f" ({year})" if year else ""
    plain += f". {cff['title']}."
    plain += f" Version {cff['version']}." if cff.get("version") else ""
    plain += f" https://doi.org/{doi}" if doi else ""
    plain += f" {url}" if url and not doi else ""
    fields = [
        ("author", " and ".join(_person(a, True) for a in authors)),
        ("title", cff["title"]),
        ("version", cff.get("version")),
        ("year", year),
        ("doi", doi),
        ("url", url),
        ("license", ", ".join(licences) or None),
    ]
    key = re.sub(r"[^a-z0-9]", "", cff["title"].split(":")[0].lower()) or "software"
    # author in quotes, not braces: an entity's protecting braces would otherwise open the value with
    # "{{", which reads as template syntax (and is the same BibTeX)
    body = ",\n".join(
        f'  {name} = "{value}"' if name == "author" else f"  {name} = {{{value}}}" for name, value in fields if value
    )
    return {
        "plain": plain,
        "bibtex": f"@software{{{key},\n{body}\n}}",
        "code_licence": LICENCES[licences[0]],
        "content_licence": LICENCES[licences[1]],
    }


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
        # data/datapackage.json is linked only when present (a link to a missing file fails the strict build)
        "datapackage": (
            {"path": PACKAGE_FILE, "license": LICENSE["name"]}
            if (Path(data.data_dir) / PACKAGE_FILE).is_file()
            else None
        ),
        "seeds": list(grid.propagation.seeds),
        "has_training": "training" in grid.sections,
        "example_only": "init=he,activation=relu",
        "citation": citation(),
    }
