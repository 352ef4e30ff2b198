"""The BLAS thread count a task runs with is part of its cache key and of the stage group keys.

A GEMM split over more threads sums in another order, so a result computed with two threads may differ
in its last bits from the same task on one: entries are shared between executors only where the thread
counts are equal (generator/pipeline/runner.py, task_environment).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from generator.common.paths import ROOT
from generator.config.load import OutputConfig, load_config
from generator.experiments import training_run
from generator.experiments.plan import grid_tasks
from generator.pipeline import store
from generator.pipeline.runner import (
    TASK_THREADS,
    TASKS,
    ProcessExecutor,
    SerialExecutor,
    register_task,
    run_tasks,
    task_environment,
)
from generator.pipeline.store import Cache


class Threads(SerialExecutor):
    """Runs in this process but states a fixed thread count: keys as if on an executor with ``n`` threads."""

    def __init__(self, n: int):
        self.n = n

    @property
    def blas_threads(self) -> int:
        return self.n


def _tiny_cfg(root: Path):
    cfg = load_config(ROOT / "configs" / "small.toml")
    cfg.sections["propagation"] = dataclasses.replace(
        cfg.propagation, samples=16, width=8, depth=2, inits=("xavier",), activations=("tanh", "relu")
    )
    cfg.sections["output"] = OutputConfig(
        docs_dir=str(root / "docs"), public_dir=str(root / "public"), cache_dir=str(root / "cache")
    )
    return cfg


def report_threads(value: int) -> pd.DataFrame:
    """A task that returns the BLAS threads it ran with."""
    return pd.DataFrame({"value": [value], "threads": [store.blas_threads()]})


@pytest.fixture
def thread_task():
    register_task("report_threads", f"{__name__}:report_threads")
    yield
    TASKS.pop("report_threads")


def test_task_keys_differ_across_thread_counts_and_match_for_equal_ones(tmp_path):
    tasks = grid_tasks(_tiny_cfg(tmp_path))
    cache = Cache(tmp_path / "cache")
    _, one = run_tasks("propagation", tasks, cache, executor=Threads(1), quiet=True)
    _, again = run_tasks("propagation", tasks, cache, executor=Threads(1), quiet=True)
    _, two = run_tasks("propagation", tasks, cache, executor=Threads(2), quiet=True)
    assert (one.computed, again.hits) == (len(tasks), len(tasks))
    assert (two.computed, two.hits) == (len(tasks), 0)  # nothing shared with the one-thread entries
    with threadpool_limits(limits=1, user_api="blas"):  # a serial run with one thread: the same keys
        assert SerialExecutor().blas_threads == 1
        _, serial = run_tasks("propagation", tasks, cache, quiet=True)
    assert (serial.hits, serial.computed) == (len(tasks), 0)
    envs = [task_environment("propagation", Threads(n)) for n in (1, 2)]
    assert [e["blas_threads"] for e in envs] == [1, 2] and envs[0]["blas"] == store.blas_kernel()


def test_process_pool_tasks_run_with_the_threads_they_are_keyed_with(tmp_path, thread_task):
    pool = ProcessExecutor(1)  # one worker with every core's BLAS threads
    assert pool.blas_threads == max(1, os.cpu_count() or 1)
    results, _ = run_tasks("report_threads", [{"value": 0}], Cache(None), executor=pool, quiet=True)
    assert results[0]["result"]["threads"].tolist() == [pool.blas_threads]
    assert task_environment("report_threads", pool)["blas_threads"] == pool.blas_threads


def test_one_thread_pool_and_one_thread_serial_run_share_entries(tmp_path):
    tasks = grid_tasks(_tiny_cfg(tmp_path))[:4]
    cache = Cache(tmp_path / "cache")
    pool = ProcessExecutor(os.cpu_count() or 1, chunksize=2)
    assert pool.blas_threads == 1
    pooled, first = run_tasks("propagation", tasks, cache, executor=pool, quiet=True)
    with threadpool_limits(limits=1, user_api="blas"):
        serial, second = run_tasks("propagation", tasks, cache, quiet=True)
    assert (first.computed, second.hits) == (len(tasks), len(tasks))
    for a, b in zip(pooled, serial):
        pd.testing.assert_frame_equal(a["layers"], b["layers"])


def test_a_task_that_pins_its_threads_is_keyed_with_them():
    import generator.pipeline.training_stage as training_stage

    assert TASK_THREADS[training_stage.KIND] == training_run.BLAS_THREADS
    envs = {n: task_environment(training_stage.KIND, Threads(n))["blas_threads"] for n in (1, 2)}
    assert envs == {1: training_run.BLAS_THREADS, 2: training_run.BLAS_THREADS}


def test_train_run_runs_with_its_pinned_threads(monkeypatch):
    monkeypatch.setattr(training_run, "_train", lambda **params: store.blas_threads())
    with threadpool_limits(limits=2, user_api="blas"):
        assert training_run.train_run() == training_run.BLAS_THREADS


def test_group_keys_follow_the_thread_count():
    from generator.pipeline.experiments_stage import group_key
    from generator.pipeline.stages import training_stage_key

    inputs = {"tasks": [{"a": 1}]}
    assert group_key("grid", inputs, Threads(1)) != group_key("grid", inputs, Threads(2))
    assert group_key("grid", inputs, Threads(1)) == group_key("grid", inputs, ProcessExecutor(os.cpu_count() or 1))
    with threadpool_limits(limits=1, user_api="blas"):
        assert group_key("grid", inputs) == group_key("grid", inputs, Threads(1))  # None: this process
    cfg = load_config(ROOT / "configs" / "small.toml")
    assert training_stage_key(cfg, Threads(1)) == training_stage_key(cfg, Threads(2))  # pinned to one thread


def test_default_site_executor_second_run_is_all_hits(tmp_path):
    """The default path (a process pool of one-thread workers): the second run of the stage skips every
    group, and reading every task back (write=False) is 100 % cache hits."""
    from generator.pipeline.experiments_stage import run_experiments

    cfg = _tiny_cfg(tmp_path)
    with ProcessExecutor(2, chunksize=3) as pool:
        first = run_experiments(cfg, executor=pool, quiet=True)
        second = run_experiments(cfg, executor=pool, quiet=True)
        tasks = run_experiments(cfg, executor=pool, quiet=True, write=False)
    assert all(st.computed == st.total for st in first.stats)
    assert all((st.hits, st.computed) == (st.total, 0) for st in second.stats + tasks.stats)
    assert sum(st.total for st in tasks.stats) > 0


def test_blas_kernel_is_numpys_whatever_else_the_process_loaded():
    # SciPy's wheel bundles its own OpenBLAS, loaded on import: the kernel string (in every cache key and
    # in the Dask workers' check) must not depend on whether this process imported SciPy before
    import subprocess
    import sys

    import scipy.linalg  # noqa: F401  (loads scipy.libs' OpenBLAS into this process)
    from threadpoolctl import ThreadpoolController

    loaded = ThreadpoolController().select(user_api="blas").lib_controllers
    assert len(loaded) >= 2, [c.filepath for c in loaded]  # the situation this test is about
    store._blas_libraries.cache_clear()
    try:
        here = store.blas_kernel()
    finally:
        store._blas_libraries.cache_clear()
    code = "import sys; from generator.pipeline.store import blas_kernel; print(blas_kernel()); print('scipy' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.split("\n")
    assert out[1] == "False"
    assert here == out[0] and ";" not in here, (here, out[0])
