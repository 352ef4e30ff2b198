"""Figures for the basics pages (xavier, he, activations); their instances are listed in generator/figures/registry.py.

* ``basics_lines`` (stem ``basics_<key>``): one panel per activation, per-layer std of several inits
  (mean over seeds, band = min-max over seeds, log y). Instances: ``glorot`` (xavier vs the two
  Glorot forms; tanh, ReLU) and ``he`` (xavier vs he vs he_uniform; ReLU, leaky ReLU, SELU).
* ``basics_matched`` (stem ``basics_matched``): every activation under its usual (conventional) init
  (generator.analysis.rules.MATCHING): per-layer std (log y) and saturated fraction.
* ``activation_curves`` (stem ``activation_curves``): phi and phi' of every activation in the
  registry on instances.CURVE_RANGE (wide enough for sigmoid's tails), own y range per panel, the
  saturated region (|phi'| < 1% of max slope) shaded. Reads no data.

All text comes from the page string tables ``[xavier]``, ``[he]``, ``[activations]``.
"""

from __future__ import annotations

import numpy as np

from generator.analysis.seeds import depth_of, layer_stats
from generator.engine.activations import ACTIVATIONS
from generator.figures import style
from generator.figures.instances import CURVE_RANGE, LINE_SETS
from generator.render import strings

# activation -> (colour, linestyle) for figures where lines are activations (Okabe-Ito + greys)
ACT_STYLE = {
    "linear": ("#999999", (0, (1, 1.5))),
    "sigmoid": ("#E69F00", (0, (6, 2, 1.5, 2))),
    "tanh": ("#009E73", "-"),
    "relu": ("#0072B2", "-"),
    "leaky_relu": ("#56B4E9", (0, (5, 2))),
    "elu": ("#D55E00", (0, (3, 1.5))),
    "selu": ("#CC79A7", (0, (4, 1.5, 1, 1.5))),
    "gelu": ("#000000", (0, (1.5, 1.5))),
}


def _present(data, inits, acts):
    prop = data["propagation"]
    have_i, have_a = set(prop["init"]), set(prop["activation"])
    return [i for i in inits if i in have_i], [a for a in acts if a in have_a]


def basics_lines(data, lang: str, *, key: str, inits=None, activations=None):
    table, d_inits, d_acts = LINE_SETS[key]
    inits, acts = _present(data, inits or d_inits, activations or d_acts)
    prop = data["propagation"]
    depth = depth_of(data)
    fig = style.new_figure(style.LINE_HEIGHT + 0.5)
    fig.suptitle(strings.t(lang, f"{table}.title"))
    axes = fig.subplots(1, max(1, len(acts)), squeeze=False)[0]
    any_div = any_zero = False
    vals = []
    for ax, act in zip(axes, acts):
        for init in inits:
            color, ls, marker = style.init_style(init)
            s = layer_stats(prop, "std", depth, init=init, activation=act, norm="none")
            style.line_with_band(ax, s, color, ls, marker, log=True, label=style.label(lang, "init", init))
            vals.extend(style.positive_or_nan(np.concatenate([s.mean, s.lo, s.hi])).tolist())
            any_div |= bool(s.diverged.any())
            any_zero |= bool((s.zero & ~s.diverged).any())
        ax.set_title(style.label(lang, "activation", act))
        style.layer_axis(ax, depth, lang)
    # one y range for every panel (log_axis reads the plotted data, so give each panel the global
    # extremes as an invisible line), so the panels compare at a glance
    v = np.asarray(vals, dtype=float)
    v = v[np.isfinite(v)]
    for ax in axes:
        if v.size:
            ax.plot([1, 1], [v.min(), v.max()], linestyle="none", marker="none")
        style.log_axis(ax)
    for ax in axes[1:]:
        ax.tick_params(labelleft=False)
    axes[0].set_ylabel(strings.t(lang, "fig.std_log"))
    handles, _ = axes[0].get_legend_handles_labels()
    handles += [style.band_handle(lang)] + style.edge_marker_handles(lang, any_div, any_zero)
    fig.legend(handles=handles, loc="outside lower center", ncol=min(4, len(handles)), frameon=False)
    return style.finish(fig)


