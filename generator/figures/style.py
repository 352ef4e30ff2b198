"""Shared look of initlab figures: sizes, per-init colours, labels from the strings catalog, and the
markers for diverged / zero / missing values.

Colours: the Okabe–Ito palette (colour-blind safe), fixed *per initialization* so an init has the
same colour and line style in every figure; line styles and markers differ too, so lines stay
distinguishable in greyscale. Heatmaps use ``viridis`` (perceptually uniform, colour-blind safe).
"""

from __future__ import annotations

import math
import re

import matplotlib.ticker
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from generator.render import strings
from generator.render.fonts import FALLBACK_FAMILY, FIG_WIDTH_IN, FONT_FAMILY  # re-exported

TEXT_FAMILY = [FONT_FAMILY, FALLBACK_FAMILY]
WIDTH = FIG_WIDTH_IN  # every figure is 7.5 in = 720 CSS px wide
LINE_HEIGHT = 3.6  # single-axes line charts
HEATMAP_CMAP = "viridis"
BAND_ALPHA = 0.18
DIVERGED_COLOR = "#000000"
MISSING_COLOR = "#d9d9d9"
OVERFLOW_COLOR = "#D55E00"  # vermillion
HIST_COLOR = "#0072B2"  # blue
# Smallest text in any figure (points). Figures are 720 px wide; on a phone the site shows them at least
# 620 px wide (site/assets/initlab.css), so 8 pt stays at about 9 CSS px (tests/test_figures.py checks it).
MIN_FONT_PT = 8.0

# init -> (colour, linestyle, marker); Okabe–Ito colours
INIT_STYLE: dict[str, tuple[str, object, str]] = {
    "zeros": ("#999999", (0, (1, 1.5)), "h"),
    "small": ("#56B4E9", (0, (5, 2)), "o"),
    "large": ("#D55E00", (0, (1.5, 1.5)), "s"),
    "xavier": ("#009E73", "-", "^"),
    "glorot_normal": ("#E69F00", (0, (6, 2, 1.5, 2)), "D"),
    "glorot_uniform": ("#CC79A7", (0, (3, 1.5)), "P"),
    "he": ("#0072B2", "-", "o"),
    "he_uniform": ("#882255", (0, (5, 2)), "X"),  # Tol's wine: Okabe-Ito yellow had too little contrast
    "orthogonal": ("#000000", (0, (4, 1.5, 1, 1.5)), "*"),
}
_FALLBACK_STYLE = ("#555555", "-", "o")


def init_style(init: str) -> tuple[str, object, str]:
    return INIT_STYLE.get(init, _FALLBACK_STYLE)


def label(lang: str, group: str, ident: str) -> str:
    """Display name of an init / activation / norm (``fig.init.he`` ...)."""
    return strings.t(lang, f"fig.{group}.{ident}")


def join_names(lang: str, group: str, idents) -> str:
    return ", ".join(label(lang, group, i) for i in idents)


def new_figure(height: float) -> Figure:
    """A constrained-layout figure of the standard width (no pyplot, no global state)."""
    return Figure(figsize=(WIDTH, height), layout="constrained")


def layer_axis(ax, depth: int, lang: str, label_it: bool = True) -> None:
    step = 1 if depth <= 12 else max(1, int(math.ceil(depth / 10)))
    ax.set_xticks(range(1, depth + 1, step))
    ax.set_xlim(0.6, depth + 0.4)
    if label_it:
        ax.set_xlabel(strings.t(lang, "fig.layer"))


_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_MATHDEFAULT = re.compile(r"^\$\\mathdefault\{(?:([0-9.]+)\\times\s*)?([0-9.]+)\^\{(-?[0-9]+)\}\}\$$")


def unicode_power(label: str) -> str:
    """``$\\mathdefault{2\\times10^{-3}}$`` -> ``2×10⁻³`` (matplotlib's log-tick mathtext as plain text).

    Anything not of the form ``[m×]b^{e}`` is returned unchanged.
    """
    m = _MATHDEFAULT.match(label)
    if not m:
        return label
    mant, base, exp = m.groups()
    return (f"{mant}×" if mant else "") + base + exp.translate(_SUPERSCRIPT)


