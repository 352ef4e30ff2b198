"""The machine's float64 GEMM rate at the grid's layer shapes: the denominator of every GEMM floor.

Shared by ``make bench`` (generator/pipeline/bench.py) and ``make bench BASE=<rev>``
(generator/pipeline/bench_compare.py), which import this module and not each other's.
:func:`gemm_peak` times one layer's three products (X·W, Xᵀ·dA, dA·Wᵀ) and returns GFLOP/s of the best
of 20 repeats after one warm-up, with this process's BLAS threads. :func:`gemm_rate` is the FLOP/s of one
product of a given shape (M, K, N), single-threaded by default as a worker runs: a stage's GEMM floor is
its FLOPs over that rate (generator/pipeline/bench_cluster.py, the phase stage).
"""

from __future__ import annotations

import time

import numpy as np


def _best(fn, repeat: int = 5) -> float:
    fn()
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def gemm_peak(samples: int, width: int, dtype=np.float64) -> float:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((samples, width)).astype(dtype)
    w = rng.standard_normal((width, width)).astype(dtype)
    da = rng.standard_normal((samples, width)).astype(dtype)
    out_a = np.empty((samples, width), dtype)
    out_w = np.empty((width, width), dtype)

    def layer():
        np.matmul(x, w, out=out_a)
        np.matmul(x.T, da, out=out_w)
        np.matmul(da, w.T, out=out_a)

    t = _best(layer, repeat=20)
    return 3 * 2.0 * samples * width * width / t / 1e9


# A tall GEMM's rate no longer grows with its row count: rows beyond this are timed at this many
# (a phase task's stacked product can have 10^5 rows; timing it would allocate gigabytes).
RATE_MAX_ROWS = 4096


def gemm_rate(m: int, k: int, n: int, threads: int = 1, dtype=np.float64) -> float:
    """FLOP/s of one ``(m, k) @ (k, n)`` product with ``threads`` BLAS threads (default: single-threaded,
    as the workers run), best of 5 timings of enough repeats to last >= 20 ms; ``m`` is capped at
    :data:`RATE_MAX_ROWS`. The floor of ``flops`` of such products is ``flops / gemm_rate(m, k, n)``."""
    from threadpoolctl import threadpool_limits

    rows = min(m, RATE_MAX_ROWS)
    rng = np.random.default_rng(0)
    a = rng.standard_normal((rows, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    out = np.empty((rows, n), dtype)
    with threadpool_limits(limits=threads, user_api="blas"):
        once = _best(lambda: np.matmul(a, b, out=out), repeat=1)
        reps = max(1, int(0.02 / max(once, 1e-9)))

        def product():
            for _ in range(reps):
                np.matmul(a, b, out=out)

        t = _best(product, repeat=5)
    return 2.0 * rows * k * n * reps / t
