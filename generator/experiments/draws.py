"""The propagation experiment's random draws: inputs, weights and optional biases, one seed's three streams.

Contract
--------
* ``SeedSequence(seed).spawn(3)`` gives the X, weight and G streams (0, 1, 2). X and G are N(0, 1) of
  shape (samples, width); the weight stream is one Generator drawing ``depth`` (width, width) matrices
  layer after layer, then -- only when asked for, with sigma_b2 > 0 -- the biases, so a bias never moves
  a weight draw and sigma_b2 = 0 means no bias at all (``draw_biases`` returns None).
* Every array is read-only and LRU-cached (4 entries each; ``config/memory.py`` counts these caches):
  the 16 (activation, norm) tasks of one (seed, init) share the draws; propagation.py re-exports them.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from generator.engine.inits import get_init

__all__ = ["draw_inputs", "draw_weights", "draw_biases", "zero_weights", "float_dtype", "readonly"]


def float_dtype(dtype) -> np.dtype:
    """``dtype`` as a NumPy floating dtype; ValueError for anything else (int, bool, ...)."""
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise ValueError(f"dtype must be a floating type such as 'float64' or 'float32', got {dtype!r}")
    return dt


def readonly(a):
    """Mark ``a`` read-only (cached arrays are shared between tasks) and return it."""
    a.flags.writeable = False
    return a


@functools.lru_cache(maxsize=4)
def draw_inputs(seed: int, samples: int, width: int, dtype: str = "float64"):
    """(X, G) for ``seed``: both N(0,1) of shape (samples, width), from streams 0 and 2. Read-only."""
    streams = np.random.SeedSequence(seed).spawn(3)
    dt = float_dtype(dtype)
    x = np.random.default_rng(streams[0]).standard_normal((samples, width)).astype(dt, copy=False)
    g = np.random.default_rng(streams[2]).standard_normal((samples, width)).astype(dt, copy=False)
    return readonly(x), readonly(g)


@functools.lru_cache(maxsize=4)
def draw_weights(init: str, seed: int, width: int, depth: int, dtype: str = "float64", gain: float = 1.0):
    """``depth`` (width, width) weight matrices from stream 1 of ``seed``, drawn layer after layer.

    Read-only; LRU-cached (4 entries, ~20 MB each at the default size) because the 16 (activation, norm)
    configurations of the default grid share each (init, seed): a runner should iterate (seed, init)
    outermost. ``gain`` is passed to the initializer (only orthogonal uses it).
    """
    return _weight_stream(init, seed, width, depth, dtype, gain)[0]


# Stream 1's bit-generator state right after draw_weights' matrices, keyed by its arguments: where
# draw_biases continues. A state is ~100 bytes, so many are kept (no need to follow the weights' LRU).
_AFTER_WEIGHTS: dict = {}


def _weight_stream(init, seed, width, depth, dtype, gain):
    """(weights, state): the matrices of :func:`draw_weights` (uncached) and stream 1's state after them."""
    fn = get_init(init)
    dt = float_dtype(dtype)
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(3)[1])
    weights = tuple(readonly(fn(width, width, rng, gain=gain).astype(dt, copy=False)) for _ in range(depth))
    while len(_AFTER_WEIGHTS) >= 256:
        _AFTER_WEIGHTS.pop(next(iter(_AFTER_WEIGHTS)))
    _AFTER_WEIGHTS[(init, seed, width, depth, dt.name, gain)] = rng.bit_generator.state
    return weights, rng.bit_generator.state


@functools.lru_cache(maxsize=4)
def draw_biases(init: str, seed: int, width: int, depth: int, sigma_b2: float, dtype: str = "float64"):
    """``depth`` biases b_l ~ N(0, sigma_b2) of shape (width,), or None when sigma_b2 == 0 (no bias at all).

    Drawn from stream 1 of ``seed`` AFTER :func:`draw_weights`' ``depth`` matrices (one (depth, width)
    standard-normal block, row l for layer l, times sqrt(sigma_b2)), so the weights are the same draws
    with or without bias. The stream position after the weights depends on the init and depth, hence
    those arguments. Read-only.
    """
    s2 = float(sigma_b2)
    if not (math.isfinite(s2) and s2 >= 0.0):
        raise ValueError(f"sigma_b2 must be a finite number >= 0, got {sigma_b2!r}")
    if s2 == 0.0:
        return None
    dt = float_dtype(dtype)
    draw_weights(init, seed, width, depth, dt.name)  # usually a cache hit; records the state if not
    state = _AFTER_WEIGHTS.get((init, seed, width, depth, dt.name, 1.0))
    if state is None:  # draw_weights' LRU hit after the state was evicted: draw the weights again
        state = _weight_stream(init, seed, width, depth, dt.name, 1.0)[1]
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(3)[1])
    rng.bit_generator.state = state
    z = rng.standard_normal((depth, width)) * math.sqrt(s2)
    return tuple(readonly(z[l].astype(dt)) for l in range(depth))


@functools.lru_cache(maxsize=4)
def zero_weights(init: str, seed: int, width: int, depth: int, dtype: str = "float64") -> tuple[bool, ...]:
    """Which of :func:`draw_weights`' matrices are exactly zero (the ``zeros`` init): their GEMMs are
    skipped, since a product with an all-zero factor and a finite other factor is exactly zero."""
    return tuple(not w.any() for w in draw_weights(init, seed, width, depth, dtype))
