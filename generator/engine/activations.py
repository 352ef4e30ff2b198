"""Activation functions: the ``ACTIVATIONS`` registry of frozen :class:`Activation` records.

Contract
--------
* A record carries everything the package knows about an activation (fields below, including
  ``matched_init``: the init it is paired with, from which ``analysis.rules.MATCHING`` is derived, and
  ``kinks``: where phi is not differentiable). :func:`register` appends one (site order = registration
  order); adding an activation is its forward/derivative pair plus one ``register`` call
  (CONTRIBUTING.md). Nothing else in the package keeps a table keyed by activation name.
* ``forward(x, out=None) -> y`` and ``derivative(x, out=None) -> phi'(x)`` are elementwise, keep x's dtype,
  may write into ``out`` (the propagation engine reuses buffers) and never emit a RuntimeWarning, even for
  +-inf or 1e300 inputs (pytest runs with ``-W error::RuntimeWarning``). ``derivative`` is the exact
  derivative of ``forward`` as implemented, so centred differences of ``forward`` agree with it.
  ``out`` may be ``x`` itself (in-place). At kinks (x = 0) the derivative takes the left-hand value
  (``x > 0`` is False): relu'(0) = 0, leaky'(0) = 0.01, elu'(0) = alpha, as in CS231n.
* ``saturated(x)``: one rule for every activation -- the local slope has fallen below 1% of the
  activation's maximum slope, ``|phi'(x)| < 0.01 * max_slope``, i.e. less than 1% of the best-case gradient
  gets through. Consequences: tanh saturates for |tanh(x)| > sqrt(0.99) ~= 0.995; sigmoid for
  y < 0.0025 or y > 0.9975; ReLU's whole negative side (and 0) counts; leaky ReLU (slope exactly 1% of 1,
  the test is strict) and linear never saturate; SELU for x < ln(0.01) ~= -4.6; GELU both for x < ~-3.1
  and in a narrow band around its minimum at x ~= -0.75, where its slope crosses zero.
* ``gain``: PyTorch's ``nn.init.calculate_gain`` where it defines one (linear/sigmoid 1, tanh 5/3,
  relu sqrt(2), leaky_relu sqrt(2/(1+0.01^2)), selu 3/4). PyTorch has none for ELU and GELU; for those we
  use the rule that *derives* ReLU's sqrt(2): the gain g with g^2 * E[phi(z)^2] = 1, z ~ N(0,1), i.e. the
  weight scale g/sqrt(fan_in) that keeps the mean-field second moment q = 1 fixed
  (elu ~= 1.2452, gelu ~= 1.5336; computed below by quadrature, not typed in).
* ``hist_range``: fixed (lo, hi) per activation, independent of init, so histograms of different inits
  compare like with like; values outside land in the engine's overflow bins.

The forward / derivative kernels (and why GELU uses its tanh form) are in
generator/engine/activation_kernels.py; this module registers them with their gains and ranges.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from generator.engine import activation_kernels as kern
from generator.engine.activation_kernels import ELU_ALPHA, LEAKY_SLOPE, SELU_ALPHA, SELU_LAMBDA
from generator.engine.inits import INITS

__all__ = [
    "Activation",
    "ACTIVATIONS",
    "register",
    "get_activation",
    "matched_pairs",
    "LEAKY_SLOPE",
    "ELU_ALPHA",
    "SELU_LAMBDA",
    "SELU_ALPHA",
    "second_moment_gain",
]

SATURATION_FRACTION = 0.01


@dataclass(frozen=True)
class Activation:
    """One activation function with everything the engine, theory and site need.

    name: registry key. forward(x, out=None): phi(x). derivative(x, out=None): phi'(x).
    gain: weight-scale multiplier (module docstring). hist_range: fixed (lo, hi) histogram range.
    max_slope: sup |phi'| (defines saturation). formula_tex: LaTeX for the site. matched_init: the
    INITS name this activation is paired with (analysis.rules.MATCHING). kinks: the x where phi is not
    differentiable (tests skip centred differences there). both: optional fused (phi, phi') sharing
    one transcendental.
    """

    name: str
    forward: Callable
    derivative: Callable
    gain: float
    hist_range: tuple[float, float]
    max_slope: float
    formula_tex: str
    matched_init: str
    kinks: tuple[float, ...] = ()
    both: Callable | None = None

    def __post_init__(self):  # numbers as plain floats, whatever the caller typed
        object.__setattr__(self, "gain", float(self.gain))
        object.__setattr__(self, "hist_range", (float(self.hist_range[0]), float(self.hist_range[1])))
        object.__setattr__(self, "max_slope", float(self.max_slope))
        object.__setattr__(self, "kinks", tuple(float(k) for k in self.kinks))

    def forward_and_derivative(self, x, out=None):
        """``(phi(x), phi'(x))``, bit-identical to calling forward and derivative separately; phi(x)
        is written to ``out`` if given (``out`` may be ``x``: phi' is taken first)."""
        if self.both is not None:
            return self.both(x, out)
        d = self.derivative(x)
        return self.forward(x, out=out), d

    def saturated(self, x):
        """Boolean mask: |phi'(x)| < 1% of max_slope (the single saturation rule, see module doc)."""
        return np.abs(self.derivative(x)) < SATURATION_FRACTION * self.max_slope


# --- gains and slopes derived numerically (documented rules, not typed-in numbers) -----------------


def second_moment_gain(forward: Callable, half_width: float = 12.0, n: int = 24000) -> float:
    """g = 1/sqrt(E[phi(z)^2]), z ~ N(0,1), by composite Simpson on [-12, 12] (node at 0 for kinks).

    The weighted sum is ``math.fsum`` (exactly rounded), not a BLAS dot: this runs at import, under
    whatever BLAS thread count the process starts with, and a threaded dot sums in another order -- a
    last-bit change of the gain that reached every ELU result of a Dask worker (issue 17)."""
    z = np.linspace(-half_width, half_width, n + 1)
    f = forward(z) ** 2 * np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    w = np.ones(n + 1)
    w[1:-1:2], w[2:-1:2] = 4.0, 2.0
    return 1.0 / math.sqrt(math.fsum(w * f) * (z[1] - z[0]) / 3.0)


def _grid_max_slope(derivative: Callable) -> float:
    z = np.linspace(-10.0, 10.0, 200_001)
    return float(np.max(np.abs(derivative(z))))


ACTIVATIONS: dict[str, Activation] = {}


def register(record: Activation) -> Activation:
    """Append ``record`` to :data:`ACTIVATIONS`; a taken name or an unknown ``matched_init`` is an error."""
    if not isinstance(record, Activation):
        raise TypeError(f"register() takes an Activation record, got {type(record).__name__}")
    if record.name in ACTIVATIONS:
        raise ValueError(f"activation {record.name!r} is already registered")
    if record.matched_init not in INITS:
        raise ValueError(
            f"activation {record.name!r}: matched_init {record.matched_init!r} is not an init; "
            f"valid: {', '.join(INITS)}"
        )
    ACTIVATIONS[record.name] = record
    return record


# The eight published activations, in site order.
register(Activation("linear", kern.linear, kern.linear_d, 1.0, (-3, 3), 1.0, r"\phi(x) = x", "xavier"))
register(
    Activation(
        "sigmoid",
        kern.sigmoid,
        kern.sigmoid_d,
        1.0,
        (0, 1),
        0.25,
        r"\phi(x) = \frac{1}{1 + e^{-x}}",
        "xavier",
        both=kern.sigmoid_both,
    )
)
register(
    Activation(
        "tanh", kern.tanh, kern.tanh_d, 5.0 / 3.0, (-1, 1), 1.0, r"\phi(x) = \tanh x", "xavier", both=kern.tanh_both
    )
)
register(
    Activation("relu", kern.relu, kern.relu_d, math.sqrt(2.0), (0, 3), 1.0, r"\phi(x) = \max(0, x)", "he", kinks=(0.0,))
)
register(
    Activation(
        "leaky_relu",
        kern.leaky,
        kern.leaky_d,
        math.sqrt(2.0 / (1.0 + LEAKY_SLOPE**2)),
        (-1, 3),
        1.0,
        r"\phi(x) = \max(0.01\,x,\ x)",
        "he",
        kinks=(0.0,),
    )
)
register(
    Activation(
        "elu",
        kern.elu,
        kern.elu_d,
        second_moment_gain(kern.elu),
        (-1, 3),
        1.0,
        r"\phi(x) = \begin{cases} x & x > 0 \\ e^{x} - 1 & x \le 0 \end{cases}",
        "he",
        kinks=(0.0,),
    )
)  # C1 at 0 (alpha = 1) but not C2: centred differences skip it too
# SELU's steepest slope is lambda*alpha ~= 1.758, approached from the left of 0. Paired with xavier:
# self-normalizing under LeCun normal, Var(W) = 1/fan_in.
register(
    Activation(
        "selu",
        kern.selu,
        kern.selu_d,
        0.75,
        (-2, 3),
        SELU_LAMBDA * SELU_ALPHA,
        r"\phi(x) = \lambda \begin{cases} x & x > 0 \\ \alpha (e^{x} - 1) & x \le 0 \end{cases}",
        "xavier",
        kinks=(0.0,),
    )
)
register(
    Activation(
        "gelu",
        kern.gelu,
        kern.gelu_d,
        second_moment_gain(kern.gelu),
        (-1, 3),
        _grid_max_slope(kern.gelu_d),
        r"\phi(x) = \tfrac{x}{2}\left(1 + \tanh\!\left(\sqrt{2/\pi}\,(x + 0.044715\,x^{3})\right)\right)",
        "he",
        both=kern.gelu_both,
    )
)


def matched_pairs() -> dict[str, str]:
    """activation -> matched init, grouped by init (groups in order of first appearance in the registry,
    registry order inside a group): the order in which the site lists the pairs."""
    first: dict[str, int] = {}
    for a in ACTIVATIONS.values():
        first.setdefault(a.matched_init, len(first))
    return {a.name: a.matched_init for a in sorted(ACTIVATIONS.values(), key=lambda a: first[a.matched_init])}


def get_activation(name) -> Activation:
    """Return ``ACTIVATIONS[name]`` (an Activation passes through); unknown names raise ValueError."""
    if isinstance(name, Activation):
        return name
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown activation {name!r}; valid: {', '.join(ACTIVATIONS)}") from None
