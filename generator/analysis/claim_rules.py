"""The rule families of the conclusions page's propagation claims, on top of :mod:`generator.analysis.verdicts`.

Contract: pure functions from per-seed numbers to one of ``verdicts.VERDICTS`` (rules stated in
:mod:`generator.analysis.claims`' docstring, which the page prints): :func:`threshold_verdict` ("x past T",
does_not_hold only beyond the stated margin), :func:`band_verdict` ("x within [1/B, B]"), :func:`all_of`
(conditions that must all be met), :func:`label_verdict` (a yes/no label per seed), :func:`ratio_below`
(threshold rule on per-seed ratios, log10 scale), :func:`judge_halves` (a rule on all seeds and on the two
disjoint seed halves), and :func:`spread` / :func:`share_spread` (what the page shows of a per-seed number:
centre, 95 % interval, min–max over seeds).
"""

from __future__ import annotations

import math

import numpy as np

from generator.analysis.verdicts import (
    Interval,
    by_halves,
    interval_verdict,
    mean_interval,
)

MARGIN_FACTOR = 2.0  # ratio rules: does_not_hold needs the interval a factor 2 beyond the threshold
MARGIN_SHARE = 0.1  # share rules: ... 10 percentage points beyond the threshold
LOG_MARGIN = math.log10(MARGIN_FACTOR)


def threshold_verdict(iv: Interval, margin: float) -> str:
    """``iv``: interval of the distance past the threshold in the claimed direction (0 = at the threshold).
    holds if lo > 0; does_not_hold if hi < -margin; else inconclusive (:func:`interval_verdict`)."""
    return interval_verdict(iv, -margin)


def band_verdict(iv: Interval, half_width: float, margin: float) -> str:
    """``iv`` of log10(x); the claim is |log10 x| <= half_width (two one-sided threshold rules)."""
    upper = Interval(half_width - iv.effect, half_width - iv.hi, half_width - iv.lo, iv.n)
    lower = Interval(iv.effect + half_width, iv.lo + half_width, iv.hi + half_width, iv.n)
    return all_of([threshold_verdict(upper, margin), threshold_verdict(lower, margin)])


def all_of(parts) -> str:
    """Conditions that must all be met: any does_not_hold -> does_not_hold; all hold -> holds; else
    inconclusive (nothing to judge -> inconclusive)."""
    p = list(parts)
    if any(v == "does_not_hold" for v in p):
        return "does_not_hold"
    return "holds" if p and all(v == "holds" for v in p) else "inconclusive"


def label_verdict(labels) -> str:
    """Label rule: every seed yes -> holds, every seed no -> does_not_hold, mixed or none -> inconclusive."""
    lab = list(labels)
    if not lab:
        return "inconclusive"
    return "holds" if all(lab) else "does_not_hold" if not any(lab) else "inconclusive"


def log10s(x) -> np.ndarray:
    """log10 of the positive finite values (others -> NaN, which the intervals leave out)."""
    a = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((a > 0) & np.isfinite(a), np.log10(np.where(a > 0, a, 1.0)), np.nan)


def spread(x) -> dict:
    """What the page shows for a per-seed ratio: geometric mean, its 95 % interval, min and max over seeds."""
    a = np.asarray(x, dtype=float)
    iv = mean_interval(log10s(a))
    fin = a[np.isfinite(a)]
    return {
        "gm": 10**iv.effect if iv.n else math.nan,
        "lo": 10**iv.lo,
        "hi": 10**iv.hi,
        "n": iv.n,
        "min": float(fin.min()) if fin.size else math.nan,
        "max": float(fin.max()) if fin.size else math.nan,
    }


def share_spread(x) -> dict:
    """The same for a share (linear scale: arithmetic mean)."""
    a = np.asarray(x, dtype=float)
    iv = mean_interval(a)
    fin = a[np.isfinite(a)]
    return {
        "gm": iv.effect,
        "lo": iv.lo,
        "hi": iv.hi,
        "n": iv.n,
        "min": float(fin.min()) if fin.size else math.nan,
        "max": float(fin.max()) if fin.size else math.nan,
    }


def ratio_below(x, threshold: float) -> str:
    """Threshold rule "x < threshold" on per-seed ratios (log10 scale, margin MARGIN_FACTOR)."""
    return threshold_verdict(mean_interval(math.log10(threshold) - log10s(x)), LOG_MARGIN)


def judge_halves(fn, seeds) -> dict:
    """``fn(seed_subset) -> {"verdict", ...}`` on all seeds and both halves; the all-seeds record with
    ``verdict`` (halves disagree -> inconclusive), ``verdict_all``, ``verdict_a``, ``verdict_b``."""
    memo = {}

    def judge(sub):
        memo[tuple(sub)] = fn(sub)
        return memo[tuple(sub)]["verdict"]

    h = by_halves(judge, seeds)
    return {**memo[tuple(sorted(set(seeds)))], **h}
