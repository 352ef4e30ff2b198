"""Will the grid fit? Estimated peak memory of the experiments against the memory available.

:func:`check_memory_fits` (called by ``load.load_config``) raises ``ConfigError`` before anything runs
when the propagation grid (:func:`propagation_task_bytes` per worker, :func:`propagation_results_bytes`
in the main process) or one training run (``training.training_run_bytes``) would not fit in
:func:`available_memory_bytes` (MemAvailable, capped by the cgroup's headroom; unknown -> no check).
"""

from __future__ import annotations

import os

from generator.common.errors import ConfigError
from generator.config.training import training_run_bytes

# generator/experiments/draws.py keeps recent inputs and weights in LRU caches (4 entries each) inside every
# worker, and 2 shared first-layer products; tests/test_config_hostile.py checks these numbers still
# match the code.
INPUT_CACHE, WEIGHT_CACHE, FIRST_PREACT_CACHE = 4, 4, 2


def propagation_task_bytes(samples: int, width: int, depth: int, hist_bins: int, itemsize: int = 8) -> int:
    """Peak bytes a worker holds while it runs one propagation task (an upper estimate).

    With S = samples, W = width, D = depth, B = hist_bins, s = itemsize (8 float64, 4 float32)::

        s * S * W * (3 D + 2 * 4 + 2 + 3)   activations: per layer up to 3 (S, W) arrays kept for
                                            backward (output, phi', BN's xhat); X and G of 4 cached
                                            seeds; 2 cached first products; backward scratch
      + 8 * S * W * 3                       whole-array histogram fallback (float64 values, indices)
      + s * D * W^2 * (4 + 1)               weights of 4 cached (init, seed) pairs, plus orthogonal's
                                            gain-scaled copy
      + 96 * D * (B + 2)                    histogram counts and the task's histogram frame
    """
    sw = samples * width
    activations = itemsize * sw * (3 * depth + 2 * INPUT_CACHE + FIRST_PREACT_CACHE + 3) + 8 * sw * 3
    weights = itemsize * depth * width * width * (WEIGHT_CACHE + 1)
    return activations + weights + 96 * depth * (hist_bins + 2)


def propagation_results_bytes(tasks: int, depth: int, hist_bins: int) -> int:
    """Bytes the main process holds when it collects every task's frames (measured with pandas:
    about 200 B per histogram row and 400 B per layer row, counting the keyed copies and the concat)."""
    return tasks * depth * (200 * (hist_bins + 2) + 400)


def available_memory_bytes() -> int | None:
    """Memory this process can still use, in bytes, or None if unknown (the memory check is then skipped).

    MemAvailable from /proc/meminfo (what can be allocated without swapping; else free physical pages),
    and, inside a container, no more than the headroom under its cgroup's memory limit.
    """
    known = [n for n in (_meminfo_available(), _cgroup_headroom()) if n is not None]
    return min(known) if known else None


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo", "rb") as fh:
            for line in fh.read(1 << 16).splitlines():
                if line.startswith(b"MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return None


_CGROUP_FILES = (  # (limit, usage): cgroup v2, then v1
    ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
    ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
)


def _cgroup_headroom() -> int | None:
    """The cgroup memory limit minus current usage; None without a limit ("max" in v2, ~2**63 in v1)."""
    for limit_file, usage_file in _CGROUP_FILES:
        try:
            with open(limit_file, "rb") as fh:
                limit = fh.read(64).strip()
            with open(usage_file, "rb") as fh:
                usage = int(fh.read(64))
        except (OSError, ValueError):
            continue
        if not limit.isdigit() or int(limit) >= 1 << 60:
            return None
        return max(0, int(limit) - usage)
    return None


def _gb(n: float) -> str:
    g = n / 1e9
    return f"{g:.1f}" if g < 100 else f"{g:,.0f}"


def _workers(n: int) -> str:
    return f"{n} worker" + ("" if n == 1 else "s")


def check_memory_fits(cfg, workers: int | None = None) -> None:
    """ConfigError unless the propagation grid and one training run fit in the available memory,
    with ``workers`` processes (default ``os.cpu_count()``) each running one task at a time."""
    available = available_memory_bytes()
    if available is None:
        return
    n = max(1, workers or os.cpu_count() or 1)
    p = cfg.propagation
    task = propagation_task_bytes(p.samples, p.width, p.depth, p.hist_bins, 4 if p.dtype == "float32" else 8)
    if n * task > available:
        raise ConfigError(
            "propagation",
            f"the grid needs about {_gb(task)} GB per worker × {_workers(n)}, only "
            f"{_gb(available)} GB available; reduce samples, width or depth",
        )
    tasks = len(p.inits) * len(p.activations) * len(p.norms) * len(p.seeds)
    results = propagation_results_bytes(tasks, p.depth, p.hist_bins)
    if n * task + results > available:
        raise ConfigError(
            "propagation",
            f"the grid's {tasks} tasks return about {_gb(results)} GB of layer and "
            f"histogram rows, besides {_gb(task)} GB per worker × {_workers(n)}; only "
            f"{_gb(available)} GB available; reduce depth, hist_bins or the grid",
        )
    run = training_run_bytes(cfg.training)
    if n * run > available:
        raise ConfigError(
            "training",
            f"one run needs about {_gb(run)} GB per worker × {_workers(n)}, only "
            f"{_gb(available)} GB available; reduce width, the depths or the batch sizes",
        )
