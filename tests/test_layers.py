"""layers.py and network.py: centred-difference gradient checks, BN statistics, dropout."""

import numpy as np
import pytest

from generator.engine import layers, network
from generator.engine.activations import ACTIVATIONS
from gradcheck import numerical_gradient, rel_error

TOL = 1e-6


def _rng(seed=0):
    return np.random.default_rng(seed)


def test_affine_gradcheck():
    rng = _rng(1)
    x, w, dout = rng.standard_normal((5, 4)), rng.standard_normal((4, 3)), rng.standard_normal((5, 3))
    out, cache = layers.affine_forward(x, w)
    np.testing.assert_allclose(out, x @ w)
    dx, dw = layers.affine_backward(dout, cache)
    assert rel_error(dx, numerical_gradient(lambda v: layers.affine_forward(v, w)[0], x, dout)) < TOL
    assert rel_error(dw, numerical_gradient(lambda v: layers.affine_forward(x, v)[0], w, dout)) < TOL


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_layer_gradcheck(name):
    rng = _rng(2)
    x = rng.uniform(0.2, 3.0, (6, 5)) * rng.choice([-1.0, 1.0], (6, 5))  # away from the kinks at 0
    dout = rng.standard_normal(x.shape)
    _, cache = layers.activation_forward(x, name)
    dx = layers.activation_backward(dout, cache)
    num = numerical_gradient(lambda v: layers.activation_forward(v, name)[0], x, dout)
    assert rel_error(dx, num) < TOL


def _bn_inputs(seed=3, n=8, d=5):
    rng = _rng(seed)
    x = 3.0 * rng.standard_normal((n, d)) + 2.0
    return x, rng.standard_normal(d), rng.standard_normal(d), rng.standard_normal((n, d))


@pytest.mark.parametrize("mode", ["train", "test"])
def test_batchnorm_gradcheck(mode):
    x, gamma, beta, dout = _bn_inputs()
    rs = {"running_mean": np.linspace(-1, 1, 5), "running_var": np.linspace(0.5, 2, 5)}

    def f(x_, g_, b_):
        return layers.batchnorm_forward(x_, g_, b_, {"mode": mode, **{k: v.copy() for k, v in rs.items()}})[0]

    _, cache = layers.batchnorm_forward(x, gamma, beta, {"mode": mode, **{k: v.copy() for k, v in rs.items()}})
    dx, dgamma, dbeta = layers.batchnorm_backward(dout, cache)
    assert rel_error(dx, numerical_gradient(lambda v: f(v, gamma, beta), x, dout)) < TOL
    assert rel_error(dgamma, numerical_gradient(lambda v: f(x, v, beta), gamma, dout)) < TOL
    assert rel_error(dbeta, numerical_gradient(lambda v: f(x, gamma, v), beta, dout)) < TOL


def test_batchnorm_train_normalises():
    x = 4.0 * _rng(4).standard_normal((200, 3)) + np.array([5.0, -3.0, 0.0])
    out, _ = layers.batchnorm_forward(x, np.ones(3), np.zeros(3), {"mode": "train"})
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-12)
    # std is sqrt(var / (var + eps)) with var ~ 16: 1 - 3e-7
    np.testing.assert_allclose(out.std(axis=0), 1.0, atol=1e-6)


def test_batchnorm_running_stats_follow_pytorch_and_test_mode_uses_them():
    rng = _rng(5)
    batches = [rng.standard_normal((10, 4)) * 2 + 1 for _ in range(3)]
    for momentum, eps, explicit in [(0.1, 1e-5, False), (0.3, 1e-3, True)]:
        bn_param = {"mode": "train"}
        if explicit:
            bn_param.update(momentum=momentum, eps=eps)
        rm, rv = np.zeros(4), np.ones(4)  # PyTorch's initial running statistics
        for b in batches:
            layers.batchnorm_forward(b, np.ones(4), np.zeros(4), bn_param)
            rm = (1 - momentum) * rm + momentum * b.mean(axis=0)
            rv = (1 - momentum) * rv + momentum * b.var(axis=0, ddof=1)  # unbiased, as torch
        np.testing.assert_allclose(bn_param["running_mean"], rm, rtol=1e-12)
        np.testing.assert_allclose(bn_param["running_var"], rv, rtol=1e-12)
        gamma, beta, x = rng.standard_normal(4), rng.standard_normal(4), rng.standard_normal((6, 4))
        bn_param["mode"] = "test"
        out, _ = layers.batchnorm_forward(x, gamma, beta, bn_param)
        np.testing.assert_allclose(out, gamma * (x - rm) / np.sqrt(rv + eps) + beta, rtol=1e-12)
        np.testing.assert_allclose(bn_param["running_mean"], rm, rtol=1e-12)  # test mode: no update


