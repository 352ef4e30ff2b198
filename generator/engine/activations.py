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

GELU uses the tanh form ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`` (Hendrycks & Gimpel 2016;
GPT-2/BERT; PyTorch ``approximate='tanh'``). Why not the erf form: NumPy has no erf, SciPy is not a
declared dependency, and a hand-rolled erf approximation (A&S 7.1.26, error 1.5e-7) would make our
"derivative" the derivative of something other than our forward. The tanh form is a published GELU,
needs one SIMD-vectorised transcendental, and differs from the erf form by < 5e-4 in absolute value.
It is evaluated through the identity (1 + tanh u)/2 = 1/(1 + exp(-2u)), which keeps full relative
precision in the negative tail.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from generator.engine.inits import INITS

__all__ = ["Activation", "ACTIVATIONS", "register", "get_activation", "matched_pairs", "LEAKY_SLOPE",
           "ELU_ALPHA", "SELU_LAMBDA", "SELU_ALPHA", "second_moment_gain"]

LEAKY_SLOPE = 0.01
ELU_ALPHA = 1.0
SELU_LAMBDA = 1.0507009873554805
SELU_ALPHA = 1.6732632423543772
_GELU_K0 = math.sqrt(2.0 / math.pi)
_GELU_K1 = 0.044715
# GELU's gate is evaluated at x clamped to [-10, 10]: x^3 cannot overflow, exp(-2u) stays finite in
# float32, and the gate is exactly 1 for x >= 10 (so GELU(x) = x exactly); for x < -10 GELU is held at
# its value at -10, ~ -1e-37 (the true value is smaller still), so GELU(-inf) is a tiny finite number.
_GELU_CLAMP = 10.0
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


@functools.lru_cache(maxsize=8)
def _zeros(shape, dtype) -> np.ndarray:
    z = np.zeros(shape, dtype)
    z.flags.writeable = False
    return z


def _zero(x):
    """0 for np.maximum/np.minimum against ``x``: a cached zeros array of x's shape for large arrays.
    NumPy's array-array loop is ~2x faster than its array-scalar loop for these two ufuncs here
    (0.13 vs 0.28 ms on 1000 x 500), with identical results (NaN, +-0 and +-inf included)."""
    if isinstance(x, np.ndarray) and x.size >= 4096 and x.dtype.kind == "f":
        return _zeros(x.shape, x.dtype)
    return 0.0


# --- forward / derivative pairs (each derivative sits next to its forward) -------------------------


def _linear(x, out=None):
    if out is None:
        return np.array(x, copy=True)
    np.copyto(out, x)
    return out


def _linear_d(x, out=None):
    out = np.empty_like(x) if out is None else out
    out.fill(1.0)
    return out


def _sigmoid(x, out=None):
    # y = exp(min(x, 0)) / (1 + exp(-|x|)): 1/(1+e^-x) for x >= 0, e^x/(1+e^x) for x < 0. Both
    # exponents are <= 0, so nothing overflows, and the negative tail keeps full relative precision.
    # Written without np.where: a masked select costs ~5x an exp on this machine.
    num = np.exp(np.minimum(x, _zero(x)))
    den = np.abs(x)
    np.negative(den, out=den)
    np.exp(den, out=den)
    den += 1.0
    return np.divide(num, den, out=out)


def _sigmoid_d_from(y):
    d = np.subtract(1.0, y)
    d *= y  # sigma(1 - sigma)
    return d


def _sigmoid_d(x, out=None):
    y = _sigmoid(x, out=out)
    d = _sigmoid_d_from(y)
    np.copyto(y, d)
    return y


def _sigmoid_both(x, out=None):
    y = _sigmoid(x, out=out)
    return y, _sigmoid_d_from(y)


def _tanh(x, out=None):
    return np.tanh(x, out=out)


def _tanh_d(x, out=None):
    y = np.tanh(x, out=out)
    np.square(y, out=y)
    return np.subtract(1.0, y, out=y)  # 1 - tanh^2


