"""Histogram panels: the per-layer value histograms of one configuration pooled over seeds.

``hist_panel(hist, **eq)`` sums the counts of every seed per bin (histograms.csv: one row per
(configuration, seed, layer, bin) with the bin's ``lo``/``hi`` edges; the outer bins are open, with an
infinite edge) and returns the finite bins as fractions of all counted values, plus the fractions in
the open under- and overflow bins. pandas and NumPy only (the figures draw it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from generator.analysis.seeds import select


@dataclass(frozen=True)
class HistPanel:
    edges: np.ndarray  # finite bin edges (len = nbins + 1)
    frac: np.ndarray  # fraction of values per finite bin
    under: float  # fraction below edges[0]
    over: float  # fraction above edges[-1]
    total: float  # number of values counted (all seeds)


def hist_panel(hist: pd.DataFrame, **eq) -> HistPanel | None:
    """Counts pooled over seeds for one (init, activation, norm, layer); None if there are no rows."""
    sub = select(hist, **eq)
    if not len(sub):
        return None
    lo = pd.to_numeric(sub["lo"], errors="coerce").astype(float).to_numpy()
    hi = pd.to_numeric(sub["hi"], errors="coerce").astype(float).to_numpy()
    cnt = pd.to_numeric(sub["count"], errors="coerce").fillna(0).astype(float).to_numpy()
    frame = pd.DataFrame({"bin": sub["bin"].to_numpy(), "lo": lo, "hi": hi, "count": cnt})
    g = frame.groupby("bin").agg(lo=("lo", "first"), hi=("hi", "first"), count=("count", "sum")).sort_index()
    lo_b, hi_b, c = g["lo"].to_numpy(), g["hi"].to_numpy(), g["count"].to_numpy()
    finite = np.isfinite(lo_b) & np.isfinite(hi_b)
    under_m = ~np.isfinite(lo_b) & (lo_b < 0)
    over_m = ~np.isfinite(hi_b) & (hi_b > 0)
    total = float(c.sum())
    scale = 1.0 / total if total > 0 else 0.0
    f_lo, f_hi = lo_b[finite], hi_b[finite]
    edges = np.concatenate([f_lo, f_hi[-1:]]) if finite.any() else np.array([-1.0, 1.0])
    frac = c[finite] * scale if finite.any() else np.zeros(1)
    return HistPanel(
        edges=edges, frac=frac, under=float(c[under_m].sum() * scale), over=float(c[over_m].sum() * scale), total=total
    )
