"""The report's Jinja environment: ``templates/pages/<name>.<lang>.md.j2`` -> Markdown strings.

One strict Jinja2 :class:`~jinja2.Environment` for the whole site (:func:`environment`):
``FileSystemLoader(templates/)``, ``StrictUndefined``, ``trim_blocks``, ``lstrip_blocks``,
``keep_trailing_newline``, autoescape off (the output is Markdown, not HTML). A missing variable or a
missing translation key fails the render with a :class:`RenderError` naming the template, the line
and the name (``template pages/x.ko.md.j2, line 3: 'foo' is undefined``), so a build never ships a
blank.

Per page the template sees the shared ``context`` (language-independent data computed in Python:
numbers, DataFrames, file names) plus ``lang``; the globals ``t(key, **fmt)`` (the strings catalog,
bound to the page language through ``lang``) and ``languages``; and the filters of
:mod:`generator.render.filters` (``num``, ``pct``, ``math``, ``mathblock``, ``md_table``). Shared macros
live in ``templates/macros/report.j2`` and are imported *with context* so they see ``lang``::

    {% import "macros/report.j2" as m with context %}
    {{ m.figure("layer_std", t("fig.layer_std.caption"), t("fig.layer_std.alt")) }}

Design decision: ONE PROSE TEMPLATE PER PAGE PER LANGUAGE, sharing macros, plus a ko/en STRINGS
CATALOG for short labels.
  * Natural Korean is not a sentence-by-sentence translation of English: word order, where the
    number goes in a sentence, how a caveat is hedged, and paragraph rhythm differ. Interleaving
    ``{% if lang == "ko" %}`` per sentence (or one template with ``t()`` for every sentence) forces
    both languages into the same sentence skeleton and makes the prose unreadable to edit. So each
    language gets its own page template, written by a person, reading like native text.
  * Everything that *must* be identical is not prose and is shared: the numbers (computed once in
    Python and formatted by the same filters), figures/tables/CSV links/math (the same macros),
    anchors (``fig-<name>``, ``tbl-<name>`` -- language-independent, so links survive a language
    switch). Short labels that appear in several places (nav titles, captions, alt text, table
    headers, glossary terms) live in ``templates/strings/{ko,en}.toml`` with identical keys
    (tests/test_strings.py), looked up with ``t()``; a missing key fails the build.
  * Drift between the two prose templates is the risk of this design; it is contained by a parity
    test (tests/test_render.py::test_language_parity) that renders every page in both languages
    and compares the heading structure (levels and explicit ids) and the number of figures,
    tables, CSV links and math blocks.

This module renders to strings and writes no file; :mod:`generator.pipeline.render_stage` writes the
pages into ``<docs_dir>`` and keeps the manifest.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jinja2

from generator.common.languages import LANGUAGES
from generator.common.paths import TEMPLATES_DIR
from generator.render import filters as _filters
from generator.render import strings as _strings
from generator.render import wording as _wording
from generator.render.jinja_cache import CheckedBytecodeCache

PAGES_DIR = "pages"
_PAGE_RE = re.compile(r"^(?P<name>.+)\.(?P<lang>[a-z]{2})\.md\.j2$")


class RenderError(RuntimeError):
    """A page failed to render; the message names the template, line and cause."""


@jinja2.pass_context
def _t(ctx: jinja2.runtime.Context, key: str, **fmt: Any) -> str:
    """``t("nav.index")`` in the page's language (``lang`` of the render context), escaped for the
    page: plain text escaped, ``_md`` keys checked Markdown (:func:`generator.render.strings.t_page`)."""
    lang = ctx.get("lang")
    if lang is None:
        raise KeyError(f"t({key!r}) called where 'lang' is not defined (import macros 'with context')")
    return _strings.t_page(lang, key, **fmt)


def environment(templates_dir: Path | None = None, bytecode_dir: Path | None = None) -> jinja2.Environment:
    """The one strict Environment on ``templates_dir`` (default: the repo's ``templates/``).

    ``bytecode_dir``: where compiled templates are kept between runs. Compiling the page templates
    is most of the render stage's Jinja time (~1.3 s of 1.6 s); Jinja keys each entry by the template
    source's checksum, so an edited template is recompiled and an unchanged one is not.

    Escaping: Jinja's autoescape stays off (it would HTML-escape the Markdown the templates write),
    and text that is not template Markdown is escaped where it enters: ``t()`` returns escaped text
    (``_md`` keys: checked Markdown), the macros pass captions, alt text, labels and titles through
    ``esc``/``alt``, ``md_table`` escapes its cells, and templates write data as ``{{ x | esc }}``,
    ``{{ x | code }}`` or ``{{ x | url }}`` (generator/render/filters.py, "Escaping").
    """
    bcc = None
    if bytecode_dir is not None:
        bytecode_dir.mkdir(parents=True, exist_ok=True)
        bcc = CheckedBytecodeCache(str(bytecode_dir))  # checksummed entries (generator/render/jinja_cache.py)
    env = jinja2.Environment(
        bytecode_cache=bcc,
        loader=jinja2.FileSystemLoader(str(templates_dir or TEMPLATES_DIR)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
        auto_reload=False,
    )
    env.globals["t"] = _t
    env.globals["languages"] = LANGUAGES
    _filters.register(env)
    _wording.register(env)  # cfg (config values as written), points, agree
    return env


def discover_pages(templates_dir: Path | None = None) -> dict[str, list[str]]:
    """``{page name: [languages]}`` for every ``pages/<name>.<lang>.md.j2`` (names may hold '/')."""
    base = (templates_dir or TEMPLATES_DIR) / PAGES_DIR
    found: dict[str, list[str]] = {}
    for path in sorted(base.rglob("*.md.j2")):
        rel = path.relative_to(base).as_posix()
        m = _PAGE_RE.match(rel)
        if not m:
            raise RenderError(f"template {PAGES_DIR}/{rel}: name must be <page>.<lang>.md.j2")
        found.setdefault(m["name"], []).append(m["lang"])
    return found


def _template_line(exc: BaseException, template_name: str | None) -> int | None:
    """The template line of the innermost frame of ``exc``'s traceback that is in a template."""
    line = getattr(exc, "lineno", None)
    tb = exc.__traceback__
    while tb is not None:
        fname = tb.tb_frame.f_code.co_filename
        if fname.endswith(".j2") or (template_name and fname.endswith(template_name)):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _describe(exc: BaseException) -> str:
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])
    return str(exc) or type(exc).__name__


