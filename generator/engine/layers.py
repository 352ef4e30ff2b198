"""Layer functions in the CS231n assignment-2 style: paired ``*_forward -> (out, cache)`` and
``*_backward(dout, cache) -> grads``.

Contract
--------
* Each forward returns the output and a cache holding exactly what its backward needs; each backward
  takes the upstream gradient ``dout`` (same shape as ``out``) and that cache. Backwards never mutate
  their cache, so they can be called more than once (gradient checks do).
* Pure NumPy, any float dtype; randomness (dropout) only from an explicit ``np.random.Generator``.
* These are the readable reference versions. ``network.py`` runs the same maths fused and in place for
  speed; ``tests/test_layers.py`` checks that both agree and that both pass centred-difference checks.
* Batch norm follows PyTorch's conventions (see :func:`batchnorm_forward`).
"""

from __future__ import annotations

import numpy as np

from generator.engine.activations import get_activation

__all__ = [
    "affine_forward",
    "affine_backward",
    "activation_forward",
    "activation_backward",
    "batchnorm_forward",
    "batchnorm_backward",
    "dropout_forward",
    "dropout_backward",
    "affine_act_forward",
    "affine_act_backward",
    "affine_bn_act_forward",
    "affine_bn_act_backward",
    "BN_MODES",
    "DROPOUT_MODES",
]

BN_MODES = ("train", "test")
DROPOUT_MODES = ("train", "test")


def affine_forward(x, w):
    """Affine layer without bias: out = x @ w.

    Inputs:
    - x: array of shape (N, D), a minibatch of N examples
    - w: weights, shape (D, M)

    Returns (out, cache): out of shape (N, M); cache = (x, w).
    """
    return x @ w, (x, w)


def affine_backward(dout, cache):
    """Backward pass for :func:`affine_forward`.

    Inputs:
    - dout: upstream gradient, shape (N, M)
    - cache: (x, w) with x of shape (N, D), w of shape (D, M)

    Returns (dx, dw): dx = dout @ w.T of shape (N, D); dw = x.T @ dout of shape (D, M).
    """
    x, w = cache
    return dout @ w.T, x.T @ dout


def activation_forward(x, name):
    """Elementwise activation y = phi(x).

    Inputs:
    - x: array of any shape
    - name: an ACTIVATIONS key (or an Activation)

    Returns (out, cache): out has x's shape; cache = (x, activation).
    """
    act = get_activation(name)
    return act.forward(x), (x, act)


def activation_backward(dout, cache):
    """dx = dout * phi'(x). dout: upstream gradient, x's shape; cache from :func:`activation_forward`."""
    x, act = cache
    return dout * act.derivative(x)


def batchnorm_forward(x, gamma, beta, bn_param):
    """Batch normalization (Ioffe & Szegedy 2015) with PyTorch's running-statistics convention.

    Train mode normalises with the batch mean and the *biased* batch variance, and updates
    ``running = (1 - momentum) * running + momentum * batch`` using the *unbiased* batch variance
    (N/(N-1) correction), exactly like ``torch.nn.BatchNorm1d``. Test mode uses the running statistics.

    Inputs:
    - x: data of shape (N, D)
    - gamma: scale, shape (D,)
    - beta: shift, shape (D,)
    - bn_param: dict, updated in place:
      - mode: 'train' or 'test' (required; anything else raises ValueError)
      - eps: added to the variance for stability (default 1e-5)
      - momentum: running-statistics momentum (default 0.1)
      - running_mean: shape (D,), initialised to zeros when absent
      - running_var: shape (D,), initialised to ones when absent

    Returns (out, cache): out of shape (N, D); cache for :func:`batchnorm_backward`.
    """
    mode = bn_param.get("mode")
    if mode not in BN_MODES:
        raise ValueError(f"unknown batchnorm mode {mode!r}; valid: {', '.join(BN_MODES)}")
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.1)
    n, d = x.shape
    running_mean = bn_param.setdefault("running_mean", np.zeros(d, dtype=x.dtype))
    running_var = bn_param.setdefault("running_var", np.ones(d, dtype=x.dtype))

    if mode == "train":
        if n < 2:
            raise ValueError("batchnorm in train mode needs at least 2 samples per batch")
        mu = x.mean(axis=0)
        var = x.var(axis=0)  # biased: this is what normalises the batch
        bn_param["running_mean"] = (1 - momentum) * running_mean + momentum * mu
        bn_param["running_var"] = (1 - momentum) * running_var + momentum * var * (n / (n - 1))
    else:
        mu, var = running_mean, running_var
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = (x - mu) * inv_std
    out = gamma * xhat + beta
    return out, (mode, xhat, gamma, inv_std)


