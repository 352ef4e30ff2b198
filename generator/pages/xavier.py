"""Xavier / Glorot initialization: the variance argument, the Glorot variants, and what the data says.

Numbers for the page:

* ``variance``: Var(W) of xavier (1/fan_in), glorot_normal and glorot_uniform (2/(fan_in+fan_out))
  for the configured square layers, from inits.weight_variance -- identical when fan_in = fan_out;
* ``variants``: last-layer std of the three Glorot-family inits for every activation in the grid, the
  largest relative spread between them (max - min) / mean among non-diverged cases, and a 95 % paired
  interval (over seeds) of the difference between the first and the last init per activation: two inits
  are called different only where that interval excludes 0;
* ``tanh``: xavier + tanh measured std per layer against mean-field theory_std (largest relative
  error), and the per-layer factor at the first and the last step (the decay slows down);
* ``relu``: ratio of successive second moments E[h_l^2] / E[h_{l-1}^2] under xavier + ReLU, measured
  (geometric mean, min, max over layers) against the predicted 1/2 (ratio of successive theory q).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from generator.analysis.health import record
from generator.analysis.seeds import seed_means
from generator.analysis.verdicts import paired_interval
from generator.engine.inits import weight_variance
from generator.pages.index import (
    geometric_mean,
    has,
    init_health_context,
    label,
    localized,
    second_moment,
    successive_ratios,
)
from generator.render import strings

GLOROT_FAMILY = ("xavier", "glorot_normal", "glorot_uniform")


def _theory_q(data, init: str, act: str) -> np.ndarray:
    th = data.frame("theory.csv")
    sel = th[(th["init"] == init) & (th["activation"] == act)].sort_values("layer")
    return sel["q"].to_numpy(float)


NOISE_FACTOR = 2.0  # a spread between inits up to this many times the seed-to-seed spread counts as noise


def seed_spread(last, init: str, act: str) -> float:
    """(max - min) / mean over seeds of one configuration's last-layer std (NaN if any seed diverged)."""
    s = last[(last["init"] == init) & (last["activation"] == act)]
    if not len(s) or s["diverged"].any():
        return math.nan
    v = s["std"].to_numpy(float)
    return float((v.max() - v.min()) / v.mean()) if v.mean() > 0 else math.nan


def compare_inits(data, inits, reference: str) -> dict:
    """Last-layer std of ``inits`` per activation: relative spread between the inits (mean over seeds,
    (max - min) / mean), the reference init's seed-to-seed spread, and the activation where the inits
    differ most. ``within_noise``: that largest spread is at most NOISE_FACTOR x the seed spread there."""
    last = data.last_layer("none")
    means = seed_means(data).last("none", data.grid.propagation.depth).set_index(["init", "activation"])
    rows, spreads, noise = [], {}, {}
    for act in data.grid.propagation.activations:
        vals = {}
        for init in inits:
            if (init, act) not in means.index:
                vals[init] = math.nan
                continue
            s = means.loc[(init, act)]
            vals[init] = math.inf if s["diverged"] else float(s["std"])
        v = np.array(list(vals.values()))
        if np.isfinite(v).all() and v.mean() > 0:
            spreads[act] = float((v.max() - v.min()) / v.mean())
            noise[act] = seed_spread(last, reference, act)
        rows.append({"activation": act, **vals})
    worst = max(spreads, key=spreads.get) if spreads else None
    max_spread = spreads[worst] if worst else math.nan
    seed_at_worst = noise[worst] if worst else math.nan
    paired = {act: paired_last_std(last, inits[0], inits[-1], act) for act in spreads}
    different = [a for a, iv in paired.items() if iv.n >= 2 and (iv.lo > 0 or iv.hi < 0)]
    return {
        "frame": pd.DataFrame(rows),
        "spreads": spreads,
        "seed_spreads": noise,
        "worst": worst,
        "max_spread": max_spread,
        "seed_spread": seed_at_worst,
        "n_compared": len(spreads),
        "within_noise": bool(worst) and max_spread <= NOISE_FACTOR * seed_at_worst,
        "noise_factor": NOISE_FACTOR,
        "pair": (inits[0], inits[-1]),
        "paired": {a: iv._asdict() for a, iv in paired.items()},
        "different": different,
        "n_different": len(different),
        "worst_paired": paired[worst]._asdict() if worst else None,
    }


def paired_last_std(last: pd.DataFrame, a: str, b: str, act: str):
    """95 % paired t interval (verdicts.paired_interval) of last-layer std(a) - std(b) over the seeds both
    ran without diverging (same seed = same input X and upstream gradient G, so the design is paired)."""

    def per_seed(init):
        s = last[(last["init"] == init) & (last["activation"] == act) & ~last["diverged"]]
        return s.set_index("seed")["std"].astype(float)

    x, y = per_seed(a), per_seed(b)
    common = sorted(set(x.index) & set(y.index))
    return paired_interval(x.loc[common].to_numpy(), y.loc[common].to_numpy())


SAME_DRAWS_RTOL = 1e-9  # relative difference below this: the same weights up to floating-point rounding


def max_rel_diff(data, a: str, b: str) -> float:
    """Largest relative difference of the per-layer std between two inits over every run of the grid
    (xavier and glorot_normal scale the same N(0,1) draws by 1/sqrt(n) and sqrt(2/(n+n)))."""
    p = data.prop
    keys = ["activation", "norm", "seed", "layer"]
    x = p[p["init"] == a].sort_values(keys)
    y = p[p["init"] == b].sort_values(keys)
    if len(x) != len(y) or not len(x):
        return math.nan
    u, v = x["std"].to_numpy(float), y["std"].to_numpy(float)
    ok = (
        np.isfinite(u)
        & np.isfinite(v)
        & (np.abs(u) > 0)
        & ~x["diverged"].to_numpy(bool)
        & ~y["diverged"].to_numpy(bool)
    )
    return float(np.max(np.abs(u[ok] - v[ok]) / np.abs(u[ok]))) if ok.any() else math.nan


