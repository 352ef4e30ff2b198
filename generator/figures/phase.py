"""Figures of the phase page (order and chaos), one Korean and one English SVG each.

Drawing functions of the figure registry (generator/figures/registry.py, ``phase_*``), each
``(data, lang) -> Figure`` where ``data`` maps table keys to the contract files' DataFrames
(``phase_theory``, ``phase_critical``, ``phase_measured``, ``trainability``: issue 17 item 7):

* :func:`phase_chi1` -- per activation a heatmap of chi1 over (sigma_w2, sigma_b2) on a diverging colour
  scale centred at chi1 = 1 (log2 of chi1), ``explodes`` cells hatched, the critical line from
  phase_critical.csv, and the named inits (:data:`generator.figures.instances.PHASE_INITS`) at sigma_b2 = 0,
  their sigma_w2 from generator.engine.theory.sigma_w2 (inits with the same sigma_w2 share one label);
* :func:`phase_xi_c` -- per measured activation: theory xi_c over the whole grid, and the fitted xi_c
  (generator.analysis.phase ``xi_c_fits``) on the measured points at the largest width, inconclusive
  cells grey and hatched with their value still printed when there is one;
* :func:`phase_width` -- the finite-width error (generator.analysis.phase ``q_error``): relative error of
  q and absolute error of c against width, log-log, one thin line per grid point, coloured by activation,
  with 1/N and 1/sqrt(N) reference slopes anchored at the smallest width's geometric mean;
* :func:`phase_trainability` -- seed-mean accuracy over sigma_w2 x depth (generator.analysis.trainability
  ``accuracy_grid``) with 6 xi_c (``xi_c_curve``) drawn over it (Schoenholz et al. 2017, Fig. 5 analogue).

The analysis modules are imported inside the functions (the import closure, and so the cache key, sees
them all the same: generator/common/imports.py). All text comes from the strings catalog (``phase.fig.*``).
"""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm, TwoSlopeNorm
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from generator.analysis.factors import ACT_ORDER
from generator.engine import theory
from generator.figures import numbers, style
from generator.figures.instances import PHASE_INITS
from generator.render import strings
from generator.render.wording import cfg

CHI_CMAP = "RdBu_r"  # diverging: blue ordered (chi1 < 1), red chaotic (chi1 > 1)
XI_CMAP = "viridis"
ACT_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#882255", "#000000")
CURVE_POINTS = 41  # sigma_w2 samples of the 6 xi_c curve
MAX_LABELLED_CELLS = 120  # cell values printed only when the grid is this small
SW, SB, XI = r"$\sigma_w^2$", r"$\sigma_b^2$", r"$\xi_c$"  # mathtext (DejaVu Sans), same in both languages


def _t(lang, key, **kw):
    return strings.t(lang, f"phase.fig.{key}", **kw)


def _acts(frame: pd.DataFrame) -> list[str]:
    have = set(frame["activation"].unique()) if len(frame) else set()
    return [a for a in ACT_ORDER if a in have] + sorted(a for a in have if a not in ACT_ORDER)


def _edges(centres) -> np.ndarray:
    """Cell edges around sorted centres (midpoints; the outer cells as wide as their neighbour)."""
    c = np.asarray(centres, dtype=float)
    if len(c) == 1:
        return np.array([c[0] - 0.5, c[0] + 0.5])
    mid = (c[1:] + c[:-1]) / 2
    return np.concatenate(([c[0] - (mid[0] - c[0])], mid, [c[-1] + (c[-1] - mid[-1])]))


def _pivot(frame, value, index="sigma_b2", columns="sigma_w2"):
    p = frame.pivot_table(index=index, columns=columns, values=value, aggfunc="first", dropna=False)
    return p.sort_index().sort_index(axis=1)


def _hatch_cells(ax, mask, xe, ye, color="#555555", face="white", hatch="///"):
    for i, j in zip(*np.nonzero(mask), strict=True):
        ax.add_patch(
            Rectangle(
                (xe[j], ye[i]), xe[j + 1] - xe[j], ye[i + 1] - ye[i], facecolor=face, edgecolor=color, hatch=hatch, lw=0
            )
        )


def _panels(n: int, height_each: float, ncols: int = 2):
    ncols = max(1, min(ncols, n))
    nrows = max(1, math.ceil(n / ncols))
    fig = style.new_figure(0.9 + height_each * nrows)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for k in range(n, nrows * ncols):
        axes.flat[k].set_visible(False)
    return fig, list(axes.flat[:n])


