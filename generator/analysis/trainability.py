"""What ``trainability.csv`` means: the depth-scale curve, the seed-mean accuracy grid and the rule that judges
Schoenholz et al. (2017)'s claim "networks deeper than about 6 xi_c do not train" on our data.

Values only (numbers, status ids, verdict ids; no sentences, no matplotlib). The page prints the rules below
from this module's constants.

Rules
-----
* **Theory.** :func:`xi_c_curve` is engine.phase's xi_c at each sigma_w^2 (q0 = 1, the theory's default;
  :data:`QUAD_POINTS` Gauss-Hermite nodes, the [phase] default: xi_c as at 96 nodes to ~12 digits, a quarter of the cost), and
  six_xi_c = :data:`DEPTH_FACTOR` · xi_c (inf on the critical line, where xi_c diverges).
* **Seed mean.** :func:`accuracy_grid` takes, per (activation, sigma_w2, sigma_b2, depth) cell, the mean of the
  finite accuracies over seeds and its 95 % Student-t interval (the one seed-interval definition,
  generator/analysis/training_stats.seed_interval). A diverged seed (accuracy NaN) is not averaged: it is
  counted in ``n_diverged``.
* **Cell status.** With chance = :data:`CHANCE` (10 classes) and margin :data:`MARGIN`: ``trained`` when the
  interval's low end is above chance + margin; ``untrained`` when its high end is below chance + margin, or when
  every seed diverged (a run that blows up has not trained); otherwise ``inconclusive`` (fewer than 2 finite
  seeds, or an interval across the threshold: absence of evidence is not evidence of absence).
* **Side.** A cell is ``beyond`` when depth > six_xi_c at its sigma_w^2, else ``within``; ``undefined`` where
  theory has no xi_c (regime ``explodes``: q* = inf), and such cells count on neither side.
* **Verdict** (:func:`trainability_summary`, vocabulary of generator/analysis/verdicts.py) of two parts:
  ``beyond_untrained`` -- holds if every beyond cell is untrained, does_not_hold if any beyond cell trained,
  else inconclusive; ``within_trained`` -- holds if every within cell trained, does_not_hold if any within
  cell is untrained, else inconclusive; an empty side is inconclusive. The claim's verdict is
  verdicts.combine of the two parts. The recipe trains for a fixed, small number of steps, so a within cell
  that does not train yet is counted against the claim, as the page says.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from generator.analysis.training_stats import seed_interval
from generator.analysis.verdicts import combine
from generator.engine import phase

CHANCE = 0.1  # accuracy of a guess among the 10 digit classes
MARGIN = 0.1  # a cell trained when its whole interval is above CHANCE + MARGIN
DEPTH_FACTOR = 6.0  # Schoenholz et al. 2017: trainable up to about 6 xi_c
QUAD_POINTS = 48  # quadrature nodes of the theory curve (config/phase.py quadrature_points' default)
CELL = ["activation", "sigma_w2", "sigma_b2", "depth"]
STATUSES = ("trained", "untrained", "inconclusive")


def xi_c_curve(activation: str, sigma_b2: float, sigma_w2s, q0: float = 1.0, points: int = QUAD_POINTS) -> pd.DataFrame:
    """Theory's depth scale at each sigma_w^2: DataFrame(sigma_w2, xi_c, six_xi_c) in the order given."""
    s2 = [float(v) for v in sigma_w2s]
    xi = [float(phase.phase_point(activation, v, float(sigma_b2), q0=q0, points=points)["xi_c"]) for v in s2]
    return pd.DataFrame({"sigma_w2": s2, "xi_c": xi, "six_xi_c": [DEPTH_FACTOR * v for v in xi]})


def cell_status(lo: float, hi: float, n_ok: int, n_diverged: int) -> str:
    """``trained`` / ``untrained`` / ``inconclusive`` for one cell (rule in the module doc)."""
    threshold = CHANCE + MARGIN
    if n_ok == 0:
        return "untrained" if n_diverged > 0 else "inconclusive"
    if n_ok < 2 or not (math.isfinite(lo) and math.isfinite(hi)):
        return "inconclusive"
    if lo > threshold:
        return "trained"
    if hi < threshold:
        return "untrained"
    return "inconclusive"


