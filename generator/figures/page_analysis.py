"""Figures (and the factor tables behind them) for the gradients / batchnorm / theory / results pages.

The factor tables live here, in the figures package, so that a change to them also invalidates the
figure cache (figures_stage hashes this package's source); the page contexts import them from here.
Every mean over seeds comes from generator/analysis/seeds.py (one rule for diverged seeds).

Figures::

    grad_factors    forward factor (x) vs backward factor (y) per layer, every (init, activation), log-log,
                    the diagonal b = f, off-diagonal points labelled with their activation
    bn_spread       last-layer std of every random init per activation: norm none | bn, log y

Text comes from ``[gradients.fig]`` / ``[batchnorm.fig]`` in templates/strings/{ko,en}/pages_b.toml.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from generator.analysis.seeds import SeedMeans
from generator.render import strings
from generator.analysis.rules import MATCH_TOL
from generator.figures import FigureSpec, register, style
from generator.figures.heatmaps import ACT_ORDER, INIT_ORDER


# ------------------------------------------------------------------------------------------------
# aggregations


def ordered(values, order) -> list:
    """Distinct ``values`` in the order of ``order`` (values not in it last, sorted)."""
    have = list(dict.fromkeys(values))
    return [v for v in order if v in have] + sorted(v for v in have if v not in order)


def seed_mean(prop: pd.DataFrame) -> pd.DataFrame:
    """Per (init, activation, norm, layer): :meth:`SeedMeans.table` of ``prop`` (means over the
    contributing seeds and the flags, generator/analysis/seeds.py) with ``all_zero_grad``
    (grad_h_std == 0 in every seed)."""
    return SeedMeans.of(prop).table(("zero_grad_h_std",)).rename(columns={"zero_grad_h_std": "all_zero_grad"})


def _pos_ratio(a: float, b: float) -> float:
    if not (np.isfinite(a) and np.isfinite(b)) or a <= 0 or b <= 0:
        return math.nan
    return a / b


def layer_factors(rows: pd.DataFrame, depth: int) -> dict:
    """Per-layer geometric-mean factors of one configuration (``rows`` from :func:`seed_mean`, one
    per layer): ``fwd = (std_L/std_1)^(1/(L-1))``, ``bwd = (g_1/g_L)^(1/(L-1))`` with g = grad_h_std,
    ``gain = g_1/g_L``; NaN where a value is missing, zero or diverged."""
    nan = math.nan
    rows = rows.set_index("layer") if "layer" in rows.columns else rows
    if depth < 2 or 1 not in rows.index or depth not in rows.index:
        return {"fwd": nan, "bwd": nan, "gain": nan, "diverged": True, "zero_grad": False}
    diverged = bool(rows["diverged"].any())
    fs = _pos_ratio(float(rows.loc[depth, "std"]), float(rows.loc[1, "std"]))
    gs = _pos_ratio(float(rows.loc[1, "grad_h_std"]), float(rows.loc[depth, "grad_h_std"]))
    if diverged:
        fs = gs = nan
    n = depth - 1
    return {"fwd": fs ** (1 / n) if np.isfinite(fs) else nan, "bwd": gs ** (1 / n) if np.isfinite(gs) else nan,
            "gain": gs, "diverged": diverged, "zero_grad": bool(rows.loc[1, "all_zero_grad"])}


def all_factors(prop: pd.DataFrame, depth: int, norm: str = "none") -> pd.DataFrame:
    """:func:`layer_factors` for every (init, activation) of ``prop`` at ``norm``."""
    means = seed_mean(prop[prop["norm"] == norm])
    rows = []
    for (init, act), sub in means.groupby(["init", "activation"], sort=False):
        rows.append({"init": init, "activation": act, **layer_factors(sub, depth)})
    return pd.DataFrame(rows, columns=["init", "activation", "fwd", "bwd", "gain", "diverged", "zero_grad"])


def last_layer_std(prop: pd.DataFrame, depth: int) -> pd.DataFrame:
    """Seed-averaged last-layer std per (init, activation, norm) with ``diverged`` (any seed, any layer:
    the flag ``diverged_case``); a diverged configuration's std is NaN (left out, and counted)."""
    t = SeedMeans.of(prop).table()
    out = t.loc[t["layer"] == depth, ["init", "activation", "norm", "std", "diverged_case"]]
    out = out.rename(columns={"diverged_case": "diverged"}).reset_index(drop=True)
    out.loc[out["diverged"], "std"] = math.nan
    return out


