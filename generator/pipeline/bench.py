"""``make bench``: how close the build runs to what this machine can do.

Writes ``bench/results.json`` and prints a table. Every number is measured in this run, on this
machine; nothing is compared against a stored value. Keys:

gemm_peak_gflops      float64 GEMM rate at the grid's three layer shapes (X·W, Xᵀ·dA, dA·Wᵀ), best of N
propagation_gflops    GEMM FLOPs the engine performed on the default grid (each task reports its own, see
                      propagation.py: exactly-zero products are skipped, X W_1 is shared within a
                      (seed, init)) / the measured time (uncached)
fraction_of_peak      propagation_gflops / gemm_peak_gflops
gemm_floor_s          all GEMM FLOPs the default build performs / peak: the propagation grid's (above) plus
                      every training run's, the BN page's placement runs' and the seed re-runs' (each task
                      counts its own; gemm_floor_propagation_s, gemm_floor_training_s and
                      gemm_floor_other_s are the parts; without the site builds, propagation only)
gemm_flops_nominal    every GEMM of every propagation config ((3 depth - 1) per config), as the seed-style
                      loop does them; gemm_floor_nominal_s is that (+ training) / peak
speedup_vs_seed_loop  seed-style loop time / ours, same grid (RandomState.randn, np.dot, every activation
                      stored, np.mean/np.std and np.histogram per layer), run in a fresh interpreter (the
                      loop and the torch reference: generator/pipeline/bench_reference.py)
cold_site_s           `python -m generator site` with empty caches (venv already installed)
warm_site_s           the same again, nothing changed
edit_site_s           the same after one config line changed ([symmetry] learning_rate; reported, no target)
bare_mkdocs_s         `mkdocs build` alone on the generated docs
scaling               propagation time for 1/4, 1/2 and all of the grid (uncached)
peak_rss_mb           peak resident memory of the cold site build (largest process)
torch_ratio           our time / PyTorch CPU float64 (2 threads) time on the same grid; null without torch
blas                  the BLAS library, kernel architecture and the OPENBLAS_* variables of this run
figures               the figures stage on the cold build's data: serial_s (one process) and process_s
                      (the pool), each from an empty figure cache
explorer              the explorer page's redraw time in Chromium (generator/pipeline/bench_explorer.py: median and
                      max data-redraw-ms over control changes, target < 50 ms; gzipped size of its JS + CSS + d3)
dask                  the propagation grid on a Dask LocalCluster vs the process pool, same workers, side by
                      side (generator/pipeline/bench_cluster.py); dask_overhead = Dask / pool time, <= 1.10
phase                 the phase stage's time against its GEMM floor (bench_cluster.phase_floor; None
                      while the phase stage is absent)
weight                page weight of the cold build's public tree (generator/pipeline/bench_weight.py: bytes
                      of ko / en / shared files, total, largest page per language); with --quick, of the
                      configured public_dir when it exists; printed as a Markdown table after the others

Targets (reported, not asserted): fraction_of_peak >= 0.80, speedup_vs_seed_loop >= 2.5,
torch_ratio <= 1.1, cold_site_s <= 1.5 (gemm_floor_s + bare_mkdocs_s), warm_site_s <= 1.5 bare_mkdocs_s,
scaling linear within 15%, peak_rss_mb <= 2048, dask_overhead <= 1.10.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from generator.common import atomic
from generator.common.paths import BENCH_DIR, ROOT
from generator.config.load import Config, resolve
from generator.experiments.plan import grid_tasks
from generator.pipeline import bench_cluster, bench_explorer, bench_weight
from generator.pipeline.bench_compare import edit_config, site_config
from generator.pipeline.bench_peak import gemm_peak
from generator.pipeline.bench_reference import seed_loop_time, torch_time
from generator.pipeline.runner import run_tasks
from generator.pipeline.store import Cache


def blas_info() -> dict:
    """The BLAS kernel this run uses and the environment that chose it. Some machines pin
    OPENBLAS_CORETYPE (older OpenBLAS builds misbehave on their CPU); that pins every number here, the
    peak included, so a results file must say which kernel it measured."""
    from threadpoolctl import threadpool_info

    blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    first = blas[0] if blas else {}
    return {
        "internal_api": first.get("internal_api"),
        "architecture": first.get("architecture"),
        "version": first.get("version"),
        "num_threads": first.get("num_threads"),
        "env": {
            k: os.environ[k]
            for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
            if k in os.environ
        },
    }


def gemm_flops_per_config(samples: int, width: int, depth: int) -> float:
    # forward X·W for every layer, backward dW for every layer, dX for all but the first layer
    return (3 * depth - 1) * 2.0 * samples * width * width


def time_propagation(tasks: list[dict], executor=None) -> tuple[float, float]:
    """(wall seconds, GEMM FLOPs the engine reports it performed) for ``tasks``, uncached."""
    t = time.perf_counter()
    results, _ = run_tasks("propagation", tasks, Cache(None), executor, quiet=True)
    dt = time.perf_counter() - t
    return dt, float(sum(r["work"]["gemm_flops"].sum() for r in results))


def ordered(tasks: list[dict], inits: tuple[str, ...]) -> list[dict]:
    """The order the experiments stage computes in (experiments.compute_order)."""
    from generator.experiments.plan import compute_order

    return [tasks[i] for i in compute_order(tasks, inits)]


def build_gemm_flops(conf: Path) -> dict[str, float]:
    """GEMM FLOPs of the build configured by ``conf`` beyond the propagation grid, from its cache (each
    task reports its own ``work``): every training run, the batch-norm placement runs and
    the seed-code re-runs."""
    from generator.config.load import load_config, resolve
    from generator.experiments.plan import placement_tasks
    from generator.experiments.seed_code import seed_code_tasks
    from generator.pipeline.runner import ProcessExecutor
    from generator.pipeline.training_stage import KIND, _key, plan

    cfg = load_config(conf)
    cache = Cache(resolve(cfg.output.cache_dir))
    # the pool `site` runs on (executor auto): the BLAS threads it ran with are part of the keys
    executor = ProcessExecutor()
    unique: dict[str, dict] = {}
    for _, _, params in plan(cfg.training):
        unique.setdefault(_key(params), params)
    out = {}
    for name, kind, tasks in (
        ("training", KIND, list(unique.values())),
        ("placement", "propagation", placement_tasks(cfg)),
        ("seed_code", "seed_code", seed_code_tasks(seeds=cfg.propagation.seeds)),
    ):
        results, _ = run_tasks(kind, tasks, cache, executor, quiet=True)
        out[name] = float(sum(r["work"]["gemm_flops"].sum() for r in results))
    return out


def time_figures(conf: Path, tmp: Path) -> dict:
    """Wall time of the figures stage on the cold build's data, rendered by one process and by the
    pool (each with its own empty figure cache): the measurement behind rendering figures in parallel."""
    import dataclasses

    from generator.config.load import load_config
    from generator.pipeline.figures_stage import render_all_figures

    cfg = load_config(conf)
    out = {}
    for label, workers in (("serial_s", 1), ("process_s", None)):
        cache = tmp / f"figcache-{label}"
        cfg.sections["output"] = dataclasses.replace(cfg.output, cache_dir=str(cache))
        t = time.perf_counter()
        stats = render_all_figures(cfg, quiet=True, workers=workers)
        out[label] = time.perf_counter() - t
        out["files"] = stats.total
        shutil.rmtree(cache, ignore_errors=True)
    return out


def _timed(cmd: list[str]) -> tuple[float, float]:
    """Wall time and peak RSS (MB, largest descendant) of a subprocess."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    dt = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return dt, max(before, after) / 1024


