"""One training run: the runner task ``training`` (``train_run(**params) -> dict of DataFrames``).

A run is fully described by its JSON-able params (model, optimiser, data, what to record), so the
runner can cache it by the hash of those params and the source of this module's import closure
(generator/common/imports.py), and run it on any executor. Randomness: ``np.random.SeedSequence(seed)`` spawns four
independent generators — weights, minibatch order, dropout masks, train-mode evaluation batches — so two runs that differ only in
``norm`` start from the *same* weights and see the same batches.

BLAS runs single-threaded inside a run (small matrices; see :func:`train_run`), so a result never
depends on the executor or the machine's core count.

The network is drawn by :class:`model.MLP` (the ``layers.py`` reference) and trained by
:class:`fast.FastMLP`, which repeats the reference's arithmetic in place, bit for bit: the fast path
changes the cost of a run, never its numbers (``tests/test_training_fast.py`` replays whole runs on
the reference). Most of a run's time is float64 GEMMs at the core's peak rate.

Minibatch SGD (optionally with momentum ``v = μ v − η g; θ += v``) on shuffled epochs (the last
incomplete batch of an epoch is dropped, so batch norm never sees a batch of one). Every
``eval_every`` steps (and at step 0 and at the end) the validation set is evaluated in test mode.
A run *diverges* when the minibatch loss or any parameter becomes non-finite; it stops there and its
later metrics are NaN.

Returned frames:

* ``curve``: step, train_loss (mean minibatch loss since the previous evaluation), val_loss, val_acc,
  and, if ``track_layer`` is set, p15/p50/p85 of unit 0's activation input in that layer over the
  validation set (test mode);
* ``summary``: one row — final train/val loss and accuracy (test mode, whole sets), best val accuracy,
  steps to ``target_accuracy`` (NaN if never), diverged, steps run, and, if ``eval_train_mode``, the
  validation accuracy in *train* mode (batch statistics over validation batches of about ``batch_size``);
* ``grads`` (if ``record_grads``): per layer, ‖∂L/∂W‖ and ‖W‖ on the first minibatch, before any update;
* ``work``: one row, ``gemm_flops``: the matrix-multiply FLOPs the run did (training and evaluation),
  which ``make bench`` adds to the build's GEMM floor.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from generator.engine import digits as data
from generator.engine.mlp_fast import FastMLP, softmax_loss_only
from generator.engine.mlp import MLP


def _evaluate(net: FastMLP, x, y, keep_preact=None):
    """Test-mode (loss, accuracy, preact-or-None) on x (N, n_in), y (N,); see FastMLP.logits for keep_preact."""
    logits, kept = net.logits(x, "test", keep_preact=keep_preact)
    loss = softmax_loss_only(logits, y)
    return loss, float(np.mean(np.argmax(logits, axis=1) == y)), kept


def _train_mode_accuracy(net: FastMLP, x, y, batch_size, rng):
    """Accuracy with batch statistics: validation shuffled into N // B batches of B to 2B − 1 samples.
    The model's running statistics are left untouched."""
    order = rng.permutation(len(y))
    chunks = np.array_split(order, max(1, len(y) // batch_size))
    correct = 0
    for idx in chunks:
        logits = net.logits(x[idx], "train")[0]
        correct += int(np.sum(np.argmax(logits, axis=1) == y[idx]))
    return correct / len(y)


def train_run(**params):
    """Run one training (keyword params as in :func:`_train`) with single-threaded BLAS: the matrices
    are at most a few hundred rows by ``width``, where OpenBLAS threads only add overhead (and, on a busy
    machine, spin-wait); parallelism comes from the executor running several runs at once."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return _train(**params)


def _train(
    *, depth, width, activation, init, init_scale=1.0, norm="none", dropout=0.0, learning_rate=0.1,
    momentum=0.0, batch_size=64, steps=300, eval_every=10, seed=0, split_seed=0, val_fraction=0.2,
    preprocess="standardize", train_size=None, target_accuracy=0.9, track_layer=None,
    eval_train_mode=False, record_grads=False,
):
    xt, yt, xv, yv = data.load(val_fraction, split_seed, preprocess, train_size)
    ss = np.random.SeedSequence(seed)
    init_rng, batch_rng, drop_rng, eval_rng = (np.random.default_rng(s) for s in ss.spawn(4))
    net = FastMLP(MLP(xt.shape[1], depth, width, activation, init, init_rng, init_scale, norm, dropout))
    velocity = np.zeros_like(net.flat) if momentum > 0 else None
    n = len(yt)
    per_epoch = n // batch_size
    order, pos = batch_rng.permutation(n), 0

    rows, grad_rows = [], []
    diverged, done, since, loss_sum = False, 0, 0, 0.0
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):

        def record(step):
            vl, va, z = _evaluate(net, xv, yv, keep_preact=track_layer)
            row = {"step": step, "train_loss": loss_sum / since if since else math.nan, "val_loss": vl, "val_acc": va}
            if track_layer is not None:
                row.update(zip(("p15", "p50", "p85"), np.percentile(z[:, 0], (15, 50, 85)).tolist()))
            rows.append(row)

        record(0)
        for step in range(1, steps + 1):
            if pos + batch_size > per_epoch * batch_size:
                order, pos = batch_rng.permutation(n), 0
            idx = order[pos:pos + batch_size]
            pos += batch_size
            loss = net.loss_and_grads(xt[idx], yt[idx], drop_rng)
            if record_grads and step == 1:
                for l in range(1, depth + 2):
                    grad_rows.append({"layer": l, "grad_w_norm": float(np.linalg.norm(net.grads[f"W{l}"])),
                                      "w_norm": float(np.linalg.norm(net.params[f"W{l}"]))})
            if not math.isfinite(loss):
                diverged = True
                break
            net.sgd_step(learning_rate, momentum, velocity)
            done, since, loss_sum = step, since + 1, loss_sum + loss
            if step % eval_every == 0 or step == steps:
                if not net.params_finite():
                    diverged = True
                    break
                record(step)
                since, loss_sum = 0, 0.0

        curve = pd.DataFrame(rows)
        if diverged:
            nan = math.nan
            final = dict(train_loss=nan, train_acc=nan, val_loss=nan, val_acc=nan, val_acc_train_mode=nan)
        else:
            tl, ta, _ = _evaluate(net, xt, yt)
            vl, va, _ = _evaluate(net, xv, yv)
            vtm = _train_mode_accuracy(net, xv, yv, batch_size, eval_rng) if (eval_train_mode and norm == "bn") else math.nan
            final = dict(train_loss=tl, train_acc=ta, val_loss=vl, val_acc=va, val_acc_train_mode=vtm)
    hit = curve.loc[curve["val_acc"] >= target_accuracy, "step"]
    summary = pd.DataFrame([{
        **final,
        "best_val_acc": float(curve["val_acc"].max()) if len(curve) else math.nan,
        "steps_to_target": float(hit.iloc[0]) if len(hit) else math.nan,
        "diverged": bool(diverged),
        "steps_run": int(done),
    }])
    out = {"curve": curve, "summary": summary, "work": pd.DataFrame({"gemm_flops": [net.gemm_flops]})}
    if record_grads:
        out["grads"] = pd.DataFrame(grad_rows, columns=["layer", "grad_w_norm", "w_norm"])
    return out
