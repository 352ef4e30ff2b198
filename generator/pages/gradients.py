"""Gradients page: per-layer gradient statistics and how they mirror the forward pass.

Measured quantities (``propagation.csv``, seeds averaged per layer; ``L`` = depth):

* forward factor  ``f = (std_L / std_1) ** (1 / (L - 1))`` -- the geometric-mean change of the layer
  output std per layer going *up*;
* backward factor ``b = (g_1 / g_L) ** (1 / (L - 1))`` with ``g_l = grad_h_std`` -- the geometric-mean
  change of the gradient std per layer going *down* (``b < 1``: it shrinks on its way to the input);
* total backward gain ``G = g_1 / g_L = b ** (L - 1)``;
* the mean-field prediction of ``b``: ``sqrt(chi_1)`` from ``theory_fixed.csv`` (chi_1 is the per-layer
  multiplier of the squared gradient at the fixed point, see the theory page).

Rules (the page states them from these constants):

* verdict: ``"zero"`` when the gradient at layer 1 is exactly 0 in every seed (W = 0 kills it);
  ``"diverged"`` when the forward pass diverged in any seed (gradients are then undefined);
  ``"vanishing"`` when ``G < 1 / GAIN_LIMIT``; ``"exploding"`` when ``G > GAIN_LIMIT``; else ``"stable"``;
* "the gradient mirrors the forward pass" when ``|b / f - 1| <= MATCH_TOL`` (None when either factor is
  undefined); "sqrt(chi_1) predicts b" when ``|b / sqrt(chi_1) - 1| <= MATCH_TOL``;
* "the weight-gradient ratio is flat over depth" (``r_flat``) when its layer-L and layer-1 values are
  within ``MATCH_TOL`` of each other.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from generator.analysis.rules import MATCH_TOL  # factors within 10 % of each other "mirror" each other
from generator.analysis.factors import layer_factors, ordered, seed_mean
from generator.figures.registry import GRAD_INITS

GAIN_LIMIT = 10  # total backward gain over the depth beyond which the gradient vanishes / explodes
FOCUS_ACTS = ("tanh", "relu")  # the seed's activations (figures grad_std_<act>)
FOCUS_INITS = ("zeros", "small", "large", "xavier", "he")  # the seed's cases (+ zeros)
VERDICTS = ("zero", "diverged", "vanishing", "stable", "exploding")



def grid_order(data) -> tuple[list[str], list[str], list[str]]:
    """(inits, activations, norms) present in the data, in the config's order."""
    p, c = data.prop, data.grid.propagation
    return (ordered(p["init"], c.inits), ordered(p["activation"], c.activations), ordered(p["norm"], c.norms))


def rows_for(means: pd.DataFrame, init: str, act: str, norm: str) -> pd.DataFrame:
    sel = means[(means["init"] == init) & (means["activation"] == act) & (means["norm"] == norm)]
    return sel.sort_values("layer").set_index("layer")


def factors(rows: pd.DataFrame, depth: int) -> dict:
    """Factors (:func:`~generator.analysis.factors.layer_factors`) plus this page's verdict and
    the ``mirror`` flag for one configuration (``rows``: one per layer, indexed by layer)."""
    f = layer_factors(rows, depth)
    gs = f["gain"]
    if f["zero_grad"]:
        verdict = "zero"
    elif f["diverged"] or not np.isfinite(gs):
        verdict = "diverged"
    elif gs < 1 / GAIN_LIMIT:
        verdict = "vanishing"
    elif gs > GAIN_LIMIT:
        verdict = "exploding"
    else:
        verdict = "stable"
    fwd, bwd = f["fwd"], f["bwd"]
    comparable = bool(np.isfinite(fwd) and np.isfinite(bwd) and fwd > 0)
    mirror = bool(abs(bwd / fwd - 1) <= MATCH_TOL) if comparable else None
    ok = len(rows) and 1 in rows.index and depth in rows.index
    get = (lambda col, layer: float(rows.loc[layer, col])) if ok else (lambda col, layer: math.nan)
    r1, rl = get("grad_w_ratio", 1), get("grad_w_ratio", depth)
    r_flat = bool(np.isfinite(r1) and np.isfinite(rl) and r1 > 0 and abs(rl / r1 - 1) <= MATCH_TOL)
    return {"fwd": fwd, "bwd": bwd, "gain": gs, "verdict": verdict, "mirror": mirror, "r_flat": r_flat,
            "g_first": get("grad_h_std", 1), "g_last": get("grad_h_std", depth),
            "r_first": get("grad_w_ratio", 1), "r_last": get("grad_w_ratio", depth)}


