"""Signal propagation WITH bias: the order-to-chaos phase diagram (Poole et al. 2016; Schoenholz et al. 2017).

Contract
--------
An MLP with weights W_ij ~ N(0, sigma_w^2 / fan_in) and biases b_i ~ N(0, sigma_b^2) (``norm="none"``)
has, in the wide limit, Gaussian pre-activations. With z, z1, z2 ~ N(0, 1) independent and
s2 = sigma_w^2, b2 = sigma_b^2:

* variance map  q^{l+1} = F(q^l) = s2 E[phi(sqrt(q) z)^2] + b2, started at q^1 = s2 q0 + b2;
  ``q_star`` is its limit (:func:`q_fixed_point`): F is increasing, so the sequence is monotone and goes
  to the first fixed point in the direction of F(q^1) - q^1 (found as in theory.fixed_point: a scan of
  F(q)/q - 1 on a log grid 1e-12..1e12, refined by bisection in log q), or to inf (reported as inf)
  when there is none. With b2 > 0, F(0) > 0 (for phi(0) = 0 too), so q* > 0; q* = 0 only when b2 = 0.
* chi1 = s2 E[phi'(sqrt(q*) z)^2] (at q = 1e12 when q* = inf, at q = 1e-200 when q* = 0, as theory.chi);
* correlation map  C(c) = (s2 E[phi(u1) phi(u2)] + b2) / q*, u1 = sqrt(q*) z1,
  u2 = sqrt(q*) (c z1 + sqrt(1 - c^2) z2). The code divides by F(q*) = s2 E[phi(u1)^2] + b2 (the same
  2-D rule at c = 1) instead of q*: equal at a fixed point, and it keeps C(1) = 1 to rounding and gives
  the right small-q limit when q* = 0 (b2 = 0: C(c) = E[phi(u1) phi(u2)] / E[phi(u1)^2] at q = 1e-200;
  linear: C(c) = c, every c neutral, reported as c* = 1). C'(1) = chi1 at a fixed point q* > 0. ``c_star`` is its stable
  fixed point: 1 when chi1 <= 1 + tol (ordered, critical); in the chaotic phase c = 1 repels and
  c* < 1 is the largest root of C(c) - c below 1 (C(-1) >= -1, so one exists), by a scan of
  u = 1 - c on a log grid 1e-9..2 and bisection to 1e-15.
* chi_c = s2 E[phi'(u1) phi'(u2)] at c* (= chi1 at c* = 1, taken from the 1-D rule);
* depth scales (Schoenholz et al. 2017): xi_q = -1 / ln(s2 E[phi'^2 + phi phi''](q*)) (their eq. 5) and
  xi_c = -1 / ln chi_c (their eq. 9; chi_c = chi1 at c* = 1); inf where the argument of ln is >= 1
  (the critical line), 0 where it is <= 0. phi'' is never differentiated numerically: by Price's theorem
  d/dq E[g(sqrt(q) z)] = E[g''(sqrt(q) z)] / 2 with g = phi^2, so s2 E[phi'^2 + phi phi''] = F'(q*), and by
  Stein's lemma F'(q) = s2 E[phi(a) phi'(a) a] / q (a = sqrt(q) z; theory.slope). This needs only phi and
  phi' and is exact at kinks: the delta in phi'' at x = 0 is multiplied by phi(0) = 0 for every kinked
  activation here (tests compare it with centred differences of phi' for tanh).
* critical line chi1 = 1 parametrised by q* (:func:`critical_line`): s2 = 1 / E[phi'(sqrt(q*) z)^2],
  b2 = q* - s2 E[phi(sqrt(q*) z)^2]; rows with b2 >= 0 kept. For the ReLU family E[phi'^2] and
  E[phi^2]/q are constant, so every q* gives b2 = 0: the line is vertical at s2 = 2/(1 + a^2) with
  q* = inf for b2 > 0, which this parametrisation cannot reach. :func:`sigma_w2_critical` therefore
  solves chi1(s2, b2) = 1 in s2 directly (bisection, chi1 from :func:`q_fixed_point`), for every family.
* regime (``REGIMES``, tolerance ``CRITICAL_TOL`` = theory.CRITICAL_TOL = 1e-3): ``explodes`` when q* = inf
  (q unbounded, also the sub-geometric case on the ReLU critical line with b2 > 0); otherwise
  ``ordered`` chi1 < 1 - tol, ``critical`` |chi1 - 1| <= tol, ``chaotic`` chi1 > 1 + tol.
  For ``explodes`` c*, chi_c, xi_q and xi_c are NaN (no finite fixed point to linearise about).

Expectations use theory.normal_quadrature (Gauss-Legendre on each half-line, weighted by the normal
density); 2-D expectations its tensor product. Kinks on the slanted line u2 = 0 are not on the nodes:
for ReLU the 2-D rule is off by ~1e-6 at 96 points per half-line (1e-14 for smooth phi), which bounds
the accuracy of c* and chi_c for the kinked activations.
"""