def public_numbers(public: Path):
    """(page weight, explorer redraw numbers or None without chromium / playwright) of a built tree."""
    return bench_weight.weigh(public), bench_explorer.measure(public)


def run_bench(cfg: Config, args) -> dict:
    p = cfg.propagation
    tasks = grid_tasks(cfg)
    quick = getattr(args, "quick", False)
    res: dict = {
        "grid": {"configs": len(tasks), "samples": p.samples, "width": p.width, "depth": p.depth},
        "blas": blas_info(),
    }
    log = (lambda *a: None) if getattr(args, "quiet", False) else (lambda *a: print(*a, file=sys.stderr, flush=True))

    log("bench: seed-style reference loop (fresh interpreter) ...")
    seed_s = seed_loop_time(ordered(tasks, p.inits))
    log("bench: GEMM peak ...")
    peak = gemm_peak(p.samples, p.width)
    nominal = gemm_flops_per_config(p.samples, p.width, p.depth) * len(tasks)
    from generator.pipeline.runner import ProcessExecutor, SerialExecutor

    tasks = ordered(tasks, p.inits)
    log("bench: propagation grid, one process with all BLAS threads (uncached) ...")
    t_serial, _ = time_propagation(tasks, SerialExecutor())
    log("bench: propagation grid, one single-threaded process per core (uncached) ...")
    t_proc, flops = time_propagation(tasks, ProcessExecutor())
    res["executors"] = {"serial_s": t_serial, "process_s": t_proc, "workers": ProcessExecutor().workers}
    best = ProcessExecutor() if t_proc <= t_serial else SerialExecutor()
    t_all = min(t_serial, t_proc)
    # FLOPs the engine performed (it skips exactly-zero products and shares X W_1 within a (seed, init));
    # the nominal count is every GEMM of every config, as the seed-style loop does them.
    res.update(
        gemm_peak_gflops=peak,
        propagation_s=t_all,
        propagation_gflops=flops / t_all / 1e9,
        fraction_of_peak=flops / t_all / 1e9 / peak,
        gemm_floor_s=flops / peak / 1e9,
        gemm_flops=flops,
        gemm_flops_nominal=nominal,
        gemm_floor_nominal_s=nominal / peak / 1e9,
    )
    log("bench: scaling ...")
    res["scaling"] = scaling(tasks, len(p.activations) * len(p.norms), best, t_all)
    res["seed_loop_s"] = seed_s
    res["speedup_vs_seed_loop"] = res["seed_loop_s"] / t_all
    log("bench: torch ...")
    tt = torch_time(tasks)
    res["torch_s"] = tt
    res["torch_ratio"] = None if tt is None else t_all / tt  # ours / torch: <= 1.1 means within 10% of torch
    log("bench: the grid on a Dask LocalCluster vs the process pool, side by side (uncached) ...")
    res["dask"] = bench_cluster.dask_overhead(tasks, workers=ProcessExecutor().workers, log=log)
    log("bench: phase stage against its GEMM floor (uncached) ...")
    res["phase"] = bench_cluster.phase_floor(cfg, workers=ProcessExecutor().workers, log=log)

    if not quick:
        with tempfile.TemporaryDirectory() as d:
            tmp = Path(d)
            conf = site_config(cfg.path, tmp)
            py = sys.executable
            log("bench: cold site ...")
            res["cold_site_s"], res["peak_rss_mb"] = _timed(
                [py, "-m", "generator", "site", "--config", str(conf), "--quiet"]
            )
            weight, explorer = public_numbers(tmp / "public")  # the tree this code builds for the config
            # The floor counts every matrix multiply of the default build: the training runs', the BN
            # page's placement runs' and the seed re-runs' too (each task reports its own; read back from
            # the cold build's cache, nothing recomputed).
            add_build_floor(res, build_gemm_flops(conf), peak)
            log("bench: figures, one process vs the pool (empty figure caches) ...")
            res["figures"] = time_figures(conf, tmp)
            log("bench: warm site ...")
            res["warm_site_s"], _ = _timed([py, "-m", "generator", "site", "--config", str(conf), "--quiet"])
            log("bench: site after one config line changed ...")
            if edit_config(conf):  # [symmetry] learning_rate: 3 tasks, 2 figures, every page, mkdocs
                res["edit_site_s"], _ = _timed([py, "-m", "generator", "site", "--config", str(conf), "--quiet"])
            log("bench: bare mkdocs ...")
            res["bare_mkdocs_s"] = bare_mkdocs_time(tmp)
    else:
        res.update(cold_site_s=None, warm_site_s=None, edit_site_s=None, bare_mkdocs_s=None, peak_rss_mb=None)
        public = resolve(cfg.output.public_dir)
        weight, explorer = public_numbers(public) if public.is_dir() else (None, None)
    res["weight"], res["explorer"] = (None if weight is None else bench_weight.numbers(weight)), explorer

    res["targets"] = targets(res)
    BENCH_DIR.mkdir(exist_ok=True)
    atomic.write_text(BENCH_DIR / "results.json", json.dumps(res, indent=2, sort_keys=True) + "\n")
    print(table(res))
    if weight is not None:
        print("\n" + bench_weight.table(weight, "cold build" if not quick else str(public)))
    return res


