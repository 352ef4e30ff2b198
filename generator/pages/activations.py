"""Activation functions: all eight, each under its usual (conventional) initialization.

MATCHING (generator/analysis/rules.py, stated on the page) is the conventional pairing, not a claim that
the pair keeps the signal: activations that are (near-)linear around 0 -- linear, tanh, sigmoid -- and SELU
(self-normalizing under LeCun normal = Var(W) = 1/fan_in) go with ``xavier``; the rectifier family -- relu,
leaky_relu, elu, gelu -- with ``he``. Whether a pair is healthy is the health record's answer (both passes,
generator/analysis/health.py), shown per row. For GELU the page also quotes the mean-field second moment
after GELU_DEPTH layers under He (q -> 0: He is GELU's conventional init, not a matched one).

Per activation (norm none, means over seeds, last hidden layer unless stated): std, saturated fraction
(slope below SATURATION_FRACTION of the maximum slope: activations.Activation.saturated), its N(0,1)
baseline (generator.analysis.health.baseline_saturation), the forward / backward labels and gradient ratio, the share of exact zeros, the max slope, the
gain, and where on the x axis the activation saturates (intervals found on a dense grid of [-10, 10]).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from generator.analysis.health import baseline_saturation, record
from generator.analysis.rules import MATCHING
from generator.analysis.seeds import seed_means
from generator.engine import theory
from generator.engine.activations import ACTIVATIONS, SATURATION_FRACTION
from generator.figures.instances import CURVE_X_MAX
from generator.pages.index import has, health_text, label, localized
from generator.render import strings
from generator.render.filters import num
from generator.render.wording import cfg

GRID = (-10.0, 10.0, 200_001)
GELU_DEPTH = 50  # depth at which the page quotes He + GELU's mean-field second moment


def saturation_intervals(name: str) -> list[tuple[float, float]]:
    """Maximal intervals of [-10, 10] where the activation is saturated, as (lo, hi) with +-inf at
    the grid ends (a saturated region touching an end extends beyond the grid)."""
    act = ACTIVATIONS[name]
    x = np.linspace(*GRID[:2], GRID[2])
    s = np.asarray(act.saturated(x), dtype=np.int8)
    # run boundaries of the boolean mask: +1 where a saturated run starts, -1 one past where it ends
    edges = np.diff(np.concatenate(([0], s, [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return [
        (-math.inf if i == 0 else float(x[i]), math.inf if j == len(x) - 1 else float(x[j]))
        for i, j in zip(starts.tolist(), ends.tolist())
    ]


def _interval_text(intervals, lang: str) -> str:
    if not intervals:
        return strings.t(lang, "activations.never")
    parts = []
    for lo, hi in intervals:
        if math.isinf(lo) and math.isinf(hi):
            parts.append(strings.t(lang, "activations.everywhere"))
        elif math.isinf(lo):
            parts.append(f"x < {num(hi, lang)}" if hi != 0 else "x ≤ 0")
        elif math.isinf(hi):
            parts.append(f"x > {num(lo, lang)}")
        else:
            parts.append(f"{num(lo, lang)} < x < {num(hi, lang)}")
    return ", ".join(parts)


def _rows(data) -> list[dict]:
    rows = []
    for act, init in MATCHING.items():
        if not has(data, init, act):
            continue
        c = seed_means(data).case(init, act)
        a = ACTIVATIONS[act]
        div = bool(c["diverged"].any())
        std = c["std"].to_numpy(float)
        sat = c["saturated_frac"].to_numpy(float)
        base = baseline_saturation(act)
        h = record(data, init, act)
        rows.append(
            {
                "activation": act,
                "init": init,
                "last_std": float(std[-1]),
                "first_std": float(std[0]),
                "sat_last": float(sat[-1]),
                "sat_max": float(np.nanmax(sat)),
                "baseline": base,
                "zero_last": float(c["zero_frac"].iloc[-1]),
                "max_slope": a.max_slope,
                "gain": a.gain,
                "intervals": saturation_intervals(act),
                "diverged": div,
                "forward": h["forward"],
                "backward": h["backward"],
                "healthy": bool(h["healthy"]),
                "grad_ratio": h["grad_ratio"],
                "grad_ratio_lo": h["grad_ratio_lo"],
                "grad_ratio_hi": h["grad_ratio_hi"],
            }
        )
    return rows


def _table(rows, lang: str) -> pd.DataFrame:
    out = []
    for r in rows:
        out.append(
            {
                "activation": label(lang, "activation", r["activation"]),
                "init": label(lang, "init", r["init"]),
                "last_std": r["last_std"],
                "sat_last": r["sat_last"],
                "baseline": r["baseline"],
                "zero_last": r["zero_last"],
                "grad_ratio": r["grad_ratio"],
                "verdict": health_text(lang, r["forward"], r["backward"]),
            }
        )
    return pd.DataFrame(out)


def _slope_table(lang: str) -> pd.DataFrame:
    out = []
    for name, a in ACTIVATIONS.items():
        out.append(
            {
                "activation": label(lang, "activation", name),
                "max_slope": cfg(a.max_slope, lang),
                "threshold": cfg(SATURATION_FRACTION * a.max_slope, lang),
                "where": _interval_text(saturation_intervals(name), lang),
            }
        )
    return pd.DataFrame(out)


def _gelu_he(data) -> dict | None:
    """Mean-field second moment q of He + GELU from q0 = 1 (theory.mean_field): at the grid depth and at
    GELU_DEPTH, with the per-layer factor at the last step (q -> 0: the map is ordered under He)."""
    g = data.grid
    if "gelu" not in g.propagation.activations:
        return None
    n = g.propagation.width
    mf = theory.mean_field(
        "gelu", theory.sigma_w2("he", "gelu", n, n), GELU_DEPTH, q0=1.0, points=g.theory.quadrature_points
    )
    q = mf["q"]
    return {
        "depth": GELU_DEPTH,
        "q_last": float(q[-1]),
        "q_grid": float(q[min(g.propagation.depth, GELU_DEPTH) - 1]),
        "factor_last": float(q[-1] / q[-2]),
        "grid_depth": g.propagation.depth,
    }


def context(data) -> dict:
    rows = _rows(data)
    by = {r["activation"]: r for r in rows}
    xs = [a for a, i in MATCHING.items() if i == "xavier"]
    hs = [a for a, i in MATCHING.items() if i == "he"]
    saturating = [r["activation"] for r in rows if r["sat_last"] - r["baseline"] > 0.0 and r["sat_last"] > 0]
    # the largest saturated share and the largest exact-zero share among the matched cases
    top_sat = max(rows, key=lambda r: r["sat_last"]) if rows else None
    top_zero = max(rows, key=lambda r: r["zero_last"]) if rows else None
    return {
        "matching": MATCHING,
        "xavier_group": xs,
        "he_group": hs,
        "rows": by,
        "n_rows": len(rows),
        "n_healthy": sum(r["healthy"] for r in rows),
        "forward_ok": sum(r["forward"] == "ok" for r in rows),
        "not_healthy": [r["activation"] for r in rows if not r["healthy"]],
        "forward_only": [r["activation"] for r in rows if r["forward"] == "ok" and r["backward"] != "ok"],
        "gelu_he": _gelu_he(data),
        "saturation_fraction": SATURATION_FRACTION,
        "top_sat": top_sat,
        "top_zero": top_zero,
        "saturating": saturating,
        # onset of the right-hand tail (|x| > onset) for the symmetric saturating functions
        "tanh_onset": next((lo for lo, hi in saturation_intervals("tanh") if math.isinf(hi)), math.nan),
        "sigmoid_onset": next((lo for lo, hi in saturation_intervals("sigmoid") if math.isinf(hi)), math.nan),
        "selu_onset": next((hi for lo, hi in saturation_intervals("selu") if math.isinf(lo)), math.nan),
        "gelu_intervals": saturation_intervals("gelu"),
        "sigmoid_max_slope": ACTIVATIONS["sigmoid"].max_slope,
        "curve_x_max": CURVE_X_MAX,  # x range of the activation_curves figure (its caption and alt)
        "selu_max_slope": ACTIVATIONS["selu"].max_slope,
        "table": localized(lambda lang: _table(rows, lang)),
        "table_columns": localized(
            lambda lang: {
                k: strings.t(lang, f"activations.col.{k}")
                for k in (
                    "activation",
                    "init",
                    "last_std",
                    "sat_last",
                    "baseline",
                    "zero_last",
                    "grad_ratio",
                    "verdict",
                )
            }
        ),
        "table_formats": {"sat_last": "pct", "baseline": "pct", "zero_last": "pct", "grad_ratio": "sig3"},
        "slopes": localized(_slope_table),
        "slope_columns": localized(
            lambda lang: {
                k: strings.t(lang, f"activations.col.{k}") for k in ("activation", "max_slope", "threshold", "where")
            }
        ),
        "has_matched_fig": bool(rows),
    }