def basics_matched(data, lang: str, *, matching: tuple):
    prop = data["propagation"]
    depth = depth_of(data)
    have = set(zip(prop["init"], prop["activation"]))
    pairs = [(a, i) for a, i in matching if (i, a) in have]
    fig = style.new_figure(style.LINE_HEIGHT + 0.9)
    fig.suptitle(strings.t(lang, "activations.fig_matched.title"))
    ax_std, ax_sat = fig.subplots(1, 2)
    any_div = False
    for act, init in pairs:
        color, ls = ACT_STYLE.get(act, ("#555555", "-"))
        name = strings.t(
            lang,
            "activations.fig_matched.pair",
            activation=style.label(lang, "activation", act),
            init=style.label(lang, "init", init),
        )
        s = layer_stats(prop, "std", depth, init=init, activation=act, norm="none")
        ax_std.plot(
            s.layers, style.positive_or_nan(s.mean), color=color, linestyle=ls, marker="o", markersize=3, label=name
        )
        style.mark_layers(ax_std, s.layers[s.diverged], "diverged", color)
        any_div |= bool(s.diverged.any())
        f = layer_stats(prop, "saturated_frac", depth, init=init, activation=act, norm="none")
        ax_sat.plot(f.layers, f.mean, color=color, linestyle=ls, marker="o", markersize=3)
    style.log_axis(ax_std)
    ax_std.set_title(strings.t(lang, "activations.fig_matched.std"))
    ax_std.set_ylabel(strings.t(lang, "fig.std_log"))
    ax_sat.set_title(strings.t(lang, "activations.fig_matched.sat"))
    ax_sat.set_ylabel(strings.t(lang, "fig.fraction"))
    ax_sat.set_ylim(-0.03, 1.03)
    from matplotlib.ticker import PercentFormatter

    ax_sat.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    for ax in (ax_std, ax_sat):
        style.layer_axis(ax, depth, lang)
    handles, _ = ax_std.get_legend_handles_labels()
    handles += style.edge_marker_handles(lang, any_div, False)
    fig.legend(handles=handles, loc="outside lower center", ncol=4, frameon=False, fontsize="small")
    return style.finish(fig)


def activation_curves(data, lang: str, *, activations=tuple(ACTIVATIONS)):
    """phi and phi' of each activation on CURVE_RANGE, each panel with its own y range (nothing clipped:
    SELU reaches lambda * x_max), the saturated region shaded. The range is wide enough that every
    saturating activation shows its saturated tails (sigmoid's start near |x| = 6)."""
    acts = [a for a in activations if a in ACTIVATIONS]
    ncols = 4
    nrows = int(np.ceil(len(acts) / ncols))
    fig = style.new_figure(2.1 * nrows + 0.9)
    fig.suptitle(strings.t(lang, "activations.fig_curves.title"))
    axes = fig.subplots(nrows, ncols, sharex=True, squeeze=False).ravel()
    x = np.linspace(*CURVE_RANGE, 3201)
    for ax, name in zip(axes, acts):
        act = ACTIVATIONS[name]
        phi, dphi = act.forward(x), act.derivative(x)
        lo_y = min(float(phi.min()), float(dphi.min()), 0.0)
        hi_y = max(float(phi.max()), float(dphi.max()), 1.0)
        pad = 0.08 * (hi_y - lo_y)
        lo_y, hi_y = lo_y - pad, hi_y + pad
        ax.fill_between(x, lo_y, hi_y, where=act.saturated(x), color="#D55E00", alpha=0.18, linewidth=0, step="mid")
        ax.axhline(0, color="#888888", linewidth=0.6)
        ax.axvline(0, color="#888888", linewidth=0.6)
        ax.plot(x, phi, color="#0072B2", linewidth=1.8)
        ax.plot(x, dphi, color="#009E73", linewidth=1.5, linestyle=(0, (4, 1.5)))
        ax.set_ylim(lo_y, hi_y)
        ax.set_xlim(*CURVE_RANGE)
        ax.set_xticks(np.linspace(CURVE_RANGE[0], CURVE_RANGE[1], 5))
        ax.set_title(style.label(lang, "activation", name))
    for ax in axes[len(acts) :]:
        ax.set_visible(False)
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [
        Line2D([], [], color="#0072B2", linewidth=1.8, label=strings.t(lang, "activations.fig_curves.phi")),
        Line2D(
            [],
            [],
            color="#009E73",
            linewidth=1.5,
            linestyle=(0, (4, 1.5)),
            label=strings.t(lang, "activations.fig_curves.dphi"),
        ),
        Patch(facecolor="#D55E00", alpha=0.15, label=strings.t(lang, "activations.fig_curves.saturated")),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, frameon=False)
    return style.finish(fig)
