"""Bias in the engine (issue 17, item 1): b_l ~ N(0, sigma_b^2) per layer.

* network.py forward/backward with biases pass centred-difference checks (float64) for the input, the
  weights and the biases;
* sigma_b2 = 0 (the default) is the bias-free code path: run_propagation gives bit-identical frames, and
  drawing biases never moves a weight draw;
* a wide tanh network's measured second moment q at layer 20 matches phase.q_fixed_point.
"""

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest

from generator.engine import network, phase
from generator.experiments import propagation as prop
from generator.experiments.propagation import draw_biases, draw_inputs, draw_weights, run_propagation
from gradcheck import numerical_gradient, rel_error

TOL = 1e-6


def _net(seed, n=6, widths=(4, 5, 3, 4), sigma_b2=0.3):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, widths[0]))
    ws = [rng.standard_normal((a, b)) * 0.8 for a, b in itertools.pairwise(widths)]
    bs = [rng.standard_normal(b) * np.sqrt(sigma_b2) for b in widths[1:]]
    g = rng.standard_normal((n, widths[-1]))
    return x, ws, bs, g


@pytest.mark.parametrize(
    ("act", "norm"), [("tanh", "none"), ("gelu", "none"), ("sigmoid", "none"), ("tanh", "bn_post"), ("gelu", "bn_post")]
)
def test_network_with_bias_gradcheck(act, norm):
    x, ws, bs, g = _net(1)

    def loss(_v):
        return float(np.sum(network.forward(x, ws, act, norm, biases=bs)[0] * g))

    _h, caches = network.forward(x, ws, act, norm, biases=bs)
    dx, dws, dbs = network.backward(g, caches)
    assert rel_error(dx, numerical_gradient(loss, x)) < TOL
    for w, dw in zip(ws, dws):
        assert rel_error(dw, numerical_gradient(loss, w)) < TOL
    for b, db in zip(bs, dbs):
        assert db.shape == b.shape
        assert rel_error(db, numerical_gradient(loss, b)) < TOL
    # the bias changes the output, so the checks above really involve it
    assert not np.allclose(network.forward(x, ws, act, norm)[0], _h)


def test_bias_before_batchnorm_has_zero_gradient():
    """BN subtracts the batch mean, which removes a bias added before it: db = 0 up to rounding, and the
    other gradients still pass the centred-difference check."""
    x, ws, bs, g = _net(2)

    def loss(_v):
        return float(np.sum(network.forward(x, ws, "tanh", "bn", biases=bs)[0] * g))

    _h, caches = network.forward(x, ws, "tanh", "bn", biases=bs)
    dx, dws, dbs = network.backward(g, caches)
    assert rel_error(dx, numerical_gradient(loss, x)) < TOL
    for w, dw in zip(ws, dws):
        assert rel_error(dw, numerical_gradient(loss, w)) < TOL
    for db in dbs:
        assert np.max(np.abs(db)) < 1e-12


def test_bias_free_layers_report_no_bias_gradient():
    x, ws, _bs, g = _net(3)
    _h, caches = network.forward(x, ws, "tanh")
    _dx, _dws, dbs = network.backward(g, caches)
    assert dbs == [None] * len(ws)
    with pytest.raises(ValueError, match="biases"):
        network.forward(x, ws, "tanh", biases=_bs[:-1])


def test_layer_bias_is_added_to_the_preactivation():
    x, ws, bs, _g = _net(4)
    seen = []
    network.layer_forward(x, ws[0], "tanh", b=bs[0], on_preact=lambda a: seen.append(a.copy()))
    np.testing.assert_allclose(seen[0], x @ ws[0] + bs[0], rtol=1e-15)


SMALL = dict(seed=3, samples=24, width=16, depth=5, hist_bins=8)


@pytest.mark.parametrize(
    ("init", "activation", "norm"),
    [("xavier", "tanh", "none"), ("he", "relu", "bn"), ("orthogonal", "gelu", "bn_post"), ("zeros", "tanh", "none")],
)
def test_sigma_b2_zero_is_bit_identical_to_the_default_call(init, activation, norm):
    cfg = dict(SMALL, init=init, activation=activation, norm=norm)

    def run(**kw):
        # the shared first-layer product would make later calls skip a GEMM, changing only "work"
        prop._FIRST_PREACT.clear()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return run_propagation(**cfg, **kw)

    base = run()  # the existing call: no bias argument at all
    zero, biased = run(sigma_b2=0.0), run(sigma_b2=0.1)
    for key in ("layers", "hist", "work"):
        pd.testing.assert_frame_equal(zero[key], base[key], check_exact=True)
    assert draw_biases(init, SMALL["seed"], SMALL["width"], SMALL["depth"], 0.0) is None
    # a positive sigma_b2 changes the forward statistics (zeros init: every layer's output is phi(b))
    assert not base["layers"]["std"].equals(biased["layers"]["std"])


