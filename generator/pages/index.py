"""Home page: what the site measures, the setup, and the results-at-a-glance verdict grid.

The verdict rules live here (and only here); the page prints the same constants it uses.

For every (init, activation) with ``norm = none`` we look at the LAST hidden layer, averaged over
seeds, and apply these rules in order (the first that fires wins):

1. ``explodes``  -- any seed diverged at any layer (``diverged`` in propagation.csv: a non-finite value
   or RMS above ``diverge_rms``), or the last layer's std is more than :data:`EXPLODE_ABOVE` times the
   input's std;
2. ``vanishes``  -- the last layer's std is below :data:`VANISH_BELOW` times the input's std;
3. ``saturates`` -- the last layer's saturated fraction exceeds the activation's *baseline* by more
   than :data:`SATURATION_EXCESS`. The baseline is the saturated fraction the same activation shows
   on a standard normal input, P(|phi'(z)| < 1% max slope), z ~ N(0, 1): it is 1/2 for ReLU (its
   whole negative side has slope 0) and ~0 for tanh, so a ReLU network is not called saturated for
   being a ReLU network;
4. ``healthy``   -- none of the above.

The input X is standard normal (``X ~ N(0, 1)``, see propagation.draw_inputs), so its std is
:data:`INPUT_STD` and the ratio in rules 1-2 is the last layer's std itself.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pandas as pd

from generator.analysis.seeds import seed_means
from generator.common.languages import LANGUAGES
from generator.render import strings
from generator.engine.activations import SATURATION_FRACTION, get_activation

LANGS = LANGUAGES

INPUT_STD = 1.0  # X ~ N(0, 1) by construction
VANISH_BELOW = 0.05  # last-layer std / input std below this: the signal has vanished
EXPLODE_ABOVE = 10.0  # ... above this (or any divergence): it has exploded
SATURATION_EXCESS = 0.25  # saturated fraction above the activation's N(0,1) baseline by more than this
VERDICTS = ("explodes", "vanishes", "saturates", "healthy")  # order in which the rules are tried


# ------------------------------------------------------------------------------------------------
# helpers shared by this author's pages (initialization, xavier, he, activations)

def localized(builder) -> dict:
    """``{lang: builder(lang)}`` for every site language (tables whose labels are translated)."""
    return {lang: builder(lang) for lang in LANGS}


def label(lang: str, group: str, ident: str) -> str:
    """Display name of an init / activation / norm from the strings catalog."""
    return strings.t(lang, f"fig.{group}.{ident}")


def has(data, init: str | None = None, activation: str | None = None, norm: str = "none") -> bool:
    """Whether the configured grid holds this (init, activation, norm)."""
    p = data.grid.propagation
    return ((init is None or init in p.inits) and (activation is None or activation in p.activations)
            and norm in p.norms)


def second_moment(case: pd.DataFrame) -> np.ndarray:
    """E[h^2] per layer = std^2 + mean^2 (columns of Dataset.case)."""
    return case["std"].to_numpy(float) ** 2 + case["mean"].to_numpy(float) ** 2


def successive_ratios(values) -> np.ndarray:
    """v[l] / v[l-1] for l = 2..L (NaN where undefined)."""
    v = np.asarray(values, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return v[1:] / v[:-1]


def geometric_mean(values) -> float:
    """Geometric mean of the finite positive values (NaN if none)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    return float(np.exp(np.mean(np.log(v)))) if v.size else math.nan


def first_diverged_layer(data, init: str, activation: str, norm: str = "none") -> int | None:
    """The first layer at which any seed diverged, or None."""
    return seed_means(data).first_diverged(init, activation, norm)


@lru_cache(maxsize=None)
def baseline_saturation(activation: str, half_width: float = 12.0, n: int = 240_001) -> float:
    """P(activation saturated at z), z ~ N(0, 1): the same rule as propagation's saturated_frac
    (Activation.saturated), integrated against the normal density on a dense grid (trapezoid)."""
    act = get_activation(activation)
    z = np.linspace(-half_width, half_width, n)
    dens = np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    f = act.saturated(z).astype(float) * dens
    return float(np.sum((f[1:] + f[:-1]) * 0.5) * (z[1] - z[0]))