def _variants(data) -> dict | None:
    inits = [i for i in GLOROT_FAMILY if has(data, i)]
    if len(inits) < 2:
        return None
    cmp = compare_inits(data, inits, "xavier" if "xavier" in inits else inits[0])
    frame = cmp["frame"]

    def table(lang):
        t = frame.copy()
        t["activation"] = [label(lang, "activation", a) for a in t["activation"]]
        return t

    return {
        **cmp,
        "inits": inits,
        "max_spread_activation": cmp["worst"],
        "normal_rel_diff": (
            max_rel_diff(data, "xavier", "glorot_normal")
            if "xavier" in inits and "glorot_normal" in inits
            else math.nan
        ),
        "identical_normal": (
            "xavier" in inits
            and "glorot_normal" in inits
            and max_rel_diff(data, "xavier", "glorot_normal") < SAME_DRAWS_RTOL
        ),
        "table": localized(table),
        "columns": localized(
            lambda lang: {
                "activation": strings.t(lang, "xavier.col_activation"),
                **{i: label(lang, "init", i) for i in inits},
            }
        ),
    }


def _tanh(data) -> dict | None:
    if not has(data, "xavier", "tanh"):
        return None
    c = seed_means(data).case("xavier", "tanh")
    std, th = c["std"].to_numpy(float), c["theory_std"].to_numpy(float)
    rel = np.abs(std - th) / th
    f = successive_ratios(std)
    sat = c["saturated_frac"].to_numpy(float)
    return {
        "first_std": float(std[0]),
        "last_std": float(std[-1]),
        "max_rel_err": float(np.nanmax(rel)),
        "theory_last": float(th[-1]),
        "first_factor": float(f[0]),
        "last_factor": float(f[-1]),
        "sat_max": float(np.nanmax(sat)),
        **_health(data, "xavier", "tanh"),
    }


def _relu(data) -> dict | None:
    if not has(data, "xavier", "relu"):
        return None
    c = seed_means(data).case("xavier", "relu")
    m2 = second_moment(c)
    r = successive_ratios(m2)
    q = _theory_q(data, "xavier", "relu")
    predicted = geometric_mean(successive_ratios(q)) if len(q) > 1 else math.nan
    std = c["std"].to_numpy(float)
    return {
        "ratio": geometric_mean(r),
        "ratio_min": float(np.nanmin(r)),
        "ratio_max": float(np.nanmax(r)),
        "predicted": predicted,
        "std_factor": geometric_mean(successive_ratios(std)),
        "first_std": float(std[0]),
        "last_std": float(std[-1]),
        "shrink_total": float(m2[-1] / m2[0]),
        **_health(data, "xavier", "relu"),
    }


def _health(data, init: str, act: str) -> dict:
    """The health record's labels and gradient ratio (both passes, generator/analysis/health.py)."""
    h = record(data, init, act)
    return {
        "forward": h["forward"],
        "backward": h["backward"],
        "healthy": bool(h["healthy"]),
        "grad_ratio": h["grad_ratio"],
        "grad_ratio_lo": h["grad_ratio_lo"],
        "grad_ratio_hi": h["grad_ratio_hi"],
    }


def _fixed(data, init: str, act: str) -> dict | None:
    """theory_fixed.csv row (q*, chi_1, growth, fixed-point stability, regime) for one (init, activation), or
    None. Regimes and their rules: generator/engine/theory.py (ordered, critical, marginal, chaotic, explodes)."""
    if not data.has("theory_fixed.csv"):
        return None
    f = data.frame("theory_fixed.csv")
    row = f[(f["init"] == init) & (f["activation"] == act)]
    if not len(row):
        return None
    r = row.iloc[0]
    return {
        "q_star": float(r["q_star"]),
        "chi1": float(r["chi1"]),
        "regime": str(r["regime"]),
        "growth": float(r["growth"]) if "growth" in r else math.nan,
        "fixed_point_stable": bool(r["fixed_point_stable"]) if "fixed_point_stable" in r else None,
    }


def context(data) -> dict:
    n = data.grid.propagation.width
    acts = data.grid.propagation.activations
    var = {i: weight_variance(i, n, n) for i in GLOROT_FAMILY}
    return {
        "width": n,
        "depth": data.grid.propagation.depth,
        "variance": var,
        "variance_equal": len({round(v, 15) for v in var.values()}) == 1,
        # a non-square example (fan_out = 2 fan_in) to show where the two formulas part ways
        "nonsquare": {
            "fan_in": n,
            "fan_out": 2 * n,
            "xavier": weight_variance("xavier", n, 2 * n),
            "glorot": weight_variance("glorot_normal", n, 2 * n),
        },
        "variants": _variants(data),
        "health": init_health_context(data, "xavier"),
        "tanh": _tanh(data),
        "tanh_fixed": _fixed(data, "xavier", "tanh"),
        "relu": _relu(data),
        "has_theory_tanh": has(data, "xavier", "tanh"),
        "has_glorot_fig": all(has(data, i) for i in GLOROT_FAMILY) and all(a in acts for a in ("tanh", "relu")),
    }
