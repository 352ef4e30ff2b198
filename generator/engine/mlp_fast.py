"""The training loop's fast path: :class:`model.MLP`'s maths fused, in place, in preallocated buffers.

Contract
--------
* :class:`FastMLP` wraps an :class:`~generator.engine.mlp.MLP` (which drew the initial weights) and
  computes exactly what the ``layers.py`` composition computes -- the same floating-point operations on
  the same operands in the same order, only written into reused buffers -- so a training run gives the
  same numbers bit for bit. ``model.MLP`` stays the readable reference; ``tests/test_training_fast.py``
  checks the two agree (logits, loss, every gradient, running statistics) and checks the fast gradients
  by centred differences.
* Parameters live in ONE flat float64 buffer (``flat``) and the gradients in another (``grad_flat``),
  with a view per parameter under the model's names (``W1``, ``b1``, ``gamma1`` ...). The wrapped
  model's ``params`` dict is rebound to those views, so the reference and the fast path always see the
  same parameters, and an SGD update is a handful of whole-buffer operations instead of a few per
  parameter. Each view starts on a 64-byte boundary; the padding between views is zero in both buffers
  and stays zero under :meth:`FastMLP.sgd_step`.
* Batch-norm running statistics stay in the wrapped model's ``bn_params`` dicts (same keys, defaults and
  PyTorch update rule as ``layers.batchnorm_forward``; entries are replaced, never mutated, as there).
* Why the reference's arithmetic and not cheaper algebra (``network.py``'s einsum form of batch norm,
  folding BN into W at test time): with the same operations a whole run reproduces the reference bit
  for bit (tested), so no argument is needed that rounding differences stay harmless in runs near the
  edge of stability (large learning rates and init scales), where SGD amplifies them. The
  float64 GEMMs, which no rewrite avoids, are most of a step anyway (~55 % of the stage, running at
  the core's peak); what is saved here is the rest: a fresh array per operation, the repeated
  ``x − μ``, the second ``tanh``/sigmoid of the activation derivative (taken from the activation's
  output), the unused input gradient of layer 1, per-parameter update loops and Python overhead.
* ReLU's forward is ``np.maximum`` against a zero *array* (:func:`_relu_into`): same function and
  results as ``activations.relu``, ~3.5x faster than against the scalar 0.
* Randomness: dropout masks come only from the ``rng`` argument, drawn in the reference's order (layer
  1 to ``depth``, one ``rng.random((N, width))`` each), so the same generator state gives the same masks.
* No warnings are suppressed here; the training loop wraps calls in ``np.errstate``.
"""

from __future__ import annotations

import numpy as np

from generator.engine.activations import get_activation
from generator.engine.inplace import _bn_test, _bn_train, _bn_train_backward, _dropout
from generator.engine.mlp import MLP

_ALIGN = 8  # float64 elements per 64 bytes: every parameter view starts on a cache-line boundary


def _dtanh_from_output(y, out):
    """tanh'(x) = 1 − tanh(x)², from y = tanh(x): the same operations as activations._tanh_d."""
    np.square(y, out=out)
    return np.subtract(1.0, out, out=out)


def _dsigmoid_from_output(y, out):
    """σ'(x) = σ(x)(1 − σ(x)), from y = σ(x): one rounded product of the same two factors as
    activations._sigmoid_d, hence the same bits (tests compare them)."""
    np.subtract(1.0, y, out=out)
    return np.multiply(y, out, out=out)


# Activations whose derivative is cheaper from the output than from the input (and bit-identical).
_DPHI_FROM_OUTPUT = {"tanh": _dtanh_from_output, "sigmoid": _dsigmoid_from_output}


def _relu_into(x, zeros, out):
    """max(x, 0) as activations._relu computes it (``np.maximum``: NaN kept, −0.0 kept, −inf -> 0), with
    the 0 given as an array of x's shape: numpy's vectorised loop for two arrays is ~3.5x faster than
    its loop for an array and a scalar (same elementwise results)."""
    return np.maximum(x, zeros, out=out)


