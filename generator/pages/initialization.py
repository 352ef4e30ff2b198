"""Why initialization matters: the seed's first demonstration, measured.

Four failure/success stories, each a number the page quotes:

* zeros / constant -- symmetry: distinct hidden units and weight vectors before and after one SGD step
  (symmetry.csv), and the zero-init network's output (propagation.csv: std exactly 0 everywhere);
* ``small`` -- the per-layer shrink factor std_l / std_{l-1} (measured, geometric mean over layers
  2..L) next to the factor predicted by mean-field theory (ratio of successive theory_std);
* ``large`` -- tanh: the saturated fraction (slope below 1% of the maximum) per layer; ReLU: the
  per-layer growth factor and the first layer at which a seed diverged;
* ``xavier`` / ``he`` -- the scaled inits keep the last layer's std in range; whether a pair is healthy
  (both passes, generator/analysis/health.py) is read from its health record, and the page lists the
  healthy pairs of the table rather than claiming that only the "matched" ones are.
* ``large`` + tanh's gradient: the per-layer factor of grad_h_std going down (layer l-1 / layer l,
  geometric mean) -- the gradient grows there, it does not stall.

The comparison table covers COMPARE_INITS x COMPARE_ACTIVATIONS (the seed's cases).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from generator.analysis.health import record
from generator.analysis.rules import MATCHING
from generator.analysis.seeds import seed_means
from generator.engine.inits import weight_variance
from generator.pages.index import (
    first_diverged_layer,
    geometric_mean,
    has,
    health_text,
    label,
    localized,
    successive_ratios,
)
from generator.render import strings
from generator.render.wording import defined

COMPARE_INITS = ("small", "large", "xavier", "he")
COMPARE_ACTIVATIONS = ("tanh", "relu")
SEED_CASES = (("small", "tanh"), ("large", "tanh"), ("xavier", "tanh"), ("xavier", "relu"), ("he", "relu"))


def _case_numbers(data, init: str, act: str) -> dict | None:
    """Per-layer summary of one (init, activation), norm none, means over seeds."""
    if not has(data, init, act):
        return None
    c = seed_means(data).case(init, act)
    std = c["std"].to_numpy(float)
    div = c["diverged"].to_numpy(bool)
    finite = std.copy()
    finite[div] = np.nan
    factors = successive_ratios(finite)
    theory = c["theory_std"].to_numpy(float)
    t_factors = successive_ratios(theory)
    depth = data.grid.propagation.depth
    last_ok = ~div[-1]
    sat = c["saturated_frac"].to_numpy(float)
    fd = first_diverged_layer(data, init, act)
    return {
        "init": init,
        "activation": act,
        "first_std": float(std[0]) if not div[0] else math.inf,
        "last_std": float(std[-1]) if last_ok else math.inf,
        "factor": geometric_mean(factors),
        "factor_min": float(np.nanmin(factors)) if np.isfinite(factors).any() else math.nan,
        "factor_max": float(np.nanmax(factors)) if np.isfinite(factors).any() else math.nan,
        "theory_factor": geometric_mean(t_factors),
        "sat_first": float(sat[0]),
        "sat_last": float(sat[-1]) if last_ok else math.nan,
        "sat_mean": float(np.nanmean(np.where(div, np.nan, sat))) if (~div).any() else math.nan,
        "zero_last": float(c["zero_frac"].to_numpy(float)[-1]) if last_ok else math.nan,
        "preact_last": float(c["preact_std"].to_numpy(float)[-1]) if last_ok else math.nan,
        "first_diverged": fd,
        "last_finite_layer": int(c["layer"][~div].max()) if (~div).any() else None,
        "last_finite_std": float(std[~div][-1]) if (~div).any() else math.nan,
        **_health(data, init, act),
        "grad_factor": geometric_mean(1.0 / successive_ratios(c["grad_h_std"].to_numpy(float))),
        "depth": depth,
    }


def _health(data, init: str, act: str) -> dict:
    h = record(data, init, act)
    return {
        "forward": h["forward"],
        "backward": h["backward"],
        "healthy": bool(h["healthy"]),
        "grad_ratio": h["grad_ratio"],
        "grad_ratio_lo": h["grad_ratio_lo"],
        "grad_ratio_hi": h["grad_ratio_hi"],
    }


def _symmetry(data) -> dict | None:
    if not data.has("symmetry.csv"):
        return None
    s = data.frame("symmetry.csv")
    cfg = data.grid.symmetry
    out = {}
    for init in s["init"].unique():
        d = s[s["init"] == init]
        b, a = d[d["phase"] == "before"], d[d["phase"] == "after"]
        out[str(init)] = {
            "units_before": int(b["distinct_units"].max()),
            "units_after": int(a["distinct_units"].max()),
            "weights_before": int(b["distinct_weights"].max()),
            "weights_after": int(a["distinct_weights"].max()),
            "units_after_min": int(a["distinct_units"].min()),
            "width": int(d["width"].max()),
        }
    order = [i for i in ("zeros", "constant", "xavier", "he") if i in out] + [
        i for i in out if i not in ("zeros", "constant", "xavier", "he")
    ]

    def table(lang):
        rows = []
        for init in order:
            v = out[init]
            name = (
                strings.t(lang, "initialization.constant_label", value=cfg.constant)
                if init == "constant"
                else label(lang, "init", init)
            )
            rows.append(
                {
                    "init": name,
                    "units_before": v["units_before"],
                    "units_after": v["units_after"],
                    "weights_before": v["weights_before"],
                    "weights_after": v["weights_after"],
                    "width": v["width"],
                }
            )
        return pd.DataFrame(rows)

    return {
        "by_init": out,
        "order": order,
        "table": localized(table),
        "columns": localized(
            lambda lang: {
                k: strings.t(lang, f"initialization.sym_col.{k}")
                for k in ("init", "units_before", "units_after", "weights_before", "weights_after", "width")
            }
        ),
        "activation": cfg.activation,
        "samples": cfg.samples,
        "width": cfg.width,
        "depth": cfg.depth,
        "learning_rate": cfg.learning_rate,
        "constant": cfg.constant,
        "seed": cfg.seed,
        "collapsed": [i for i in order if out[i]["units_after"] == 1],
        "broken": [i for i in order if out[i]["units_after"] == out[i]["width"]],
    }


def _zeros(data) -> dict | None:
    if not has(data, "zeros"):
        return None
    p = data.prop
    z = p[(p["init"] == "zeros") & (p["norm"] == "none")]
    return {
        "max_abs": float(np.nanmax(np.abs(z[["min", "max"]].to_numpy(float)))),
        "max_std": float(z["std"].max()),
        "n_activations": int(z["activation"].nunique()),
        "grad_w_max": float(z["grad_w_norm"].max()),
    }


def _table(cases: list[dict], lang: str) -> pd.DataFrame:
    from generator.render.filters import num

    rows = []
    for c in cases:
        rows.append(
            {
                "init": label(lang, "init", c["init"]),
                "activation": label(lang, "activation", c["activation"]),
                # a diverged layer has no std to show (inf internally): a dash, the "diverged" column says why
                "first_std": defined(c["first_std"]),
                "last_std": defined(c["last_std"]),
                "factor": c["factor"],
                "sat_last": c["sat_last"],
                "diverged": (
                    num(c["first_diverged"], lang)
                    if c["first_diverged"] is not None
                    else strings.t(lang, "initialization.never")
                ),
                "grad_ratio": c["grad_ratio"],
                "verdict": health_text(lang, c["forward"], c["backward"]),
            }
        )
    return pd.DataFrame(rows)


def context(data) -> dict:
    cfg = data.grid.propagation
    cases = {f"{i}_{a}": _case_numbers(data, i, a) for i in COMPARE_INITS for a in COMPARE_ACTIVATIONS}
    cases = {k: v for k, v in cases.items() if v is not None}
    order = [cases[f"{i}_{a}"] for a in COMPARE_ACTIVATIONS for i in COMPARE_INITS if f"{i}_{a}" in cases]
    width = cfg.width
    small_sigma = math.sqrt(weight_variance("small", width, width))  # inits.small: N(0, 0.01^2)
    return {
        "cases": cases,
        "seed_cases": [{"init": i, "activation": a} for i, a in SEED_CASES if has(data, i, a)],
        "has_compare": all(has(data, i, a) for i in COMPARE_INITS for a in COMPARE_ACTIVATIONS),
        "symmetry": _symmetry(data),
        "zeros": _zeros(data),
        "small_sigma": small_sigma,
        "small_sigma_sqrt_n": small_sigma * math.sqrt(width),
        "large_sqrt_n": math.sqrt(width),
        "large_relu_growth_theory": math.sqrt(width / 2.0),
        "diverge_rms": cfg.diverge_rms,
        "depth": cfg.depth,
        "width": width,
        "table": localized(lambda lang: _table(order, lang)),
        "table_columns": localized(
            lambda lang: {
                k: strings.t(lang, f"initialization.col.{k}")
                for k in (
                    "init",
                    "activation",
                    "first_std",
                    "last_std",
                    "factor",
                    "sat_last",
                    "diverged",
                    "grad_ratio",
                    "verdict",
                )
            }
        ),
        "table_formats": {"sat_last": "pct", "grad_ratio": "sig3"},
        # the table's healthy pairs (both passes ok), in table order, and the ones left out
        "healthy_pairs": [{"init": c["init"], "activation": c["activation"]} for c in order if c["healthy"]],
        "unhealthy_pairs": [{"init": c["init"], "activation": c["activation"]} for c in order if not c["healthy"]],
        "n_pairs": len(order),
        # healthy pairs outside the conventional pairing (analysis/rules.py MATCHING): "only the matched pairs
        # work" is then false, and the page says so
        "unconventional_healthy": [
            {"init": c["init"], "activation": c["activation"]}
            for c in order
            if c["healthy"] and MATCHING.get(c["activation"]) != c["init"]
        ],
    }