from __future__ import annotations

import math

import numpy as np

from generator.engine.activations import get_activation
from generator.engine.theory import _Q_CHI_INF, _Q_GRID, _Q_TINY, CRITICAL_TOL, expect, normal_quadrature

__all__ = [
    "REGIMES",
    "CRITICAL_TOL",
    "variance_map",
    "q_fixed_point",
    "chi1",
    "qmap_slope",
    "correlation_map",
    "chi_c",
    "c_fixed_point",
    "depth_scale",
    "phase_point",
    "phase_grid",
    "critical_line",
    "sigma_w2_critical",
    "classify",
]

REGIMES = ("ordered", "critical", "chaotic", "explodes")
_FIXED_TOL = 1e-9  # |F(q)/q - 1| within this: q^1 is already the fixed point (rounding only)
_U_GRID = np.logspace(-9, math.log10(2.0), 200)  # 1 - c scanned for the chaotic fixed point c* < 1


def variance_map(activation, sigma_w2, sigma_b2, q, points=96):
    """F(q) = sigma_w^2 E[phi(sqrt(q) z)^2] + sigma_b^2 (q may be an array)."""
    act = get_activation(activation)
    return float(sigma_w2) * expect(lambda a: act.forward(a) ** 2, q, points) + float(sigma_b2)


def _bisect(f, a, b, fa, geometric, tol):
    """A root of f between a and b (f(a) = fa, sign change assumed), midpoint arithmetic or geometric."""
    for _ in range(200):
        m = math.sqrt(a * b) if geometric else 0.5 * (a + b)
        fm = f(m)
        if (fm > 0) == (fa > 0):
            a, fa = m, fm
        else:
            b = m
        if abs(b - a) <= tol * (abs(a) if geometric else 1.0):
            break
    return math.sqrt(a * b) if geometric else 0.5 * (a + b)


def q_fixed_point(activation, sigma_w2, sigma_b2, q0=1.0, points=96) -> float:
    """The limit q* of q^l from q^1 = sigma_w^2 q0 + sigma_b^2 (0, finite or inf; module doc)."""
    s2, b2 = float(sigma_w2), float(sigma_b2)
    q1 = s2 * float(q0) + b2

    def ratio(q):  # F(q)/q - 1, vectorised over q
        return variance_map(activation, s2, b2, q, points) / q - 1.0

    with np.errstate(all="ignore"):
        r1 = float(ratio(q1))
        if abs(r1) <= _FIXED_TOL:
            return q1
        grid = _Q_GRID[_Q_GRID < q1][::-1] if r1 < 0 else _Q_GRID[_Q_GRID > q1]
        flips = np.nonzero((ratio(grid) > 0) != (r1 > 0))[0]
        if flips.size == 0:
            return 0.0 if r1 < 0 else math.inf
        k = int(flips[0])
        a = q1 if k == 0 else float(grid[k - 1])
        return _bisect(lambda q: float(ratio(q)), a, float(grid[k]), float(ratio(a)), True, 1e-13)


