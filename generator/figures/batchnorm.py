"""The batchnorm page's figure ``bn_spread``: last-layer std of every random init per activation, one
panel per norm (none | bn, shared log y). The values come from
:func:`generator.analysis.factors.last_layer_std`. Text comes from ``[batchnorm.fig]`` in
templates/strings/{ko,en}/pages_b.toml.
"""

from __future__ import annotations

import numpy as np
from matplotlib.lines import Line2D

from generator.analysis.factors import ACT_ORDER, INIT_ORDER, last_layer_std, ordered
from generator.figures import style
from generator.render import strings


def bn_spread(data, lang: str, *, norms=("none", "bn")):
    """Last-layer std of each random init, per activation, one panel per norm (shared log y)."""
    prop = data["propagation"]
    depth = int(prop["layer"].max())
    ls = last_layer_std(prop, depth)
    ls = ls[ls["init"] != "zeros"]
    acts = ordered(ls["activation"], ACT_ORDER)
    inits = ordered(ls["init"], INIT_ORDER)
    norms = [n for n in norms if n in set(ls["norm"])]
    fig = style.new_figure(4.2)
    axes = fig.subplots(1, len(norms), sharey=True, squeeze=False)[0]
    fig.suptitle(strings.t(lang, "batchnorm.fig.spread.title", layer=depth))
    n_i = max(len(inits), 1)
    offsets = (np.arange(n_i) - (n_i - 1) / 2) * (0.7 / n_i)
    any_div = False
    for ax, norm in zip(axes, norms):
        sub = ls[ls["norm"] == norm]
        for k, init in enumerate(inits):
            color, _, marker = style.init_style(init)
            s = sub[sub["init"] == init].set_index("activation").reindex(acts)
            x = np.arange(len(acts)) + offsets[k]
            ax.plot(
                x,
                style.positive_or_nan(s["std"].to_numpy(dtype=float)),
                linestyle="none",
                marker=marker,
                markersize=6,
                color=color,
                markerfacecolor="none",
                markeredgewidth=1.4,
            )
            d = s["diverged"].fillna(False).to_numpy(dtype=bool)
            if d.any():
                any_div = True
                style.mark_layers(ax, x[d], "diverged", color)
        ax.set_title(style.label(lang, "norm", norm))
        ax.set_xticks(range(len(acts)), [style.label(lang, "activation", a) for a in acts], rotation=35, ha="right")
        ax.set_xlim(-0.6, len(acts) - 0.4)
        ax.grid(axis="x", visible=False)
    # one decade-aligned log scale for both panels (shared y), from every plotted value
    v = style.positive_or_nan(ls["std"].to_numpy(dtype=float))
    v = v[np.isfinite(v)]
    lo_d, hi_d, step = style.decade_limits(float(v.min()), float(v.max()), max_ticks=8) if v.size else (-1, 1, 1)
    span = hi_d - lo_d
    from matplotlib.ticker import FixedLocator, NullLocator

    for ax in axes:
        ax.set_yscale("log")
        ax.set_ylim(10.0 ** (lo_d - 0.03 * span), 10.0 ** (hi_d + (0.11 if any_div else 0.03) * span))
        ax.yaxis.set_major_locator(FixedLocator(10.0 ** np.arange(lo_d, hi_d + 1, step)))
        ax.yaxis.set_minor_locator(NullLocator())
    axes[0].set_ylabel(strings.t(lang, "fig.std_log"))
    handles = [
        Line2D(
            [],
            [],
            linestyle="none",
            marker=style.init_style(i)[2],
            markersize=6,
            color=style.init_style(i)[0],
            markerfacecolor="none",
            markeredgewidth=1.4,
            label=style.label(lang, "init", i),
        )
        for i in inits
    ]
    handles += style.edge_marker_handles(lang, any_div, False)
    axes[-1].legend(handles=handles, loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig = style.finish(fig)
    for ax in axes:  # activation names may be Hangul
        ax.tick_params(axis="x", labelfontfamily=style.TEXT_FAMILY)
    return fig
