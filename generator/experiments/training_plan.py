"""The training runs of the ``[training]`` section and their assembly into the contract's tidy frames.

:func:`plan` turns a TrainingConfig into every task as (experiment, key columns, task params): one
task per configuration and group of seeds (seeds stacked, generator/experiments/training_run.py), its
frames one row block per seed; :func:`assemble` turns the tasks' results into one frame per training
file of generator/contract/training.py (paired designs: every arm runs the same seeds and splits). The training stage (generator/pipeline/training_stage.py) runs the
tasks in between; the experiments are described in its module docstring.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

from generator.analysis.training import best_lr
from generator.contract import schema as contract
from generator.contract.training import BATCH, DEPTH, DEPTH_GRADS, FIG1, INIT, LR, PRE, REG, SPEED


def _base(t) -> dict:
    return dict(
        depth=t.base_depth,
        width=t.width,
        activation=t.base_activation,
        init=t.base_init,
        init_scale=1.0,
        norm="none",
        dropout=0.0,
        learning_rate=t.learning_rate,
        momentum=t.momentum,
        batch_size=t.batch_size,
        steps=t.steps,
        eval_every=t.eval_every,
        seeds=[],
        split_seed=t.split_seed,
        val_fraction=t.val_fraction,
        preprocess=t.preprocess,
        train_size=None,
        target_accuracy=t.target_accuracy,
        track_layer=None,
        eval_train_mode=False,
        record_grads=False,
    )


def plan(t) -> list[tuple[str, dict, dict]]:
    """Every task of the stage as (experiment, key columns, task params): one task per configuration and
    group of seeds (``t.seed_groups``); its frames carry the ``seed`` column."""
    runs = []
    for group in t.seed_groups:
        for exp, keys, params in _configs(t):
            runs.append((exp, keys, dict(params, seeds=list(group))))
    return runs


def _configs(t):
    """(experiment, key columns, task params without seeds) for every configuration."""
    from generator.engine.digits import load

    base = _base(t)
    for act in t.init_activations:
        for norm in ("none", "bn"):
            for scale in t.init_scales:
                yield (
                    "init",
                    dict(activation=act, norm=norm, init_scale=scale),
                    dict(
                        base,
                        depth=t.init_depth,
                        activation=act,
                        init="large",
                        init_scale=scale,
                        norm=norm,
                        steps=t.init_steps,
                        eval_every=t.init_steps,
                    ),
                )
    for norm in ("none", "bn"):
        for lr in t.learning_rates:
            yield "lr", dict(norm=norm, learning_rate=lr), dict(base, norm=norm, learning_rate=lr)
        yield (
            "fig1",
            dict(norm=norm),
            dict(
                base,
                depth=t.fig1_depth,
                activation=t.fig1_activation,
                init="large",
                init_scale=t.fig1_init_scale,
                norm=norm,
                learning_rate=t.fig1_learning_rate,
                steps=t.fig1_steps,
                track_layer=t.fig1_depth,
            ),
        )
    for init in t.depth_inits:
        for norm in t.depth_norms:
            for depth in t.depths:
                yield (
                    "depth",
                    dict(init=init, norm=norm, depth=depth),
                    dict(
                        base,
                        depth=depth,
                        activation="relu",
                        init=init,
                        norm=norm,
                        learning_rate=t.depth_learning_rate,
                        momentum=t.depth_momentum,
                        record_grads=True,
                    ),
                )
    n_train = len(load(t.val_fraction, t.split_seed, t.preprocess, None)[1])
    for norm in ("none", "bn"):
        for b in t.batch_sizes:
            steps = max(1, math.ceil(t.batch_epochs * n_train / b))
            for lr in t.batch_learning_rates:
                yield (
                    "batch",
                    dict(norm=norm, batch_size=b, learning_rate=lr),
                    dict(
                        base,
                        norm=norm,
                        batch_size=b,
                        learning_rate=lr,
                        steps=steps,
                        eval_every=steps,
                        eval_train_mode=True,
                    ),
                )
    for norm in ("none", "bn"):
        for p in (0.0, t.dropout):
            for split in t.reg_splits:
                yield (
                    "reg",
                    dict(norm=norm, dropout=p, split=split),
                    dict(
                        base,
                        norm=norm,
                        dropout=p,
                        split_seed=split,
                        train_size=t.reg_train_size,
                        steps=t.reg_steps,
                        eval_every=t.reg_steps,
                    ),
                )
    for how in t.preprocess_options:
        for lr in t.pre_learning_rates:
            yield "pre", dict(preprocess=how, learning_rate=lr), dict(base, preprocess=how, learning_rate=lr)


def _key(params: dict) -> str:
    return json.dumps(params, sort_keys=True)


def _rows(runs, results, exp, frame, cols=None) -> pd.DataFrame:
    """The ``frame`` ("summary", "curve", "grads") of every task of ``exp``, its key columns in front
    (then ``seed``), concatenated; ``cols``: keep only these of the task's columns (besides seed)."""
    parts = []
    for (e, keys, _), res in zip(runs, results):
        if e == exp:
            c = res[frame]
            c = c[["seed"] + [x for x in cols if x in c.columns]] if cols else c.copy()
            for i, (k, v) in enumerate(keys.items()):
                c.insert(i, k, v)
            parts.append(c)
    return pd.concat(parts, ignore_index=True)


