"""The seed's plots: per-layer mean/std with a band over seeds plus per-layer histograms for one
(init, activation, norm) case, and the "small vs large vs xavier vs he" std comparison."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, PercentFormatter

from generator.analysis.hist import hist_panel
from generator.analysis.seeds import depth_of, layer_stats, select
from generator.figures import numbers, style
from generator.figures.instances import COMPARE_ACTIVATIONS, COMPARE_INITS
from generator.render import strings

HIST_COLS = 5  # histogram panels per row (10 layers -> 2 rows of 5, readable at 720 px)


ZERO_COLOR = "#333333"  # the exact-zero bar
MEAN_FLOOR = 0.1  # the mean panel spans at least +-0.1: seed noise of 1e-4 must not fill the panel


def _mean_limits(ax, m) -> None:
    """Symmetric y range around 0: at least +-MEAN_FLOOR, wider when the mean or its band is."""
    v = np.concatenate([m.mean, m.lo, m.hi])
    v = v[np.isfinite(v)]
    top = max(MEAN_FLOOR, 1.15 * float(np.abs(v).max())) if v.size else MEAN_FLOOR
    extra = 0.15 * 2 * top if m.diverged.any() else 0.0  # room for the x markers, as style.line_with_band
    ax.set_ylim(-top, top + extra)


def _split_zero(frac, edges, zero_frac: float):
    """(regular bins without the exact zeros, fraction of exact zeros). Exact zeros are counted in the
    bin whose left edge is 0 (or that contains 0); they are moved to a bar of their own."""
    frac = np.asarray(frac, dtype=float).copy()
    if not (np.isfinite(zero_frac) and zero_frac > 0):
        return frac, 0.0
    k = int(np.searchsorted(edges, 0.0, side="right")) - 1
    if not 0 <= k < len(frac):
        return frac, 0.0
    zero = min(zero_frac, float(frac[k]))
    frac[k] -= zero
    return frac, zero


def _hist_ticks(lo: float, hi: float) -> list[float]:
    """Three ticks on the fixed range: its ends and 0 (or the midpoint if 0 is near an end)."""
    central = lo < 0 < hi and min(-lo, hi) >= 0.3 * (hi - lo)
    return [lo, 0.0 if central else (lo + hi) / 2, hi]


def _hist_layer(ax, panel, zero_frac: float, sd: float, layer_div: bool, lang: str) -> dict:
    """One layer's histogram panel: regular bins, the exact zeros as their own bar at 0, the open
    under/overflow bins hatched beside the range, and sigma when the layer is narrower than one bar.
    Returns what the legend and the shared y range need: ymax and flags overflow / zero / narrow."""
    edges = panel.edges
    bin_w = (edges[-1] - edges[0]) / max(len(edges) - 1, 1)
    width = bin_w * 2
    frac, zero = _split_zero(panel.frac, edges, zero_frac)
    ax.stairs(frac, edges, fill=True, color=style.HIST_COLOR, linewidth=0)
    if zero > 0:  # exact zeros: their own bar centred on 0 (0 is a bin edge of the regular bins)
        ax.bar(0.0, zero, width=bin_w * 0.6, color=ZERO_COLOR, linewidth=0, zorder=3)
    narrow = bool(np.isfinite(sd) and 0 < sd < bin_w)
    if narrow:  # narrower than one bar: say how narrow (two short lines, clear of the bar at 0)
        ax.text(
            0.97,
            0.95,
            strings.t(lang, "fig.seed_case.narrow", std=numbers.fmt_sig(sd, 2)),
            transform=ax.transAxes,
            ha="right",
            va="top",
            fontsize=8,
            color="#333333",
        )
    overflow = False
    for frac_out, x0 in ((panel.under, edges[0] - width), (panel.over, edges[-1])):
        if frac_out > 0:
            overflow = True
            ax.bar(
                x0,
                frac_out,
                width=width,
                align="edge",
                color="white",
                edgecolor=style.OVERFLOW_COLOR,
                hatch="////",
                hatchcolor=style.OVERFLOW_COLOR,
                linewidth=0.8,
            )
            if frac_out >= 0.005:
                ax.annotate(
                    f"{frac_out:.0%}",
                    (x0 + width / 2, frac_out),
                    xytext=(0, 1.5),
                    textcoords="offset points",
                    ha="center",
                    va="bottom",
                    fontsize=8,
                    color=style.OVERFLOW_COLOR,
                    fontfamily=style.FALLBACK_FAMILY,
                )
    ax.set_xlim(edges[0] - 1.6 * width, edges[-1] + 1.6 * width)
    ax.xaxis.set_major_locator(FixedLocator(_hist_ticks(edges[0], edges[-1])))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x:.3g}".replace("-", "\u2212")))
    ax.axvline(edges[0], color="#999999", linewidth=0.5)
    ax.axvline(edges[-1], color="#999999", linewidth=0.5)
    if layer_div:
        ax.text(0.5, 0.9, strings.t(lang, "fig.diverged"), transform=ax.transAxes, ha="center", va="top", fontsize=8.5)
    return {
        "ymax": max(float(frac.max(initial=0.0)), zero, panel.under, panel.over),
        "overflow": overflow,
        "zero": zero > 0,
        "narrow": narrow,
    }


def seed_case(data, lang: str, *, init: str, activation: str, norm: str = "none"):
    prop, hist = data["propagation"], data["hist"]
    depth = depth_of(data)
    names = dict(
        init=style.label(lang, "init", init),
        activation=style.label(lang, "activation", activation),
        norm=style.label(lang, "norm", norm),
    )
    ncols = min(HIST_COLS, depth)
    nrows = int(math.ceil(depth / ncols))
    fig = style.new_figure(2.9 + 1.45 * nrows + 0.5)
    fig.suptitle(strings.t(lang, "fig.seed_case.title", **names))
    top, bottom = fig.subfigures(2, 1, height_ratios=[2.9, 1.45 * nrows + 0.5])
    ax_mean, ax_std = top.subplots(1, 2)
    color, _, marker = style.init_style(init)
    eq = dict(init=init, activation=activation, norm=norm)

    m = layer_stats(prop, "mean", depth, **eq)
    style.line_with_band(ax_mean, m, color, "-", marker, log=False)
    ax_mean.axhline(0, color="#888888", linewidth=0.8, zorder=1)
    ax_mean.set_title(strings.t(lang, "fig.seed_case.mean"))
    ax_mean.set_ylabel(strings.t(lang, "fig.seed_case.mean_ylabel"))
    ax_mean.yaxis.set_major_locator(MaxNLocator(5))
    _mean_limits(ax_mean, m)

    s = layer_stats(prop, "std", depth, **eq)
    style.line_with_band(ax_std, s, color, "-", marker, log=True)
    style.log_axis(ax_std)
    ax_std.set_title(strings.t(lang, "fig.seed_case.std"))
    ax_std.set_ylabel(strings.t(lang, "fig.std_log"))
    for ax in (ax_mean, ax_std):
        style.layer_axis(ax, depth, lang)

    handles = [style.band_handle(lang)]
    handles += style.edge_marker_handles(lang, bool(m.diverged.any() or s.diverged.any()), bool(s.zero.any()))
    top.legend(handles=handles, loc="outside lower center", ncols=len(handles))

    # histograms: one small panel per layer, shared x on the activation's fixed range
    axes = bottom.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
    case_hist = select(hist, **eq)  # filter the (large) histogram table once, then per layer
    any_overflow = any_zero = any_narrow = False
    z = layer_stats(prop, "zero_frac", depth, **eq)
    ymax = 0.0
    for k in range(nrows * ncols):
        ax = axes[k // ncols][k % ncols]
        layer = k + 1
        if layer > depth:
            ax.set_visible(False)
            continue
        ax.set_title(strings.t(lang, "fig.layer_n", n=layer), fontsize=9, pad=3)
        ax.grid(False)
        ax.tick_params(labelsize=8, length=2.5, pad=1.5)
        panel = hist_panel(case_hist, layer=layer)
        layer_div = bool(s.diverged[layer - 1]) if layer - 1 < len(s.diverged) else False
        if panel is None or panel.total <= 0:
            ax.text(
                0.5,
                0.5,
                strings.t(lang, "fig.diverged") if layer_div else strings.t(lang, "fig.nan_short"),
                transform=ax.transAxes,
                ha="center",
                va="center",
                fontsize=9,
            )
            continue
        zf = float(z.mean[layer - 1]) if layer - 1 < len(z.mean) else 0.0
        sd = float(s.mean[layer - 1]) if layer - 1 < len(s.mean) else math.nan
        out = _hist_layer(ax, panel, zf, sd, layer_div, lang)
        ymax = max(ymax, out["ymax"])
        any_overflow |= out["overflow"]
        any_zero |= out["zero"]
        any_narrow |= out["narrow"]
    hist_title = strings.t(lang, "fig.seed_case.hist")
    bottom.suptitle(hist_title + (strings.t(lang, "fig.seed_case.narrow_note") if any_narrow else ""), fontsize=10.5)
    for ax in axes[:, 0]:
        ax.set_ylabel(strings.t(lang, "fig.fraction"), fontsize=9)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.yaxis.set_major_locator(MaxNLocator(3))
    bottom.supxlabel(strings.t(lang, "fig.activation_value"), fontsize=9.5)
    axes[0][0].set_ylim(0, ymax * 1.22 if ymax > 0 else 1.0)  # shared y; headroom for the % labels
    legend = (
        [
            Patch(
                facecolor="white",
                edgecolor=style.OVERFLOW_COLOR,
                hatch="////",
                hatchcolor=style.OVERFLOW_COLOR,
                label=strings.t(lang, "fig.overflow"),
            )
        ]
        if any_overflow
        else []
    )
    legend += [Patch(facecolor=ZERO_COLOR, label=strings.t(lang, "fig.seed_case.zero_bin"))] if any_zero else []
    if legend:
        bottom.legend(handles=legend, loc="outside lower right", ncols=len(legend), fontsize=8.5)
    return style.finish(fig)


def seed_compare(data, lang: str, *, inits=COMPARE_INITS, activations=COMPARE_ACTIVATIONS, norm: str = "none"):
    prop = data["propagation"]
    depth = depth_of(data)
    fig = style.new_figure(3.9)
    fig.suptitle(strings.t(lang, "fig.seed_compare.title", norm=style.label(lang, "norm", norm)))
    axes = fig.subplots(1, len(activations), squeeze=False)[0]
    any_div = any_zero = False
    for ax, act in zip(axes, activations):
        for init in inits:
            color, ls, marker = style.init_style(init)
            s = layer_stats(prop, "std", depth, init=init, activation=act, norm=norm)
            style.line_with_band(ax, s, color, ls, marker, log=True, label=style.label(lang, "init", init))
            any_div |= bool(s.diverged.any())
            any_zero |= bool((s.zero & ~s.diverged).any())
        style.log_axis(ax)
        ax.set_title(style.label(lang, "activation", act))
        style.layer_axis(ax, depth, lang)
    axes[0].set_ylabel(strings.t(lang, "fig.std_log"))
    handles, _ = axes[0].get_legend_handles_labels()
    handles += [style.band_handle(lang)] + style.edge_marker_handles(lang, any_div, any_zero)
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 3))
    return style.finish(fig)
