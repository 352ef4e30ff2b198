"""Escaping for HTML-in-Markdown: what the templates and the strings catalog put on a page.

Split from generator/render/filters.py (which re-exports every name) so that the strings catalog,
which every figure reads, does not import the number formats: a figure's cache key names the code it
can run (its import closure, generator/common/imports.py), and only figures that format numbers
should be re-rendered when a number format changes.

Contract: everything that reaches a page and is not Markdown authored in ``templates/`` -- catalog
values, data cells, config values, file names -- is escaped with :func:`escape_md` unless it is a
:class:`~markupsafe.Markup` (trusted Markdown, normally an :class:`Md`); trusted Markdown is checked
by :func:`check_markdown`; link targets by :func:`check_url`.
"""

from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup


class FilterError(ValueError):
    """A filter received a value it cannot format (the message names the value)."""


# Escaping: text that is not Markdown authored in templates/ (catalog values, data, config, paths)
#
# The pages are Markdown that Python-Markdown turns into HTML, so text is escaped for
# *HTML-in-Markdown*: every character that could open raw HTML, a link/image/footnote/reference, an
# attribute list ({ onclick=... } is honoured by attr_list) or a code span is written as an HTML
# entity. Entities render as the same characters in every context the site uses (prose, headings,
# table cells, <figcaption markdown="span">, image alt text, admonition titles, raw HTML blocks);
# backslash escapes would not (they show literally inside raw HTML). Emphasis characters (* _) are
# left alone: they cannot produce HTML that runs code or loads anything.
#
# A value that IS Markdown is a markupsafe.Markup (normally an :class:`Md`): it passes through
# unescaped. Escaping is idempotent: an existing character reference (&lt;, &#91;) is kept, so text
# escaped twice on its way through templates (a t() value passed through a macro into md_table) never
# shows "&amp;lt;".

_ENTITY_RE = re.compile(r"&(?:#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|([A-Za-z][A-Za-z0-9]{0,31};))")
_TEXT_ESCAPES = {
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "[": "&#91;",
    "]": "&#93;",
    "{": "&#123;",
    "}": "&#125;",
    "`": "&#96;",
    "\\": "&#92;",
    "|": "&#124;",
}
_TEXT_SPECIAL = re.compile("[" + re.escape("".join(_TEXT_ESCAPES)) + "&]")
# Link targets a page must never carry (a browser runs or inlines them).
UNSAFE_URL_SCHEMES = ("javascript", "vbscript", "data")
# Raw HTML a trusted Markdown value (a catalog key ending in _md) may hold: these tags, these attributes.
ALLOWED_HTML_TAGS = frozenset(
    {"br", "sub", "sup", "em", "strong", "b", "i", "code", "kbd", "small", "span", "abbr", "mark", "wbr"}
)
ALLOWED_HTML_ATTRS = frozenset({"class", "title", "lang"})


class UnsafeMarkdownError(FilterError):
    """Trusted Markdown holds something a page must not carry (a javascript: link, a <script> tag)."""


def _is_entity(m: re.Match) -> bool:
    import html.entities

    return m.group(1) is None or m.group(1) in html.entities.html5


def _escape_text(s: str, *, table: bool = False) -> str:
    """Entity-escape ``s`` (see above). ``table``: ``|`` and ``\\`` as ``\\|`` / ``\\\\`` (pipe-table cells)."""

    def sub(m: re.Match) -> str:
        c = m.group(0)
        if c == "&":
            ent = _ENTITY_RE.match(s, m.start())
            return "&" if ent and _is_entity(ent) else "&amp;"
        if table and c in "|\\":
            return "\\" + c
        return _TEXT_ESCAPES[c]

    return _TEXT_SPECIAL.sub(sub, s)


class Md(Markup):
    """Trusted Markdown, authored in this repository. Like :class:`~markupsafe.Markup`, but what is
    formatted or joined into it is escaped with :func:`escape_md`, not only for HTML::

        Md("[{}](#{})").format(label, anchor)     # label escaped; Md/Markup arguments kept
    """

    __slots__ = ()

    @classmethod
    def escape(cls, s: Any, /) -> Md:
        if hasattr(s, "__html__"):
            return cls(s.__html__())
        return cls(_escape_text(str(s)))


def escape_md(value: Any) -> Md:
    """Plain text -> Markdown that shows exactly that text and cannot become HTML, a link or an
    attribute list. A :class:`~markupsafe.Markup` (already Markdown) is returned unchanged. Template
    filter ``esc``."""
    return Md.escape(value)


def alt_text(value: Any) -> Md:
    """Text for ``![ALT](src)``: :func:`escape_md`, except that ``[ ] \\`` of plain text become
    backslash escapes (they are Markdown there, and stay readable); newlines become spaces."""
    if hasattr(value, "__html__"):
        text = str(value.__html__())
    else:
        text = "".join(
            "\\" + part if part in ("[", "]", "\\") else _escape_text(part)
            for part in re.split(r"([\[\]\\])", str(value))
        )
    return Md(text.replace("\r", " ").replace("\n", " "))


