"""The verdict rules of the conclusions page's propagation claims, in the site's four verdict classes.

Judged from ``propagation.csv`` and ``symmetry.csv``. The verdict vocabulary and the interval rules are
:mod:`generator.analysis.verdicts` (holds / partly / inconclusive / does_not_hold); this module states what
each claim measures, its threshold and its margin. No display text here: the page adds labels and sentences.

Every numeric rule works **per seed**: a statistic (e.g. last-layer std ÷ layer-1 std) is computed on each
seed's run (:class:`~generator.analysis.claim_stats.Runs`, generator/analysis/claim_stats.py; a diverged layer
never enters, as in :mod:`generator.analysis.seeds`), and its 95 % t interval over seeds
(:func:`~generator.analysis.verdicts.mean_interval`) is taken on the log10 scale for ratios, on the linear
scale for shares. Rule families (``m``: the stated margin):

* **threshold** (:func:`threshold_verdict`): the claim is "x is past threshold T". The effect is the distance
  past T in the claimed direction (decades for ratios). ``holds``: the whole interval is past T;
  ``does_not_hold``: the whole interval is on the other side of T by more than the margin (evidence of
  absence); otherwise ``inconclusive``. Ratios use ``MARGIN_FACTOR`` (a factor), shares ``MARGIN_SHARE``.
* **band** (:func:`band_verdict`): "x within [1/B, B]": ``holds`` if the interval lies inside the band,
  ``does_not_hold`` if it lies outside the band by more than the margin, else ``inconclusive``.
* **comparison** (bn_init_prop): a paired effect (same seed in both arms) with ``interval_verdict(iv, m)``.
* **label rule** (xavier_tanh): a yes/no label per seed (:func:`healthy` and :func:`gradient_flows`);
  every seed yes -> ``holds``, every seed no -> ``does_not_hold``, seeds disagree -> ``inconclusive``.
* **parts**: several parts of one claim are joined with :func:`~generator.analysis.verdicts.combine`
  (all hold -> holds; some hold -> partly; all fail -> does_not_hold; else inconclusive); conditions that
  must *all* be met (a band is two one-sided conditions) with :func:`all_of`.
* **seed halves**: every rule is computed on all seeds and on the two disjoint halves
  (:func:`~generator.analysis.verdicts.by_halves`); halves that disagree make the verdict ``inconclusive``.
  With fewer than two seeds per half, or one seed overall, the intervals are undefined: ``inconclusive``.

Claims (thresholds: ``COLLAPSE_RATIO``, ``GRAD_FACTOR``, ``SATURATED_SHARE``, ``STABLE_BAND``):

zero_symmetry     all-equal (zero/constant) weights keep every hidden unit identical, before and after an
                  SGD step. Exact (deterministic, no seed statistics): every equal init has one distinct unit
                  -> holds; some -> partly; none -> does_not_hold.
small_vanishing   tanh, small init: parts "collapsed" (threshold: ratio < COLLAPSE_RATIO) and "gradient
                  vanishes" (threshold: first-layer relative gradient ÷ Xavier's, same seed, < 1/GRAD_FACTOR).
large_saturation  tanh, large init: parts "saturated" (threshold: last-layer saturated share
                  >= SATURATED_SHARE) and "gradient vanishes" (as above).
xavier_tanh       per s-shaped activation, label rule on ``healthy and gradient_flows`` (health.py's forward and
                  backward labels both ``ok``); across activations
                  ``combine``.
xavier_relu       "mean and std converge to 0": "collapsed" holds -> holds; else "shrinks" (threshold:
                  ratio < 1) holds -> partly; both do not hold -> does_not_hold; else inconclusive.
he_relu           He + ReLU stable: no seed diverged, and the ratio within the band [1/STABLE_BAND, STABLE_BAND].
bn_init_prop      per activation, the spread max/min of the last-layer std over the random inits (all but
                  ``zeros``), per seed, by :func:`~generator.analysis.factors.init_spread` (the one definition;
                  a diverged run enters at the divergence threshold, so the spread is a lower bound): "BN reduces
                  it" (paired, log10(spread without) - log10(spread with), margin log10(MARGIN_FACTOR)) and
                  "with BN within STABLE_BAND" (threshold); per activation ``all_of``, across ``combine``.
"""

