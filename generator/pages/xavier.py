"""Xavier / Glorot initialization: the variance argument, the Glorot variants, and what the data says.

Numbers for the page:

* ``variance``: Var(W) of xavier (1/fan_in), glorot_normal and glorot_uniform (2/(fan_in+fan_out))
  for the configured square layers, from inits.weight_variance -- identical when fan_in = fan_out;
* ``variants``: last-layer std of the three Glorot-family inits for every activation in the grid and
  the largest relative spread between them (max - min) / mean among non-diverged cases;
* ``tanh``: xavier + tanh measured std per layer against mean-field theory_std (largest relative
  error), and the per-layer factor at the first and the last step (the decay slows down);
* ``relu``: ratio of successive second moments E[h_l^2] / E[h_{l-1}^2] under xavier + ReLU, measured
  (geometric mean, min, max over layers) against the predicted 1/2 (ratio of successive theory q).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .. import strings
from ..inits import weight_variance
from .index import geometric_mean, has, label, localized, second_moment, successive_ratios, verdict, \
    baseline_saturation

GLOROT_FAMILY = ("xavier", "glorot_normal", "glorot_uniform")


def _theory_q(data, init: str, act: str) -> np.ndarray:
    th = data.frame("theory.csv")
    sel = th[(th["init"] == init) & (th["activation"] == act)].sort_values("layer")
    return sel["q"].to_numpy(float)


def _variants(data) -> dict | None:
    inits = [i for i in GLOROT_FAMILY if has(data, i)]
    if len(inits) < 2:
        return None
    acts = list(data.cfg.propagation.activations)
    last = data.last_layer("none")
    rows, spreads = [], {}
    for act in acts:
        vals = {}
        for init in inits:
            s = last[(last["init"] == init) & (last["activation"] == act)]
            vals[init] = math.inf if s["diverged"].any() else float(s["std"].mean())
        v = np.array(list(vals.values()))
        if np.isfinite(v).all() and v.mean() > 0:
            spreads[act] = float((v.max() - v.min()) / v.mean())
        rows.append({"activation": act, **vals})
    frame = pd.DataFrame(rows)
    worst = max(spreads, key=spreads.get) if spreads else None

    def table(lang):
        t = frame.copy()
        t["activation"] = [label(lang, "activation", a) for a in t["activation"]]
        return t

    return {
        "inits": inits, "frame": frame, "spreads": spreads,
        "max_spread": spreads[worst] if worst else math.nan, "max_spread_activation": worst,
        "table": localized(table),
        "columns": localized(lambda lang: {"activation": strings.t(lang, "xavier.col_activation"),
                                           **{i: label(lang, "init", i) for i in inits}}),
    }


def _tanh(data) -> dict | None:
    if not has(data, "xavier", "tanh"):
        return None
    c = data.case("xavier", "tanh")
    std, th = c["std"].to_numpy(float), c["theory_std"].to_numpy(float)
    rel = np.abs(std - th) / th
    f = successive_ratios(std)
    sat = c["saturated_frac"].to_numpy(float)
    return {
        "first_std": float(std[0]), "last_std": float(std[-1]), "max_rel_err": float(np.nanmax(rel)),
        "theory_last": float(th[-1]), "first_factor": float(f[0]), "last_factor": float(f[-1]),
        "sat_max": float(np.nanmax(sat)),
        "verdict": verdict(float(std[-1]), float(sat[-1]), baseline_saturation("tanh"), bool(c["diverged"].any())),
    }


def _relu(data) -> dict | None:
    if not has(data, "xavier", "relu"):
        return None
    c = data.case("xavier", "relu")
    m2 = second_moment(c)
    r = successive_ratios(m2)
    q = _theory_q(data, "xavier", "relu")
    predicted = geometric_mean(successive_ratios(q)) if len(q) > 1 else math.nan
    std = c["std"].to_numpy(float)
    return {
        "ratio": geometric_mean(r), "ratio_min": float(np.nanmin(r)), "ratio_max": float(np.nanmax(r)),
        "predicted": predicted, "std_factor": geometric_mean(successive_ratios(std)),
        "first_std": float(std[0]), "last_std": float(std[-1]),
        "shrink_total": float(m2[-1] / m2[0]),
        "verdict": verdict(float(std[-1]), float(c["saturated_frac"].iloc[-1]), baseline_saturation("relu"),
                           bool(c["diverged"].any())),
    }


def context(data) -> dict:
    n = data.cfg.propagation.width
    acts = data.cfg.propagation.activations
    var = {i: weight_variance(i, n, n) for i in GLOROT_FAMILY}
    return {
        "width": n,
        "depth": data.cfg.propagation.depth,
        "variance": var,
        "variance_equal": len({round(v, 15) for v in var.values()}) == 1,
        # a non-square example (fan_out = 2 fan_in) to show where the two formulas part ways
        "nonsquare": {"fan_in": n, "fan_out": 2 * n, "xavier": weight_variance("xavier", n, 2 * n),
                      "glorot": weight_variance("glorot_normal", n, 2 * n)},
        "variants": _variants(data),
        "tanh": _tanh(data),
        "relu": _relu(data),
        "has_theory_tanh": has(data, "xavier", "tanh"),
        "has_glorot_fig": all(has(data, i) for i in GLOROT_FAMILY) and all(a in acts for a in ("tanh", "relu")),
    }
