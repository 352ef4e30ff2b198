"""Single-axes line charts over layers: backpropagated gradient std, and theory vs measurement."""

from __future__ import annotations

import numpy as np
from matplotlib.lines import Line2D

from generator.analysis.seeds import depth_of, layer_stats, select
from generator.figures import style
from generator.figures.instances import GRAD_INITS, THEORY_INITS
from generator.render import strings


def grad_std(data, lang: str, *, activation: str, inits=GRAD_INITS, norm: str = "none"):
    prop = data["propagation"]
    depth = depth_of(data)
    fig = style.new_figure(style.LINE_HEIGHT + 0.3)
    ax = fig.add_subplot()
    fig.suptitle(
        strings.t(
            lang,
            "fig.grad_std.title",
            activation=style.label(lang, "activation", activation),
            norm=style.label(lang, "norm", norm),
        )
    )
    any_div = any_zero = False
    for init in inits:
        color, ls, marker = style.init_style(init)
        s = layer_stats(prop, "grad_h_std", depth, init=init, activation=activation, norm=norm)
        style.line_with_band(ax, s, color, ls, marker, log=True, label=style.label(lang, "init", init))
        any_div |= bool(s.diverged.any())
        any_zero |= bool((s.zero & ~s.diverged).any())
    style.log_axis(ax)
    ax.set_ylabel(strings.t(lang, "fig.grad_std.ylabel"))
    style.layer_axis(ax, depth, lang)
    handles, _ = ax.get_legend_handles_labels()
    handles += [style.band_handle(lang)] + style.edge_marker_handles(lang, any_div, any_zero)
    ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return style.finish(fig)


THEORY_RANGE = (1e-12, 1e12)  # theory values outside are not drawn: a curve leaving the frame is "vanishes/explodes"


def _theory_curve(data, init: str, activation: str, depth: int):
    """theory_std per layer from the ``theory`` table (all its layers: it may run deeper than the grid, to
    ``[theory] depth``), else from propagation's ``theory_std`` (grid depth); not clipped (see _in_range)."""
    th = data.get("theory")
    if th is not None and len(th):
        sub = select(th, init=init, activation=activation)
        if len(sub):
            layers = np.arange(1, max(depth, int(sub["layer"].max())) + 1)
            s = sub.groupby("layer")["theory_std"].mean().reindex(layers).to_numpy(dtype=float)
            return layers, style.positive_or_nan(s)
    layers = np.arange(1, depth + 1)
    st = layer_stats(data["propagation"], "theory_std", depth, init=init, activation=activation, norm="none")
    return layers, style.positive_or_nan(st.mean)


def _in_range(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=float).copy()
    v[(v < THEORY_RANGE[0]) | (v > THEORY_RANGE[1])] = np.nan
    return v


RESIDUAL_CAP = 100.0  # % : the residual panel's y range never exceeds +-100 % (larger misses are drawn at the edge)


def theory_vs_measured(data, lang: str, *, activation: str, inits=THEORY_INITS):
    """Top: theory (lines) and measurement (markers) of the std per layer, log y. Bottom: the residual
    measured / theory - 1 in % over the measured layers, on a linear axis -- the log axis above spans
    many decades, so errors of a few per cent are invisible there."""
    prop = data["propagation"]
    depth = depth_of(data)
    fig = style.new_figure(style.LINE_HEIGHT + 2.0)
    ax, ax_res = fig.subplots(2, 1, height_ratios=[2.3, 1])
    residuals = []
    fig.suptitle(strings.t(lang, "fig.theory.title", activation=style.label(lang, "activation", activation)))
    any_div = any_zero = False
    init_handles = []
    x_max = depth
    for init in inits:
        color, ls, marker = style.init_style(init)
        layers, th_raw = _theory_curve(data, init, activation, depth)
        th = _in_range(th_raw)
        x_max = max(x_max, int(layers[-1]) if len(layers) else depth)
        ax.plot(layers, th, color=color, linestyle=ls, linewidth=1.6)
        s = layer_stats(prop, "std", depth, init=init, activation=activation, norm="none")
        pred = np.full(len(s.layers), np.nan)
        n = min(len(layers), len(s.layers))
        pred[:n] = th_raw[:n]
        with np.errstate(divide="ignore", invalid="ignore"):
            res = 100.0 * (style.positive_or_nan(s.mean) / pred - 1.0)
        residuals.append(res[np.isfinite(res)])
        ax_res.plot(
            s.layers,
            np.clip(res, -RESIDUAL_CAP, RESIDUAL_CAP),
            color=color,
            linestyle=ls,
            marker=marker,
            markersize=5,
            markerfacecolor="white",
            markeredgewidth=1.3,
            linewidth=1.0,
        )
        ax.plot(
            s.layers,
            style.positive_or_nan(s.mean),
            linestyle="none",
            marker=marker,
            markersize=6,
            markerfacecolor="white",
            markeredgewidth=1.5,
            color=color,
        )
        style.mark_layers(ax, s.layers[s.diverged], "diverged", color)
        style.mark_layers(ax, s.layers[s.zero & ~s.diverged], "zero", color)
        any_div |= bool(s.diverged.any())
        any_zero |= bool((s.zero & ~s.diverged).any())
        init_handles.append(
            Line2D(
                [],
                [],
                color=color,
                linestyle=ls,
                marker=marker,
                markerfacecolor="white",
                markeredgewidth=1.5,
                label=style.label(lang, "init", init),
            )
        )
    style.log_axis(ax)
    ax.set_ylabel(strings.t(lang, "fig.std_log"))
    style.layer_axis(ax, x_max, lang)
    if x_max > depth:  # where the measurements end; the theory alone goes on
        ax.axvline(depth + 0.5, color="#999999", linewidth=0.8, linestyle=":")
    kind = [
        Line2D([], [], color="#444444", label=strings.t(lang, "fig.theory.theory")),
        Line2D(
            [],
            [],
            color="#444444",
            linestyle="none",
            marker="o",
            markerfacecolor="white",
            markeredgewidth=1.5,
            label=strings.t(lang, "fig.theory.measured"),
        ),
    ]
    handles = init_handles + kind + style.edge_marker_handles(lang, any_div, any_zero)
    ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.01, 0.5))
    _residual_axis(ax_res, residuals, depth, lang)
    return style.finish(fig)


def _residual_axis(ax, residuals, depth: int, lang: str) -> None:
    """Symmetric linear y range around 0 that fits every residual (at least +-5 %, at most the cap)."""
    from matplotlib.ticker import PercentFormatter

    r = np.concatenate(residuals + [np.array([0.0])])
    top = min(RESIDUAL_CAP, max(5.0, 1.15 * float(np.abs(r).max())))
    ax.axhline(0, color="#444444", linewidth=0.8)
    ax.set_ylim(-top, top)
    ax.yaxis.set_major_formatter(PercentFormatter(100.0, decimals=0))
    ax.set_ylabel(strings.t(lang, "fig.theory.residual"))
    style.layer_axis(ax, depth, lang)