def _q_eval(q_star: float) -> float:
    """Where chi-type expectations are taken for q* (theory's stand-ins for q* = 0 and q* = inf)."""
    return _Q_CHI_INF if math.isinf(q_star) else max(q_star, _Q_TINY)


def chi1(activation, sigma_w2, q_star, points=96) -> float:
    """chi1 = sigma_w^2 E[phi'(sqrt(q*) z)^2]."""
    d = get_activation(activation).derivative
    return float(sigma_w2) * float(expect(lambda a: d(a) ** 2, _q_eval(q_star), points))


def qmap_slope(activation, sigma_w2, q_star, points=96) -> float:
    """F'(q*) = sigma_w^2 E[phi'^2 + phi phi''] = sigma_w^2 E[phi(a) phi'(a) a] / q* (Price + Stein, module doc)."""
    act = get_activation(activation)
    q = _q_eval(q_star)
    return float(sigma_w2) * float(expect(lambda a: act.forward(a) * act.derivative(a) * a, q, points)) / q


def _pair_expect(f, g, q, c, points):
    """E[f(u1) g(u2)], u1 = sqrt(q) z1, u2 = sqrt(q)(c z1 + sqrt(1 - c^2) z2), by the tensor-product rule."""
    x, w = normal_quadrature(points)
    r = math.sqrt(q)
    s = math.sqrt(max(1.0 - c * c, 0.0))
    with np.errstate(all="ignore"):
        inner = g(r * (c * x[:, None] + s * x[None, :])) @ w  # over z2, one row per z1 node
        return float((f(r * x) * inner) @ w)


def correlation_map(activation, sigma_w2, sigma_b2, q_star, c, points=96) -> float:
    """C(c) = (sigma_w^2 E[phi(u1) phi(u2)] + sigma_b^2) / F(q*) (module doc); q* = 0 read as 1e-200."""
    act = get_activation(activation)
    q, s2, b2 = max(float(q_star), _Q_TINY), float(sigma_w2), float(sigma_b2)
    pair = _pair_expect(act.forward, act.forward, q, float(c), points)
    return (s2 * pair + b2) / (s2 * _pair_expect(act.forward, act.forward, q, 1.0, points) + b2)


def chi_c(activation, sigma_w2, q_star, c, points=96) -> float:
    """chi_c = sigma_w^2 E[phi'(u1) phi'(u2)] at correlation c (= chi1 at c = 1)."""
    if c >= 1.0:
        return chi1(activation, sigma_w2, q_star, points)
    d = get_activation(activation).derivative
    return float(sigma_w2) * _pair_expect(d, d, max(float(q_star), _Q_TINY), float(c), points)


def c_fixed_point(activation, sigma_w2, sigma_b2, q_star, chi_1, tol=CRITICAL_TOL, points=96) -> float:
    """Stable fixed point c* of the correlation map: 1 unless chi1 > 1 + tol, else the largest root < 1."""
    if chi_1 <= 1.0 + tol:
        return 1.0

    def gap(u):  # C(c) - c at c = 1 - u: negative just below 1 in the chaotic phase
        return correlation_map(activation, sigma_w2, sigma_b2, q_star, 1.0 - u, points) - (1.0 - u)

    prev, gprev = None, math.nan
    for u in _U_GRID:
        gu = gap(float(u))
        if gu >= 0.0:
            if prev is None:  # C(c) >= c already at 1 - 1e-9: c* indistinguishable from 1
                return 1.0
            return 1.0 - _bisect(gap, prev, float(u), gprev, False, 1e-15)
        prev, gprev = float(u), gu
    return -1.0  # C(-1) = -1 exactly (odd phi, sigma_b = 0): anti-correlated inputs stay so