from __future__ import annotations

import math
from typing import cast

import numpy as np
import pandas as pd

from generator.analysis.claim_rules import (
    LOG_MARGIN,
    MARGIN_SHARE,
    all_of,
    band_verdict,
    judge_halves,
    label_verdict,
    log10s,
    ratio_below,
    share_spread,
    spread,
    threshold_verdict,
)
from generator.analysis.claim_stats import Runs, case_stats, gradient_flows, healthy
from generator.analysis.factors import init_spread
from generator.analysis.rules import COLLAPSE_RATIO
from generator.analysis.verdicts import (
    combine,
    interval_verdict,
    mean_interval,
    paired_interval,
)

GRAD_FACTOR = 10
SATURATED_SHARE = 0.5
STABLE_BAND = 10
REFERENCE_INIT = "xavier"
S_SHAPED = ("sigmoid", "tanh")
EQUAL_INITS = ("zeros", "constant")


# --- per-seed labels with the claims' thresholds (the statistics: generator/analysis/claim_stats.py) ----


def collapsed(s: dict) -> bool:
    return bool(np.isfinite(s["ratio"]) and s["ratio"] < COLLAPSE_RATIO)


def stable(s: dict) -> bool:
    """Never diverged and last-layer std within a factor STABLE_BAND of layer 1's."""
    r = s["ratio"]
    return bool(not s["diverged"] and np.isfinite(r) and 1 / STABLE_BAND <= r <= STABLE_BAND)


def saturated(s: dict) -> bool:
    return bool(s["satL"] >= SATURATED_SHARE)


# --- the propagation claims ---------------------------------------------------------------------


def judge_symmetry(sym: pd.DataFrame | None) -> dict | None:
    """Exact rule (no seed statistics): the halves are not applicable and reported as ``None``."""
    if sym is None or not len(sym):
        return None
    eq = sym[sym["init"].isin(EQUAL_INITS)]
    if not len(eq):
        return None
    per = eq.groupby("init")["distinct_units"].max()
    n_ok = int((per == 1).sum())
    verdict = "holds" if n_ok == len(per) else "partly" if n_ok else "does_not_hold"
    other = sym[~sym["init"].isin(EQUAL_INITS)]
    return {
        "verdict": verdict,
        "verdict_all": verdict,
        "verdict_a": None,
        "verdict_b": None,
        "exact": True,
        "values": {
            "max_distinct": int(eq["distinct_units"].max()),
            "width": int(sym["width"].max()),
            "inits": ", ".join(sorted(per.index)),
            "other_min": int(other["distinct_units"].min()) if len(other) else 0,
        },
    }


def _grad_vs_reference(runs: Runs, sub, init: str) -> np.ndarray:
    """Per seed: first-layer relative gradient of ``init`` ÷ the reference init's (same seed: paired)."""
    return runs.per_seed(sub, "grad1", init, "tanh") / runs.per_seed(sub, "grad1", REFERENCE_INIT, "tanh")


def judge_small(runs: Runs, acts) -> dict | None:
    if "tanh" not in acts or runs.stats(runs.seeds[0], "small", "tanh") is None:
        return None

    def fn(sub):
        ratio, grad = runs.per_seed(sub, "ratio", "small", "tanh"), _grad_vs_reference(runs, sub, "small")
        parts = {"collapsed": ratio_below(ratio, COLLAPSE_RATIO), "grad_vanishes": ratio_below(grad, 1 / GRAD_FACTOR)}
        return {
            "verdict": combine(parts.values()),
            "parts": parts,
            "values": {"ratio": spread(ratio), "grad_rel": spread(grad), "L": runs.depth},
        }

    return judge_halves(fn, runs.seeds)


def judge_large(runs: Runs, acts) -> dict | None:
    if "tanh" not in acts or runs.stats(runs.seeds[0], "large", "tanh") is None:
        return None

    def fn(sub):
        sat, grad = runs.per_seed(sub, "satL", "large", "tanh"), _grad_vs_reference(runs, sub, "large")
        parts = {
            "saturated": threshold_verdict(mean_interval(sat - SATURATED_SHARE), MARGIN_SHARE),
            "grad_vanishes": ratio_below(grad, 1 / GRAD_FACTOR),
        }
        return {
            "verdict": combine(parts.values()),
            "parts": parts,
            "values": {"sat": share_spread(sat), "grad_rel": spread(grad), "L": runs.depth},
        }

    return judge_halves(fn, runs.seeds)


