"""The ko/en strings catalog: ``templates/strings/{ko,en}.toml``.

Short, reusable text lives here (navigation titles, figure titles, axis labels, captions, alt text,
table headers, glossary); page prose lives in the per-language page templates. Both catalogs must
hold exactly the same keys (tests/test_strings.py). Lookups use dotted keys; a missing key raises
``KeyError`` naming the key and the language, so a build never ships a blank label.
"""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path

LANGUAGES = ("ko", "en")
STRINGS_DIR = Path(__file__).resolve().parent.parent / "templates" / "strings"


def catalog_files(lang: str) -> list[Path]:
    """``<lang>.toml`` first, then ``<lang>/*.toml`` (one file per page or area) in name order."""
    return [STRINGS_DIR / f"{lang}.toml", *sorted((STRINGS_DIR / lang).glob("*.toml"))]


@functools.lru_cache(maxsize=None)
def load(lang: str) -> dict:
    """Return the nested catalog for ``lang`` (one of LANGUAGES), merged from its files.

    A top-level table may be defined in one file only: a second definition raises, so two
    areas can never silently overwrite each other's labels.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; valid: {', '.join(LANGUAGES)}")
    merged: dict = {}
    origin: dict[str, Path] = {}
    for path in catalog_files(lang):
        if not path.exists():
            continue
        with open(path, "rb") as fh:
            part = tomllib.load(fh)
        for key, value in part.items():
            if key in merged:
                raise ValueError(f"strings: top-level key {key!r} defined in both {origin[key].name} and {path.name}")
            merged[key] = value
            origin[key] = path
    return merged


def t(lang: str, key: str, **fmt) -> str:
    """Look up dotted ``key`` (e.g. ``"fig.layer_std.title"``) and ``str.format`` it with ``fmt``."""
    node = load(lang)
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(f"missing translation key {key!r} for language {lang!r}")
        node = node[part]
    if not isinstance(node, str):
        raise KeyError(f"translation key {key!r} for language {lang!r} is a table, not a string")
    return node.format(**fmt) if fmt else node


def flat_keys(lang: str) -> set[str]:
    """All dotted leaf keys of a catalog (used to check ko/en parity)."""
    out: set[str] = set()

    def walk(node: dict, prefix: str) -> None:
        for k, v in node.items():
            key = f"{prefix}{k}"
            if isinstance(v, dict):
                walk(v, key + ".")
            else:
                out.add(key)

    walk(load(lang), "")
    return out