def batchnorm_backward(dout, cache):
    """Backward pass for :func:`batchnorm_forward`.

    Inputs:
    - dout: upstream gradient, shape (N, D)
    - cache: from batchnorm_forward

    Returns (dx, dgamma, dbeta) of shapes (N, D), (D,), (D,).
    In train mode the batch statistics depend on x, giving the compact form
    dx = inv_std/N * (N dxhat - sum(dxhat) - xhat * sum(dxhat * xhat)); in test mode they are constants.
    """
    mode, xhat, gamma, inv_std = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dxhat = dout * gamma
    if mode == "test":
        return dxhat * inv_std, dgamma, dbeta
    n = dout.shape[0]
    dx = (inv_std / n) * (n * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0))
    return dx, dgamma, dbeta


def dropout_forward(x, p, mode, rng):
    """Inverted dropout: in train mode zero each entry with probability ``p`` and scale the survivors
    by 1/(1-p), so test mode is the identity. ``p`` is the DROP probability (PyTorch's convention, not
    the keep probability of some CS231n versions).

    Inputs:
    - x: array of any shape
    - p: drop probability in [0, 1)
    - mode: 'train' or 'test'
    - rng: np.random.Generator supplying the mask (same generator state -> same mask)

    Returns (out, cache): cache = (mode, mask) where mask already includes the 1/(1-p) scale.
    """
    if mode not in DROPOUT_MODES:
        raise ValueError(f"unknown dropout mode {mode!r}; valid: {', '.join(DROPOUT_MODES)}")
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout p must be in [0, 1), got {p!r}")
    if mode == "test":
        return x, (mode, None)
    mask = (rng.random(x.shape) >= p).astype(x.dtype) / (1.0 - p)
    return x * mask, (mode, mask)


def dropout_backward(dout, cache):
    """dx = dout * mask in train mode, dout in test mode. dout: x's shape; cache from dropout_forward."""
    mode, mask = cache
    return dout if mode == "test" else dout * mask


# --- sandwich layers (CS231n layer_utils) ---------------------------------------------------------


def affine_act_forward(x, w, activation):
    """affine -> activation. Returns (out, cache)."""
    a, fc_cache = affine_forward(x, w)
    out, act_cache = activation_forward(a, activation)
    return out, (fc_cache, act_cache)


def affine_act_backward(dout, cache):
    """Backward for :func:`affine_act_forward`; returns (dx, dw)."""
    fc_cache, act_cache = cache
    return affine_backward(activation_backward(dout, act_cache), fc_cache)


def affine_bn_act_forward(x, w, gamma, beta, bn_param, activation):
    """affine -> batch norm -> activation (Ioffe & Szegedy placement). Returns (out, cache)."""
    a, fc_cache = affine_forward(x, w)
    z, bn_cache = batchnorm_forward(a, gamma, beta, bn_param)
    out, act_cache = activation_forward(z, activation)
    return out, (fc_cache, bn_cache, act_cache)


def affine_bn_act_backward(dout, cache):
    """Backward for :func:`affine_bn_act_forward`; returns (dx, dw, dgamma, dbeta)."""
    fc_cache, bn_cache, act_cache = cache
    dz = activation_backward(dout, act_cache)
    da, dgamma, dbeta = batchnorm_backward(dz, bn_cache)
    dx, dw = affine_backward(da, fc_cache)
    return dx, dw, dgamma, dbeta
