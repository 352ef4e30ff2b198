"""``make bench`` entries for the cluster work of issue 17: ``dask_overhead`` and ``phase_floor``.

dask_overhead   the same uncached task list (the bench's propagation grid) through a ``LocalCluster`` of
                ``workers`` single-threaded worker processes (``--executor dask``) and through the process
                pool of as many single-threaded workers (``--executor process``), side by side in one run,
                ``rounds`` times in alternating order (P D, D P, ...) so a slow spell of a shared machine
                falls on both. Each time runs from creating the executor to closing it (what a build pays:
                cluster start and worker check included); ``dask_overhead`` = sum of the Dask times / sum of
                the pool's. Also reported: the Dask start alone, and whether both gave identical frames.
                Target <= 1.10. None (with a printed reason) without ``distributed``.
phase_floor     the phase stage's measurements (uncached, on the process pool) against their GEMM floor:
                every product's FLOPs over :func:`~generator.pipeline.bench_peak.gemm_rate` at its own
                shape, single-threaded as the workers run, divided by the workers. None (with a printed
                reason) while the phase stage is not on this branch.

Expected interface of the phase stage (imported lazily, so this module works without it):

* ``generator.experiments.phase_plan.phase_tasks(cfg) -> list[dict]``: the ``phase`` task params, each
  with ``width`` (N), ``pairs``, ``depth``, ``sigma_w2s`` and ``sigma_b2s`` (one task's points are
  ``len(sigma_w2s) * len(sigma_b2s)``);
* ``generator.experiments.phase_plan.phase_flops_total(cfg) -> int``: the GEMM FLOPs of all of them;
* the task kind ``"phase"`` registered with the runner when ``generator.pipeline.phase_stage`` is imported.

A task's products are the first layer's ``(2 pairs, N) @ (N, N)`` and then, per further layer, one
``(points * 2 pairs, N) @ (N, N)``; :func:`phase_gemms` lists them, and their FLOPs are checked against
``phase_flops_total`` so a change of the task's work shows here as a skipped entry, not a wrong floor.
"""

from __future__ import annotations

import importlib.util
import time
from collections import Counter

from generator.pipeline.bench_peak import gemm_rate
from generator.pipeline.runner import ProcessExecutor, run_tasks
from generator.pipeline.store import Cache

DASK_TARGET = 1.10


def _timed_run(make_executor, kind: str, tasks: list[dict]) -> tuple[float, float, list]:
    """(seconds from creating the executor to closing it, seconds to start it, results) for ``tasks``."""
    t = time.perf_counter()
    with make_executor() as ex:
        started = time.perf_counter() - t
        results, _ = run_tasks(kind, tasks, Cache(None), ex, quiet=True)
    return time.perf_counter() - t, started, results


def _same(a: list, b: list) -> bool:
    """Every result frame equal, ``work`` aside: a task's FLOP count depends on which worker's input cache
    it met (propagation.py shares X W_1 within a worker), never its data."""
    return len(a) == len(b) and all(
        x.keys() == y.keys() and all(x[k].equals(y[k]) for k in x if k != "work") for x, y in zip(a, b)
    )


def dask_overhead(tasks: list[dict], workers: int = 2, rounds: int = 2, kind: str = "propagation", log=print):
    """The ``dask`` entry of bench/results.json for ``tasks`` of ``kind`` (see the module doc), or None."""
    if importlib.util.find_spec("distributed") is None:
        log("bench: dask_overhead skipped: dask.distributed is not installed (pip install -e '.[cluster]')")
        return None
    from generator.pipeline.dask_executor import DaskExecutor

    sides = {
        "process": lambda: ProcessExecutor(workers),
        "dask": lambda: DaskExecutor(workers=workers, processes=True),
    }
    times: dict[str, list[float]] = {"process": [], "dask": []}
    starts, results = [], {}
    for r in range(rounds):
        for side in ("process", "dask") if r % 2 == 0 else ("dask", "process"):
            total, started, results[side] = _timed_run(sides[side], kind, tasks)
            times[side].append(total)
            if side == "dask":
                starts.append(started)
    return {
        "workers": workers,
        "tasks": len(tasks),
        "rounds": rounds,
        "process_s": times["process"],
        "dask_s": times["dask"],
        "dask_start_s": starts,
        "identical": _same(results["process"], results["dask"]),
        "dask_overhead": sum(times["dask"]) / sum(times["process"]),
    }


