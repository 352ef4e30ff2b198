"""The gradients page's figure ``grad_factors``: forward factor (x) vs backward factor (y) per layer,
one small panel per activation (log-log, shared axes), one marker per init, the diagonal b = f
with its tolerance band. The factors come from :func:`generator.analysis.factors.all_factors` (the page's numbers
use the same function). Text comes from ``[gradients.fig]`` in templates/strings/{ko,en}/pages_b.toml.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.lines import Line2D

from generator.analysis.factors import INIT_ORDER, all_factors, ordered
from generator.figures import style
from generator.render import strings


def grad_factors(data, lang: str, *, tol: float = 0.1, norm: str = "none"):
    """Backward factor vs forward factor, one small panel per activation (shared log-log axes), one
    hollow marker shape and colour per init. Small multiples, not one crowded panel: many (init,
    activation) pairs sit near (1, 1), and activation labels on one panel overlapped."""
    prop = data["propagation"]
    depth = int(prop["layer"].max())
    ft = all_factors(prop, depth, norm)
    ok = ft[np.isfinite(ft["fwd"]) & np.isfinite(ft["bwd"])]
    acts = ordered(ok["activation"], list(dict.fromkeys(ft["activation"])))
    ncols = min(4, max(1, len(acts)))
    nrows = max(1, math.ceil(len(acts) / ncols))
    fig = style.new_figure(1.95 * nrows + 1.6)
    fig.suptitle(strings.t(lang, "gradients.fig.factors.title", norm=style.label(lang, "norm", norm)))
    panels, foot = fig.subfigures(2, 1, height_ratios=[1.95 * nrows + 0.8, 0.5])  # legend below the x label
    axes = panels.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
    inits = ordered(ok["init"], INIT_ORDER)
    lo = float(min(ok["fwd"].min(), ok["bwd"].min())) if len(ok) else 0.1
    hi = float(max(ok["fwd"].max(), ok["bwd"].max())) if len(ok) else 10.0
    lo_d, hi_d = math.floor(math.log10(lo)) - 0.15, math.ceil(math.log10(hi)) + 0.15
    diag = np.array([10**lo_d, 10**hi_d])
    for k, ax in enumerate(axes.ravel()):
        if k >= len(acts):
            ax.set_visible(False)
            continue
        act = acts[k]
        ax.plot(diag, diag, color="#777777", linewidth=1.0, zorder=1)
        ax.fill_between(diag, diag / (1 + tol), diag * (1 + tol), color="#bbbbbb", alpha=0.35, linewidth=0, zorder=0)
        for init in inits:
            color, _, marker = style.init_style(init)
            sub = ok[(ok["init"] == init) & (ok["activation"] == act)]
            ax.plot(
                sub["fwd"],
                sub["bwd"],
                linestyle="none",
                marker=marker,
                markersize=6.5,
                color=color,
                markerfacecolor="none" if marker not in ("x", "+") else color,
                markeredgewidth=1.5,
                zorder=3,
            )
        ax.set_title(style.label(lang, "activation", act), fontsize=10)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(diag)
        ax.set_ylim(diag)
        ax.set_aspect("equal", adjustable="box")
    handles = [
        Line2D(
            [],
            [],
            linestyle="none",
            marker=style.init_style(i)[2],
            markersize=6.5,
            color=style.init_style(i)[0],
            markerfacecolor="none",
            markeredgewidth=1.5,
            label=style.label(lang, "init", i),
        )
        for i in inits
    ]
    handles += [
        Line2D(
            [],
            [],
            color="#777777",
            linewidth=1.0,
            label=strings.t(lang, "gradients.fig.factors.diag", tol=f"{tol:.0%}"),
        )
    ]
    panels.supxlabel(strings.t(lang, "gradients.fig.factors.xlabel"), fontsize=10)
    panels.supylabel(strings.t(lang, "gradients.fig.factors.ylabel"), fontsize=10)
    foot.legend(handles=handles, loc="center", ncols=min(5, len(handles)), fontsize=8.5, frameon=False)
    return style.finish(fig)
