"""The trainability stage: ``[trainability]`` config -> runs (cached, any executor) -> ``trainability.csv``.

Every (sigma_w^2, depth) cell is one ``trainability`` task
(:func:`generator.experiments.trainability_run.trainability_run`: all the config's seeds stacked into one
training, each seed's numbers the same as alone), cached by the hash of its params and code, queued costliest
(deepest) first so the cheap tasks end the stage and the workers finish together.

The file group has its own manifest (:data:`MANIFEST`): :func:`start_trainability` skips the stage when the
key (the ``[trainability]`` section, the code that computes and assembles the file, library versions) and the
file are unchanged, and otherwise returns a function that waits for the runs, writes the file and the manifest
and lists them in the docs manifest (``record_data_files``). ``site`` queues it behind the training stage and
``experiments`` runs it (generator/pipeline/stages.py).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

import pandas as pd

from generator.config.load import resolve
from generator.contract import schema as contract
from generator.contract.trainability import TRAINABILITY
from generator.experiments.training_run import BLAS_THREADS as TRAIN_BLAS_THREADS
from generator.pipeline.runner import PendingTasks, register_task, submit_tasks

KIND = "trainability"
register_task(KIND, "generator.experiments.trainability_run:trainability_run", blas_threads=TRAIN_BLAS_THREADS)
MANIFEST = ".trainability-manifest.json"


def plan(t) -> list[dict]:
    """The task params of ``[trainability]`` ``t``: one per (depth, sigma_w2), deepest first (cost ~ depth)."""
    return [
        dict(
            activation=t.activation,
            sigma_w2=s2,
            sigma_b2=t.sigma_b2,
            depth=depth,
            width=t.width,
            steps=t.steps,
            batch_size=t.batch_size,
            learning_rate=t.learning_rate,
            seeds=list(t.seeds),
        )
        for depth in sorted(t.depths, reverse=True)
        for s2 in t.sigma_w2s
    ]


@dataclass
class PendingTrainability:
    cfg: object
    tasks: list
    pending: PendingTasks


def submit_trainability(cfg, cache, executor=None) -> PendingTrainability:
    """Queue the cache misses of every cell on ``executor`` (see runner.submit_tasks)."""
    tasks = plan(cfg.trainability)
    return PendingTrainability(cfg, tasks, submit_tasks(KIND, tasks, cache, executor))


def assemble(tasks: list[dict], results: list[dict]) -> pd.DataFrame:
    """trainability.csv's rows from the tasks and their results, sorted by (sigma_w2, depth, seed)."""
    keys = ("activation", "sigma_w2", "sigma_b2", "depth")
    parts = [r["trainability"][["seed", "accuracy"]].assign(**{k: p[k] for k in keys}) for p, r in zip(tasks, results)]
    df = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=TRAINABILITY.column_names)
    df = df.sort_values(["activation", "sigma_b2", "sigma_w2", "depth", "seed"], kind="stable")
    return contract.check_frame(TRAINABILITY.name, df.reset_index(drop=True))


def finish_trainability(p: PendingTrainability, quiet=False, write=True) -> dict:
    """Wait for the runs; return {"trainability.csv": frame, "__stats__": [RunStats]}, writing the file."""
    results, stats = p.pending.collect(quiet)
    df = assemble(p.tasks, results)
    if write:
        contract.write_csv(TRAINABILITY.name, df, resolve(p.cfg.output.docs_dir) / "data")
    return {TRAINABILITY.name: df, "__stats__": [stats]}


def stage_key(cfg) -> str:
    """Hash of the ``[trainability]`` section, the import closure of this module and of the task's module,
    the library versions, BLAS kernel and the tasks' thread count (the digits data enter through the code:
    engine/digits.py pins its sha256)."""
    from generator.common.hashing import sha256_bytes
    from generator.common.imports import code_digest
    from generator.pipeline.runner import task_environment, task_module

    code = code_digest((__name__, task_module(KIND)))
    inputs = {"trainability": dataclasses.asdict(cfg.trainability), "code": code, "env": task_environment(KIND)}
    return sha256_bytes(json.dumps(inputs, sort_keys=True, default=str).encode())


def start_trainability(cfg, quiet: bool, executor):
    """Queue the stage on ``executor``; return a function that waits for it, writes the file and its manifest
    and returns the RunStats list -- or None when the stage is current (nothing queued)."""
    from generator.pipeline.experiments_stage import start_guarded
    from generator.pipeline.store import Cache

    def submit():
        pending = submit_trainability(cfg, Cache(resolve(cfg.output.cache_dir)), executor)
        return lambda: ([TRAINABILITY.name], finish_trainability(pending, quiet=quiet)["__stats__"])

    data_dir = resolve(cfg.output.docs_dir) / "data"
    return start_guarded("trainability", data_dir, stage_key(cfg), MANIFEST, submit, quiet)
