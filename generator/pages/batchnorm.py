"""Batch normalization page: conventions, placement, and how much BN removes the dependence on init.

Every number comes from :mod:`generator.analysis.batchnorm` (its docstring states what is measured and
how); this module orders them by the grid and names the figures the page shows.
"""

from __future__ import annotations

import pandas as pd

from generator.analysis.batchnorm import (
    SAT_GAP,
    bn_conventions,
    grad_scale,
    invariance,
    invariance_summary,
    placement_frame,
    placement_summary,
    relu_zero_share,
    scale_families,
    spread_summary,
    zeros_with_bn,
)
from generator.common.languages import LANGUAGES
from generator.pages.gradients import grid_order
from generator.render.wording import at_least

BN_SIG = 4  # a spread with BN is 1.00x: 4 significant digits (the conclusions page prints it the same way)


def _spread_display(table: pd.DataFrame | None) -> dict | None:
    """The spread table per language: a spread that includes a diverged run is a lower bound ("≥", never
    ∞), the same rendering as the conclusions page; the BN ratio keeps 4 significant digits (1.000x)."""
    if table is None:
        return None
    out = {}
    for lang in LANGUAGES:
        cols = {}
        for col, bound, sig in (
            ("ratio_none", "bound_none", 3),
            ("sd_none", "bound_none", 3),
            ("ratio_bn", "bound_bn", BN_SIG),
            ("sd_bn", "bound_bn", 3),
        ):
            cols[col] = [at_least(x, lang, bool(b), sig=sig) for x, b in zip(table[col], table[bound])]
        out[lang] = table.assign(**cols)
    return out


def context(data) -> dict:
    cfg = data.grid.propagation
    depth = cfg.depth
    inits, acts, norms = grid_order(data)
    conv = bn_conventions()
    has_bn = "bn" in norms and "none" in norms
    table, summary = spread_summary(data, acts) if has_bn else (None, {})
    families = scale_families(inits)
    inv = invariance(data, families) if "bn" in norms else pd.DataFrame()
    zeros = zeros_with_bn(data) if "zeros" in inits and "bn" in norms else None
    gscale = grad_scale(data, acts) if {"small", "large"} <= set(inits) and "bn" in norms else None
    pl = data.grid.placement
    placement, source = placement_frame(data) if "bn" in norms and pl.activations and pl.inits else (None, {})
    return {
        "conv": conv,
        "depth": depth,
        "width": cfg.width,
        "samples": cfg.samples,
        "has_bn": has_bn,
        "spread": table,
        "diverge_rms": cfg.diverge_rms,
        "spread_display": _spread_display(table),
        "summary": summary,
        "families": families,
        "invariance": inv,
        "inv": invariance_summary(inv, conv["eps"]),
        "zeros": zeros,
        "grad_scale": gscale,
        "placement": placement,
        "placement_source": source,
        "placement_summary": placement_summary(placement),
        "sat_gap": SAT_GAP,
        "relu_zero": relu_zero_share(data) if "bn" in norms and "relu" in acts else None,
        "figures": {
            "spread": "bn_spread" if has_bn else None,
            "heatmap": ["heatmap_std", "heatmap_std_bn"] if has_bn else [],
            "seed_case": [
                f"seed_case_{a}_{i}_bn"
                for a, i in (("tanh", "small"), ("tanh", "large"))
                if a in acts and i in inits and "bn" in norms
            ],
        },
    }
