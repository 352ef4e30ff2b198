"""Gradients page: per-layer gradient statistics and how they mirror the forward pass.

Measured quantities (``propagation.csv``, seeds averaged per layer; ``L`` = depth):

* forward factor  ``f = (std_L / std_1) ** (1 / (L - 1))`` -- the geometric-mean change of the layer
  output std per layer going *up*;
* backward factor ``b = (g_1 / g_L) ** (1 / (L - 1))`` with ``g_l = grad_h_std`` -- the geometric-mean
  change of the gradient std per layer going *down* (``b < 1``: it shrinks on its way to the input);
* total backward gain ``G = g_1 / g_L = b ** (L - 1)``;
* the mean-field prediction of ``b`` along the actual trajectory (``pred_b``, norm none):
  ``(prod_{l=2..L} sqrt(chi(q^l))) ** (1 / (L - 1))`` with ``chi(q) = sigma_w^2 E[phi'(sqrt(q) z)^2]`` per
  layer from ``theory.csv`` (going from layer l back to l - 1 multiplies the squared gradient by chi(q^l));
  ``sqrt_chi1``: the same factor at the fixed point, ``sqrt(chi_1)`` from ``theory_fixed.csv``, which
  only holds once q^l has reached q*;
* with BN (norm ``bn``, Linear -> BN -> phi) ``pred_b`` is ``theory.bn_gradient_factor``:
  ``sqrt(E[phi'(z)^2] / Var[phi(z)])`` for every init (ReLU: ``sqrt(pi / (pi - 1))``, Yang et al. 2019).

Rules (the page states them from these constants):

* verdict: ``"zero"`` when the gradient at layer 1 is exactly 0 in every seed (W = 0 kills it);
  ``"diverged"`` when the forward pass diverged in any seed (gradients are then undefined);
  ``"vanishing"`` when ``G < 1 / GAIN_LIMIT``; ``"exploding"`` when ``G > GAIN_LIMIT``; else ``"stable"``;
* "the gradient mirrors the forward pass" when ``|b / f - 1| <= MATCH_TOL`` (None when either factor is
  undefined); a prediction "predicts b" when ``|pred / b - 1| <= MATCH_TOL``; the page reports the largest
  |pred / b - 1| of the trajectory prediction and of sqrt(chi_1) over the configurations whose forward pass
  did not diverge (``verdict`` not zero / diverged) and whose b is finite;
* "the weight-gradient ratio is flat over depth" (``r_flat``) when its layer-L and layer-1 values are
  within ``MATCH_TOL`` of each other.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from generator.analysis.factors import layer_factors, ordered, seed_mean
from generator.analysis.rules import MATCH_TOL  # factors within 10 % of each other "mirror" each other
from generator.engine import theory
from generator.figures.instances import GRAD_INITS

GAIN_LIMIT = 10  # total backward gain over the depth beyond which the gradient vanishes / explodes
FOCUS_ACTS = ("tanh", "relu")  # the seed's activations (figures grad_std_<act>)
FOCUS_INITS = ("zeros", "small", "large", "xavier", "he")  # the seed's cases (+ zeros)
VERDICTS = ("zero", "diverged", "vanishing", "stable", "exploding")
# The badge colour of each verdict in the table (filters.BADGE_KINDS; the word stays the catalog's).
VERDICT_BADGES = {
    "zero": "neutral",
    "diverged": "diverged",
    "vanishing": "vanishes",
    "stable": "ok",
    "exploding": "explodes",
}


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
    return {
        "fwd": fwd,
        "bwd": bwd,
        "gain": gs,
        "verdict": verdict,
        "mirror": mirror,
        "r_flat": r_flat,
        "g_first": get("grad_h_std", 1),
        "g_last": get("grad_h_std", depth),
        "r_first": get("grad_w_ratio", 1),
        "r_last": get("grad_w_ratio", depth),
    }


def trajectory_factor(chi: np.ndarray) -> float:
    """Per-layer gradient-std factor predicted along the trajectory: the geometric mean of sqrt(chi(q^l))
    over layers 2..L (``chi`` = chi(q^1..q^L)); NaN when undefined (L < 2 or a non-finite chi)."""
    c = np.asarray(chi, dtype=float)[1:]
    if not len(c) or not np.all(np.isfinite(c)) or np.any(c <= 0):
        return math.nan
    return float(np.exp(0.5 * np.mean(np.log(c))))


def predictions(data, depth: int) -> tuple[dict, dict]:
    """({(init, act): trajectory factor} from theory.csv, {act: BN factor}) -- empty when not available."""
    traj = {}
    if data.has("theory.csv"):
        th = data.frame("theory.csv")
        th = th[th["layer"] <= depth].sort_values("layer")
        for (init, act), g in th.groupby(["init", "activation"], sort=False):
            traj[(init, act)] = trajectory_factor(g["chi"].to_numpy(float)) if len(g) == depth else math.nan
    points = data.grid.theory.quadrature_points
    bn = {a: theory.bn_gradient_factor(a, points) for a in data.grid.propagation.activations}
    return traj, bn


def factor_table(data) -> pd.DataFrame:
    """One row per (init, activation, norm) of the grid: factors, gains, verdicts, predictions of b."""
    depth = data.grid.propagation.depth
    means = seed_mean(data.prop)
    inits, acts, norms = grid_order(data)
    chi = {}
    if data.has("theory_fixed.csv"):
        tf = data.frame("theory_fixed.csv")
        chi = {(r.init, r.activation): float(r.chi1) for r in tf.itertuples()}
    traj, bn = predictions(data, depth)
    rows = []
    for norm in norms:
        for act in acts:
            for init in inits:
                f = factors(rows_for(means, init, act, norm), depth)
                c = chi.get((init, act), math.nan) if norm == "none" else math.nan
                pred = (
                    traj.get((init, act), math.nan)
                    if norm == "none"
                    else bn.get(act, math.nan)
                    if norm == "bn" and init != "zeros"
                    else math.nan
                )
                rows.append(
                    {
                        "init": init,
                        "activation": act,
                        "norm": norm,
                        **f,
                        "sqrt_chi1": math.sqrt(c) if np.isfinite(c) and c >= 0 else math.nan,
                        "pred_b": pred,
                    }
                )
    return pd.DataFrame(rows)


def prediction_errors(ft: pd.DataFrame, norm: str) -> dict:
    """Largest |pred / b - 1| (trajectory / BN prediction, and sqrt(chi_1) at q*) over the configurations
    of ``norm`` with a defined b (forward pass not diverged, gradient not zero) and a finite prediction."""
    sub = ft[(ft["norm"] == norm) & ~ft["verdict"].isin(["zero", "diverged"])]
    sub = sub[np.isfinite(sub["bwd"]) & (sub["bwd"] > 0)]
    out = {}
    for key, col in (("traj", "pred_b"), ("star", "sqrt_chi1")):
        s = sub[np.isfinite(sub[col])]
        err = (s[col] / s["bwd"] - 1).abs()
        out[key] = {
            "n": int(len(s)),
            "max": float(err.max()) if len(s) else math.nan,
            "n_match": int((err <= MATCH_TOL).sum()),
            "worst": s.loc[err.idxmax(), ["init", "activation"]].to_dict() if len(s) else {},
        }
    return out


def bn_factors(ft: pd.DataFrame) -> pd.DataFrame:
    """Per activation with BN: the measured b (median and range over random inits) against the prediction."""
    sub = ft[(ft["norm"] == "bn") & ~ft["verdict"].isin(["zero", "diverged"]) & np.isfinite(ft["bwd"])]
    rows = []
    for act, g in sub.groupby("activation", sort=False):
        pred = float(g["pred_b"].iloc[0])
        rows.append(
            {
                "activation": act,
                "b_median": float(g["bwd"].median()),
                "b_min": float(g["bwd"].min()),
                "b_max": float(g["bwd"].max()),
                "pred_b": pred,
                "max_rel": float((g["bwd"] / pred - 1).abs().max()),
            }
        )
    return pd.DataFrame(rows, columns=["activation", "b_median", "b_min", "b_max", "pred_b", "max_rel"])


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

    order = {
        (n, a, i): k for k, (n, a, i) in enumerate((n, a, i) for n in norms for a in focus_acts for i in focus_inits)
    }
    key = [order.get((r.norm, r.activation, r.init)) for r in ft.itertuples()]
    focus = ft.assign(_k=key).dropna(subset=["_k"]).sort_values("_k").drop(columns="_k")
    factors_tbl = focus[focus["norm"] == "none"][["activation", "init", "fwd", "bwd", "pred_b", "sqrt_chi1", "mirror"]]
    factors_tbl = factors_tbl.reset_index(drop=True)
    grads_tbl = focus[["activation", "init", "norm", "g_first", "g_last", "gain", "r_first", "r_last", "verdict"]]
    grads_tbl = grads_tbl.reset_index(drop=True)
    # a row whose verdict is "diverged" has no gradient (undefined): dashes, never the numbers of the
    # seeds that happened to survive; the verdict column says why
    undefined = grads_tbl["verdict"] == "diverged"
    grads_tbl.loc[undefined, ["g_first", "g_last", "gain", "r_first", "r_last"]] = np.nan

    # whole grid, per norm: how many random-init configurations mirror / vanish / explode
    summary = {}
    for norm in norms:
        sub = ft[ft["norm"] == norm]
        counts = {v: int((sub["verdict"] == v).sum()) for v in VERDICTS}
        rand = sub[sub["init"] != "zeros"]
        comparable = rand[np.isfinite(rand["fwd"]) & np.isfinite(rand["bwd"])]
        summary[norm] = {
            "n": int(len(sub)),
            **counts,
            "n_comparable": int(len(comparable)),
            "n_mirror": int((comparable["mirror"] == True).sum()),  # noqa: E712
            "pred": prediction_errors(ft, norm),
        }
        if len(comparable):
            off = np.abs(np.log(comparable["bwd"] / comparable["fwd"]))
            summary[norm]["farthest_act"] = comparable.loc[off.idxmax(), "activation"]

    bnf = bn_factors(ft) if "bn" in norms else pd.DataFrame(columns=["activation"])
    # the cases the prose walks through (None when not in the grid)
    cases = {f"{i}_{a}": _pick(ft, i, a) for i in ("small", "large", "xavier", "he") for a in focus_acts}
    cases["xavier_sigmoid"] = _pick(ft, "xavier", "sigmoid")  # the non-zero-mean exception
    cases.update(
        {
            f"{i}_{a}_bn": _pick(ft, i, a, "bn")
            for i in ("small", "large", "xavier", "he")
            for a in focus_acts
            if "bn" in norms
        }
    )

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
        "verdict_kinds": VERDICT_BADGES,
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
        "bn_factors": bnf,
        "bn_by_act": {r["activation"]: r for r in bnf.to_dict("records")},
        # Yang et al. (2019)'s closed form for ReLU, to compare with the quadrature value in the text
        "relu_bn_closed": math.sqrt(math.pi / (math.pi - 1)),
        "yang2019_url": "https://arxiv.org/abs/1902.08129",  # Yang et al., A Mean Field Theory of Batch Normalization
        "has_none": "none" in norms,
    }