def test_batchnorm_rejects_unknown_mode_and_single_sample():
    with pytest.raises(ValueError, match=r"train.*test"):
        layers.batchnorm_forward(np.ones((3, 2)), np.ones(2), np.zeros(2), {"mode": "eval"})
    with pytest.raises(ValueError):
        layers.batchnorm_forward(np.ones((3, 2)), np.ones(2), np.zeros(2), {})
    with pytest.raises(ValueError):
        layers.batchnorm_forward(np.ones((1, 2)), np.ones(2), np.zeros(2), {"mode": "train"})


def test_bn_post_sandwich_gradcheck():
    # affine -> activation -> BN, composed from layers.py
    rng = _rng(6)
    x, w = rng.standard_normal((7, 4)), rng.standard_normal((4, 3))
    gamma, beta, dout = rng.standard_normal(3), rng.standard_normal(3), rng.standard_normal((7, 3))

    def f(x_, w_):
        a, _ = layers.affine_forward(x_, w_)
        h, _ = layers.activation_forward(a, "tanh")
        return layers.batchnorm_forward(h, gamma, beta, {"mode": "train"})[0]

    a, c1 = layers.affine_forward(x, w)
    h, c2 = layers.activation_forward(a, "tanh")
    _, c3 = layers.batchnorm_forward(h, gamma, beta, {"mode": "train"})
    dh, _, _ = layers.batchnorm_backward(dout, c3)
    dx, dw = layers.affine_backward(layers.activation_backward(dh, c2), c1)
    assert rel_error(dx, numerical_gradient(lambda v: f(v, w), x, dout)) < TOL
    assert rel_error(dw, numerical_gradient(lambda v: f(x, v), w, dout)) < TOL


@pytest.mark.parametrize("activation", ["tanh", "gelu"])
def test_affine_act_sandwich_gradcheck(activation):
    rng = _rng(6)
    x, w, dout = rng.standard_normal((7, 4)), rng.standard_normal((4, 3)), rng.standard_normal((7, 3))

    def f(x_, w_):
        return layers.affine_act_forward(x_, w_, activation)[0]

    _, cache = layers.affine_act_forward(x, w, activation)
    dx, dw = layers.affine_act_backward(dout, cache)
    assert rel_error(dx, numerical_gradient(lambda v: f(v, w), x, dout)) < TOL
    assert rel_error(dw, numerical_gradient(lambda v: f(x, v), w, dout)) < TOL


def test_affine_bn_act_sandwich_gradcheck():
    rng = _rng(7)
    x, w = rng.standard_normal((7, 4)), rng.standard_normal((4, 3))
    gamma, beta, dout = rng.standard_normal(3), rng.standard_normal(3), rng.standard_normal((7, 3))

    def f(x_, w_, g_, b_):
        return layers.affine_bn_act_forward(x_, w_, g_, b_, {"mode": "train"}, "gelu")[0]

    _, cache = layers.affine_bn_act_forward(x, w, gamma, beta, {"mode": "train"}, "gelu")
    dx, dw, dgamma, dbeta = layers.affine_bn_act_backward(dout, cache)
    assert rel_error(dx, numerical_gradient(lambda v: f(v, w, gamma, beta), x, dout)) < TOL
    assert rel_error(dw, numerical_gradient(lambda v: f(x, v, gamma, beta), w, dout)) < TOL
    assert rel_error(dgamma, numerical_gradient(lambda v: f(x, w, v, beta), gamma, dout)) < TOL
    assert rel_error(dbeta, numerical_gradient(lambda v: f(x, w, gamma, v), beta, dout)) < TOL


