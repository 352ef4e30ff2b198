"""Aggregations of the contract DataFrames used by the figures (pandas only: no NumPy nan-reductions,
so an all-NaN group gives NaN without a RuntimeWarning).

Policy for values that cannot be drawn:

* a row with ``diverged == True`` contributes no value (its layer is marked with × instead);
* ±inf counts as NaN;
* on log axes, values <= 0 become gaps (layers where every seed is exactly 0 get a ▽ marker).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


def select(df: pd.DataFrame, **eq) -> pd.DataFrame:
    """Rows where each column equals the given value (``None`` values are ignored)."""
    mask = np.ones(len(df), dtype=bool)
    for col, val in eq.items():
        if val is None:
            continue
        mask &= (df[col] == val).to_numpy()
    return df.loc[mask]


def _clean(sub: pd.DataFrame, col: str) -> pd.Series:
    v = pd.to_numeric(sub[col], errors="coerce").astype(float)
    v = v.where(np.isfinite(v.to_numpy()))
    if "diverged" in sub.columns:
        v = v.where(~sub["diverged"].fillna(False).astype(bool).to_numpy())
    return v


@dataclass(frozen=True)
class LayerStats:
    layers: np.ndarray  # 1..depth present in the data
    mean: np.ndarray  # mean over seeds of the finite, non-diverged values (NaN if none)
    lo: np.ndarray  # min over seeds
    hi: np.ndarray  # max over seeds
    diverged: np.ndarray  # bool: any seed diverged at this layer (or value non-finite in all seeds)
    zero: np.ndarray  # bool: every seed's value is exactly 0


def layer_stats(prop: pd.DataFrame, col: str, depth: int | None = None, **eq) -> LayerStats:
    sub = select(prop, **eq)
    layers = np.arange(1, (depth or (int(sub["layer"].max()) if len(sub) else 0)) + 1)
    if not len(sub):
        nan = np.full(len(layers), np.nan)
        false = np.zeros(len(layers), dtype=bool)
        return LayerStats(layers, nan, nan, nan, false, false)
    v = _clean(sub, col)
    frame = pd.DataFrame({"layer": sub["layer"].to_numpy(), "v": v.to_numpy()})
    if "diverged" in sub.columns:
        frame["div"] = sub["diverged"].fillna(False).astype(bool).to_numpy()
    else:
        frame["div"] = False
    raw = pd.to_numeric(sub[col], errors="coerce").astype(float).to_numpy()
    frame["nonfinite"] = ~np.isfinite(raw) & ~np.isnan(raw)  # ±inf: an overflow, i.e. diverged
    frame["is_zero"] = raw == 0
    g = frame.groupby("layer")
    agg = pd.DataFrame({
        "mean": g["v"].mean(),
        "lo": g["v"].min(),
        "hi": g["v"].max(),
        "div": g["div"].any() | g["nonfinite"].any(),
        "zero": g["is_zero"].all(),
    }).reindex(layers)
    return LayerStats(
        layers=layers,
        mean=agg["mean"].to_numpy(dtype=float),
        lo=agg["lo"].to_numpy(dtype=float),
        hi=agg["hi"].to_numpy(dtype=float),
        diverged=agg["div"].fillna(False).to_numpy(dtype=bool),
        zero=agg["zero"].fillna(False).to_numpy(dtype=bool),
    )


def depth_of(data: dict[str, pd.DataFrame]) -> int:
    prop = data.get("propagation")
    if prop is not None and len(prop):
        return int(prop["layer"].max())
    hist = data.get("hist")
    if hist is not None and len(hist):
        return int(hist["layer"].max())
    return 1


@dataclass(frozen=True)
class HistPanel:
    edges: np.ndarray  # finite bin edges (len = nbins + 1)
    frac: np.ndarray  # fraction of values per finite bin
    under: float  # fraction below edges[0]
    over: float  # fraction above edges[-1]
    total: float  # number of values counted (all seeds)


def hist_panel(hist: pd.DataFrame, **eq) -> HistPanel | None:
    """Counts pooled over seeds for one (init, activation, norm, layer); None if there are no rows."""
    sub = select(hist, **eq)
    if not len(sub):
        return None
    lo = pd.to_numeric(sub["lo"], errors="coerce").astype(float).to_numpy()
    hi = pd.to_numeric(sub["hi"], errors="coerce").astype(float).to_numpy()
    cnt = pd.to_numeric(sub["count"], errors="coerce").fillna(0).astype(float).to_numpy()
    frame = pd.DataFrame({"bin": sub["bin"].to_numpy(), "lo": lo, "hi": hi, "count": cnt})
    g = frame.groupby("bin").agg(lo=("lo", "first"), hi=("hi", "first"), count=("count", "sum")).sort_index()
    lo_b, hi_b, c = g["lo"].to_numpy(), g["hi"].to_numpy(), g["count"].to_numpy()
    finite = np.isfinite(lo_b) & np.isfinite(hi_b)
    under_m = ~np.isfinite(lo_b) & (lo_b < 0)
    over_m = ~np.isfinite(hi_b) & (hi_b > 0)
    total = float(c.sum())
    scale = 1.0 / total if total > 0 else 0.0
    f_lo, f_hi = lo_b[finite], hi_b[finite]
    edges = np.concatenate([f_lo, f_hi[-1:]]) if finite.any() else np.array([-1.0, 1.0])
    frac = c[finite] * scale if finite.any() else np.zeros(1)
    return HistPanel(edges=edges, frac=frac, under=float(c[under_m].sum() * scale),
                     over=float(c[over_m].sum() * scale), total=total)


def last_layer_matrix(prop: pd.DataFrame, col: str, inits, activations, norm: str, layer: int):
    """(values, diverged, zero) matrices of shape (len(inits), len(activations)) at ``layer``.

    values: mean over seeds of the finite, non-diverged values (NaN if none); diverged: any seed
    diverged (or overflowed to ±inf) at or before ``layer``.
    """
    sub = select(prop, norm=norm)
    n_i, n_a = len(inits), len(activations)
    vals = np.full((n_i, n_a), np.nan)
    div = np.zeros((n_i, n_a), dtype=bool)
    zero = np.zeros((n_i, n_a), dtype=bool)
    if not len(sub):
        return vals, div, zero
    raw = pd.to_numeric(sub[col], errors="coerce").astype(float).to_numpy()
    frame = pd.DataFrame({
        "init": sub["init"].to_numpy(), "activation": sub["activation"].to_numpy(),
        "layer": sub["layer"].to_numpy(), "v": _clean(sub, col).to_numpy(),
        "div": (sub["diverged"].fillna(False).astype(bool).to_numpy() if "diverged" in sub.columns
                else np.zeros(len(sub), dtype=bool)) | np.isinf(raw),
        "is_zero": raw == 0,
    })
    upto = frame.loc[frame["layer"] <= layer].groupby(["init", "activation"])["div"].any()
    last = frame.loc[frame["layer"] == layer].groupby(["init", "activation"])
    mean = last["v"].mean()
    allzero = last["is_zero"].all()
    ii = {k: i for i, k in enumerate(inits)}
    aa = {k: j for j, k in enumerate(activations)}
    for (init, act), v in mean.items():
        if init in ii and act in aa:
            vals[ii[init], aa[act]] = v
    for (init, act), d in upto.items():
        if init in ii and act in aa:
            div[ii[init], aa[act]] = bool(d)
    for (init, act), z in allzero.items():
        if init in ii and act in aa:
            zero[ii[init], aa[act]] = bool(z)
    return vals, div, zero