def _tanh_both(x, out=None):
    y = np.tanh(x, out=out)
    d = np.square(y)
    return y, np.subtract(1.0, d, out=d)  # the derivative from the output: one tanh, not two


def _relu(x, out=None):
    return np.maximum(x, _zero(x), out=out)


def _relu_d(x, out=None):
    return np.greater(x, 0.0, out=np.empty_like(x) if out is None else out)  # 1.0 / 0.0 in x's dtype


def _leaky(x, out=None):
    # max(x, 0.01 x) equals x for x > 0 and 0.01 x otherwise, in one ufunc.
    return np.maximum(x, LEAKY_SLOPE * x, out=out)


def _leaky_d(x, out=None):
    # 1.0 where x > 0, else 0.0, then max(., 0.01): exactly 1 or 0.01 (NaN -> 0.01, as before),
    # without a masked copy (np.copyto(where=) costs ~10x an arithmetic pass here)
    d = np.greater(x, 0.0, out=np.empty_like(x) if out is None else out)
    return np.maximum(d, LEAKY_SLOPE, out=d)


def _elu_core(x, alpha, out=None):
    # max(x, 0) + alpha * expm1(min(x, 0)): expm1 only ever sees x <= 0, so it cannot overflow.
    neg = np.minimum(x, _zero(x))
    np.expm1(neg, out=neg)
    neg *= alpha
    y = np.maximum(x, _zero(x), out=out)
    y += neg
    return y


def _elu_d_core(x, alpha, out=None):
    # alpha * e^min(x, 0) + [x > 0] * (1 - alpha): alpha e^x for x <= 0 and exactly 1 for x > 0, because
    # 1 - alpha is exact in x's dtype for alpha in [0.5, 2] (Sterbenz), so alpha + (1 - alpha) == 1.
    # Arithmetic instead of a masked copy, which costs ~10x an arithmetic pass on this machine.
    dt = x.dtype if isinstance(x, np.ndarray) else np.dtype(np.float64)
    step = np.greater(x, 0.0).astype(dt, copy=False)
    step *= dt.type(1.0) - dt.type(alpha)
    d = np.minimum(x, _zero(x), out=out)
    np.exp(d, out=d)
    d *= alpha
    d += step
    return d


def _elu(x, out=None):
    return _elu_core(x, ELU_ALPHA, out)


def _elu_d(x, out=None):
    return _elu_d_core(x, ELU_ALPHA, out)


def _selu(x, out=None):
    y = _elu_core(x, SELU_ALPHA, out)
    with np.errstate(over="ignore"):  # lambda * (float max) legitimately overflows to inf
        y *= SELU_LAMBDA
    return y


def _selu_d(x, out=None):
    d = _elu_d_core(x, SELU_ALPHA, out)
    d *= SELU_LAMBDA  # d <= alpha, no overflow
    return d


def _gelu_gate(c):
    """(s, e) with s = sigmoid(2u) = (1 + tanh u)/2, e = exp(-2u), u = k0 (c + k1 c^3), c in [-10, 10].

    The logistic form avoids the cancellation in 1 + tanh(u) for u << 0 (GELU's negative tail would
    otherwise keep only ~7 significant digits); |2u| <= 87.4 keeps exp finite even in float32.
    """
    e = c * c
    e *= _GELU_K1
    e += 1.0
    e *= c
    e *= -2.0 * _GELU_K0
    np.exp(e, out=e)
    s = e + 1.0
    np.reciprocal(s, out=s)
    return s, e


def _gelu(x, out=None):
    m = np.maximum(x, -_GELU_CLAMP, out=out)  # -inf -> -10, so m * s below is never inf * 0
    s, _ = _gelu_gate(np.minimum(m, _GELU_CLAMP))  # s == 1 exactly for x >= 10
    return np.multiply(m, s, out=m)


def _gelu_d(x, out=None):
    c = np.clip(x, -_GELU_CLAMP, _GELU_CLAMP)
    s, e = _gelu_gate(c)
    return _gelu_d_from(c, s, e, out)


