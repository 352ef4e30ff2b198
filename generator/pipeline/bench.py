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
                      stored, np.mean/np.std and np.histogram per layer), run in a fresh interpreter
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
weight                page weight of the cold build's public tree (generator/pipeline/bench_weight.py: bytes
                      of ko / en / shared files, total, largest page per language); with --quick, of the
                      configured public_dir when it exists; printed as a Markdown table after the others

Targets (reported, not asserted): fraction_of_peak >= 0.80, speedup_vs_seed_loop >= 2.5,
torch_ratio <= 1.1, cold_site_s <= 1.5 (gemm_floor_s + bare_mkdocs_s), warm_site_s <= 1.5 bare_mkdocs_s,
scaling linear within 15%, peak_rss_mb <= 2048.
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

import numpy as np

from generator.common import atomic
from generator.common.paths import BENCH_DIR, ROOT
from generator.config.load import Config, resolve
from generator.experiments.plan import grid_tasks
from generator.pipeline import bench_explorer, bench_weight
from generator.pipeline.bench_compare import edit_config, site_config
from generator.pipeline.bench_peak import gemm_peak
from generator.pipeline.runner import run_tasks
from generator.pipeline.store import Cache


def blas_info() -> dict:
    """The BLAS kernel this run uses and the environment that chose it. Some machines pin
    OPENBLAS_CORETYPE (older OpenBLAS builds misbehave on their CPU); that pins every number here, the
    peak included, so a results file must say which kernel it measured."""
    from threadpoolctl import threadpool_info

    blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    first = blas[0] if blas else {}
    return {"internal_api": first.get("internal_api"), "architecture": first.get("architecture"),
            "version": first.get("version"), "num_threads": first.get("num_threads"),
            "env": {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
                                               "OMP_NUM_THREADS") if k in os.environ}}


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


def seed_loop_time(tasks: list[dict]) -> float:
    """Wall time of :func:`seed_style_loop` over ``tasks`` in a fresh interpreter: the reference is plain
    NumPy code, so it must not inherit this process's allocator settings (generator/pipeline/alloc.py) or warm
    caches. BLAS keeps its default threads (all cores), as the seed's code would."""
    code = ("import json, sys, time\n"
            "from generator.pipeline.bench import seed_style_loop\n"
            "tasks = json.load(sys.stdin)\n"
            "t = time.perf_counter()\n"
            "for task in tasks:\n"
            "    seed_style_loop(task)\n"
            "print(time.perf_counter() - t)\n")
    out = subprocess.run([sys.executable, "-c", code], input=json.dumps(tasks), capture_output=True, text=True,
                         check=True, cwd=ROOT)
    return float(out.stdout.strip().splitlines()[-1])


def seed_style_loop(task: dict) -> None:
    """One config the way the seed's code would do it, plus a plain backward pass."""
    from generator.engine.activations import get_activation

    act = get_activation(task["activation"])
    rs = np.random.RandomState(task["seed"])
    n, w_, depth = task["samples"], task["width"], task["depth"]
    x = rs.randn(n, w_)
    hs, ws, pre = [x], [], []
    scale = {"small": 0.01, "large": 1.0, "zeros": 0.0}.get(task["init"], 1 / np.sqrt(w_))
    with np.errstate(all="ignore"):
        for _ in range(depth):
            w = rs.randn(w_, w_) * scale
            a = np.dot(hs[-1], w)
            if task["norm"] == "bn":
                a = (a - a.mean(0)) / np.sqrt(a.var(0) + 1e-5)
            pre.append(a)
            h = act.forward(a)
            hs.append(h)
            ws.append(w)
            np.mean(h), np.std(h), np.histogram(h, bins=task["hist_bins"], range=(-1, 1))
        dh = rs.randn(n, w_) / n
        for i in reversed(range(depth)):
            da = dh * act.derivative(pre[i])
            dw = np.dot(hs[i].T, da)
            np.linalg.norm(dw), np.std(dh)
            if i:
                dh = np.dot(da, ws[i].T)


