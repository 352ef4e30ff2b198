"""Weight initializers as records: one :class:`Init` per scheme in the :data:`INITS` registry.

Contract
--------
* A sampler is a pure function ``(fan_in, fan_out, rng, gain=1.0) -> W``; ``W`` has shape
  ``(fan_in, fan_out)`` and dtype float64 (callers cast), so a layer computes ``X @ W``.
* All randomness comes from the ``np.random.Generator`` passed in; the global ``np.random`` is never used,
  so the same generator state always yields the same weights.
* An :class:`Init` record carries everything the package knows about a scheme: ``name`` (the registry
  key, the config value, the CSV value), ``sample`` (the sampler), ``variance(fan_in, fan_out, gain)``
  (the per-entry Var(W_ij) the scheme promises; the theory module uses ``sigma_w^2 = fan_in * Var(W)``)
  and ``uses_gain``. Only an init with ``uses_gain`` (``orthogonal``) is given the activation's gain;
  its sampler must be linear in it (``sample(gain=g) == g * sample(gain=1)`` from the same draws), which
  the propagation experiment relies on to share one draw between activations. Every other sampler
  accepts and ignores ``gain``. A record is callable like its sampler.
* :data:`INITS` (name -> Init) is in the order the site presents them; :func:`register` appends a record
  (adding an init is one sampler plus one ``register`` call, see CONTRIBUTING.md); :func:`get_init`
  raises ``ValueError`` listing the valid names; :func:`weight_variance` reads the record's formula.
  Nothing else in the package keeps a table keyed by init name.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = [
    "fans",
    "zeros",
    "small",
    "large",
    "xavier",
    "glorot_normal",
    "glorot_uniform",
    "he",
    "he_uniform",
    "orthogonal",
    "constant",
    "Init",
    "INITS",
    "register",
    "get_init",
    "weight_variance",
]


@dataclass(frozen=True)
class Init:
    """One initialization scheme (see the module docstring).

    name: registry key. sample(fan_in, fan_out, rng, gain=1.0) -> W. variance(fan_in, fan_out, gain) ->
    Var(W_ij), called with validated positive int fans. uses_gain: the sampler scales with the gain.
    """

    name: str
    sample: Callable
    variance: Callable[[int, int, float], float]
    uses_gain: bool = False

    def __call__(self, fan_in, fan_out, rng=None, gain=1.0):
        return self.sample(fan_in, fan_out, rng, gain=gain)


def fans(fan_in, fan_out) -> tuple[int, int]:
    """Validate and return ``(fan_in, fan_out)`` as positive Python ints.

    fan_in: number of inputs to the layer (rows of W); fan_out: number of units (columns of W).
    """
    fi, fo = int(fan_in), int(fan_out)
    if fi != fan_in or fo != fan_out or fi < 1 or fo < 1:
        raise ValueError(f"fans must be positive integers, got fan_in={fan_in!r}, fan_out={fan_out!r}")
    return fi, fo


def zeros(fan_in, fan_out, rng=None, gain=1.0):
    """W = 0. Every unit computes the same function forever (the symmetry experiment); gain ignored."""
    return np.zeros(fans(fan_in, fan_out))


def constant(fan_in, fan_out, rng=None, value=0.1):
    """W = value everywhere. Not in INITS: only the symmetry experiment uses it."""
    return np.full(fans(fan_in, fan_out), float(value))


def small(fan_in, fan_out, rng, gain=1.0):
    """W ~ N(0, 0.01^2) (CS231n's "small random numbers"); gain ignored."""
    return 0.01 * rng.standard_normal(fans(fan_in, fan_out))


def large(fan_in, fan_out, rng, gain=1.0):
    """W ~ N(0, 1): activations grow by ~sqrt(fan_in) per layer; gain ignored."""
    return rng.standard_normal(fans(fan_in, fan_out))


def xavier(fan_in, fan_out, rng, gain=1.0):
    """W = N(0, 1) / sqrt(fan_in), i.e. Var(W) = 1/fan_in (the CS231n-notes "Xavier"); gain ignored."""
    fi, fo = fans(fan_in, fan_out)
    return rng.standard_normal((fi, fo)) / math.sqrt(fi)


def glorot_normal(fan_in, fan_out, rng, gain=1.0):
    """W ~ N(0, 2/(fan_in+fan_out)) (Glorot & Bengio 2010, normal form); gain ignored."""
    fi, fo = fans(fan_in, fan_out)
    return rng.standard_normal((fi, fo)) * math.sqrt(2.0 / (fi + fo))


def glorot_uniform(fan_in, fan_out, rng, gain=1.0):
    """W ~ U(-a, a), a = sqrt(6/(fan_in+fan_out)), so Var(W) = a^2/3 = 2/(fan_in+fan_out); gain ignored."""
    fi, fo = fans(fan_in, fan_out)
    a = math.sqrt(6.0 / (fi + fo))
    return rng.uniform(-a, a, size=(fi, fo))


def he(fan_in, fan_out, rng, gain=1.0):
    """W = N(0, 1) * sqrt(2/fan_in) (He et al. 2015, fan_in mode); gain ignored."""
    fi, fo = fans(fan_in, fan_out)
    return rng.standard_normal((fi, fo)) * math.sqrt(2.0 / fi)


def he_uniform(fan_in, fan_out, rng, gain=1.0):
    """W ~ U(-a, a), a = sqrt(6/fan_in), so Var(W) = 2/fan_in; gain ignored."""
    fi, fo = fans(fan_in, fan_out)
    a = math.sqrt(6.0 / fi)
    return rng.uniform(-a, a, size=(fi, fo))


def orthogonal(fan_in, fan_out, rng, gain=1.0):
    """gain * (semi-)orthogonal W (Saxe et al. 2014).

    QR of a Gaussian (max(fans), min(fans)) matrix; multiplying Q's columns by sign(diag(R)) makes the
    result Haar-distributed (plain QR output is biased by LAPACK's sign convention). Then
    W^T W = gain^2 I when fan_in >= fan_out, W W^T = gain^2 I otherwise, so Var(W) = gain^2 / max(fans).
    """
    fi, fo = fans(fan_in, fan_out)
    q, r = np.linalg.qr(rng.standard_normal((max(fi, fo), min(fi, fo))))
    d = np.sign(np.diag(r))
    d[d == 0] = 1.0  # probability zero, but never let a column vanish
    q *= d
    return gain * (q if fi >= fo else q.T)


INITS: dict[str, Init] = {}


def register(record: Init) -> Init:
    """Append ``record`` to :data:`INITS` (site order = registration order); a taken name is an error."""
    if not isinstance(record, Init):
        raise TypeError(f"register() takes an Init record, got {type(record).__name__}")
    if record.name in INITS:
        raise ValueError(f"init {record.name!r} is already registered")
    INITS[record.name] = record
    return record


# The nine published inits, in site order. Variance formulas are written as the samplers promise
# (the same float expressions as before the records, so every printed number stays bit-identical).
register(Init("zeros", zeros, lambda fi, fo, gain: 0.0))
register(Init("small", small, lambda fi, fo, gain: 1e-4))
register(Init("large", large, lambda fi, fo, gain: 1.0))
register(Init("xavier", xavier, lambda fi, fo, gain: 1.0 / fi))
register(Init("glorot_normal", glorot_normal, lambda fi, fo, gain: 2.0 / (fi + fo)))
register(Init("glorot_uniform", glorot_uniform, lambda fi, fo, gain: 2.0 / (fi + fo)))
register(Init("he", he, lambda fi, fo, gain: 2.0 / fi))
register(Init("he_uniform", he_uniform, lambda fi, fo, gain: 2.0 / fi))
register(Init("orthogonal", orthogonal, lambda fi, fo, gain: gain**2 / max(fi, fo), uses_gain=True))


def get_init(name: str) -> Init:
    """Return the record registered as ``name`` (callable like its sampler); unknown names raise
    ValueError listing the valid ones."""
    try:
        return INITS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown init {name!r}; valid: {', '.join(INITS)}") from None


def weight_variance(name: str, fan_in, fan_out, gain=1.0) -> float:
    """Theoretical per-entry variance Var(W_ij) promised by initializer ``name`` (its record's formula)."""
    record = get_init(name)
    fi, fo = fans(fan_in, fan_out)
    return float(record.variance(fi, fo, gain))