def init_spread(prop: pd.DataFrame, depth: int, exclude=("zeros",)) -> pd.DataFrame:
    """How much the last-layer std depends on the init: per (activation, norm), over the random inits
    (``exclude`` left out) that did not diverge -- ``ratio`` = max/min of the seed-averaged std,
    ``sd_log10`` = population std of log10(std), plus ``n`` inits used and ``n_div`` diverged."""
    ls = last_layer_std(prop, depth)
    ls = ls[~ls["init"].isin(exclude)]
    rows = []
    for (act, norm), sub in ls.groupby(["activation", "norm"], sort=False):
        v = sub["std"].to_numpy(dtype=float)
        ok = v[np.isfinite(v) & (v > 0)]
        rows.append({
            "activation": act, "norm": norm, "n": int(ok.size), "n_div": int(sub["diverged"].sum()),
            "lo": float(ok.min()) if ok.size else math.nan, "hi": float(ok.max()) if ok.size else math.nan,
            "ratio": float(ok.max() / ok.min()) if ok.size else math.nan,
            "sd_log10": float(np.log10(ok).std()) if ok.size else math.nan,
        })
    return pd.DataFrame(rows, columns=["activation", "norm", "n", "n_div", "lo", "hi", "ratio", "sd_log10"])


# ------------------------------------------------------------------------------------------------
# figures


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
            ax.plot(x, style.positive_or_nan(s["std"].to_numpy(dtype=float)), linestyle="none", marker=marker,
                    markersize=6, color=color, markerfacecolor="none", markeredgewidth=1.4)
            d = s["diverged"].fillna(False).to_numpy(dtype=bool)
            if d.any():
                any_div = True
                style.mark_layers(ax, x[d], "diverged", color)
        ax.set_title(style.label(lang, "norm", norm))
        ax.set_xticks(range(len(acts)), [style.label(lang, "activation", a) for a in acts], rotation=35,
                      ha="right")
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
    handles = [Line2D([], [], linestyle="none", marker=style.init_style(i)[2], markersize=6,
                      color=style.init_style(i)[0], markerfacecolor="none", markeredgewidth=1.4,
                      label=style.label(lang, "init", i)) for i in inits]
    handles += style.edge_marker_handles(lang, any_div, False)
    axes[-1].legend(handles=handles, loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig = style.finish(fig)
    for ax in axes:  # activation names may be Hangul
        ax.tick_params(axis="x", labelfontfamily=style.TEXT_FAMILY)
    return fig


def _factor_jobs(axes: dict) -> list[dict]:
    if "none" not in axes["norms"]:
        return []

    return [{"tol": MATCH_TOL, "norm": "none"}]


def _spread_jobs(axes: dict) -> list[dict]:
    norms = tuple(n for n in ("none", "bn", "bn_post") if n in axes["norms"])
    return [{"norms": norms}] if "none" in norms and len(norms) > 1 else []


register(FigureSpec("grad_factors", grad_factors, ("propagation",), lambda **_: "grad_factors",
                    lambda lang, p: strings.t(lang, "gradients.fig.factors.alt")), _factor_jobs)
register(FigureSpec("bn_spread", bn_spread, ("propagation",), lambda **_: "bn_spread",
                    lambda lang, p: strings.t(lang, "batchnorm.fig.spread.alt")), _spread_jobs)
