"""Propagation experiment: table contract, statistics against closed forms and mean-field theory,
histograms against np.histogram, divergence handling without warnings."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from generator.engine import layers, network
from generator.engine.activations import ACTIVATIONS
from generator.engine.theory import mean_field, sigma_w2
from generator.experiments.propagation import (
    HIST_COLUMNS,
    LAYER_COLUMNS,
    _hist_counts,
    _output_stats,
    draw_inputs,
    draw_weights,
    hist_edges,
    run_propagation,
)

SMALL = dict(seed=0, samples=64, width=32, depth=4)


def _run(**kw):
    args = {**SMALL, **kw}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return run_propagation(**args)


def test_table_contract():
    out = _run(init="xavier", activation="tanh", norm="none", hist_bins=10)
    lay, hist = out["layers"], out["hist"]
    assert (
        tuple(lay.columns)
        == LAYER_COLUMNS
        == (
            "layer",
            "mean",
            "std",
            "min",
            "max",
            "saturated_frac",
            "zero_frac",
            "preact_std",
            "grad_h_std",
            "grad_w_norm",
            "grad_w_ratio",
            "diverged",
        )
    )
    assert tuple(hist.columns) == HIST_COLUMNS == ("layer", "bin", "lo", "hi", "count")
    assert lay["layer"].tolist() == [1, 2, 3, 4] and lay["layer"].dtype == np.int64
    assert lay["diverged"].dtype == bool and not lay["diverged"].any()
    assert len(hist) == 4 * 12
    assert (hist.groupby("layer")["count"].sum() == 64 * 32).all()
    edges = hist_edges("tanh", 10)
    one = hist[hist.layer == 1]
    np.testing.assert_array_equal(one["lo"], np.r_[-np.inf, edges])
    np.testing.assert_array_equal(one["hi"], np.r_[edges, np.inf])
    assert lay.drop(columns=["layer", "diverged"]).notna().all().all()


def test_unknown_names_raise():
    for bad in [dict(init="nope"), dict(activation="nope"), dict(norm="nope"), dict(dtype="int32")]:
        kw = {"init": "xavier", "activation": "tanh", "norm": "none", **bad}
        with pytest.raises(ValueError, match=r"valid|floating"):
            _run(**kw)


def test_deterministic_and_paired_streams():
    a = _run(init="he", activation="relu", norm="bn")
    b = _run(init="he", activation="relu", norm="bn")
    for k in ("layers", "hist"):  # "work" is accounting: the second call reuses the shared X W_1
        assert a[k].equals(b[k])
    # X and G come from streams 0 and 2 of SeedSequence(seed), independent of init/activation/norm
    ss = np.random.SeedSequence(7).spawn(3)
    x, g = draw_inputs(7, 10, 5, "float64")
    np.testing.assert_array_equal(x, np.random.default_rng(ss[0]).standard_normal((10, 5)))
    np.testing.assert_array_equal(g, np.random.default_rng(ss[2]).standard_normal((10, 5)))
    w = draw_weights("xavier", 7, 5, 2, "float64")
    rng = np.random.default_rng(ss[1])
    np.testing.assert_array_equal(
        w[1], (lambda: (rng.standard_normal((5, 5)), rng.standard_normal((5, 5))))()[1] / math.sqrt(5)
    )
    # top-layer gradient is G / N whatever the network: std(G)/N for every config of this seed
    for init, act in [("he", "relu"), ("small", "sigmoid")]:
        top = _run(init=init, activation=act, norm="none")["layers"].iloc[-1]
        x, g = draw_inputs(0, 64, 32, "float64")
        assert top["grad_h_std"] == pytest.approx(g.std() / 64, rel=1e-12)


@pytest.mark.parametrize("norm", network.NORMS)
def test_statistics_match_an_independent_layers_py_computation(norm):
    act = "tanh"
    out = _run(init="glorot_uniform", activation=act, norm=norm, hist_bins=8)
    lay, hist = out["layers"], out["hist"]
    x, g = draw_inputs(0, 64, 32, "float64")
    weights = draw_weights("glorot_uniform", 0, 32, 4, "float64")
    one, zero = np.ones(32), np.zeros(32)
    h, caches, hs, pre = x, [], [], []
    for w in weights:
        a, c_fc = layers.affine_forward(h, w)
        pre.append(a)
        if norm == "bn":
            a, c_bn = layers.batchnorm_forward(a, one, zero, {"mode": "train"})
        sat = ACTIVATIONS[act].saturated(a)
        h, c_act = layers.activation_forward(a, act)
        c_post = None
        if norm == "bn_post":
            h, c_post = layers.batchnorm_forward(h, one, zero, {"mode": "train"})
        caches.append((c_fc, c_bn if norm == "bn" else None, c_act, c_post, sat))
        hs.append(h)
    dh = g / 64
    grads = [None] * 4
    for l in range(3, -1, -1):
        c_fc, c_bn, c_act, c_post, _ = caches[l]
        grads[l] = dh.std()
        if c_post is not None:
            dh = layers.batchnorm_backward(dh, c_post)[0]
        dz = layers.activation_backward(dh, c_act)
        if c_bn is not None:
            dz = layers.batchnorm_backward(dz, c_bn)[0]
        dh, dw = layers.affine_backward(dz, c_fc)
        row = lay.iloc[l]
        assert row["grad_w_norm"] == pytest.approx(np.linalg.norm(dw), rel=1e-9)
        assert row["grad_w_ratio"] == pytest.approx(np.linalg.norm(dw) / np.linalg.norm(weights[l]), rel=1e-9)
    edges = hist_edges(act, 8)
    for l in range(4):
        row, h = lay.iloc[l], hs[l]
        assert row["mean"] == pytest.approx(h.mean(), rel=1e-9, abs=1e-12)
        assert row["std"] == pytest.approx(h.std(), rel=1e-9)
        assert (row["min"], row["max"]) == (h.min(), h.max())
        assert row["preact_std"] == pytest.approx(pre[l].std(), rel=1e-9)
        assert row["saturated_frac"] == caches[l][4].mean()
        assert row["zero_frac"] == np.mean(h == 0)
        assert row["grad_h_std"] == pytest.approx(grads[l], rel=1e-9)
        counts = hist[hist.layer == l + 1]["count"].to_numpy()
        np.testing.assert_array_equal(counts[1:-1], np.histogram(h, edges)[0])
        assert (counts[0], counts[-1]) == (np.sum(h < edges[0]), np.sum(h > edges[-1]))


def test_hist_counts_edges_overflow_and_nan():
    lo, hi, bins = -1.0, 1.0, 4  # regular edges -1, -0.5, 0, 0.5, 1
    # outer edges are exact (saturated tanh gives exactly +-1); interior edges to rounding of (x-lo)*scale
    values = np.array([-np.inf, -1.0000001, -1.0, -0.5, -0.01, 0.0, 0.49, 0.5, 1.0, 1.0000001, np.inf, np.nan])
    counts = _hist_counts(values, lo, hi, bins)
    #                              <lo [-1,-.5) [-.5,0) [0,.5) [.5,1] >hi
    np.testing.assert_array_equal(counts, [2, 1, 2, 2, 2, 2])
    assert counts.sum() == values.size - 1  # NaN is not counted
    # the chunked one-pass path agrees, including the exact outer edges (finite values only there)
    finite = np.repeat(values[1:-3], 20_000)  # > one chunk
    np.testing.assert_array_equal(
        _output_stats(finite, finite, 0.0, lo, hi, bins)[7], _hist_counts(finite, lo, hi, bins)
    )
    just_below = np.full(5, np.nextafter(-1.0, -2.0))
    assert _output_stats(just_below, just_below, 0.0, lo, hi, bins)[7][0] == 5


def test_relu_layer1_matches_closed_forms():
    # Orthogonal W (gain sqrt 2) maps i.i.d. N(0,1) rows to i.i.d. N(0, 2) rows, so all n = samples*width
    # pre-activations are i.i.d. Gaussian and the layer-1 statistics have plain standard errors.
    samples, width = 400, 250
    lay = _run(init="orthogonal", activation="relu", norm="none", samples=samples, width=width, depth=1)["layers"]
    row, n = lay.iloc[0], samples * width
    sigma = row["preact_std"]
    assert sigma == pytest.approx(math.sqrt(2), rel=5 * math.sqrt(1 / (2 * n)))  # SE of a std: sigma/sqrt(2n)
    mean_cf, std_cf = sigma / math.sqrt(2 * math.pi), sigma * math.sqrt(0.5 - 1 / (2 * math.pi))
    # SE(mean) = std/sqrt(n); SE(std) ~ std*sqrt((kurtosis-1)/(4n)), relu(N(0,1)) kurtosis ~ 4.9 (< 6)
    se_mean, se_std = std_cf / math.sqrt(n), std_cf * math.sqrt((6 - 1) / (4 * n))
    # sigma is estimated from the same data: allow its SE too (relative sqrt(1/(2n)))
    slack = math.sqrt(1 / (2 * n))
    assert abs(row["mean"] - mean_cf) < 5 * se_mean + 5 * slack * mean_cf
    assert abs(row["std"] - std_cf) < 5 * se_std + 5 * slack * std_cf
    assert row["zero_frac"] == pytest.approx(0.5, abs=5 * math.sqrt(0.25 / n))
    assert row["saturated_frac"] == row["zero_frac"]  # relu saturates exactly where it outputs 0


def test_xavier_tanh_follows_mean_field_within_2_percent():
    lay = _run(init="xavier", activation="tanh", norm="none", samples=1000, width=500, depth=10)["layers"]
    theory = pd.DataFrame(mean_field("tanh", sigma_w2("xavier", "tanh", 500, 500), 10))
    np.testing.assert_allclose(lay["std"], theory["theory_std"], rtol=0.02)
    np.testing.assert_allclose(lay["preact_std"], np.sqrt(theory["q"]), rtol=0.02)


def test_he_relu_preserves_second_moment():
    # He: sigma_w^2 = 2, so q^1 = 2 E[x^2] = 2 and E[h_1^2] = E[relu(a)^2] = q^1/2 = E[x^2] = 1; by induction
    # q^l = 2 E[h_{l-1}^2] = 2 and E[h_l^2] = 1 at every layer. This holds in expectation over the weights
    # at any width (E_W[relu(x.w)^2] = |x|^2 / fan_in), so averaging over seeds estimates exactly 1.
    m2 = []
    for seed in range(20):
        lay = _run(init="he", activation="relu", norm="none", seed=seed, samples=100, width=100, depth=10)["layers"]
        last = lay.iloc[-1]
        m2.append(last["std"] ** 2 + last["mean"] ** 2)
    assert np.mean(m2) == pytest.approx(1.0, rel=0.2)


def test_bn_post_outputs_are_normalised():
    lay = _run(init="large", activation="relu", norm="bn_post")["layers"]
    np.testing.assert_allclose(lay["mean"], 0, atol=1e-12)
    np.testing.assert_allclose(lay["std"], 1, atol=1e-4)


def test_zeros_init_gives_nan_ratio():
    lay = _run(init="zeros", activation="tanh", norm="none")["layers"]
    assert (lay["std"] == 0).all() and (lay["zero_frac"] == 1).all()
    assert lay["grad_w_ratio"].isna().all()


def test_float32_is_honoured_and_close_to_float64():
    a = _run(init="he", activation="tanh", norm="bn", dtype="float32")["layers"]
    b = _run(init="he", activation="tanh", norm="bn", dtype="float64")["layers"]
    for col in ["std", "preact_std", "grad_h_std", "grad_w_norm"]:
        np.testing.assert_allclose(a[col], b[col], rtol=1e-4)
    assert draw_weights("he", 0, 32, 4, "float32")[0].dtype == np.float32


def test_large_relu_depth_50_diverges_without_warnings():
    lay = _run(init="large", activation="relu", norm="none", samples=100, width=200, depth=50)["layers"]
    div = lay["diverged"].to_numpy()
    assert div[-1] and not div[0]
    first = int(np.argmax(div))
    assert div[first:].all() and not div[:first].any()  # once diverged, always diverged
    # float64 does not overflow in 50 layers of ~x10 (sqrt(width/2)): every statistic is still finite
    assert lay.drop(columns=["layer", "diverged"]).notna().all().all()
    # diverged exactly where RMS = sqrt(mean^2 + std^2) first exceeds 1e8
    rms = np.sqrt(lay["mean"] ** 2 + lay["std"] ** 2).to_numpy()
    assert first == int(np.argmax(rms > 1e8))


@pytest.mark.parametrize("dtype,depth", [("float64", 420), ("float32", 60)])
def test_overflow_to_inf_without_warnings(dtype, depth):
    out = _run(
        init="large", activation="relu", norm="none", samples=40, width=100, depth=depth, dtype=dtype, hist_bins=6
    )
    lay, hist = out["layers"], out["hist"]
    assert lay["diverged"].iloc[-1]
    stopped = lay["std"].isna() & lay["min"].isna()
    assert stopped.iloc[-1] and not stopped.iloc[0]
    assert lay[["grad_h_std", "grad_w_norm", "grad_w_ratio"]].isna().all().all()  # L is undefined
    counts = hist.groupby("layer")["count"].sum().to_numpy()
    assert counts[-1] == 0  # layers after the stop have no histogram
    assert (counts[:5] == 40 * 100).all()


def test_work_avoidance_is_exact_and_counted():
    """Skipped products (W = 0, zero upstream gradient) and the shared X W_1 change no bit of the
    results; ``work`` reports the GEMMs actually done: 3 depth - 1 per config, one fewer when X W_1 was
    shared, and only the top layer's dW for the zeros init (every other product has a zero factor)."""
    import generator.experiments.propagation as prop

    kw = dict(seed=3, samples=40, width=12, depth=4)
    gemm = 2.0 * 40 * 12 * 12
    for init, act, norm in [
        ("he", "tanh", "none"),
        ("he", "relu", "bn"),
        ("orthogonal", "tanh", "bn"),
        ("zeros", "sigmoid", "none"),
        ("zeros", "tanh", "bn"),
    ]:
        prop._FIRST_PREACT.clear()
        first = _run(init=init, activation=act, norm=norm, **kw)
        shared = _run(init=init, activation=act, norm=norm, **kw)
        # reference: the same maths with every product computed (no zero flags, nothing shared)
        x, g = draw_inputs(3, 40, 12, "float64")
        ws = draw_weights(init, 3, 12, 4, "float64")
        gain = ACTIVATIONS[act].gain if init == "orthogonal" else 1.0
        _h, caches = network.forward(x, [w * gain for w in ws], act, norm)
        _, dws, _dbs = network.backward(g / 40, caches)
        norms = [float(np.linalg.norm(dw)) for dw in dws]
        for out in (first, shared):
            np.testing.assert_allclose(out["layers"]["grad_w_norm"], norms, rtol=1e-12, atol=0)
            assert out["layers"].equals(first["layers"]) and out["hist"].equals(first["hist"])
        expected = 1 if init == "zeros" else 3 * 4 - 1
        assert first["work"]["gemm_flops"].item() == expected * gemm
        assert shared["work"]["gemm_flops"].item() == (expected - (init != "zeros")) * gemm
