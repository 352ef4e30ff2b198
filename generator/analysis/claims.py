"""The verdict rules of the conclusions page's propagation claims: holds / partly / does not hold.

Judged from ``propagation.csv`` and ``symmetry.csv`` (values are means over seeds; "layer 1" and "last
layer" are layers 1 and ``depth`` of the grid). The training claims are judged by the training stage
(generator/analysis/training.py). No display text here: the page adds labels and sentences.

Rules (the page states them from these constants):

* collapsed: last-layer std < ``COLLAPSE_RATIO`` × layer-1 std.
* gradient vanishes: the first layer's relative gradient ‖∂L/∂W₁‖/‖W₁‖ is at least ``GRAD_FACTOR``
  times smaller than with the reference init ``REFERENCE_INIT`` (same activation, no BN).
* saturated: at least ``SATURATED_SHARE`` of the last layer's units are saturated (``saturated_frac``).
* stable: never diverged, and the last-layer std is within a factor ``STABLE_BAND`` of layer 1's (both
  ways). For the s-shaped activations the last layer must also not be saturated (for ReLU-like
  activations the "saturated" zero region always holds about half the units, so it is not used).

Claims and verdicts:

zero_symmetry     all-equal (zero) weights keep every hidden unit identical, before and after an SGD step.
                  holds: every equal-weight init has one distinct unit at every layer and phase;
                  partly: some; does_not_hold: none.
small_vanishing   small init (× 0.01) collapses the activations and the gradient vanishes (tanh).
                  holds: collapsed and gradient vanishes; partly: one of the two; does_not_hold: neither.
large_saturation  large init (× 1.0) saturates tanh and the gradient becomes 0.
                  holds: saturated and gradient vanishes; partly: one; does_not_hold: neither.
xavier_tanh       "sigmoid, tanh: use Xavier". holds: Xavier is stable, not saturated, and the gradient
                  reaching layer 1 is within STABLE_BAND of the output gradient (std of dL/dH, layer 1 vs
                  last) for every s-shaped activation in the grid; partly: for some; does_not_hold: none.
xavier_relu       "Xavier + ReLU: mean and std converge to 0". holds: collapsed; partly: the std shrinks
                  at every layer (per-layer factor < 1) without collapsing; does_not_hold: otherwise.
he_relu           "ReLU: use He" (mean and std stay away from 0). holds: He + ReLU is stable.
bn_init_prop      "BN reduces the dependence on the initial weights", at initialization: per activation the
                  spread max/min of the last-layer std over the random inits (all but ``zeros``), with and
                  without BN. holds: with BN the spread is within STABLE_BAND and smaller than without for
                  every activation; partly: smaller for some activation; does_not_hold: otherwise.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from generator.analysis.rules import COLLAPSE_RATIO
from generator.analysis.seed_note import per_layer_factor
from generator.analysis.seeds import SeedMeans

GRAD_FACTOR = 10
SATURATED_SHARE = 0.5
STABLE_BAND = 10
REFERENCE_INIT = "xavier"
S_SHAPED = ("sigmoid", "tanh")
EQUAL_INITS = ("zeros", "constant")
VERDICTS = ("holds", "partly", "does_not_hold")


def verdict_of(a: bool, b: bool) -> str:
    """Two-condition rule: both -> holds, one -> partly, none -> does_not_hold."""
    return "holds" if a and b else "partly" if a or b else "does_not_hold"


def share_verdict(n_ok: int, n: int) -> str:
    """All -> holds, some -> partly, none (or nothing to judge) -> does_not_hold."""
    return "holds" if n and n_ok == n else "partly" if n_ok else "does_not_hold"


def case_stats(prop: pd.DataFrame, init: str, act: str, norm: str = "none") -> dict | None:
    """Mean-over-seeds layer statistics of one configuration (:meth:`SeedMeans.case`; a diverged
    seed never enters a mean), or None if it is not in the data. ``diverged``: any seed at any layer."""
    c = SeedMeans.of(prop).case(init, act, norm).set_index("layer")
    if not len(c):
        return None
    std, g = c["std"], c["grad_h_std"]
    depth = int(std.index.max())
    return {
        "std": std,
        "std1": float(std.loc[1]), "stdL": float(std.loc[depth]),
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


def collapsed(s: dict) -> bool:
    return bool(np.isfinite(s["ratio"]) and s["ratio"] < COLLAPSE_RATIO)


def stable(s: dict) -> bool:
    """Never diverged and last-layer std within a factor STABLE_BAND of layer 1's."""
    r = s["ratio"]
    return bool(not s["diverged"] and np.isfinite(r) and 1 / STABLE_BAND <= r <= STABLE_BAND)


