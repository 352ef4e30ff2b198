"""Figures of the training experiments, one Korean and one English SVG each.

Each ``fig_*`` function is a drawing function of the figure registry (generator/figures/registry.py,
``training_*``): ``(data, lang, *, target_accuracy) -> Figure``, where ``data`` maps the registry's
table keys (``training_init``, ... = the training CSVs without ``.csv``) to DataFrames and
``target_accuracy`` is the config's target, drawn as a dotted line. All text comes from the strings
catalog (``fig.training.*``); styles come from generator/figures/style.py, saving from
generator/figures/draw.py. Seeds are summarised as the mean and its 95 % Student-t interval
(generator/analysis/training_stats.py ``seed_interval``): error bars at discrete x (scales, learning
rates, depths, batch sizes, bars), a band around curves over SGD steps. The batch-size figure shows
each arm at the learning rate the page states (generator/analysis/training_tables.py ``batch_choice``).
The regularization figure (``fig_reg``, a dot plot) is in generator/figures/training_reg.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from generator.analysis.training_stats import seed_interval
from generator.analysis.training_tables import batch_choice
from generator.figures import numbers, style
from generator.render import strings

NORM_STYLE = {"none": ("#D55E00", (0, (5, 2)), "s"), "bn": ("#0072B2", "-", "o")}
PRE_STYLE = {
    "raw": ("#D55E00", (0, (1.5, 1.5)), "s"),
    "scale": ("#E69F00", (0, (5, 2)), "D"),
    "center": ("#009E73", (0, (6, 2, 1.5, 2)), "^"),
    "standardize": ("#0072B2", "-", "o"),
}
INIT_DEPTH_STYLE = {
    ("he", "none"): ("#D55E00", (0, (5, 2)), "s"),
    ("xavier", "none"): ("#E69F00", (0, (1.5, 1.5)), "v"),
    ("he", "bn"): ("#0072B2", "-", "o"),
    ("xavier", "bn"): ("#009E73", (0, (6, 2, 1.5, 2)), "^"),
}


def _t(lang, key, **kw):
    return strings.t(lang, f"fig.training.{key}", **kw)


def _norm(lang, norm):
    return _t(lang, f"norm.{norm}")


def _pct(x):
    return f"{100 * x:.0f}%"


def _band(ax, x, g, color, ls, marker, label, log_x=False):
    """Mean line; with markers: 95 % error bars at each x, without: a 95 % band (curves over steps)."""
    if marker is None:
        ax.fill_between(x, g["lo"], g["hi"], color=color, alpha=style.BAND_ALPHA, linewidth=0)
        ax.plot(x, g["mean"], color=color, linestyle=ls, label=label)
        return
    m = g["mean"].to_numpy(float)
    err = np.vstack([m - g["lo"].to_numpy(float), g["hi"].to_numpy(float) - m])
    ax.errorbar(
        x,
        m,
        yerr=np.where(np.isfinite(err), err, 0.0),
        color=color,
        linestyle=ls,
        marker=marker,
        capsize=2.5,
        elinewidth=0.9,
        label=label,
    )


def _agg(df, by, col):
    """Per value of ``by``: mean and 95 % t interval of ``col`` over the seeds (NaN values left out)."""
    rows = {k: seed_interval(d[col]) for k, d in df.groupby(by, sort=True)}
    return pd.DataFrame.from_dict(rows, orient="index", columns=["mean", "lo", "hi", "n"])


def _target(ax, target, lang):
    ax.axhline(target, color="#555555", linewidth=0.9, linestyle=(0, (1, 2)), zorder=1)
    ax.text(
        0.005,
        target,
        _t(lang, "target", pct=_pct(target)),
        transform=ax.get_yaxis_transform(),
        va="bottom",
        ha="left",
        fontsize=8,
        color="#444444",
    )


def _acc_axis(ax, lang, label=True):
    ax.set_ylim(-0.02, 1.02)
    ax.yaxis.set_major_formatter(lambda v, _: f"{100 * v:.0f}%")
    if label:
        ax.set_ylabel(_t(lang, "val_acc"))


# --- (a) init sensitivity ----------------------------------------------------------------------


def fig_init(data, lang, *, target_accuracy: float):
    d = data["training_init"]
    acts = list(dict.fromkeys(d["activation"]))
    fig = style.new_figure(3.6)
    axes = fig.subplots(1, len(acts), sharey=True, squeeze=False)[0]
    fig.suptitle(_t(lang, "init.title"))
    for ax, act in zip(axes, acts):
        for norm in ("none", "bn"):
            color, ls, marker = NORM_STYLE[norm]
            g = _agg(d[(d["activation"] == act) & (d["norm"] == norm)], "init_scale", "val_acc")
            _band(ax, g.index.to_numpy(), g, color, ls, marker, _norm(lang, norm))
            div = d[(d["activation"] == act) & (d["norm"] == norm) & d["diverged"].astype(bool)]["init_scale"].unique()
            if len(div):
                ax.plot(div, [0.0] * len(div), linestyle="none", marker="x", color=color, markersize=7, mew=1.8)
        ax.set_xscale("log")
        ax.set_title(strings.t(lang, f"fig.activation.{act}"))
        ax.set_xlabel(_t(lang, "init.xlabel"))
        _acc_axis(ax, lang, label=ax is axes[0])
        _target(ax, target_accuracy, lang)
    handles, _ = axes[0].get_legend_handles_labels()
    handles.append(_x_handle(lang))
    fig.legend(handles=handles, loc="outside lower center", ncols=3)
    return style.finish(fig)


def _x_handle(lang):
    from matplotlib.lines import Line2D

    return Line2D(
        [], [], linestyle="none", marker="x", color="#444444", markersize=7, mew=1.8, label=_t(lang, "diverged")
    )


# --- (b) learning rate ---------------------------------------------------------------------------


def fig_lr(data, lang, *, target_accuracy: float):
    d = data["training_lr"]
    fig = style.new_figure(3.6)
    ax = fig.add_subplot()
    fig.suptitle(_t(lang, "lr.title"))
    for norm in ("none", "bn"):
        color, ls, marker = NORM_STYLE[norm]
        sub = d[d["norm"] == norm]
        g = _agg(sub.assign(best_val_acc=sub["best_val_acc"].fillna(0.0)), "learning_rate", "best_val_acc")
        _band(ax, g.index.to_numpy(), g, color, ls, marker, _norm(lang, norm))
        stable = sub.groupby("learning_rate")["stable"].all()
        bad = stable[~stable].index.to_numpy()
        if len(bad):
            ax.plot(bad, g.loc[bad, "mean"], linestyle="none", marker="x", color=color, markersize=8, mew=2)
        if stable.any():
            ax.axvline(stable[stable].index.max(), color=color, linestyle=ls, linewidth=0.9, alpha=0.8)
    ax.set_xscale("log")
    ax.set_xlabel(_t(lang, "lr_axis"))
    _acc_axis(ax, lang)
    ax.set_ylabel(_t(lang, "best_val_acc"))
    _target(ax, target_accuracy, lang)
    from matplotlib.lines import Line2D

    handles, _ = ax.get_legend_handles_labels()
    handles += [
        Line2D([], [], linestyle="none", marker="x", color="#444444", markersize=8, mew=2, label=_t(lang, "unstable")),
        Line2D([], [], color="#444444", linewidth=0.9, label=_t(lang, "max_stable")),
    ]
    ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return style.finish(fig)


# --- (c) speed -----------------------------------------------------------------------------------


def fig_speed(data, lang, *, target_accuracy: float):
    d = data["training_speed"]
    fig = style.new_figure(3.6)
    ax, ax_loss = fig.subplots(1, 2)
    fig.suptitle(_t(lang, "speed.title"))
    for norm in ("none", "bn"):
        color, ls, _marker = NORM_STYLE[norm]
        sub = d[d["norm"] == norm]
        if not len(sub):
            continue
        lr = float(sub["learning_rate"].iloc[0])
        label = _t(lang, "with_lr", norm=_norm(lang, norm), lr=numbers.fmt_sig(lr))
        g = _agg(sub, "step", "val_acc")
        _band(ax, g.index.to_numpy(), g, color, ls, None, label)
        if "val_loss" in sub:
            g = _agg(sub, "step", "val_loss")
            _band(ax_loss, g.index.to_numpy(), g, color, ls, None, label)
        steps = sub.groupby("seed")["steps_to_target"].first().mean()
        if np.isfinite(steps):
            ax.axvline(steps, color=color, linestyle=ls, linewidth=0.9)
    ax.set_xlabel(_t(lang, "step"))
    _acc_axis(ax, lang)
    _target(ax, target_accuracy, lang)
    ax.legend(loc="lower right", fontsize=8)
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel(_t(lang, "step"))
    ax_loss.set_ylabel(_t(lang, "val_loss"))
    return style.finish(fig)


# --- (d) Ioffe & Szegedy Fig. 1 ----------------------------------------------------------------


def fig_fig1(data, lang, *, target_accuracy: float):
    d = data["training_fig1"]
    fig = style.new_figure(3.4)
    axes = fig.subplots(1, 3)
    fig.suptitle(_t(lang, "fig1.title"))
    ax = axes[0]
    for norm in ("none", "bn"):
        color, ls, _ = NORM_STYLE[norm]
        g = _agg(d[d["norm"] == norm], "step", "val_acc")
        _band(ax, g.index.to_numpy(), g, color, ls, None, _norm(lang, norm))
    ax.set_title(_t(lang, "fig1.panel_acc"))
    ax.set_xlabel(_t(lang, "step"))
    _acc_axis(ax, lang)
    ax.legend(loc="upper left", fontsize=8)
    seed = int(d["seed"].min())
    lo = min(d[["p15", "p50", "p85"]].min().min(), -1.0)
    hi = max(d[["p15", "p50", "p85"]].max().max(), 1.0)
    for ax, norm, key in ((axes[1], "none", "fig1.panel_none"), (axes[2], "bn", "fig1.panel_bn")):
        color, _, _ = NORM_STYLE[norm]
        s = d[(d["norm"] == norm) & (d["seed"] == seed)].sort_values("step")
        ax.fill_between(s["step"], s["p15"], s["p85"], color=color, alpha=style.BAND_ALPHA, linewidth=0)
        for col, lw, lstyle in (("p15", 1.0, (0, (3, 1.5))), ("p50", 1.8, "-"), ("p85", 1.0, (0, (3, 1.5)))):
            ax.plot(s["step"], s[col], color=color, linewidth=lw, linestyle=lstyle)
        ax.set_ylim(lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo))
        ax.set_title(_t(lang, key))
        ax.set_xlabel(_t(lang, "step"))
    axes[1].set_ylabel(_t(lang, "fig1.ylabel"))
    return style.finish(fig)


# --- (e) depth -----------------------------------------------------------------------------------


def fig_depth(data, lang, *, target_accuracy: float):
    d = data["training_depth"]
    gr = data["training_depth_grads"]
    fig = style.new_figure(3.8)
    axes = fig.subplots(1, 2)
    fig.suptitle(_t(lang, "depth.title"))
    ax = axes[0]
    deepest = int(d["depth"].max())
    for (init, norm), (color, ls, marker) in INIT_DEPTH_STYLE.items():
        sub = d[(d["init"] == init) & (d["norm"] == norm)]
        if not len(sub):
            continue
        label = f"{strings.t(lang, f'fig.init.{init}')} · {_t(lang, f'norm_short.{norm}')}"
        g = _agg(sub.assign(best_val_acc=sub["best_val_acc"].fillna(0.0)), "depth", "best_val_acc")
        _band(ax, g.index.to_numpy(), g, color, ls, marker, label)
        s = gr[(gr["init"] == init) & (gr["norm"] == norm) & (gr["depth"] == deepest)]
        m = s.groupby("layer")["grad_w_norm"].median()
        axes[1].plot(
            m.index,
            style.positive_or_nan(m.to_numpy()),
            color=color,
            linestyle=ls,
            marker=marker,
            markersize=3,
            label=label,
        )
    ax.set_xticks(sorted(d["depth"].unique()))
    ax.set_xlabel(_t(lang, "depth.xlabel"))
    _acc_axis(ax, lang)
    ax.set_ylabel(_t(lang, "best_val_acc"))
    ax.set_title(_t(lang, "depth.panel_acc"))
    _target(ax, target_accuracy, lang)
    axes[1].set_yscale("log")
    axes[1].set_xlabel(strings.t(lang, "fig.layer"))
    axes[1].set_ylabel(_t(lang, "depth.grad_ylabel"))
    axes[1].set_title(_t(lang, "depth.panel_grad", depth=deepest))
    handles, _ = ax.get_legend_handles_labels()
    fig.legend(handles=handles, loc="outside lower center", ncols=4)
    return style.finish(fig)


# --- (f) batch size ------------------------------------------------------------------------------


def fig_batch(data, lang, *, target_accuracy: float):
    d = data["training_batch"]
    d = d.merge(batch_choice(d), on=["norm", "batch_size", "learning_rate"])
    fig = style.new_figure(3.6)
    ax = fig.add_subplot()
    fig.suptitle(_t(lang, "batch.title"))
    for norm, col, key, (color, ls, marker) in (
        ("none", "val_acc", "batch.no_bn", ("#D55E00", (0, (1.5, 1.5)), "s")),
        ("bn", "val_acc", "batch.test_mode", ("#0072B2", "-", "o")),
        ("bn", "val_acc_train_mode", "batch.train_mode", ("#CC79A7", (0, (5, 2)), "D")),
    ):
        sub = d[d["norm"] == norm]
        if len(sub):
            g = _agg(sub, "batch_size", col)
            _band(ax, g.index.to_numpy(), g, color, ls, marker, _t(lang, key))
    ax.set_xscale("log", base=2)
    sizes = sorted(d["batch_size"].unique())
    ax.set_xticks(sizes)
    ax.set_xticklabels([str(s) for s in sizes])
    ax.minorticks_off()
    ax.set_xlabel(_t(lang, "batch.xlabel"))
    _acc_axis(ax, lang)
    ax.legend(loc="lower right", fontsize=8)
    return style.finish(fig)


# --- preprocessing ------------------------------------------------------------------------------


def fig_preprocess(data, lang, *, target_accuracy: float):
    d = data["training_preprocess"]
    fig = style.new_figure(3.6)
    ax = fig.add_subplot()
    fig.suptitle(_t(lang, "pre.title"))
    for how in dict.fromkeys(d["preprocess"]):
        color, ls, marker = PRE_STYLE.get(how, ("#555555", "-", "o"))
        sub = d[d["preprocess"] == how]
        g = _agg(sub.assign(best_val_acc=sub["best_val_acc"].fillna(0.0)), "learning_rate", "best_val_acc")
        _band(ax, g.index.to_numpy(), g, color, ls, marker, _t(lang, f"pre.{how}"))
    ax.set_xscale("log")
    ax.set_xlabel(_t(lang, "lr_axis"))
    _acc_axis(ax, lang)
    ax.set_ylabel(_t(lang, "best_val_acc"))
    _target(ax, target_accuracy, lang)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
    return style.finish(fig)
