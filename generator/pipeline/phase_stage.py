"""The phase stage: ``[phase]`` config -> theory and measurement tasks (cached, any executor) -> the phase CSVs.

Files (generator/contract/phase.py), under ``<docs_dir>/data``:

* ``phase_theory.csv``: generator/engine/phase.py's phase_grid over the theory grid, per activation, as
  ``phase_theory`` tasks (one per sigma_w^2 row: the 2-D quadratures of a 41 x 41 tanh grid take minutes
  on one core, so they run on the workers and are cached);
* ``phase_critical.csv``: engine.phase.sigma_w2_critical at every theory sigma_b^2, with q* there
  (seconds; computed in this process while the workers run);
* ``phase_measured.csv``: the ``phase`` tasks (generator/experiments/phase_run.py; planned by
  generator/experiments/phase_plan.py); the key columns activation, width and seed are added here, so a
  worker's result depends only on its params.

The group has its own manifest ``.phase-manifest.json``: when the ``[phase]`` section, the code and the
library versions are unchanged and the files intact, the stage is skipped without a cache lookup.
Resumable: the runner caches every task as it is collected, so a run interrupted after k tasks
recomputes only the missing ones. :func:`start_phase` queues the tasks and returns the function that
waits for them (``site`` queues this stage behind the training runs, generator/pipeline/stages.py).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable

import numpy as np
import pandas as pd

from generator.common.hashing import sha256_bytes
from generator.common.imports import code_digest
from generator.config.load import Config, resolve
from generator.contract import schema as contract
from generator.contract.phase import PHASE_CRITICAL, PHASE_MEASURED, PHASE_THEORY
from generator.engine.phase import q_fixed_point, sigma_w2_critical
from generator.experiments.phase_plan import phase_tasks, theory_tasks
from generator.pipeline.runner import RunStats, register_task, submit_tasks, task_environment
from generator.pipeline.store import Cache

KIND, THEORY_KIND = "phase", "phase_theory"
register_task(KIND, "generator.experiments.phase_run:phase_measure", blas_threads=1)
register_task(THEORY_KIND, "generator.experiments.phase_run:phase_theory", blas_threads=1)
PHASE_MANIFEST = ".phase-manifest.json"


def phase_stage_key(cfg: Config) -> str:
    """Hash of the ``[phase]`` section, the import closure of this module and of the task module, and the
    library versions, BLAS kernel and the tasks' thread count: everything the phase files depend on."""
    code = code_digest((__name__, "generator.experiments.phase_run"))
    inputs = {"phase": dataclasses.asdict(cfg.phase), "code": code, "env": task_environment(KIND)}
    return sha256_bytes(json.dumps(inputs, sort_keys=True, default=str).encode())


def critical_frame(cfg: Config) -> pd.DataFrame:
    """phase_critical.csv: per activation and theory sigma_b^2, the critical sigma_w^2 and its q*."""
    p = cfg.phase
    rows = []
    for act in p.activations:
        for b2 in p.theory_b:
            s2 = sigma_w2_critical(act, b2, p.q0, p.quadrature_points)
            q = np.nan if np.isnan(s2) else q_fixed_point(act, s2, b2, p.q0, p.quadrature_points)
            rows.append({"activation": act, "sigma_b2": b2, "sigma_w2_critical": s2, "q_star": q})
    return pd.DataFrame(rows, columns=PHASE_CRITICAL.column_names)


def _key_order(cfg: Config, df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """``df`` sorted by activation (in config order), then ``keys``; a fresh index."""
    order = df["activation"].map({a: i for i, a in enumerate(cfg.phase.activations)})
    df = df.assign(_a=order).sort_values(["_a", *keys], kind="mergesort").drop(columns="_a")
    return df.reset_index(drop=True)


def measured_frame(cfg: Config, tasks: list[dict], results: list) -> pd.DataFrame:
    """phase_measured.csv from the ``phase`` tasks' results, rows in key order (activation in config order)."""
    parts = []
    for t, r in zip(tasks, results):
        df = r["result"].copy()
        df.insert(0, "activation", t["activation"])
        df.insert(3, "width", t["width"])
        df.insert(4, "seed", t["seed"])
        parts.append(df)
    if not parts:
        return pd.DataFrame(columns=PHASE_MEASURED.column_names)
    return _key_order(cfg, pd.concat(parts, ignore_index=True), ["sigma_w2", "sigma_b2", "width", "seed", "layer"])


def theory_frame(cfg: Config, tasks: list[dict], results: list) -> pd.DataFrame:
    """phase_theory.csv from the ``phase_theory`` tasks' results, rows in (activation, sigma_w2, sigma_b2) order."""
    parts = [r["result"].assign(activation=t["activation"]) for t, r in zip(tasks, results)]
    if not parts:
        return pd.DataFrame(columns=PHASE_THEORY.column_names)
    return _key_order(cfg, pd.concat(parts, ignore_index=True), ["sigma_w2", "sigma_b2"])


def start_phase(cfg: Config, executor=None, quiet: bool = False) -> Callable[[], list[RunStats]] | None:
    """Queue the stage's tasks on ``executor``; return a function that waits for them, writes the files
    and the manifest and returns the RunStats -- or None when the stage is current (skipped)."""
    from generator.pipeline.experiments_stage import start_guarded

    data_dir = resolve(cfg.output.docs_dir) / "data"

    def submit():
        cache = Cache(resolve(cfg.output.cache_dir))
        th_tasks, m_tasks = theory_tasks(cfg), phase_tasks(cfg)
        th_pending = submit_tasks(THEORY_KIND, th_tasks, cache, executor)
        m_pending = submit_tasks(KIND, m_tasks, cache, executor)

        def collect():
            critical = critical_frame(cfg)  # in this process, while the workers compute
            th_results, th_stats = th_pending.collect(quiet)
            m_results, m_stats = m_pending.collect(quiet)
            frames = {
                PHASE_THEORY.name: theory_frame(cfg, th_tasks, th_results),
                PHASE_CRITICAL.name: critical,
                PHASE_MEASURED.name: measured_frame(cfg, m_tasks, m_results),
            }
            for name, df in frames.items():
                contract.write_csv(name, df, data_dir)
            return list(frames), [th_stats, m_stats]

        return collect

    return start_guarded("phase", data_dir, phase_stage_key(cfg), PHASE_MANIFEST, submit, quiet)


def run_phase(cfg: Config, executor=None, quiet: bool = False) -> list[RunStats]:
    """The whole stage at once (empty list when skipped)."""
    finish = start_phase(cfg, executor, quiet)
    return finish() if finish is not None else []