def phase_gemms(tasks: list[dict]) -> Counter:
    """``Counter({(M, K, N): number of products})`` over the ``phase`` tasks (shapes as in the module doc)."""
    shapes: Counter = Counter()
    for t in tasks:
        n, m = t["width"], 2 * t["pairs"]
        points = len(t["sigma_w2s"]) * len(t["sigma_b2s"])
        shapes[(m, n, n)] += 1
        if t["depth"] > 1:
            shapes[(points * m, n, n)] += t["depth"] - 1
    return shapes


def gemm_floor(shapes: Counter, rate=None) -> tuple[int, float]:
    """(FLOPs, seconds at ``rate(M, K, N)`` FLOP/s, one core) of ``shapes``: {(M, K, N): count}. The FLOPs
    are summed as integers: a full sweep's 10^16 is past float64's exact integers."""
    rate = rate or gemm_rate  # measured here by default: single-threaded, as the workers run
    flops, seconds = 0, 0.0
    for (m, k, n), count in sorted(shapes.items()):
        f = 2 * m * k * n * count
        flops += f
        seconds += f / rate(m, k, n)
    return flops, seconds


def phase_floor(cfg, workers: int = 2, log=print, measure: bool = True):
    """The ``phase`` entry of bench/results.json (see the module doc), or None with the reason printed."""
    try:  # absent until the phase stage is merged: skipped, with the reason
        import generator.pipeline.phase_stage  # noqa: F401  (registers the "phase" task kind)
        from generator.experiments.phase_plan import phase_flops_total, phase_tasks
    except ImportError as exc:
        log(f"bench: phase_floor skipped: {exc}")
        return None

    tasks = phase_tasks(cfg)
    flops, one_core_s = gemm_floor(phase_gemms(tasks))
    if flops != phase_flops_total(cfg):
        log(f"bench: phase_floor skipped: {flops} FLOPs from the task shapes, {phase_flops_total(cfg)} reported")
        return None
    out = {"tasks": len(tasks), "gemm_flops": flops, "floor_one_core_s": one_core_s, "workers": workers}
    out["floor_s"] = one_core_s / workers
    if measure:
        t = time.perf_counter()
        run_tasks("phase", tasks, Cache(None), ProcessExecutor(workers), quiet=True)
        out["phase_s"] = time.perf_counter() - t
        out["phase_vs_floor"] = out["phase_s"] / out["floor_s"]
    return out


def rows(res: dict) -> list[tuple[str, str]]:
    """bench.table's rows for the two entries."""
    out = []
    d = res.get("dask")
    if d:
        out.append(
            (
                f"dask vs process pool s ({d['workers']} workers, {d['rounds']} rounds)",
                f"{sum(d['dask_s']):.3g} / {sum(d['process_s']):.3g} (start {max(d['dask_start_s']):.2g}); "
                f"overhead {d['dask_overhead']:.3f}; identical {d['identical']}",
            )
        )
    p = res.get("phase")
    if p and "phase_s" in p:
        out.append(
            ("phase stage s / GEMM floor s", f"{p['phase_s']:.3g} / {p['floor_s']:.3g} = {p['phase_vs_floor']:.2f}")
        )
    return out


def targets(res: dict) -> dict:
    d = res.get("dask")
    return {f"dask_overhead<={DASK_TARGET}": None if not d else bool(d["dask_overhead"] <= DASK_TARGET)}
