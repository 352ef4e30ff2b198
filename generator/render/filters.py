"""Jinja2 filters for the report templates: numbers, percentages, math, tables and escaping.

Every filter is a plain function usable from Python; :func:`register` installs them on the
Environment built by :mod:`generator.render.env`. In templates the ``lang`` argument defaults to the
page language (``{{ x | num }}``), or can be given explicitly (``{{ x | num("en") }}``).

Number formatting rules (:func:`num`), decided once here and tested in tests/test_filters.py:

* 3 significant digits for floats; the integer part is never rounded away
  (``12345.6`` -> ``"12,346"``, ``0.5`` -> ``"0.500"``, ``2.0`` -> ``"2.00"``);
* Python/NumPy integers are exact, with thousands grouping (``1000`` -> ``"1,000"``);
* scientific notation when the rounded magnitude is ``< 1e-3`` or ``>= 1e5``, written
  ``9.99×10⁻⁴`` / ``1.23×10⁵`` (no ``e`` notation in prose meant for people);
* zero, including negative zero, is ``"0"``; the minus sign is U+2212 (``−``);
* NaN / None -> ``"—"``; +inf -> ``"∞"``; −inf -> ``"−∞"``.

The locale (decimal mark, grouping mark, minus, scientific form) is looked up in ONE table,
:data:`NUMBER_LOCALES`. Korean and English currently use the same marks; keep it a parameter so a
future locale change happens in one place.

Escaping (generator/render/markdown.py, re-exported here): everything that reaches a page and is not Markdown
authored in ``templates/`` -- catalog values, data cells, config values, file names -- is escaped
for HTML-in-Markdown unless it is a :class:`~markupsafe.Markup` (trusted Markdown, normally an
:class:`Md`). Filters ``esc`` (plain text), ``alt`` (image alt text), ``code`` (a code span) and
``url`` (a link target, javascript:/vbscript:/data: refused); ``md_table`` escapes its cells.
"""

from __future__ import annotations

import math as _math
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from markupsafe import Markup

# Badges live in generator/render/badges.py and math in generator/render/mathml.py; their names stay
# importable from here (``math`` and ``mathblock`` are template filters).
from generator.render.badges import BADGE_KINDS, Badge, badge_markup  # noqa: F401 (re-exported)

# Escaping lives in generator/render/markdown.py (the strings catalog uses it without the number
# formats, so editing a number format does not touch the figures that only print catalog text); its
# names stay importable from here, as the template filters ``esc``, ``alt``, ``code`` and ``url``.
from generator.render.markdown import (  # noqa: F401 (re-exported)
    ALLOWED_HTML_ATTRS,
    ALLOWED_HTML_TAGS,
    UNSAFE_URL_SCHEMES,
    FilterError,
    Md,
    UnsafeMarkdownError,
    _escape_text,
    alt_text,
    check_markdown,
    check_url,
    code,
    escape_md,
    link,
    safe_url,
)
from generator.render.mathml import math, mathblock

MINUS = "\u2212"
DASH = "\u2014"
INF = "\u221e"
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")

NUMBER_LOCALES: dict[str, dict[str, str]] = {
    # decimal mark, thousands separator, and scientific template ({m} mantissa, {e} superscript exponent)
    "ko": {"decimal": ".", "group": ",", "sci": "{m}×10{e}", "percent": "{v}%"},
    "en": {"decimal": ".", "group": ",", "sci": "{m}×10{e}", "percent": "{v}%"},
}

SCI_BELOW = 1e-3
SCI_AT_OR_ABOVE = 1e5


def _locale(lang: str) -> dict[str, str]:
    try:
        return NUMBER_LOCALES[lang]
    except KeyError:
        raise FilterError(
            f"unknown language {lang!r} for number formatting; valid: {', '.join(NUMBER_LOCALES)}"
        ) from None


def _localize(s: str, loc: Mapping[str, str]) -> str:
    """Map a Python-formatted number ('-1,234.5') to the locale's marks."""
    s = s.replace(",", "\0").replace(".", loc["decimal"]).replace("\0", loc["group"])
    return s.replace("-", MINUS)


def _is_missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        return bool(x != x)  # NaN, pd.NA raises TypeError in bool()
    except TypeError:
        return True


