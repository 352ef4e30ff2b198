"""generator/analysis/student_t.py: Student t quantiles without SciPy, checked against SciPy and closed forms."""

from __future__ import annotations

import itertools
import math
from decimal import Decimal, localcontext

import numpy as np
import pytest
from scipy import stats

from generator.analysis import student_t, verdicts


@pytest.mark.parametrize("df", [*range(1, 41), 57, 99, 199, 500, 999])
@pytest.mark.parametrize("q", [0.975, 0.5 + 0.9 / 2, 0.995, 0.6])
def test_quantile_matches_scipy(q, df):
    got = student_t.quantile(q, df)
    ref = float(stats.t.ppf(q, df))
    assert got == pytest.approx(ref, rel=1e-13, abs=0)  # SciPy's own inversion is good to ~1e-14
    assert float(stats.t.cdf(got, df)) == pytest.approx(q, rel=1e-14)


def test_closed_forms_df_1_and_2():
    # df = 1 (Cauchy): tan(π (q − ½)); df = 2: (2q − 1) / sqrt(2 q (1 − q)), exact in 40-digit decimals
    assert student_t.quantile(0.75, 1) == 1.0
    assert student_t.quantile(0.975, 1) == pytest.approx(math.tan(math.pi * 0.475), rel=4e-16)
    for q in (0.6, 0.9, 0.975, 0.999):
        with localcontext() as ctx:
            ctx.prec = 50
            d = Decimal(q)
            exact = float((2 * d - 1) / (2 * d * (1 - d)).sqrt())
        assert student_t.quantile(q, 2) == exact


def test_quantile_grows_with_level_and_shrinks_with_df():
    by_df = [student_t.quantile(0.975, df) for df in range(1, 60)]
    assert all(a > b for a, b in itertools.pairwise(by_df))
    assert by_df[-1] > float(stats.norm.ppf(0.975))  # above the normal limit for every finite df
    by_q = [student_t.quantile(q, 5) for q in np.linspace(0.5, 0.999, 30)]
    assert by_q[0] == 0.0 and all(a < b for a, b in itertools.pairwise(by_q))


@pytest.mark.parametrize("q, df", [(0.4, 3), (1.0, 3), (0.975, 0), (0.975, 2.5)])
def test_quantile_rejects_bad_arguments(q, df):
    with pytest.raises(ValueError):
        student_t.quantile(q, df)


def test_verdicts_use_it():
    assert verdicts.t_quantile(10) == student_t.quantile(0.975, 9)
    assert math.isnan(verdicts.t_quantile(1))