def judge_xavier_tanh(runs: Runs, acts) -> dict | None:
    present = [a for a in S_SHAPED if a in acts and runs.stats(runs.seeds[0], "xavier", a) is not None]
    if not present:
        return None

    def fn(sub):
        per_act, values = {}, {}
        for a in present:
            st = cast(list[dict], [runs.stats(s, "xavier", a) for s in sub])  # full grid: seed 0 ran, all did
            # "Use Xavier" means trainable: the forward signal stays healthy AND the gradient reaches layer 1.
            per_act[a] = label_verdict(healthy(s, a) and gradient_flows(s) for s in st)
            values[a] = {
                "ratio": spread([s["ratio"] for s in st]),
                "gradflow": spread([s["gradflow"] for s in st]),
                "sat": share_spread([s["satL"] for s in st]),
                "n_ok": sum(healthy(s, a) and gradient_flows(s) for s in st),
                "n": len(st),
            }
        return {"verdict": combine(per_act.values()), "parts": per_act, "values": values}

    out = judge_halves(fn, runs.seeds)
    out["acts"] = present
    return out


def judge_xavier_relu(runs: Runs, acts) -> dict | None:
    if "relu" not in acts or runs.stats(runs.seeds[0], "xavier", "relu") is None:
        return None

    def fn(sub):
        ratio = runs.per_seed(sub, "ratio", "xavier", "relu")
        parts = {"collapsed": ratio_below(ratio, COLLAPSE_RATIO), "shrinks": ratio_below(ratio, 1.0)}
        v = (
            "holds"
            if parts["collapsed"] == "holds"
            else "partly"
            if parts["shrinks"] == "holds"
            else "does_not_hold"
            if set(parts.values()) == {"does_not_hold"}
            else "inconclusive"
        )
        return {
            "verdict": v,
            "parts": parts,
            "values": {
                "ratio": spread(ratio),
                "factor": spread(runs.per_seed(sub, "factor", "xavier", "relu")),
                "L": runs.depth,
            },
        }

    return judge_halves(fn, runs.seeds)


def judge_he_relu(runs: Runs, acts) -> dict | None:
    if "relu" not in acts or runs.stats(runs.seeds[0], "he", "relu") is None:
        return None

    def fn(sub):
        ratio = runs.per_seed(sub, "ratio", "he", "relu")
        n_div = int(np.nansum(runs.per_seed(sub, "diverged", "he", "relu")))
        parts = {
            "not_diverged": "does_not_hold" if n_div else "holds",
            "band": band_verdict(mean_interval(log10s(ratio)), math.log10(STABLE_BAND), LOG_MARGIN),
        }
        return {
            "verdict": all_of(parts.values()) if sub else "inconclusive",
            "parts": parts,
            "values": {
                "ratio": spread(ratio),
                "factor": spread(runs.per_seed(sub, "factor", "he", "relu")),
                "n_diverged": n_div,
                "L": runs.depth,
            },
        }

    return judge_halves(fn, runs.seeds)