def num(x: Any, lang: str = "ko", sig: int = 3) -> str:
    """Format a number for a person to read (see the module docstring for the rules)."""
    loc = _locale(lang)
    if _is_missing(x):
        return DASH
    if isinstance(x, bool):
        raise FilterError(f"num: refusing to format a boolean ({x!r})")
    if isinstance(x, numbers.Integral):
        return _localize(f"{int(x):,d}", loc)
    if not isinstance(x, numbers.Real):
        raise FilterError(f"num: not a real number: {x!r}")
    x = float(x)
    if _math.isinf(x):
        return INF if x > 0 else MINUS + INF
    if x == 0.0:
        return "0"  # also negative zero: "−0" reads as an error in a report
    # Round to `sig` significant digits first, then pick the notation from the *rounded* value,
    # so 99999.7 -> 1.00×10⁵ and 0.0009996 -> 0.00100 stay consistent.
    mantissa, exp_str = f"{x:.{sig - 1}e}".split("e")
    exp = int(exp_str)
    rounded = float(f"{mantissa}e{exp}")
    if abs(rounded) < SCI_BELOW or abs(rounded) >= SCI_AT_OR_ABOVE:
        e = str(exp).translate(_SUPERSCRIPT)
        return loc["sci"].format(m=_localize(mantissa, loc), e=e)
    decimals = max(0, sig - 1 - exp)
    return _localize(f"{x:,.{decimals}f}", loc)


def pct(x: Any, lang: str = "ko", digits: int = 1) -> str:
    """Format a fraction (0.123) as a percentage ("12.3%").

    Edge cases (after ydata-profiling's ``fmt_percent``): a value that is not zero but would round
    to 0.0% prints ``"< 0.1%"``; a value below one that would round to 100.0% prints ``"> 99.9%"``.
    Exactly 0 and 1 print ``"0%"`` and ``"100%"``. NaN -> ``"—"``.
    """
    loc = _locale(lang)
    if _is_missing(x):
        return DASH
    if not isinstance(x, numbers.Real) or isinstance(x, bool):
        raise FilterError(f"pct: not a real number: {x!r}")
    x = float(x)
    if _math.isinf(x):
        return INF if x > 0 else MINUS + INF
    step = 10.0**-digits  # smallest printable percentage, e.g. 0.1
    smallest = f"{step:.{digits}f}"
    largest = f"{100 - step:.{digits}f}"
    if x == 0.0:
        v = "0"
    elif x == 1.0:
        v = "100"
    elif abs(x) * 100 < step / 2:  # non-zero but would print as 0.0%
        tiny = loc["percent"].format(v=_localize(smallest, loc))
        return f"< {tiny}" if x > 0 else f"> {MINUS}{tiny}"
    elif 0 < x < 1 and round(x * 100, digits) >= 100:
        return "> " + loc["percent"].format(v=_localize(largest, loc))
    else:
        v = _localize(f"{x * 100:,.{digits}f}", loc)
    return loc["percent"].format(v=v)


def badge_format(lang: str, prefix: str, kinds: Mapping[str, str] | None = None) -> Formatter:
    """An :func:`md_table` format for a column of keys (``"vanishing"``): each cell is the catalog word
    ``<prefix>.<key>`` in ``lang`` as a :class:`Badge` of kind ``kinds[key]`` (default: the key itself).
    Templates call it as ``badges(prefix, kinds)`` (the page's language is filled in)."""
    from generator.render import strings

    def fmt(key: Any) -> Any:
        if _is_missing(key):
            return DASH
        return Badge(strings.t(lang, f"{prefix}.{key}"), (kinds or {}).get(key, key))

    return fmt


# --------------------------------------------------------------------------------------------
# Tables

Formatter = Callable[[Any], str]


def _cell_text(s: Any) -> str:
    """One pipe-table cell: plain text escaped (:func:`_escape_text`, ``|`` as ``\\|``); Markdown
    (a :class:`~markupsafe.Markup`: built-in number formats, :class:`Md` cells) kept, ``|`` escaped."""
    if hasattr(s, "__html__"):
        text = str(s.__html__()).replace("|", "\\|")
    else:
        text = _escape_text(str(s), table=True)
    return text.replace("\r", " ").replace("\n", " ").strip()


def _keep_markdown(v: Any) -> Any:
    """``v`` if it is Markdown (a Markup: :class:`Md`, math), a :class:`Badge` as its markup, else
    ``str(v)`` (plain text, escaped later)."""
    if isinstance(v, Badge):
        return badge_markup(v)
    return v if hasattr(v, "__html__") else str(v)


def _resolve_format(spec: Any, lang: str) -> Formatter:
    # The number formats' output is this module's own text (digits, marks, "< 0.1%"): kept as is.
    # "str" and callables give text that is escaped in the cell unless it is Markup.
    if callable(spec):
        return lambda v: _keep_markdown(spec(v))
    if spec == "num":
        return lambda v: Markup(num(v, lang))
    if spec == "pct":
        return lambda v: Markup(pct(v, lang))
    if spec == "str":
        return lambda v: DASH if _is_missing(v) else _keep_markdown(v)
    if spec == "int":
        return lambda v: Markup(DASH if _is_missing(v) else num(int(v), lang))
    if isinstance(spec, str) and spec.startswith("sig"):  # "sig2", "sig4", ...
        n = int(spec[3:])
        return lambda v: Markup(num(v, lang, sig=n))
    raise FilterError(f"md_table: unknown format {spec!r} (use num, pct, int, str, sigN or a callable)")


