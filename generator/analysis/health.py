"""Health of a configuration from BOTH passes: one record per (init, activation, norm) of propagation.csv.

Contract
--------
``health_of(prop, depth)`` (``health_frame(data)`` for a Dataset) returns one row per (init, activation,
norm) in first-appearance order with the columns of ``health.csv`` (generator/contract/health.py). The
numbers are seed means from generator/analysis/seeds.py (its rule for diverged seeds applies: a value
measured in a diverged run never counts). The rules, stated once here and printed on the home page:

Forward label (:data:`FORWARD`, the last hidden layer L, tried in this order, the first that fires wins):

1. ``explodes``  -- any seed diverged at any layer (``diverged`` in propagation.csv: a non-finite value or
   RMS above ``diverge_rms``), or the last layer's std is more than :data:`EXPLODE_ABOVE` times the
   input's std (the input is X ~ N(0, 1), so its std is :data:`INPUT_STD`);
2. ``vanishes``  -- the last layer's std is below :data:`VANISH_BELOW` times the input's std;
3. ``saturates`` -- the last layer's saturated fraction exceeds the activation's *baseline* by more than
   :data:`SATURATION_EXCESS`; the baseline is the saturated fraction of the same activation on a standard
   normal input, P(|phi'(z)| < 1 % of the max slope), z ~ N(0, 1) (1/2 for ReLU, ~0 for tanh), so a ReLU
   network is not called saturated for being a ReLU network;
4. ``ok``        -- none of the above.

Backward label (:data:`BACKWARD`): the gradient ratio r = std(dL/dH) at layer 1 / std(dL/dH) at layer L
(``grad_h_std``; seed means at each layer, then the ratio) -- how much of the gradient that enters the
top layer reaches the first one:

1. ``unmeasured`` -- no seed contributes at layer 1 or L (every run diverged: its gradient is not used);
2. ``vanishes``   -- r < :data:`GRAD_LOW`, or the gradient is exactly 0 at layer 1 in every seed;
3. ``explodes``   -- r > :data:`GRAD_HIGH`;
4. ``ok``         -- GRAD_LOW <= r <= GRAD_HIGH.

``healthy`` = forward ``ok`` and backward ``ok`` (:func:`is_healthy`); nothing else on the site is
called healthy.

Spread over seeds: ``last_std_lo/hi`` and ``grad_ratio_lo/hi`` are the min / max of the per-seed values
(each seed's own ratio), ``last_std_ci_low/high`` the 95 % t interval of the mean last-layer std over the
contributing seeds (verdicts.mean_interval). Label stability: both labels are computed again on the two
disjoint seed halves (verdicts.split_seeds: even / odd positions of the sorted seeds) and reported as
``forward_a/b``, ``backward_a/b``; ``stability`` is ``stable`` when both halves give the all-seed labels,
``unstable`` when they differ, ``untested`` when a half has no seed (a single-seed grid; its labels
are :data:`NO_HALF`).

Layer-folder rule: pandas / NumPy only (no sentences, no matplotlib).
"""

from __future__ import annotations

import math
import weakref
from functools import cache

import numpy as np
import pandas as pd

from generator.analysis.seeds import CONFIG, SeedMeans, run_diverged, value_columns
from generator.analysis.verdicts import mean_interval, split_seeds
from generator.engine.activations import get_activation

INPUT_STD = 1.0  # X ~ N(0, 1) by construction (experiments/propagation.draw_inputs)
VANISH_BELOW = 0.05  # last-layer std / input std below this: the forward signal has vanished
EXPLODE_ABOVE = 10.0  # ... above this (or any divergence): it has exploded
SATURATION_EXCESS = 0.25  # saturated fraction above the activation's N(0,1) baseline by more than this
GRAD_LOW = 0.1  # gradient ratio layer 1 / layer L below this: the gradient vanishes on the way down
GRAD_HIGH = 10.0  # ... above this: it explodes
FORWARD = ("explodes", "vanishes", "saturates", "ok")  # order in which the forward rules are tried
BACKWARD = ("unmeasured", "vanishes", "explodes", "ok")
STABILITY = ("stable", "unstable", "untested")
NO_HALF = "empty"  # the label of an empty seed half (a single-seed grid)


