"""`make bench` helpers (generator/pipeline/bench.py) on tiny inputs: the accounting and the verdicts, not speed."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.pipeline import bench
from generator.pipeline.runner import SerialExecutor


def _task(init, activation="tanh", norm="none", seed=0):
    return dict(
        init=init,
        activation=activation,
        norm=norm,
        seed=seed,
        samples=20,
        width=6,
        depth=3,
        dtype="float64",
        hist_bins=4,
        diverge_rms=1e8,
    )


def test_time_propagation_reports_the_flops_the_engine_performed():
    import generator.experiments.propagation as prop

    prop._FIRST_PREACT.clear()
    tasks = [_task("he", "tanh"), _task("he", "relu"), _task("zeros", "tanh")]
    _, flops = bench.time_propagation(tasks, SerialExecutor())
    gemm = 2.0 * 20 * 6 * 6
    # he/tanh: 3 depth - 1 = 8 products; he/relu shares X W_1: 7; zeros: only the top layer's dW
    assert flops == (8 + 7 + 1) * gemm
    assert bench.gemm_flops_per_config(20, 6, 3) == 8 * gemm


def test_ordered_puts_zero_weight_groups_last_and_keeps_groups_together():
    inits = ("zeros", "he", "xavier")
    tasks = [_task(i, a, n, s) for s in (0, 1) for i in inits for a in ("tanh", "relu") for n in ("none", "bn")]
    out = bench.ordered(tasks, inits)
    assert sorted(map(str, out)) == sorted(map(str, tasks))
    keys = [(t["init"], t["seed"]) for t in out]
    assert keys[-8:] == [("zeros", 0)] * 4 + [("zeros", 1)] * 4
    # each (seed, init) group is contiguous, so an executor's chunk of 4 is one group
    assert all(len(set(keys[i : i + 4])) == 1 for i in range(0, len(keys), 4))


def _result(**over):
    r = {
        "fraction_of_peak": 0.85,
        "speedup_vs_seed_loop": 2.0,
        "torch_ratio": None,
        "cold_site_s": 90.0,
        "gemm_floor_s": 50.0,
        "bare_mkdocs_s": 1.0,
        "warm_site_s": 1.6,
        "peak_rss_mb": 700.0,
        "scaling": {
            "quarter_s": 10.0,
            "half_s": 20.0,
            "all_s": 44.0,
            "quarter_tasks": 100,
            "half_tasks": 200,
            "all_tasks": 400,
        },
    }
    r.update(over)
    return r


def test_targets_compare_against_the_issue_thresholds():
    t = bench.targets(_result())
    assert t["fraction_of_peak>=0.80"] is True and t["speedup_vs_seed_loop>=2.5"] is False
    assert t["torch_ratio<=1.1"] is None  # torch not importable: no verdict
    assert t["cold_site<=1.5(floor+mkdocs)"] is False  # 90 > 1.5 * 51 = 76.5
    assert t["warm_site<=1.5*mkdocs"] is False  # 1.6 > 1.5
    assert t["scaling_max_deviation"] == pytest.approx(0.0909, abs=1e-3)  # 10/44*4 - 1
    assert t["scaling_linear_within_15%"] is True
    assert bench.targets(_result(cold_site_s=None))["cold_site<=1.5(floor+mkdocs)"] is None


def test_table_names_every_reported_figure():
    r = _result(
        executors={"serial_s": 1.0, "process_s": 0.5, "workers": 2},
        gemm_peak_gflops=100.0,
        propagation_gflops=80.0,
        propagation_s=1.0,
        seed_loop_s=2.0,
        blas={"internal_api": "openblas", "version": "x", "architecture": "Haswell", "env": {}},
        figures={"serial_s": 3.0, "process_s": 2.0, "files": 10},
    )
    r["targets"] = bench.targets(r)
    text = bench.table(r)
    for needle in (
        "openblas x Haswell",
        "1 / 0.5",
        "fraction_of_peak",
        "0.85",
        "3 / 2",
        "10 files",
        "target warm_site<=1.5*mkdocs",
    ):
        assert needle in text


def test_side_by_side_bench_config_and_table(tmp_path):
    """make bench BASE=...: outputs move under the temporary folder, the one edit touches exactly the
    [symmetry] learning rate, and a ratio above 1.05 is flagged."""
    from generator.common.paths import ROOT
    from generator.config.load import load_config
    from generator.pipeline import bench_compare

    conf = bench_compare.site_config(ROOT / "experiments.toml", tmp_path)
    cfg = load_config(conf, check_memory=False)
    assert all(Path(getattr(cfg.output, k)).is_relative_to(tmp_path) for k in ("docs_dir", "public_dir", "cache_dir"))
    before = load_config(conf, check_memory=False)
    assert bench_compare.edit_config(conf)
    after = load_config(conf, check_memory=False)
    assert after.symmetry.learning_rate == 0.11 and before.symmetry.learning_rate == 0.1
    assert after.training == before.training and after.propagation == before.propagation
    # a compare.json from before the floor columns still prints
    res = {
        "base": "0" * 40,
        "median": {"base": {"cold_s": 10.0, "warm_s": 1.0}, "this": {"cold_s": 10.4, "warm_s": 1.2}},
        "ratio": {"cold_s": 1.04, "warm_s": 1.2},
    }
    lines = bench_compare.table(res).splitlines()
    assert "over" not in lines[2] and "over +5 %" in lines[3]