def render_page(env: jinja2.Environment, name: str, lang: str, context: dict[str, Any]) -> str:
    """Render one page template to a string, wrapping any failure in :class:`RenderError`."""
    template_name = f"{PAGES_DIR}/{name}.{lang}.md.j2"
    reserved = {"lang", "t"} & set(context)
    if reserved:
        raise RenderError(
            f"template {template_name}: context must not define {sorted(reserved)} (set per page by the renderer)"
        )
    try:
        template = env.get_template(template_name)
        return template.render({**context, "lang": lang})
    except jinja2.TemplateSyntaxError as exc:
        where = exc.name or exc.filename or template_name
        raise RenderError(f"template {where}, line {exc.lineno}: syntax error: {exc.message}") from exc
    except jinja2.TemplateNotFound as exc:
        raise RenderError(f"template {template_name}: template not found: {exc.name}") from exc
    except Exception as exc:  # UndefinedError, KeyError from t(), FilterError, ...
        line = _template_line(exc, template_name)
        where = f"template {template_name}" + (f", line {line}" if line else "")
        raise RenderError(f"{where}: {_describe(exc)}") from exc


_FENCE_RE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
_HEADING_RE = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t]*$", re.MULTILINE)
_HEADING_ID_RE = re.compile(r"\{[^}]*#([A-Za-z0-9_:.-]+)[^}]*\}\s*$")


def page_structure(markdown: str) -> dict[str, Any]:
    """The language-independent skeleton of a rendered page, for ko/en parity checks.

    ``headings``: ``[(level, explicit id or None), ...]``; ``figures`` / ``tables``: the ``fig-*`` /
    ``tbl-*`` anchor ids in order; ``pipe_tables``, ``csv_links``, ``math_blocks``, ``callouts``:
    counts. Inline math and prose are deliberately not compared.
    """
    text = _FENCE_RE.sub("", markdown)
    headings = []
    for m in _HEADING_RE.finditer(text):
        ident = _HEADING_ID_RE.search(m.group(2))
        headings.append((len(m.group(1)), ident.group(1) if ident else None))
    return {
        "headings": headings,
        "figures": re.findall(r'\bid="(fig-[^"]+)"', text),
        "tables": re.findall(r'\bid="(tbl-[^"]+)"', text),
        "pipe_tables": len(re.findall(r"^\|(?:\s*:?-{3,}:?\s*\|)+\s*$", text, re.MULTILINE)),
        "csv_links": text.count(".initlab-csv"),
        "math_blocks": text.count('class="initlab-math"'),
        "callouts": len(re.findall(r"^(?:!!!|\?\?\?\+?) ", text, re.MULTILINE)),
    }