# --- chi1 ---------------------------------------------------------------------------------------------


def _init_marks(act: str, x_lo: float, x_hi: float) -> list[tuple[float, list[str]]]:
    """(sigma_w2, [inits]) at sigma_b2 = 0 for the named inits inside the x range; equal sigma_w2 grouped."""
    groups: dict[float, list[str]] = {}
    for init in PHASE_INITS:
        s2 = theory.sigma_w2(init, act, 100, 100)  # fan_in = fan_out: independent of the width
        if s2 is not None and x_lo <= s2 <= x_hi:
            groups.setdefault(round(s2, 9), []).append(init)
    return sorted(groups.items())


def phase_chi1(data, lang: str):
    th, crit = data["phase_theory"], data["phase_critical"]
    acts = _acts(th)
    fig, axes = _panels(len(acts), 3.0)
    fig.suptitle(_t(lang, "chi1.title"))
    chi = th["chi1"].to_numpy(float)
    good = np.isfinite(chi) & (chi > 0) & (th["regime"].to_numpy() != "explodes")
    span = float(np.nanmax(np.abs(np.log2(chi[good])))) if good.any() else 1.0
    span = max(span, 0.5)
    cnorm = TwoSlopeNorm(vcenter=0.0, vmin=-span, vmax=span)
    cmap = matplotlib.colormaps[CHI_CMAP].with_extremes(bad=style.MISSING_COLOR)
    mesh = None
    for ax, act in zip(axes, acts, strict=True):
        sub = th[th["activation"] == act]
        p = _pivot(sub, "chi1")
        reg = _pivot(sub, "regime")
        xe, ye = _edges(p.columns), _edges(p.index)
        vals = p.to_numpy(float)
        explodes = reg.to_numpy() == "explodes"
        ok = np.isfinite(vals) & (vals > 0) & ~explodes
        shown = np.ma.masked_array(np.log2(np.where(ok, vals, 1.0)), mask=~ok)
        mesh = ax.pcolormesh(xe, ye, shown, cmap=cmap, norm=cnorm, shading="flat")
        _hatch_cells(ax, explodes, xe, ye, hatch="xx")
        c = crit[crit["activation"] == act].sort_values("sigma_b2")
        c = c[np.isfinite(c["sigma_w2_critical"])]
        ax.plot(c["sigma_w2_critical"], c["sigma_b2"], color="black", lw=2.0)
        for k, (s2, inits) in enumerate(_init_marks(act, xe[0], xe[-1])):
            ax.plot([s2], [ye[0]], marker="o", ms=7, color="black", mfc="white", clip_on=False, zorder=5)
            ax.annotate(  # staggered upwards: neighbouring inits' labels would overlap on one line
                ", ".join(style.label(lang, "init", i) for i in inits),
                (s2, ye[0]),
                xytext=(0, 9 + 14 * k),
                textcoords="offset points",
                ha="center",
                fontsize=8,
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85},
                zorder=6,
            )
        ax.set_xlim(xe[0], xe[-1])
        ax.set_ylim(ye[0], ye[-1])
        ax.set_title(style.label(lang, "activation", act))
        ax.set_xlabel(SW)
        ax.set_ylabel(SB)
    if mesh is not None:
        ticks = [v for v in range(-math.floor(span), math.floor(span) + 1)]
        cb = fig.colorbar(mesh, ax=axes, ticks=ticks, shrink=0.9)
        cb.ax.set_yticklabels([cfg(2.0**v, lang) for v in ticks])  # powers of 2: exact, printed as such
        cb.set_label(_t(lang, "chi1.colorbar"))
    handles = [
        Line2D([], [], color="black", lw=2.0, label=_t(lang, "critical_line")),
        Line2D([], [], marker="o", ls="", color="black", mfc="white", label=_t(lang, "named_inits")),
        Patch(facecolor="white", edgecolor="#555555", hatch="xx", label=_t(lang, "regime_explodes")),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=3, frameon=False)
    return style.finish(fig)


# --- xi_c ---------------------------------------------------------------------------------------------


def _xi_norm(values) -> LogNorm:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    lo, hi = (float(v.min()), float(v.max())) if len(v) else (1.0, 10.0)
    return LogNorm(vmin=lo, vmax=max(hi, lo * 10))


def _cell_text(ax, x, y, text, rgba):
    ax.text(x, y, text, ha="center", va="center", fontsize=8, color=style.text_color_for(rgba))


