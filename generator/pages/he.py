"""He / Kaiming initialization: the factor 2, ReLU kept flat, gains, he_uniform, and SELU with xavier.

Numbers for the page (norm none, means over seeds):

* ``relu``: he + ReLU -- per-layer ratio of successive second moments E[h_l^2] / E[h_{l-1}^2]
  (geometric mean, min, max; theory says exactly 1) and first/last std;
* ``leaky``: he + leaky ReLU the same way, with the leaky gain sqrt(2 / (1 + a^2)) from the registry
  (he itself uses sqrt(2), a relative variance excess of a^2, invisible at a = 0.01);
* ``uniform``: Var(W) of he and he_uniform (both 2/fan_in, from inits.weight_variance) and the largest
  relative spread between their last-layer std over the activations in the grid;
* ``selu``: selu + xavier (LeCun normal) -- per-layer std range, and selu + he for contrast;
* ``gains``: every activation's gain g and g^2 (the factor in Var(W) = g^2 / fan_in), and what that
  scale does to the mean-field second moment q (F(q) = g^2 E[phi(sqrt(q) z)^2]): F(1) and the slope F'(1);
  ``kept`` marks the activations for which q = 1 is a fixed point that perturbations do not leave
  (gain_moments). The old caption's "the second moment is kept" is true only for those.
* ``health``: he with every activation -- forward / backward labels and the numbers behind them;
  ``relu_health`` / ``uniform_health``: last-layer std with its 95 % seed interval for he and he_uniform.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from generator.analysis.health import record
from generator.analysis.seeds import seed_means
from generator.engine import theory
from generator.engine.activations import ACTIVATIONS, LEAKY_SLOPE
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
from generator.pages.xavier import compare_inits
from generator.render import strings

KEPT_TOL = 0.01  # |F(1) - 1| and F'(1) - 1 below this: the gain keeps the second moment (gain_moments)


def _flat(data, init: str, act: str) -> dict | None:
    if not has(data, init, act):
        return None
    c = seed_means(data).case(init, act)
    m2 = second_moment(c)
    r = successive_ratios(m2)
    std = c["std"].to_numpy(float)
    g = c["grad_h_std"].to_numpy(float)
    return {
        "grad_first": float(g[0]),
        "grad_last": float(g[-1]),
        "grad_ratio": float(g[0] / g[-1]) if g[-1] > 0 else math.nan,
        "ratio": geometric_mean(r),
        "ratio_min": float(np.nanmin(r)),
        "ratio_max": float(np.nanmax(r)),
        "first_std": float(std[0]),
        "last_std": float(std[-1]),
        "std_min": float(np.nanmin(std)),
        "std_max": float(np.nanmax(std)),
        "diverged": bool(c["diverged"].any()),
    }


def _uniform(data) -> dict | None:
    if not (has(data, "he") and has(data, "he_uniform")):
        return None
    return compare_inits(data, ("he", "he_uniform"), "he")


def gain_moments(points: int, h: float = 1e-4) -> dict[str, dict]:
    """Per activation, with sigma_w^2 = g^2 and F(q) = g^2 E[phi(sqrt(q) z)^2] (the mean-field map of the
    second moment): F(1) (what one layer makes of q = 1) and the slope F'(1) (centred difference, step h).
    ``kept``: q = 1 is a fixed point (|F(1) - 1| < KEPT_TOL) that a perturbation does not leave
    (F'(1) <= 1 + KEPT_TOL: stable, or marginal as for the ReLU family, where F(q) = q at every q)."""
    out = {}
    for name, act in ACTIVATIONS.items():
        g2 = act.gain**2

        def F(q, f=act.forward, g2=g2):
            return float(g2 * theory.expect(lambda a: f(a) ** 2, q, points))

        f1, slope = F(1.0), (F(1.0 + h) - F(1.0 - h)) / (2.0 * h)
        out[name] = {"f1": f1, "slope": slope, "kept": bool(abs(f1 - 1.0) < KEPT_TOL and slope <= 1.0 + KEPT_TOL)}
    return out


def _gains(lang: str, moments: dict) -> pd.DataFrame:
    rows = []
    for name, act in ACTIVATIONS.items():
        m = moments[name]
        rows.append(
            {
                "activation": label(lang, "activation", name),
                "gain": act.gain,
                "gain2": act.gain**2,
                "f1": m["f1"],
                "slope": m["slope"],
            }
        )
    return pd.DataFrame(rows)


def _interval(h: dict | None) -> dict | None:
    if h is None:
        return None
    return {"mean": h["last_std"], "lo": h["last_std_ci_low"], "hi": h["last_std_ci_high"], "n": h["n_seeds"]}


def context(data) -> dict:
    n = data.grid.propagation.width
    leaky_gain = ACTIVATIONS["leaky_relu"].gain
    selu_x = _flat(data, "xavier", "selu")
    moments = gain_moments(data.grid.theory.quadrature_points)
    return {
        "width": n,
        "depth": data.grid.propagation.depth,
        "var_he": weight_variance("he", n, n),
        "var_he_uniform": weight_variance("he_uniform", n, n),
        "uniform_bound": math.sqrt(3.0 * weight_variance("he_uniform", n, n)),
        "relu": _flat(data, "he", "relu"),
        "relu_xavier": _flat(data, "xavier", "relu"),
        "leaky": _flat(data, "he", "leaky_relu"),
        "leaky_slope": LEAKY_SLOPE,
        "leaky_gain": leaky_gain,
        "leaky_gain2": leaky_gain**2,
        "relu_gain2": ACTIVATIONS["relu"].gain ** 2,
        "leaky_excess": ACTIVATIONS["relu"].gain ** 2 / leaky_gain**2 - 1.0,
        "uniform": _uniform(data),
        "selu_xavier": selu_x,
        "selu_he": _flat(data, "he", "selu"),
        "selu_xavier_dev": (max(abs(selu_x["std_min"] - 1.0), abs(selu_x["std_max"] - 1.0)) if selu_x else math.nan),
        "gains": localized(lambda lang: _gains(lang, moments)),
        "gain_columns": localized(
            lambda lang: {k: strings.t(lang, f"he.col.{k}") for k in ("activation", "gain", "gain2", "f1", "slope")}
        ),
        "moments": moments,
        "kept": [a for a, m in moments.items() if m["kept"]],
        "not_kept": [a for a, m in moments.items() if not m["kept"]],
        "health": init_health_context(data, "he"),
        "relu_health": _interval(record(data, "he", "relu")),
        "uniform_health": _interval(record(data, "he_uniform", "relu")),
        "has_he_fig": has(data, "he") and has(data, "xavier") and has(data, None, "relu"),
        "has_seed_case": has(data, "he", "relu"),
    }
