"""``make bench``'s cluster entries (generator/pipeline/bench_cluster.py) and the GEMM rate behind the phase
floor (generator/pipeline/bench_peak.py), on tiny inputs: the accounting and the skips, not speed."""

from __future__ import annotations

import importlib.util
import sys
import types
from collections import Counter

import pytest

from generator.pipeline import bench, bench_cluster
from generator.pipeline.bench_peak import RATE_MAX_ROWS, gemm_rate

needs_distributed = pytest.mark.skipif(
    importlib.util.find_spec("distributed") is None,
    reason="dask.distributed is not installed (optional extra: pip install -e '.[cluster]')",
)


def _prop(seed: int):
    return dict(
        init="he",
        activation="tanh",
        norm="none",
        seed=seed,
        samples=12,
        width=6,
        depth=2,
        dtype="float64",
        hist_bins=4,
        diverge_rms=1e8,
    )


def test_gemm_rate_is_single_threaded_flops_of_the_shape(monkeypatch):
    rate = gemm_rate(64, 32, 16)
    assert 1e6 < rate < 1e12  # FLOP/s, not GFLOP/s
    seen = []
    monkeypatch.setattr(bench_cluster, "gemm_rate", lambda m, k, n: seen.append((m, k, n)) or 1e9)
    flops, seconds = bench_cluster.gemm_floor(Counter({(6, 4, 4): 1, (36, 4, 4): 4}))
    assert flops == 2 * 6 * 4 * 4 + 4 * 2 * 36 * 4 * 4 and seconds == pytest.approx(flops / 1e9)
    assert sorted(seen) == [(6, 4, 4), (36, 4, 4)]  # one rate per distinct shape


def test_gemm_rate_caps_the_rows_it_times():
    # a product far taller than the cap is timed at the cap: this returns quickly and allocates ~RATE_MAX_ROWS rows
    assert gemm_rate(RATE_MAX_ROWS * 1000, 8, 8) > 0


def test_phase_gemms_follow_the_tasks_shapes():
    task = dict(width=4, pairs=3, depth=5, sigma_w2s=[1.0, 2.0], sigma_b2s=[0.0, 0.05, 0.1])
    # first layer: the (2 pairs, N) inputs; then one (points x 2 pairs, N) product per further layer
    assert bench_cluster.phase_gemms([task, dict(task, depth=1)]) == Counter({(6, 4, 4): 2, (36, 4, 4): 4})


def _fake_phase(monkeypatch, reported_extra: int = 0):
    tasks = [dict(width=8, pairs=2, depth=3, sigma_w2s=[1.0], sigma_b2s=[0.0, 0.1])]
    plan = types.ModuleType("generator.experiments.phase_plan")
    plan.phase_tasks = lambda cfg: tasks
    flops = 2 * 4 * 8 * 8 + 2 * (2 * 2 * 4 * 8 * 8)
    plan.phase_flops_total = lambda cfg: flops + reported_extra
    monkeypatch.setitem(sys.modules, "generator.experiments.phase_plan", plan)
    monkeypatch.setitem(sys.modules, "generator.pipeline.phase_stage", types.ModuleType("phase_stage"))
    return flops


def test_phase_floor_from_the_phase_interface(monkeypatch):
    flops = _fake_phase(monkeypatch)
    monkeypatch.setattr(bench_cluster, "gemm_rate", lambda m, k, n: 1e9)
    out = bench_cluster.phase_floor(None, workers=2, log=print, measure=False)
    assert out["gemm_flops"] == flops and out["tasks"] == 1
    assert out["floor_s"] == pytest.approx(flops / 1e9 / 2)


def test_phase_floor_skips_with_a_reason(monkeypatch):
    lines = []
    monkeypatch.setitem(sys.modules, "generator.experiments.phase_plan", None)  # import raises ImportError
    assert bench_cluster.phase_floor(None, log=lines.append) is None
    assert len(lines) == 1 and "phase_floor skipped" in lines[0]
    _fake_phase(monkeypatch, reported_extra=1)  # the task's work changed: no floor from stale shapes
    assert bench_cluster.phase_floor(None, log=lines.append, measure=False) is None
    assert "reported" in lines[-1]


def test_dask_overhead_skips_without_distributed(monkeypatch):
    lines = []
    monkeypatch.setitem(sys.modules, "distributed", None)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    assert bench_cluster.dask_overhead([_prop(0)], log=lines.append) is None
    assert "pip install -e '.[cluster]'" in lines[0]


@needs_distributed
def test_dask_overhead_times_both_sides_on_the_same_tasks():
    tasks = [_prop(s) for s in range(3)]
    d = bench_cluster.dask_overhead(tasks, workers=1, rounds=2, log=print)
    assert d["identical"] is True and d["tasks"] == 3 and d["rounds"] == 2
    assert len(d["dask_s"]) == len(d["process_s"]) == len(d["dask_start_s"]) == 2
    assert all(0 < s < t for s, t in zip(d["dask_start_s"], d["dask_s"]))
    assert d["dask_overhead"] == pytest.approx(sum(d["dask_s"]) / sum(d["process_s"]))


def test_dask_target_and_table_rows():
    dask = {"workers": 2, "rounds": 2, "dask_s": [5.0, 6.0], "process_s": [5.0, 5.0], "dask_start_s": [1.0, 1.2]}
    ok, slow = dict(dask, dask_overhead=1.05, identical=True), dict(dask, dask_overhead=1.2, identical=True)
    assert bench_cluster.targets({"dask": ok}) == {"dask_overhead<=1.1": True}
    assert bench_cluster.targets({"dask": slow}) == {"dask_overhead<=1.1": False}
    assert bench_cluster.targets({"dask": None}) == {"dask_overhead<=1.1": None}
    phase = {"phase_s": 30.0, "floor_s": 10.0, "phase_vs_floor": 3.0}
    text = "\n".join(f"{k} {v}" for k, v in bench_cluster.rows({"dask": ok, "phase": phase}))
    assert "11 / 10" in text and "overhead 1.050" in text and "30 / 10 = 3.00" in text
    r = {"dask": ok, "scaling": {"quarter_s": 1.0, "half_s": 2.0, "all_s": 4.0}}
    r["scaling"] |= {"quarter_tasks": 1, "half_tasks": 2, "all_tasks": 4}
    r |= {"fraction_of_peak": 0.9, "speedup_vs_seed_loop": 3.0, "torch_ratio": None}
    assert bench.targets(r)["dask_overhead<=1.1"] is True  # the bench's targets include it
