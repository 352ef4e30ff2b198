"""The gradients page's figure ``grad_factors``: forward factor (x) vs backward factor (y) per layer,
every (init, activation), log-log, the diagonal b = f, off-diagonal points labelled with their
activation. The factors come from :func:`generator.analysis.factors.all_factors` (the page's numbers
use the same function). Text comes from ``[gradients.fig]`` in templates/strings/{ko,en}/pages_b.toml.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.lines import Line2D

from generator.render import strings
from generator.analysis.factors import INIT_ORDER, all_factors, ordered
from generator.figures import style


def grad_factors(data, lang: str, *, tol: float = 0.1, norm: str = "none"):
    """Backward factor vs forward factor for every (init, activation); points more than ``tol`` off
    the diagonal carry their activation's name."""
    prop = data["propagation"]
    depth = int(prop["layer"].max())
    ft = all_factors(prop, depth, norm)
    ok = ft[np.isfinite(ft["fwd"]) & np.isfinite(ft["bwd"])]
    fig = style.new_figure(4.6)
    ax = fig.add_subplot()
    fig.suptitle(strings.t(lang, "gradients.fig.factors.title", norm=style.label(lang, "norm", norm)))
    inits = ordered(ok["init"], INIT_ORDER)
    lo = float(min(ok["fwd"].min(), ok["bwd"].min())) if len(ok) else 0.1
    hi = float(max(ok["fwd"].max(), ok["bwd"].max())) if len(ok) else 10.0
    lo_d, hi_d = math.floor(math.log10(lo)) - 0.15, math.ceil(math.log10(hi)) + 0.15
    diag = np.array([10 ** lo_d, 10 ** hi_d])
    ax.plot(diag, diag, color="#777777", linewidth=1.0, zorder=1)
    ax.fill_between(diag, diag / (1 + tol), diag * (1 + tol), color="#bbbbbb", alpha=0.35, linewidth=0, zorder=0)
    handles = []
    for init in inits:
        color, _, marker = style.init_style(init)
        sub = ok[ok["init"] == init]
        ax.plot(sub["fwd"], sub["bwd"], linestyle="none", marker=marker, markersize=7, color=color,
                markerfacecolor="none" if marker not in ("x", "+") else color, markeredgewidth=1.6, zorder=3)
        handles.append(Line2D([], [], linestyle="none", marker=marker, markersize=7, color=color,
                              markerfacecolor="none", markeredgewidth=1.6, label=style.label(lang, "init", init)))
        for r in sub.itertuples():
            if abs(r.bwd / r.fwd - 1) > tol:
                ax.annotate(style.label(lang, "activation", r.activation), (r.fwd, r.bwd), xytext=(5, 4),
                            textcoords="offset points", fontsize=8.5, color="#222222")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(diag)
    ax.set_ylim(diag)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel(strings.t(lang, "gradients.fig.factors.xlabel"))
    ax.set_ylabel(strings.t(lang, "gradients.fig.factors.ylabel"))
    handles += [Line2D([], [], color="#777777", linewidth=1.0,
                       label=strings.t(lang, "gradients.fig.factors.diag", tol=f"{tol:.0%}"))]
    ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig = style.finish(fig)
    return fig
