"""The training page's regularization figure (``training_reg``): train and validation accuracy per setting.

A drawing function of the figure registry (generator/figures/registry.py) with the signature and text
rules of the other training figures (generator/figures/training.py): ``(data, lang, *, target_accuracy)
-> Figure``, ``data["training_reg"]`` the regularization runs, every label from the strings catalog
(``fig.training.*``). Settings: :data:`REG_SETTINGS` (norm, dropout on/off), in drawing order.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from generator.analysis.training_stats import seed_interval
from generator.figures import style
from generator.render import strings


def _t(lang, key, **kw):
    return strings.t(lang, f"fig.training.{key}", **kw)  # the catalog table of every training figure


REG_SETTINGS = (("none", False), ("none", True), ("bn", False), ("bn", True))


def fig_reg(data, lang, *, target_accuracy: float):
    """Dot plot: per setting the seed/split mean with its 95 % t interval (error bar) and every single
    run as a small dot. Dots carry no length, so the y axis is free to zoom on the data (a bar chart
    would have to start at 0 % to be honest)."""
    d = data["training_reg"]
    fig = style.new_figure(3.6)
    ax, ax_loss = fig.subplots(1, 2, gridspec_kw={"width_ratios": [2, 1]})
    fig.suptitle(_t(lang, "reg.title"))
    x = np.arange(len(REG_SETTINGS))
    w = 0.18
    stats = {"train_acc": [], "val_acc": [], "val_loss": []}
    runs = {col: [] for col in stats}
    labels = []
    for norm, drop in REG_SETTINGS:
        sub = d[(d["norm"] == norm) & ((d["dropout"] > 0) == drop)]
        for col in stats:
            vals = pd.to_numeric(sub[col], errors="coerce").to_numpy(dtype=float) if col in sub else np.array([])
            stats[col].append(seed_interval(vals))
            runs[col].append(vals[np.isfinite(vals)])
        labels.append(_t(lang, f"reg.{norm}_{'dropout' if drop else 'plain'}"))

    def dots(axis, xs, col, color, marker, label):
        m = np.array([r["mean"] for r in stats[col]])
        err = np.array([[r["mean"] - r["lo"], r["hi"] - r["mean"]] for r in stats[col]]).T
        for xi, v in zip(xs, runs[col]):  # single runs, spread evenly around the setting's x
            axis.plot(
                xi + np.linspace(-0.05, 0.05, len(v)) if len(v) > 1 else [xi] * len(v),
                v,
                linestyle="none",
                marker=marker,
                markersize=3,
                color=color,
                alpha=0.35,
                markeredgewidth=0,
            )
        axis.errorbar(
            xs,
            m,
            yerr=np.where(np.isfinite(err), err, 0.0),
            linestyle="none",
            marker=marker,
            markersize=7,
            color=color,
            capsize=3,
            elinewidth=1.3,
            label=label,
        )
        return m

    tr = dots(ax, x - w, "train_acc", "#E69F00", "o", _t(lang, "reg.train"))
    va = dots(ax, x + w, "val_acc", "#0072B2", "s", _t(lang, "reg.val"))
    tops = [np.nanmax([r["hi"], r["mean"], *runs["train_acc"][i]]) for i, r in enumerate(stats["train_acc"])]
    for xi, a, b, top in zip(x, tr, va, tops):
        if np.isfinite(a) and np.isfinite(b):
            ax.text(
                xi, top + 0.015, _t(lang, "reg.gap", gap=f"{100 * (a - b):.1f}"), ha="center", va="bottom", fontsize=8
            )
    dots(ax_loss, x, "val_loss", "#009E73", "D", _t(lang, "val_loss"))
    for axis in (ax, ax_loss):
        axis.set_xticks(x)
        axis.set_xticklabels(labels, rotation=20, ha="right")
        axis.set_xlim(-0.5, len(x) - 0.5)
    acc = np.concatenate([v for col in ("train_acc", "val_acc") for v in runs[col]] + [np.array([np.nan])])
    acc = acc[np.isfinite(acc)]
    lo, hi = (float(acc.min()), float(acc.max())) if acc.size else (0.0, 1.0)
    lo, hi = max(0.0, math.floor(lo * 20 - 1) / 20), min(1.0, math.ceil(hi * 20) / 20)
    ax.set_ylim(lo, hi + 0.12 * (hi - lo))  # headroom for the gap labels
    ax.set_yticks([v for v in ax.get_yticks() if lo - 1e-9 <= v <= min(1.0, hi) + 1e-9])  # no tick above 100 %
    ax.yaxis.set_major_formatter(lambda v, _: f"{100 * v:.0f}%")
    ax.set_ylabel(_t(lang, "accuracy"))
    ax_loss.set_ylabel(_t(lang, "val_loss"))
    ax.legend(loc="lower left", ncols=2, fontsize=8)
    fig.supxlabel(_t(lang, "reg.dots_note"), fontsize=8.5, color="#444444")
    style.finish(fig)
    for axis in (ax, ax_loss):  # category names need Hangul; finish() sets numbers to DejaVu Sans
        for lbl in axis.get_xticklabels():
            lbl.set_fontfamily(style.TEXT_FAMILY)
    return fig