class UnicodeLogFormatter(matplotlib.ticker.LogFormatterSciNotation):
    """Matplotlib's log-axis tick labels (same ticks, same choice of which to label) as plain Unicode
    text: ``10⁻³`` rather than mathtext ``$10^{-3}$``. Parsing mathtext (pyparsing) was about a sixth of
    the figures stage's CPU, and the labels read the same."""

    def __call__(self, x, pos=None):
        return unicode_power(super().__call__(x, pos))


def finish(fig: Figure) -> Figure:
    """Last step of every figure function.

    Log axes get :class:`UnicodeLogFormatter` (plain-text powers, no mathtext). Tick labels are drawn
    in DejaVu Sans, which has the superscript digits and U+2212; numbers need no Hangul, so this is
    exact in both languages.
    """
    for ax in fig.get_axes():
        for axis in (ax.xaxis, ax.yaxis):
            for get, set_ in (
                (axis.get_major_formatter, axis.set_major_formatter),
                (axis.get_minor_formatter, axis.set_minor_formatter),
            ):
                f = get()
                if type(f) is matplotlib.ticker.LogFormatterSciNotation:
                    set_(
                        UnicodeLogFormatter(
                            base=f._base,
                            labelOnlyBase=f.labelOnlyBase,
                            minor_thresholds=f.minor_thresholds,
                            linthresh=f._linthresh,
                        )
                    )
        ax.tick_params(which="both", labelfontfamily=FALLBACK_FAMILY)
        ax.xaxis.get_offset_text().set_fontfamily(FALLBACK_FAMILY)
        ax.yaxis.get_offset_text().set_fontfamily(FALLBACK_FAMILY)
    return fig


def text_color_for(rgba) -> str:
    r, g, b = rgba[:3]
    lum = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "black" if lum > 0.45 else "white"


def positive_or_nan(values) -> np.ndarray:
    """Values for a log axis: non-finite and non-positive values become NaN (gaps, no warnings)."""
    v = np.asarray(values, dtype=float)
    out = np.full(v.shape, np.nan)
    ok = np.isfinite(v) & (v > 0)
    out[ok] = v[ok]
    return out


def mark_layers(ax, layers, kind: str, color: str | None = None) -> None:
    """Markers on the axes edge for layers whose value cannot be drawn.

    ``kind="diverged"``: × at the top edge; ``kind="zero"``: hollow ▽ at the bottom edge; drawn in
    the line's ``color`` so several inits on one axes stay attributable.
    """
    layers = list(layers)
    if not layers:
        return
    trans = ax.get_xaxis_transform()  # x in data, y in axes coordinates
    if kind == "diverged":
        ax.plot(
            layers,
            [0.97] * len(layers),
            linestyle="none",
            marker="x",
            markersize=7,
            mew=1.8,
            color=color or DIVERGED_COLOR,
            transform=trans,
            clip_on=False,
            zorder=5,
        )
    else:
        ax.plot(
            layers,
            [0.03] * len(layers),
            linestyle="none",
            marker="v",
            markersize=6,
            mew=1.2,
            markerfacecolor="white",
            color=color or "#444444",
            transform=trans,
            clip_on=False,
            zorder=5,
        )


def edge_marker_handles(lang: str, diverged: bool, zero: bool) -> list:
    handles = []
    if diverged:
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker="x",
                markersize=7,
                mew=1.8,
                color=DIVERGED_COLOR,
                label=strings.t(lang, "fig.diverged_legend"),
            )
        )
    if zero:
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker="v",
                markersize=6,
                mew=1.2,
                markerfacecolor="white",
                color="#444444",
                label=strings.t(lang, "fig.zero_legend"),
            )
        )
    return handles


def band_handle(lang: str) -> Patch:
    return Patch(facecolor="#777777", alpha=0.3, edgecolor="none", label=strings.t(lang, "fig.band"))


_DECADE_STEPS = (1, 2, 3, 5, 10, 15, 20, 25, 30, 50, 100)