def _gelu_both(x, out=None):
    c = np.clip(x, -_GELU_CLAMP, _GELU_CLAMP)
    s, e = _gelu_gate(c)  # the same gate as _gelu's (clip == max then min): evaluated once for both
    d = _gelu_d_from(c, s, e)
    y = np.maximum(x, -_GELU_CLAMP, out=out)
    return np.multiply(y, s, out=y), d


def _gelu_d_from(c, s, e, out=None):
    # d/dx [x s] = s + x * s (1 - s) * 2 k0 (1 + 3 k1 x^2), with s (1 - s) = e s^2 (no cancellation)
    d = np.multiply(c, c, out=out)
    d *= 3.0 * _GELU_K1
    d += 1.0
    d *= 2.0 * _GELU_K0
    d *= c
    e *= s
    e *= s
    d *= e
    d += s
    return d


# --- gains and slopes derived numerically (documented rules, not typed-in numbers) -----------------


def second_moment_gain(forward: Callable, half_width: float = 12.0, n: int = 24000) -> float:
    """g = 1/sqrt(E[phi(z)^2]), z ~ N(0,1), by composite Simpson on [-12, 12] (node at 0 for kinks)."""
    z = np.linspace(-half_width, half_width, n + 1)
    f = forward(z) ** 2 * np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    w = np.ones(n + 1)
    w[1:-1:2], w[2:-1:2] = 4.0, 2.0
    return 1.0 / math.sqrt(float(w @ f) * (z[1] - z[0]) / 3.0)


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
        raise ValueError(f"activation {record.name!r}: matched_init {record.matched_init!r} is not an init; "
                         f"valid: {', '.join(INITS)}")
    ACTIVATIONS[record.name] = record
    return record


# The eight published activations, in site order.
register(Activation("linear", _linear, _linear_d, 1.0, (-3, 3), 1.0, r"\phi(x) = x", "xavier"))
register(Activation("sigmoid", _sigmoid, _sigmoid_d, 1.0, (0, 1), 0.25, r"\phi(x) = \frac{1}{1 + e^{-x}}",
                    "xavier", both=_sigmoid_both))
register(Activation("tanh", _tanh, _tanh_d, 5.0 / 3.0, (-1, 1), 1.0, r"\phi(x) = \tanh x", "xavier",
                    both=_tanh_both))
register(Activation("relu", _relu, _relu_d, math.sqrt(2.0), (0, 3), 1.0, r"\phi(x) = \max(0, x)", "he",
                    kinks=(0.0,)))
register(Activation("leaky_relu", _leaky, _leaky_d, math.sqrt(2.0 / (1.0 + LEAKY_SLOPE**2)), (-1, 3), 1.0,
                    r"\phi(x) = \max(0.01\,x,\ x)", "he", kinks=(0.0,)))
register(Activation("elu", _elu, _elu_d, second_moment_gain(_elu), (-1, 3), 1.0,
                    r"\phi(x) = \begin{cases} x & x > 0 \\ e^{x} - 1 & x \le 0 \end{cases}", "he",
                    kinks=(0.0,)))  # C1 at 0 (alpha = 1) but not C2: centred differences skip it too
# SELU's steepest slope is lambda*alpha ~= 1.758, approached from the left of 0. Paired with xavier:
# self-normalizing under LeCun normal, Var(W) = 1/fan_in.
register(Activation("selu", _selu, _selu_d, 0.75, (-2, 3), SELU_LAMBDA * SELU_ALPHA,
                    r"\phi(x) = \lambda \begin{cases} x & x > 0 \\ \alpha (e^{x} - 1) & x \le 0 \end{cases}",
                    "xavier", kinks=(0.0,)))
register(Activation("gelu", _gelu, _gelu_d, second_moment_gain(_gelu), (-1, 3), _grid_max_slope(_gelu_d),
                    r"\phi(x) = \tfrac{x}{2}\left(1 + \tanh\!\left(\sqrt{2/\pi}\,(x + 0.044715\,x^{3})\right)\right)",
                    "he", both=_gelu_both))


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
