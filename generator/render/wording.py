"""Wording filters: config values as written, percentage points, and counts that agree with their verb.

:mod:`generator.render.filters` formats *measured* values (:func:`~generator.render.filters.num`:
3 significant digits, so 0.1 prints "0.100"). A *setting* is not a measurement: a learning rate of 0.1
written in the config must read "0.1", a slope of 0.01 "0.01", 50 steps "50". :func:`cfg` prints such a
value as written -- the shortest decimal that round-trips (``repr``), with the site's minus sign,
thousands grouping and ``×10ⁿ`` form -- as long as it has at most :data:`CFG_MAX_DIGITS` significant
digits. A derived grid point (``np.logspace`` gives 0.21544346900318834) is not written anywhere, so it
falls back to :func:`~generator.render.filters.num`'s 3 significant digits.

:func:`points` prints a difference of two percentages ("25 percentage points" / "25%p"), never
"25% percentage points". :func:`agree` prints a count with the singular or plural form of what
follows it ("1 does not hold", "2 do not hold"); Korean has no agreement, so callers pass one form.

Registered on the Jinja environment by :func:`register` (``{{ x | cfg }}``, ``{{ x | points }}``,
``{{ n | agree("holds", "hold") }}``); plain functions for Python callers (generator/pages/*).
"""

from __future__ import annotations

import math as _math
import numbers
from decimal import Decimal
from typing import Any

from generator.render.filters import DASH, INF, MINUS, NUMBER_LOCALES, FilterError, _is_missing, num

CFG_MAX_DIGITS = 4  # more significant digits than this: a computed value, printed like a measurement
CFG_SCI_BELOW = 1e-4  # as written in a config, 0.001 reads better than 10⁻³; 1e-5 does not
CFG_SCI_AT_OR_ABOVE = 1e6
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def _group(digits: str, lang: str) -> str:
    loc = NUMBER_LOCALES[lang]
    whole, _, frac = digits.partition(".")
    whole = f"{int(whole):,d}".replace(",", loc["group"])
    return whole + (loc["decimal"] + frac if frac else "")


def cfg(x: Any, lang: str = "ko") -> str:
    """A config value as written: 0.1 -> "0.1", 0.01 -> "0.01", 50.0 -> "50", 1e8 -> "10⁸",
    2.5e-5 -> "2.5×10⁻⁵", 1e-4 -> "0.0001"; more than CFG_MAX_DIGITS significant digits -> :func:`num`."""
    if lang not in NUMBER_LOCALES:
        raise FilterError(f"cfg: unknown language {lang!r}")
    if _is_missing(x):
        return DASH
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise FilterError(f"cfg: not a real number: {x!r}")
    if isinstance(x, numbers.Integral):
        return num(int(x), lang)
    x = float(x)
    if _math.isinf(x):
        return INF if x > 0 else MINUS + INF
    if x == 0.0:
        return "0"
    d = Decimal(repr(abs(x))).normalize()  # the shortest round-trip decimal, trailing zeros dropped
    digits = d.as_tuple().digits
    if len(digits) > CFG_MAX_DIGITS:
        return num(x, lang)
    sign = MINUS if x < 0 else ""
    if CFG_SCI_BELOW <= abs(x) < CFG_SCI_AT_OR_ABOVE:
        return sign + _group(format(d, "f"), lang)
    exp = d.adjusted()
    mantissa = "".join(map(str, digits))
    mantissa = mantissa[0] + ("." + mantissa[1:] if len(mantissa) > 1 else "")
    power = "10" + str(exp).translate(_SUPERSCRIPT)
    if mantissa == "1":
        return sign + power
    return sign + NUMBER_LOCALES[lang]["sci"].format(
        m=mantissa.replace(".", NUMBER_LOCALES[lang]["decimal"]), e=str(exp).translate(_SUPERSCRIPT)
    )


POINTS = {"ko": "{v}%p", "en": {1: "{v} percentage point", None: "{v} percentage points"}}


def points(x: Any, lang: str = "ko", digits: int = 1) -> str:
    """A difference of two shares (0.25) in percentage points: en "25 percentage points", ko "25%p"."""
    if _is_missing(x):
        return DASH
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise FilterError(f"points: not a real number: {x!r}")
    v = round(float(x) * 100, digits)
    text = f"{abs(v):,.{digits}f}".replace(",", NUMBER_LOCALES[lang]["group"]).replace(
        ".", NUMBER_LOCALES[lang]["decimal"]
    )
    text = (MINUS if v < 0 else "") + text
    form = POINTS[lang]
    if isinstance(form, dict):
        form = form[1] if abs(v) == 1 else form[None]
    return form.format(v=text)


def agree(n: Any, singular: str, plural: str, lang: str = "en") -> str:
    """``n`` followed by ``singular`` when n is 1, else ``plural`` ("1 claim", "0 claims")."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        if isinstance(n, float) and n.is_integer():
            n = int(n)
        else:
            raise FilterError(f"agree: not a count: {n!r}")
    return f"{num(int(n), lang)} {singular if n == 1 else plural}"


def at_least(x: Any, lang: str = "ko", bound: bool = False, sig: int = 3) -> str:
    """A measured value, or a lower bound "≥ x" when ``bound`` (a spread whose diverged runs entered at
    the divergence threshold, generator/analysis/factors.py:init_spread, is at least this wide). Infinity
    is never printed for a spread: a diverged run has no finite std, so the honest statement is the bound.
    ``sig``: significant digits, as :func:`~generator.render.filters.num`."""
    if bound and not _is_missing(x):
        return "≥\u00a0" + num(x, lang, sig=sig)
    return num(x, lang, sig=sig)


def defined(x: Any) -> float:
    """``x`` as a float, NaN where it is undefined (±inf from a diverged run): a table cell then shows
    the dash of :func:`~generator.render.filters.num` and keeps its numeric column."""
    if _is_missing(x):
        return _math.nan
    x = float(x)
    return _math.nan if _math.isinf(x) else x


def measured(x: Any, lang: str = "ko") -> str:
    """A measured value, or a dash where it is undefined (NaN, or ±inf from a diverged run): a row
    whose label says "diverged" / "undefined" shows no number; its label or another column says why."""
    if isinstance(x, bool):
        raise FilterError(f"measured: refusing to format a boolean ({x!r})")
    return num(defined(x), lang) if isinstance(x, numbers.Real) or _is_missing(x) else num(x, lang)


def register(env) -> None:
    """Install ``cfg``, ``points``, ``agree``, ``at_least`` and ``measured`` (page language by default)."""
    from jinja2 import pass_context

    def with_page_lang(fn):
        @pass_context
        def wrapper(ctx, value, *args, **kwargs):
            kwargs.setdefault("lang", ctx["lang"])
            return fn(value, *args, **kwargs)

        wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
        return wrapper

    for fn in (cfg, points, agree, at_least, measured):
        env.filters[fn.__name__] = with_page_lang(fn)