def factor_table(data) -> pd.DataFrame:
    """One row per (init, activation, norm) of the grid: factors, gains, verdicts, sqrt(chi_1)."""
    depth = data.grid.propagation.depth
    means = seed_mean(data.prop)
    inits, acts, norms = grid_order(data)
    chi = {}
    if data.has("theory_fixed.csv"):
        tf = data.frame("theory_fixed.csv")
        chi = {(r.init, r.activation): float(r.chi1) for r in tf.itertuples()}
    rows = []
    for norm in norms:
        for act in acts:
            for init in inits:
                f = factors(rows_for(means, init, act, norm), depth)
                c = chi.get((init, act), math.nan) if norm == "none" else math.nan
                rows.append({"init": init, "activation": act, "norm": norm, **f,
                             "sqrt_chi1": math.sqrt(c) if np.isfinite(c) and c >= 0 else math.nan})
    return pd.DataFrame(rows)


def _pick(ft: pd.DataFrame, init: str, act: str, norm: str = "none") -> dict | None:
    sel = ft[(ft["init"] == init) & (ft["activation"] == act) & (ft["norm"] == norm)]
    return sel.iloc[0].to_dict() if len(sel) else None


def context(data) -> dict:
    """Numbers of the gradients page (see the module docstring for every definition and rule)."""
    cfg = data.grid.propagation
    depth = cfg.depth
    ft = factor_table(data)
    inits, acts, norms = grid_order(data)
    focus_acts = [a for a in FOCUS_ACTS if a in acts]
    focus_inits = [i for i in FOCUS_INITS if i in inits]

    order = {(n, a, i): k for k, (n, a, i) in enumerate(
        (n, a, i) for n in norms for a in focus_acts for i in focus_inits)}
    key = [order.get((r.norm, r.activation, r.init)) for r in ft.itertuples()]
    focus = ft.assign(_k=key).dropna(subset=["_k"]).sort_values("_k").drop(columns="_k")
    factors_tbl = focus[focus["norm"] == "none"][["activation", "init", "fwd", "bwd", "sqrt_chi1", "mirror"]]
    factors_tbl = factors_tbl.reset_index(drop=True)
    grads_tbl = focus[["activation", "init", "norm", "g_first", "g_last", "gain", "r_first", "r_last", "verdict"]]
    grads_tbl = grads_tbl.reset_index(drop=True)

    # whole grid, per norm: how many random-init configurations mirror / vanish / explode
    summary = {}
    for norm in norms:
        sub = ft[ft["norm"] == norm]
        counts = {v: int((sub["verdict"] == v).sum()) for v in VERDICTS}
        rand = sub[sub["init"] != "zeros"]
        comparable = rand[np.isfinite(rand["fwd"]) & np.isfinite(rand["bwd"])]
        with_chi = comparable[np.isfinite(comparable["sqrt_chi1"])]
        chi_ok = (with_chi["bwd"] / with_chi["sqrt_chi1"] - 1).abs() <= MATCH_TOL
        summary[norm] = {"n": int(len(sub)), **counts,
                         "n_comparable": int(len(comparable)), "n_mirror": int((comparable["mirror"] == True).sum()),  # noqa: E712
                         "n_chi": int(len(with_chi)), "n_chi_match": int(chi_ok.sum())}
        if len(comparable):
            off = np.abs(np.log(comparable["bwd"] / comparable["fwd"]))
            summary[norm]["farthest_act"] = comparable.loc[off.idxmax(), "activation"]
            summary[norm]["chi_better"] = bool(
                len(with_chi) and chi_ok.mean() > (comparable["mirror"] == True).mean())  # noqa: E712

    # the cases the prose walks through (None when not in the grid)
    cases = {f"{i}_{a}": _pick(ft, i, a) for i in ("small", "large", "xavier", "he") for a in focus_acts}
    cases["xavier_sigmoid"] = _pick(ft, "xavier", "sigmoid")  # the non-zero-mean exception
    cases.update({f"{i}_{a}_bn": _pick(ft, i, a, "bn") for i in ("small", "large", "xavier", "he")
                  for a in focus_acts if "bn" in norms})

    figures = {
        "grad_std": [f"grad_std_{a}" for a in focus_acts],
        "grad_std_bn": [f"grad_std_{a}_bn" for a in focus_acts] if "bn" in norms else [],
        "heatmap_gradratio": {n: "heatmap_gradratio" + ("" if n == "none" else f"_{n}") for n in norms},
        "factors": "grad_factors" if "none" in norms else None,
    }
    return {
        "depth": depth,
        "steps": depth - 1,
        "gain_limit": GAIN_LIMIT,
        "match_tol": MATCH_TOL,
        "upstream_std": float(np.sqrt(1.0) / cfg.samples),  # std of G / N with G ~ N(0, 1)
        "samples": cfg.samples,
        "focus_acts": focus_acts,
        "focus_inits": focus_inits,
        "grad_inits": [i for i in GRAD_INITS if i in inits],
        "table": ft,
        "factors_tbl": factors_tbl,
        "grads_tbl": grads_tbl,
        "summary": summary,
        "cases": cases,
        "figures": figures,
        "has_bn": "bn" in norms,
        "has_none": "none" in norms,
    }
