"""``--executor dask`` (generator/pipeline/dask_executor.py): same bytes as the process pool, retries,
failures raised in the client with nothing cached, cache hits, refused workers, the missing-extra line.

Every test but the last needs ``dask.distributed`` (the optional ``cluster`` extra) and skips without it.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
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
from generator.pipeline.runner import TASKS, ProcessExecutor, register_task, run_tasks
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
def test_dask_gives_the_process_pool_bytes(tmp_path):
    from generator.pipeline.experiments_stage import run_experiments

    runs = {
        "process": ProcessExecutor(2, chunksize=3),
        "dask-threads": DaskExecutor(workers=2, processes=False, chunksize=3),
        "dask-processes": DaskExecutor(workers=2, processes=True, chunksize=3),
    }
    files = {}
    for name, executor in runs.items():
        with executor:
            result = run_experiments(_tiny_cfg(tmp_path / name), executor=executor, quiet=True)
        assert result.stats and all(st.computed == st.total for st in result.stats), name  # nothing shared
        files[name] = _data_files(tmp_path / name)
    assert "propagation.csv" in files["process"]
    assert files["dask-threads"] == files["process"]
    assert files["dask-processes"] == files["process"]


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
