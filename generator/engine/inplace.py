"""Batch norm and dropout in place, for the training fast path (mlp_fast.py).

Each function mirrors a ``layers.py`` function operation for operation (the same floating-point
operations on the same operands, in the same order), only writing into buffers it is given; so the
fast path reproduces the reference bit for bit (tests/test_training_fast.py).

Arrays carry a leading seed axis: activations (S, N, D), per-feature vectors (S, D). Every reduction
runs over the batch axis (-2) of one seed's C-contiguous (N, D) slice, which numpy sums row after row
exactly as it sums axis 0 of that slice alone; elementwise operations are the same IEEE operations
whatever the shape. So seed s of a stack gets the bits of a run of seed s alone (tested).
"""

from __future__ import annotations

import numpy as np

_BN_EPS, _BN_MOMENTUM = 1e-5, 0.1  # layers.batchnorm_forward's defaults


class RunningStats:
    """One BN layer's running statistics for S seeds: ``mean`` (S, D) zeros and ``var`` (S, D) ones at
    first (``layers.batchnorm_forward``'s defaults), PyTorch's update with momentum 0.1, eps 1e-5.
    Updated in place (``(1 − m)·r`` then ``+ m·x``: the reference's two products and one sum), so
    views of one seed's row stay current."""

    def __init__(self, s, d):
        self.mean, self.var = np.zeros((s, d)), np.ones((s, d))
        self.eps, self.momentum = _BN_EPS, _BN_MOMENTUM


def _bn_train(a, gamma, beta, stats: RunningStats, out, tmp, update):
    """Train-mode batch norm (``layers.batchnorm_forward``): ``a`` (S, N, D) becomes x̂, ``out`` (S, N, D)
    receives γ x̂ + β (``out`` may be ``a``; then x̂ is not kept). gamma, beta: (S, D).
    tmp: (S, N, D) scratch or None. update: refresh the running statistics ``stats`` (PyTorch rule).

    Returns inv_std (S, D).
    """
    n = a.shape[-2]
    if n < 2:
        raise ValueError("batchnorm in train mode needs at least 2 samples per batch")
    mu = np.add.reduce(a, axis=-2)
    mu /= n
    a -= mu[:, None]  # x − μ: what ndarray.var subtracts, and the numerator of x̂
    sq = np.multiply(a, a, out=tmp)
    var = np.add.reduce(sq, axis=-2)
    var /= n  # biased: this is what normalises the batch
    if update:
        m = stats.momentum
        stats.mean *= 1 - m
        stats.mean += m * mu
        stats.var *= 1 - m
        stats.var += m * var * (n / (n - 1))
    var += stats.eps
    inv_std = np.sqrt(var, out=var)
    np.divide(1.0, inv_std, out=inv_std)
    a *= inv_std[:, None]
    np.multiply(a, gamma[:, None], out=out)
    out += beta[:, None]
    return inv_std


def _bn_test(a, gamma, beta, stats: RunningStats):
    """Test-mode batch norm in place on ``a`` (S, N, D): γ (a − running_mean) / sqrt(running_var + eps) + β."""
    inv_std = 1.0 / np.sqrt(stats.var + stats.eps)
    a -= stats.mean[:, None]
    a *= inv_std[:, None]
    a *= gamma[:, None]
    a += beta[:, None]


def _bn_train_backward(dout, xhat, gamma, inv_std, dgamma, dbeta, tmp):
    """Train-mode ``layers.batchnorm_backward`` in place: ``dout`` (S, N, D) becomes dL/da.

    xhat (S, N, D), gamma and inv_std (S, D) from the forward; dgamma, dbeta (S, D) receive their
    gradients; tmp (S, N, D) scratch. dx = inv_std/N · (N dx̂ − Σ dx̂ − x̂ Σ(dx̂ x̂)), dx̂ = dout γ.
    """
    n = dout.shape[-2]
    np.add.reduce(dout, axis=-2, out=dbeta)
    np.add.reduce(np.multiply(dout, xhat, out=tmp), axis=-2, out=dgamma)
    dxhat = np.multiply(dout, gamma[:, None], out=dout)
    s1 = np.add.reduce(dxhat, axis=-2)
    s2 = np.add.reduce(np.multiply(dxhat, xhat, out=tmp), axis=-2)
    dxhat *= n
    dxhat -= s1[:, None]
    dxhat -= np.multiply(xhat, s2[:, None], out=tmp)
    dxhat *= (inv_std / n)[:, None]
    return dxhat


def _dropout(h, p, rngs, mask):
    """Inverted dropout in place on h (S, N, D), mask (S, N, D) receiving (u >= p) / (1 − p), u ~ U[0, 1)
    from one ``rngs[s].random((N, D))`` draw per seed: ``layers.dropout_forward`` with its arrays reused."""
    for rng, m in zip(rngs, mask):
        rng.random(out=m)
    np.greater_equal(mask, p, out=mask)
    mask /= 1.0 - p
    h *= mask
