"""Contract-shaped test frames for the phase page and its figures, and stand-ins for the analysis it reads.

Frames (columns exactly as issue 17 item 7 and the shared interface fix them):

* :func:`theory_frame` -- ``phase_theory.csv`` from the real theory (generator.engine.phase.phase_grid);
* :func:`critical_frame` -- ``phase_critical.csv`` from generator.engine.phase.sigma_w2_critical;
* :func:`measured_frame` -- ``phase_measured.csv``: theory per layer (variance and correlation maps) plus
  seeded noise of size ~ 1/sqrt(width), so the finite-width error shrinks with width like the real data;
* :func:`trainability_frame` -- ``trainability.csv``: accuracy near 1 for depth well below 6 xi_c and near
  chance (0.1) well above it, plus seeded noise.

:func:`frames` returns all four keyed by file name. The lead swaps these for the real stage output by
pointing :func:`frames` at a data directory.

Stand-ins: until generator/analysis/phase.py and generator/analysis/trainability.py land (other helpers),
:func:`install_standins` registers thin modules under those names that implement the shared interface
(``xi_c_fits``, ``q_error``, ``phase_summary``; ``xi_c_curve``, ``accuracy_grid``, ``trainability_summary``).
It does nothing when the real modules import. Nothing under generator/ defines these stand-ins.
"""

from __future__ import annotations

import functools
import math
import sys
import types

import numpy as np
import pandas as pd

from generator.engine import phase

ACTS = ("tanh", "relu")
SIGMA_W2 = tuple(float(x) for x in np.linspace(0.5, 4.0, 8))
SIGMA_B2 = tuple(float(x) for x in np.linspace(0.0, 0.3, 7))
MEASURED_W = (SIGMA_W2[1], SIGMA_W2[3], SIGMA_W2[6])  # 1.0, 2.0, 3.5
MEASURED_B = (SIGMA_B2[0], SIGMA_B2[2])  # 0.0, 0.1
WIDTHS = (100, 300, 1000)
SEEDS = (0, 1, 2)
DEPTH = 20
Q0, C0 = 1.0, 0.6
POINTS = 48  # quadrature points: enough for tests, 5x faster than the default 96
TRAIN_ACT, TRAIN_B2 = "tanh", 0.05
TRAIN_W2 = tuple(float(x) for x in np.linspace(1.0, 4.0, 7))
TRAIN_DEPTHS = (5, 10, 20, 40, 60)
TRAIN_SEEDS = (0, 1)
CHANCE = 0.1


@functools.cache
def theory_frame(acts=ACTS) -> pd.DataFrame:
    parts = []
    for act in acts:
        g = phase.phase_grid(act, SIGMA_W2, SIGMA_B2, Q0, POINTS)
        parts.append(pd.DataFrame({"activation": act, **g}))
    cols = ["activation", "sigma_w2", "sigma_b2", "q_star", "c_star", "chi1", "chi_c", "xi_q", "xi_c", "regime"]
    out = pd.concat(parts, ignore_index=True)[cols]
    out["regime"] = out["regime"].astype(str)
    return out


@functools.cache
def critical_frame(acts=ACTS) -> pd.DataFrame:
    rows = []
    for act in acts:
        for b2 in SIGMA_B2:
            s2 = phase.sigma_w2_critical(act, b2, Q0, POINTS)
            q = phase.q_fixed_point(act, s2, b2, Q0, POINTS) if math.isfinite(s2) else math.nan
            rows.append({"activation": act, "sigma_b2": b2, "sigma_w2_critical": s2, "q_star": q})
    return pd.DataFrame(rows)


def _theory_layers(act, s2, b2, depth):
    """(q, c) per layer 1..depth from the maps, started at q0 and c0 (c uses the fixed point's q*)."""
    q_star = phase.q_fixed_point(act, s2, b2, Q0, POINTS)
    qs, cs = [], []
    q, c = s2 * Q0 + b2, C0
    for _ in range(depth):
        qs.append(q)
        c = phase.correlation_map(act, s2, b2, q_star, c, POINTS) if math.isfinite(q_star) else math.nan
        cs.append(c)
        q = float(phase.variance_map(act, s2, b2, q, POINTS))
    return np.array(qs), np.array(cs)


