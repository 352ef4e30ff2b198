"""``--executor dask`` (generator/pipeline/dask_executor.py): same bytes as the process pool, retries,
failures raised in the client with nothing cached, cache hits, refused workers, the missing-extra line.

The acceptance of issue 17 (end of the file): the ``experiments`` stage on configs/small.toml gives the
same data files with ``--executor process``, a LocalCluster of worker processes and an in-process one,
and a second run from the first's cache is 100 % hits; on worker processes, a task that fails once
succeeds on retry and a failing task raises in the client with nothing cached. Every test that starts a
cluster needs ``dask.distributed`` (the optional ``cluster`` extra) and skips without it.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import json
import re
import sys
from pathlib import Path

import pandas as pd
import pytest

from generator.common.errors import ConfigError
from generator.common.paths import ROOT
from generator.config.load import OutputConfig, load_config
from generator.experiments.plan import grid_tasks
from generator.pipeline import dask_executor
from generator.pipeline.dask_executor import DaskExecutor
from generator.pipeline.runner import TASKS, register_task, run_tasks
from generator.pipeline.store import Cache

needs_distributed = pytest.mark.skipif(
    importlib.util.find_spec("distributed") is None,
    reason="dask.distributed is not installed (optional extra: pip install -e '.[cluster]')",
)


def _tiny_cfg(root: Path):
    cfg = load_config(ROOT / "configs" / "small.toml")
    cfg.sections["propagation"] = dataclasses.replace(
        cfg.propagation, samples=16, width=8, depth=2, inits=("xavier", "he"), activations=("tanh", "relu")
    )
    cfg.sections["output"] = OutputConfig(
        docs_dir=str(root / "docs"), public_dir=str(root / "public"), cache_dir=str(root / "cache")
    )
    return cfg


def _data_files(root: Path) -> dict[str, bytes]:
    """Every file under data/, a stage manifest without its key: the key holds the BLAS threads of the
    work done in this process (the symmetry runs), and an in-process cluster's workers limit this
    process's BLAS to one thread, so only the keys may differ between executors, never a file's hash."""
    data = root / "docs" / "data"
    files = {p.name: p.read_bytes() for p in sorted(data.iterdir()) if p.is_file()}
    for name in [n for n in files if n.endswith("-manifest.json")]:
        files[name] = json.dumps(json.loads(files[name])["files"], sort_keys=True).encode()
    return files


@pytest.fixture
def in_process():
    """A LocalCluster of two worker threads in this process (monkeypatched functions reach it)."""
    with DaskExecutor(workers=2, processes=False, chunksize=3) as ex:
        yield ex


@needs_distributed
def test_second_run_is_all_cache_hits(tmp_path, in_process):
    tasks = grid_tasks(_tiny_cfg(tmp_path))
    cache = Cache(tmp_path / "cache")
    first, s1 = run_tasks("propagation", tasks, cache, executor=in_process, quiet=True)
    second, s2 = run_tasks("propagation", tasks, cache, executor=in_process, quiet=True)
    assert (s1.computed, s1.hits) == (len(tasks), 0)
    assert (s2.computed, s2.hits) == (0, len(tasks))
    for a, b in zip(first, second):
        pd.testing.assert_frame_equal(a["layers"], b["layers"])


def flaky(marker: str, value: int) -> pd.DataFrame:
    """Fails the first time it is called for ``marker`` (which it then creates)."""
    path = Path(marker)
    if not path.exists():
        path.write_text("failed once")
        raise RuntimeError("first try fails")
    return pd.DataFrame({"value": [value]})


def broken(value: int) -> pd.DataFrame:
    raise RuntimeError(f"task {value} always fails")


@pytest.fixture
def test_tasks():
    register_task("dask_flaky", f"{__name__}:flaky")
    register_task("dask_broken", f"{__name__}:broken")
    yield
    TASKS.pop("dask_flaky")
    TASKS.pop("dask_broken")


@needs_distributed
def test_task_failing_once_succeeds_on_retry(tmp_path, test_tasks):
    marker = tmp_path / "failed-once"  # one marker: the chunk's first try fails, every later call passes
    params = [{"marker": str(marker), "value": i} for i in range(3)]
    # the control: without a retry the same tasks fail
    with DaskExecutor(workers=1, processes=False, retries=0) as ex, pytest.raises(RuntimeError, match="first try"):
        run_tasks("dask_flaky", params, Cache(tmp_path / "c0"), executor=ex, quiet=True)
    marker.unlink()
    with DaskExecutor(workers=1, processes=False, retries=2) as ex:
        results, stats = run_tasks("dask_flaky", params, Cache(tmp_path / "c1"), executor=ex, quiet=True)
    assert [r["result"]["value"].tolist() for r in results] == [[0], [1], [2]]
    assert stats.computed == 3 and marker.exists()


@needs_distributed
def test_failing_task_raises_in_client_and_caches_nothing(tmp_path, test_tasks, in_process):
    with pytest.raises(RuntimeError, match="task 0 always fails"):
        run_tasks("dask_broken", [{"value": 0}], Cache(tmp_path / "cache"), executor=in_process, quiet=True)
    assert not list((tmp_path / "cache").rglob("*.json")) and not list((tmp_path / "cache").rglob("*.npz"))


@needs_distributed
@pytest.mark.parametrize("field", ["blas", "blas_threads", "numpy", "code:generator.experiments.propagation"])
def test_worker_with_another_environment_is_refused(monkeypatch, field):
    real = dask_executor.worker_environment

    def other(modules):
        env = real(modules)
        env[field] = "something else"
        return env

    monkeypatch.setattr(dask_executor, "worker_environment", other)
    with pytest.raises(ConfigError) as info:
        DaskExecutor(workers=1, processes=False).__enter__()
    line = str(info.value)
    assert "\n" not in line and f"in {field}:" in line and "worker " in line and "something else" in line


@needs_distributed
def test_matching_workers_are_accepted():
    with DaskExecutor(workers=2, processes=False) as ex:
        assert ex._client is not None


def test_missing_extra_is_one_line_exit_2(monkeypatch, capsys, tmp_path):
    from generator.cli import main

    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` raises ImportError
    config = tmp_path / "small.toml"
    config.write_text((ROOT / "configs" / "small.toml").read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["experiments", "--config", str(config), "--executor", "dask", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install -e '.[cluster]'" in err[0], err
    assert not (tmp_path / "site").exists()


@needs_distributed
def test_maps_outside_a_with_block_share_one_cluster_until_the_last(tmp_path):
    """The experiments stage with --only queues several groups on an executor it never enters."""
    tasks = grid_tasks(_tiny_cfg(tmp_path))
    ex = DaskExecutor(workers=1, processes=False, chunksize=2)
    from generator.experiments.propagation import run_propagation

    first, second = ex.map(run_propagation, tasks[:3]), ex.map(run_propagation, tasks[3:5])
    assert ex._client is not None
    a = list(first)  # the first map finishes while the second is still queued
    b = list(second)
    assert len(a) == 3 and len(b) == 2 and ex._client is None  # the last reader closed the cluster
    pd.testing.assert_frame_equal(b[0]["layers"], run_propagation(**tasks[3])["layers"])


@needs_distributed
def test_existing_scheduler_from_the_environment(monkeypatch, tmp_path):
    import distributed

    from generator.experiments.propagation import run_propagation

    tasks = grid_tasks(_tiny_cfg(tmp_path))[:2]
    with distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster:
        monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", cluster.scheduler_address)
        with DaskExecutor() as ex:
            assert ex.scheduler == cluster.scheduler_address and ex._cluster is None  # no cluster of its own
            results = list(ex.map(run_propagation, tasks))
    pd.testing.assert_frame_equal(results[1]["layers"], run_propagation(**tasks[1])["layers"])


def test_scheduler_without_dask_executor_is_refused(capsys, tmp_path):
    from generator.cli import main

    config = tmp_path / "small.toml"
    config.write_text((ROOT / "configs" / "small.toml").read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["experiments", "--config", str(config), "--scheduler", "tcp://127.0.0.1:8786", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--scheduler" in err[0] and "--executor dask" in err[0], err


@needs_distributed
def test_scheduler_without_workers_is_refused(monkeypatch):
    import distributed

    monkeypatch.setattr(dask_executor, "WORKER_WAIT", 1)
    no_workers = distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=None)
    with no_workers as cluster, pytest.raises(ConfigError, match="has no worker after 1 s"):
        DaskExecutor(scheduler=cluster.scheduler_address).__enter__()


# ---------------------------------------------------------------------------------------------------
# Acceptance (issue 17): the small grid's `experiments` stage, failures and retries on worker processes


def _stage(root: Path, executor: str, capsys, cache: Path | None = None) -> tuple[dict[str, bytes], list]:
    """``experiments`` on configs/small.toml (outputs under ``root``; ``cache`` to share one) through the
    CLI with ``--executor``: (the data files, [(kind, total, cached, computed)] of its summary lines)."""
    from generator.cli import main
    from sitebuild import write_config

    config = write_config(root, overrides={"output": {"cache_dir": str(cache)}} if cache else None)
    capsys.readouterr()
    assert main(["experiments", "--config", str(config), "--executor", executor, "--workers", "2"]) == 0
    err = capsys.readouterr().err
    lines = re.findall(r"^(\w+): (\d+) tasks, (\d+) cached, (\d+) computed", err, re.MULTILINE)
    return _data_files(root), [(k, int(t), int(h), int(c)) for k, t, h, c in lines]


@needs_distributed
def test_small_grid_stage_same_bytes_on_dask_and_process_and_second_run_all_hits(tmp_path, capsys, monkeypatch):
    process, p_stats = _stage(tmp_path / "process", "process", capsys)
    dask, d_stats = _stage(tmp_path / "dask", "dask", capsys)  # a LocalCluster of worker processes
    kinds = {k for k, *_ in p_stats}
    assert {"propagation", "symmetry", "seed_code", "training"} <= kinds and "propagation.csv" in process
    assert all(c == t for _, t, _, c in p_stats + d_stats)  # every task computed: nothing shared
    assert dask == process
    # a second run, into fresh docs but with the first dask run's cache: every task a cache hit
    again, a_stats = _stage(tmp_path / "again", "dask", capsys, cache=tmp_path / "dask" / "cache")
    assert {k for k, *_ in a_stats} == kinds and all((h, c) == (t, 0) for _, t, h, c in a_stats)
    assert again == process
    # an in-process LocalCluster (its worker threads share this process)
    monkeypatch.setattr(dask_executor, "DaskExecutor", functools.partial(DaskExecutor, processes=False))
    threads, _ = _stage(tmp_path / "threads", "dask", capsys)
    assert threads == process


@pytest.fixture(scope="module")
def dask_processes():
    """One LocalCluster of two worker processes for the module's failure tests. Spawned workers get this
    process's sys.path, so they import this test module's task functions."""
    with DaskExecutor(workers=2, processes=True, chunksize=2, retries=2) as ex:
        yield ex


@needs_distributed
def test_worker_process_failing_once_succeeds_on_retry(tmp_path, test_tasks, dask_processes):
    marker = tmp_path / "failed-once"
    params = [{"marker": str(marker), "value": i} for i in range(4)]
    results, stats = run_tasks("dask_flaky", params, Cache(tmp_path / "cache"), executor=dask_processes, quiet=True)
    assert [r["result"]["value"].tolist() for r in results] == [[0], [1], [2], [3]]
    assert marker.read_text() == "failed once" and stats.computed == 4


@needs_distributed
def test_worker_process_failure_raises_in_client_and_caches_nothing(tmp_path, test_tasks, dask_processes):
    cache = tmp_path / "cache"
    with pytest.raises(RuntimeError, match="task 0 always fails"):
        run_tasks("dask_broken", [{"value": 0}, {"value": 1}], Cache(cache), executor=dask_processes, quiet=True)
    assert not [p for p in cache.rglob("*") if p.is_file()]
    # the cluster outlives a failed map: the next tasks run
    tasks = grid_tasks(_tiny_cfg(tmp_path))[:2]
    _, stats = run_tasks("propagation", tasks, Cache(cache), executor=dask_processes, quiet=True)
    assert stats.computed == 2


@needs_distributed
def test_default_grid_elu_tasks_same_bits_on_worker_processes_and_process_pool(tmp_path, dask_processes):
    """The default grid's orthogonal-init ELU tasks: they differed in the last bits while ELU's gain was a
    BLAS dot computed at import (a Dask worker imports under one BLAS thread, a forked pool worker under
    the parent's two); the small grid has no ELU."""
    from generator.pipeline.runner import ProcessExecutor

    cfg = load_config(ROOT / "experiments.toml", check_writable=False)
    tasks = [t for t in grid_tasks(cfg) if (t["init"], t["activation"], t["seed"]) == ("orthogonal", "elu", 0)]
    assert tasks
    with ProcessExecutor(2) as pool:
        pooled, _ = run_tasks("propagation", tasks, Cache(tmp_path / "p"), executor=pool, quiet=True)
    dasked, _ = run_tasks("propagation", tasks, Cache(tmp_path / "d"), executor=dask_processes, quiet=True)
    for a, b in zip(pooled, dasked, strict=True):
        assert a.keys() == b.keys()
        for name in a:
            pd.testing.assert_frame_equal(a[name], b[name], check_exact=True)
