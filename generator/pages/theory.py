"""Theory page: the mean-field recursion against the measurements, and where it stops applying.

Definitions (all from the data files; ``theory_std`` is the prediction, ``std`` the seed-averaged
measurement, norm ``none``, random inits only):

* relative error per layer ``|std - theory_std| / theory_std``, over layers whose forward pass did
  not diverge in any seed and whose prediction is positive and finite;
* per activation: the largest relative error over inits and layers (and where it occurs), and the
  median; ``GOOD_TOL``: an (init, activation) "agrees" when its largest error is at most this;
* BN: the recursion does not describe it, but with BN every activation input is standardised, so
  q = 1 at every layer and the prediction is the one-layer value ``Std[phi(z)]``, z ~ N(0, 1) (computed
  by the same quadrature); its relative error against every ``bn`` row (random inits) is reported;
* divergence: (init, activation) pairs whose measured forward pass diverged, with the first diverged
  layer and the regime from ``theory_fixed.csv``;
* regimes: counted and tabulated from ``theory_fixed.csv`` (rules: generator/engine/theory.py, stated on the
  page); ``repelled``: exploding pairs whose gain puts a fixed point at q = 1 (|F(1) - 1| <= 1e-6, e.g.
  orthogonal + GELU) with F'(1) > 1, so that fixed point repels and q^l runs away from q^1 = sigma_w^2.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from generator.analysis.factors import ordered, seed_mean
from generator.analysis.seeds import seed_means
from generator.engine import theory
from generator.engine.activations import get_activation
from generator.pages.gradients import grid_order

GOOD_TOL = 0.05  # max relative error for "the theory agrees" with the measurement
DETAIL_CASES = (("xavier", "tanh"), ("he", "relu"))  # per-layer tables shown on the page
REGIME_ORDER = theory.REGIMES
CHI_DIGITS = 4  # chi_1 is printed to 4 significant digits (the rule; 3 made four pairs read "1.00")
GROWTH_DIGITS = 5  # the growth factor to 5, so that He + leaky ReLU's 1 + alpha^2 does not print as 1
DIVERGENCE_COLUMNS = ("init", "activation", "first_layer", "n_seeds", "theory_std", "regime", "q_star")


def errors(data) -> pd.DataFrame:
    """Per (init, activation, layer), norm none: theory_std, measured std and relative error."""
    m = seed_mean(data.prop[data.prop["norm"] == "none"])
    m = m[m["init"] != "zeros"]
    ok = ~m["diverged"] & np.isfinite(m["theory_std"]) & (m["theory_std"] > 0) & np.isfinite(m["std"])
    m = m.assign(rel_err=np.where(ok, (m["std"] - m["theory_std"]).abs() / m["theory_std"], np.nan))
    return m[["init", "activation", "layer", "theory_std", "std", "rel_err", "diverged"]]


def bn_errors(data, points: int) -> pd.DataFrame:
    """Measured ``bn`` std (random inits, every layer) against Std[phi(z)], z ~ N(0, 1)."""
    p = data.prop
    sub = p[(p["norm"] == "bn") & (p["init"] != "zeros") & ~p["diverged"]]
    rows = []
    for act, s in sub.groupby("activation", sort=False):
        f = get_activation(act).forward
        m1 = float(theory.expect(f, 1.0, points))
        m2 = float(theory.expect(lambda a, f=f: f(a) ** 2, 1.0, points))
        pred = math.sqrt(max(m2 - m1 * m1, 0.0))
        rel = (s["std"] - pred).abs() / pred
        rows.append({"activation": act, "pred": pred, "max_rel": float(rel.max()), "median_rel": float(rel.median())})
    return pd.DataFrame(rows, columns=["activation", "pred", "max_rel", "median_rel"])


def regime_tables(fixed, inits, acts, points: int) -> tuple[dict, dict]:
    """Pivot tables (init x activation) of regime, chi1, growth and q*, the regime counts, and the pairs the
    page names (critical, marginal, and ``repelled``: see the module doc)."""
    if fixed is None or not len(fixed):
        return {}, {}
    f_inits, f_acts = ordered(fixed["init"], inits), ordered(fixed["activation"], acts)
    tables = {
        col: fixed.pivot(index="init", columns="activation", values=col)
        .reindex(index=f_inits, columns=f_acts)
        .reset_index()
        for col in ("regime", "chi1", "growth", "q_star")
    }
    regimes = {r: int((fixed["regime"] == r).sum()) for r in REGIME_ORDER}
    regimes["n"] = int(len(fixed))
    for r in ("critical", "marginal"):
        regimes[f"{r}_pairs"] = fixed[fixed["regime"] == r][["init", "activation"]].to_dict("records")
    repelled = []
    for r in fixed[fixed["regime"] == "explodes"].itertuples():
        f1 = float(r.sigma_w2) * float(
            theory.expect(lambda a, act=r.activation: get_activation(act).forward(a) ** 2, 1.0, points)
        )
        if abs(f1 - 1.0) <= 1e-6:
            d = theory.slope(r.activation, r.sigma_w2, 1.0, points)
            if d > 1.0:
                repelled.append(
                    {
                        "init": r.init,
                        "activation": r.activation,
                        "dfdq": d,
                        "q1": float(r.q1),
                        "growth": float(r.growth),
                    }
                )
    regimes["repelled"] = repelled
    return tables, regimes


def per_activation(err: pd.DataFrame, acts) -> tuple[pd.DataFrame, dict]:
    """Per activation: the largest relative error (and where), the median, and how many of its
    (init, activation) pairs agree within ``GOOD_TOL``; plus the overall worst / best over activations."""
    per_pair = (
        err.groupby(["init", "activation"], sort=False)
        .agg(max_rel=("rel_err", "max"), n_ok=("rel_err", "count"))
        .reset_index()
    )
    per_act = []
    for act in acts:
        e = err[(err["activation"] == act) & err["rel_err"].notna()]
        if not len(e):
            continue
        worst = e.loc[e["rel_err"].idxmax()]
        pairs = per_pair[(per_pair["activation"] == act) & (per_pair["n_ok"] > 0)]
        per_act.append(
            {
                "activation": act,
                "max_rel": float(worst["rel_err"]),
                "init": worst["init"],
                "layer": int(worst["layer"]),
                "median_rel": float(e["rel_err"].median()),
                "n_good": int((pairs["max_rel"] <= GOOD_TOL).sum()),
                "n_pairs": int(len(pairs)),
            }
        )
    per_act = pd.DataFrame(
        per_act, columns=["activation", "max_rel", "init", "layer", "median_rel", "n_good", "n_pairs"]
    )
    overall = {}
    if len(per_act):
        w = per_act.loc[per_act["max_rel"].idxmax()]
        b = per_act.loc[per_act["max_rel"].idxmin()]
        overall = {
            "max_rel": float(w["max_rel"]),
            "act_worst": w["activation"],
            "init_worst": w["init"],
            "layer_worst": int(w["layer"]),
            "min_of_max": float(b["max_rel"]),
            "act_best": b["activation"],
            "median_rel": float(err["rel_err"].median()),
            "n_good": int(per_act["n_good"].sum()),
            "n_pairs": int(per_act["n_pairs"].sum()),
        }
    return per_act, overall


def detail_tables(err: pd.DataFrame) -> list[dict]:
    """The per-layer tables of :data:`DETAIL_CASES` present in the data, with first / last relative error."""
    details = []
    for init, act in DETAIL_CASES:
        e = err[(err["init"] == init) & (err["activation"] == act)].sort_values("layer")
        if len(e) and e["rel_err"].notna().any():
            ok = e[e["rel_err"].notna()]
            details.append(
                {
                    "init": init,
                    "activation": act,
                    "name": f"theory-{init}-{act}",
                    "first": float(ok["rel_err"].iloc[0]),
                    "last": float(ok["rel_err"].iloc[-1]),
                    "grows": bool(ok["rel_err"].iloc[-1] > ok["rel_err"].iloc[0]),
                    "table": e[["layer", "theory_std", "std", "rel_err"]].reset_index(drop=True),
                }
            )
    return details


def divergence_table(data, err: pd.DataFrame, fixed) -> pd.DataFrame:
    """Measured forward passes (norm none) that blew up, and what the theory said about them: first
    diverged layer, diverged seeds, the prediction at that layer, the regime and q* of ``fixed``."""
    div_rows = []
    last = seed_means(data).last("none")
    for s in last[last["diverged_case"]].itertuples():
        init, act, first = s.init, s.activation, seed_means(data).first_diverged(s.init, s.activation, "none")
        reg = q = math.nan
        if fixed is not None:
            fr = fixed[(fixed["init"] == init) & (fixed["activation"] == act)]
            if len(fr):
                reg, q = fr.iloc[0]["regime"], float(fr.iloc[0]["q_star"])
        th = err[(err["init"] == init) & (err["activation"] == act) & (err["layer"] == first)]["theory_std"]
        div_rows.append(
            {
                "init": init,
                "activation": act,
                "first_layer": first,
                "n_seeds": int(s.n_seeds - s.n_ok),
                "theory_std": float(th.iloc[0]) if len(th) else math.nan,
                "regime": reg,
                "q_star": q,
            }
        )
    return pd.DataFrame(div_rows, columns=DIVERGENCE_COLUMNS)


def context(data) -> dict:
    cfg = data.grid.propagation
    inits, acts, norms = grid_order(data)
    points = data.grid.theory.quadrature_points
    has_none = "none" in norms
    err = errors(data) if has_none else pd.DataFrame(columns=["init", "activation", "layer", "rel_err"])
    per_act, overall = per_activation(err, acts)
    details = detail_tables(err)
    fixed = data.frame("theory_fixed.csv") if data.has("theory_fixed.csv") else None
    tables, regimes = regime_tables(fixed, inits, acts, points)
    # divergence: measured forward passes that blew up, and what the theory said about them
    divergence = divergence_table(data, err, fixed) if has_none else pd.DataFrame(columns=DIVERGENCE_COLUMNS)

    bn = bn_errors(data, points) if "bn" in norms else pd.DataFrame()
    bn_summary = (
        {"max_rel": float(bn["max_rel"].max()), "act": bn.loc[bn["max_rel"].idxmax(), "activation"]} if len(bn) else {}
    )

    return {
        "good_tol": GOOD_TOL,
        "width": cfg.width,
        "samples": cfg.samples,
        "depth": cfg.depth,
        "inv_sqrt_width": 1 / math.sqrt(cfg.width),
        "diverge_rms": cfg.diverge_rms,
        "critical_tol": theory.CRITICAL_TOL,
        "quadrature_points": points,
        "per_act": per_act,
        "per_act_by": {r["activation"]: r for r in per_act.to_dict("records")},  # for the figure captions
        "overall": overall,
        "details": details,
        "chi_tbl": tables.get("chi1"),
        "table_acts": [c for c in tables["chi1"].columns if c != "init"] if tables else [],
        "q_tbl": tables.get("q_star"),
        "regime_tbl": tables.get("regime"),
        "growth_tbl": tables.get("growth"),
        "chi_digits": CHI_DIGITS,
        "growth_digits": GROWTH_DIGITS,
        "theory_depth": int(data.grid.theory.depth) if "depth" in data.grid.theory else cfg.depth,
        "regimes": regimes,
        "divergence": divergence,
        "div_all_explode": bool(len(divergence) and (divergence["regime"] == "explodes").all()),
        "bn": bn,
        "bn_summary": bn_summary,
        "has_none": has_none,
        "figures": [f"theory_{a}" for a in acts] if has_none else [],
    }
