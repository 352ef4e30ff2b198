"""Batch norm and dropout in place, for the training fast path (mlp_fast.py).

Each function mirrors a ``layers.py`` function operation for operation (the same floating-point
operations on the same operands, in the same order), only writing into buffers it is given; so the
fast path reproduces the reference bit for bit (tests/test_training_fast.py).
"""

from __future__ import annotations

import numpy as np

_BN_EPS, _BN_MOMENTUM = 1e-5, 0.1  # layers.batchnorm_forward's defaults


def _bn_stats(bn_param, d):
    """(running_mean, running_var, eps, momentum) of one layer, with layers.batchnorm_forward's defaults
    (statistics created on first use: zeros and ones of length d)."""
    if "running_mean" not in bn_param:  # not setdefault: its default would be built on every call
        bn_param["running_mean"] = np.zeros(d)
    if "running_var" not in bn_param:
        bn_param["running_var"] = np.ones(d)
    return bn_param["running_mean"], bn_param["running_var"], bn_param.get("eps", _BN_EPS), bn_param.get("momentum", _BN_MOMENTUM)


def _bn_train(a, gamma, beta, bn_param, out, tmp, update):
    """Train-mode batch norm (``layers.batchnorm_forward``): ``a`` (N, D) becomes x̂, ``out`` (N, D)
    receives γ x̂ + β (``out`` may be ``a``; then x̂ is not kept). gamma, beta: (D,).
    tmp: (N, D) scratch or None. update: refresh the running statistics in ``bn_param`` (PyTorch rule).

    Returns inv_std (D,).
    """
    n = a.shape[0]
    if n < 2:
        raise ValueError("batchnorm in train mode needs at least 2 samples per batch")
    rm, rv, eps, momentum = _bn_stats(bn_param, a.shape[1])
    mu = np.add.reduce(a, axis=0)
    mu /= n
    a -= mu  # x − μ: what ndarray.var subtracts, and the numerator of x̂
    sq = np.multiply(a, a, out=tmp)
    var = np.add.reduce(sq, axis=0)
    var /= n  # biased: this is what normalises the batch
    if update:
        bn_param["running_mean"] = (1 - momentum) * rm + momentum * mu
        bn_param["running_var"] = (1 - momentum) * rv + momentum * var * (n / (n - 1))
    var += eps
    inv_std = np.sqrt(var, out=var)
    np.divide(1.0, inv_std, out=inv_std)
    a *= inv_std
    np.multiply(a, gamma, out=out)
    out += beta
    return inv_std


def _bn_test(a, gamma, beta, bn_param):
    """Test-mode batch norm in place on ``a`` (N, D): γ (a − running_mean) / sqrt(running_var + eps) + β."""
    rm, rv, eps, _ = _bn_stats(bn_param, a.shape[1])
    inv_std = 1.0 / np.sqrt(rv + eps)
    a -= rm
    a *= inv_std
    a *= gamma
    a += beta


def _bn_train_backward(dout, xhat, gamma, inv_std, dgamma, dbeta, tmp):
    """Train-mode ``layers.batchnorm_backward`` in place: ``dout`` (N, D) becomes dL/da.

    xhat (N, D), gamma and inv_std (D,) from the forward; dgamma, dbeta (D,) receive their gradients;
    tmp (N, D) scratch. dx = inv_std/N · (N dx̂ − Σ dx̂ − x̂ Σ(dx̂ x̂)), dx̂ = dout γ.
    """
    n = dout.shape[0]
    np.add.reduce(dout, axis=0, out=dbeta)
    np.add.reduce(np.multiply(dout, xhat, out=tmp), axis=0, out=dgamma)
    dxhat = np.multiply(dout, gamma, out=dout)
    s1 = np.add.reduce(dxhat, axis=0)
    s2 = np.add.reduce(np.multiply(dxhat, xhat, out=tmp), axis=0)
    dxhat *= n
    dxhat -= s1
    dxhat -= np.multiply(xhat, s2, out=tmp)
    dxhat *= inv_std / n
    return dxhat


def _dropout(h, p, rng, mask):
    """Inverted dropout in place on h (N, D), mask (N, D) receiving (u >= p) / (1 − p), u ~ U[0, 1)
    from one ``rng.random((N, D))`` draw: ``layers.dropout_forward`` with its arrays reused."""
    rng.random(out=mask)
    np.greater_equal(mask, p, out=mask)
    mask /= 1.0 - p
    h *= mask
