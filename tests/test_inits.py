"""Initializers: shapes, every registered init's variance against its record's formula, orthogonality,
registry behaviour. The parametrized lists come from the registry, so an added init is tested too."""

import math

import numpy as np
import pytest

from generator.engine import inits
from generator.engine.inits import INITS, Init, get_init, register, weight_variance

FAN_IN, FAN_OUT = 800, 1250  # unequal, so fan_in-, fan_out- and average-based formulas all differ


PUBLISHED = ["zeros", "small", "large", "xavier", "glorot_normal", "glorot_uniform", "he", "he_uniform", "orthogonal"]


def test_registry_order_and_names():
    # the published site's order comes first; an init added by the README recipe is appended after it
    assert list(INITS)[: len(PUBLISHED)] == PUBLISHED
    assert all(isinstance(r, Init) and r.name == name for name, r in INITS.items())
    assert "constant" not in INITS
    with pytest.raises(ValueError, match="already registered"):
        register(Init("he", inits.he, lambda fi, fo, gain: 2.0 / fi))


def test_unknown_init_lists_valid_names():
    with pytest.raises(ValueError) as err:
        get_init("kaiming")
    msg = str(err.value)
    assert "'kaiming'" in msg and all(name in msg for name in INITS)
    with pytest.raises(ValueError):
        weight_variance("kaiming", 3, 3)


@pytest.mark.parametrize(
    "name,expected",
    [  # closed forms from the papers, written out independently
        ("zeros", 0.0),
        ("small", 0.01**2),
        ("large", 1.0),
        ("xavier", 1 / FAN_IN),
        ("glorot_normal", 2 / (FAN_IN + FAN_OUT)),
        ("glorot_uniform", 2 / (FAN_IN + FAN_OUT)),
        ("he", 2 / FAN_IN),
        ("he_uniform", 2 / FAN_IN),
        ("orthogonal", 1 / max(FAN_IN, FAN_OUT)),
    ],
)
def test_published_formulas_are_the_closed_forms(name, expected):
    assert weight_variance(name, FAN_IN, FAN_OUT) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("name", list(INITS))
def test_empirical_variance_matches_the_records_formula(name):
    """Every registered init (also one added later): float64, (FAN_IN, FAN_OUT), and the sample second
    moment within 6 standard errors of the record's Var(W). The standard error is estimated from the
    sample itself, sd(W^2)/sqrt(n) (0.14% of Var for a normal, 0.09% for a uniform at n = 1e6), so the
    tolerance adapts to the distribution; a formula off by even 2% is > 10 standard errors away."""
    w = get_init(name)(FAN_IN, FAN_OUT, np.random.default_rng(0))
    assert w.shape == (FAN_IN, FAN_OUT) and w.dtype == np.float64
    expected = weight_variance(name, FAN_IN, FAN_OUT)
    sq = np.square(w)
    se = sq.std() / math.sqrt(w.size)
    assert abs(sq.mean() - expected) <= 6 * se + 1e-12 * expected
    assert abs(w.mean()) <= 6 * math.sqrt(expected / w.size)  # zero-mean, as every formula assumes
    if expected == 0.0:
        assert not w.any()
    else:
        assert se < 0.01 * expected  # the check above is sharp: the estimate is good to < 1%


@pytest.mark.parametrize("name", [n for n, r in INITS.items() if r.uses_gain])
def test_gain_users_are_linear_in_the_gain(name):
    # propagation draws once with gain 1 and scales by the activation's gain; that must equal drawing
    # with the gain (same generator state), and the formula must scale by gain^2
    a = get_init(name)(60, 40, np.random.default_rng(6), gain=5 / 3)
    b = get_init(name)(60, 40, np.random.default_rng(6), gain=1.0)
    np.testing.assert_allclose(a, (5 / 3) * b, rtol=1e-15, atol=0)
    assert weight_variance(name, 60, 40, 5 / 3) == pytest.approx((5 / 3) ** 2 * weight_variance(name, 60, 40))


@pytest.mark.parametrize(
    "name,bound", [("glorot_uniform", math.sqrt(6 / (FAN_IN + FAN_OUT))), ("he_uniform", math.sqrt(6 / FAN_IN))]
)
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


@pytest.mark.parametrize("name", [n for n, r in INITS.items() if not r.uses_gain])
def test_gain_is_ignored_unless_uses_gain(name):
    a = get_init(name)(20, 30, np.random.default_rng(4), gain=1.0)
    b = get_init(name)(20, 30, np.random.default_rng(4), gain=3.0)
    np.testing.assert_array_equal(a, b)
    assert weight_variance(name, 20, 30, 3.0) == weight_variance(name, 20, 30, 1.0)


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