def _summaries(runs, results, exp) -> pd.DataFrame:
    return _rows(runs, results, exp, "summary")


def _curves(runs, results, exp, cols) -> pd.DataFrame:
    return _rows(runs, results, exp, "curve", cols)


def assemble(t, runs, results) -> dict[str, pd.DataFrame]:
    """Tidy frames (one per contract file) from the runs and their results."""
    chance = math.log(10)
    init = _summaries(runs, results, "init")
    lr = _summaries(runs, results, "lr")
    lr["stable"] = ~lr["diverged"].astype(bool) & (lr["train_loss"] < chance)
    pick = best_lr(lr, "norm")
    curves = _curves(runs, results, "lr", ["step", "train_loss", "val_loss", "val_acc"])
    speed = curves.merge(pick, on=["norm", "learning_rate"])
    speed = speed.merge(lr[["norm", "learning_rate", "seed", "steps_to_target"]], on=["norm", "learning_rate", "seed"])
    fig1 = _curves(runs, results, "fig1", ["step", "train_loss", "val_acc", "p15", "p50", "p85"])
    fig1_sum = _summaries(runs, results, "fig1")
    fig1 = fig1.merge(fig1_sum[["norm", "seed", "steps_to_target"]], on=["norm", "seed"])
    depth = _summaries(runs, results, "depth")
    grads = _rows(runs, results, "depth", "grads")
    first = grads[grads["layer"] == 1].set_index(["init", "norm", "depth", "seed"])
    last_hidden = grads[grads["layer"] == grads["depth"]].set_index(["init", "norm", "depth", "seed"])
    idx = pd.MultiIndex.from_frame(depth[["init", "norm", "depth", "seed"]])
    depth["grad_ratio"] = (first["grad_w_norm"] / last_hidden["grad_w_norm"]).reindex(idx).to_numpy()
    depth["rel_grad_first"] = (first["grad_w_norm"] / first["w_norm"]).reindex(idx).to_numpy()
    depth["status"] = np.where(
        depth["diverged"].astype(bool),
        "diverged",
        np.where(
            depth["best_val_acc"] >= t.target_accuracy,
            "converged",
            np.where(depth["train_loss"] >= 0.9 * chance, "stalled", "slow"),
        ),
    )
    batch = _summaries(runs, results, "batch")
    batch["gap"] = batch["val_acc_train_mode"] - batch["val_acc"]
    reg = _summaries(runs, results, "reg")
    reg["gap"] = reg["train_acc"] - reg["val_acc"]
    pre = _summaries(runs, results, "pre")
    frames = {
        INIT.name: init,
        LR.name: lr,
        SPEED.name: speed,
        FIG1.name: fig1,
        DEPTH.name: depth,
        DEPTH_GRADS.name: grads,
        BATCH.name: batch,
        REG.name: reg,
        PRE.name: pre,
    }
    return {
        name: contract.check_frame(name, df[[c for c in df.columns if c in _cols(name)]]) for name, df in frames.items()
    }


def _cols(name):
    return set(contract.DATA_FILES[name].column_names)