def saturated(s: dict) -> bool:
    return bool(s["satL"] >= SATURATED_SHARE)


def healthy(s: dict, act: str) -> bool:
    """Stable, and for an s-shaped activation also not saturated (the rule behind "use Xavier for tanh")."""
    return stable(s) and not (act in S_SHAPED and saturated(s))


def grad_vanishes(s: dict, ref: dict | None) -> bool | None:
    if ref is None or not (np.isfinite(s["grad1"]) and np.isfinite(ref["grad1"])) or ref["grad1"] <= 0:
        return None
    return bool(s["grad1"] * GRAD_FACTOR <= ref["grad1"])


# --- the propagation claims ---------------------------------------------------------------------


def judge_symmetry(sym: pd.DataFrame | None) -> dict | None:
    if sym is None or not len(sym):
        return None
    eq = sym[sym["init"].isin(EQUAL_INITS)]
    if not len(eq):
        return None
    per = eq.groupby("init")["distinct_units"].max()
    n_ok = int((per == 1).sum())
    other = sym[~sym["init"].isin(EQUAL_INITS)]
    return {"verdict": share_verdict(n_ok, len(per)),
            "values": {"max_distinct": int(eq["distinct_units"].max()), "width": int(sym["width"].max()),
                       "inits": ", ".join(sorted(per.index)),
                       "other_min": int(other["distinct_units"].min()) if len(other) else 0}}


def _tanh_case(prop, acts, init: str):
    """(stats of ``init`` with tanh, stats of the reference init, whether the gradient vanishes) or None
    when the grid lacks tanh or the case."""
    if "tanh" not in acts:
        return None
    s, ref = case_stats(prop, init, "tanh"), case_stats(prop, REFERENCE_INIT, "tanh")
    if s is None:
        return None
    return s, ref, bool(grad_vanishes(s, ref))


def judge_small(prop, acts) -> dict | None:
    case = _tanh_case(prop, acts, "small")
    if case is None:
        return None
    s, ref, gv = case
    return {"verdict": verdict_of(collapsed(s), gv), "parts": {"collapsed": collapsed(s), "grad_vanishes": gv},
            "values": {"ratio": s["ratio"], "grad": s["grad1"], "ref_grad": ref["grad1"] if ref else math.nan,
                       "L": s["depth"]}}


def judge_large(prop, acts) -> dict | None:
    case = _tanh_case(prop, acts, "large")
    if case is None:
        return None
    s, ref, gv = case
    return {"verdict": verdict_of(saturated(s), gv), "parts": {"saturated": saturated(s), "grad_vanishes": gv},
            "values": {"sat": s["satL"], "grad": s["grad1"], "ref_grad": ref["grad1"] if ref else math.nan,
                       "L": s["depth"]}}


def gradient_flows(s: dict) -> bool:
    """The gradient reaching layer 1 is within a factor STABLE_BAND of the output gradient (both ways)."""
    r = s["gradflow"]
    return bool(np.isfinite(r) and 1 / STABLE_BAND <= r <= STABLE_BAND)


def judge_xavier_tanh(prop, acts) -> dict | None:
    rows = [(a, case_stats(prop, "xavier", a)) for a in S_SHAPED if a in acts]
    rows = [(a, s) for a, s in rows if s is not None]
    if not rows:
        return None
    # "Use Xavier" means trainable: the forward signal stays healthy AND the gradient reaches layer 1.
    n_ok = sum(healthy(s, a) and gradient_flows(s) for a, s in rows)
    v = {f"ratio_{a}": s["ratio"] for a, s in rows}
    v.update({f"gradflow_{a}": s["gradflow"] for a, s in rows})
    v.update({f"sat_{a}": s["satL"] for a, s in rows})
    v["L"] = rows[0][1]["depth"]
    v["n_ok"], v["n"] = n_ok, len(rows)
    return {"verdict": share_verdict(n_ok, len(rows)), "values": v, "acts": [a for a, _ in rows]}


