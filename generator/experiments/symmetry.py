"""The symmetry experiment: does one SGD step break the symmetry between hidden units?

Contract
--------
``run_symmetry(...)`` builds a small regression problem -- X ~ N(0,1) of shape (samples, width),
y = X w_true + 0.01 noise -- and an MLP with ``depth`` hidden layers of ``width`` units plus one linear
output unit, every weight matrix (output included) drawn with the same scheme, no biases. It takes ONE
full-batch SGD step on the MSE loss mean((y_hat - y)^2) using the ``layers.py`` forward/backward pairs and
reports, per hidden layer and phase ("before"/"after" the step):

* ``distinct_units``: distinct hidden-unit activation columns of H_l, by EXACT equality;
* ``distinct_weights``: distinct incoming weight vectors (columns of W_l), by exact equality.

With ``zeros`` or ``constant`` every unit of a layer computes the same function and receives the same
gradient, so both counts are 1 before and after; a random init gives ``width`` (except that ReLU units
dead on every sample all output exactly 0 and so count as one).
Randomness: ``SeedSequence(seed).spawn(3)`` -> data stream, weight stream, noise stream.

Why the affine products here do not use BLAS: a counting experiment on *exact* equality needs identical
columns to be computed by identical arithmetic. BLAS GEMM kernels handle the edge of their register tile
with different code (different FMA/summation order), so equal columns can differ by 1 ulp -- with width 37
on the development machine a constant init showed 2 "distinct" units after one step. ``_matmul`` forms all
products and sums them along the shared axis with plain adds, the same sequence for every column. The
activation layers are ``layers.activation_forward``/``activation_backward``; the affine pair mirrors
``layers.affine_forward``/``affine_backward`` with that product. Sizes are tiny, so speed is irrelevant.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from generator.engine import layers
from generator.engine.activations import get_activation
from generator.engine.inits import INITS, get_init
from generator.engine.inits import constant as constant_init

__all__ = ["run_symmetry", "SYMMETRY_INITS"]

SYMMETRY_INITS = ("constant", *INITS)


def _draw(init, fan_in, fan_out, rng, value, gain):
    if init == "constant":
        return constant_init(fan_in, fan_out, rng, value=value)
    return get_init(init)(fan_in, fan_out, rng, gain=gain)


def _matmul(a, b):
    """a @ b with the same operation sequence for every output column (see module doc)."""
    return (a[:, :, None] * b[None, :, :]).sum(axis=1)


def _affine_forward(x, w):
    """layers.affine_forward with the column-exact product: returns (x @ w, (x, w))."""
    return _matmul(x, w), (x, w)


def _affine_backward(dout, cache):
    """layers.affine_backward with the column-exact product: returns (dout @ w.T, x.T @ dout)."""
    x, w = cache
    return _matmul(dout, w.T), _matmul(x.T, dout)


def _forward(x, weights, activation):
    hs, caches = [], []
    h = x
    for w in weights[:-1]:
        a, fc_cache = _affine_forward(h, w)
        h, act_cache = layers.activation_forward(a, activation)
        hs.append(h)
        caches.append((fc_cache, act_cache))
    y_hat, out_cache = _affine_forward(h, weights[-1])
    return hs, caches, y_hat, out_cache


def _distinct_rows(a):
    return int(np.unique(a, axis=0).shape[0])


def run_symmetry(*, init, activation, samples, width, depth, learning_rate, seed, constant=0.1) -> pd.DataFrame:
    """One SGD step on a ``depth``-hidden-layer MLP; count distinct units and weight vectors.

    Inputs: init ("constant" or an INITS key), activation (ACTIVATIONS key), samples, width, depth
    (positive ints), learning_rate (float), seed (int), constant (the value for init="constant").
    Returns DataFrame(layer, phase, distinct_units, distinct_weights), 2 * depth rows.
    """
    if init not in SYMMETRY_INITS:
        raise ValueError(f"unknown init {init!r}; valid: {', '.join(SYMMETRY_INITS)}")
    act = get_activation(activation)
    data_ss, weight_ss, noise_ss = np.random.SeedSequence(seed).spawn(3)
    data_rng = np.random.default_rng(data_ss)
    x = data_rng.standard_normal((samples, width))
    w_true = data_rng.standard_normal((width, 1)) / np.sqrt(width)
    y = x @ w_true + 0.01 * np.random.default_rng(noise_ss).standard_normal((samples, 1))

    rng = np.random.default_rng(weight_ss)
    weights = [_draw(init, width, width, rng, constant, act.gain) for _ in range(depth)]
    weights.append(_draw(init, width, 1, rng, constant, act.gain))

    rows = []

    def record(phase, hs):
        for l, (h, w) in enumerate(zip(hs, weights[:-1]), start=1):
            rows.append((l, phase, _distinct_rows(h.T), _distinct_rows(w.T)))

    hs, caches, y_hat, out_cache = _forward(x, weights, act)
    record("before", hs)

    # MSE = mean((y_hat - y)^2)  ->  dMSE/dy_hat = 2 (y_hat - y) / N
    dout = 2.0 * (y_hat - y) / samples
    dh, dw_out = _affine_backward(dout, out_cache)
    grads = [None] * depth + [dw_out]
    for l in range(depth - 1, -1, -1):
        fc_cache, act_cache = caches[l]
        dh, grads[l] = _affine_backward(layers.activation_backward(dh, act_cache), fc_cache)
    weights = [w - learning_rate * dw for w, dw in zip(weights, grads)]

    hs, _, _, _ = _forward(x, weights, act)
    record("after", hs)
    return pd.DataFrame(rows, columns=["layer", "phase", "distinct_units", "distinct_weights"])
