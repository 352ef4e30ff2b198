"""Mean-field theory: quadrature, sigma_w^2 per init, recursion values, fixed points and regimes."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from generator.engine.theory import expect, fixed_point, mean_field, sigma_w2


def _quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return fn(*args, **kw)


def test_quadrature_moments():
    assert expect(lambda z: np.ones_like(z)) == pytest.approx(1.0, rel=1e-14)
    assert expect(lambda z: z) == pytest.approx(0.0, abs=1e-14)
    assert expect(lambda z: z**2) == pytest.approx(1.0, rel=1e-13)
    assert expect(lambda z: z**4) == pytest.approx(3.0, rel=1e-13)
    assert expect(lambda z: z**2, q=2.5) == pytest.approx(2.5, rel=1e-13)  # E[(sqrt(q) z)^2] = q
    assert expect(np.cos) == pytest.approx(math.exp(-0.5), rel=1e-12)  # E[cos z] = e^{-1/2}
    assert expect(np.abs) == pytest.approx(math.sqrt(2 / math.pi), rel=1e-12)  # kink at 0: still exact
    # a saturating function at large q (tanh at sqrt(500) z): E[tanh^2] = 1 - E[tanh'] ; compare with
    # an independent fine Riemann sum
    z = np.linspace(-12, 12, 2_400_001)
    dens = np.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    riemann = float(np.sum(np.tanh(math.sqrt(500) * z) ** 2 * dens) * (z[1] - z[0]))
    assert expect(lambda a: np.tanh(a) ** 2, q=500.0) == pytest.approx(riemann, rel=1e-7)


def test_sigma_w2_per_init():
    assert sigma_w2("he", "relu", 500, 500) == pytest.approx(2.0)
    assert sigma_w2("xavier", "tanh", 300, 700) == pytest.approx(1.0)
    assert sigma_w2("glorot_normal", "tanh", 300, 700) == pytest.approx(300 * 2 / 1000)
    assert sigma_w2("large", "tanh", 500, 500) == pytest.approx(500.0)
    assert sigma_w2("small", "tanh", 500, 500) == pytest.approx(500 * 1e-4)
    assert sigma_w2("orthogonal", "relu", 500, 500) == pytest.approx(2.0)  # relu gain^2
    assert sigma_w2("orthogonal", "tanh", 500, 500) == pytest.approx(25 / 9)
    assert sigma_w2("zeros", "tanh", 500, 500) is None
    with pytest.raises(ValueError):
        sigma_w2("nope", "tanh", 5, 5)


def test_relu_layer1_theory_matches_closed_form():
    df = pd.DataFrame(_quiet(mean_field, "relu", 2.0, 3, q0=1.3))
    q1 = 2.0 * 1.3
    assert df["q"].iloc[0] == pytest.approx(q1)
    assert df["theory_mean"].iloc[0] == pytest.approx(math.sqrt(q1 / (2 * math.pi)), rel=1e-12)
    assert df["theory_std"].iloc[0] == pytest.approx(math.sqrt(q1 * (0.5 - 1 / (2 * math.pi))), rel=1e-12)
    # He-ReLU: q stays at 2 q0 (E[relu(a)^2] = q/2 exactly, polynomial on each half-line)
    np.testing.assert_allclose(df["q"], q1, rtol=1e-12)


def test_linear_recursion_is_geometric():
    df = pd.DataFrame(_quiet(mean_field, "linear", 1.5, 6))
    np.testing.assert_allclose(df["q"], 1.5 ** np.arange(1, 7), rtol=1e-12)
    np.testing.assert_allclose(df["theory_std"], np.sqrt(df["q"]), rtol=1e-12)
    assert list(df.columns) == ["layer", "q", "chi", "theory_mean", "theory_std"]
    np.testing.assert_allclose(df["chi"], 1.5, rtol=1e-12)  # phi' = 1: chi = sigma_w^2 at every q
    assert df["layer"].tolist() == [1, 2, 3, 4, 5, 6]


def test_tanh_sigma1_flows_to_zero():
    fp = _quiet(fixed_point, "tanh", 1.0)
    assert fp["q_star"] == 0.0
    assert fp["chi1"] == pytest.approx(1.0, rel=1e-9)  # sigma_w^2 * tanh'(0)^2
    assert fp["regime"] == "critical"
    fp = _quiet(fixed_point, "tanh", 0.5)
    assert (fp["q_star"], fp["regime"]) == (0.0, "ordered") and fp["chi1"] == pytest.approx(0.5)


def test_tanh_chaotic_fixed_point_is_a_fixed_point():
    fp = _quiet(fixed_point, "tanh", 2.0)
    q = 1.0
    for _ in range(2000):  # plain iteration converges here (|F'(q*)| < 1)
        q = 2.0 * expect(lambda a: np.tanh(a) ** 2, q)
    assert fp["q_star"] == pytest.approx(q, rel=1e-9)
    assert fp["chi1"] > 1 and fp["regime"] == "chaotic"


def test_relu_regimes():
    fp = _quiet(fixed_point, "relu", 2.0)
    assert fp["chi1"] == pytest.approx(1.0, abs=1e-12) and fp["regime"] == "marginal"
    assert fp["q_star"] == 2.0 and not fp["fixed_point_stable"]  # F(q) = q: q^1 = 2 stays, neutrally
    fp = _quiet(fixed_point, "relu", 3.0)
    assert fp["q_star"] == math.inf and fp["regime"] == "explodes"
    fp = _quiet(fixed_point, "relu", 1.0)
    assert fp["q_star"] == 0.0 and fp["regime"] == "ordered"
    assert fp["chi1"] == pytest.approx(0.5)  # one-sided limit: E[relu'(z)^2] = 1/2


def test_linear_explodes_above_one():
    assert _quiet(fixed_point, "linear", 1.2)["regime"] == "explodes"
    assert _quiet(fixed_point, "linear", 1.0)["regime"] == "marginal"


def test_divergent_recursion_is_quiet():
    df = pd.DataFrame(_quiet(mean_field, "relu", 200.0, 300))
    assert math.isinf(df["q"].iloc[-1]) and df["theory_std"].isna().iloc[-1]
    assert df["q"].iloc[0] == 200.0
