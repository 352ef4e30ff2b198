"""One vocabulary and one set of rules for every verdict on the site (training and propagation claims).

Contract
--------
A verdict is one of :data:`VERDICTS`. The rules, stated once here and printed by the pages:

* **One comparison** (:func:`interval_verdict`): the claim predicts a *positive* effect (signs are
  arranged so). With a 95 % interval ``[lo, hi]`` for the effect and the claim's *margin* ``m > 0``
  (the smallest effect that would count as the claimed one):
  ``holds`` if ``lo > 0`` (the interval excludes no effect, in the claimed direction);
  ``does_not_hold`` if ``hi < m`` (the interval excludes every effect as large as the margin: evidence
  of absence, never mere non-significance); ``inconclusive`` otherwise (also when the interval is
  undefined, e.g. fewer than 2 paired runs).
* **Several parts** (:func:`combine`): every part holds -> ``holds``; some part holds -> ``partly``;
  every part does not hold -> ``does_not_hold``; otherwise ``inconclusive``.
* **Two disjoint seed sets** (:func:`split_seeds`, :func:`stable_verdict`): the verdict is computed on
  all seeds and on each half (even / odd positions of the sorted seeds); if the halves disagree the
  verdict is ``inconclusive`` by definition, else the all-seeds verdict stands.

Intervals (:func:`paired_interval`) are paired (same seeds, same splits in both arms): the mean of the
per-pair differences ± t_{0.975, n-1} · sd / √n (Student t quantile: :mod:`generator.analysis.student_t`,
standard library only).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np

from generator.analysis import student_t

VERDICTS = ("holds", "partly", "inconclusive", "does_not_hold")
LEVEL = 0.95  # two-sided confidence level of every interval on the site


class Interval(NamedTuple):
    """A paired effect: mean difference, its 95 % t interval and the number of pairs used."""

    effect: float
    lo: float
    hi: float
    n: int


def t_quantile(n: int, level: float = LEVEL) -> float:
    """Two-sided Student t quantile t_{(1+level)/2, n-1}; NaN for n < 2."""
    if n < 2:
        return math.nan
    return student_t.quantile(0.5 + level / 2.0, n - 1)


def paired_interval(a, b, level: float = LEVEL) -> Interval:
    """Interval of mean(a - b) over the pairs where both are finite (a, b aligned: same seed/split)."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    d = d[np.isfinite(d)]
    n = int(d.size)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    m = float(d.mean())
    if n < 2:
        return Interval(m, math.nan, math.nan, 1)
    half = t_quantile(n, level) * float(d.std(ddof=1)) / math.sqrt(n)
    return Interval(m, m - half, m + half, n)


def mean_interval(x, level: float = LEVEL) -> Interval:
    """Interval of the mean of the finite values of ``x`` (one arm, e.g. a seed spread for a figure)."""
    return paired_interval(x, np.zeros(np.asarray(x, dtype=float).shape), level)


def interval_verdict(iv: Interval, margin: float) -> str:
    """``holds`` / ``does_not_hold`` / ``inconclusive`` for one comparison (rule in the module doc)."""
    if not (math.isfinite(iv.lo) and math.isfinite(iv.hi)):
        return "inconclusive"
    if iv.lo > 0:
        return "holds"
    if iv.hi < margin:
        return "does_not_hold"
    return "inconclusive"


def combine(parts: Iterable[str]) -> str:
    """Verdict of a claim made of several parts (rule in the module doc); no parts -> inconclusive."""
    p = list(parts)
    if not p:
        return "inconclusive"
    if all(v == "holds" for v in p):
        return "holds"
    if any(v in ("holds", "partly") for v in p):
        return "partly"
    if all(v == "does_not_hold" for v in p):
        return "does_not_hold"
    return "inconclusive"


def split_seeds(seeds: Iterable) -> tuple[list, list]:
    """Two disjoint halves of the sorted distinct seeds: even and odd positions."""
    s = sorted(set(seeds))
    return s[0::2], s[1::2]


def stable_verdict(full: str, half_a: str, half_b: str) -> str:
    """The all-seeds verdict, or ``inconclusive`` when the two disjoint seed sets disagree."""
    return full if half_a == half_b else "inconclusive"


def by_halves(judge, seeds: Sequence) -> dict:
    """Run ``judge(seed_subset) -> verdict`` on all seeds and both halves.

    Returns ``{"verdict", "verdict_all", "verdict_a", "verdict_b"}`` where ``verdict`` applies
    :func:`stable_verdict`.
    """
    a, b = split_seeds(seeds)
    full, va, vb = judge(list(sorted(set(seeds)))), judge(a), judge(b)
    return {"verdict": stable_verdict(full, va, vb), "verdict_all": full, "verdict_a": va, "verdict_b": vb}
