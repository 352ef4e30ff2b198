"""Per-configuration factors of the propagation data: seed means per layer, forward/backward growth
factors, last-layer std and how much it depends on the init (pandas/NumPy only, no matplotlib).

Used by the gradients / batchnorm / theory pages and by the figures of generator/figures/gradients.py,
so a page's numbers and the figure drawn beside them come from the same code. Every mean over seeds
comes from generator/analysis/seeds.py (one rule for diverged seeds); the factors and the last-layer std
of a configuration with a diverged seed are NaN.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from generator.analysis.seeds import SeedMeans
from generator.engine.activations import ACTIVATIONS
from generator.engine.inits import INITS

# Display order of inits and activations in tables and figures: the engine registries' order.
INIT_ORDER, ACT_ORDER = tuple(INITS), tuple(ACTIVATIONS)


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