def judge_bn_init(runs: Runs, inits, acts, norms, cap: float = 1e8) -> dict | None:
    """bn_init_prop from :func:`~generator.analysis.factors.init_spread` (the one spread across inits): the
    verdict pairs its per-seed values (``by_seed``); each activation's ``spreads`` also carry the
    seed-averaged value the batchnorm page prints (``value``, ``bound``: "≥")."""
    rand = [i for i in inits if i != "zeros"]
    if "bn" not in norms or "none" not in norms or len(rand) < 2:
        return None
    prop = runs.prop[runs.prop["init"].isin(rand)]
    per_seed = init_spread(prop, runs.depth, cap, exclude=(), by_seed=True).set_index(["activation", "norm", "seed"])
    overall = init_spread(prop, runs.depth, cap, exclude=()).set_index(["activation", "norm"])

    def ratios(sub, act, norm) -> np.ndarray:
        return per_seed["ratio"].reindex([(act, norm, s) for s in sub]).to_numpy(dtype=float)

    def fn(sub):
        parts, spreads = {}, {}
        for a in acts:
            none, bn = ratios(sub, a, "none"), ratios(sub, a, "bn")
            reduces = interval_verdict(paired_interval(log10s(none), log10s(bn)), LOG_MARGIN)
            parts[a] = all_of([reduces, ratio_below(bn, STABLE_BAND)])
            spreads[a] = {"none": spread(none), "bn": spread(bn), "reduces": reduces}
        return {
            "verdict": combine(parts.values()),
            "parts": parts,
            "spreads": spreads,
            "values": {"n_inits": len(rand), "n_acts": len(spreads)},
        }

    out = judge_halves(fn, runs.seeds)
    for a, sp in out["spreads"].items():
        for n in ("none", "bn"):
            row = overall.loc[(a, n)] if (a, n) in overall.index else None
            sp[n] |= {
                "value": float(row["ratio"]) if row is not None else math.nan,
                "bound": bool(row["bound"]) if row is not None else False,
            }
    return out


def judge_all(
    prop: pd.DataFrame, sym: pd.DataFrame | None, inits, acts, norms, cap: float = 1e8
) -> dict[str, dict | None]:
    """Every propagation claim's judgement (None: not in the grid), by claim id. ``cap``: the grid's
    divergence threshold (``diverge_rms``)."""
    runs = Runs(prop)
    return {
        "zero_symmetry": judge_symmetry(sym),
        "small_vanishing": judge_small(runs, acts),
        "large_saturation": judge_large(runs, acts),
        "xavier_tanh": judge_xavier_tanh(runs, acts),
        "xavier_relu": judge_xavier_relu(runs, acts),
        "he_relu": judge_he_relu(runs, acts),
        "bn_init_prop": judge_bn_init(runs, inits, acts, norms, cap),
    }


# the propagation configurations the claims use (the page's supporting numbers table)
PROP_CASES = (
    ("small", "tanh"),
    ("large", "tanh"),
    ("xavier", "sigmoid"),
    ("xavier", "tanh"),
    ("xavier", "relu"),
    ("he", "relu"),
)


def prop_rows(prop: pd.DataFrame, inits, acts) -> list[dict]:
    """Per :data:`PROP_CASES` case in the grid: the seed means (:func:`case_stats`), each number's min–max
    over seeds (``<key>_min`` / ``<key>_max``), how many seeds are forward-healthy (:func:`healthy`, ``n_healthy``)
    and how many pass the gradient to layer 1 (:func:`gradient_flows`, ``n_flows``), of ``n``."""
    runs = Runs(prop)
    rows = []
    for init, act in PROP_CASES:
        if init not in inits or act not in acts:
            continue
        s = case_stats(prop, init, act)
        if s is None:
            continue
        row = {
            "init": init,
            "activation": act,
            "std1": s["std1"],
            "stdL": s["stdL"],
            "ratio": s["ratio"],
            "sat": s["satL"],
            "grad1": s["grad1"],
        }
        per = cast(
            list[dict], [runs.stats(seed, init, act) for seed in runs.seeds]
        )  # full grid: the case ran, every seed did
        for key, col in (("std1", "std1"), ("stdL", "stdL"), ("ratio", "ratio"), ("satL", "sat"), ("grad1", "grad1")):
            vals = np.array([p[key] for p in per], dtype=float)
            vals = vals[np.isfinite(vals)]
            row[f"{col}_min"] = float(vals.min()) if vals.size else math.nan
            row[f"{col}_max"] = float(vals.max()) if vals.size else math.nan
        row["n_healthy"], row["n"] = sum(healthy(p, act) for p in per), len(per)
        row["n_flows"] = sum(gradient_flows(p) for p in per)
        rows.append(row)
    return rows


def symmetry_rows(sym: pd.DataFrame) -> list[dict]:
    """Per (init, phase) of symmetry.csv: min / max number of distinct hidden units, and the width."""
    rows = []
    for (init, phase), d in sym.groupby(["init", "phase"], sort=False):
        rows.append(
            {
                "init": init,
                "phase": phase,
                "min": int(d["distinct_units"].min()),
                "max": int(d["distinct_units"].max()),
                "width": int(d["width"].max()),
            }
        )
    return rows
