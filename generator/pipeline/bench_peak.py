"""The machine's float64 GEMM rate at the grid's layer shapes: the denominator of every GEMM floor.

Shared by ``make bench`` (generator/pipeline/bench.py) and ``make bench BASE=<rev>``
(generator/pipeline/bench_compare.py), which import this module and not each other's.
:func:`gemm_peak` times one layer's three products (X·W, Xᵀ·dA, dA·Wᵀ) and returns GFLOP/s of the best
of 20 repeats after one warm-up, with this process's BLAS threads.
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
