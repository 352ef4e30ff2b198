"""The MLP trained on digits, composed from the shared layer functions in ``generator/engine/layers.py``.

Hidden layer l (1..depth)::

    norm = "none":  a = h W_l + b_l            -> phi(a)      [-> inverted dropout]
    norm = "bn":    a = h W_l -> BN(a; γ_l, β_l) -> phi(.)    [-> inverted dropout]

(β plays the bias's role under BN, exactly as in Ioffe & Szegedy), then ``logits = h W_out + b_out``
and the mean softmax cross-entropy. Affine, batch norm, activation and dropout are the *same* functions
the propagation experiments use (``layers.affine_forward`` ... ``layers.dropout_backward``); only the
bias add and the softmax loss are written here.

This is the readable reference. The training loop runs :class:`generator.engine.mlp_fast.FastMLP`, which
wraps an MLP (its initial draws) and repeats these operations in place, bit for bit
(``tests/test_training_fast.py``).

Parameters live in one dict of float64 arrays: ``W1..W{depth+1}``, ``b{l}`` (no-BN hidden layers and
the output layer), ``gamma{l}``/``beta{l}`` (BN layers). Batch-norm running statistics live in
``model.bn_params[l]`` (PyTorch convention, momentum 0.1). Weights are ``init_scale * INITS[init]``;
all randomness comes from explicit ``np.random.Generator`` arguments.

Biases start at zero unless ``bias_var`` > 0 (the trainability experiment's b ~ N(0, sigma_b^2)): then each
hidden layer's ``b{l}`` is drawn N(0, bias_var) from the same generator *after* every weight matrix, so a
bias never moves a weight draw and ``bias_var = 0`` draws nothing (every existing run unchanged, bit for
bit). The output layer's bias stays zero (the signal-propagation theory is about the hidden layers).
Batch-norm layers have no bias (β plays its role), so ``bias_var > 0`` with ``norm="bn"`` is refused.
"""

from __future__ import annotations

import numpy as np

from generator.engine import layers
from generator.engine.inits import get_init

N_CLASSES = 10


def softmax_loss(logits: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Mean softmax cross-entropy.

    Inputs: logits (N, C), y (N,) integer labels. Returns (loss, dlogits (N, C), probs (N, C)).
    """
    z = logits - logits.max(axis=1, keepdims=True)
    ez = np.exp(z)
    probs = ez / ez.sum(axis=1, keepdims=True)
    n = logits.shape[0]
    loss = float(-np.mean(z[np.arange(n), y] - np.log(ez.sum(axis=1))))
    d = probs.copy()
    d[np.arange(n), y] -= 1.0
    return loss, d / n, probs


class MLP:
    """``depth`` hidden layers of ``width`` units, ``n_in`` inputs, 10 classes.

    norm: "none" or "bn"; dropout: drop probability after each hidden activation (0 = off);
    bias_var: variance of the hidden layers' initial biases (module doc; 0 = zero biases).
    """

    def __init__(
        self, n_in, depth, width, activation, init, rng, init_scale=1.0, norm="none", dropout=0.0, bias_var=0.0
    ):
        if norm not in ("none", "bn"):
            raise ValueError(f"unknown norm {norm!r}; valid: none, bn")
        if not (bias_var >= 0.0 and np.isfinite(bias_var)):
            raise ValueError(f"bias_var must be a finite number >= 0, got {bias_var!r}")
        if bias_var > 0.0 and norm == "bn":
            raise ValueError("bias_var > 0 needs norm='none': batch-norm layers have no bias")
        self.depth, self.activation, self.norm, self.dropout = depth, activation, norm, float(dropout)
        init_fn = get_init(init)
        dims = [n_in] + [width] * depth + [N_CLASSES]
        self.params: dict[str, np.ndarray] = {}
        for l in range(1, depth + 2):
            self.params[f"W{l}"] = init_scale * init_fn(dims[l - 1], dims[l], rng)
            if norm == "bn" and l <= depth:
                self.params[f"gamma{l}"] = np.ones(dims[l])
                self.params[f"beta{l}"] = np.zeros(dims[l])
            else:
                self.params[f"b{l}"] = np.zeros(dims[l])
        if bias_var > 0.0:  # after every weight: the weight draws are the same as without bias
            for l in range(1, depth + 1):
                self.params[f"b{l}"] = np.sqrt(bias_var) * rng.standard_normal(width)
        self.bn_params = [{"mode": "train"} for _ in range(depth)] if norm == "bn" else []

    def forward(self, x, mode="train", rng=None, bn_params=None, keep_preact=None):
        """Logits for x (N, n_in). mode: "train" (batch statistics, running stats updated, dropout on)
        or "test". bn_params: override the running-statistics dicts (e.g. copies, to leave the model's
        untouched). keep_preact: a hidden layer number whose activation input (N, width) is returned too.

        Returns (logits, caches, preact-or-None).
        """
        p, caches, kept = self.params, [], None
        bnp = self.bn_params if bn_params is None else bn_params
        h = x
        for l in range(1, self.depth + 1):
            a, c_fc = layers.affine_forward(h, p[f"W{l}"])
            if self.norm == "bn":
                bnp[l - 1]["mode"] = mode
                a, c_bn = layers.batchnorm_forward(a, p[f"gamma{l}"], p[f"beta{l}"], bnp[l - 1])
            else:
                a, c_bn = a + p[f"b{l}"], None
            if keep_preact == l:
                kept = a
            h, c_act = layers.activation_forward(a, self.activation)
            c_do = None
            if self.dropout > 0.0:
                h, c_do = layers.dropout_forward(h, self.dropout, mode, rng)
            caches.append((c_fc, c_bn, c_act, c_do))
        L = self.depth + 1
        logits, c_out = layers.affine_forward(h, p[f"W{L}"])
        caches.append(c_out)
        return logits + p[f"b{L}"], caches, kept

    def backward(self, dlogits, caches) -> dict[str, np.ndarray]:
        """Gradients of the loss for every parameter, given dL/dlogits (N, 10) and forward's caches."""
        L = self.depth + 1
        grads = {f"b{L}": dlogits.sum(axis=0)}
        dh, grads[f"W{L}"] = layers.affine_backward(dlogits, caches[-1])
        for l in range(self.depth, 0, -1):
            c_fc, c_bn, c_act, c_do = caches[l - 1]
            if c_do is not None:
                dh = layers.dropout_backward(dh, c_do)
            da = layers.activation_backward(dh, c_act)
            if c_bn is not None:
                da, grads[f"gamma{l}"], grads[f"beta{l}"] = layers.batchnorm_backward(da, c_bn)
            else:
                grads[f"b{l}"] = da.sum(axis=0)
            dh, grads[f"W{l}"] = layers.affine_backward(da, c_fc)
        return grads

    def loss(self, x, y, mode="train", rng=None, bn_params=None):
        """(loss, grads) on one batch: forward, softmax cross-entropy, backward."""
        logits, caches, _ = self.forward(x, mode, rng, bn_params)
        loss, dlogits, _ = softmax_loss(logits, y)
        return loss, self.backward(dlogits, caches)

    def predict_logits(self, x, bn_params=None):
        """Test-mode logits (running statistics, no dropout); never changes the model."""
        return self.forward(x, "test", None, bn_params)[0]
