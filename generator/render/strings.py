"""The ko/en strings catalog: ``templates/strings/{ko,en}.toml``.

Short, reusable text lives here (navigation titles, figure titles, axis labels, captions, alt text,
table headers, glossary); page prose lives in the per-language page templates. Both catalogs must
hold exactly the same keys (tests/test_strings.py). Lookups use dotted keys; a missing key raises
``KeyError`` naming the key and the language, so a build never ships a blank label.

Plain text or Markdown. A value is PLAIN TEXT unless it is marked as Markdown in the catalog: its key
ends in ``_md`` (``training.pending_md``), or its table -- or a table around it -- holds
``_markdown = true`` (``[references.role]``). On a page (:func:`t_page`, the templates' ``t()``) plain
text is escaped for HTML-in-Markdown (generator.render.markdown.escape_md): ``< > & " [ ] { } ` \\ |`` show
as written and can never become HTML, a link, an attribute list or a code span (``*``/``_`` emphasis
is left alone: harmless; an HTML entity such as ``&nbsp;`` is kept as an entity). A Markdown value
is written in this repository (code spans, emphasis, links) and still checked at render time
(generator.render.filters.check_markdown): a javascript:/vbscript:/data: link, raw HTML beyond a few inline
tags, or an attribute list with an event handler fails the render with an error naming the key.
Format arguments (``{name}``) are escaped in both kinds unless they are Markup (another ``t()``
value, math). :func:`t` (figures, Python page code) returns the raw text; what Python puts into a
page table from it is escaped by ``md_table``.
"""

from __future__ import annotations

import functools
import string
import tomllib
from pathlib import Path
from typing import Any

from generator.common.languages import LANGUAGES
from generator.common.paths import STRINGS_DIR

MARKDOWN_SUFFIX = "_md"  # a key ending in this marks its value as trusted Markdown
MARKDOWN_MARKER = "_markdown"  # `_markdown = true` in a table marks all of its values as Markdown


def catalog_files(lang: str) -> list[Path]:
    """``<lang>.toml`` first, then ``<lang>/*.toml`` (one file per page or area) in name order."""
    return [STRINGS_DIR / f"{lang}.toml", *sorted((STRINGS_DIR / lang).glob("*.toml"))]


@functools.cache
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


def _lookup(lang: str, key: str) -> str:
    node = load(lang)
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(f"missing translation key {key!r} for language {lang!r}")
        node = node[part]
    if not isinstance(node, str):
        kind = "a table" if isinstance(node, dict) else f"a {type(node).__name__}"
        raise KeyError(f"translation key {key!r} for language {lang!r} is {kind}, not a string")
    return node


def t(lang: str, key: str, **fmt) -> str:
    """Look up dotted ``key`` (e.g. ``"fig.layer_std.title"``) and ``str.format`` it with ``fmt``.

    The raw catalog text, for figures and Python code; pages use :func:`t_page`."""
    node = _lookup(lang, key)
    return node.format(**fmt) if fmt else node


def is_markdown_key(lang: str, key: str) -> bool:
    """Whether ``key``'s value is trusted Markdown: a part of the key ends in ``_md``, or a table on
    its path sets ``_markdown = true``."""
    node = load(lang)
    for part in key.split("."):
        if part.endswith(MARKDOWN_SUFFIX) or (isinstance(node, dict) and node.get(MARKDOWN_MARKER) is True):
            return True
        node = node.get(part) if isinstance(node, dict) else None
    return False


class _EscapingFormatter(string.Formatter):
    """``str.format`` for plain-text catalog values: the literal text and every argument escaped
    (arguments that are Markup -- another t() value, math -- kept)."""

    def parse(self, format_string):
        from generator.render.markdown import escape_md

        for literal, field, spec, conversion in super().parse(format_string):
            yield str(escape_md(literal)), field, spec, conversion

    def format_field(self, value: Any, format_spec: str) -> str:
        from generator.render.markdown import escape_md

        if hasattr(value, "__html__"):
            return str(value.__html_format__(format_spec) if hasattr(value, "__html_format__") else value.__html__())
        return str(escape_md(super().format_field(value, format_spec)))


def t_page(lang: str, key: str, **fmt):
    """:func:`t` for a page: a :class:`generator.render.filters.Md` safe to put into the Markdown.

    Plain-text values are escaped (generator.render.markdown.escape_md); values of ``_md`` keys are Markdown,
    checked by generator.render.filters.check_markdown (an error names the key and the language). Format
    arguments are escaped in both unless they are Markup."""
    from generator.render.markdown import Md, check_markdown, escape_md

    node = _lookup(lang, key)
    if is_markdown_key(lang, key):
        text = Md(node).format(**fmt) if fmt else Md(node)
        return check_markdown(text, f"translation key {key!r} for language {lang!r}")
    if not fmt:
        return escape_md(node)
    return Md(_EscapingFormatter().vformat(node, (), fmt))


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