@functools.cache
def measured_frame(acts=ACTS) -> pd.DataFrame:
    rng = np.random.default_rng(17)
    rows = []
    for act in acts:
        for s2 in MEASURED_W:
            for b2 in MEASURED_B:
                q_t, c_t = _theory_layers(act, s2, b2, DEPTH)
                for width in WIDTHS:
                    for seed in SEEDS:
                        noise = 1.0 / math.sqrt(width)
                        q = q_t * (1 + 2 * noise * rng.standard_normal(DEPTH))
                        c = np.clip(c_t + 0.3 * noise * rng.standard_normal(DEPTH), -1, 1)
                        for layer in range(DEPTH):
                            rows.append((act, s2, b2, width, seed, layer + 1, q[layer], c[layer]))
    cols = ["activation", "sigma_w2", "sigma_b2", "width", "seed", "layer", "q", "c"]
    return pd.DataFrame(rows, columns=cols)


@functools.cache
def trainability_frame() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    rows = []
    for s2 in TRAIN_W2:
        xi = phase.phase_point(TRAIN_ACT, s2, TRAIN_B2, Q0, POINTS)["xi_c"]
        for depth in TRAIN_DEPTHS:
            for seed in TRAIN_SEEDS:
                p = 1.0 / (1.0 + math.exp(min((depth - 6 * xi) / 3.0, 50.0)))
                acc = float(np.clip(CHANCE + 0.85 * p + 0.01 * rng.standard_normal(), 0.0, 1.0))
                rows.append((TRAIN_ACT, s2, TRAIN_B2, depth, seed, acc))
    return pd.DataFrame(rows, columns=["activation", "sigma_w2", "sigma_b2", "depth", "seed", "accuracy"])


def frames() -> dict[str, pd.DataFrame]:
    """The four contract files by name."""
    return {
        "phase_theory.csv": theory_frame(),
        "phase_critical.csv": critical_frame(),
        "phase_measured.csv": measured_frame(),
        "trainability.csv": trainability_frame(),
    }


# --- stand-ins for the analysis modules (shared interface; used only when the real ones are absent) -----

_GROUP = ["activation", "sigma_w2", "sigma_b2", "width"]


def _xi_c_fits(measured: pd.DataFrame, theory_fn=None) -> pd.DataFrame:
    rows = []
    for (act, s2, b2, width), g in measured.groupby(_GROUP, sort=True):
        th = phase.phase_point(act, s2, b2, Q0, POINTS)
        fits = []
        for _, s in g.groupby("seed"):
            d = np.abs(s.sort_values("layer")["c"].to_numpy() - th["c_star"])
            ok = np.isfinite(d) & (d > 3.0 / math.sqrt(width))
            if ok.sum() >= 3:
                slope = np.polyfit(np.flatnonzero(ok), np.log(d[ok]), 1)[0]
                if slope < 0:
                    fits.append(-1.0 / slope)
        n = len(fits)
        status, reason = ("fit", "") if n >= 2 else ("inconclusive", "too_few_layers")
        rows.append(
            {
                "activation": act,
                "sigma_w2": s2,
                "sigma_b2": b2,
                "width": width,
                "xi_c_fit": float(np.mean(fits)) if n else math.nan,
                "xi_c_lo": float(min(fits)) if n else math.nan,
                "xi_c_hi": float(max(fits)) if n else math.nan,
                "n_seeds": n,
                "xi_c_theory": th["xi_c"],
                "regime": th["regime"],
                "status": status,
                "reason": reason,
            }
        )
    return pd.DataFrame(rows)


