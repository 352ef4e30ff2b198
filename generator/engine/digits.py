"""The training data: the UCI handwritten digits (8×8 grey images, 1797 samples, 10 classes).

Contract
--------
* The data ship with the package: ``data/digits.csv.gz`` is the file scikit-learn bundles for
  ``sklearn.datasets.load_digits`` (the test set of UCI "Optical Recognition of Handwritten Digits",
  CC BY 4.0; source and licence in ``data/README.md``), read with NumPy only, so neither scikit-learn nor
  SciPy is a runtime dependency. :data:`SHA256` pins its bytes and :func:`load` refuses any other file:
  the training cache is keyed by the source of this module, so the data's identity is part of the key.
  The arrays equal ``load_digits().data`` / ``.target`` exactly (tests/test_digits.py).
* :func:`split` is a stratified train/validation split fixed by ``split_seed``: within every class the
  samples are shuffled by ``np.random.default_rng(split_seed)`` and the first ``round(n_c * val_fraction)``
  go to validation, so every class keeps its share and the same seed always gives the same indices.
* :func:`preprocess` takes every statistic from the TRAINING rows only and applies it unchanged to the
  validation rows (no information from validation leaks into the inputs):

  ``raw``          the pixels as shipped, integers 0..16;
  ``scale``        x / s, s = the training pixels' overall standard deviation (one scalar), not centred;
  ``center``       x − μ, μ = per-pixel training mean (the source note's "subtract mean");
  ``standardize``  (x − μ) / s with s the overall standard deviation of the centred training pixels.

  One scalar s rather than a per-pixel std: several border pixels are (almost) always 0 in training,
  and dividing by their tiny std would turn a rare non-zero validation pixel into a huge input.
* :func:`load` returns float64 arrays (and int64 labels); it is cached per process.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import io

import numpy as np

PREPROCESS = ("raw", "scale", "center", "standardize")
SHA256 = "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"  # of data/digits.csv.gz
N_SAMPLES, N_PIXELS = 1797, 64
LICENCE = "CC BY 4.0"  # of the UCI data set; the training page prints it with the credit


def _digits_bytes() -> bytes:
    """The shipped gzip file's bytes (via importlib.resources: works from a wheel or a source tree)."""
    from importlib.resources import files

    raw = files(__package__).joinpath("data", "digits.csv.gz").read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != SHA256:
        raise RuntimeError(f"generator/engine/data/digits.csv.gz has sha256 {digest}, expected {SHA256}")
    return raw


@functools.lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    # read as sklearn.datasets.load_digits reads it: 64 pixel columns then the label, parsed by np.loadtxt
    text = gzip.decompress(_digits_bytes()).decode("utf-8")
    table = np.loadtxt(io.StringIO(text), delimiter=",")
    if table.shape != (N_SAMPLES, N_PIXELS + 1):
        raise RuntimeError(f"digits table has shape {table.shape}, expected {(N_SAMPLES, N_PIXELS + 1)}")
    x = np.ascontiguousarray(table[:, :-1], dtype=np.float64)
    y = np.ascontiguousarray(table[:, -1].astype(np.int64))
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def split(y: np.ndarray, val_fraction: float, split_seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified split of sample indices.

    Inputs: y of shape (N,) with integer class labels; val_fraction in (0, 1); split_seed >= 0.
    Returns (train_idx, val_idx), each sorted, disjoint, together covering 0..N-1.
    """
    rng = np.random.default_rng(split_seed)
    train, val = [], []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        idx = idx[rng.permutation(idx.size)]
        n_val = int(round(idx.size * val_fraction))
        val.append(idx[:n_val])
        train.append(idx[n_val:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(val))


def preprocess(x_train: np.ndarray, x_val: np.ndarray, how: str) -> tuple[np.ndarray, np.ndarray]:
    """Apply preprocessing ``how`` (one of PREPROCESS) with statistics of ``x_train`` only.

    Inputs: x_train (N_train, D), x_val (N_val, D). Returns new float64 arrays of the same shapes.
    """
    if how not in PREPROCESS:
        raise ValueError(f"unknown preprocessing {how!r}; valid: {', '.join(PREPROCESS)}")
    x_train = np.asarray(x_train, dtype=np.float64)
    x_val = np.asarray(x_val, dtype=np.float64)
    if how == "raw":
        return x_train.copy(), x_val.copy()
    if how == "scale":
        s = x_train.std()
        return x_train / s, x_val / s
    mu = x_train.mean(axis=0)
    xt, xv = x_train - mu, x_val - mu
    if how == "center":
        return xt, xv
    s = xt.std()
    return xt / s, xv / s


@functools.lru_cache(maxsize=16)
def load(val_fraction: float = 0.2, split_seed: int = 0, how: str = "standardize", train_size: int | None = None):
    """Return (x_train, y_train, x_val, y_val) as read-only arrays.

    ``train_size`` (optional) keeps a stratified subset of the training rows (the first ``train_size``
    of a second seeded stratified split), e.g. to make over-fitting visible; preprocessing statistics
    then come from that subset.
    """
    x, y = _digits()
    tr, va = split(y, val_fraction, split_seed)
    if train_size is not None and train_size < tr.size:
        keep_frac = train_size / tr.size
        _, keep = split(y[tr], keep_frac, split_seed + 1)
        tr = tr[keep]
    xt, xv = preprocess(x[tr], x[va], how)
    out = (xt, y[tr].copy(), xv, y[va].copy())
    for a in out:
        a.setflags(write=False)
    return out
