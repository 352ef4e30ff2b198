"""The training loop's fast path: :class:`model.MLP`'s maths fused, in place, in preallocated buffers,
for a stack of S networks (seeds) at once.

Contract
--------
* :class:`FastMLP` wraps S :class:`~generator.engine.mlp.MLP` of one architecture (each drew its own
  initial weights; S = 1 is a plain run) and computes exactly what the ``layers.py`` composition
  computes for each -- the same floating-point operations on the same operands in the same order, only
  written into reused buffers -- so a training run gives the same numbers bit for bit.
  ``model.MLP`` stays the readable reference; ``tests/test_training_fast.py`` checks the two agree
  (logits, loss, every gradient, running statistics), checks that seed s of a stack equals a stack of
  seed s alone, and checks the fast gradients by centred differences.
* Why a seed axis: at these sizes (width 100, batches of 2..128) a step is dominated by numpy's
  per-call overhead, not arithmetic; one call on (S, N, D) arrays replaces S calls. Stacked
  ``np.matmul`` calls the same single-slice GEMM per seed, and every reduction sums one seed's rows in
  the same order as an unstacked run (engine/inplace.py), so stacking changes the cost, never a bit.
* Parameters live in ONE float64 buffer ``flat`` of shape (S, P) and the gradients in another
  (``grad_flat``), with a view per parameter under the model's names (``W1``, ``b1``, ``gamma1`` ...),
  shaped (S, *shape). Each model's ``params`` dict is rebound to its row's views, so the reference and
  the fast path always see the same parameters, and an SGD update is a handful of whole-buffer
  operations. Each view starts on a 64-byte boundary; the padding between views is zero in both
  buffers and stays zero under :meth:`FastMLP.sgd_step`.
* Batch-norm running statistics: one :class:`~generator.engine.inplace.RunningStats` per layer,
  (S, D) arrays updated in place with the reference's rule; each model's ``bn_params[l]`` holds views
  of its row (``running_mean``, ``running_var``).
* Inputs: training batches are (S, N, n_in) (each seed its own minibatch); an inference input may be
  (N, n_in), shared by every seed (broadcast by ``np.matmul``, still one GEMM per seed).
* ``gemm_flops`` (S,) counts, per seed, the GEMM FLOPs of the seeds marked ``active`` (a seed that
  stopped -- diverged -- is still carried along in the stack but its work no longer counts, so each
  seed's count equals its unstacked run's).
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
* Randomness: dropout masks come only from the ``rngs`` argument (one generator per seed), drawn in the
  reference's order (layer 1 to ``depth``, one ``rng.random((N, width))`` each), so the same generator
  state gives the same masks.
* No warnings are suppressed here; the training loop wraps calls in ``np.errstate``.
"""

from __future__ import annotations

import numpy as np

from generator.engine.activations import get_activation
from generator.engine.inplace import RunningStats, _bn_test, _bn_train, _bn_train_backward, _dropout
from generator.engine.mlp import MLP

_ALIGN = 8  # float64 elements per 64 bytes: every parameter view starts on a cache-line boundary


def _dtanh_from_output(y, out):
    """tanh'(x) = 1 − tanh(x)², from y = tanh(x): the same operations as activation_kernels.tanh_d."""
    np.square(y, out=out)
    return np.subtract(1.0, out, out=out)


def _dsigmoid_from_output(y, out):
    """σ'(x) = σ(x)(1 − σ(x)), from y = σ(x): one rounded product of the same two factors as
    activation_kernels.sigmoid_d, hence the same bits (tests compare them)."""
    np.subtract(1.0, y, out=out)
    return np.multiply(y, out, out=out)


# Activations whose derivative is cheaper from the output than from the input (and bit-identical).
_DPHI_FROM_OUTPUT = {"tanh": _dtanh_from_output, "sigmoid": _dsigmoid_from_output}


def _relu_into(x, zeros, out):
    """max(x, 0) as activation_kernels.relu computes it (``np.maximum``: NaN kept, −0.0 kept, −inf -> 0), with
    the 0 given as an array of x's shape: numpy's vectorised loop for two arrays is ~3.5x faster than
    its loop for an array and a scalar (same elementwise results)."""
    return np.maximum(x, zeros, out=out)