def decade_limits(lo: float, hi: float, max_ticks: int = 7) -> tuple[int, int, int]:
    """Decade-aligned limits (lo_dec, hi_dec, step) covering [lo, hi] > 0, at most ``max_ticks`` ticks.

    Ticks fall on 10**k with k a multiple of ``step`` (no "10^59, 10^48, ..." sequences); a range
    under two decades is widened so the data sits inside, not on an edge.
    """
    if not (np.isfinite(lo) and np.isfinite(hi) and lo > 0 and hi > 0):
        return -1, 1, 1
    lo_dec = math.floor(math.log10(lo) + 1e-9)
    hi_dec = math.ceil(math.log10(hi) - 1e-9)
    if hi_dec - lo_dec < 2:
        lo_dec, hi_dec = lo_dec - 1, max(hi_dec, lo_dec + 1) + 1 if hi_dec == lo_dec else hi_dec + 1
    for step in _DECADE_STEPS:
        a, b = math.floor(lo_dec / step) * step, math.ceil(hi_dec / step) * step
        if (b - a) // step + 1 <= max_ticks:
            return a, b, step
    step = _DECADE_STEPS[-1]
    return math.floor(lo_dec / step) * step, math.ceil(hi_dec / step) * step, step


def _positive_data_interval(ax, which: str):
    lo, hi = np.inf, -np.inf
    for art in list(ax.lines) + list(ax.collections):
        if art.get_transform() != ax.transData:  # edge markers live in axes coordinates
            continue
        if hasattr(art, "get_ydata"):
            v = np.asarray(art.get_ydata() if which == "y" else art.get_xdata(), dtype=float)
        else:
            off = [p.vertices for p in art.get_paths()]
            if not off:
                continue
            v = np.concatenate(off)[:, 1 if which == "y" else 0]
        v = v[np.isfinite(v) & (v > 0)]
        if v.size:
            lo, hi = min(lo, float(v.min())), max(hi, float(v.max()))
    return lo, hi


def log_axis(ax, which: str = "y", max_ticks: int = 7) -> None:
    """Log scale with decade-aligned limits and ticks; works when nothing positive is plotted."""
    from matplotlib.ticker import FixedLocator, LogLocator, NullLocator

    axis = ax.yaxis if which == "y" else ax.xaxis
    (ax.set_yscale if which == "y" else ax.set_xscale)("log")
    lo_dec, hi_dec, step = decade_limits(*_positive_data_interval(ax, which), max_ticks=max_ticks)
    span = hi_dec - lo_dec
    pad_lo = pad_hi = 0.03 * span  # markers on the outermost decade stay whole
    if which == "y":  # room for the ×/▽ edge markers (drawn in axes coordinates) clear of the data
        edge_y = [float(y) for ln in ax.lines if ln.get_transform() != ax.transData for y in ln.get_ydata()]
        pad_hi += 0.08 * span if any(y > 0.5 for y in edge_y) else 0.0
        pad_lo += 0.08 * span if any(y < 0.5 for y in edge_y) else 0.0
    (ax.set_ylim if which == "y" else ax.set_xlim)(10.0 ** (lo_dec - pad_lo), 10.0 ** (hi_dec + pad_hi))
    axis.set_major_locator(FixedLocator(10.0 ** np.arange(lo_dec, hi_dec + 1, step)))
    if step == 1 and hi_dec - lo_dec <= 4:
        axis.set_minor_locator(LogLocator(subs=np.arange(2, 10)))
        axis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    else:
        axis.set_minor_locator(NullLocator())


def line_with_band(ax, stats, color, linestyle, marker, log: bool, label=None):
    """A seed-mean line with its seed band (``stats``: analysis.seeds.layer_stats), × at diverged layers and
    (log axes) a marker at exact zeros."""
    y, lo, hi = stats.mean, stats.lo, stats.hi
    if log:
        y, lo, hi = positive_or_nan(y), positive_or_nan(lo), positive_or_nan(hi)
    ok = np.isfinite(lo) & np.isfinite(hi)
    if ok.any():
        ax.fill_between(
            stats.layers, np.where(ok, lo, np.nan), np.where(ok, hi, np.nan), color=color, alpha=BAND_ALPHA, linewidth=0
        )
    ax.plot(stats.layers, y, color=color, linestyle=linestyle, marker=marker, markersize=4, label=label)
    mark_layers(ax, stats.layers[stats.diverged], "diverged", color)
    if not log and stats.diverged.any():
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo, hi + 0.15 * (hi - lo))  # keep the × markers clear of the line
    if log:
        mark_layers(ax, stats.layers[stats.zero & ~stats.diverged], "zero", color)
