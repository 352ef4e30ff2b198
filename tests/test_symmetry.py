"""Symmetry experiment: constant inits keep every unit identical through an SGD step; random ones don't."""

import pytest

from generator.experiments.symmetry import run_symmetry

BASE = dict(activation="tanh", samples=64, depth=3, learning_rate=0.1, seed=0, constant=0.1)


# 37 is deliberately not a multiple of any BLAS register tile (see symmetry.py's module docstring)
@pytest.mark.parametrize("width", [16, 37])
@pytest.mark.parametrize("init", ["zeros", "constant"])
def test_constant_inits_stay_symmetric(init, width):
    df = run_symmetry(init=init, width=width, **BASE)
    assert list(df.columns) == ["layer", "phase", "distinct_units", "distinct_weights"]
    assert len(df) == 2 * BASE["depth"]
    assert set(df["phase"]) == {"before", "after"}
    assert (df["distinct_units"] == 1).all() and (df["distinct_weights"] == 1).all()


@pytest.mark.parametrize("width", [16, 37])
@pytest.mark.parametrize("init", ["xavier", "orthogonal", "glorot_uniform"])
def test_random_inits_make_every_unit_distinct(init, width):
    df = run_symmetry(init=init, width=width, **BASE)
    assert (df["distinct_units"] == width).all() and (df["distinct_weights"] == width).all()


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "gelu"])
def test_constant_symmetry_holds_for_other_activations(activation):
    df = run_symmetry(init="constant", width=24, **{**BASE, "activation": activation})
    assert (df["distinct_units"] == 1).all() and (df["distinct_weights"] == 1).all()


def test_unknown_init():
    with pytest.raises(ValueError, match="constant"):
        run_symmetry(init="nope", width=8, **BASE)