def test_run_propagation_adds_the_drawn_bias_and_leaves_the_shared_product_alone():
    """Layer 1's preact_std is the std of X W_1 + b_1 with the drawn bias; the first-layer product that
    tasks share stays bias-free, so a bias-free run after a biased one is unchanged."""
    cfg = dict(SMALL, init="he", activation="tanh", norm="none")
    prop._FIRST_PREACT.clear()
    base = run_propagation(**cfg)
    biased = run_propagation(**cfg, sigma_b2=0.5)  # reuses the cached X W_1
    again = run_propagation(**cfg)
    pd.testing.assert_frame_equal(again["layers"], base["layers"], check_exact=True)
    x, _g = draw_inputs(SMALL["seed"], SMALL["samples"], SMALL["width"])
    w1 = draw_weights("he", SMALL["seed"], SMALL["width"], SMALL["depth"])[0]
    b1 = draw_biases("he", SMALL["seed"], SMALL["width"], SMALL["depth"], 0.5)[0]
    np.testing.assert_allclose(biased["layers"]["preact_std"][0], np.std(x @ w1 + b1), rtol=1e-12)
    assert abs(biased["layers"]["preact_std"][0] - base["layers"]["preact_std"][0]) > 1e-3


def test_biases_come_after_the_weights_in_the_weight_stream():
    seed, width, depth = 5, 8, 3
    w_before = [w.copy() for w in draw_weights("he", seed, width, depth)]
    b1 = draw_biases("he", seed, width, depth, 0.25)
    draw_weights.cache_clear()
    assert all(np.array_equal(a, w) for a, w in zip(w_before, draw_weights("he", seed, width, depth)))
    # the same stream, continued by hand after the depth weight matrices
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(3)[1])
    for _ in range(depth):
        rng.standard_normal((width, width))
    z = rng.standard_normal((depth, width))
    draw_biases.cache_clear()  # and a second call that must recompute gives the same biases
    for l, b in enumerate(draw_biases("he", seed, width, depth, 0.25)):
        np.testing.assert_array_equal(b, z[l] * 0.5)
        np.testing.assert_array_equal(b, b1[l])
    with pytest.raises(ValueError, match="sigma_b2"):
        draw_biases("he", seed, width, depth, -0.1)


# Width 1000, depth 20, tanh, sigma_w^2 = 2 (He init: Var W = 2 / fan_in), sigma_b^2 = 0.05: q* is a stable
# fixed point of the variance map (xi_q ~ 1.4 layers, so layer 20 is at q*). One network's q at layer 20 is
# an average over its 1000 units of a quadratic form in that layer's random weights, so it fluctuates by
# ~3.5 % from seed to seed (measured over 22 seeds); the mean over 16 seeds has a standard error of ~0.9 %,
# which a 2 % tolerance clears with room. Samples only average over inputs the same weights see, so 32 do.
Q_SEEDS, Q_WIDTH, Q_DEPTH, Q_SAMPLES, Q_B2 = 16, 1000, 20, 32, 0.05


def test_measured_q_at_width_1000_matches_the_fixed_point():
    q_star = phase.q_fixed_point("tanh", 2.0, Q_B2)
    q_last: list[float] = []

    def record(a):  # q = mean of A^2 over samples and units, A = X W + b the layer's pre-activation
        q_last.append(float(np.mean(a * a)))

    try:
        for seed in range(Q_SEEDS):
            h, _g = draw_inputs(seed, Q_SAMPLES, Q_WIDTH)
            ws = draw_weights("he", seed, Q_WIDTH, Q_DEPTH)
            bs = draw_biases("he", seed, Q_WIDTH, Q_DEPTH, Q_B2)
            for l in range(Q_DEPTH):
                h, _c = network.layer_forward(h, ws[l], "tanh", b=bs[l], on_preact=record if l == Q_DEPTH - 1 else None)
        assert len(q_last) == Q_SEEDS
    finally:  # 160 MB per cached draw at this size: do not leave them to later tests
        draw_weights.cache_clear()
        draw_biases.cache_clear()
    assert abs(np.mean(q_last) / q_star - 1) < 0.02
    assert np.std(q_last) > 0  # the seeds really are different networks