def md_table(
    df: Any,
    lang: str = "ko",
    columns: Mapping[str, str] | Sequence[str] | None = None,
    formats: Mapping[str, Any] | None = None,
    align: Mapping[str, str] | None = None,
) -> Md:
    """A pandas DataFrame -> a Markdown pipe table.

    ``columns``: a list of column names to show (in order), or a mapping ``{column: header label}``
    (labels are normally ``t(...)`` strings). ``formats``: ``{column: "num"|"pct"|"int"|"str"|"sigN"|
    callable}``; by default real numbers use :func:`num` and everything else ``str``. Numeric columns
    are right-aligned; ``align`` ({column: "left"|"right"|"center"}) overrides.

    Escaping: headers and cells are plain text, escaped for HTML-in-Markdown (``& < > " [ ] { } `
    \\ |``, see :func:`escape_md`; ``|`` and ``\\`` as ``\\|`` / ``\\\\``) with newlines as spaces,
    unless they are Markdown (a :class:`~markupsafe.Markup`, e.g. an :class:`Md` link or :func:`code`
    span built in Python, or a ``t()`` label, already escaped). The number formats are not escaped.
    """
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        raise FilterError(f"md_table: expected a pandas DataFrame, got {type(df).__name__}")
    if columns is None:
        cols, headers = list(df.columns), [_keep_markdown(c) for c in df.columns]
    elif isinstance(columns, Mapping):
        cols, headers = list(columns.keys()), [_keep_markdown(v) for v in columns.values()]
    else:
        cols = list(columns)
        headers = [_keep_markdown(c) for c in cols]
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise FilterError(f"md_table: unknown column(s) {missing}; available: {list(df.columns)}")
    formats = dict(formats or {})
    unknown = [c for c in list(formats) + list(align or {}) if c not in cols]
    if unknown:
        raise FilterError(f"md_table: formats/align for column(s) not shown: {unknown}")

    fmts: list[Formatter] = []
    rules: list[str] = []
    for c in cols:
        numeric = pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])
        if c in formats:
            fmts.append(_resolve_format(formats[c], lang))
        elif numeric:
            fmts.append(_resolve_format("num", lang))
        else:
            fmts.append(_resolve_format("str", lang))
        side = (align or {}).get(c, "right" if numeric else "left")
        rules.append({"left": ":---", "right": "---:", "center": ":---:"}[side])

    lines = ["| " + " | ".join(_cell_text(h) for h in headers) + " |", "| " + " | ".join(rules) + " |"]
    for row in df[cols].itertuples(index=False, name=None):
        lines.append("| " + " | ".join(_cell_text(f(v)) for f, v in zip(fmts, row)) + " |")
    return Md("\n".join(lines))


FILTERS: dict[str, Callable[..., Any]] = {
    "num": num,
    "pct": pct,
    "math": math,
    "mathblock": mathblock,
    "md_table": md_table,
    "esc": escape_md,
    "alt": alt_text,
    "code": code,
    "url": safe_url,
}


def register(env) -> None:
    """Install the filters on ``env``; ``num``/``pct``/``md_table`` default ``lang`` to the page's."""
    from jinja2 import pass_context

    def with_page_lang(fn):
        @pass_context
        def wrapper(ctx, value, *args, **kwargs):
            if not args and "lang" not in kwargs:
                kwargs["lang"] = ctx["lang"]
            return fn(value, *args, **kwargs)

        wrapper.__name__ = fn.__name__
        wrapper.__doc__ = fn.__doc__
        return wrapper

    env.filters["num"] = with_page_lang(num)
    env.filters["pct"] = with_page_lang(pct)
    env.filters["md_table"] = with_page_lang(md_table)
    env.filters["math"] = math

    @pass_context
    def badges(ctx, prefix: str, kinds: Mapping[str, str] | None = None) -> Formatter:
        return badge_format(ctx["lang"], prefix, kinds)

    env.globals["badges"] = badges  # formats={"verdict": badges("gradients.verdict", kinds)}
    env.filters["mathblock"] = mathblock
    # escaping (see "Escaping" above): {{ x | esc }} plain text, {{ x | alt }} image alt text,
    # {{ x | code }} a code span, {{ x | url }} a checked link target
    env.filters["esc"] = escape_md
    env.filters["alt"] = alt_text
    env.filters["code"] = code
    env.filters["url"] = safe_url
