"""Batch normalization numbers: conventions, placement, and how much BN removes the dependence on init.

Measured, not typed in:

* the running-statistics convention is read off ``layers.batchnorm_forward`` by calling it once
  (:func:`bn_conventions`): momentum, whether the running variance is unbiased, and the defaults of
  gamma / beta / eps used by the experiments (``network.BN_EPS``; gamma = 1, beta = 0);
* init dependence: :func:`~generator.analysis.factors.init_spread` (the one definition, shared with the
  conclusions page) over the random inits (``zeros`` excluded), per activation, for norm ``none`` and
  ``bn``: max/min ratio of the seed-averaged last-layer std and the std of its log10; a diverged run
  enters at the divergence threshold, which makes the spread a lower bound (``bound``);
* scale invariance: inits whose weights are the *same* random draw times a constant (a "scale family",
  found by :func:`scale_families` by drawing each init from one generator state) give BN outputs that
  differ only through eps; the page reports the largest difference of the last-layer statistics inside
  a family at the same seed (``bn``, in units of the std), next to the order of the eps effect,
  ``eps / sigma_w^2`` of the smallest-scale member;
* placement: ``bn`` (affine -> BN -> activation) vs ``bn_post`` (activation -> BN). ``bn_post`` rows come
  from propagation.csv when the grid has them; otherwise from ``placement.csv``, the small extra
  measurement the experiments stage runs (generator/experiments/plan.py ``placement_tasks``: a few
  activations x inits at the first seed). Which ones: ``data.grid.placement`` (grid.json).

No display text here: the batchnorm page (generator/pages/batchnorm.py) adds it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from generator.analysis.factors import init_spread, last_layer_std, ordered
from generator.analysis.seeds import SeedMeans, seed_means
from generator.engine import layers, network, theory
from generator.engine.inits import get_init

SAT_GAP = 0.25  # placement "matters" when bn_post saturates this much more of the units than bn
SCALE_TOL = 0.05  # the measured small/large gradient-ratio quotient "matches" c^2 within 5%
FAMILY_PROBE = 6  # size of the probe matrices used to detect scale families
FAMILY_RTOL = 1e-9


def bn_conventions() -> dict:
    """Call ``layers.batchnorm_forward`` once in train mode and read its conventions back."""
    x = np.array([[0.0], [1.0], [2.0], [5.0]])
    param = {"mode": "train"}
    layers.batchnorm_forward(x, np.ones(1), np.zeros(1), param)
    mu, var_b, var_u = float(x.mean()), float(x.var()), float(x.var(ddof=1))
    momentum = float(param["running_mean"][0]) / mu
    stored = (float(param["running_var"][0]) - (1 - momentum)) / momentum
    return {
        "momentum": momentum,
        "unbiased": bool(abs(stored - var_u) < 1e-12 * var_u),
        "biased_in_batch": True,
        "eps": network.BN_EPS,
        "gamma": 1,
        "beta": 0,
        "n_example": int(x.shape[0]),
        "var_ratio": var_u / var_b,
    }


def scale_families(inits) -> list[list[str]]:
    """Groups of ``inits`` whose weights, drawn from the same generator state, are constant multiples
    of each other (e.g. small, large, xavier, he all scale one standard-normal draw)."""
    draws: dict[str, np.ndarray] = {}
    for name in inits:
        if name == "zeros":
            continue
        w = get_init(name)(FAMILY_PROBE, FAMILY_PROBE, np.random.default_rng(0))
        if np.linalg.norm(w) > 0:  # an all-zero draw has no direction: in no family
            draws[name] = w / np.linalg.norm(w)
    groups: list[list[str]] = []
    for name, w in draws.items():
        for g in groups:
            if np.allclose(draws[g[0]], w, rtol=FAMILY_RTOL, atol=1e-12):
                g.append(name)
                break
        else:
            groups.append([name])
    return [g for g in groups if len(g) > 1]


def invariance(data, families) -> pd.DataFrame:
    """Per (family, activation): largest difference of the last-layer mean/std/min/max between a family
    member and the family's largest-scale member at the same seed (norm ``bn``), in units of the
    reference's std (a mean near 0 would make a plain relative difference meaningless)."""
    p = data.prop
    depth = data.grid.propagation.depth
    last = p[(p["layer"] == depth) & (p["norm"] == "bn")]
    width = data.grid.propagation.width
    rows = []
    for fam in families:
        s2 = {i: theory.sigma_w2(i, "linear", width, width) for i in fam}
        ref = max(fam, key=lambda i: s2[i])
        low = min(fam, key=lambda i: s2[i])
        for act, sub in last[last["init"].isin(fam)].groupby("activation", sort=False):
            base = sub[sub["init"] == ref].set_index("seed")
            worst = 0.0
            for init in fam:
                if init == ref:
                    continue
                other = sub[sub["init"] == init].set_index("seed")
                scale = base["std"].where(base["std"] > 0)
                for col in ("mean", "std", "min", "max"):
                    a, b = other[col].reindex(base.index), base[col]
                    rel = ((a - b).abs() / scale).max()
                    if np.isfinite(rel):
                        worst = max(worst, float(rel))
            rows.append(
                {
                    "family": ", ".join(fam),
                    "members": fam,
                    "activation": act,
                    "ref": ref,
                    "low": low,
                    "max_rel": worst,
                    "sigma_w2_low": s2[low],
                }
            )
    return pd.DataFrame(rows, columns=["family", "members", "activation", "ref", "low", "max_rel", "sigma_w2_low"])


