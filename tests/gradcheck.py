"""Centred-difference gradient checking (CS231n ``gradient_check.py`` style), float64 only."""

from __future__ import annotations

import numpy as np


def rel_error(x, y):
    """max |x - y| / max(1e-8, |x| + |y|), elementwise (CS231n)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def numerical_gradient(f, x, df=None, h=1e-5):
    """Centred differences of ``f`` at ``x`` (modified in place and restored).

    f: callable returning an array (then ``df``, the upstream gradient of the same shape, is required)
    or a scalar (``df`` omitted). Returns an array shaped like x with d sum(f(x) * df) / dx.
    """
    grad = np.zeros_like(x, dtype=float)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    while not it.finished:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        pos = np.array(f(x), dtype=float, copy=True)
        x[i] = old - h
        neg = np.array(f(x), dtype=float, copy=True)
        x[i] = old
        diff = pos - neg if df is None else (pos - neg) * df
        grad[i] = np.sum(diff) / (2 * h)
        it.iternext()
    return grad
