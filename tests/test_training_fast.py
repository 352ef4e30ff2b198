"""The training fast path (generator/engine/mlp_fast.py) against the layers.py composition (model.MLP).

The fast path promises the reference's arithmetic operation for operation, so most comparisons below
are exact; ``_close`` (1e-12 relative) is used where only the maths, not the bits, is the claim.
Arrays carry the fast path's seed axis (S = 1 here; stacks of seeds: tests/test_training_stack.py).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from generator.engine import digits as data
from generator.engine import mlp_fast as fast
from generator.engine.activations import get_activation
from generator.engine.mlp import MLP, softmax_loss
from generator.experiments import training_run as train
from gradcheck import numerical_gradient

CASES = [  # (norm, activation, dropout)
    ("none", "relu", 0.0),
    ("bn", "relu", 0.0),
    ("bn", "tanh", 0.3),
    ("none", "sigmoid", 0.3),
    ("bn", "sigmoid", 0.0),
    ("none", "tanh", 0.0),
    ("bn", "leaky_relu", 0.2),
    ("none", "gelu", 0.0),
]


def _pair(norm, activation, dropout, n_in=5, depth=3, width=7, seed=0):
    """Two MLPs with the same draws: (reference, FastMLP wrapping the other), with non-trivial γ, β, b."""
    models = []
    for _ in range(2):
        rng = np.random.default_rng(seed)
        m = MLP(n_in, depth, width, activation, "xavier", rng, init_scale=1.5, norm=norm, dropout=dropout)
        for k in m.params:
            if not k.startswith("W"):
                m.params[k] += 0.3 * rng.standard_normal(m.params[k].shape)
        models.append(m)
    return models[0], fast.FastMLP(models[1])


def _batch(n=9, n_in=5, seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, n_in)) * 2 + 0.5, rng.integers(0, 10, size=n)


def _close(a, b, rtol=1e-12):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = max(np.abs(a).max(initial=0.0), np.abs(b).max(initial=0.0), 1e-300)
    assert np.abs(a - b).max(initial=0.0) <= rtol * scale, np.abs(a - b).max(initial=0.0) / scale


def _same_stats(ref: MLP, fm: fast.FastMLP):
    assert len(ref.bn_params) == len(fm.running)
    for p, q in zip(ref.bn_params, fm.running):
        np.testing.assert_array_equal(p["running_mean"], q.mean[0])
        np.testing.assert_array_equal(p["running_var"], q.var[0])


# --- one step: loss, every gradient, running statistics ----------------------------------------------


@pytest.mark.parametrize("norm,activation,dropout", CASES)
def test_train_step_matches_reference(norm, activation, dropout):
    ref, fm = _pair(norm, activation, dropout)
    x, y = _batch()
    loss_r, grads_r = ref.loss(x, y, "train", np.random.default_rng(7))
    loss_f = fm.loss_and_grads(x[None], y[None], [np.random.default_rng(7)])
    assert loss_f.shape == (1,) and loss_f[0] == loss_r
    assert set(fm.grads) == set(grads_r) == set(fm.params)
    for k, g in grads_r.items():
        _close(fm.grads[k][0], g)
        np.testing.assert_array_equal(fm.grads[k][0], g, err_msg=k)  # the contract: the same arithmetic
    _same_stats(ref, fm)


@pytest.mark.parametrize("norm,activation,dropout", CASES)
def test_inference_matches_reference_in_test_and_train_mode(norm, activation, dropout):
    ref, fm = _pair(norm, activation, dropout)
    x, y = _batch()
    for step in range(3):  # move the running statistics away from (0, 1)
        ref.loss(x + step, y, "train", np.random.default_rng(step))
        fm.loss_and_grads((x + step)[None], y[None], [np.random.default_rng(step)])
    _same_stats(ref, fm)
    xv, _ = _batch(n=13, seed=5)
    logits_r, _, kept_r = ref.forward(xv, "test", keep_preact=2)
    logits_f, kept_f = fm.logits(xv, "test", keep_preact=2)
    np.testing.assert_array_equal(logits_f[0], logits_r)
    np.testing.assert_array_equal(kept_f[0], kept_r)
    np.testing.assert_array_equal(fm.logits(xv[None], "test")[0][0], logits_r)  # (S, N, n_in) input: same
    assert fm.logits(xv)[1] is None
    if dropout == 0.0:  # train mode = batch statistics; the running statistics stay untouched
        before = [(p.mean.copy(), p.var.copy()) for p in fm.running]
        copies = [dict(p) for p in ref.bn_params]
        np.testing.assert_array_equal(fm.logits(xv, "train")[0][0], ref.forward(xv, "train", None, copies)[0])
        for p, (m, v) in zip(fm.running, before):
            np.testing.assert_array_equal(p.mean, m)
            np.testing.assert_array_equal(p.var, v)
    else:
        with pytest.raises(ValueError, match="rng"):
            fm.logits(xv, "train")
    with pytest.raises(ValueError, match="mode"):
        fm.logits(xv, "eval")


def test_bn_train_and_test_mode_agree_when_running_stats_are_the_batch_stats():
    _, fm = _pair("bn", "relu", 0.0, n_in=8, width=12)
    x = np.random.default_rng(2).standard_normal((50, 8)) * 3 + 1
    for p in fm.running:
        p.momentum = 1.0  # running statistics := this batch's
    y = np.zeros(50, dtype=np.int64)
    fm.loss_and_grads(x[None], y[None])
    for p in fm.running:
        p.var *= 49 / 50  # undo the unbiased correction
    _close(fm.logits(x, "test")[0], fm.logits(x, "train")[0].copy(), rtol=1e-10)


# --- centred differences ----------------------------------------------------------------------------


def _rel(a, b):
    return float(np.linalg.norm(a - b) / max(1e-12, np.linalg.norm(a) + np.linalg.norm(b)))


@pytest.mark.parametrize(
    "norm,activation,dropout", [("bn", "tanh", 0.3), ("none", "sigmoid", 0.3), ("bn", "relu", 0.0)]
)
def test_fast_gradients_by_centred_differences(norm, activation, dropout):
    _, fm = _pair(norm, activation, dropout, depth=2, width=6)
    x, y = _batch(n=7)

    def loss_only(_):
        # the same dropout mask on every call: a fresh generator with a fixed seed
        return fm.loss_and_grads(x[None], y[None], [np.random.default_rng(123)])[0]

    loss_only(None)
    grads = {k: g.copy() for k, g in fm.grads.items()}
    for k, p in fm.params.items():
        num = numerical_gradient(loss_only, p, h=1e-6)
        assert _rel(grads[k], num) < 1e-6, k


# --- pieces -------------------------------------------------------------------------------------------


def test_flat_buffers_are_shared_aligned_and_padded_with_zeros():
    ref, fm = _pair("bn", "relu", 0.0)
    model = fm.models[0]
    for k, v in fm.params.items():
        np.testing.assert_array_equal(v[0], ref.params[k])
        assert np.shares_memory(model.params[k], v)  # the wrapped model sees the fast path's parameters
        assert v[0].flags.c_contiguous and v[0].ctypes.data % 64 == 0 and np.shares_memory(v, fm.flat)
        assert fm.grads[k][0].ctypes.data % 64 == 0 and np.shares_memory(fm.grads[k], fm.grad_flat)
    used = np.zeros(fm.flat.size, dtype=bool)
    for v in fm.params.values():
        start = (v.ctypes.data - fm.flat.ctypes.data) // 8
        used[start : start + v.size] = True
    x, y = _batch()
    for g in fm.grads.values():
        g[...] = np.nan  # stale values: every gradient element must be overwritten by the next step
    fm.loss_and_grads(x[None], y[None])
    _, grads = ref.loss(x, y, "train")
    for k, g in grads.items():
        np.testing.assert_array_equal(fm.grads[k][0], g, err_msg=k)
    velocity = np.zeros_like(fm.flat)
    fm.sgd_step(0.1, 0.9, velocity)
    used = used.reshape(fm.flat.shape)
    assert not fm.flat[~used].any() and not velocity[~used].any() and not fm.grad_flat[~used].any()


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_step_matches_per_parameter_update(momentum):
    ref, fm = _pair("bn", "tanh", 0.0)
    x, y = _batch()
    velocity_r = {k: np.zeros_like(v) for k, v in ref.params.items()}
    velocity_f = np.zeros_like(fm.flat) if momentum else None
    for _ in range(3):
        _, grads = ref.loss(x, y, "train")
        fm.loss_and_grads(x[None], y[None])
        for k, g in grads.items():  # the training loop's original update, one parameter at a time
            if momentum:
                v = velocity_r[k]
                v *= momentum
                v -= 0.3 * g
                ref.params[k] += v
            else:
                ref.params[k] -= 0.3 * g
        fm.sgd_step(0.3, momentum, velocity_f)
        for k in grads:
            np.testing.assert_array_equal(fm.params[k][0], ref.params[k])
    assert fm.params_finite().tolist() == [True]
    fm.params["W2"][0, 0, 0] = np.nan
    assert fm.params_finite().tolist() == [False]


def test_softmax_helpers_match_model_softmax_loss():
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((6, 10)) * 5
    y = rng.integers(0, 10, size=6)
    loss, d, _ = softmax_loss(logits, y)
    assert fast.softmax_loss_only(logits[None], y)[0] == loss
    buf = logits[None].copy()
    loss_i, d_i = fast.softmax_loss_inplace(buf, y[None])
    assert loss_i[0] == loss and d_i is buf
    np.testing.assert_array_equal(d_i[0], d)


_SPECIAL = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-310, -1e-310, 1e300, -1e300, 3.0, -2.5, 40.0, -40.0])


def test_activation_shortcuts_equal_the_activations_module():
    x = np.concatenate([_SPECIAL, np.linspace(-12, 12, 101)]).reshape(-1, 1) * np.ones((1, 3))
    with np.errstate(all="ignore"):
        relu = get_activation("relu")
        out = fast._relu_into(x, np.zeros_like(x), np.empty_like(x))
        ref = relu.forward(x)
        np.testing.assert_array_equal(out, ref)
        np.testing.assert_array_equal(np.signbit(out), np.signbit(ref))  # -0.0 stays -0.0, as np.maximum does
        for name, from_output in fast._DPHI_FROM_OUTPUT.items():
            act = get_activation(name)
            np.testing.assert_array_equal(
                from_output(act.forward(x), np.empty_like(x)), act.derivative(x), err_msg=name
            )


# --- whole runs: the training loop against the original, reference-composed loop ------------------


def _reference_train(
    *,
    depth,
    width,
    activation,
    init,
    init_scale=1.0,
    norm="none",
    dropout=0.0,
    learning_rate=0.1,
    momentum=0.0,
    batch_size=64,
    steps=300,
    eval_every=10,
    seed=0,
    split_seed=0,
    val_fraction=0.2,
    preprocess="standardize",
    train_size=None,
    target_accuracy=0.9,
    track_layer=None,
    eval_train_mode=False,
    record_grads=False,
):
    """The training loop as it was before the fast path, on model.MLP: curve, summary and grads frames.
    (Since the seed axis: the Fig. 1 percentiles are read in train mode over shuffled validation
    batches, the shuffle drawn first from the evaluation generator.)"""
    xt, yt, xv, yv = data.load(val_fraction, split_seed, preprocess, train_size)
    init_rng, batch_rng, drop_rng, eval_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4))
    model = MLP(xt.shape[1], depth, width, activation, init, init_rng, init_scale, norm, dropout)
    params = model.params
    velocity = {k: np.zeros_like(v) for k, v in params.items()} if momentum > 0 else None
    n = len(yt)
    per_epoch = n // batch_size
    order, pos = batch_rng.permutation(n), 0
    chunks = np.array_split(eval_rng.permutation(len(yv)), max(1, len(yv) // batch_size)) if track_layer else None
    rows, grad_rows = [], []
    diverged, done, since, loss_sum = False, 0, 0, 0.0

    def evaluate(x, y):
        logits = model.predict_logits(x)
        return softmax_loss(logits, y)[0], float(np.mean(np.argmax(logits, axis=1) == y))

    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):

        def record(step):
            vl, va = evaluate(xv, yv)
            row = {"step": step, "train_loss": loss_sum / since if since else math.nan, "val_loss": vl, "val_acc": va}
            if track_layer is not None:
                copies = [dict(p) for p in model.bn_params]  # batch statistics; running ones untouched
                z = np.concatenate(
                    [model.forward(xv[i], "train", None, copies, keep_preact=track_layer)[2][:, 0] for i in chunks]
                )
                row.update(zip(("p15", "p50", "p85"), np.percentile(z, (15, 50, 85)).tolist()))
            rows.append(row)

        record(0)
        for step in range(1, steps + 1):
            if pos + batch_size > per_epoch * batch_size:
                order, pos = batch_rng.permutation(n), 0
            idx = order[pos : pos + batch_size]
            pos += batch_size
            loss, grads = model.loss(xt[idx], yt[idx], "train", drop_rng)
            if record_grads and step == 1:
                for l in range(1, depth + 2):
                    grad_rows.append(
                        {
                            "layer": l,
                            "grad_w_norm": float(np.linalg.norm(grads[f"W{l}"])),
                            "w_norm": float(np.linalg.norm(params[f"W{l}"])),
                        }
                    )
            if not math.isfinite(loss):
                diverged = True
                break
            for k, g in grads.items():
                if velocity is None:
                    params[k] -= learning_rate * g
                else:
                    v = velocity[k]
                    v *= momentum
                    v -= learning_rate * g
                    params[k] += v
            done, since, loss_sum = step, since + 1, loss_sum + loss
            if step % eval_every == 0 or step == steps:
                if not all(np.isfinite(v).all() for v in params.values()):
                    diverged = True
                    break
                record(step)
                since, loss_sum = 0, 0.0
        final = {}
        if not diverged:
            final["train_loss"], final["train_acc"] = evaluate(xt, yt)
            final["val_loss"], final["val_acc"] = evaluate(xv, yv)
            if eval_train_mode and norm == "bn":
                o = eval_rng.permutation(len(yv))
                copies = [dict(p) for p in model.bn_params]
                correct = sum(
                    int(np.sum(np.argmax(model.forward(xv[i], "train", None, copies)[0], axis=1) == yv[i]))
                    for i in np.array_split(o, max(1, len(yv) // batch_size))
                )
                final["val_acc_train_mode"] = correct / len(yv)
    return (
        pd.DataFrame(rows),
        final,
        done,
        diverged,
        pd.DataFrame(grad_rows, columns=["layer", "grad_w_norm", "w_norm"]),
    )


RUNS = [  # (params, diverges)
    (
        dict(
            depth=3,
            width=16,
            activation="relu",
            init="he",
            norm="bn",
            dropout=0.3,
            momentum=0.9,
            steps=25,
            eval_every=5,
            batch_size=32,
            record_grads=True,
            seed=1,
        ),
        False,
    ),
    (
        dict(
            depth=2,
            width=12,
            activation="sigmoid",
            init="large",
            init_scale=0.05,
            norm="bn",
            learning_rate=1.0,
            steps=30,
            eval_every=10,
            track_layer=2,
            seed=2,
        ),
        False,
    ),
    (
        dict(
            depth=2,
            width=16,
            activation="relu",
            init="he",
            norm="bn",
            batch_size=16,
            steps=40,
            eval_every=40,
            eval_train_mode=True,
            train_size=100,
            seed=0,
        ),
        False,
    ),
    (
        dict(
            depth=6,
            width=100,
            activation="relu",
            init="he",
            norm="none",
            learning_rate=0.1,
            preprocess="raw",
            steps=40,
            eval_every=5,
            seed=0,
        ),
        True,
    ),  # raw pixels: non-finite loss at step 5
]


@pytest.mark.parametrize("params,diverges", RUNS)
def test_train_run_reproduces_the_reference_loop_exactly(params, diverges):
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):  # as train_run runs
        curve, final, done, diverged, grads = _reference_train(**params)
    out = train.train_run(**{k: v for k, v in params.items() if k != "seed"}, seeds=[params["seed"]])
    pd.testing.assert_frame_equal(out["curve"].drop(columns="seed"), curve, check_exact=True)
    summary = out["summary"].iloc[0]
    assert summary["steps_run"] == done and summary["diverged"] == diverged == diverges
    for k, v in final.items():
        assert summary[k] == v, k
    if params.get("record_grads"):
        pd.testing.assert_frame_equal(out["grads"].drop(columns="seed"), grads, check_exact=True)


@pytest.mark.parametrize("norm", ["none", "bn"])
def test_gemm_flops_count_every_multiply_once(norm):
    """gemm_flops (what `make bench` adds to the floor) is exactly the products one step does: every
    layer's X W and dW, and dX for all but the first layer (nothing needs dL/dinput)."""
    n, n_in, width, depth = 7, 5, 6, 3
    net = fast.FastMLP(MLP(n_in, depth, width, "tanh", "he", np.random.default_rng(0), norm=norm))
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((n, n_in)), rng.integers(0, 10, n)
    net.loss_and_grads(x[None], y[None])
    dims = [n_in] + [width] * depth + [10]
    fwd = sum(2.0 * n * a * b for a, b in itertools.pairwise(dims))
    dx = sum(2.0 * n * a * b for a, b in itertools.pairwise(dims[1:]))
    assert net.gemm_flops.tolist() == [fwd + fwd + dx]  # forward, every dW (same shapes as forward), dX
    before = net.gemm_flops.copy()
    net.logits(x)  # test-mode forward: the forward products only
    assert (net.gemm_flops - before).tolist() == [fwd]
