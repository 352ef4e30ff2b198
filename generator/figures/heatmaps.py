"""Heatmaps over init × activation of a last-layer quantity (one figure per norm), log colour scale.

Each cell shows its value to 3 significant digits. Diverged cells are white, hatched and labelled
"발산"/"diverged"; cells with no value (NaN, or exactly 0 which a log scale cannot colour) are grey and
labelled "없음"/"n/a" or "0".
"""

from __future__ import annotations

import matplotlib
import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.patches import Rectangle
from matplotlib.ticker import NullLocator

from generator.analysis.factors import ACT_ORDER, INIT_ORDER
from generator.analysis.seeds import depth_of, last_layer_matrix
from generator.figures import numbers, style
from generator.render import strings


def _present(df, col, order):
    have = set(df[col].unique()) if len(df) else set()
    return tuple([x for x in order if x in have] + sorted(str(x) for x in have if x not in order))


def _heatmap(data, lang: str, *, column: str, key: str, norm: str, inits=None, activations=None):
    prop = data["propagation"]
    depth = depth_of(data)
    inits = tuple(inits) if inits else _present(prop, "init", INIT_ORDER)
    activations = tuple(activations) if activations else _present(prop, "activation", ACT_ORDER)
    vals, div, zero = last_layer_matrix(prop, column, inits, activations, norm, depth)
    good = np.isfinite(vals) & (vals > 0) & ~div
    n_i, n_a = len(inits), len(activations)
    fig = style.new_figure(1.6 + 0.42 * max(n_i, 3))
    ax = fig.add_subplot()
    fig.suptitle(strings.t(lang, f"fig.{key}.title", layer=depth, norm=style.label(lang, "norm", norm)))
    if good.any():
        lo_dec, hi_dec, step = style.decade_limits(float(vals[good].min()), float(vals[good].max()), max_ticks=8)
    else:
        lo_dec, hi_dec, step = -1, 1, 1
    cnorm = LogNorm(vmin=10.0**lo_dec, vmax=10.0**hi_dec)
    shown = np.ma.masked_array(np.where(good, vals, 1.0), mask=~good)
    cmap = matplotlib.colormaps[style.HEATMAP_CMAP].with_extremes(bad=style.MISSING_COLOR)
    im = ax.imshow(shown, cmap=cmap, norm=cnorm, aspect="auto", interpolation="nearest")
    for i in range(n_i):
        for j in range(n_a):
            if div[i, j]:
                ax.add_patch(
                    Rectangle(
                        (j - 0.5, i - 0.5), 1, 1, facecolor="white", edgecolor="#555555", hatch="///", linewidth=0
                    )
                )
                txt, color = strings.t(lang, "fig.diverged"), "black"
                ax.text(
                    j,
                    i,
                    txt,
                    ha="center",
                    va="center",
                    fontsize=8.5,
                    color=color,
                    bbox=dict(boxstyle="square,pad=0.15", facecolor="white", edgecolor="none"),
                )
                continue
            if good[i, j]:
                txt = numbers.fmt_sig(vals[i, j])
                color = style.text_color_for(im.cmap(cnorm(vals[i, j])))
            elif zero[i, j]:
                txt, color = "0", "black"
            else:
                txt, color = strings.t(lang, "fig.nan_short"), "#333333"
            ax.text(j, i, txt, ha="center", va="center", fontsize=8.5, color=color)
    ax.set_xticks(range(n_a), [style.label(lang, "activation", a) for a in activations])
    ax.set_yticks(range(n_i), [style.label(lang, "init", i) for i in inits])
    ax.tick_params(axis="both", length=0)
    ax.tick_params(axis="x", labelrotation=0)
    ax.set_xticks(np.arange(-0.5, n_a, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, n_i, 1), minor=True)
    ax.grid(False)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.tick_params(which="minor", length=0)
    for sp in ax.spines.values():
        sp.set_visible(False)
    ax.set_xlabel(strings.t(lang, "fig.xlabel_activation"))
    ax.set_ylabel(strings.t(lang, "fig.ylabel_init"))
    cbar = fig.colorbar(im, ax=ax, fraction=0.05, pad=0.02)
    cbar.set_label(strings.t(lang, f"fig.{key}.cbar"))
    cbar.set_ticks(10.0 ** np.arange(lo_dec, hi_dec + 1, step))
    if step > 1 or hi_dec - lo_dec > 4:
        cbar.ax.yaxis.set_minor_locator(NullLocator())
    cbar.ax.grid(False)
    fig.text(0.995, 0.005, strings.t(lang, "fig.heatmap_note"), ha="right", va="bottom", fontsize=8.5, color="#333333")
    # The tick labels are names (Hangul in ko): keep them in the text font; numbers are in DejaVu.
    fig = style.finish(fig)
    ax.tick_params(which="both", labelfontfamily=style.TEXT_FAMILY)
    return fig


def heatmap_std(data, lang: str, *, norm: str = "none", inits=None, activations=None):
    return _heatmap(data, lang, column="std", key="heatmap_std", norm=norm, inits=inits, activations=activations)


def heatmap_gradratio(data, lang: str, *, norm: str = "none", inits=None, activations=None):
    return _heatmap(
        data, lang, column="grad_w_ratio", key="heatmap_gradratio", norm=norm, inits=inits, activations=activations
    )
