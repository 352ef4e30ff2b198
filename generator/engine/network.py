"""The deep MLP used by the experiments: forward and backward through ``depth`` layers, bias optional.

Contract
--------
* Layer l maps ``X_l`` (N, fan_in) to ``H_l`` (N, width) with ``A_l = X_l @ W_l`` (``+ b_l``, shape
  (width,), broadcast over the batch, when the layer has a bias; with ``b=None`` nothing is added, not
  even 0.0, so a bias-free layer is bit-for-bit the code path without bias support) and, per ``norm``:
  ``"none"``: H = phi(A); ``"bn"``: H = phi(BN(A)) (Ioffe & Szegedy's placement);
  ``"bn_post"``: H = BN(phi(A)). BN is train-mode batch norm with gamma = 1, beta = 0, eps = 1e-5
  (biased batch variance), i.e. the maths of ``layers.batchnorm_forward`` without parameters or
  running statistics.
* This is the fast path of ``layers.py``: the same maths fused and done in place, and each cache keeps
  only what backward needs -- the layer input X (shared with the previous layer's output, not a copy),
  phi' at the activation input (also what saturation statistics read) and, with BN, xhat and 1/std.
  ``tests/test_layers.py`` checks it against the ``layers.py`` composition and by centred differences.
* ``layer_backward`` consumes (overwrites) the upstream gradient it is given; caches are not modified.
  It returns (dx, dw, db) like CS231n's ``affine_backward``; db = sum over the batch of dL/dA, None for
  a layer without bias. (A bias before ``"bn"`` is removed by the BN mean, so its db is 0 to rounding.)
* No warnings are suppressed here; callers that may overflow wrap calls in ``np.errstate``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from generator.engine.activations import Activation, get_activation

__all__ = ["NORMS", "BN_EPS", "check_norm", "LayerCache", "layer_forward", "layer_backward", "forward", "backward"]

NORMS = ("none", "bn", "bn_post")
BN_EPS = 1e-5


def check_norm(norm: str) -> str:
    """Return ``norm`` if it is one of NORMS, else raise ValueError listing the valid names."""
    if norm not in NORMS:
        raise ValueError(f"unknown norm {norm!r}; valid: {', '.join(NORMS)}")
    return norm


class LayerCache(NamedTuple):
    """What one layer's backward needs. dphi: phi' at the activation input, shape (N, width);
    xhat / inv_std: normalised values (N, width) and 1/sqrt(var + eps) (width,), None without BN;
    b: the bias (width,) or None (backward only needs to know whether there is one)."""

    x: np.ndarray
    w: np.ndarray
    norm: str
    dphi: np.ndarray
    xhat: np.ndarray | None
    inv_std: np.ndarray | None
    b: np.ndarray | None = None


def _bn_inplace(a, eps):
    """Normalise each column of ``a`` in place to zero mean, unit (biased) variance; return 1/std."""
    n = a.shape[0]
    a -= a.mean(axis=0)
    var = np.einsum("ij,ij->j", a, a) / n
    inv_std = 1.0 / np.sqrt(var + eps)
    a *= inv_std
    return inv_std


def _bn_backward_inplace(dxhat, xhat, inv_std):
    """Train-mode BN backward (gamma = 1) written into ``dxhat``:
    dA = inv_std * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), means over the batch axis."""
    n = dxhat.shape[0]
    m2 = np.einsum("ij,ij->j", dxhat, xhat) / n
    dxhat -= dxhat.mean(axis=0)
    dxhat -= xhat * m2
    dxhat *= inv_std
    return dxhat


def layer_forward(
    x,
    w,
    activation,
    norm="none",
    *,
    b=None,
    eps=BN_EPS,
    on_preact: Callable | None = None,
    preact=None,
    w_zero=False,
):
    """One layer forward.

    Inputs:
    - x: layer input, shape (N, D); not modified
    - w: weights, shape (D, M); not modified
    - activation: ACTIVATIONS key or Activation
    - norm: one of NORMS
    - b: bias, shape (M,), or None for a bias-free layer; not modified
    - eps: BN epsilon
    - on_preact: optional callback receiving A = x @ w (+ b) (N, M) before it is overwritten in place
    - preact: A = x @ w (without b) already computed by the caller (N, M), writable; it is overwritten
      in place (b is added to it)
    - w_zero: the caller knows w == 0 (and x is finite), so x @ w = 0 exactly and the GEMM is skipped

    Returns (h, cache): h of shape (N, M) and a :class:`LayerCache`.
    """
    act: Activation = get_activation(activation)
    check_norm(norm)
    if preact is not None:
        a = preact
    elif w_zero:
        a = np.zeros((x.shape[0], w.shape[1]), dtype=np.result_type(x, w))
    else:
        a = x @ w
    if b is not None:
        a += b
    if on_preact is not None:
        on_preact(a)
    xhat = inv_std = None
    if norm == "bn":
        inv_std = _bn_inplace(a, eps)  # a now holds xhat, kept for BN backward
        xhat = a
        h, dphi = act.forward_and_derivative(a)
    else:
        h, dphi = act.forward_and_derivative(a, out=a)  # A itself is not needed by backward: dphi is
        if norm == "bn_post":
            inv_std = _bn_inplace(h, eps)
            xhat = h  # the layer output IS xhat (gamma = 1, beta = 0)
    return h, LayerCache(x, w, norm, dphi, xhat, inv_std, b)


def layer_backward(dh, cache: LayerCache, need_dx=True, *, dh_zero=False, w_zero=False):
    """One layer backward.

    Inputs:
    - dh: upstream gradient dL/dH, shape (N, M); overwritten
    - cache: from :func:`layer_forward`
    - need_dx: skip the dX GEMM when False (the first layer's input needs no gradient)
    - dh_zero / w_zero: the caller knows dh == 0 / w == 0 (other operands finite), so the GEMMs whose
      product is exactly 0 are skipped and zeros returned: dW = X^T dA is 0 when dA is, dX = dA W^T is 0
      when dA or W is (every elementwise step maps a zero dh to a zero dA)

    Returns (dx, dw, db): dx of shape (N, D) or None; dw of shape (D, M); db of shape (M,), or None
    when the layer has no bias.
    """
    if cache.norm == "bn_post":
        dh = _bn_backward_inplace(dh, cache.xhat, cache.inv_std)
    da = np.multiply(dh, cache.dphi, out=dh)
    if cache.norm == "bn":
        da = _bn_backward_inplace(da, cache.xhat, cache.inv_std)
    x, w = cache.x, cache.w
    dw = np.zeros((x.shape[1], da.shape[1]), dtype=np.result_type(x, da)) if dh_zero else x.T @ da
    db = None if cache.b is None else da.sum(axis=0)
    if not need_dx:
        return None, dw, db
    if dh_zero or w_zero:
        return np.zeros((da.shape[0], w.shape[0]), dtype=np.result_type(da, w)), dw, db
    return da @ w.T, dw, db


def forward(x, weights, activation, norm="none", *, biases=None, eps=BN_EPS):
    """Run all layers. x: (N, D); weights: sequence of (D_l, M_l) arrays; biases: None (no bias anywhere)
    or a sequence of (M_l,) arrays, one per layer.
    Returns (h, caches): the last layer's output and one LayerCache per layer."""
    if biases is not None and len(biases) != len(weights):
        raise ValueError(f"got {len(biases)} biases for {len(weights)} weight matrices")
    caches = []
    h = x
    for l, w in enumerate(weights):
        h, cache = layer_forward(h, w, activation, norm, b=None if biases is None else biases[l], eps=eps)
        caches.append(cache)
    return h, caches


def backward(dout, caches, need_dx=True):
    """Backpropagate ``dout`` = dL/dH_L (copied, not consumed) through ``caches``.
    Returns (dx, dws, dbs): dL/dX (None unless need_dx), the list of dL/dW_l and the list of dL/db_l
    (None entries for layers without bias)."""
    dh = np.array(dout, copy=True)
    dws: list = [None] * len(caches)
    dbs: list = [None] * len(caches)
    for l in range(len(caches) - 1, -1, -1):
        dh, dws[l], dbs[l] = layer_backward(dh, caches[l], need_dx=need_dx or l > 0)
    return dh, dws, dbs