# ------------------------------------------------------------------------------------------------
# the verdict

def verdict(last_std: float, saturated_frac: float, baseline: float, diverged: bool) -> str:
    """One of VERDICTS for a configuration (rules in the module docstring)."""
    ratio = last_std / INPUT_STD
    if diverged or not np.isfinite(ratio) or ratio > EXPLODE_ABOVE:
        return "explodes"
    if ratio < VANISH_BELOW:
        return "vanishes"
    if saturated_frac - baseline > SATURATION_EXCESS:
        return "saturates"
    return "healthy"


def glance_frame(data, norm: str = "none") -> pd.DataFrame:
    """One row per (init, activation) in grid order: the inputs of the rules and the verdict."""
    cfg = data.grid.propagation
    last = seed_means(data).last(norm, cfg.depth).set_index(["init", "activation"])
    rows = []
    for init in cfg.inits:
        for act in cfg.activations:
            if (init, act) not in last.index:
                continue
            s = last.loc[(init, act)]
            div = bool(s["diverged_case"])
            # no seed left at the last layer: the std is shown as +inf (the verdict says "explodes")
            std = float(s["std"]) if s["n_ok"] else math.inf
            sat = float(s["saturated_frac"]) if s["n_ok"] else math.nan
            base = baseline_saturation(act)
            rows.append({
                "init": init, "activation": act, "last_std": std, "ratio": std / INPUT_STD,
                "saturated_frac": sat, "baseline": base, "excess": sat - base, "diverged": div,
                "first_diverged": first_diverged_layer(data, init, act, norm),
                "verdict": verdict(std, sat, base, div),
            })
    return pd.DataFrame(rows)


def _glance_table(frame: pd.DataFrame, inits, activations, lang: str) -> pd.DataFrame:
    """Rows = inits, columns = activations, cells = "verdict (ratio)" in ``lang``."""
    from generator.render.filters import num

    cells = {(r.init, r.activation): r for r in frame.itertuples()}
    out = []
    for init in inits:
        row = {"init": label(lang, "init", init)}
        for act in activations:
            r = cells.get((init, act))
            if r is None:
                row[act] = "—"
                continue
            word = strings.t(lang, f"index.verdict.{r.verdict}")
            value = (strings.t(lang, "index.diverged_at", layer=num(int(r.first_diverged), lang)) if r.diverged
                     else num(r.ratio, lang))
            row[act] = f"{word} ({value})"
        out.append(row)
    return pd.DataFrame(out)


def context(data) -> dict:
    cfg = data.grid.propagation
    frame = glance_frame(data)
    inits = [i for i in cfg.inits if i in set(frame["init"])]
    acts = [a for a in cfg.activations if a in set(frame["activation"])]
    counts = {v: int((frame["verdict"] == v).sum()) for v in VERDICTS}
    healthy = frame[frame["verdict"] == "healthy"]
    baselines = {a: baseline_saturation(a) for a in acts}
    return {
        "rules": {
            "input_std": INPUT_STD, "vanish_below": VANISH_BELOW, "explode_above": EXPLODE_ABOVE,
            "saturation_excess": SATURATION_EXCESS, "depth": cfg.depth, "diverge_rms": cfg.diverge_rms,
            "order": list(VERDICTS), "saturation_fraction": SATURATION_FRACTION,
        },
        "baselines": baselines,
        "relu_baseline": baselines.get("relu"),
        "frame": frame,
        "table": localized(lambda lang: _glance_table(frame, inits, acts, lang)),
        "table_columns": localized(lambda lang: {"init": strings.t(lang, "index.col_init"),
                                                 **{a: label(lang, "activation", a) for a in acts}}),
        "counts": counts,
        "n_cells": int(len(frame)),
        "n_healthy_inits": {a: int((healthy["activation"] == a).sum()) for a in acts},
        "glossary": list(strings.load("ko").get("glossary", {}).keys()),
    }
