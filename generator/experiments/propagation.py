"""The propagation experiment: per-layer activation and gradient statistics of a deep MLP.

Contract
--------
``run_propagation(...)`` returns ``{"layers": DataFrame, "hist": DataFrame, "work": DataFrame}``
(columns in ``LAYER_COLUMNS`` / ``HIST_COLUMNS``; ``work`` is one row, ``gemm_flops``: the matrix-multiply
FLOPs this call actually performed, which ``make bench`` sums) for one (init, activation, norm, seed)
configuration.

* Randomness (``draws.py``): ``SeedSequence(seed).spawn(3)`` gives the X, weight and G streams, so X ~ N(0,1)
  of shape (samples, width) and the backward seed G are identical across inits, activations and norms for
  one seed (paired comparisons); the weight stream is one Generator drawing layer after layer. An optional bias
  b_l ~ N(0, sigma_b2) per layer (``sigma_b2`` > 0; for the phase-diagram work) is drawn from the same
  stream AFTER all weights, so weights are unchanged by it; with sigma_b2 = 0 (default) no bias exists
  and every result is bit-identical to the bias-free code. ``orthogonal`` is
  scaled by the activation's gain (PyTorch's recommendation; ``theory.sigma_w2`` uses the same gain);
  every other init ignores the gain.
* Layer statistics describe H_l, the layer output that feeds the next layer (for ``bn_post``: after BN).
  ``saturated_frac`` is the fraction of activation inputs where the activation is saturated
  (``Activation.saturated``: |phi'| < 1% of its max slope) -- a property of the nonlinearity, so for
  ``bn_post`` it is measured before the BN that follows. ``zero_frac`` counts exact zeros of H_l.
  ``preact_std`` is the std of A_l = X_l W_l (+ b_l). Backward starts from L = sum(H_L * G) / N (N = samples):
  ``grad_h_std`` = std(dL/dH_l), ``grad_w_norm`` = ||dL/dW_l||_F, ``grad_w_ratio`` = that / ||W_l||_F
  (NaN when ||W_l|| = 0). BN is train-mode, gamma = 1, beta = 0, and is backpropagated through.
* Divergence: a layer is ``diverged`` when its output has a non-finite value or its RMS exceeds
  ``diverge_rms`` (default 1e8): with unit-scale inputs, 1e8 means the network has amplified the signal
  by eight orders of magnitude -- numerically unusable, and squared sums of such values already overflow
  float32 (max ~3.4e38) near 1e19. Once True it stays True for later layers. Statistics are kept while
  they are finite; a non-finite statistic is reported as NaN. When an output contains inf/NaN, forward
  propagation stops (later rows: NaN, diverged) and, as L is then undefined, all gradient columns are NaN;
  backward also stops (lower rows NaN) if a gradient becomes non-finite. Everything runs under a local
  ``np.errstate(all="ignore")`` so no RuntimeWarning escapes.
* Histograms use FIXED edges ``hist_edges(activation, bins)`` (linspace over the activation's
  ``hist_range``) plus two overflow bins: bin 0 = (-inf, lo), bins 1..bins = [e_{i-1}, e_i) with the last
  one closed at hi (as ``np.histogram``), bin bins+1 = (hi, +inf). The outer edges are exact (saturated
  tanh/sigmoid give exactly +-1/0/1, ReLU exactly 0); an interior edge is resolved to the rounding of
  (x - lo) * bins / (hi - lo), i.e. a value within ~1e-16 of it may fall on either side (``np.histogram``
  spends extra passes to settle such ties). NaN values are not counted; so counts
  sum to samples*width for every layer that was computed, and are 0 for layers after propagation stopped.
* Speed: weights and inputs are drawn once per (init, seed) / seed and reused from a small LRU cache
  (read-only arrays), and so is the first layer's product X W_1, which the 16 (activation, norm) tasks of
  a (seed, init) share; products with an all-zero weight matrix (the ``zeros`` init) or an all-zero
  upstream gradient are exactly zero and are not computed. Results are bit-identical either way.
  Forward keeps only what backward needs (network.py), elementwise work is in place;
  all output statistics and the histogram (arithmetic bin indices + ``np.bincount``) are computed in one
  pass over L2-sized chunks; ``dtype`` is honoured throughout (statistics accumulate in float64).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from generator.engine import network
from generator.engine.activations import Activation, get_activation
from generator.engine.inits import get_init
from generator.experiments.draws import (
    draw_biases,
    draw_inputs,
    draw_weights,
    float_dtype,
    readonly,
    zero_weights,
)

__all__ = [
    "run_propagation",
    "hist_edges",
    "draw_inputs",
    "draw_weights",
    "draw_biases",
    "LAYER_COLUMNS",
    "HIST_COLUMNS",
]

LAYER_COLUMNS = (
    "layer",
    "mean",
    "std",
    "min",
    "max",
    "saturated_frac",
    "zero_frac",
    "preact_std",
    "grad_h_std",
    "grad_w_norm",
    "grad_w_ratio",
    "diverged",
)
HIST_COLUMNS = ("layer", "bin", "lo", "hi", "count")
_STAT = {c: i for i, c in enumerate(LAYER_COLUMNS[1:-1])}  # float columns, in order


def hist_edges(activation, bins: int) -> np.ndarray:
    """The ``bins + 1`` fixed regular edges for ``activation``: linspace over its hist_range."""
    if int(bins) != bins or bins < 1:
        raise ValueError(f"hist bins must be a positive integer, got {bins!r}")
    lo, hi = get_activation(activation).hist_range
    return np.linspace(lo, hi, int(bins) + 1)


# The first layer's pre-activation A_1 = X W_1 depends only on (seed, init, gain): the 16 (activation,
# norm) tasks of one (seed, init) share it, so it is computed once per process and reused (a copy is
# handed to the layer, which works in place). Two entries: one group is in flight per worker.
_FIRST_PREACT: dict = {}


def _first_preact(key, x, w):
    """(A_1 read-only, computed_now) for ``key``; at most two entries kept."""
    hit = _FIRST_PREACT.get(key)
    if hit is not None:
        return hit, False
    a = readonly(x @ w)
    while len(_FIRST_PREACT) >= 2:
        _FIRST_PREACT.pop(next(iter(_FIRST_PREACT)))
    _FIRST_PREACT[key] = a
    return a, True


def _moments(a):
    """(mean, std, rms) of all entries of ``a`` (population std), accumulated in float64.

    One BLAS dot for the sum of squares instead of a two-pass std; falls back to the two-pass formula
    when std << |mean| (cancellation) and to rescaling by max|a| when sums overflow but values are finite.
    May return non-finite values; callers map those to NaN.
    """
    flat = a.reshape(-1)
    if flat.dtype != np.float64:
        flat = flat.astype(np.float64)
    n = flat.size
    s, ss = float(flat.sum()), float(np.dot(flat, flat))
    if not (math.isfinite(s) and math.isfinite(ss)):
        scale = float(np.max(np.abs(flat)))
        if math.isfinite(scale) and scale > 0:
            m, sd, r = _moments(flat / scale)
            return m * scale, sd * scale, r * scale
        return math.nan, math.nan, scale  # inf (or NaN) entries: rms is inf/NaN
    mean, ms = s / n, ss / n
    var = ms - mean * mean
    if var < 1e-6 * mean * mean:
        var = float(flat.var())  # two-pass: exact enough when the spread is tiny relative to the mean
    return mean, math.sqrt(max(var, 0.0)), math.sqrt(ms)


def _bin_counts(x, lo, scale, bins, t, idx):
    """bincount of bin indices 0..bins for x (x > hi is still inside bin ``bins``; callers move it).

    t (float64) and idx (intp) are scratch buffers of x's length. x - lo has the exact sign of the true
    difference, so bin 0 is exactly x < lo; flooring before clipping keeps that exact.
    """
    np.subtract(x, lo, out=t)
    t *= scale
    np.floor(t, out=t)
    np.clip(t, -1, bins - 1, out=t)  # every x >= e_{bins-1} (including x > hi) lands in bin `bins`
    np.add(t, 1, out=idx, casting="unsafe")
    return np.bincount(idx, minlength=bins + 2)


def _hist_counts(h, lo, hi, bins):
    """Whole-array histogram counts in bins 0..bins+1 (see module doc); NaN skipped."""
    flat = h.reshape(-1)
    nan = np.isnan(flat)
    if nan.any():
        flat = flat[~nan]
    counts = _bin_counts(flat, lo, bins / (hi - lo), bins, np.empty(flat.size), np.empty(flat.size, np.intp))
    above = np.count_nonzero(flat > hi)  # move x > hi to the overflow bin: hi itself stays in range
    counts[bins] -= above
    counts[bins + 1] += above
    return counts


_CHUNK = 1 << 16  # 512 KiB of float64: each chunk stays in L2 while every statistic reads it


def _output_stats(h, dphi, sat_threshold, lo, hi, bins):
    """All per-layer output statistics in ONE pass over H (and phi') in L2-sized chunks.

    Separate full-array passes each stream 4 MB from memory; chunking made the histogram alone ~4x
    faster in a cold-cache benchmark. Returns (mean, std, rms, min, max, zero_frac, saturated_frac,
    counts, finite). Falls back to whole-array code when a sum is non-finite (inf/NaN entries or
    overflow of the squares) or when std << |mean| (cancellation in E[x^2] - E[x]^2).
    """
    flat, dflat = h.reshape(-1), dphi.reshape(-1)
    n = flat.size
    m = min(_CHUNK, n)
    fbuf, ibuf = np.empty(m), np.empty(m, dtype=np.intp)
    counts = np.zeros(bins + 2, dtype=np.int64)
    s = ss = 0.0
    lo_v, hi_v, zeros, sat, above = math.inf, -math.inf, 0, 0, 0
    scale = bins / (hi - lo)
    for start in range(0, n, _CHUNK):
        x = flat[start : start + _CHUNK]
        k = x.size
        x64 = x if x.dtype == np.float64 else x.astype(np.float64)
        s += float(x64.sum())
        ss += float(np.dot(x64, x64))
        lo_v, hi_v = min(lo_v, float(x.min())), max(hi_v, float(x.max()))
        zeros += np.count_nonzero(x == 0)
        above += np.count_nonzero(x > hi)
        t = np.abs(dflat[start : start + _CHUNK], out=fbuf[:k], casting="same_kind")
        sat += np.count_nonzero(t < sat_threshold)
        if math.isfinite(s) and math.isfinite(ss):
            # NaN would become a negative bin index; once a sum is non-finite, the whole-array
            # fallback below recomputes everything (and skips NaN), so stop binning chunks.
            counts += _bin_counts(x, lo, scale, bins, t, ibuf[:k])
    if not (math.isfinite(s) and math.isfinite(ss)):
        finite = bool(np.isfinite(flat).all())
        mean, std, rms = _moments(h)
        sat = np.count_nonzero(np.abs(dflat) < sat_threshold)
        return (
            mean,
            std,
            rms,
            float(flat.min()),
            float(flat.max()),
            np.count_nonzero(flat == 0) / n,
            sat / n,
            _hist_counts(h, lo, hi, bins),
            finite,
        )
    counts[bins] -= above
    counts[bins + 1] += above
    mean, ms = s / n, ss / n
    var = ms - mean * mean
    if var < 1e-6 * mean * mean:
        var = float(flat.var(dtype=np.float64))
    return mean, math.sqrt(max(var, 0.0)), math.sqrt(ms), lo_v, hi_v, zeros / n, sat / n, counts, True


def _parameters(init, act, seed, width, depth, dtype, sigma_b2):
    """(weights, biases, w_zero, gain) of one task: biases is one entry per layer, None without bias."""
    weights = draw_weights(init, seed, width, depth, dtype)
    biases = draw_biases(init, seed, width, depth, sigma_b2, dtype) or (None,) * depth
    gain = act.gain if get_init(init).uses_gain else 1.0
    if gain != 1.0:
        # orthogonal(gain) = gain * orthogonal(1) from the same draws: scale here so that one cached
        # draw serves every activation
        weights = tuple(w * gain for w in weights)
    return weights, biases, zero_weights(init, seed, width, depth, dtype), gain


def run_propagation(
    *,
    init,
    activation,
    norm,
    seed,
    samples,
    width,
    depth,
    dtype="float64",
    hist_bins=40,
    diverge_rms=1e8,
    sigma_b2=0.0,
) -> dict[str, pd.DataFrame]:
    """Propagate X ~ N(0,1) (samples, width) through ``depth`` layers of ``width`` units and back.

    Inputs: init (INITS key), activation (ACTIVATIONS key), norm (network.NORMS), seed (int),
    samples / width / depth (positive ints), dtype ('float64' or 'float32'), hist_bins (regular bins),
    diverge_rms (RMS above which a layer counts as diverged), sigma_b2 (bias variance; 0.0, the default,
    means no bias at all -- see ``draws.draw_biases``).
    Returns {"layers": one row per layer, "hist": one row per (layer, bin)} -- see module doc.
    """
    act: Activation = get_activation(activation)
    get_init(init)
    network.check_norm(norm)
    dt = float_dtype(dtype)
    for name, value in (("samples", samples), ("width", width), ("depth", depth)):
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    samples, width, depth, bins = int(samples), int(width), int(depth), int(hist_bins)
    edges = hist_edges(act, bins)
    x, g = draw_inputs(seed, samples, width, dt.name)
    weights, biases, w_zero, gain = _parameters(init, act, seed, width, depth, dt.name, sigma_b2)
    gemm = 2.0 * samples * width * width  # FLOPs of one (samples, width) x (width, width) product
    flops = 0.0

    stats = np.full((depth, len(_STAT)), np.nan)
    diverged = np.zeros(depth, dtype=bool)
    counts = np.zeros((depth, bins + 2), dtype=np.int64)
    sat_threshold = 0.01 * act.max_slope

    with np.errstate(all="ignore"):
        caches, h, complete = [], x, True
        for l in range(depth):
            row = stats[l]

            def on_preact(a, row=row):
                row[_STAT["preact_std"]] = _moments(a)[1]

            preact = None
            if l == 0 and not w_zero[0]:
                shared, computed = _first_preact((init, seed, samples, width, dt.name, gain), x, weights[0])
                preact, flops = shared.copy(), flops + (gemm if computed else 0.0)
            elif not w_zero[l]:
                flops += gemm
            h, cache = network.layer_forward(
                h, weights[l], act, norm, b=biases[l], on_preact=on_preact, preact=preact, w_zero=w_zero[l]
            )
            caches.append(cache)
            (
                row[_STAT["mean"]],
                row[_STAT["std"]],
                rms,
                row[_STAT["min"]],
                row[_STAT["max"]],
                row[_STAT["zero_frac"]],
                row[_STAT["saturated_frac"]],
                counts[l],
                finite,
            ) = _output_stats(h, cache.dphi, sat_threshold, edges[0], edges[-1], bins)
            if not finite or not rms <= diverge_rms:
                diverged[l:] = True
            if not finite:
                complete = False
                break

        if complete:
            dh = g / samples  # dL/dH_L for L = sum(H_L * G) / N
            dh_zero = False  # dL/dH_l known to be exactly 0 (below a zero weight matrix)
            for l in range(depth - 1, -1, -1):
                grad_std = _moments(dh)[1]
                if not math.isfinite(grad_std) and not np.isfinite(dh).all():
                    break  # lower layers' gradients cannot be computed: left NaN
                row = stats[l]
                row[_STAT["grad_h_std"]] = grad_std
                flops += gemm * ((not dh_zero) + (l > 0 and not (dh_zero or w_zero[l])))
                dh, dw, _db = network.layer_backward(dh, caches[l], need_dx=l > 0, dh_zero=dh_zero, w_zero=w_zero[l])
                dh_zero = dh_zero or w_zero[l]
                caches[l] = None  # free this layer's activations as soon as possible
                gnorm = math.sqrt(float(np.dot(dw.reshape(-1), dw.reshape(-1))))
                wnorm = math.sqrt(float(np.dot(weights[l].reshape(-1), weights[l].reshape(-1))))
                row[_STAT["grad_w_norm"]] = gnorm
                row[_STAT["grad_w_ratio"]] = gnorm / wnorm if wnorm > 0 else math.nan
        del caches

    return {**_frames(stats, diverged, counts, edges), "work": pd.DataFrame({"gemm_flops": [flops]})}


def _frames(stats: np.ndarray, diverged: np.ndarray, counts: np.ndarray, edges: np.ndarray) -> dict[str, pd.DataFrame]:
    """The task's ``layers`` (one row per layer, non-finite statistics as NaN) and ``hist`` (one row per
    (layer, bin), the two overflow bins included) frames from the per-layer arrays."""
    depth, bins = stats.shape[0], counts.shape[1] - 2
    stats[~np.isfinite(stats)] = np.nan
    layers = pd.DataFrame({"layer": np.arange(1, depth + 1, dtype=np.int64)})
    for name, i in _STAT.items():
        layers[name] = stats[:, i]
    layers["diverged"] = diverged
    layers = layers[list(LAYER_COLUMNS)]

    bin_lo = np.concatenate(([-np.inf], edges))
    bin_hi = np.concatenate((edges, [np.inf]))
    hist = pd.DataFrame(
        {
            "layer": np.repeat(np.arange(1, depth + 1, dtype=np.int64), bins + 2),
            "bin": np.tile(np.arange(bins + 2, dtype=np.int64), depth),
            "lo": np.tile(bin_lo, depth),
            "hi": np.tile(bin_hi, depth),
            "count": counts.reshape(-1),
        }
    )
    return {"layers": layers, "hist": hist}
