"""Figures of the ``seed`` page: the seed note's printed numbers next to its code re-run as written.

``seed_rerun`` -- one panel per snippet of the note (``generator.contract.seed_cases.SEED_CASES``): the per-layer std
of the re-run (line: mean over seeds, band: min–max over seeds, log y, layer 0 = the input) and, where
the note printed numbers, those numbers as hollow markers. The ``* 0.01`` panel also shows the re-run
of the ``* 1.0`` snippet as a grey reference line, because that is what the note's printout matches.
Reads ``seed_code`` and ``seed_printed``; with either missing it draws empty panels (no warnings).
All text comes from ``[seed_page.fig]`` of templates/strings/{ko,en}/pages_c.toml.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from generator.contract.seed_cases import scale_text
from generator.figures import style
from generator.render import strings

PANELS = ("small_tanh", "large_tanh", "xavier_tanh", "xavier_relu", "he_relu_as_printed", "he_relu_corrected")
REFERENCE = {"small_tanh": "large_tanh"}  # panel -> re-run drawn as a grey reference line
RERUN_COLOR = "#0072B2"
PRINTED_COLOR = "#D55E00"
REF_COLOR = "#777777"


def _scales() -> dict:
    """The constants of the ``* c`` snippets as the note writes them, for the labels' placeholders."""
    return {k: scale_text(f"{k}_tanh") for k in ("small", "large")}


def _t(lang: str, key: str, **fmt) -> str:
    return strings.t(lang, f"seed_page.fig.{key}", **{**_scales(), **fmt})


def _stats(code: pd.DataFrame | None, case: str):
    if code is None or not len(code):
        return None
    sub = code[code["case"] == case]
    if not len(sub):
        return None
    v = pd.to_numeric(sub["std"], errors="coerce").astype(float)
    v = v.where(np.isfinite(v.to_numpy()) & (v.to_numpy() > 0))
    g = pd.DataFrame({"layer": sub["layer"].to_numpy(), "v": v.to_numpy()}).groupby("layer")["v"]
    return g.mean(), g.min(), g.max()


def seed_rerun(data, lang: str, **_):
    code = data.get("seed_code")
    printed = data.get("seed_printed")
    fig = style.new_figure(6.2)
    fig.suptitle(_t(lang, "seed_rerun.title"))
    axes = fig.subplots(2, 3)
    depth = 1
    any_printed = any_ref = False
    for ax, case in zip(axes.ravel(), PANELS):
        ax.set_title(_t(lang, f"panel.{case}"), fontsize=10)
        st = _stats(code, case)
        if st is not None:
            mean, lo, hi = st
            layers = mean.index.to_numpy()
            depth = max(depth, int(layers.max()))
            ok = lo.notna() & hi.notna()
            if ok.any():
                ax.fill_between(
                    layers,
                    lo.where(ok).to_numpy(dtype=float),
                    hi.where(ok).to_numpy(dtype=float),
                    color=RERUN_COLOR,
                    alpha=style.BAND_ALPHA,
                    linewidth=0,
                )
            ax.plot(layers, mean.to_numpy(dtype=float), color=RERUN_COLOR, marker="o", markersize=3.5, linewidth=1.6)
        ref = REFERENCE.get(case)
        st_ref = _stats(code, ref) if ref else None
        if st_ref is not None:
            any_ref = True
            ax.plot(
                st_ref[0].index.to_numpy(),
                st_ref[0].to_numpy(dtype=float),
                color=REF_COLOR,
                linestyle=(0, (2, 2)),
                linewidth=1.4,
                zorder=5,
            )
        if printed is not None and len(printed):
            p = printed[printed["case"] == case].sort_values("layer")
            if len(p):
                any_printed = True
                y = style.positive_or_nan(p["std"].to_numpy(dtype=float))
                ax.plot(
                    p["layer"].to_numpy(),
                    y,
                    linestyle="none",
                    marker="D",
                    markersize=6,
                    markerfacecolor="none",
                    markeredgecolor=PRINTED_COLOR,
                    markeredgewidth=1.4,
                    zorder=4,
                )
        style.log_axis(ax)
    for k, ax in enumerate(axes.ravel()):
        ax.set_xticks(range(0, depth + 1, 2 if depth > 6 else 1))
        ax.set_xlim(-0.4, depth + 0.4)
        if k >= 3:
            ax.set_xlabel(_t(lang, "layer"))
        if k % 3 == 0:
            ax.set_ylabel(strings.t(lang, "fig.std_log"))
    handles = [
        Line2D([], [], color=RERUN_COLOR, marker="o", markersize=3.5, linewidth=1.6, label=_t(lang, "rerun")),
        style.band_handle(lang),
    ]
    if any_printed:
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker="D",
                markersize=6,
                markerfacecolor="none",
                markeredgecolor=PRINTED_COLOR,
                markeredgewidth=1.4,
                label=_t(lang, "printed"),
            )
        )
    if any_ref:
        handles.append(
            Line2D([], [], color=REF_COLOR, linestyle=(0, (2, 2)), linewidth=1.4, label=_t(lang, "reference"))
        )
    fig.legend(handles=handles, loc="outside lower center", ncols=2, fontsize=9)
    return style.finish(fig)
