"""Student t quantiles with the standard library only (SciPy is not a runtime dependency).

Contract
--------
:func:`quantile` ``(q, df)`` is ``scipy.stats.t.ppf(q, df)`` for ``0.5 <= q < 1`` and an integer
``df >= 1``: the t with ``P(T_df <= t) = q``. It is computed in decimal arithmetic with
:data:`DIGITS` significant digits, so the float returned is the correctly rounded value (up to ties
within 1e-20), and the same on every machine. tests/test_student_t.py compares it with SciPy.

Method: for integer degrees of freedom the central probability ``A(t) = P(|T| <= t)`` has a closed form
(Abramowitz & Stegun 26.7.3-4) in θ = atan(t / √df): with c = cos²θ = df / (df + t²),

* df odd:  A = (2/π) [θ + sinθ cosθ (1 + (2/3) c + (2·4)/(3·5) c² + … , (df−1)/2 terms)]  (df = 1: 2θ/π)
* df even: A = sinθ (1 + (1/2) c + (1·3)/(2·4) c² + … , df/2 terms),

every term positive (no cancellation). ``A`` increases with t, so a bracketed root search on t (the
Illinois variant of false position) finds ``A(t) = 2q − 1``.
"""

from __future__ import annotations

import functools
from decimal import Decimal, localcontext

DIGITS = 40  # working precision: float needs 17; the rest absorbs the rounding of long sums (df in the 1000s)
_STOP = Decimal(10) ** -(DIGITS - 15)  # the root search stops when the bracket is this narrow relative to t


def _atan(x: Decimal) -> Decimal:
    """atan(x) for x >= 0: halve the angle (atan x = 2 atan(x / (1 + √(1 + x²)))) until x <= 1/8,
    then the alternating Taylor series."""
    doublings = 0
    while x > Decimal("0.125"):
        x = x / (1 + (1 + x * x).sqrt())
        doublings += 1
    total, power, k, x2 = Decimal(0), x, 1, x * x
    eps = Decimal(10) ** -(DIGITS + 2)
    while power > eps:
        total += power / k if k % 4 == 1 else -power / k
        power *= x2
        k += 2
    return total * 2**doublings


def _central(t: Decimal, df: int, pi: Decimal) -> Decimal:
    """A(t) = P(|T_df| <= t) by the closed form in the module doc (t >= 0)."""
    d = Decimal(df)
    r2 = d + t * t
    c = d / r2
    term = total = Decimal(1)
    if df % 2:
        for k in range(1, (df - 1) // 2):
            term *= c * (2 * k) / (2 * k + 1)
            total += term
        theta = _atan(t / d.sqrt())
        series = t * d.sqrt() / r2 * total if df > 1 else Decimal(0)
        return 2 * (theta + series) / pi
    for k in range(1, df // 2):
        term *= c * (2 * k - 1) / (2 * k)
        total += term
    return t / r2.sqrt() * total


@functools.lru_cache(maxsize=256)
def quantile(q: float, df: int) -> float:
    """The Student t quantile t_{q, df} (see the module doc); ``0.5 <= q < 1``, integer ``df >= 1``."""
    if not (0.5 <= q < 1.0) or int(df) != df or df < 1:
        raise ValueError(f"need 0.5 <= q < 1 and an integer df >= 1, got q={q!r}, df={df!r}")
    with localcontext() as ctx:
        ctx.prec = DIGITS
        pi = 4 * _atan(Decimal(1))
        target = 2 * Decimal(q) - 1  # exact: q is a binary float
        lo, hi = Decimal(0), Decimal(1)
        while _central(hi, int(df), pi) < target:
            lo, hi = hi, 2 * hi
        return float(_solve(lambda t: _central(t, int(df), pi) - target, lo, hi))


def _solve(f, lo: Decimal, hi: Decimal) -> Decimal:
    """The root of the increasing ``f`` in ``[lo, hi]`` (``f(lo) < 0 <= f(hi)``) by the Illinois method:
    false position, halving the kept end's value when the same end is kept twice (superlinear, and the
    bracket always shrinks from both sides); stops when the bracket is below ``_STOP`` relative to hi."""
    f_lo, f_hi = f(lo), f(hi)
    kept = 0  # -1: the last step moved lo, +1: it moved hi
    for _ in range(500):  # a safety net; 40-digit roots take about 10 steps
        if hi - lo <= _STOP * hi:
            break
        x = hi - f_hi * (hi - lo) / (f_hi - f_lo)
        fx = f(x)
        if fx < 0:
            lo, f_lo = x, fx
            f_hi = f_hi / 2 if kept == -1 else f_hi
            kept = -1
        else:
            hi, f_hi = x, fx
            f_lo = f_lo / 2 if kept == 1 else f_lo
            kept = 1
    return (lo + hi) / 2