def torch_time(tasks: list[dict]) -> float | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(2)
    acts = {"linear": lambda a: a, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
            "leaky_relu": lambda a: torch.nn.functional.leaky_relu(a, 0.01), "elu": torch.nn.functional.elu,
            "selu": torch.selu, "gelu": torch.nn.functional.gelu}
    t = time.perf_counter()
    for task in tasks:
        g = torch.Generator().manual_seed(task["seed"])
        n, w_, depth = task["samples"], task["width"], task["depth"]
        h = torch.randn(n, w_, generator=g, dtype=torch.float64)
        ws = [(torch.randn(w_, w_, generator=g, dtype=torch.float64) / w_ ** 0.5).requires_grad_() for _ in range(depth)]
        for w in ws:
            a = h @ w
            if task["norm"] == "bn":
                a = torch.nn.functional.batch_norm(a, None, None, training=True)
            h = acts[task["activation"]](a)
            h.mean().item(), h.std().item(), torch.histc(h.detach(), bins=task["hist_bins"], min=-1, max=1)
        gout = torch.randn(n, w_, generator=g, dtype=torch.float64) / n
        (h * gout).sum().backward()
        for w in ws:
            w.grad.norm().item()
    return time.perf_counter() - t


def build_gemm_flops(conf: Path) -> dict[str, float]:
    """GEMM FLOPs of the build configured by ``conf`` beyond the propagation grid, from its cache (each
    task reports its own ``work``): every training run, the batch-norm placement runs and
    the seed-code re-runs."""
    from generator.config.load import load_config, resolve
    from generator.experiments.plan import placement_tasks
    from generator.experiments.seed_code import seed_code_tasks
    from generator.pipeline.training_stage import KIND, _key, plan

    cfg = load_config(conf)
    cache = Cache(resolve(cfg.output.cache_dir))
    unique: dict[str, dict] = {}
    for _, _, params in plan(cfg.training):
        unique.setdefault(_key(params), params)
    out = {}
    for name, kind, tasks in (("training", KIND, list(unique.values())),
                              ("placement", "propagation", placement_tasks(cfg)),
                              ("seed_code", "seed_code", seed_code_tasks(seeds=cfg.propagation.seeds))):
        results, _ = run_tasks(kind, tasks, cache, None, quiet=True)
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
    res: dict = {"grid": {"configs": len(tasks), "samples": p.samples, "width": p.width, "depth": p.depth},
                 "blas": blas_info()}
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
    res.update(gemm_peak_gflops=peak, propagation_s=t_all, propagation_gflops=flops / t_all / 1e9,
               fraction_of_peak=flops / t_all / 1e9 / peak, gemm_floor_s=flops / peak / 1e9,
               gemm_flops=flops, gemm_flops_nominal=nominal, gemm_floor_nominal_s=nominal / peak / 1e9)
    log("bench: scaling ...")
    # Every 4th / 2nd (seed, init) group of 16 tasks: subsets with the grid's mix of cheap (all-zero
    # weights) and full groups, so time per task is comparable across the three sizes.
    n_act_norm = len(p.activations) * len(p.norms)
    groups = [tasks[i:i + n_act_norm] for i in range(0, len(tasks), n_act_norm)]
    quarter, half = [t for g in groups[::4] for t in g], [t for g in groups[::2] for t in g]
    res["scaling"] = {"quarter_s": time_propagation(quarter, best)[0], "half_s": time_propagation(half, best)[0],
                      "all_s": t_all, "quarter_tasks": len(quarter), "half_tasks": len(half), "all_tasks": len(tasks)}
    res["seed_loop_s"] = seed_s
    res["speedup_vs_seed_loop"] = res["seed_loop_s"] / t_all
    log("bench: torch ...")
    tt = torch_time(tasks)
    res["torch_s"] = tt
    res["torch_ratio"] = None if tt is None else t_all / tt  # ours / torch: <= 1.1 means within 10% of torch

    if not quick:
        with tempfile.TemporaryDirectory() as d:
            tmp = Path(d)
            conf = site_config(cfg.path, tmp)
            py = sys.executable
            log("bench: cold site ...")
            res["cold_site_s"], res["peak_rss_mb"] = _timed([py, "-m", "generator", "site", "--config", str(conf), "--quiet"])
            weight, explorer = public_numbers(tmp / "public")  # the tree this code builds for the config
            # The floor counts every matrix multiply of the default build: the training runs', the BN
            # page's placement runs' and the seed re-runs' too (each task reports its own; read back from
            # the cold build's cache, nothing recomputed).
            extra = build_gemm_flops(conf)
            res["gemm_flops_training"] = extra["training"]
            res["gemm_flops_other"] = extra["placement"] + extra["seed_code"]
            res["gemm_floor_propagation_s"] = res["gemm_floor_s"]
            res["gemm_floor_training_s"] = extra["training"] / peak / 1e9
            res["gemm_floor_other_s"] = res["gemm_flops_other"] / peak / 1e9
            res["gemm_floor_s"] += res["gemm_floor_training_s"] + res["gemm_floor_other_s"]
            res["gemm_floor_nominal_s"] += res["gemm_floor_training_s"] + res["gemm_floor_other_s"]
            log("bench: figures, one process vs the pool (empty figure caches) ...")
            res["figures"] = time_figures(conf, tmp)
            log("bench: warm site ...")
            res["warm_site_s"], _ = _timed([py, "-m", "generator", "site", "--config", str(conf), "--quiet"])
            log("bench: site after one config line changed ...")
            if edit_config(conf):  # [symmetry] learning_rate: 3 tasks, 2 figures, every page, mkdocs
                res["edit_site_s"], _ = _timed([py, "-m", "generator", "site", "--config", str(conf), "--quiet"])
            log("bench: bare mkdocs ...")
            out = tmp / "bare"
            env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
            # the site's own config: mkdocs.yml plus the generated nav, on the cold build's docs
            from generator.pipeline.nav import nav_settings, site_nav, write_child_config

            parent = ROOT / "site" / "mkdocs.yml"
            child = write_child_config(parent, {**nav_settings(parent, site_nav()), "docs_dir": str(tmp / "docs")},
                                       ".bench-")
            try:
                t = time.perf_counter()
                subprocess.run([py, "-m", "mkdocs", "build", "-q", "-f", str(child), "-d", str(out)],
                               check=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                res["bare_mkdocs_s"] = time.perf_counter() - t
            finally:
                child.unlink(missing_ok=True)
            shutil.rmtree(out, ignore_errors=True)
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


def targets(r: dict) -> dict:
    def ok(cond):
        return None if cond is None else bool(cond)

    s = r["scaling"]
    lin = max(abs(s["quarter_s"] / s["all_s"] * s["all_tasks"] / s["quarter_tasks"] - 1),
              abs(s["half_s"] / s["all_s"] * s["all_tasks"] / s["half_tasks"] - 1))
    have_site = r.get("cold_site_s") is not None
    return {
        "fraction_of_peak>=0.80": ok(r["fraction_of_peak"] >= 0.80),
        "speedup_vs_seed_loop>=2.5": ok(r["speedup_vs_seed_loop"] >= 2.5),
        "torch_ratio<=1.1": None if r["torch_ratio"] is None else ok(r["torch_ratio"] <= 1.1),
        "cold_site<=1.5(floor+mkdocs)": ok(r["cold_site_s"] <= 1.5 * (r["gemm_floor_s"] + r["bare_mkdocs_s"])) if have_site else None,
        "warm_site<=1.5*mkdocs": ok(r["warm_site_s"] <= 1.5 * r["bare_mkdocs_s"]) if have_site else None,
        "scaling_linear_within_15%": ok(lin <= 0.15),
        "scaling_max_deviation": lin,
        "peak_rss_mb<=2048": ok(r["peak_rss_mb"] <= 2048) if have_site else None,
    }


def table(r: dict) -> str:
    def f(v):
        return "—" if v is None else (f"{v:.3g}" if isinstance(v, float) else str(v))

    ex = r["executors"]
    b = r.get("blas", {})
    rows = [("BLAS kernel", f"{b.get('internal_api')} {b.get('version')} {b.get('architecture')} "
                            f"{b.get('env') or ''}".rstrip()),
            ("executor serial / process s", f"{ex['serial_s']:.3g} / {ex['process_s']:.3g}")]
    rows += [(k, f(r.get(k))) for k in ("gemm_peak_gflops", "propagation_gflops", "fraction_of_peak", "gemm_floor_s",
                                        "gemm_floor_propagation_s", "gemm_floor_training_s", "gemm_floor_other_s", "gemm_floor_nominal_s", "propagation_s", "seed_loop_s", "speedup_vs_seed_loop",
                                        "torch_ratio", "cold_site_s", "warm_site_s", "edit_site_s", "bare_mkdocs_s",
                                        "peak_rss_mb")]
    if r.get("figures"):
        fg = r["figures"]
        rows.append((f"figures serial / process s ({fg['files']} files)", f"{fg['serial_s']:.3g} / {fg['process_s']:.3g}"))
    ex = r.get("explorer")
    if ex:
        rows.append(("explorer redraw ms median / max (first draw)",
                     f"{ex['redraw_ms_median']:.3g} / {ex['redraw_ms_max']:.3g} ({ex['first_ms']:.3g}); JS+CSS {ex['assets_gz_bytes']} B gz"))
    s = r["scaling"]
    rows.append(("scaling (1/4, 1/2, 1) s", f"{s['quarter_s']:.3g}, {s['half_s']:.3g}, {s['all_s']:.3g}"))
    rows += [(f"target {k}", f(v)) for k, v in r["targets"].items()]
    w = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(w)}  {v}" for k, v in rows)
