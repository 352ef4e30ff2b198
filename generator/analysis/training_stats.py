"""Paired comparisons behind the training verdicts, on top of generator/analysis/verdicts.py.

Contract
--------
* :func:`compare` — one *directional* comparison: the per-pair effect ``claimed − other`` (arrays
  aligned by pair: same seed, same split), its paired 95 % t interval and the verdict of
  :func:`generator.analysis.verdicts.interval_verdict` with the comparison's margin. Values that are
  only *bounds* (a run that never reached the target counts as reaching it one evaluation after the
  end; a learning rate at the edge of the grid) make the effect a bound too: with ``bound = +1`` the
  true value is at least the one given, with ``-1`` at most. An effect that is only a lower bound
  cannot give ``does_not_hold`` and one that is only an upper bound cannot give ``holds``: such a
  verdict becomes ``inconclusive``.
* :func:`equivalent` — an *equivalence* comparison ("like", "the same as"): ``holds`` only when the
  whole interval lies inside ``(−margin, margin)``; ``does_not_hold`` when it lies entirely outside
  (``lo ≥ margin`` or ``hi ≤ −margin``); ``inconclusive`` otherwise or when undefined.
* :func:`align` — two arms as arrays aligned on their shared pair keys (a pair missing in one arm
  is NaN there and is dropped by the interval).
* :func:`seed_interval` — mean and 95 % t interval over the seeds of one arm (tables, error bars).

Every comparison is returned as a plain dict ``{"verdict", "effect", "ci_low", "ci_high", "n",
"margin"}`` (NaN where undefined) so it can go into claims.csv's JSON ``values`` as it is.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from generator.analysis.verdicts import Interval, interval_verdict, mean_interval, paired_interval


def _part(iv: Interval, verdict: str, margin: float) -> dict:
    return {
        "verdict": verdict,
        "effect": float(iv.effect),
        "ci_low": float(iv.lo),
        "ci_high": float(iv.hi),
        "n": int(iv.n),
        "margin": float(margin),
    }


def _bounds(x, bound) -> np.ndarray:
    return np.zeros(np.asarray(x).shape) if bound is None else np.asarray(bound, dtype=float)


def compare(claimed, other, margin: float, claimed_bound=None, other_bound=None) -> dict:
    """Directional paired comparison ``claimed − other`` (rule in the module doc)."""
    c, o = np.asarray(claimed, dtype=float), np.asarray(other, dtype=float)
    iv = paired_interval(c, o)
    ok = np.isfinite(c) & np.isfinite(o)
    cb, ob = _bounds(c, claimed_bound)[ok], _bounds(o, other_bound)[ok]
    lower = bool(((cb > 0) | (ob < 0)).any())  # the true effect is at least the measured one
    upper = bool(((cb < 0) | (ob > 0)).any())  # ... at most the measured one
    v = interval_verdict(iv, margin)
    if (v == "holds" and upper) or (v == "does_not_hold" and lower):
        v = "inconclusive"
    return _part(iv, v, margin)


def equivalence_verdict(iv: Interval, margin: float) -> str:
    """``holds`` inside ±margin, ``does_not_hold`` entirely outside, else ``inconclusive``."""
    if not (math.isfinite(iv.lo) and math.isfinite(iv.hi)):
        return "inconclusive"
    if -margin < iv.lo and iv.hi < margin:
        return "holds"
    if iv.lo >= margin or iv.hi <= -margin:
        return "does_not_hold"
    return "inconclusive"


def equivalent(a, b, margin: float) -> dict:
    """Equivalence of two paired arms: ``a − b`` within ±margin (rule in the module doc)."""
    iv = paired_interval(a, b)
    return _part(iv, equivalence_verdict(iv, margin), margin)


def within(x, margin: float) -> dict:
    """Equivalence of one arm's mean to 0 (e.g. a log10 gradient ratio within ±1 decade)."""
    iv = mean_interval(x)
    return _part(iv, equivalence_verdict(iv, margin), margin)


def align(a: pd.Series, b: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Two series indexed by pair keys -> float arrays on the union of their keys (sorted)."""
    idx = a.index.union(b.index)
    return a.reindex(idx).to_numpy(dtype=float), b.reindex(idx).to_numpy(dtype=float)


def seed_interval(x) -> dict:
    """``{"mean", "lo", "hi", "n"}``: the mean of the finite values and its 95 % t interval."""
    iv = mean_interval(pd.Series(x, dtype=float).to_numpy())
    return {"mean": float(iv.effect), "lo": float(iv.lo), "hi": float(iv.hi), "n": int(iv.n)}


def flat(prefix: str, part: dict) -> dict:
    """A comparison as ``{prefix_verdict, prefix_effect, prefix_ci_low, ...}`` for the JSON values."""
    return {f"{prefix}_{k}": v for k, v in part.items()}
