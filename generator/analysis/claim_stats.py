"""The per-seed statistics of ``propagation.csv`` that the propagation claims judge (generator/analysis/claims.py).

Contract: :func:`case_stats` gives one configuration's layer statistics averaged over its seeds
(:meth:`~generator.analysis.seeds.SeedMeans.case`); :func:`per_run_stats` the same scalar keys for every
single run (seed, init, activation, norm) in one pass; :class:`Runs` holds those per-run numbers and
hands one statistic per seed of a subset to the claim rules. A diverged layer never enters a number (the
divergence rule of :mod:`generator.analysis.seeds`). :func:`healthy` and :func:`gradient_flows` are the
per-run yes/no labels of the one health rule (:mod:`generator.analysis.health`). Keys of a statistics
dict: ``std1``/``stdL`` (layer 1 / last-layer std), ``ratio`` (stdL / std1), ``factor`` (per-layer
factor), ``meanL``, ``satL`` (last-layer saturated share), ``grad1`` (layer-1 relative gradient),
``gradflow`` (std(dL/dH) layer 1 / last layer), ``diverged``, ``depth``; :func:`case_stats` adds ``std``
(the per-layer series).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from generator.analysis import health
from generator.analysis.seed_note import per_layer_factor
from generator.analysis.seeds import SeedMeans


def case_stats(prop: pd.DataFrame, init: str, act: str, norm: str = "none") -> dict | None:
    """Layer statistics of one configuration from ``prop`` (means over its seeds, :meth:`SeedMeans.case`;
    a diverged seed never enters a mean), or None if it is not in the data. ``diverged``: any seed/layer."""
    c = SeedMeans.of(prop).case(init, act, norm).set_index("layer")
    if not len(c):
        return None
    std, g = c["std"], c["grad_h_std"]
    depth = int(std.index.max())
    return {
        "std": std,
        "std1": float(std.loc[1]),
        "stdL": float(std.loc[depth]),
        "ratio": float(std.loc[depth] / std.loc[1]) if std.loc[1] > 0 else math.nan,
        "factor": per_layer_factor(std),
        "meanL": float(c["mean"].loc[depth]),
        "satL": float(c["saturated_frac"].loc[depth]),
        "grad1": float(c["grad_w_ratio"].loc[1]),
        # Backward analogue of "ratio": how much of the output gradient reaches layer 1.
        "gradflow": float(g.loc[1] / g.loc[depth]) if g.loc[depth] > 0 else math.nan,
        "diverged": bool(c["diverged_case"].any()),
        "depth": depth,
    }


_SEP = "\x1f"  # joins init and seed into one key, so SeedMeans aggregates each run on its own


def per_run_stats(prop: pd.DataFrame) -> dict[tuple, dict]:
    """:func:`case_stats`' scalar keys for every run (seed, init, activation, norm) at once.

    One :class:`SeedMeans` over the frame with the seed folded into the init key: every "case" is then
    one run, so the divergence rule of :mod:`generator.analysis.seeds` applies unchanged (a diverged
    layer's values are NaN). Layer 1 and the last layer give the same numbers as :func:`case_stats` on
    that seed's rows (tests/test_claims_verdicts.py checks this)."""
    f = prop.copy()
    f["init"] = f["init"].astype(str) + _SEP + f["seed"].astype(int).astype(str)
    t = SeedMeans(f).table()
    key = t["init"].str.split(_SEP, n=1, expand=True)
    t["init"], t["seed"] = key[0], key[1].astype(int)
    depth = int(t["layer"].max())
    idx = ["seed", "init", "activation", "norm"]
    first = t[t["layer"] == 1].set_index(idx)
    last = t[t["layer"] == depth].set_index(idx).reindex(first.index)
    std1, stdL = first["std"].to_numpy(float), last["std"].to_numpy(float)
    g1, gL = first["grad_h_std"].to_numpy(float), last["grad_h_std"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(std1 > 0, stdL / std1, np.nan)
        ok = (std1 > 0) & (stdL > 0) & np.isfinite(std1) & np.isfinite(stdL) & (depth >= 2)
        factor = np.where(ok, np.abs(ratio) ** (1.0 / max(depth - 1, 1)), np.nan)
        gradflow = np.where(gL > 0, g1 / gL, np.nan)
    cols = {
        "std1": std1,
        "stdL": stdL,
        "ratio": ratio,
        "factor": factor,
        "meanL": last["mean"].to_numpy(float),
        "satL": last["saturated_frac"].to_numpy(float),
        "grad1": first["grad_w_ratio"].to_numpy(float),
        "gradflow": gradflow,
        "diverged": first["diverged_case"].to_numpy(bool),
    }
    out = {}
    for i, k in enumerate(first.index):
        rec = {c: (bool(v[i]) if c == "diverged" else float(v[i])) for c, v in cols.items()}
        rec["depth"] = depth
        out[(int(k[0]), *k[1:])] = rec
    return out


@dataclass
class Runs:
    """Per-run statistics of ``propagation.csv`` (:func:`per_run_stats`, computed once);
    :meth:`per_seed` gives one statistic per seed of a subset."""

    prop: pd.DataFrame
    _runs: dict = field(default_factory=dict)

    def __post_init__(self):
        self.seeds = sorted(int(s) for s in self.prop["seed"].unique())
        self.depth = int(self.prop["layer"].max())
        self._runs = per_run_stats(self.prop)

    def stats(self, seed: int, init: str, act: str, norm: str = "none") -> dict | None:
        """The scalar statistics of one run (the keys of :func:`case_stats` but ``std``), or None."""
        return self._runs.get((seed, init, act, norm))

    def per_seed(self, seeds, key: str, init: str, act: str, norm: str = "none") -> np.ndarray:
        """``key`` of :meth:`stats` for each seed in ``seeds`` (NaN where absent or diverged)."""
        out = []
        for s in seeds:
            st = self.stats(s, init, act, norm)
            out.append(math.nan if st is None or (st["diverged"] and key != "diverged") else st[key])
        return np.asarray(out, dtype=float)


def healthy(s: dict, act: str) -> bool:
    """Forward pass ``ok`` by the one health rule (generator/analysis/health.py: last-layer std within
    [VANISH_BELOW, EXPLODE_ABOVE] of the input's, not saturated beyond the activation's baseline)."""
    return health.forward_label(s["stdL"], s["satL"], health.baseline_saturation(act), s["diverged"]) == "ok"


def gradient_flows(s: dict) -> bool:
    """Backward pass ``ok`` by the one health rule: std(dL/dH) layer 1 / last layer within
    [GRAD_LOW, GRAD_HIGH] (generator/analysis/health.py)."""
    return health.backward_label(s["gradflow"]) == "ok"