def scaling(tasks: list[dict], group_size: int, executor, t_all: float) -> dict:
    """Propagation time of a quarter and a half of ``tasks`` (uncached, on ``executor``) next to the
    whole grid's ``t_all``. The subsets take every 4th / 2nd (seed, init) group of ``group_size`` tasks
    (activations x norms): the grid's mix of cheap (all-zero weights) and full groups, so time per task
    is comparable across the three sizes."""
    groups = [tasks[i : i + group_size] for i in range(0, len(tasks), group_size)]
    quarter, half = [t for g in groups[::4] for t in g], [t for g in groups[::2] for t in g]
    return {
        "quarter_s": time_propagation(quarter, executor)[0],
        "half_s": time_propagation(half, executor)[0],
        "all_s": t_all,
        "quarter_tasks": len(quarter),
        "half_tasks": len(half),
        "all_tasks": len(tasks),
    }


def add_build_floor(res: dict, extra: dict[str, float], peak: float) -> None:
    """Add the GEMM floor of the build beyond the propagation grid (``extra``: :func:`build_gemm_flops`)
    to ``res``: the training runs' part, the placement and seed re-runs' part, and both in the totals."""
    res["gemm_flops_training"] = extra["training"]
    res["gemm_flops_other"] = extra["placement"] + extra["seed_code"]
    res["gemm_floor_propagation_s"] = res["gemm_floor_s"]
    res["gemm_floor_training_s"] = extra["training"] / peak / 1e9
    res["gemm_floor_other_s"] = res["gemm_flops_other"] / peak / 1e9
    res["gemm_floor_s"] += res["gemm_floor_training_s"] + res["gemm_floor_other_s"]
    res["gemm_floor_nominal_s"] += res["gemm_floor_training_s"] + res["gemm_floor_other_s"]


