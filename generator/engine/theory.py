"""Mean-field signal propagation (Poole et al. 2016; Schoenholz et al. 2017) by Gaussian quadrature.

Contract
--------
For a bias-free MLP with i.i.d. zero-mean weights of variance sigma_w^2 / fan_in and inputs with
second moment q0, pre-activations at layer l are (in the wide limit) N(0, q^l) with

    q^1 = sigma_w^2 * q0,        q^l = sigma_w^2 * E_z[phi(sqrt(q^{l-1}) z)^2],   z ~ N(0, 1).

Expectations over z ~ N(0, 1) use :func:`normal_quadrature`: Gauss-Legendre with ``points`` nodes on each
half-line [0, 12] and [-12, 0], weighted by the normal density. Why not Gauss-Hermite (``hermegauss``):
a Hermite rule assumes f smooth on the whole line, but ReLU, leaky ReLU, ELU and SELU have a kink at 0
and saturating functions at large q vary on a scale much finer than the node spacing. Measured against
adaptive quadrature, 96-point ``hermegauss`` is off by 4.3e-3 for E[relu(z)], 2.8e-2 for E[tanh(sqrt(50) z)^2]
and 6.8e-4 for E[elu(sqrt(50) z)], while the split rule is within 1e-14 for every activation at
q in {0.01, 1, 50}. Splitting at 0 puts the kink on an endpoint; truncating at 12 drops < 1e-30 of mass.
Functions here describe ``norm="none"`` networks.

* :func:`sigma_w2` -- fan_in * Var(W) from the init's record (an init that ``uses_gain``, i.e.
  orthogonal: the activation's gain^2, as propagation scales it; Var(W) = 0, i.e. zeros: None, the
  recursion is degenerate).
* :func:`chi` -- chi(q) = sigma_w^2 E[phi'(sqrt(q) z)^2], the per-layer multiplier of the squared
  backpropagated gradient at a layer whose pre-activations have variance q (the gradient std changes by
  sqrt(chi) per layer).
* :func:`mean_field` -- per-layer q, chi(q^l) and the predicted mean / std of the layer OUTPUT phi(A_l).
* :func:`fixed_point` -- where the recursion started at q^1 = sigma_w^2 q0 goes, and its regime;
  :func:`slope` -- F'(q).
* :func:`bn_gradient_factor` -- the per-layer gradient-std factor with BN (Linear -> BN -> phi), whose
  variance map is not this recursion: sqrt(E[phi'(z)^2] / Var[phi(z)]) (ReLU: sqrt(pi / (pi - 1))).

Regimes from the dynamics (:func:`fixed_point`)
-----------------------------------------------
Write F(q) = sigma_w^2 E[phi(sqrt(q) z)^2], so q^{l+1} = F(q^l). F is increasing in q for every
activation here (tests/test_theory.py checks it on a grid), so the sequence from q^1 is monotone and goes
to the first fixed point in the direction of F(q^1) - q^1, or to 0 / infinity when there is none. That
limit q* is found exactly by a scan of F(q)/q - 1 on a log grid 1e-12..1e12 starting at q^1 (crossings
refined by bisection in log q): the same limit as iterating forever, without the algebraic (~1/l)
convergence at critical points that a finite iteration would misread.

* ``q_star``: the limit (0, finite, or inf); q* = q^1 when |F(q^1)/q^1 - 1| <= 1e-9 (e.g. He-ReLU,
  F(q) = q, where every q is a fixed point).
* ``growth`` = lim q^{l+1}/q^l = lim_{q -> q*} F(q)/q: F'(0) when q* = 0, 1 when q* is finite and
  positive, F(q)/q at q = 1e24 when q* = inf (ReLU family: sigma_w^2 (1 + alpha^2) / 2 at every q).
* ``dfdq`` = F'(q*) = sigma_w^2 E[phi(sqrt(q*) z) phi'(sqrt(q*) z) z] / sqrt(q*) (= growth at q* = 0;
  NaN when q* = inf); ``fixed_point_stable``: q* finite and perturbations of q decay, i.e.
  |F'(q*)| < 1 - 1e-9, or |F'(q*) - 1| <= 1e-9 and the sequence moves strictly towards q* (one-sided,
  algebraic attraction: tanh at sigma_w^2 = 1). A neutral map (F'(q*) = 1 with q^1 = q*, e.g. He-ReLU)
  is not stable: a perturbation of q neither decays nor grows.
* ``chi1`` = chi(q*): at q = 1e-200 for q* = 0 (= sigma_w^2 phi'(0)^2 for smooth phi, the one-sided limit
  at kinks: ReLU 1/2, not 0) and at q = 1e12 for q* = inf. Also F'(0) = chi(0), so chi1 = growth at q* = 0.

Classes (``REGIMES``, tolerance ``CRITICAL_TOL``), in this order:

1. ``explodes``: q* = inf with growth > 1 + tol (q grows geometrically);
2. ``marginal``: |growth - 1| <= tol and no stable fixed point (q* = inf with sub-geometric growth, e.g.
   He-ELU q^l ~ l or He-leaky ReLU growth 1.0001; or a neutral q*, e.g. He-ReLU);
3. ``ordered``: stable q* with chi1 < 1 - tol (this includes q -> 0 geometrically: q* = 0, chi1 = growth < 1);
4. ``critical``: stable q* with |chi1 - 1| <= tol;
5. ``chaotic``: stable q* with chi1 > 1 + tol.

With sigma_b = 0 the ReLU family has F(q) = sigma_w^2 (1 + alpha^2) / 2 * q, so q* is 0, inf or (at
growth 1) neutral: "ordered" there only means the scale vanishes and "explodes" that it grows; the
correlation map of these networks has no order-to-chaos transition without a bias.
No RuntimeWarning is emitted for q -> 0 or q -> inf.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from generator.engine.activations import get_activation
from generator.engine.inits import get_init, weight_variance

__all__ = [
    "normal_quadrature",
    "expect",
    "sigma_w2",
    "chi",
    "slope",
    "mean_field",
    "fixed_point",
    "classify",
    "bn_gradient_factor",
    "REGIMES",
    "CRITICAL_TOL",
]

REGIMES = ("ordered", "critical", "marginal", "chaotic", "explodes")
CRITICAL_TOL = 1e-3  # |growth - 1| or |chi1 - 1| within this counts as 1 (module doc)
_FIXED_TOL = 1e-9  # |F(q)/q - 1| and |F'(q*) - 1| within this are exact equalities (rounding only)
_Q_TINY = 1e-200  # stands in for q* = 0: one-sided limits at kinks (ReLU chi: 1/2, not 0), no underflow
_Q_HUGE = 1e24  # stands in for q* = inf in the growth factor F(q)/q
_Q_CHI_INF = 1e12  # stands in for q* = inf in chi1 (the scan grid's end, as before)
_Q_GRID = np.logspace(-12, 12, 241)  # where the map q -> F(q) is scanned for fixed points


_HALF_LINE = 12.0


@functools.lru_cache(maxsize=16)
def normal_quadrature(points: int = 96):
    """Nodes x (2*points) and weights w with E[f(z)] ~= w @ f(x) for z ~ N(0, 1) (see module doc)."""
    t, v = np.polynomial.legendre.leggauss(int(points))
    z = (t + 1.0) * (_HALF_LINE / 2.0)
    w = v * (_HALF_LINE / 2.0) * np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    return np.concatenate((-z[::-1], z)), np.concatenate((w[::-1], w))


def expect(f, q=1.0, points: int = 96):
    """E_z[f(sqrt(q) z)], z ~ N(0, 1); ``q`` may be an array (one expectation per entry)."""
    x, w = normal_quadrature(points)
    q = np.asarray(q, dtype=float)
    with np.errstate(all="ignore"):  # q = inf gives inf nodes; the caller decides what that means
        return f(np.sqrt(q)[..., None] * x) @ w


def sigma_w2(init, activation, fan_in, fan_out):
    """sigma_w^2 = fan_in * Var(W_ij) for ``init`` (an init that ``uses_gain``, i.e. orthogonal, scaled
    by the activation's gain); None when Var(W) = 0, i.e. ``zeros`` (no signal: the mean-field
    recursion is not defined)."""
    gain = get_activation(activation).gain if get_init(init).uses_gain else 1.0
    var = weight_variance(init, fan_in, fan_out, gain)
    if var == 0.0:
        return None
    return fan_in * var


def mean_field(activation, sigma_w2, depth, q0=1.0, points=96) -> dict[str, np.ndarray]:
    """Per-layer mean-field predictions for ``depth`` layers.

    Inputs: activation (ACTIVATIONS key), sigma_w2 (float), depth (int), q0 = E[x^2] of the input,
    points (quadrature nodes per half-line).
    Returns columns ``{layer, q, chi, theory_mean, theory_std}`` as arrays of length depth: q = pre-activation
    variance of layer l, chi = chi(q^l) (:func:`chi`; NaN once q is not finite), theory_mean = E[phi(sqrt(q) z)],
    theory_std = sqrt(E[phi^2] - E[phi]^2) of the layer output.
    """
    act = get_activation(activation)
    x, w = normal_quadrature(points)
    rows, q = [], float(sigma_w2) * float(q0)
    with np.errstate(all="ignore"):
        for layer in range(1, int(depth) + 1):
            # one evaluation of phi and phi' at the nodes per layer (the same sums as expect() and chi())
            phi = act.forward(math.sqrt(q) * x)
            m1, m2 = float(phi @ w), float((phi * phi) @ w)
            var = m2 - m1 * m1
            std = math.sqrt(max(var, 0.0)) if math.isfinite(var) else math.nan
            d = act.derivative(math.sqrt(max(q, _Q_TINY)) * x) if math.isfinite(q) else None
            c = float(sigma_w2) * float((d * d) @ w) if d is not None else math.nan
            rows.append((layer, q, c if math.isfinite(c) else math.nan, m1 if math.isfinite(m1) else math.nan, std))
            q = float(sigma_w2) * m2
    cols = np.array(rows, dtype=float).reshape(-1, 5).T
    return {
        "layer": np.arange(1, int(depth) + 1),
        "q": cols[1],
        "chi": cols[2],
        "theory_mean": cols[3],
        "theory_std": cols[4],
    }


def chi(activation, sigma_w2, q, points=96):
    """chi(q) = sigma_w^2 E[phi'(sqrt(q) z)^2] (q may be an array; q = 0 is taken as 1e-200, the one-sided
    limit at a kink). Backward through a layer with pre-activation variance q multiplies the gradient's
    second moment by chi(q) (wide limit, square layers), so its std by sqrt(chi(q))."""
    d = get_activation(activation).derivative
    q = np.maximum(np.asarray(q, dtype=float), _Q_TINY)
    out = float(sigma_w2) * expect(lambda a: d(a) ** 2, q, points)
    return float(out) if np.ndim(out) == 0 else out


def slope(activation, sigma_w2, q, points=96) -> float:
    """F'(q) for F(q) = sigma_w^2 E[phi(sqrt(q) z)^2], q > 0: differentiating under the expectation,
    F'(q) = sigma_w^2 E[phi(a) phi'(a) z] / sqrt(q) with a = sqrt(q) z, i.e. sigma_w^2 E[phi(a) phi'(a) a] / q."""
    act = get_activation(activation)
    return float(sigma_w2) * float(expect(lambda a: act.forward(a) * act.derivative(a) * a, q, points)) / float(q)


def bn_gradient_factor(activation, points=96) -> float:
    """Per-layer factor of the gradient std through Linear -> BN -> phi (wide layers, large batch).

    BN divides A = H W by its batch std, sqrt(sigma_w^2 Var[phi(z)]) (BN removes the batch mean, so only
    the centred part of the previous output phi(z), z ~ N(0, 1), counts), and the backward pass multiplies
    the squared gradient by sigma_w^2 E[phi'(z)^2] / (that variance) -- sigma_w^2 cancels, so the factor is
    sqrt(E[phi'(z)^2] / Var[phi(z)]) for every init. ReLU: sqrt((1/2) / (1/2 - 1/(2 pi))) = sqrt(pi / (pi - 1)),
    the gradient explosion of Yang et al. (2019). The projections BN's backward pass subtracts are O(1/batch)."""
    act = get_activation(activation)
    m1 = float(expect(act.forward, 1.0, points))
    m2 = float(expect(lambda a: act.forward(a) ** 2, 1.0, points))
    d2 = float(expect(lambda a: act.derivative(a) ** 2, 1.0, points))
    return math.sqrt(d2 / (m2 - m1 * m1))


def _second_moment(act, q, points):
    return expect(lambda a: act.forward(a) ** 2, q, points)


def fixed_point(activation, sigma_w2, q0=1.0, points=96) -> dict:
    """Limit of q^l from q^1 = sigma_w^2 q0, its stability, growth factor and regime (module doc, every rule).

    Returns dict(q1, q_star, chi1, dfdq, growth, fixed_point_stable, regime).
    """
    act = get_activation(activation)
    s2 = float(sigma_w2)
    q1 = s2 * float(q0)

    def ratio(q):  # F(q)/q - 1, vectorised over q
        return s2 * _second_moment(act, q, points) / q - 1.0

    def crossing(a, b):  # bisection in log q on a sign change of ratio between a and b
        ra = ratio(a)
        for _ in range(200):
            m = math.sqrt(a * b)
            rm = ratio(m)
            if (rm > 0) == (ra > 0):
                a, ra = m, rm
            else:
                b = m
            if abs(b / a - 1.0) < 1e-13:  # a may lie above or below b
                break
        return math.sqrt(a * b)

    with np.errstate(all="ignore"):
        r1 = float(ratio(q1))
        if abs(r1) <= _FIXED_TOL:
            q_star = q1
        else:
            grid = _Q_GRID[_Q_GRID < q1][::-1] if r1 < 0 else _Q_GRID[_Q_GRID > q1]
            r = ratio(grid)
            flips = np.nonzero((r > 0) != (r1 > 0))[0]
            if flips.size == 0:
                q_star = 0.0 if r1 < 0 else math.inf
            else:
                k = flips[0]
                q_star = crossing(q1 if k == 0 else float(grid[k - 1]), float(grid[k]))
        if math.isinf(q_star):
            growth, dfdq = s2 * float(_second_moment(act, _Q_HUGE, points)) / _Q_HUGE, math.nan
        elif q_star == 0.0:
            growth = dfdq = s2 * float(_second_moment(act, _Q_TINY, points)) / _Q_TINY
        else:
            growth, dfdq = 1.0, slope(activation, s2, q_star, points)
    chi1 = chi(activation, s2, _Q_CHI_INF if math.isinf(q_star) else q_star, points)
    stable = bool(
        math.isfinite(q_star)
        and (abs(dfdq) < 1.0 - _FIXED_TOL or (abs(dfdq - 1.0) <= _FIXED_TOL and abs(r1) > _FIXED_TOL))
    )
    return {
        "q1": q1,
        "q_star": q_star,
        "chi1": chi1,
        "dfdq": dfdq,
        "growth": growth,
        "fixed_point_stable": stable,
        "regime": classify(growth, chi1, stable, q_star),
    }


def classify(growth: float, chi1: float, stable: bool, q_star: float, tol: float = CRITICAL_TOL) -> str:
    """The regime from the asymptotics (module doc, rules 1-5, in that order)."""
    if math.isinf(q_star) and growth > 1.0 + tol:
        return "explodes"
    if not stable:
        return "marginal" if abs(growth - 1.0) <= tol else "explodes" if growth > 1.0 else "ordered"
    if chi1 < 1.0 - tol:
        return "ordered"
    return "critical" if chi1 <= 1.0 + tol else "chaotic"