def judge_xavier_relu(prop, acts) -> dict | None:
    if "relu" not in acts:
        return None
    s = case_stats(prop, "xavier", "relu")
    if s is None:
        return None
    shrinks = bool((s["std"].sort_index().diff().dropna() < 0).all())
    verdict = "holds" if collapsed(s) else "partly" if shrinks and s["factor"] < 1 else "does_not_hold"
    return {"verdict": verdict, "values": {"factor": s["factor"], "stdL": s["stdL"], "meanL": s["meanL"],
                                           "ratio": s["ratio"], "L": s["depth"]}}


def judge_he_relu(prop, acts) -> dict | None:
    if "relu" not in acts:
        return None
    s = case_stats(prop, "he", "relu")
    if s is None:
        return None
    return {"verdict": "holds" if stable(s) else "does_not_hold",
            "values": {"ratio": s["ratio"], "stdL": s["stdL"], "factor": s["factor"], "L": s["depth"]}}


def judge_bn_init(prop, inits, acts, norms) -> dict | None:
    if "bn" not in norms or "none" not in norms:
        return None
    rand = [i for i in inits if i != "zeros"]
    if len(rand) < 2:
        return None
    spreads = {}
    for a in acts:
        sp = {}
        for norm in ("none", "bn"):
            last = []
            for i in rand:
                s = case_stats(prop, i, a, norm)
                if s is None:
                    continue
                last.append(s["stdL"] if not s["diverged"] and np.isfinite(s["stdL"]) else math.inf)
            last = [x for x in last if x > 0]
            sp[norm] = max(last) / min(last) if last else math.nan
        spreads[a] = sp
    n_smaller = sum(1 for sp in spreads.values() if sp["bn"] < sp["none"])
    n_all = sum(1 for sp in spreads.values() if sp["bn"] < sp["none"] and sp["bn"] <= STABLE_BAND)
    verdict = "holds" if spreads and n_all == len(spreads) else "partly" if n_smaller else "does_not_hold"
    bn_max = max(sp["bn"] for sp in spreads.values())
    none_min = min(sp["none"] for sp in spreads.values())
    return {"verdict": verdict, "spreads": spreads,
            "values": {"bn_max": bn_max, "none_min": none_min, "n_inits": len(rand), "n_acts": len(spreads)}}


def judge_all(prop: pd.DataFrame, sym: pd.DataFrame | None, inits, acts, norms) -> dict[str, dict | None]:
    """Every propagation claim's judgement (None: not in the grid), by claim id."""
    return {
        "zero_symmetry": judge_symmetry(sym),
        "small_vanishing": judge_small(prop, acts),
        "large_saturation": judge_large(prop, acts),
        "xavier_tanh": judge_xavier_tanh(prop, acts),
        "xavier_relu": judge_xavier_relu(prop, acts),
        "he_relu": judge_he_relu(prop, acts),
        "bn_init_prop": judge_bn_init(prop, inits, acts, norms),
    }


# the propagation configurations the claims use (the page's supporting numbers table)
PROP_CASES = (("small", "tanh"), ("large", "tanh"), ("xavier", "sigmoid"), ("xavier", "tanh"),
              ("xavier", "relu"), ("he", "relu"))


def prop_rows(prop: pd.DataFrame, inits, acts) -> list[dict]:
    """Layer-1 / last-layer numbers of :data:`PROP_CASES` present in the grid, and whether each is healthy."""
    rows = []
    for init, act in PROP_CASES:
        if init in inits and act in acts:
            s = case_stats(prop, init, act)
            if s is not None:
                rows.append({"init": init, "activation": act, "std1": s["std1"], "stdL": s["stdL"],
                             "ratio": s["ratio"], "sat": s["satL"], "grad1": s["grad1"],
                             "stable": healthy(s, act)})
    return rows


def symmetry_rows(sym: pd.DataFrame) -> list[dict]:
    """Per (init, phase) of symmetry.csv: min / max number of distinct hidden units, and the width."""
    rows = []
    for (init, phase), d in sym.groupby(["init", "phase"], sort=False):
        rows.append({"init": init, "phase": phase, "min": int(d["distinct_units"].min()),
                     "max": int(d["distinct_units"].max()), "width": int(d["width"].max())})
    return rows
