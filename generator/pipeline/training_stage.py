"""The training stage: ``[training]`` config -> runs (cached, any executor) -> tidy CSVs -> verdicts.

Every configuration, for a group of up to ``seed_stack`` seeds, is one ``training`` task
(:func:`generator.experiments.training_run.train_run`, the seeds stacked into one batched training, each
seed's numbers the same as alone), so each is cached by the hash of its params and code and can run on
any executor; identical tasks requested by two experiments are computed once. Experiments (each over
``cfg.training.seeds``, the same seeds in every arm):

a  init      W = scale·N(0,1) in every layer, scale on a log grid × {none, bn} × init_activations,
             ``init_depth`` × ``width``; final training loss and validation accuracy.
b  lr        base network × {none, bn} × log grid of learning rates: best / final validation accuracy,
             divergence, stability.
c  speed     validation curves of (b) at each norm's best learning rate (fewest mean steps to target).
d  fig1      Ioffe & Szegedy Fig. 1: ``fig1_depth`` sigmoid layers, W = ``fig1_init_scale``·N(0,1); validation
             accuracy and the 15/50/85th percentiles of one unit's sigmoid input over training, read in
             train mode (batch statistics), not with the still-warming-up running averages.
e  depth     ReLU, {he, xavier} × depths × depth_norms, SGD with momentum; final metrics and the
             per-layer gradient norms on the first minibatch.
f  batch     base network, {none, bn} × each batch size × a log grid of learning rates
             (``batch_lr_*``), for ``batch_epochs`` epochs (the same number of samples at every batch
             size): validation accuracy and loss in test mode (running statistics) and, with BN, in train
             mode (batch statistics). The analysis picks the learning rate per (norm, batch size).
g  reg       base network on a ``reg_train_size`` subset: {none, bn} × {no dropout, dropout} × the split
             seeds ``reg_splits`` (validation set and subset drawn per split); train/val gap, val loss.
pre          base network without BN, each preprocessing × a log grid of learning rates.

The runs are planned and assembled in generator/experiments/training_plan.py.
Frames are returned keyed by CSV name (see generator/contract/training.py); ``"__stats__"`` holds the runner's RunStats.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from generator.analysis.training import claims_frame
from generator.config.load import resolve
from generator.contract import schema as contract
from generator.contract.training import CLAIMS, FILES  # noqa: F401  (FILES: figures import it from here for now)
from generator.experiments.training_plan import _key, assemble, plan
from generator.experiments.training_run import BLAS_THREADS as TRAIN_BLAS_THREADS
from generator.pipeline.runner import PendingTasks, register_task, submit_tasks

KIND = "training"
register_task(KIND, "generator.experiments.training_run:train_run", blas_threads=TRAIN_BLAS_THREADS)


def run_training(cfg, cache, executor=None, quiet=False, write=True) -> dict[str, pd.DataFrame]:
    """Run (or load from ``cache``) every training run, write the CSVs and ``claims.csv``.

    Returns {csv name: frame} plus ``"__stats__"``: [RunStats] for the pipeline's summary line.
    """
    return finish_training(submit_training(cfg, cache, executor), quiet=quiet, write=write)


@dataclass
class PendingTraining:
    cfg: object
    runs: list
    keys: list
    pending: PendingTasks


def task_cost(params: dict) -> float:
    """A task's relative cost, for ordering only: rows pushed through ``depth + 1`` layers -- every step's
    minibatch (plus ~32 rows' worth of per-step overhead, which stacking shares between seeds) and each
    evaluation's 360 validation rows, per seed."""
    evals = params["steps"] // params["eval_every"] + 2
    rows = params["steps"] * (len(params["seeds"]) * params["batch_size"] + 32) + evals * 360 * len(params["seeds"])
    return float(rows * (params["depth"] + 1))


def submit_training(cfg, cache, executor=None) -> PendingTraining:
    """Plan the tasks and queue the cache misses on ``executor`` (see runner.submit_tasks), costliest
    first: the executor hands out consecutive chunks to whichever worker is free, so the cheap tasks
    end the stage and the workers finish together."""
    runs = plan(cfg.training)
    unique: dict[str, dict] = {}
    for _, _, params in runs:
        unique.setdefault(_key(params), params)
    keys = sorted(unique, key=lambda k: -task_cost(unique[k]))
    return PendingTraining(cfg, runs, keys, submit_tasks(KIND, [unique[k] for k in keys], cache, executor))


def finish_training(p: PendingTraining, quiet=False, write=True) -> dict[str, pd.DataFrame]:
    """Wait for :func:`submit_training`'s runs, then assemble and (``write``) write the CSVs."""
    t = p.cfg.training
    results, stats = p.pending.collect(quiet)
    by_key = dict(zip(p.keys, results))
    frames = assemble(t, p.runs, [by_key[_key(q)] for _, _, q in p.runs])
    frames[CLAIMS.name] = contract.check_frame(CLAIMS.name, claims_frame(frames, t))
    if write:
        data_dir = resolve(p.cfg.output.docs_dir) / "data"
        for name, df in frames.items():
            contract.write_csv(name, df, data_dir)
    frames["__stats__"] = [stats]
    return frames