def _flat_views(shapes: dict[str, tuple[int, ...]]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """One zeroed float64 buffer holding an array per entry of ``shapes`` (name -> shape).

    Returns (flat, views): ``flat`` covers every view and the zero padding between them; each view is
    C-contiguous and starts 64-byte aligned.
    """
    offsets, total = {}, 0
    for name, shape in shapes.items():
        offsets[name] = total
        size = int(np.prod(shape))
        total += -(-size // _ALIGN) * _ALIGN
    raw = np.zeros(total + _ALIGN)
    start = (-raw.ctypes.data % 64) // raw.itemsize
    flat = raw[start:start + total]
    views = {name: flat[o:o + int(np.prod(shapes[name]))].reshape(shapes[name]) for name, o in offsets.items()}
    return flat, views


def softmax_loss_only(logits: np.ndarray, y: np.ndarray) -> float:
    """Mean softmax cross-entropy, the same operations as ``model.softmax_loss`` without its gradient.

    Inputs: logits (N, C) (not modified), y (N,) integer labels.
    """
    z = logits - logits.max(axis=1, keepdims=True)
    ez = np.exp(z)
    n = logits.shape[0]
    return float(-np.mean(z[np.arange(n), y] - np.log(ez.sum(axis=1))))


def softmax_loss_inplace(logits: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """``model.softmax_loss`` (loss and dL/dlogits) with ``logits`` overwritten by the gradient.

    Inputs: logits (N, C), y (N,). Returns (loss, dlogits) where dlogits IS ``logits``.
    """
    n = logits.shape[0]
    rows = np.arange(n)
    logits -= logits.max(axis=1, keepdims=True)  # z
    z_y = logits[rows, y]
    np.exp(logits, out=logits)  # ez
    s = logits.sum(axis=1)
    loss = float(-np.mean(z_y - np.log(s)))
    logits /= s[:, None]  # probs = ez / ez.sum(axis=1, keepdims=True)
    logits[rows, y] -= 1.0
    logits /= n
    return loss, logits


class _Buffers:
    """Per-layer work arrays for one batch size ``n`` (rows), reused on every step of that size.

    pre[l]:  (n, width) affine output, then (BN) x̂, kept for the backward
    z:       (n, width) BN output γ x̂ + β (the activation input), scratch
    h[l]:    (n, width) layer output = next layer's input (after dropout)
    dphi[l]: (n, width) φ' at the activation input
    mask[l]: (n, width) dropout mask including the 1/(1-p) scale (only with dropout)
    dh:      two (n, width) arrays, the upstream gradient ping-ponged between layers
    tmp:     (n, width) scratch; logits: (n, 10)
    zeros:   (n, width) zeros, the second operand of ReLU (never written)
    """

    def __init__(self, n, width, depth, n_out, dropout):
        new = lambda: np.empty((n, width))  # noqa: E731
        self.pre = [new() for _ in range(depth)]
        self.h = [new() for _ in range(depth)]
        self.dphi = [new() for _ in range(depth)]
        self.mask = [new() for _ in range(depth)] if dropout > 0 else None
        self.z, self.tmp = new(), new()
        self.dh = (new(), new())
        self.logits = np.empty((n, n_out))
        self.zeros = np.zeros((n, width))


class _InferBuffers:
    """Work arrays of an inference forward over ``n`` rows: two ping-pong (n, width) arrays, the logits
    (n, n_out) and (n, width) zeros for ReLU."""

    def __init__(self, n, width, n_out):
        self.h = (np.empty((n, width)), np.empty((n, width)))
        self.logits = np.empty((n, n_out))
        self.zeros = np.zeros((n, width))


class FastMLP:
    """The fast path of an :class:`MLP`: same parameters (shared views), same maths, reused buffers.

    model: the MLP to wrap; its ``params`` are moved into this object's flat buffer (the dict is rebound
    to the views, values unchanged) and its ``bn_params`` are used as the running statistics.
    """

    def __init__(self, model: MLP):
        self.model = model
        self.depth, self.dropout = model.depth, model.dropout
        self.act = get_activation(model.activation)
        self._dphi_from_output = _DPHI_FROM_OUTPUT.get(self.act.name)
        self._relu = self.act.name == "relu"
        shapes = {k: v.shape for k, v in model.params.items()}
        self.flat, self.params = _flat_views(shapes)
        self.grad_flat, self.grads = _flat_views(shapes)
        for k, v in model.params.items():
            self.params[k][...] = v
        model.params = self.params
        self.bn_params = model.bn_params
        d = self.depth
        self.n_in = self.params["W1"].shape[0]
        self.width = self.params[f"W{d}"].shape[1] if d else self.n_in
        self.n_out = self.params[f"W{d + 1}"].shape[1]
        # (W, b-or-None, gamma-or-None, beta-or-None) per layer, looked up once instead of every step
        p = self.params
        self._layers = [(p[f"W{l}"], p.get(f"b{l}"), p.get(f"gamma{l}"), p.get(f"beta{l}")) for l in range(1, d + 2)]
        g = self.grads
        self._glayers = [(g[f"W{l}"], g.get(f"b{l}"), g.get(f"gamma{l}"), g.get(f"beta{l}")) for l in range(1, d + 2)]
        self._inv_std = [None] * d
        self._train_bufs: dict[int, _Buffers] = {}
        self._infer_bufs: dict[int, _InferBuffers] = {}
        self.gemm_flops = 0.0  # matrix-multiply FLOPs done so far (2 m k n each), for `make bench`

    def _mm(self, a, b, out):
        """``np.matmul(a, b, out=out)``, counted in :attr:`gemm_flops`."""
        self.gemm_flops += 2.0 * a.shape[0] * a.shape[1] * b.shape[1]
        return np.matmul(a, b, out=out)

    # --- training step ---------------------------------------------------------------------------

    def loss_and_grads(self, x: np.ndarray, y: np.ndarray, rng=None) -> float:
        """Train-mode forward, softmax cross-entropy and backward on one minibatch.

        Inputs: x (N, n_in) the minibatch (C-contiguous float64, not modified; read again by the
        backward), y (N,) labels, rng: np.random.Generator for the dropout masks.
        Writes every gradient into :attr:`grads` (views of :attr:`grad_flat`), updates the running
        statistics like the reference's train mode, and returns the loss. Equals ``model.loss(x, y,
        "train", rng)`` bit for bit.
        """
        n = len(y)
        bufs = self._train_bufs.get(n)
        if bufs is None:
            bufs = self._train_bufs[n] = _Buffers(n, self.width, self.depth, self.n_out, self.dropout)
        x = np.ascontiguousarray(x, dtype=np.float64)
        h = self._forward_train(x, bufs, rng)
        loss, dlogits = softmax_loss_inplace(self._output(h, bufs.logits), y)
        self._backward(dlogits, x, bufs)
        return loss

    def _output(self, h, out):
        """logits = h W_out + b_out, written into ``out`` (N, n_out)."""
        w, b, _, _ = self._layers[-1]
        self._mm(h, w, out)
        out += b
        return out

    def _forward_train(self, x, bufs: _Buffers, rng):
        """Hidden layers in train mode, keeping what the backward needs in ``bufs``. Returns the last h."""
        h = x
        for l in range(self.depth):
            w, b, gamma, beta = self._layers[l]
            a = self._mm(h, w, bufs.pre[l])
            if gamma is not None:
                self._inv_std[l] = _bn_train(a, gamma, beta, self.bn_params[l], bufs.z, bufs.tmp, update=True)
                pre = bufs.z
            else:
                a += b
                pre = a
            h = self._activate(pre, bufs.h[l], bufs.dphi[l], bufs.zeros)
            if self.dropout > 0.0:
                _dropout(h, self.dropout, rng, bufs.mask[l])
        return h

    def _activate(self, pre, h, dphi, zeros):
        """h = φ(pre), dphi = φ'(pre); ``pre`` is left unchanged. All arrays (N, width); zeros for ReLU."""
        if self._dphi_from_output is None:
            self.act.derivative(pre, out=dphi)
            self._phi(pre, h, zeros)
        else:
            self.act.forward(pre, out=h)
            self._dphi_from_output(h, dphi)
        return h

    def _phi(self, x, out, zeros):
        """out = φ(x) (x may be out); zeros: x-shaped zeros, used by ReLU only."""
        return _relu_into(x, zeros, out) if self._relu else self.act.forward(x, out=out)

    def _backward(self, dlogits, x, bufs: _Buffers):
        """Backpropagate dL/dlogits (N, n_out) into :attr:`grads`; x (N, n_in) is the minibatch."""
        d = self.depth
        gw, gb, _, _ = self._glayers[d]
        h_last = bufs.h[d - 1] if d else x
        np.add.reduce(dlogits, axis=0, out=gb)
        self._mm(h_last.T, dlogits, gw)
        if d == 0:
            return
        dh = self._mm(dlogits, self._layers[d][0].T, bufs.dh[0])
        for l in range(d - 1, -1, -1):
            gw, gb, ggamma, gbeta = self._glayers[l]
            if self.dropout > 0.0:
                dh *= bufs.mask[l]
            da = np.multiply(dh, bufs.dphi[l], out=dh)
            if ggamma is not None:
                _bn_train_backward(da, bufs.pre[l], self._layers[l][2], self._inv_std[l], ggamma, gbeta, bufs.tmp)
            else:
                np.add.reduce(da, axis=0, out=gb)
            h_in = bufs.h[l - 1] if l else x
            self._mm(h_in.T, da, gw)
            if l:  # layer 1's input gradient is never used
                dh = self._mm(da, self._layers[l][0].T, bufs.dh[(d - l) % 2])

    # --- SGD -------------------------------------------------------------------------------------

    def sgd_step(self, learning_rate: float, momentum: float = 0.0, velocity: np.ndarray | None = None) -> None:
        """θ −= η g (plain), or v = μ v − η g; θ += v (momentum) -- over the whole flat buffer at once.

        velocity: array shaped like :attr:`flat` (momentum only). Consumes :attr:`grad_flat` (scaled by η).
        """
        g = np.multiply(self.grad_flat, learning_rate, out=self.grad_flat)
        if velocity is None:
            self.flat -= g
        else:
            velocity *= momentum
            velocity -= g
            self.flat += velocity

    def params_finite(self) -> bool:
        """True when every parameter is finite."""
        return bool(np.isfinite(self.flat).all())

    # --- inference -------------------------------------------------------------------------------

    def logits(self, x: np.ndarray, mode: str = "test", rng=None, keep_preact: int | None = None):
        """Logits for x (N, n_in) without touching the model: ``mode`` "test" uses the running statistics,
        "train" the batch statistics (running statistics NOT updated; dropout needs ``rng``).
        keep_preact: a hidden layer number whose activation input (N, width) is returned too (a copy).

        Returns (logits (N, n_out), preact-or-None); logits is a reused buffer, valid until the next call.
        Equals ``model.forward(x, mode, rng, copies_of_bn_params, keep_preact)`` bit for bit.
        """
        if mode not in ("train", "test"):
            raise ValueError(f"unknown mode {mode!r}; valid: train, test")
        n = x.shape[0]
        bufs = self._infer_bufs.get(n)
        if bufs is None:
            bufs = self._infer_bufs[n] = _InferBuffers(n, self.width, self.n_out)
        h, kept = x, None
        for l in range(self.depth):
            w, b, gamma, beta = self._layers[l]
            a = self._mm(h, w, bufs.h[l % 2])
            if gamma is None:
                a += b
            elif mode == "test":
                _bn_test(a, gamma, beta, self.bn_params[l])
            else:
                _bn_train(a, gamma, beta, self.bn_params[l], a, None, update=False)
            if keep_preact == l + 1:
                kept = a.copy()
            h = self._phi(a, a, bufs.zeros)
            if self.dropout > 0.0 and mode == "train":
                if rng is None:
                    raise ValueError("train-mode dropout needs an rng")
                _dropout(h, self.dropout, rng, np.empty_like(h))
        return self._output(h, bufs.logits), kept