def placement_frame(data) -> tuple[pd.DataFrame, dict]:
    """Last-layer ``bn`` vs ``bn_post`` statistics for the placement comparison of ``data.grid.placement``
    (see module docstring): the grid's own ``bn_post`` rows, or placement.csv's extra runs."""
    pl = data.grid.placement
    depth = data.grid.propagation.depth
    p = data.prop
    source: dict = {
        "from_config": bool(pl.from_grid),
        "seeds": list(pl.seeds),
        "acts": list(pl.activations),
        "inits": list(pl.inits),
    }
    post = p[p["norm"] == "bn_post"] if pl.from_grid else data.frame("placement.csv")
    seeds = source["seeds"]
    pre = p[(p["norm"] == "bn") & (p["seed"].isin(seeds))]
    last = {
        tag: SeedMeans(df).last(norm, depth).set_index(["init", "activation"])
        for tag, df, norm in (("bn", pre, "bn"), ("post", post, "bn_post"))
    }
    rows = []
    for a in source["acts"]:
        for i in source["inits"]:
            r = {"activation": a, "init": i}
            for tag, m in last.items():
                for key, col in (("sat", "saturated_frac"), ("std", "std"), ("pre", "preact_std")):
                    r[f"{key}_{tag}"] = float(m[col].loc[(i, a)]) if (i, a) in m.index else math.nan
            rows.append(r)
    return pd.DataFrame(rows), source


def spread_summary(data, acts) -> tuple[pd.DataFrame, dict]:
    """Per activation: the init spread without and with BN (:func:`init_spread`, the one definition the
    conclusions page shares: a diverged run enters at the divergence threshold, ``bound_*`` marks a lower
    bound), and its summary with the verdict on the source note's claim "less dependence on the init" for
    the forward pass."""
    cfg = data.grid.propagation
    spread = init_spread(data.prop, cfg.depth, cfg.diverge_rms)
    none = spread[spread["norm"] == "none"].set_index("activation")
    bn = spread[spread["norm"] == "bn"].set_index("activation")
    order = ordered(spread["activation"], acts)
    table = pd.DataFrame(
        {
            "activation": order,
            "ratio_none": none["ratio"].reindex(order).to_numpy(),
            "sd_none": none["sd_log10"].reindex(order).to_numpy(),
            "div_none": none["n_div"].reindex(order).to_numpy(),
            "ratio_bn": bn["ratio"].reindex(order).to_numpy(),
            "sd_bn": bn["sd_log10"].reindex(order).to_numpy(),
            "bound_none": none["bound"].reindex(order).fillna(False).to_numpy(dtype=bool),
            "bound_bn": bn["bound"].reindex(order).fillna(False).to_numpy(dtype=bool),
        }
    )
    i_max, i_min = table["ratio_none"].idxmax(), table["ratio_none"].idxmin()
    summary: dict = {
        # the random inits compared: every init of the data but zeros (counted, not the sum of two maxima
        # over different activations, which once printed 9 for the grid's 8)
        "n_inits": int(data.prop.loc[data.prop["init"] != "zeros", "init"].nunique()) if len(none) else 0,
        "none_ratio_min": float(table["ratio_none"].min()),
        "none_ratio_max": float(table["ratio_none"].max()),
        "none_sd_median": float(table["sd_none"].median()),
        "bn_ratio_min": float(table["ratio_bn"].min()),
        "bn_ratio_max": float(table["ratio_bn"].max()),
        "bn_sd_median": float(table["sd_bn"].median()),
        "bn_excess_min": float(table["ratio_bn"].min() - 1),
        "bn_excess_max": float(table["ratio_bn"].max() - 1),
        "n_div_none": int(table["div_none"].sum()),
        "act_none_max": table.at[i_max, "activation"],
        "act_bn_max": table.at[table["ratio_bn"].idxmax(), "activation"],
        # a lower bound anywhere makes the extreme / the median a lower bound too (both are monotone)
        "none_max_bound": bool(table.at[i_max, "bound_none"]),
        "none_min_bound": bool(table.at[i_min, "bound_none"]),
        "none_sd_bound": bool(table["bound_none"].any()),
        "bn_bound": bool(table["bound_bn"].any()),
    }
    # the claim "less dependence on the init" holds for the forward pass when BN's widest spread is
    # narrower than the narrowest spread without BN (lower bounds without BN only make that harder)
    summary["confirmed"] = bool(summary["bn_ratio_max"] < summary["none_ratio_min"])
    summary["sd_reduction"] = (
        summary["none_sd_median"] / summary["bn_sd_median"] if summary["bn_sd_median"] > 0 else math.inf
    )
    return table, summary