def _q_error(measured: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (act, s2, b2, width), g in measured.groupby(_GROUP, sort=True):
        depth = int(g["layer"].max())
        q_t, c_t = _theory_layers(act, s2, b2, depth)
        li = g["layer"].to_numpy() - 1
        rel = np.abs(g["q"].to_numpy() / q_t[li] - 1)
        cerr = np.abs(g["c"].to_numpy() - c_t[li])
        rows.append(
            {
                "activation": act,
                "sigma_w2": s2,
                "sigma_b2": b2,
                "width": width,
                "rel_err": float(np.nanmean(rel)),
                "c_err": float(np.nanmean(cerr)) if np.isfinite(cerr).any() else math.nan,
                "n_seeds": int(g["seed"].nunique()),
            }
        )
    return pd.DataFrame(rows)


def _phase_summary(measured: pd.DataFrame) -> pd.DataFrame:
    err, fits = _q_error(measured), _xi_c_fits(measured)
    rows = []
    for act, e in err.groupby("activation", sort=False):
        med = e.groupby("width")["rel_err"].median()
        slope = float(np.polyfit(np.log(med.index.to_numpy(float)), np.log(med.to_numpy()), 1)[0])
        f = fits[(fits["activation"] == act) & (fits["width"] == fits["width"].max())]
        ok = f[f["status"] == "fit"]
        rel = np.abs(ok["xi_c_fit"] / ok["xi_c_theory"] - 1)
        rows.append(
            {
                "activation": act,
                "width_min": int(med.index.min()),
                "width_max": int(med.index.max()),
                "rel_err_min_width": float(med.iloc[0]),
                "rel_err_max_width": float(med.iloc[-1]),
                "slope": slope,
                "n_points": int(len(f)),
                "n_fit": int(len(ok)),
                "n_inconclusive": int(len(f) - len(ok)),
                "xi_rel_median": float(np.median(rel)) if len(rel) else math.nan,
                "xi_tol": 0.15,
                "n_within": int((rel <= 0.15).sum()),
            }
        )
    return pd.DataFrame(rows)


def _xi_c_curve(activation, sigma_b2, sigma_w2s) -> pd.DataFrame:
    xi = [phase.phase_point(activation, s2, sigma_b2, Q0, POINTS)["xi_c"] for s2 in sigma_w2s]
    return pd.DataFrame({"sigma_w2": list(sigma_w2s), "xi_c": xi, "six_xi_c": [6 * x for x in xi]})


def _accuracy_grid(trainability: pd.DataFrame) -> pd.DataFrame:
    g = trainability.groupby(["sigma_w2", "depth"], sort=True)["accuracy"]
    out = g.agg(accuracy="mean", lo="min", hi="max", n_seeds="count").reset_index()
    return out


def _trainability_summary(trainability: pd.DataFrame) -> dict:
    grid = _accuracy_grid(trainability)
    act, b2 = trainability["activation"].iloc[0], float(trainability["sigma_b2"].iloc[0])
    curve = _xi_c_curve(act, b2, sorted(grid["sigma_w2"].unique()))
    six = dict(zip(curve["sigma_w2"], curve["six_xi_c"], strict=True))
    margin = 0.1
    deep = grid[grid["depth"] > grid["sigma_w2"].map(six)]
    shallow = grid[grid["depth"] <= grid["sigma_w2"].map(six)]
    n_deep_chance = int((deep["hi"] < CHANCE + margin).sum())
    n_shallow_trained = int((shallow["lo"] > CHANCE + margin).sum())
    return {
        "activation": act,
        "sigma_b2": b2,
        "chance": CHANCE,
        "margin": margin,
        "multiple": 6,
        "n_cells": int(len(grid)),
        "n_deep": int(len(deep)),
        "n_deep_chance": n_deep_chance,
        "n_shallow": int(len(shallow)),
        "n_shallow_trained": n_shallow_trained,
        "n_inconclusive": int(len(grid) - n_deep_chance - n_shallow_trained),
        "verdict": "holds" if n_deep_chance == len(deep) else "partly",
    }


def install_standins() -> None:
    """Register the stand-in analysis modules when the real ones do not import (see the module doc)."""
    import generator.analysis as pkg

    for name, funcs in (
        ("phase", {"xi_c_fits": _xi_c_fits, "q_error": _q_error, "phase_summary": _phase_summary}),
        (
            "trainability",
            {
                "xi_c_curve": _xi_c_curve,
                "accuracy_grid": _accuracy_grid,
                "trainability_summary": _trainability_summary,
            },
        ),
    ):
        full = f"generator.analysis.{name}"
        try:
            __import__(full)
            continue
        except ImportError:
            pass
        mod = types.ModuleType(full, "test stand-in (tests/phase_frames.py)")
        for k, v in funcs.items():
            setattr(mod, k, v)
        sys.modules[full] = mod
        setattr(pkg, name, mod)