@cache
def baseline_saturation(activation: str, half_width: float = 12.0, n: int = 240_001) -> float:
    """P(activation saturated at z), z ~ N(0, 1): the same rule as propagation's saturated_frac
    (Activation.saturated), integrated against the normal density on a dense grid (trapezoid)."""
    act = get_activation(activation)
    z = np.linspace(-half_width, half_width, n)
    dens = np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    f = act.saturated(z).astype(float) * dens
    return float(np.sum((f[1:] + f[:-1]) * 0.5) * (z[1] - z[0]))


def forward_label(last_std: float, saturated_frac: float, baseline: float, diverged: bool) -> str:
    """One of FORWARD (rules in the module docstring)."""
    ratio = last_std / INPUT_STD
    if diverged or not np.isfinite(ratio) or ratio > EXPLODE_ABOVE:
        return "explodes"
    if ratio < VANISH_BELOW:
        return "vanishes"
    if saturated_frac - baseline > SATURATION_EXCESS:
        return "saturates"
    return "ok"


def grad_ratio(grad_first: float, grad_last: float) -> float:
    """std(dL/dH) layer 1 / layer L; 0 when nothing reaches layer 1, inf when only layer L is 0, NaN if
    either is missing or both are 0."""
    if not (np.isfinite(grad_first) and np.isfinite(grad_last)):
        return math.nan
    if grad_last == 0:
        return math.inf if grad_first > 0 else math.nan
    return grad_first / grad_last


def backward_label(ratio: float, zero_first: bool = False, measured: bool = True) -> str:
    """One of BACKWARD (rules in the module docstring)."""
    if not measured:
        return "unmeasured"
    if zero_first or (np.isfinite(ratio) and ratio < GRAD_LOW) or ratio == 0:
        return "vanishes"
    if ratio > GRAD_HIGH:
        return "explodes"
    if np.isfinite(ratio):
        return "ok"
    return "unmeasured"


def is_healthy(row) -> bool:
    """Both passes ok (``row``: a health record, dict-like or a DataFrame row / namedtuple)."""
    get = row.get if hasattr(row, "get") else (lambda k: getattr(row, k))
    return get("forward") == "ok" and get("backward") == "ok"


def _labels(sm: SeedMeans, depth: int) -> pd.DataFrame:
    """Forward / backward labels and the seed-mean numbers behind them, one row per configuration."""
    t = sm.table(extra=("zero_grad_h_std",))
    first = t[t["layer"] == 1].set_index(CONFIG)
    last = t[t["layer"] == depth].set_index(CONFIG)
    rows = []
    for key in last.index:
        s, f = last.loc[key], first.loc[key] if key in first.index else None
        n_ok = int(s["n_ok"])
        std = float(s["std"]) if n_ok else math.inf
        sat = float(s["saturated_frac"]) if n_ok else math.nan
        base = baseline_saturation(key[1])
        g1 = float(f["grad_h_std"]) if f is not None else math.nan
        gl = float(s["grad_h_std"]) if n_ok else math.nan
        r = grad_ratio(g1, gl)
        zero1 = bool(f is not None and f["zero_grad_h_std"] and int(f["n_ok"]) > 0)
        measured = n_ok > 0 and f is not None and int(f["n_ok"]) > 0
        rows.append(
            {
                **dict(zip(CONFIG, key)),
                "forward": forward_label(std, sat, base, bool(s["diverged_case"])),
                "backward": backward_label(r, zero1, measured),
                "n_seeds": int(s["n_seeds"]),
                "n_ok": n_ok,
                "last_std": std,
                "saturated_frac": sat,
                "saturation_baseline": base,
                "first_diverged": _first_diverged(sm, key),
                "grad_first": g1,
                "grad_last": gl,
                "grad_ratio": r,
            }
        )
    return pd.DataFrame(rows)


def _first_diverged(sm: SeedMeans, key) -> float:
    layer = sm.first_diverged(*key)
    return float(layer) if layer is not None else math.nan


def _per_seed(prop: pd.DataFrame, depth: int) -> pd.DataFrame:
    """Per run (config + seed): last-layer std and gradient ratio, NaN where the run diverged (seeds.py)."""
    div = run_diverged(prop, value_columns(prop))
    ok = prop.loc[~div & prop["layer"].isin([1, depth]), [*CONFIG, "seed", "layer", "std", "grad_h_std"]]
    wide = ok.set_index([*CONFIG, "seed", "layer"]).unstack("layer")
    out = pd.DataFrame(index=wide.index)
    out["last_std"] = wide[("std", depth)] if ("std", depth) in wide.columns else np.nan
    g1 = wide[("grad_h_std", 1)] if ("grad_h_std", 1) in wide.columns else np.nan
    gl = wide[("grad_h_std", depth)] if ("grad_h_std", depth) in wide.columns else np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        out["grad_ratio"] = np.where(np.asarray(gl) > 0, np.asarray(g1) / np.asarray(gl), np.nan)
    return out.reset_index()