def depth_scale(chi: float) -> float:
    """xi = -1 / ln chi: inf for chi >= 1, 0 for chi <= 0, NaN for NaN."""
    if math.isnan(chi):
        return math.nan
    if chi >= 1.0:
        return math.inf
    return 0.0 if chi <= 0.0 else -1.0 / math.log(chi)


def classify(q_star: float, chi_1: float, tol: float = CRITICAL_TOL) -> str:
    """explodes (q* = inf) / ordered / critical / chaotic (module doc)."""
    if math.isinf(q_star):
        return "explodes"
    if chi_1 < 1.0 - tol:
        return "ordered"
    return "critical" if chi_1 <= 1.0 + tol else "chaotic"


def phase_point(activation, sigma_w2, sigma_b2, q0=1.0, points=96) -> dict:
    """One (sigma_w^2, sigma_b^2) point: dict(q_star, c_star, chi1, chi_c, xi_q, xi_c, regime)."""
    q_star = q_fixed_point(activation, sigma_w2, sigma_b2, q0, points)
    x1 = chi1(activation, sigma_w2, q_star, points)
    regime = classify(q_star, x1)
    if regime == "explodes":
        c_star = xc = xi_q = xi_c = math.nan
    else:
        c_star = c_fixed_point(activation, sigma_w2, sigma_b2, q_star, x1, points=points)
        xc = chi_c(activation, sigma_w2, q_star, c_star, points)
        xi_q = depth_scale(qmap_slope(activation, sigma_w2, q_star, points))
        xi_c = depth_scale(xc)
    return {"q_star": q_star, "c_star": c_star, "chi1": x1, "chi_c": xc, "xi_q": xi_q, "xi_c": xi_c, "regime": regime}


def phase_grid(activation, sigma_w2s, sigma_b2s, q0=1.0, points=96) -> dict[str, np.ndarray]:
    """:func:`phase_point` over the product grid (sigma_w^2 outer, sigma_b^2 inner), as columns
    {sigma_w2, sigma_b2, q_star, c_star, chi1, chi_c, xi_q, xi_c, regime} (phase_theory.csv's order)."""
    rows = [
        {"sigma_w2": float(s2), "sigma_b2": float(b2), **phase_point(activation, s2, b2, q0, points)}
        for s2 in sigma_w2s
        for b2 in sigma_b2s
    ]
    keys = ("sigma_w2", "sigma_b2", "q_star", "c_star", "chi1", "chi_c", "xi_q", "xi_c", "regime")
    return {k: np.array([r[k] for r in rows], dtype=object if k == "regime" else float) for k in keys}


def critical_line(activation, q_stars=None, points=96) -> np.ndarray:
    """Rows (sigma_b2, sigma_w2_critical, q_star) of chi1 = 1 parametrised by q* (module doc), b2 >= 0 only.

    q_stars defaults to logspace(-6, 3, 181). Returns a float array of shape (n, 3), n possibly 0."""
    act = get_activation(activation)
    q = np.logspace(-6, 3, 181) if q_stars is None else np.asarray(q_stars, dtype=float)
    s2 = 1.0 / expect(lambda a: act.derivative(a) ** 2, q, points)
    b2 = q - s2 * expect(lambda a: act.forward(a) ** 2, q, points)
    keep = b2 >= 0.0
    return np.column_stack((b2[keep], s2[keep], q[keep]))


def sigma_w2_critical(activation, sigma_b2, q0=1.0, points=96, lo=1e-3, hi=1e4) -> float:
    """The sigma_w^2 with chi1(sigma_w^2, sigma_b^2) = 1 (bisection in log sigma_w^2 over [lo, hi], chi1 at
    the q* of :func:`q_fixed_point`); NaN when chi1 - 1 does not change sign over [lo, hi]."""

    def excess(s2):
        return chi1(activation, s2, q_fixed_point(activation, s2, sigma_b2, q0, points), points) - 1.0

    e_lo = excess(lo)
    if (e_lo > 0) == (excess(hi) > 0):
        return math.nan
    return _bisect(excess, lo, hi, e_lo, True, 1e-12)
