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

``SETTINGS`` are the measurement settings (grid.json ``phase``: q0, c0, quadrature points) these frames
were made with; the page and figures read the frames through the real generator/analysis modules.
"""

from __future__ import annotations

import functools
import math

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
SETTINGS = {"q0": Q0, "c0": C0, "points": POINTS}


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
                            # one noise draw per layer, common to the pairs: no cross-pair covariance
                            lag1, lag2 = (math.nan if layer < k else 0.0 for k in (1, 2))
                            rows.append((act, s2, b2, width, seed, layer + 1, q[layer], c[layer], lag1, lag2))
    cols = ["activation", "sigma_w2", "sigma_b2", "width", "seed", "layer", "q", "c", "c_lag1", "c_lag2"]
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