def _spread(per_seed: pd.DataFrame) -> pd.DataFrame:
    def agg(g):
        iv = mean_interval(g["last_std"].to_numpy(float))
        return pd.Series(
            {
                "last_std_lo": g["last_std"].min(),
                "last_std_hi": g["last_std"].max(),
                "last_std_ci_low": iv.lo,
                "last_std_ci_high": iv.hi,
                "grad_ratio_lo": g["grad_ratio"].min(),
                "grad_ratio_hi": g["grad_ratio"].max(),
            }
        )

    if not len(per_seed):
        return pd.DataFrame(columns=[*CONFIG])
    return per_seed.groupby(CONFIG, sort=False)[["last_std", "grad_ratio"]].apply(agg).reset_index()


COLUMNS = [
    "init",
    "activation",
    "norm",
    "forward",
    "backward",
    "healthy",
    "n_seeds",
    "n_ok",
    "last_std",
    "last_std_lo",
    "last_std_hi",
    "last_std_ci_low",
    "last_std_ci_high",
    "saturated_frac",
    "saturation_baseline",
    "first_diverged",
    "grad_first",
    "grad_last",
    "grad_ratio",
    "grad_ratio_lo",
    "grad_ratio_hi",
    "forward_a",
    "forward_b",
    "backward_a",
    "backward_b",
    "stability",
]


def health_of(prop: pd.DataFrame, depth: int | None = None) -> pd.DataFrame:
    """The health records of a propagation-like frame (columns :data:`COLUMNS`, rules in the module doc)."""
    if not len(prop):
        return pd.DataFrame(columns=COLUMNS)
    depth = int(prop["layer"].max() if depth is None else depth)
    full = _labels(SeedMeans.of(prop), depth)
    half = {}
    for name, seeds in zip("ab", split_seeds(prop["seed"].unique().tolist())):
        sub = prop[prop["seed"].isin(seeds)]
        lab = (
            _labels(SeedMeans(sub, depth=depth), depth)
            if len(sub)
            else pd.DataFrame(columns=[*CONFIG, "forward", "backward"])
        )
        half[name] = lab.set_index(CONFIG)[["forward", "backward"]].add_suffix(f"_{name}")
    out = full.set_index(CONFIG).join(half["a"]).join(half["b"]).reset_index()
    out = out.merge(_spread(_per_seed(prop, depth)), on=CONFIG, how="left")
    for c in ("forward_a", "forward_b", "backward_a", "backward_b"):
        out[c] = out[c].fillna(NO_HALF).astype(object)
    out["healthy"] = [is_healthy(r) for r in out.to_dict("records")]
    out["stability"] = [_stability(r) for r in out.to_dict("records")]
    return out[COLUMNS]


def _stability(r: dict) -> str:
    if NO_HALF in (r["forward_a"], r["forward_b"]):
        return "untested"
    same = r["forward_a"] == r["forward_b"] == r["forward"] and r["backward_a"] == r["backward_b"] == r["backward"]
    return "stable" if same else "unstable"


_MEMO: dict[int, tuple[weakref.ref, pd.DataFrame]] = {}


def health_frame(data) -> pd.DataFrame:
    """The health records of a Dataset's propagation.csv at the grid depth (computed once per frame;
    the same function writes health.csv, so the pages and the file agree by construction)."""
    prop = data.prop
    key = id(prop)
    hit = _MEMO.get(key)
    if hit is not None and hit[0]() is prop:
        return hit[1]
    made = health_of(prop, data.grid.propagation.depth)
    _MEMO[key] = (weakref.ref(prop, lambda _: _MEMO.pop(key, None)), made)
    return made


def record(data, init: str, activation: str, norm: str = "none") -> dict | None:
    """One configuration's health record as a dict, or None when the grid does not hold it."""
    h = health_frame(data)
    sel = h[(h["init"] == init) & (h["activation"] == activation) & (h["norm"] == norm)]
    return sel.iloc[0].to_dict() if len(sel) else None