def _xi_theory_panel(ax, sub, fits, cnorm, cmap, lang):
    p = _pivot(sub, "xi_c")
    xe, ye = _edges(p.columns), _edges(p.index)
    vals = p.to_numpy(float)
    shown = np.ma.masked_invalid(np.where(np.isinf(vals), cnorm.vmax, vals))
    mesh = ax.pcolormesh(xe, ye, shown, cmap=cmap, norm=cnorm, shading="flat")
    _hatch_cells(ax, _pivot(sub, "regime").to_numpy() == "explodes", xe, ye, hatch="xx")
    ax.plot(fits["sigma_w2"], fits["sigma_b2"], ls="", marker="s", ms=9, mfc="none", mec="white", mew=1.2)
    ax.set_xlim(xe[0], xe[-1])
    ax.set_ylim(ye[0], ye[-1])
    ax.set_xlabel(SW)
    ax.set_ylabel(SB)
    return mesh


def _xi_measured_panel(ax, fits, cnorm, cmap, lang):
    xs, ys = sorted(fits["sigma_w2"].unique()), sorted(fits["sigma_b2"].unique())
    cmap_obj = cmap
    for _, r in fits.iterrows():
        i, j = ys.index(r["sigma_b2"]), xs.index(r["sigma_w2"])
        fit, th = float(r["xi_c_fit"]), float(r["xi_c_theory"])
        inconclusive = r["status"] != "fit" or not (np.isfinite(fit) and fit > 0)
        if inconclusive:
            ax.add_patch(
                Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor=style.MISSING_COLOR, edgecolor="#555555", hatch="///")
            )
            rgba = matplotlib.colors.to_rgba(style.MISSING_COLOR)
        else:
            rgba = cmap_obj(cnorm(min(max(fit, cnorm.vmin), cnorm.vmax)))
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor=rgba, edgecolor="white"))
        fit_txt = numbers.fmt_sig(fit, 2) if np.isfinite(fit) else _t(lang, "xi_c.none")
        th_txt = "∞" if np.isinf(th) else numbers.fmt_sig(th, 2)
        _cell_text(ax, j, i, f"{fit_txt}\n({th_txt})", rgba)
    ax.set_xlim(-0.5, len(xs) - 0.5)
    ax.set_ylim(-0.5, len(ys) - 0.5)
    ax.set_xticks(range(len(xs)), [cfg(x, lang) for x in xs])  # grid points: printed as configured
    ax.set_yticks(range(len(ys)), [cfg(y, lang) for y in ys])
    ax.set_xlabel(SW)
    ax.set_ylabel(SB)


def phase_xi_c(data, lang: str, q0: float, c0: float, points: int):
    from generator.analysis.phase import theory_lookup, xi_c_fits

    th, measured = data["phase_theory"], data["phase_measured"]
    fits_all = xi_c_fits(measured, theory_lookup(th), q0, c0, points)
    acts = [a for a in _acts(fits_all) if a in set(th["activation"])]
    fig = style.new_figure(0.9 + 2.9 * max(len(acts), 1))
    fig.suptitle(_t(lang, "xi_c.title"))
    axes = fig.subplots(max(len(acts), 1), 2, squeeze=False)
    cnorm = _xi_norm(th["xi_c"])
    cmap = matplotlib.colormaps[XI_CMAP].with_extremes(bad=style.MISSING_COLOR)
    mesh = None
    for row, act in zip(axes, acts, strict=False):
        f = fits_all[fits_all["activation"] == act]
        width = int(f["width"].max())
        f = f[f["width"] == width]
        mesh = _xi_theory_panel(row[0], th[th["activation"] == act], f, cnorm, cmap, lang)
        row[0].set_title(_t(lang, "xi_c.theory", activation=style.label(lang, "activation", act)))
        _xi_measured_panel(row[1], f, cnorm, cmap, lang)
        row[1].set_title(_t(lang, "xi_c.measured", activation=style.label(lang, "activation", act), width=width))
    if not acts:
        for ax in axes.flat:
            ax.set_axis_off()
    if mesh is not None:
        fig.colorbar(mesh, ax=axes, shrink=0.9, label=XI)
    handles = [
        Patch(facecolor=style.MISSING_COLOR, edgecolor="#555555", hatch="///", label=_t(lang, "xi_c.inconclusive")),
        Patch(facecolor="white", edgecolor="#555555", hatch="xx", label=_t(lang, "regime_explodes")),
        Line2D([], [], ls="", marker="s", mfc="none", mec="#555555", label=_t(lang, "xi_c.points")),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=3, frameon=False)
    return style.finish(fig)


