"""Activations: derivatives by centred differences, overflow safety, gains, saturation rule."""

import dataclasses
import math
import warnings

import numpy as np
import pytest

from generator.engine.activations import ACTIVATIONS, get_activation, matched_pairs, register, second_moment_gain
from generator.engine.inits import INITS
from gradcheck import rel_error

NAMES = list(ACTIVATIONS)  # every registered activation, also one added later
PUBLISHED = ["linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "gelu"]


def _points(name):
    x = np.random.default_rng(0).uniform(-5, 5, 400)
    for k in ACTIVATIONS[name].kinks:
        x = x[np.abs(x - k) > 0.1]  # centred differences straddling a kink are meaningless
    if name == "gelu":
        x = x[np.abs(x + 0.7518) > 0.05]  # GELU' crosses 0 there; relative error is ill-conditioned
    return x


def test_registry():
    # the published site's order comes first; an activation added by the recipe is appended after it
    assert NAMES[: len(PUBLISHED)] == PUBLISHED
    assert all(a.name == n and a.matched_init in INITS for n, a in ACTIVATIONS.items())
    with pytest.raises(ValueError, match="already registered"):
        register(ACTIVATIONS["relu"])
    with pytest.raises(ValueError, match="matched_init 'lecun'"):
        register(dataclasses.replace(ACTIVATIONS["relu"], name="relu2", matched_init="lecun"))
    assert "relu2" not in ACTIVATIONS
    with pytest.raises(ValueError) as err:
        get_activation("swish")
    assert all(n in str(err.value) for n in NAMES)
    assert get_activation(ACTIVATIONS["tanh"]) is ACTIVATIONS["tanh"]


@pytest.mark.parametrize("name", NAMES)
def test_derivative_matches_centred_differences(name):
    act, x, h = ACTIVATIONS[name], _points(name), 1e-5
    numeric = (act.forward(x + h) - act.forward(x - h)) / (2 * h)
    assert rel_error(numeric, act.derivative(x)) < 1e-6


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_no_warnings_for_extreme_inputs_and_dtype_kept(name, dtype):
    big = np.finfo(dtype).max
    x = np.array([-np.inf, -big, -1e30, -50, -1, 0, 1, 50, 1e30, big, np.inf], dtype=dtype)
    act = ACTIVATIONS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y, d, s = act.forward(x), act.derivative(x), act.saturated(x)
        buf, dbuf = x.copy(), x.copy()
        act.forward(buf, out=buf)  # in place must give the same answer
        act.derivative(dbuf, out=dbuf)
    assert y.dtype == dtype and d.dtype == dtype and s.dtype == bool
    np.testing.assert_array_equal(buf, y)
    np.testing.assert_array_equal(dbuf, d)
    assert not np.isnan(y).any() and not np.isnan(d).any()


def test_extreme_values_are_right():
    a = ACTIVATIONS
    x = np.array([-np.inf, -1e300, 1e300, np.inf])
    np.testing.assert_array_equal(a["sigmoid"].forward(x), [0, 0, 1, 1])
    np.testing.assert_array_equal(a["tanh"].forward(x), [-1, -1, 1, 1])
    np.testing.assert_array_equal(a["gelu"].forward(x)[2:], [1e300, np.inf])
    assert np.all(np.abs(a["gelu"].forward(x[:2])) < 1e-30)
    np.testing.assert_array_equal(a["elu"].forward(x), [-1, -1, 1e300, np.inf])
    np.testing.assert_allclose(a["selu"].forward(x[:2]), -1.0507009873554805 * 1.6732632423543772)
    assert a["sigmoid"].forward(np.array([-40.0]))[0] == pytest.approx(math.exp(-40), rel=1e-12)


def test_known_values():
    x = np.array([-2.0, -0.5, 0.5, 2.0])
    a = ACTIVATIONS
    np.testing.assert_allclose(a["sigmoid"].forward(x), 1 / (1 + np.exp(-x)), rtol=1e-15)
    np.testing.assert_allclose(a["leaky_relu"].forward(x), np.where(x > 0, x, 0.01 * x))
    np.testing.assert_allclose(a["elu"].forward(x), np.where(x > 0, x, np.exp(x) - 1), rtol=1e-15)
    np.testing.assert_allclose(
        a["selu"].forward(x), 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x))
    )


def test_gelu_tanh_form_is_close_to_exact_erf_form():
    x = np.linspace(-6, 6, 2001)
    exact = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x])
    assert np.max(np.abs(ACTIVATIONS["gelu"].forward(x) - exact)) < 1e-3


def test_pytorch_gains():
    g = {n: a.gain for n, a in ACTIVATIONS.items()}
    assert g["linear"] == g["sigmoid"] == 1.0
    assert g["tanh"] == pytest.approx(5 / 3)
    assert g["relu"] == pytest.approx(math.sqrt(2))
    assert g["leaky_relu"] == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert g["selu"] == 0.75