def accuracy_grid(trainability: pd.DataFrame) -> pd.DataFrame:
    """One row per cell (sorted by activation, sigma_b2, sigma_w2, depth): CELL columns, mean, lo, hi (95 % t
    interval of the seed mean), n_seeds, n_diverged, xi_c, six_xi_c, side (``within`` / ``beyond`` /
    ``undefined``), status."""
    rows = []
    for key, g in trainability.groupby(CELL, sort=True):
        acc = g["accuracy"].to_numpy(dtype=float)
        iv = seed_interval(acc)
        n_div = int((~np.isfinite(acc)).sum())
        rows.append({**dict(zip(CELL, key)), **iv, "n_seeds": len(acc), "n_diverged": n_div})
    grid = pd.DataFrame(rows, columns=[*CELL, "mean", "lo", "hi", "n", "n_seeds", "n_diverged"])
    curves = []
    for _, g in grid.groupby(["activation", "sigma_b2"], sort=True):
        act, b2 = str(g["activation"].iloc[0]), float(g["sigma_b2"].iloc[0])
        curves.append(xi_c_curve(act, b2, sorted(g["sigma_w2"].unique())).assign(activation=act, sigma_b2=b2))
    if curves:
        grid = grid.merge(pd.concat(curves), on=["activation", "sigma_b2", "sigma_w2"], how="left")
    else:
        grid = grid.assign(xi_c=pd.Series(dtype=float), six_xi_c=pd.Series(dtype=float))
    six = grid["six_xi_c"].to_numpy(dtype=float)
    grid["side"] = np.where(np.isnan(six), "undefined", np.where(grid["depth"] > six, "beyond", "within"))
    grid["status"] = [
        cell_status(float(lo), float(hi), int(n), int(nd))
        for lo, hi, n, nd in grid[["lo", "hi", "n", "n_diverged"]].itertuples(index=False, name=None)
    ]
    order = ["activation", "sigma_b2", "sigma_w2", "depth"]
    return grid.drop(columns="n").sort_values(order, kind="stable").reset_index(drop=True)


def _part(statuses: pd.Series, want: str, against: str) -> str:
    if statuses.empty or (statuses == "inconclusive").all():
        return "inconclusive"
    if (statuses == against).any():
        return "does_not_hold"
    return "holds" if (statuses == want).all() else "inconclusive"


def boundary(grid: pd.DataFrame) -> pd.DataFrame:
    """Per (activation, sigma_b2, sigma_w2): xi_c, six_xi_c, the deepest trained depth and the shallowest
    untrained depth (NaN where there is none) -- the measured edge to set against 6 xi_c."""
    rows = []
    for (act, b2, s2), g in grid.groupby(["activation", "sigma_b2", "sigma_w2"], sort=True):
        trained, untrained = g.loc[g["status"] == "trained", "depth"], g.loc[g["status"] == "untrained", "depth"]
        rows.append(
            {
                "activation": act,
                "sigma_b2": b2,
                "sigma_w2": s2,
                "xi_c": float(g["xi_c"].iloc[0]),
                "six_xi_c": float(g["six_xi_c"].iloc[0]),
                "deepest_trained": float(trained.max()) if len(trained) else math.nan,
                "shallowest_untrained": float(untrained.min()) if len(untrained) else math.nan,
            }
        )
    return pd.DataFrame(rows)


def trainability_summary(grid: pd.DataFrame) -> dict:
    """The claim's numbers: per side the number of cells and of trained / untrained / inconclusive ones, the
    share trained (of all the side's cells; NaN when empty), each part's verdict and the combined verdict."""
    out: dict = {"chance": CHANCE, "margin": MARGIN, "depth_factor": DEPTH_FACTOR}
    for side in ("within", "beyond"):
        st = grid.loc[grid["side"] == side, "status"]
        out[f"{side}_cells"] = int(len(st))
        for s in STATUSES:
            out[f"{side}_{s}"] = int((st == s).sum())
        out[f"{side}_share_trained"] = float((st == "trained").mean()) if len(st) else math.nan
    beyond = grid.loc[grid["side"] == "beyond", "status"]
    within = grid.loc[grid["side"] == "within", "status"]
    out["verdict_beyond_untrained"] = _part(beyond, "untrained", "trained")
    out["verdict_within_trained"] = _part(within, "trained", "untrained")
    out["verdict"] = combine([out["verdict_beyond_untrained"], out["verdict_within_trained"]])
    return out
