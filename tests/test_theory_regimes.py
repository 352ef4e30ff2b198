"""Regimes from the asymptotics, the trajectory gradient prediction and the BN gradient factor, against
closed forms (generator/engine/theory.py, generator/pages/gradients.py)."""

import math

import numpy as np
import pytest

from generator.engine import theory
from generator.engine.activations import LEAKY_SLOPE, get_activation
from generator.pages.gradients import trajectory_factor

ALL_ACTS = ("linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "gelu")


@pytest.mark.parametrize("act, alpha2", [("relu", 0.0), ("leaky_relu", LEAKY_SLOPE**2), ("linear", 1.0)])
@pytest.mark.parametrize("s2", [0.5, 1.0, 1.9, 2.0, 2.5, 7.0])
def test_relu_family_growth_is_closed_form(act, alpha2, s2):
    """F(q) = sigma_w^2 (1 + alpha^2) / 2 * q exactly (linear: sigma_w^2 q), so growth is that factor
    unless it is exactly 1 (then q stays at q^1 and the map is neutral: marginal)."""
    fp = theory.fixed_point(act, s2)
    g = s2 * (1 + alpha2) / 2 if act != "linear" else s2
    if abs(g - 1) <= 1e-9:
        assert fp["regime"] == "marginal" and fp["q_star"] == pytest.approx(s2) and not fp["fixed_point_stable"]
        return
    assert fp["growth"] == pytest.approx(g, rel=1e-12)
    expected = "explodes" if g > 1 + theory.CRITICAL_TOL else "ordered" if g < 1 - theory.CRITICAL_TOL else "marginal"
    if g < 1:  # q -> 0 geometrically; the fixed point 0 attracts with F'(0) = growth
        assert fp["q_star"] == 0.0 and fp["dfdq"] == pytest.approx(g, rel=1e-12)
        expected = "ordered" if g < 1 - theory.CRITICAL_TOL else "critical"
    assert fp["regime"] == expected


def test_he_relu_marginal_and_he_leaky_relu_marginal():
    s2 = theory.sigma_w2("he", "relu", 500, 500)
    assert theory.fixed_point("relu", s2)["regime"] == "marginal"
    fp = theory.fixed_point("leaky_relu", theory.sigma_w2("he", "leaky_relu", 500, 500))
    assert fp["growth"] == pytest.approx(1 + LEAKY_SLOPE**2, rel=1e-12)  # 1.0001: inside the band
    assert fp["regime"] in ("marginal", "critical") and fp["q_star"] == math.inf


def test_he_elu_grows_linearly_marginal():
    s2 = theory.sigma_w2("he", "elu", 500, 500)
    fp = theory.fixed_point("elu", s2)
    assert fp["regime"] == "marginal" and fp["q_star"] == math.inf
    # q^l grows linearly: second differences of q vanish relative to q, first differences tend to a constant
    q = theory.mean_field("elu", s2, 400)["q"]
    d = np.diff(q)
    assert abs(d[-1] / d[-50] - 1) < 0.02 and q[-1] / q[-2] < 1 + 5 / 400


def test_orthogonal_gelu_explodes_from_an_unstable_fixed_point():
    s2 = theory.sigma_w2("orthogonal", "gelu", 500, 500)
    f = get_activation("gelu").forward
    assert s2 * theory.expect(lambda a: f(a) ** 2, 1.0) == pytest.approx(1.0, rel=1e-6)  # gain: F(1) = 1
    assert theory.slope("gelu", s2, 1.0) > 1.0  # ... but that fixed point repels
    fp = theory.fixed_point("gelu", s2)
    assert fp["regime"] == "explodes" and fp["q_star"] == math.inf and not fp["fixed_point_stable"]
    assert fp["growth"] == pytest.approx(s2 / 2, rel=1e-9)  # GELU ~ ReLU for large q
    q = theory.mean_field("gelu", s2, 200)["q"]  # the iteration itself diverges from q^1 = sigma_w^2
    assert q[-1] > 1e6 * q[0] and q[-1] / q[-2] == pytest.approx(s2 / 2, rel=1e-3)


def test_tanh_xavier_is_critical_and_small_is_ordered():
    fp = theory.fixed_point("tanh", 1.0)  # q^l ~ 1/l -> 0 with F'(0) = chi_1 = 1: one-sided attraction
    assert fp["q_star"] == 0.0 and fp["fixed_point_stable"] and fp["regime"] == "critical"
    q = theory.mean_field("tanh", 1.0, 3000)["q"]
    # E[tanh(sqrt(q) z)^2] = q - 2 q^2 + O(q^3), so q^{l+1} = q^l - 2 (q^l)^2 and q^l ~ 1/(2l): algebraic
    assert q[-1] < q[0] / 100 and q[-1] * 3000 == pytest.approx(0.5, rel=0.01)
    assert theory.fixed_point("tanh", 0.5)["regime"] == "ordered"
    fp = theory.fixed_point("tanh", 2.0)
    assert fp["regime"] == "chaotic" and fp["fixed_point_stable"] and 0 < fp["dfdq"] < 1


@pytest.mark.parametrize("act", ALL_ACTS)
def test_variance_map_is_increasing(act):
    """The module's shortcut (limit = first fixed point in the direction of motion) needs F increasing."""
    q = np.logspace(-8, 8, 400)
    m2 = theory.expect(lambda a: get_activation(act).forward(a) ** 2, q)
    d = np.diff(m2)
    assert np.all(d >= -1e-15 * m2[1:])  # non-decreasing (tanh / sigmoid saturate to exactly 1 in float)
    assert np.all(d[q[1:] < 1] > 0)  # and strictly increasing where the activation does not saturate


@pytest.mark.parametrize("act", ALL_ACTS)
@pytest.mark.parametrize("s2", [0.3, 1.0, 1.7, 2.0, 3.0])
def test_fixed_point_matches_direct_iteration(act, s2):
    """The located limit agrees with iterating the map (where iteration converges geometrically)."""
    fp = theory.fixed_point(act, s2)
    q = s2
    with np.errstate(all="ignore"):
        for _ in range(3000):
            q = s2 * float(theory.expect(lambda a: get_activation(act).forward(a) ** 2, q))
            if not 1e-250 < q < 1e250:
                break
    if fp["q_star"] == math.inf:
        assert q > 1e3 * s2 or fp["regime"] == "marginal"
    elif fp["q_star"] == 0.0:
        assert q < 1e-3 * s2 or fp["regime"] == "critical"  # critical: algebraic, ~1/l
    elif fp["fixed_point_stable"] and fp["dfdq"] < 0.99:
        assert q == pytest.approx(fp["q_star"], rel=1e-8)


def test_slope_matches_centred_difference():
    for act in ALL_ACTS:
        for q in (0.3, 1.0, 4.0):
            h = 1e-5 * q
            F = lambda x, act=act: 1.7 * float(theory.expect(lambda a: get_activation(act).forward(a) ** 2, x))  # noqa: E731
            assert theory.slope(act, 1.7, q) == pytest.approx((F(q + h) - F(q - h)) / (2 * h), rel=1e-6, abs=1e-9)


def test_trajectory_prediction_equals_direct_iteration():
    """prod sqrt(chi(q^l)) over layers 2..L from mean_field equals iterating q and chi by hand (ReLU at
    sigma_w^2 = 1: q^l = 2^-(l-1), chi = 1/2 at every layer, so the factor is sqrt(1/2))."""
    mf = theory.mean_field("relu", 1.0, 6)
    assert trajectory_factor(mf["chi"]) == pytest.approx(math.sqrt(0.5), rel=1e-12)
    s2, L = 2.5, 7
    mf = theory.mean_field("tanh", s2, L)
    q, chis = s2, []
    for _ in range(L):
        chis.append(s2 * float(theory.expect(lambda a: (1 - np.tanh(a) ** 2) ** 2, q)))
        q = s2 * float(theory.expect(lambda a: np.tanh(a) ** 2, q))
    direct = math.prod(math.sqrt(c) for c in chis[1:]) ** (1 / (L - 1))
    assert trajectory_factor(mf["chi"]) == pytest.approx(direct, rel=1e-12)
    assert math.isnan(trajectory_factor([1.0])) and math.isnan(trajectory_factor([1.0, math.nan]))


def test_bn_relu_gradient_factor_closed_form_and_monte_carlo():
    assert theory.bn_gradient_factor("relu") == pytest.approx(math.sqrt(math.pi / (math.pi - 1)), rel=1e-12)
    assert theory.bn_gradient_factor("linear") == pytest.approx(1.0, rel=1e-12)
    # Monte Carlo of the same expectation for tanh (independent of the quadrature)
    z = np.random.default_rng(0).standard_normal(2_000_000)
    t = np.tanh(z)
    mc = math.sqrt(np.mean((1 - t * t) ** 2) / np.var(t))
    assert theory.bn_gradient_factor("tanh") == pytest.approx(mc, rel=2e-3)
    # Poincare: > 1 for every nonlinear activation
    assert all(theory.bn_gradient_factor(a) > 1 for a in ALL_ACTS if a != "linear")


def test_bn_relu_gradient_factor_in_a_network():
    """A wide Linear -> BN -> ReLU stack backpropagates the gradient std by ~sqrt(pi/(pi-1)) per layer."""
    rng = np.random.default_rng(1)
    n, width, depth = 2000, 400, 6
    x = rng.standard_normal((n, width))
    Ws, cache = [], []
    for _ in range(depth):
        W = rng.standard_normal((width, width)) * math.sqrt(2.0 / width)
        a = x @ W
        mu, sd = a.mean(0), a.std(0)
        ah = (a - mu) / sd
        Ws.append(W)
        cache.append((ah, sd))
        x = np.maximum(ah, 0)
    g = rng.standard_normal(x.shape) / n
    stds = [g.std()]
    for W, (ah, sd) in zip(Ws[::-1], cache[::-1]):
        gh = g * (ah > 0)
        ga = (gh - gh.mean(0) - ah * (gh * ah).mean(0)) / sd  # BN backward (train mode)
        g = ga @ W.T
        stds.append(g.std())
    factor = (stds[-2] / stds[0]) ** (1 / (depth - 1))
    assert factor == pytest.approx(theory.bn_gradient_factor("relu"), rel=0.02)
