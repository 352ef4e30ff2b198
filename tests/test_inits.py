"""Initializers: shapes, variances against their formulas, orthogonality, registry behaviour."""

import math

import numpy as np
import pytest

from generator.engine import inits
from generator.engine.inits import INITS, get_init, weight_variance

FAN_IN, FAN_OUT = 800, 1250  # unequal, so fan_in-, fan_out- and average-based formulas all differ


def test_registry_order_and_names():
    assert list(INITS) == ["zeros", "small", "large", "xavier", "glorot_normal", "glorot_uniform", "he",
                           "he_uniform", "orthogonal"]
    assert "constant" not in INITS


def test_unknown_init_lists_valid_names():
    with pytest.raises(ValueError) as err:
        get_init("kaiming")
    msg = str(err.value)
    assert "'kaiming'" in msg and all(name in msg for name in INITS)
    with pytest.raises(ValueError):
        weight_variance("kaiming", 3, 3)


@pytest.mark.parametrize("name", list(INITS))
def test_shape_dtype_and_variance_within_2_percent(name):
    w = get_init(name)(FAN_IN, FAN_OUT, np.random.default_rng(0))
    assert w.shape == (FAN_IN, FAN_OUT) and w.dtype == np.float64
    expected = {  # formulas written out independently of inits.weight_variance
        "zeros": 0.0, "small": 0.01**2, "large": 1.0, "xavier": 1 / FAN_IN,
        "glorot_normal": 2 / (FAN_IN + FAN_OUT), "glorot_uniform": 2 / (FAN_IN + FAN_OUT),
        "he": 2 / FAN_IN, "he_uniform": 2 / FAN_IN, "orthogonal": 1 / max(FAN_IN, FAN_OUT),
    }[name]
    assert weight_variance(name, FAN_IN, FAN_OUT) == pytest.approx(expected, rel=1e-12)
    if name == "zeros":
        assert not w.any()
        return
    # 1e6 entries: the relative standard error of a variance estimate is sqrt(2/n) ~ 0.14% (normal),
    # so 2% is > 10 standard errors; the mean must be ~0 to a few standard errors sqrt(var/n).
    assert w.var() == pytest.approx(expected, rel=0.02)
    assert abs(w.mean()) < 6 * math.sqrt(expected / w.size)


@pytest.mark.parametrize("name,bound", [("glorot_uniform", math.sqrt(6 / (FAN_IN + FAN_OUT))),
                                        ("he_uniform", math.sqrt(6 / FAN_IN))])
def test_uniform_bounds(name, bound):
    w = get_init(name)(FAN_IN, FAN_OUT, np.random.default_rng(1))
    assert np.abs(w).max() <= bound
    assert np.abs(w).max() > 0.99 * bound  # actually uniform over the whole interval


@pytest.mark.parametrize("shape", [(300, 300), (400, 150), (150, 400)])
@pytest.mark.parametrize("gain", [1.0, 5 / 3])
def test_orthogonal(shape, gain):
    w = inits.orthogonal(*shape, np.random.default_rng(2), gain=gain)
    assert w.shape == shape
    gram = w.T @ w if shape[0] >= shape[1] else w @ w.T
    np.testing.assert_allclose(gram, gain**2 * np.eye(min(shape)), atol=1e-12)
    assert np.mean(w**2) == pytest.approx(weight_variance("orthogonal", *shape, gain), rel=1e-12)


def test_orthogonal_sign_correction_makes_it_unbiased():
    # Without the sign(diag(R)) correction LAPACK's QR returns Q[0, 0] = -|.|-ish with a biased sign
    # pattern; Haar-distributed matrices have E[W] = 0 entrywise.
    rng = np.random.default_rng(3)
    diag = np.array([np.diag(inits.orthogonal(4, 4, rng)) for _ in range(4000)])
    assert np.all(np.abs(diag.mean(axis=0)) < 0.05)  # sd of each entry ~0.5, so SE ~ 0.008


@pytest.mark.parametrize("name", [n for n in INITS if n != "orthogonal"])
def test_gain_is_ignored_except_by_orthogonal(name):
    a = get_init(name)(20, 30, np.random.default_rng(4), gain=1.0)
    b = get_init(name)(20, 30, np.random.default_rng(4), gain=3.0)
    np.testing.assert_array_equal(a, b)


def test_seeded_and_explicit_rng():
    a = inits.he(50, 60, np.random.default_rng(5))
    b = inits.he(50, 60, np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
    rng = np.random.default_rng(5)
    first, second = inits.he(50, 60, rng), inits.he(50, 60, rng)
    assert not np.array_equal(first, second)  # the generator's state advances


def test_constant_and_fans_validation():
    np.testing.assert_array_equal(inits.constant(3, 4, None, value=0.25), np.full((3, 4), 0.25))
    assert inits.fans(3, 4) == (3, 4)
    for bad in [(0, 3), (3, -1), (2.5, 3)]:
        with pytest.raises(ValueError):
            inits.fans(*bad)