def code(value: Any) -> Md:
    """``value`` as a Markdown code span (shown literally; Markdown escapes ``<>&`` inside it). The
    fence is longer than any run of backticks in the text. Use it in Markdown prose and pipe tables,
    not inside raw HTML blocks (Markdown is not processed there)."""
    text = str(value).replace("\r", " ").replace("\n", " ")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith(("`", " ")) or text.endswith(("`", " ")) or not text else ""
    return Md(f"{fence}{pad}{text}{pad}{fence}")


def _url_scheme(url: str) -> str | None:
    """The scheme a browser would see in ``url`` (entities decoded, whitespace/controls removed)."""
    import html

    s = html.unescape(str(url))
    s = re.sub(r"[\x00-\x20\x7f-\x9f\\]+", "", s)  # browsers drop these inside a scheme
    m = re.match(r"([A-Za-z][A-Za-z0-9+.\-]*):", s)
    return m.group(1).lower() if m else None


def check_url(url: Any, where: str = "link") -> str:
    """``url`` if it may be a link target; :class:`UnsafeMarkdownError` for javascript:/vbscript:/data:."""
    scheme = _url_scheme(url)
    if scheme in UNSAFE_URL_SCHEMES:
        raise UnsafeMarkdownError(f"{where}: refused {scheme}: URL {str(url)!r}")
    return str(url)


def safe_url(url: Any, where: str = "link") -> Md:
    """A link/image target: :func:`check_url`, then characters that would end the Markdown target or
    an HTML attribute (space, ``( ) < > "``) percent-encoded. Template filter ``url``."""
    s = check_url(url, where)
    return Md(re.sub(r'[\s()<>"]', lambda m: f"%{ord(m.group(0)):02X}", s))


def link(label: Any, url: Any) -> Md:
    """A Markdown link ``[label](url)``: plain ``label`` escaped, ``url`` checked (:func:`safe_url`)."""
    return Md("[{}]({})").format(label, safe_url(url))


_TAG_RE = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)((?:\s+[^<>]*)?)/?>|<[!?]", re.S)
_ATTR_RE = re.compile(r"""([^\s=/"'<>]+)(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?""")
_AUTOLINK_RE = re.compile(r"<([A-Za-z][A-Za-z0-9+.\-]*:[^\s<>]*)>")
_MAIL_AUTOLINK_RE = re.compile(r"<[^\s<>@\"]+@[^\s<>@\"]+>")
_LINK_TARGET_RE = re.compile(r"\]\(\s*<?([^)>]+)")  # whitespace inside is dropped before the check
_REF_DEF_RE = re.compile(r"^[ ]{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.M)
_ATTR_LIST_RE = re.compile(r"\{:?([^}\n]*)\}")
_ATTR_LIST_BAD = re.compile(r"(?:^|\s)(?:on[a-z]+|style|href|src|srcdoc|formaction)\s*=", re.I)


def check_markdown(text: Any, where: str) -> Md:
    """Trusted Markdown ``text`` (authored in this repository, e.g. a catalog key ending in ``_md``)
    as :class:`Md`, after refusing what no page may carry -- :class:`UnsafeMarkdownError` naming
    ``where``: a link/image/autolink/reference target with a javascript:/vbscript:/data: URL, raw HTML
    other than :data:`ALLOWED_HTML_TAGS` with :data:`ALLOWED_HTML_ATTRS` (comments and ``<!``/``<?``
    included), and attribute lists ``{ ... }`` setting event handlers, ``style``, ``href`` or ``src``.

    Code spans are inspected too: a value may be placed where Markdown is not processed (a raw HTML
    block), and there a code span's ``<script>`` is a script. Write such text in a plain-text key."""
    prose = s = str(text)
    # Every "<" that a browser could read as markup (before a letter, "/", "!" or "?") must start an
    # autolink or a complete allowed tag: an unterminated "<script src=..." would swallow the
    # template's next tag.
    for lt in re.finditer(r"<(?=[A-Za-z/!?])", prose):
        auto = _AUTOLINK_RE.match(prose, lt.start())
        if auto:
            check_url(auto.group(1), where)
            continue
        if _MAIL_AUTOLINK_RE.match(prose, lt.start()):
            continue
        m = _TAG_RE.match(prose, lt.start())
        if m is None or m.group(2) is None:
            raise UnsafeMarkdownError(f"{where}: raw HTML {prose[lt.start() : lt.start() + 20]!r}... is not allowed")
        name = m.group(2).lower()
        attrs = [a.group(1).lower() for a in _ATTR_RE.finditer(m.group(3) or "")]
        if name not in ALLOWED_HTML_TAGS:
            raise UnsafeMarkdownError(
                f"{where}: raw HTML tag <{name}> is not allowed (allowed: {', '.join(sorted(ALLOWED_HTML_TAGS))})"
            )
        bad = [a for a in attrs if a not in ALLOWED_HTML_ATTRS]
        if bad:
            raise UnsafeMarkdownError(
                f"{where}: attribute(s) {bad} on <{name}> are not allowed "
                f"(allowed: {', '.join(sorted(ALLOWED_HTML_ATTRS))})"
            )
    for rx in (_LINK_TARGET_RE, _REF_DEF_RE):
        for m in rx.finditer(prose):
            check_url(m.group(1), where)
    for m in _ATTR_LIST_RE.finditer(prose):
        if _ATTR_LIST_BAD.search(m.group(1)):
            raise UnsafeMarkdownError(f"{where}: attribute list {m.group(0)!r} is not allowed")
    return Md(s)