# --- finite width -------------------------------------------------------------------------------------


def _reference(ax, widths, anchor, power, ls, label):
    w = np.array([min(widths), max(widths)], dtype=float)
    ax.plot(w, anchor * (w / w[0]) ** (-power), color="#555555", ls=ls, lw=1.2, label=label)


def phase_width(data, lang: str, q0: float, c0: float, points: int):
    from generator.analysis.phase import q_error

    err = q_error(data["phase_measured"], q0, c0, points)
    fig = style.new_figure(3.6)
    fig.suptitle(_t(lang, "width.title"))
    axes = fig.subplots(1, 2)
    handles = []
    for k, act in enumerate(_acts(err)):
        color = ACT_COLORS[k % len(ACT_COLORS)]
        sub = err[err["activation"] == act]
        for col, ax in zip(("rel_err", "c_err"), axes, strict=True):
            for _, g in sub.groupby(["sigma_w2", "sigma_b2"], sort=True):
                g = g.sort_values("width")
                y = style.positive_or_nan(g[col])
                ax.plot(g["width"], y, color=color, lw=0.9, alpha=0.6, marker="o", ms=3)
        handles.append(Line2D([], [], color=color, marker="o", ms=3, label=style.label(lang, "activation", act)))
    for col, ax in zip(("rel_err", "c_err"), axes, strict=True):
        y = style.positive_or_nan(err[col])
        widths = err["width"].to_numpy(float)
        first = y[widths == widths.min()] if len(widths) else np.array([])
        first = first[np.isfinite(first)]
        if len(first):
            anchor = float(np.exp(np.mean(np.log(first))))
            _reference(ax, widths, anchor, 1.0, (0, (5, 2)), _t(lang, "width.ref_n"))
            _reference(ax, widths, anchor, 0.5, (0, (1.5, 1.5)), _t(lang, "width.ref_sqrt"))
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(_t(lang, "width.x"))
        ax.set_ylabel(_t(lang, f"width.{col}"))
    handles += axes[0].get_legend_handles_labels()[0]
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 4), frameon=False)
    return style.finish(fig)


# --- trainability -------------------------------------------------------------------------------------


def phase_trainability(data, lang: str):
    from generator.analysis.trainability import accuracy_grid, xi_c_curve

    tr = data["trainability"]
    grid = accuracy_grid(tr)
    fig = style.new_figure(4.2)
    ax = fig.add_subplot()
    act = str(tr["activation"].iloc[0]) if len(tr) else "tanh"
    b2 = float(tr["sigma_b2"].iloc[0]) if len(tr) else 0.0
    fig.suptitle(
        _t(lang, "trainability.title", activation=style.label(lang, "activation", act), sigma_b2=cfg(b2, lang))
    )
    p = _pivot(grid, "mean", index="depth", columns="sigma_w2")
    xe, ye = _edges(p.columns), _edges(p.index)
    vals = p.to_numpy(float)
    cmap = matplotlib.colormaps[XI_CMAP].with_extremes(bad=style.MISSING_COLOR)
    mesh = ax.pcolormesh(xe, ye, np.ma.masked_invalid(vals), cmap=cmap, vmin=0.0, vmax=1.0, shading="flat")
    if vals.size <= MAX_LABELLED_CELLS:
        for i, d in enumerate(p.index):
            for j, s2 in enumerate(p.columns):
                if np.isfinite(vals[i, j]):
                    _cell_text(ax, s2, d, numbers.fmt_sig(vals[i, j], 2), cmap(vals[i, j]))
    if len(p.columns):
        s2s = np.linspace(float(p.columns.min()), float(p.columns.max()), CURVE_POINTS)
        curve = xi_c_curve(act, b2, s2s)
        y = np.where(np.isfinite(curve["six_xi_c"]), curve["six_xi_c"], ye[-1] * 10)
        ax.plot(curve["sigma_w2"], y, color="white", lw=3.2)
        ax.plot(curve["sigma_w2"], y, color="#D55E00", lw=1.8, ls=(0, (5, 2)), label=_t(lang, "trainability.six_xi"))
        ax.legend(loc="upper right", framealpha=0.9)
    ax.set_xlim(xe[0], xe[-1])
    ax.set_ylim(ye[0], ye[-1])
    ax.set_xlabel(SW)
    ax.set_ylabel(_t(lang, "trainability.depth"))
    fig.colorbar(mesh, ax=ax, label=_t(lang, "trainability.accuracy"))
    return style.finish(fig)
