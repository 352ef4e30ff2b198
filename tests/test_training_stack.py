"""Seed stacking: a task training S seeds at once equals S tasks of one seed, bit for bit.

generator/engine/mlp_fast.py and generator/experiments/training_run.py promise that the seed axis
changes the cost of the training runs, never a number: stacked ``np.matmul`` calls the same GEMM per
seed and every reduction sums one seed's rows in the same order. tests/test_training_fast.py ties a
one-seed task to the ``layers.py`` reference; these tests tie stacks to one-seed tasks, and check the
stacked gradients by centred differences.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from generator.engine import mlp_fast as fast
from generator.engine.mlp import MLP
from generator.experiments import training_run as train
from gradcheck import numerical_gradient

SEEDS = [3, 0, 5, 1]

CONFIGS = {  # name: task params without seeds
    "bn_dropout_momentum": dict(
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
    ),
    "none_tanh_dropout": dict(
        depth=2, width=12, activation="tanh", init="xavier", dropout=0.2, steps=20, eval_every=10, batch_size=16
    ),
    "fig1_train_mode_percentiles": dict(
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
    ),
    "bn_train_mode_accuracy_small_split": dict(
        depth=2,
        width=16,
        activation="relu",
        init="he",
        norm="bn",
        batch_size=8,
        steps=40,
        eval_every=40,
        eval_train_mode=True,
        train_size=100,
        split_seed=2,
    ),
    # raw pixels at η = 0.1: seeds 1 and 3 diverge (steps 6 and 8) while 0 and 5 train on
    "diverging_seeds": dict(
        depth=6,
        width=32,
        activation="relu",
        init="he",
        preprocess="raw",
        learning_rate=0.1,
        steps=30,
        eval_every=5,
        record_grads=True,
    ),
}


def _one_seed(frame: pd.DataFrame, seed) -> pd.DataFrame:
    return frame[frame["seed"] == seed].reset_index(drop=True)


@pytest.mark.parametrize("name", CONFIGS)
def test_stacked_seeds_equal_their_single_runs_bit_for_bit(name):
    params = CONFIGS[name]
    stacked = train.train_run(**params, seeds=SEEDS)
    assert set(stacked) >= {"curve", "summary", "work"}
    for seed in SEEDS:
        single = train.train_run(**params, seeds=[seed])
        for key, frame in single.items():
            pd.testing.assert_frame_equal(
                _one_seed(stacked[key], seed), frame, check_exact=True, obj=f"{key} seed {seed}"
            )
    diverged = stacked["summary"].set_index("seed")["diverged"]
    if name == "diverging_seeds":  # the mask is exercised: some seeds stop, the others run to the end
        assert diverged[1] and diverged[3] and not diverged[0] and not diverged[5]
        steps_run = stacked["summary"].set_index("seed")["steps_run"]
        assert steps_run[0] == params["steps"] and steps_run[1] < params["steps"]
        assert stacked["summary"].set_index("seed").loc[1, ["val_acc", "val_loss"]].isna().all()
    else:
        assert not diverged.any()


def test_a_diverged_seed_stops_counting_work():
    params = CONFIGS["diverging_seeds"]
    work = train.train_run(**params, seeds=[0, 1]).get("work").set_index("seed")["gemm_flops"]
    assert work[1] < work[0] / 2  # seed 1 stopped at step 8 of 30


def test_track_layer_without_bn_reads_what_test_mode_reads():
    """Without BN, batch statistics play no part: the train-mode percentiles equal those of one test-mode
    pass over the whole validation set."""
    params = dict(
        depth=2,
        width=12,
        activation="sigmoid",
        init="large",
        init_scale=0.5,
        norm="none",
        learning_rate=1.0,
        steps=10,
        eval_every=5,
        track_layer=2,
        seeds=[0, 2],
    )
    curve = train.train_run(**params)["curve"]
    from generator.engine import digits as data

    xt, _, xv, _ = data.load(0.2, 0, "standardize", None)
    init_rngs = [np.random.default_rng(np.random.SeedSequence(s).spawn(4)[0]) for s in (0, 2)]
    net = fast.FastMLP([MLP(xt.shape[1], 2, 12, "sigmoid", "large", r, 0.5, "none") for r in init_rngs])
    z = net.logits(xv, "test", keep_preact=2)[1][:, :, 0]
    at0 = curve[curve["step"] == 0].set_index("seed")
    for i, s in enumerate((0, 2)):
        np.testing.assert_allclose(
            at0.loc[s, ["p15", "p50", "p85"]].to_numpy(dtype=float),
            np.percentile(z[i], (15, 50, 85)),
            rtol=0,
            atol=1e-12,
        )


def test_track_layer_with_dropout_is_refused():
    with pytest.raises(ValueError, match="dropout"):
        train.train_run(depth=2, width=8, activation="relu", init="he", dropout=0.2, steps=2, track_layer=1, seeds=[0])


def _stack(norm, activation, dropout, seeds=(0, 1, 2), n_in=5, depth=2, width=6):
    models = []
    for s in seeds:
        rng = np.random.default_rng(s)
        m = MLP(n_in, depth, width, activation, "xavier", rng, init_scale=1.5, norm=norm, dropout=dropout)
        for k in m.params:
            if not k.startswith("W"):
                m.params[k] += 0.3 * rng.standard_normal(m.params[k].shape)
        models.append(m)
    return fast.FastMLP(models)


def _batches(s, n=7, n_in=5, seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((s, n, n_in)) * 2 + 0.5, rng.integers(0, 10, size=(s, n))


@pytest.mark.parametrize(
    "norm,activation,dropout", [("bn", "tanh", 0.3), ("none", "sigmoid", 0.3), ("bn", "relu", 0.0)]
)
def test_stacked_gradients_by_centred_differences(norm, activation, dropout):
    """Every seed's gradient is the derivative of that seed's loss and of nothing else: perturbing seed
    j's parameters leaves seed i's loss unchanged (i ≠ j)."""
    net = _stack(norm, activation, dropout)
    x, y = _batches(3)

    def losses(_):  # the same dropout masks on every call: fresh generators with fixed seeds
        return net.loss_and_grads(x, y, [np.random.default_rng(100 + i) for i in range(3)]).copy()

    losses(None)
    grads = {k: g.copy() for k, g in net.grads.items()}
    for k, p in net.params.items():
        for i in range(3):
            upstream = np.zeros(3)
            upstream[i] = 1.0
            num = numerical_gradient(losses, p, df=upstream, h=1e-6)
            rel = np.linalg.norm(grads[k][i] - num[i]) / max(
                1e-12, np.linalg.norm(grads[k][i]) + np.linalg.norm(num[i])
            )
            assert rel < 1e-6, (k, i)
            others = np.delete(num, i, axis=0)
            assert not others.any(), (k, i)  # seed i's loss does not see another seed's parameters


def test_stack_rejects_mixed_architectures():
    a = MLP(5, 2, 6, "relu", "he", np.random.default_rng(0))
    b = MLP(5, 3, 6, "relu", "he", np.random.default_rng(1))
    with pytest.raises(ValueError, match="architecture"):
        fast.FastMLP([a, b])


def test_flat_buffer_rows_are_aligned_per_seed():
    net = _stack("bn", "relu", 0.0)
    for v in list(net.params.values()) + list(net.grads.values()):
        for i in range(net.n_seeds):
            assert v[i].flags.c_contiguous and v[i].ctypes.data % 64 == 0
    for i, m in enumerate(net.models):
        assert all(np.shares_memory(m.params[k], net.params[k][i : i + 1]) for k in m.params)


# --- the plan: seed groups, paired arms, submission order ---------------------------------------------


def _small(**kw):
    from generator.config.training import TrainingConfig

    base = dict(
        seeds=(4, 0, 7, 2, 9),
        seed_stack=2,
        width=8,
        steps=5,
        init_steps=5,
        eval_every=5,
        base_depth=2,
        init_depth=2,
        init_scale_points=2,
        lr_points=2,
        pre_lr_points=2,
        fig1_steps=5,
        depths=(2,),
        batch_sizes=(4, 32),
        batch_epochs=0.05,
        batch_lr_points=3,
        reg_train_size=50,
        reg_steps=5,
        reg_splits=(0, 5, 1),
    )
    return TrainingConfig(**{**base, **kw})


def test_plan_groups_seeds_and_pairs_every_arm():
    from generator.experiments.training_plan import plan

    t = _small()
    assert t.seed_groups == [(4, 0), (7, 2), (9,)]
    runs = plan(t)
    arms: dict[tuple, set] = {}
    for exp, keys, params in runs:
        assert tuple(params["seeds"]) in t.seed_groups
        assert "seed" not in keys and "seed" not in params
        arm = (exp, tuple((k, v) for k, v in keys.items() if k not in ("split",)))
        arms.setdefault(arm, set()).update((keys.get("split"), s) for s in params["seeds"])
    for (exp, _), units in arms.items():  # paired: every arm runs the same seeds (and splits)
        expected = {(sp, s) for sp in (t.reg_splits if exp == "reg" else (None,)) for s in t.seeds}
        assert units == expected, exp
    batch = [(k, p) for e, k, p in runs if e == "batch"]
    assert {(k["norm"], k["batch_size"], k["learning_rate"]) for k, _ in batch} == {
        (n, b, lr) for n in ("none", "bn") for b in t.batch_sizes for lr in t.batch_learning_rates
    }
    assert all(p["learning_rate"] == k["learning_rate"] and p["norm"] == k["norm"] for k, p in batch)
    reg = [(k, p) for e, k, p in runs if e == "reg"]
    assert all(p["split_seed"] == k["split"] and p["train_size"] == t.reg_train_size for k, p in reg)


def test_tasks_are_submitted_once_each_costliest_first():
    from types import SimpleNamespace

    from generator.experiments.training_plan import _key, plan
    from generator.pipeline.store import Cache
    from generator.pipeline.training_stage import submit_training, task_cost

    t = _small()
    pending = submit_training(SimpleNamespace(training=t), Cache(None))  # the serial executor runs lazily
    params = pending.pending.params_list
    assert sorted(map(_key, params)) == sorted({_key(p) for _, _, p in plan(t)})
    costs = [task_cost(p) for p in params]
    assert costs == sorted(costs, reverse=True) and costs[0] > costs[-1]
    one, two = dict(params[0], seeds=[0]), dict(params[0], seeds=[0, 1])
    assert task_cost(two) > task_cost(one) and task_cost(dict(one, steps=2 * one["steps"])) > task_cost(one)
