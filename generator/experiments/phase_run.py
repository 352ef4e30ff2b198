"""Finite-width phase-diagram measurements: the runner tasks ``phase`` and ``phase_theory``.

``phase_measure(activation, width, seed, depth, sigma_w2s, sigma_b2s, pairs, q0, c0)`` -> {"result": frame}
with columns sigma_w2, sigma_b2, layer, q, c, c_lag1, c_lag2: one row per (sigma_w^2, sigma_b^2) point of
the chunk (sigma_w^2 outer) and layer 1..depth. The stage adds activation, width and seed.

A group shares its weight draw: ``np.random.SeedSequence([seed, width]).spawn(2)`` gives the input
stream (0) and the weight stream (1), which draws, layer after layer, Z^l (N x N, N(0, 1)) and then
zeta^l (N, N(0, 1)). Every point of the chunk (and every chunk and activation at this (seed, width))
uses the same Z^l and zeta^l: W^l = sqrt(sigma_w^2 / N) Z^l, b^l = sqrt(sigma_b^2) zeta^l, so the points
differ only in their scales and each layer is ONE GEMM of the stacked (points x inputs, N) activations
with Z^l (the scale is applied after the product). Bias as in generator/engine/network.py: h = x W + b.

Inputs: ``pairs`` pairs (x_a, x_b) with |x|^2 / N = q0 and correlation exactly c0 (to rounding): per pair
two N(0, I_N) vectors u, v, orthonormalised by Gram-Schmidt into e1, e2, then x_a = sqrt(N q0) e1 and
x_b = sqrt(N q0) (c0 e1 + sqrt(1 - c0^2) e2). The first pre-activation h^1 = x W^1 + b^1 then has
E q^1 = sigma_w^2 q0 + sigma_b^2, the start of generator/engine/phase.py's variance map.

Per layer l (pre-activations h^l): q = mean over the 2 * pairs inputs of |h|^2 / N; c = mean over the pairs
of c_k^l = h_a . h_b / (|h_a| |h_b|); c_lag1 = the covariance over the pairs of c_k^l with c_k^(l-1), i.e.
mean_k (c_k^l - c^l)(c_k^(l-1) - c^(l-1)), and c_lag2 the same with c_k^(l-2) (NaN where the earlier layer
does not exist). With c they are what generator/analysis/phase.py's chaotic-phase fit needs of the per-pair
c_k^l (a pooled regression over pairs splits into pair means plus these cross-pair covariances), without
publishing pairs x more rows. float64 throughout; BLAS single-threaded inside a task, so a result depends
only on its params (the same bytes on any executor with the same BLAS kernel).

``phase_theory(activation, sigma_w2s, sigma_b2s, q0, points)`` -> {"result": frame} is
generator/engine/phase.py's phase_grid over one row block of the theory grid, as a task so the slow 2-D
quadratures (minutes for 41 x 41 tanh points) run in parallel and are cached.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from generator.engine.activations import get_activation
from generator.engine.phase import phase_grid

__all__ = ["phase_measure", "phase_theory", "phase_inputs", "phase_flops"]


def phase_inputs(rng: np.random.Generator, pairs: int, width: int, q0: float, c0: float) -> np.ndarray:
    """(2 * pairs, width) inputs: rows 2k and 2k + 1 are pair k (module doc: exact q0 and c0)."""
    u = rng.standard_normal((pairs, width))
    v = rng.standard_normal((pairs, width))
    e1 = u / np.linalg.norm(u, axis=1, keepdims=True)
    v = v - np.sum(v * e1, axis=1, keepdims=True) * e1
    e2 = v / np.linalg.norm(v, axis=1, keepdims=True)
    r = math.sqrt(width * q0)
    x = np.empty((2 * pairs, width))
    x[0::2] = r * e1
    x[1::2] = r * (c0 * e1 + math.sqrt(max(1.0 - c0 * c0, 0.0)) * e2)
    return x


def _stats(h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """h: (P, 2 * pairs, N) -> q (P,), c_k (P, pairs) as in the module doc."""
    sq = np.einsum("pmn,pmn->pm", h, h)
    q = sq.mean(axis=1) / h.shape[2]
    dot = np.einsum("pkn,pkn->pk", h[:, 0::2], h[:, 1::2])
    return q, dot / np.sqrt(sq[:, 0::2] * sq[:, 1::2])


def _measure(activation, width, seed, depth, sigma_w2s, sigma_b2s, pairs, q0, c0) -> pd.DataFrame:
    phi = get_activation(activation).forward
    s2 = np.repeat(np.asarray(sigma_w2s, dtype=float), len(sigma_b2s))  # sigma_w^2 outer
    b2 = np.tile(np.asarray(sigma_b2s, dtype=float), len(sigma_w2s))
    w_scale = np.sqrt(s2 / width)[:, None, None]
    b_scale = np.sqrt(b2)[:, None, None]
    inputs, weights = (np.random.default_rng(s) for s in np.random.SeedSequence([seed, width]).spawn(2))
    x = phase_inputs(inputs, pairs, width, q0, c0)
    n_points, m = s2.size, x.shape[0]
    qs, cs = np.empty((depth, n_points)), np.empty((depth, n_points))
    lags = np.full((2, depth, n_points), np.nan)  # c_lag1, c_lag2
    dev: list[np.ndarray] = []  # c_k - c of the last two layers, newest last
    h = None
    with np.errstate(over="ignore", invalid="ignore"):
        for layer in range(depth):
            z = weights.standard_normal((width, width))
            zeta = weights.standard_normal(width)
            if h is None:  # layer 1: the same inputs for every point, one (2 pairs, N) product
                pre = np.broadcast_to(x @ z, (n_points, m, width))
            else:
                pre = (phi(h).reshape(n_points * m, width) @ z).reshape(n_points, m, width)
            h = w_scale * pre + b_scale * zeta
            qs[layer], ck = _stats(h)
            cs[layer] = ck.mean(axis=1)
            d = ck - cs[layer][:, None]
            for lag, old in enumerate(reversed(dev)):
                lags[lag, layer] = np.mean(d * old, axis=1)
            dev = [*dev[-1:], d]
    return pd.DataFrame(
        {
            "sigma_w2": np.repeat(s2, depth),
            "sigma_b2": np.repeat(b2, depth),
            "layer": np.tile(np.arange(1, depth + 1, dtype=np.int64), n_points),
            "q": qs.T.ravel(),
            "c": cs.T.ravel(),
            "c_lag1": lags[0].T.ravel(),
            "c_lag2": lags[1].T.ravel(),
        }
    )


def phase_measure(**params) -> dict[str, pd.DataFrame]:
    """One ``phase`` task (params as in the module doc), single-threaded BLAS."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return {"result": _measure(**params)}


def phase_theory(activation, sigma_w2s, sigma_b2s, q0, points) -> dict[str, pd.DataFrame]:
    """One ``phase_theory`` task: phase_grid over sigma_w2s x sigma_b2s (columns as phase_theory.csv's,
    without activation), single-threaded BLAS like the measurements, so its key does not depend on the
    executor."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        cols = phase_grid(activation, sigma_w2s, sigma_b2s, q0, points)
    return {"result": pd.DataFrame({k: (v.astype(str) if k == "regime" else v) for k, v in cols.items()})}


def phase_flops(params: dict) -> int:
    """GEMM FLOPs of one ``phase`` task: the first layer's (2 pairs, N) x (N, N) product, then one
    (points x 2 pairs, N) x (N, N) product per further layer, at 2 FLOPs per multiply-add."""
    n, m = params["width"], 2 * params["pairs"]
    points = len(params["sigma_w2s"]) * len(params["sigma_b2s"])
    return 2 * m * n * n * (1 + points * (params["depth"] - 1))
