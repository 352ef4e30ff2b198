"""The shared verdict rules (generator/analysis/verdicts.py) on synthetic inputs and a closed form."""

import math

import numpy as np
import pytest

from generator.analysis import verdicts as V


def test_t_interval_matches_the_closed_form_for_two_pairs():
    # n = 2: t_{0.975, 1} = tan(pi * 0.475) exactly (Cauchy quantile); sd of {1, 3} = sqrt(2)
    iv = V.paired_interval([3.0, 5.0], [2.0, 2.0])
    half = math.tan(math.pi * 0.475) * math.sqrt(2) / math.sqrt(2)
    assert iv.n == 2 and iv.effect == pytest.approx(2.0)
    assert iv.lo == pytest.approx(2.0 - half, rel=1e-9) and iv.hi == pytest.approx(2.0 + half, rel=1e-9)


def test_interval_covers_the_true_mean_about_95_percent():
    rng = np.random.default_rng(0)
    cover = 0
    for _ in range(2000):
        x = rng.normal(0.3, 1.0, 10)
        iv = V.paired_interval(x, np.zeros(10))
        cover += iv.lo <= 0.3 <= iv.hi
    assert 0.93 <= cover / 2000 <= 0.97


def test_flat_effect_is_inconclusive_and_excluded_effect_does_not_hold():
    rng = np.random.default_rng(1)
    noise = rng.normal(0, 1.0, 10)
    assert V.interval_verdict(V.paired_interval(noise, np.zeros(10)), margin=0.5) == "inconclusive"
    tight = rng.normal(0, 0.01, 10)
    assert V.interval_verdict(V.paired_interval(tight, np.zeros(10)), margin=0.5) == "does_not_hold"
    assert V.interval_verdict(V.paired_interval(tight + 1.0, np.zeros(10)), margin=0.5) == "holds"


def test_undefined_interval_is_inconclusive():
    assert V.interval_verdict(V.paired_interval([1.0], [0.0]), 0.1) == "inconclusive"
    assert V.interval_verdict(V.paired_interval([math.nan] * 3, [0.0] * 3), 0.1) == "inconclusive"


def test_combine():
    assert V.combine(["holds", "holds"]) == "holds"
    assert V.combine(["holds", "does_not_hold"]) == "partly"
    assert V.combine(["holds", "inconclusive"]) == "partly"
    assert V.combine(["does_not_hold", "does_not_hold"]) == "does_not_hold"
    assert V.combine(["does_not_hold", "inconclusive"]) == "inconclusive"
    assert V.combine([]) == "inconclusive"


def test_seed_sets_that_disagree_give_inconclusive():
    a, b = V.split_seeds([3, 0, 1, 2, 2])
    assert a == [0, 2] and b == [1, 3] and not set(a) & set(b)
    res = V.by_halves(lambda s: "holds" if 0 in s else "does_not_hold", [0, 1, 2, 3])
    assert res == {
        "verdict": "inconclusive",
        "verdict_all": "holds",
        "verdict_a": "holds",
        "verdict_b": "does_not_hold",
    }
    assert V.by_halves(lambda s: "holds", [0, 1, 2, 3])["verdict"] == "holds"