def test_dropout_fixed_mask_gradcheck_and_statistics():
    rng = _rng(8)
    x, dout, p = rng.standard_normal((6, 5)), rng.standard_normal((6, 5)), 0.4

    def f(v):  # a fresh generator with the same seed gives the same mask every call
        return layers.dropout_forward(v, p, "train", np.random.default_rng(123))[0]

    out, cache = layers.dropout_forward(x, p, "train", np.random.default_rng(123))
    assert rel_error(layers.dropout_backward(dout, cache), numerical_gradient(f, x, dout)) < TOL
    big = np.ones((400, 500))
    out, _ = layers.dropout_forward(big, p, "train", np.random.default_rng(9))
    assert np.mean(out == 0) == pytest.approx(p, abs=0.005)  # SE sqrt(p(1-p)/2e5) ~ 0.0011
    assert out.mean() == pytest.approx(1.0, abs=0.01)  # inverted dropout keeps the expectation
    np.testing.assert_array_equal(layers.dropout_forward(x, p, "test", None)[0], x)
    with pytest.raises(ValueError):
        layers.dropout_forward(x, 1.0, "train", rng)
    with pytest.raises(ValueError):
        layers.dropout_forward(x, 0.5, "eval", rng)


# --- network.py: the fused fast path ---------------------------------------------------------------


def test_unknown_norm():
    with pytest.raises(ValueError, match="none, bn, bn_post"):
        network.check_norm("layer")
    with pytest.raises(ValueError):
        network.layer_forward(np.ones((2, 2)), np.ones((2, 2)), "tanh", "ln")


def _reference_layer(x, w, act, norm):
    """The same layer composed from layers.py (gamma = 1, beta = 0, train mode)."""
    d = w.shape[1]
    one, zero = np.ones(d), np.zeros(d)
    a, c_fc = layers.affine_forward(x, w)
    if norm == "bn":
        z, c_bn = layers.batchnorm_forward(a, one, zero, {"mode": "train"})
        h, c_act = layers.activation_forward(z, act)
    else:
        h, c_act = layers.activation_forward(a, act)
        c_bn = None
        if norm == "bn_post":
            h, c_bn = layers.batchnorm_forward(h, one, zero, {"mode": "train"})

    def backward(dh):
        if norm == "bn_post":
            dh = layers.batchnorm_backward(dh, c_bn)[0]
        dz = layers.activation_backward(dh, c_act)
        if norm == "bn":
            dz = layers.batchnorm_backward(dz, c_bn)[0]
        return layers.affine_backward(dz, c_fc)

    return h, backward


@pytest.mark.parametrize("norm", network.NORMS)
@pytest.mark.parametrize("act", ["tanh", "relu", "gelu"])
def test_network_layer_matches_layers_py(norm, act):
    rng = _rng(10)
    x, w, dh = rng.standard_normal((30, 8)), rng.standard_normal((8, 6)) / 3, rng.standard_normal((30, 6))
    h_ref, backward = _reference_layer(x, w, act, norm)
    seen = []
    h, cache = network.layer_forward(x, w, act, norm, on_preact=lambda a: seen.append(a.copy()))
    np.testing.assert_allclose(h, h_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(seen[0], x @ w, rtol=1e-14)
    dx_ref, dw_ref = backward(dh)
    dx, dw, db = network.layer_backward(dh.copy(), cache)
    assert db is None  # no bias given
    np.testing.assert_allclose(dx, dx_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dw, dw_ref, rtol=1e-10, atol=1e-12)
    assert network.layer_backward(dh.copy(), cache, need_dx=False)[0] is None


@pytest.mark.parametrize("norm", network.NORMS)
def test_three_layer_network_gradcheck(norm):
    rng = _rng(11)
    x = rng.standard_normal((6, 4))
    weights = [rng.standard_normal((4, 4)) * 0.8 for _ in range(3)]
    g = rng.standard_normal((6, 4))

    def loss():
        return float(np.sum(network.forward(x, weights, "tanh", norm)[0] * g))

    _h, caches = network.forward(x, weights, "tanh", norm)
    dx, dws, _dbs = network.backward(g, caches)
    assert rel_error(dx, numerical_gradient(lambda v: loss(), x)) < TOL
    for w, dw in zip(weights, dws):
        assert rel_error(dw, numerical_gradient(lambda v: loss(), w)) < TOL
    # backward copies its input gradient: a second call gives the same answer
    np.testing.assert_array_equal(network.backward(g, caches)[1][0], dws[0])