@pytest.mark.parametrize("name", ["elu", "gelu", "relu"])
def test_second_moment_gain_rule(name):
    # g^2 E[phi(z)^2] = 1, checked with an independent Gauss-Hermite rule (relu: reproduces sqrt 2).
    x, w = np.polynomial.hermite_e.hermegauss(200)
    m2 = (w @ ACTIVATIONS[name].forward(x) ** 2) / math.sqrt(2 * math.pi)
    gain = second_moment_gain(ACTIVATIONS[name].forward)
    assert gain**2 * m2 == pytest.approx(1.0, abs=1e-4)
    if name != "relu":
        assert ACTIVATIONS[name].gain == gain


@pytest.mark.parametrize("name", NAMES)
def test_max_slope_and_hist_range(name):
    act = ACTIVATIONS[name]
    slopes = np.abs(act.derivative(np.linspace(-12, 12, 480_001)))
    assert slopes.max() <= act.max_slope * (1 + 1e-12)
    assert slopes.max() >= act.max_slope * (1 - 1e-3)
    lo, hi = act.hist_range
    assert lo < hi
    y = act.forward(np.linspace(-3, 3, 1001))  # the bulk of unit-variance inputs falls in range
    assert np.mean((y >= lo) & (y <= hi)) > 0.8


def test_saturation_rule():
    x = np.linspace(-8, 8, 16001)
    a = ACTIVATIONS
    np.testing.assert_array_equal(a["tanh"].saturated(x), np.abs(np.tanh(x)) > math.sqrt(0.99))
    s = 1 / (1 + np.exp(-x))
    np.testing.assert_array_equal(a["sigmoid"].saturated(x), s * (1 - s) < 0.0025)
    np.testing.assert_array_equal(a["relu"].saturated(x), x <= 0)
    assert not a["leaky_relu"].saturated(x).any()
    assert not a["linear"].saturated(x).any()
    np.testing.assert_array_equal(a["selu"].saturated(x), x < math.log(0.01))
    assert a["sigmoid"].hist_range == (0.0, 1.0)
    assert a["tanh"].hist_range == (-1.0, 1.0)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_forward_and_derivative_is_bit_identical_to_separate_calls(name, dtype):
    """The fused path (one transcendental for both) must not change a single bit, in place or not."""
    act = ACTIVATIONS[name]
    rng = np.random.default_rng(5)
    x = np.concatenate(
        [rng.standard_normal(4000) * s for s in (0.1, 1.0, 10.0, 100.0)]
        + [np.array([0.0, -0.0, 5e-324, -5e-324, 40.0, -40.0, 745.0, -745.0, np.inf, -np.inf])]
    )
    x = x.astype(dtype)
    with np.errstate(all="ignore"):
        f, d = act.forward(x.copy()), act.derivative(x.copy())
        y1, d1 = act.forward_and_derivative(x.copy())
        buf = x.copy()
        y2, d2 = act.forward_and_derivative(buf, out=buf)
    assert y2 is buf
    for u in (y1, y2):
        assert u.dtype == f.dtype and np.array_equal(u.view(np.uint8), f.view(np.uint8))
    for u in (d1, d2):
        assert u.dtype == d.dtype and np.array_equal(u.view(np.uint8), d.view(np.uint8))


def test_matched_pairs_group_by_init_in_registry_order():
    pairs = matched_pairs()
    assert set(pairs) == set(ACTIVATIONS) and all(pairs[n] == a.matched_init for n, a in ACTIVATIONS.items())
    inits = list(dict.fromkeys(a.matched_init for a in ACTIVATIONS.values()))  # order of first appearance
    assert list(pairs) == [n for i in inits for n, a in ACTIVATIONS.items() if a.matched_init == i]
    # the published pairing, as the activations page states it
    assert {n: pairs[n] for n in PUBLISHED} == {
        "linear": "xavier",
        "sigmoid": "xavier",
        "tanh": "xavier",
        "selu": "xavier",
        "relu": "he",
        "leaky_relu": "he",
        "elu": "he",
        "gelu": "he",
    }


def test_second_moment_gain_does_not_depend_on_the_blas_thread_count():
    """The gains are computed at import, under whatever BLAS threads the process has then (a Dask worker
    one, a forked pool worker its parent's): a threaded dot changed ELU's gain in the last bit."""
    from threadpoolctl import threadpool_limits

    from generator.engine import activation_kernels as kern
    from generator.engine.activations import second_moment_gain

    for fwd in (kern.elu, kern.gelu):
        with threadpool_limits(limits=1, user_api="blas"):
            one = second_moment_gain(fwd)
        with threadpool_limits(limits=2, user_api="blas"):
            two = second_moment_gain(fwd)
        assert one == two
