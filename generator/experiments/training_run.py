"""Training runs: the runner task ``training`` (``train_run(**params) -> dict of DataFrames``), one task
training the same configuration for several seeds at once.

A task is fully described by its JSON-able params (model, optimiser, data, what to record, ``seeds``),
so the runner can cache it by the hash of those params and the source of this module's import closure
(generator/common/imports.py), and run it on any executor. Randomness, per seed:
``np.random.SeedSequence(seed)`` spawns four independent generators -- weights, minibatch order, dropout
masks, evaluation batches -- so two runs that differ only in ``norm`` start from the *same* weights and
see the same batches.

Seed stacking: the S seeds of a task are trained together by one :class:`mlp_fast.FastMLP` with a
leading seed axis (one numpy call per operation for all seeds instead of one per seed: at these sizes
the per-call overhead, not the arithmetic, dominates). Each seed keeps its own generators, minibatches,
divergence and stopping step, and its numbers equal those of a task with that seed alone, bit for bit
(``tests/test_training_fast.py``). A seed that diverges is frozen (its parameters zeroed and its
learning rate set to 0, so it stays finite) and stops counting work, while the others continue.

BLAS runs single-threaded inside a task (small matrices; see :func:`train_run`), so a result never
depends on the executor or the machine's core count.

The networks are drawn by :class:`model.MLP` (the ``layers.py`` reference) and trained by
:class:`fast.FastMLP`, which repeats the reference's arithmetic in place, bit for bit: the fast path
changes the cost of a run, never its numbers (``tests/test_training_fast.py`` replays whole runs on
the reference). Most of a run's time is float64 GEMMs and numpy call overhead.

``bias_var`` > 0 draws the hidden layers' initial biases N(0, bias_var) after the weights (model.MLP); with
``init="xavier"`` (N(0, 1/fan_in)) and ``init_scale = sqrt(sigma_w^2)`` this is the mean-field theory's
network, W ~ N(0, sigma_w^2/fan_in), b ~ N(0, sigma_b^2) (the trainability experiment).

Minibatch SGD (optionally with momentum ``v = μ v − η g; θ += v``) on shuffled epochs (the last
incomplete batch of an epoch is dropped, so batch norm never sees a batch of one). Every
``eval_every`` steps (and at step 0 and at the end) the validation set is evaluated in test mode.
A run *diverges* when the minibatch loss or any parameter becomes non-finite; it stops there and its
later metrics are NaN.

Returned frames, each with a leading ``seed`` column (rows of a seed in step / layer order):

* ``curve``: step, train_loss (mean minibatch loss since the previous evaluation), val_loss, val_acc,
  and, if ``track_layer`` is set, p15/p50/p85 of unit 0's activation input in that layer over the
  validation set read in *train* mode: batch statistics of the validation set cut into N // batch_size
  batches (batch_size to 2·batch_size − 1 samples, one shuffle per run from the evaluation generator),
  running statistics untouched -- what the training steps see, not the still-warming-up running
  averages. Tracking needs ``dropout = 0`` (the reading is the network without dropout masks);
* ``summary``: one row per seed -- final train/val loss and accuracy (test mode, whole sets), best val
  accuracy, steps to ``target_accuracy`` (NaN if never), diverged, steps run, and, if
  ``eval_train_mode``, the validation accuracy in *train* mode (batch statistics over validation
  batches of about ``batch_size``; NaN without BN);
* ``grads`` (if ``record_grads``): per layer, ‖∂L/∂W‖ and ‖W‖ on the first minibatch, before any update;
* ``work``: one row per seed, ``gemm_flops``: the matrix-multiply FLOPs that seed's run did (training
  and evaluation; equal to its run alone), which ``make bench`` adds to the build's GEMM floor.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from generator.engine import digits as data
from generator.engine.mlp import MLP
from generator.engine.mlp_fast import FastMLP, softmax_loss_only

# train_run's BLAS threads on every executor (the runner keys the training tasks with it)
BLAS_THREADS = 1


def _evaluate(net: FastMLP, x, y):
    """Test-mode (losses (S,), accuracies (S,)) on x (N, n_in), y (N,)."""
    logits, _ = net.logits(x, "test")
    return softmax_loss_only(logits, y), np.mean(np.argmax(logits, axis=-1) == y, axis=-1)


def _val_chunks(rngs, n, batch_size):
    """Per seed, a shuffle of 0..n-1 cut into n // batch_size chunks: a list of (S, chunk) index arrays
    (chunk sizes batch_size to 2·batch_size − 1, the same for every seed)."""
    orders = np.stack([rng.permutation(n) for rng in rngs])
    return np.array_split(orders, max(1, n // batch_size), axis=1)


def _train_mode_accuracy(net: FastMLP, x, y, chunks):
    """(S,) accuracies with batch statistics over the validation ``chunks`` (see :func:`_val_chunks`).
    The running statistics are left untouched."""
    correct = np.zeros(net.n_seeds)
    for idx in chunks:
        logits = net.logits(x[idx], "train")[0]
        correct += np.sum(np.argmax(logits, axis=-1) == y[idx], axis=-1)
    return correct / len(y)


def _train_mode_percentiles(net: FastMLP, x, chunks, layer):
    """(S, 3): p15/p50/p85 over the validation set of unit 0's activation input in ``layer``, in train mode."""
    z = np.concatenate([net.logits(x[idx], "train", keep_preact=layer)[1][:, :, 0] for idx in chunks], axis=1)
    return np.stack([np.percentile(row, (15, 50, 85)) for row in z])