def bare_mkdocs_time(tmp: Path) -> float:
    """Wall time of ``mkdocs build`` alone on the cold build's docs (``tmp/docs``), with the site's own
    config: mkdocs.yml plus the generated nav."""
    from generator.pipeline.nav import nav_settings, site_nav, write_child_config

    out = tmp / "bare"
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    parent = ROOT / "site" / "mkdocs.yml"
    child = write_child_config(parent, {**nav_settings(parent, site_nav()), "docs_dir": str(tmp / "docs")}, ".bench-")
    try:
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(child), "-d", str(out)],
            check=True,
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        seconds = time.perf_counter() - t
    finally:
        child.unlink(missing_ok=True)
    shutil.rmtree(out, ignore_errors=True)
    return seconds


def targets(r: dict) -> dict:
    def ok(cond):
        return None if cond is None else bool(cond)

    s = r["scaling"]
    lin = max(
        abs(s["quarter_s"] / s["all_s"] * s["all_tasks"] / s["quarter_tasks"] - 1),
        abs(s["half_s"] / s["all_s"] * s["all_tasks"] / s["half_tasks"] - 1),
    )
    have_site = r.get("cold_site_s") is not None
    return {
        "fraction_of_peak>=0.80": ok(r["fraction_of_peak"] >= 0.80),
        "speedup_vs_seed_loop>=2.5": ok(r["speedup_vs_seed_loop"] >= 2.5),
        "torch_ratio<=1.1": None if r["torch_ratio"] is None else ok(r["torch_ratio"] <= 1.1),
        "cold_site<=1.5(floor+mkdocs)": ok(r["cold_site_s"] <= 1.5 * (r["gemm_floor_s"] + r["bare_mkdocs_s"]))
        if have_site
        else None,
        "warm_site<=1.5*mkdocs": ok(r["warm_site_s"] <= 1.5 * r["bare_mkdocs_s"]) if have_site else None,
        "scaling_linear_within_15%": ok(lin <= 0.15),
        "scaling_max_deviation": lin,
        "peak_rss_mb<=2048": ok(r["peak_rss_mb"] <= 2048) if have_site else None,
        **bench_cluster.targets(r),
    }


def table(r: dict) -> str:
    def f(v):
        return "—" if v is None else (f"{v:.3g}" if isinstance(v, float) else str(v))

    ex = r["executors"]
    b = r.get("blas", {})
    rows = [
        (
            "BLAS kernel",
            f"{b.get('internal_api')} {b.get('version')} {b.get('architecture')} {b.get('env') or ''}".rstrip(),
        ),
        ("executor serial / process s", f"{ex['serial_s']:.3g} / {ex['process_s']:.3g}"),
    ]
    rows += [
        (k, f(r.get(k)))
        for k in (
            "gemm_peak_gflops",
            "propagation_gflops",
            "fraction_of_peak",
            "gemm_floor_s",
            "gemm_floor_propagation_s",
            "gemm_floor_training_s",
            "gemm_floor_other_s",
            "gemm_floor_nominal_s",
            "propagation_s",
            "seed_loop_s",
            "speedup_vs_seed_loop",
            "torch_ratio",
            "cold_site_s",
            "warm_site_s",
            "edit_site_s",
            "bare_mkdocs_s",
            "peak_rss_mb",
        )
    ]
    if r.get("figures"):
        fg = r["figures"]
        rows.append(
            (f"figures serial / process s ({fg['files']} files)", f"{fg['serial_s']:.3g} / {fg['process_s']:.3g}")
        )
    ex = r.get("explorer")
    if ex:
        rows.append(
            (
                "explorer redraw ms median / max (first draw)",
                f"{ex['redraw_ms_median']:.3g} / {ex['redraw_ms_max']:.3g} ({ex['first_ms']:.3g}); JS+CSS {ex['assets_gz_bytes']} B gz",
            )
        )
    rows += bench_cluster.rows(r)
    s = r["scaling"]
    rows.append(("scaling (1/4, 1/2, 1) s", f"{s['quarter_s']:.3g}, {s['half_s']:.3g}, {s['all_s']:.3g}"))
    rows += [(f"target {k}", f(v)) for k, v in r["targets"].items()]
    w = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(w)}  {v}" for k, v in rows)
