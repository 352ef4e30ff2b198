"""Math for the report: LaTeX -> MathML at build time (no JavaScript, no CDN); Chromium renders MathML natively.

Contract: :func:`math` (inline) and :func:`mathblock` (a display block) take TeX source authored in a
template and return :class:`~markupsafe.Markup` MathML that survives Markdown (characters Markdown would
interpret are entity-escaped in the text nodes, newlines dropped). An empty or non-string input, LaTeX
latex2mathml cannot convert, or an unknown command (which latex2mathml would pass through as text) is a
:class:`~generator.render.markdown.FilterError`. Installed as the template filters ``math`` and
``mathblock`` by generator/render/filters.py.
"""

from __future__ import annotations

import re

from markupsafe import Markup

from generator.render.markdown import FilterError

_MD_SPECIAL = {
    "*": "&#42;",
    "_": "&#95;",
    "`": "&#96;",
    "\\": "&#92;",
    "[": "&#91;",
    "]": "&#93;",
    "~": "&#126;",
    "^": "&#94;",
    "|": "&#124;",
    "$": "&#36;",
}
_TEXT_NODE = re.compile(r">([^<]+)<")


def _md_safe(mathml: str) -> str:
    """Entity-escape characters in MathML text nodes that Markdown would otherwise interpret
    (emphasis, links, code, table pipes), and drop newlines so the HTML stays on one line."""

    def fix(m: re.Match) -> str:
        return ">" + "".join(_MD_SPECIAL.get(c, c) for c in m.group(1)) + "<"

    return _TEXT_NODE.sub(fix, mathml.replace("\n", ""))


def _convert(latex: str, display: str) -> str:
    from latex2mathml.converter import convert

    if isinstance(latex, Markup):  # escaped text (e.g. a t() value): TeX wants the characters back
        latex = latex.unescape()
    if not isinstance(latex, str) or not latex.strip():
        raise FilterError(f"math: expected a non-empty LaTeX string, got {latex!r}")
    try:
        out = convert(latex, display=display)
    except Exception as exc:  # latex2mathml raises assorted exception types
        raise FilterError(f"math: cannot convert LaTeX {latex!r}: {type(exc).__name__}: {exc}") from exc
    # latex2mathml passes unknown commands through as text (<mi>\foo</mi>): a typo must not ship.
    unknown = sorted({m.group(0) for t in _TEXT_NODE.findall(out) for m in re.finditer(r"\\[A-Za-z]+", t)})
    if unknown:
        raise FilterError(f"math: unknown LaTeX command(s) {', '.join(unknown)} in {latex!r}")
    return _md_safe(out)


def math(latex: str) -> Markup:
    """Inline MathML for ``latex`` (``{{ "q^l" | math }}``).

    ``latex`` is TeX source authored in a template (``"|x| < 1"``: the ``<`` is TeX, and MathML
    escapes it). Escaped text (a :class:`~markupsafe.Markup`, e.g. a ``t()`` value) is unescaped
    first, so ``&lt;`` reaches latex2mathml as ``<``, never as the letters ``&lt;``."""
    return Markup(_convert(latex, "inline"))


def mathblock(latex: str) -> Markup:
    """Display MathML for ``latex`` as a standalone HTML block (surrounded by blank lines)."""
    # tabindex: the block scrolls horizontally on narrow screens, so keyboard users must reach it.
    return Markup('\n<div class="initlab-math" tabindex="0" markdown="0">' + _convert(latex, "block") + "</div>\n")