def train_run(**params):
    """Run one task (keyword params as in :func:`_train`) with single-threaded BLAS: the matrices
    are at most a few hundred rows by ``width``, where OpenBLAS threads only add overhead (and, on a busy
    machine, spin-wait); parallelism comes from the executor running several tasks at once."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=BLAS_THREADS, user_api="blas"):
        return _train(**params)


class _Seeds:
    """Per-seed bookkeeping of a stacked run: which seeds still train, their steps and records."""

    def __init__(self, seeds, net: FastMLP, learning_rate, velocity):
        self.seeds, self.net, self.velocity = list(seeds), net, velocity
        s = len(self.seeds)
        self.alive = np.ones(s, dtype=bool)
        self.lr = np.full((s, 1), float(learning_rate))
        self.done = np.zeros(s, dtype=np.int64)
        self.loss_sum = np.zeros(s)
        self.rows: list[list[dict]] = [[] for _ in range(s)]

    def stop(self, bad: np.ndarray) -> None:
        """Mark the seeds ``bad`` (S,) bool as diverged: frozen at zero parameters, work no longer counted."""
        bad = bad & self.alive
        if bad.any():
            self.alive &= ~bad
            self.lr[bad] = 0.0
            self.net.flat[bad] = 0.0
            if self.velocity is not None:
                self.velocity[bad] = 0.0
            self.net.active[bad] = 0.0


def _train(
    *,
    depth,
    width,
    activation,
    init,
    seeds,
    init_scale=1.0,
    bias_var=0.0,
    norm="none",
    dropout=0.0,
    learning_rate=0.1,
    momentum=0.0,
    batch_size=64,
    steps=300,
    eval_every=10,
    split_seed=0,
    val_fraction=0.2,
    preprocess="standardize",
    train_size=None,
    target_accuracy=0.9,
    track_layer=None,
    eval_train_mode=False,
    record_grads=False,
):
    if track_layer is not None and dropout > 0:
        raise ValueError("track_layer reads the network without dropout: it needs dropout = 0")
    xt, yt, xv, yv = data.load(val_fraction, split_seed, preprocess, train_size)
    streams = [[np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)] for seed in seeds]
    init_rngs, batch_rngs, drop_rngs, eval_rngs = (list(r) for r in zip(*streams))
    net = FastMLP(
        [MLP(xt.shape[1], depth, width, activation, init, r, init_scale, norm, dropout, bias_var) for r in init_rngs]
    )
    velocity = np.zeros_like(net.flat) if momentum > 0 else None
    st = _Seeds(seeds, net, learning_rate, velocity)
    n = len(yt)
    per_epoch = n // batch_size
    orders, pos = np.stack([r.permutation(n) for r in batch_rngs]), 0
    tracked = _val_chunks(eval_rngs, len(yv), batch_size) if track_layer is not None else None

    grad_rows, since = [], 0
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):

        def record(step):
            vl, va = _evaluate(net, xv, yv)
            pct = _train_mode_percentiles(net, xv, tracked, track_layer) if tracked is not None else None
            for i in np.flatnonzero(st.alive):
                row = {
                    "step": step,
                    "train_loss": st.loss_sum[i] / since if since else math.nan,
                    "val_loss": vl[i],
                    "val_acc": va[i],
                }
                if pct is not None:
                    row.update(zip(("p15", "p50", "p85"), pct[i].tolist()))
                st.rows[i].append(row)

        record(0)
        for step in range(1, steps + 1):
            if pos + batch_size > per_epoch * batch_size:
                orders, pos = np.stack([r.permutation(n) for r in batch_rngs]), 0
            idx = orders[:, pos : pos + batch_size]
            pos += batch_size
            loss = net.loss_and_grads(xt[idx], yt[idx], drop_rngs)
            if record_grads and step == 1:
                _grad_rows(net, seeds, depth, grad_rows)
            st.stop(~np.isfinite(loss))
            if not st.alive.any():
                break
            net.sgd_step(st.lr, momentum, velocity)
            since += 1
            st.done[st.alive] = step
            st.loss_sum[st.alive] += loss[st.alive]
            if step % eval_every == 0 or step == steps:
                st.stop(~net.params_finite())
                if not st.alive.any():
                    break
                record(step)
                since = 0
                st.loss_sum[:] = 0.0
        final = _final(net, st, xt, yt, xv, yv, eval_rngs, batch_size, eval_train_mode and norm == "bn")
    return _frames(st, final, target_accuracy, grad_rows if record_grads else None)


def _grad_rows(net, seeds, depth, rows):
    """Append per seed and layer ‖∂L/∂W‖ and ‖W‖ (the first minibatch, before any update)."""
    for i, seed in enumerate(seeds):
        for l in range(1, depth + 2):
            rows.append(
                {
                    "seed": seed,
                    "layer": l,
                    "grad_w_norm": float(np.linalg.norm(net.grads[f"W{l}"][i])),
                    "w_norm": float(np.linalg.norm(net.params[f"W{l}"][i])),
                }
            )


def _final(net, st: _Seeds, xt, yt, xv, yv, eval_rngs, batch_size, train_mode) -> list[dict]:
    """Final metrics per seed (NaN for diverged seeds)."""
    s = len(st.seeds)
    nan = np.full(s, math.nan)
    tl, ta = _evaluate(net, xt, yt)
    vl, va = _evaluate(net, xv, yv)
    vtm = _train_mode_accuracy(net, xv, yv, _val_chunks(eval_rngs, len(yv), batch_size)) if train_mode else nan
    cols = dict(train_loss=tl, train_acc=ta, val_loss=vl, val_acc=va, val_acc_train_mode=vtm)
    return [{k: (float(v[i]) if st.alive[i] else math.nan) for k, v in cols.items()} for i in range(s)]


def _frames(st: _Seeds, final, target_accuracy, grad_rows) -> dict[str, pd.DataFrame]:
    curves, summary = [], []
    for i, seed in enumerate(st.seeds):
        curve = pd.DataFrame(st.rows[i])
        curve.insert(0, "seed", seed)
        curves.append(curve)
        hit = curve.loc[curve["val_acc"] >= target_accuracy, "step"]
        summary.append(
            {
                "seed": seed,
                **final[i],
                "best_val_acc": float(curve["val_acc"].max()) if len(curve) else math.nan,
                "steps_to_target": float(hit.iloc[0]) if len(hit) else math.nan,
                "diverged": not bool(st.alive[i]),
                "steps_run": int(st.done[i]),
            }
        )
    out = {
        "curve": pd.concat(curves, ignore_index=True),
        "summary": pd.DataFrame(summary),
        "work": pd.DataFrame({"seed": st.seeds, "gemm_flops": st.net.gemm_flops.tolist()}),
    }
    if grad_rows is not None:
        out["grads"] = pd.DataFrame(grad_rows, columns=["seed", "layer", "grad_w_norm", "w_norm"])
    return out