def _flat_views(shapes: dict[str, tuple[int, ...]], s: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """One zeroed float64 buffer (s, P) holding an (s, *shape) array per entry of ``shapes`` (name -> shape).

    Returns (flat, views): ``flat`` covers every view and the zero padding between them; each seed's
    slice of a view is C-contiguous and starts 64-byte aligned.
    """
    offsets, total = {}, 0
    for name, shape in shapes.items():
        offsets[name] = total
        size = int(np.prod(shape))
        total += -(-size // _ALIGN) * _ALIGN
    raw = np.zeros(s * total + _ALIGN)
    start = (-raw.ctypes.data % 64) // raw.itemsize
    flat = raw[start : start + s * total].reshape(s, total)
    views = {
        name: flat[:, o : o + int(np.prod(shapes[name]))].reshape((s, *shapes[name])) for name, o in offsets.items()
    }
    return flat, views


def softmax_loss_only(logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mean softmax cross-entropy, the same operations as ``model.softmax_loss`` without its gradient.

    Inputs: logits (S, N, C) (not modified), y (N,) or (S, N) integer labels. Returns (S,) losses.
    """
    z = logits - logits.max(axis=-1, keepdims=True)
    ez = np.exp(z)
    at_y = np.broadcast_to(y, z.shape[:-1])[..., None]
    z_y = np.take_along_axis(z, at_y, axis=-1)[..., 0]
    return -np.mean(z_y - np.log(ez.sum(axis=-1)), axis=-1)


def softmax_loss_inplace(logits: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``model.softmax_loss`` (loss and dL/dlogits) with ``logits`` overwritten by the gradient.

    Inputs: logits (S, N, C), y (S, N). Returns (losses (S,), dlogits) where dlogits IS ``logits``.
    """
    n = logits.shape[-2]
    at_y = y[..., None]
    logits -= logits.max(axis=-1, keepdims=True)  # z
    z_y = np.take_along_axis(logits, at_y, axis=-1)[..., 0]
    np.exp(logits, out=logits)  # ez
    s = logits.sum(axis=-1)
    loss = -np.mean(z_y - np.log(s), axis=-1)
    logits /= s[..., None]  # probs = ez / ez.sum(axis=1, keepdims=True)
    np.put_along_axis(logits, at_y, np.take_along_axis(logits, at_y, axis=-1) - 1.0, axis=-1)
    logits /= n
    return loss, logits


class _Buffers:
    """Per-layer work arrays for S seeds and one batch size ``n`` (rows), reused on every step of that size.

    pre[l]:  (S, n, width) affine output, then (BN) x̂, kept for the backward
    z:       (S, n, width) BN output γ x̂ + β (the activation input), scratch
    h[l]:    (S, n, width) layer output = next layer's input (after dropout)
    dphi[l]: (S, n, width) φ' at the activation input
    mask[l]: (S, n, width) dropout mask including the 1/(1-p) scale (only with dropout)
    dh:      two (S, n, width) arrays, the upstream gradient ping-ponged between layers
    tmp:     (S, n, width) scratch; logits: (S, n, 10)
    zeros:   (S, n, width) zeros, the second operand of ReLU (never written)
    """

    def __init__(self, s, n, width, depth, n_out, dropout):
        new = lambda: np.empty((s, n, width))  # noqa: E731
        self.pre = [new() for _ in range(depth)]
        self.h = [new() for _ in range(depth)]
        self.dphi = [new() for _ in range(depth)]
        self.mask = [new() for _ in range(depth)] if dropout > 0 else []
        self.z, self.tmp = new(), new()
        self.dh = (new(), new())
        self.logits = np.empty((s, n, n_out))
        self.zeros = np.zeros((s, n, width))


class _InferBuffers:
    """Work arrays of an inference forward over ``n`` rows: two ping-pong (S, n, width) arrays, the logits
    (S, n, n_out) and (S, n, width) zeros for ReLU."""

    def __init__(self, s, n, width, n_out):
        self.h = (np.empty((s, n, width)), np.empty((s, n, width)))
        self.logits = np.empty((s, n, n_out))
        self.zeros = np.zeros((s, n, width))


def _t(a):
    """The transpose of every seed's matrix: (S, m, n) -> (S, n, m) (a view)."""
    return a.swapaxes(-1, -2)


class FastMLP:
    """The fast path of S :class:`MLP` (one per seed): same parameters (shared views), same maths, reused
    buffers.

    models: an MLP or a list of MLPs with the same architecture; their ``params`` are moved into this
    object's flat buffer (each dict is rebound to its row's views, values unchanged) and their
    ``bn_params`` are bound to views of the stacked running statistics.
    """

    def __init__(self, models: MLP | list[MLP]):
        models = [models] if isinstance(models, MLP) else list(models)
        m0 = models[0]
        spec = lambda m: (m.depth, m.activation, m.norm, m.dropout, {k: v.shape for k, v in m.params.items()})  # noqa: E731
        if any(spec(m) != spec(m0) for m in models):
            raise ValueError("stacked models must share one architecture")
        self.models, self.n_seeds = models, len(models)
        self.depth, self.dropout = m0.depth, m0.dropout
        self.act = get_activation(m0.activation)
        self._dphi_from_output = _DPHI_FROM_OUTPUT.get(self.act.name)
        self._relu = self.act.name == "relu"
        shapes = {k: v.shape for k, v in m0.params.items()}
        s = self.n_seeds
        self.flat, self.params = _flat_views(shapes, s)
        self.grad_flat, self.grads = _flat_views(shapes, s)
        d = self.depth
        self.running = (
            [RunningStats(s, self.params[f"gamma{l + 1}"].shape[-1]) for l in range(d)] if m0.norm == "bn" else []
        )
        for i, m in enumerate(models):
            for k, v in m.params.items():
                self.params[k][i] = v
            m.params = {k: v[i] for k, v in self.params.items()}
            for l, st in enumerate(self.running):
                m.bn_params[l].update(running_mean=st.mean[i], running_var=st.var[i])
        self.n_in = self.params["W1"].shape[1]
        self.width = self.params[f"W{d}"].shape[2] if d else self.n_in
        self.n_out = self.params[f"W{d + 1}"].shape[2]
        # (W, b-or-None, gamma-or-None, beta-or-None) per layer, looked up once instead of every step
        p = self.params
        self._layers = [(p[f"W{l}"], p.get(f"b{l}"), p.get(f"gamma{l}"), p.get(f"beta{l}")) for l in range(1, d + 2)]
        g = self.grads
        self._glayers = [(g[f"W{l}"], g.get(f"b{l}"), g.get(f"gamma{l}"), g.get(f"beta{l}")) for l in range(1, d + 2)]
        self._inv_std = [None] * d
        self._train_bufs: dict[int, _Buffers] = {}
        self._infer_bufs: dict[int, _InferBuffers] = {}
        self.active = np.ones(s)  # 1 for a seed whose work counts, 0 once it stopped
        self.gemm_flops = np.zeros(s)  # matrix-multiply FLOPs done per seed (2 m k n each), for `make bench`

    def _mm(self, a, b, out):
        """``np.matmul(a, b, out=out)`` (one GEMM per seed), counted in :attr:`gemm_flops`."""
        self.gemm_flops += 2.0 * a.shape[-2] * a.shape[-1] * b.shape[-1] * self.active
        return np.matmul(a, b, out=out)

    # --- training step ---------------------------------------------------------------------------

    def loss_and_grads(self, x: np.ndarray, y: np.ndarray, rngs=None) -> np.ndarray:
        """Train-mode forward, softmax cross-entropy and backward on one minibatch per seed.

        Inputs: x (S, N, n_in) the minibatches (C-contiguous float64, not modified; read again by the
        backward), y (S, N) labels, rngs: one np.random.Generator per seed for the dropout masks.
        Writes every gradient into :attr:`grads` (views of :attr:`grad_flat`), updates the running
        statistics like the reference's train mode, and returns the (S,) losses. Seed s equals
        ``models[s].loss(x[s], y[s], "train", rngs[s])`` bit for bit.
        """
        n = x.shape[-2]
        bufs = self._train_bufs.get(n)
        if bufs is None:
            bufs = self._train_bufs[n] = _Buffers(self.n_seeds, n, self.width, self.depth, self.n_out, self.dropout)
        x = np.ascontiguousarray(x, dtype=np.float64)
        h = self._forward_train(x, bufs, rngs)
        loss, dlogits = softmax_loss_inplace(self._output(h, bufs.logits), y)
        self._backward(dlogits, x, bufs)
        return loss

    def _output(self, h, out):
        """logits = h W_out + b_out, written into ``out`` (S, N, n_out)."""
        w, b, _, _ = self._layers[-1]
        self._mm(h, w, out)
        out += b[:, None]  # type: ignore[index]  # the output layer always has a bias
        return out

    def _forward_train(self, x, bufs: _Buffers, rngs):
        """Hidden layers in train mode, keeping what the backward needs in ``bufs``. Returns the last h."""
        h = x
        for l in range(self.depth):
            w, b, gamma, beta = self._layers[l]
            a = self._mm(h, w, bufs.pre[l])
            if gamma is not None:
                self._inv_std[l] = _bn_train(a, gamma, beta, self.running[l], bufs.z, bufs.tmp, update=True)
                pre = bufs.z
            else:
                a += b[:, None]  # type: ignore[index]  # no BN: the layer has a bias
                pre = a
            h = self._activate(pre, bufs.h[l], bufs.dphi[l], bufs.zeros)
            if self.dropout > 0.0:
                _dropout(h, self.dropout, rngs, bufs.mask[l])
        return h

    def _activate(self, pre, h, dphi, zeros):
        """h = φ(pre), dphi = φ'(pre); ``pre`` is left unchanged. All arrays (S, N, width); zeros for ReLU."""
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
        """Backpropagate dL/dlogits (S, N, n_out) into :attr:`grads`; x (S, N, n_in) are the minibatches."""
        d = self.depth
        gw, gb, _, _ = self._glayers[d]
        h_last = bufs.h[d - 1] if d else x
        np.add.reduce(dlogits, axis=-2, out=gb)
        self._mm(_t(h_last), dlogits, gw)
        if d == 0:
            return
        dh = self._mm(dlogits, _t(self._layers[d][0]), bufs.dh[0])
        for l in range(d - 1, -1, -1):
            gw, gb, ggamma, gbeta = self._glayers[l]
            if self.dropout > 0.0:
                dh *= bufs.mask[l]
            da = np.multiply(dh, bufs.dphi[l], out=dh)
            if ggamma is not None:
                _bn_train_backward(da, bufs.pre[l], self._layers[l][2], self._inv_std[l], ggamma, gbeta, bufs.tmp)
            else:
                np.add.reduce(da, axis=-2, out=gb)
            h_in = bufs.h[l - 1] if l else x
            self._mm(_t(h_in), da, gw)
            if l:  # layer 1's input gradient is never used
                dh = self._mm(da, _t(self._layers[l][0]), bufs.dh[(d - l) % 2])

    # --- SGD -------------------------------------------------------------------------------------

    def sgd_step(self, learning_rate, momentum: float = 0.0, velocity: np.ndarray | None = None) -> None:
        """θ −= η g (plain), or v = μ v − η g; θ += v (momentum) -- over the whole flat buffer at once.

        learning_rate: a number, or (S, 1) per seed (0 freezes a seed whose gradients are finite).
        velocity: array shaped like :attr:`flat` (momentum only). Consumes :attr:`grad_flat` (scaled by η).
        """
        g = np.multiply(self.grad_flat, learning_rate, out=self.grad_flat)
        if velocity is None:
            self.flat -= g
        else:
            velocity *= momentum
            velocity -= g
            self.flat += velocity

    def params_finite(self) -> np.ndarray:
        """(S,) bool: every parameter of that seed is finite."""
        return np.isfinite(self.flat).all(axis=1)

    # --- inference -------------------------------------------------------------------------------

    def logits(self, x: np.ndarray, mode: str = "test", rngs=None, keep_preact: int | None = None):
        """Logits for x ((N, n_in) shared by every seed, or (S, N, n_in)) without touching the models:
        ``mode`` "test" uses the running statistics, "train" the batch statistics (running statistics
        NOT updated; dropout needs ``rngs``, one generator per seed).
        keep_preact: a hidden layer number whose activation input (S, N, width) is returned too (a copy).

        Returns (logits (S, N, n_out), preact-or-None); logits is a reused buffer, valid until the next
        call. Seed s equals ``models[s].forward(x, mode, rng, copies_of_bn_params, keep_preact)`` bit for bit.
        """
        if mode not in ("train", "test"):
            raise ValueError(f"unknown mode {mode!r}; valid: train, test")
        n = x.shape[-2]
        bufs = self._infer_bufs.get(n)
        if bufs is None:
            bufs = self._infer_bufs[n] = _InferBuffers(self.n_seeds, n, self.width, self.n_out)
        h, kept = x, None
        for l in range(self.depth):
            w, b, gamma, beta = self._layers[l]
            a = self._mm(h, w, bufs.h[l % 2])
            if gamma is None:
                a += b[:, None]  # type: ignore[index]  # no BN: the layer has a bias
            elif mode == "test":
                _bn_test(a, gamma, beta, self.running[l])
            else:
                _bn_train(a, gamma, beta, self.running[l], a, None, update=False)
            if keep_preact == l + 1:
                kept = a.copy()
            h = self._phi(a, a, bufs.zeros)
            if self.dropout > 0.0 and mode == "train":
                if rngs is None:
                    raise ValueError("train-mode dropout needs an rng per seed")
                _dropout(h, self.dropout, rngs, np.empty_like(h))
        return self._output(h, bufs.logits), kept