def invariance_summary(inv: pd.DataFrame, eps: float) -> dict:
    """The worst row of :func:`invariance` and the order of the eps effect of its smallest-scale member."""
    if not len(inv):
        return {}
    worst = inv.loc[inv["max_rel"].idxmax()]  # type: ignore[call-overload]  # a label: stubs say Hashable
    return {
        "max_rel": float(inv["max_rel"].max()),
        "act": worst["activation"],
        "low": worst["low"],
        "family": list(inv.iloc[0]["members"]),
        "eps_order": eps / float(worst["sigma_w2_low"]),
        "sigma_w2_low": float(worst["sigma_w2_low"]),
    }


def zeros_with_bn(data) -> dict:
    """Zeros with BN: every layer is phi(0) exactly, so every last-layer std is 0."""
    ls = last_layer_std(data.prop, data.grid.propagation.depth)
    z = ls[(ls["init"] == "zeros") & (ls["norm"] == "bn")]
    return {"max_std": float(z["std"].max()), "n": int(len(z)), "all_zero": bool((z["std"] == 0).all())}


def grad_scale(data, acts) -> dict | None:
    """BN is invariant to the weight scale c, but dL/dW scales as 1/c: ||dW||/||W|| as 1/c^2. The
    measured small/large quotient of the first-layer gradient ratio against sigma_large^2 / sigma_small^2."""
    cfg = data.grid.propagation
    r = seed_means(data).last("bn", cfg.depth).set_index(["init", "activation"])["grad_w_ratio"]
    rows = []
    for a in acts:
        if ("small", a) in r.index and ("large", a) in r.index:
            rows.append({"activation": a, "small": float(r[("small", a)]), "large": float(r[("large", a)])})
    if not rows:
        return None
    gs = pd.DataFrame(rows)
    gs["ratio"] = gs["small"] / gs["large"]
    s2s = theory.sigma_w2("small", "linear", cfg.width, cfg.width)
    s2l = theory.sigma_w2("large", "linear", cfg.width, cfg.width)
    out = {
        "table": gs,
        "predicted": s2l / s2s,
        "std_ratio": math.sqrt(s2l / s2s),
        "min": float(gs["ratio"].min()),
        "max": float(gs["ratio"].max()),
        "tol": SCALE_TOL,
    }
    out["matches"] = bool((abs(gs["ratio"] / out["predicted"] - 1) <= SCALE_TOL).all())
    return out


def placement_summary(placement: pd.DataFrame | None) -> dict:
    """How many placement cases saturate more than ``SAT_GAP`` worse with ``bn_post``; the tanh/large row."""
    if placement is None or not len(placement):
        return {}
    worse = placement[placement["sat_post"] - placement["sat_bn"] > SAT_GAP]
    out = {
        "n_worse": int(len(worse)),
        "n": int(len(placement)),
        "cases_worse": worse[["activation", "init"]].to_dict("records"),
    }
    lt = placement[(placement["activation"] == "tanh") & (placement["init"] == "large")]
    if len(lt):
        out["tanh_large"] = lt.iloc[0].to_dict()
    return out


def relu_zero_share(data) -> float:
    """Mean over the random inits and seeds of the last-layer share of ReLU outputs that are exactly 0 with
    BN before the activation (``zero_frac``); BN after a ReLU maps all of these to one value. NaN if the
    grid has no ReLU with BN."""
    last = SeedMeans.of(data.prop).last("bn")
    sel = last[(last["activation"] == "relu") & (last["init"] != "zeros")]
    return float(sel["zero_frac"].mean()) if len(sel) and "zero_frac" in sel.columns else math.nan
