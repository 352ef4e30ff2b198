"""The forward / derivative kernels of the registered activations (generator/engine/activations.py).

Contract: ``phi(x, out=None) -> y`` and ``phi_d(x, out=None) -> phi'(x)`` (and, where one transcendental
serves both, ``phi_both(x, out=None) -> (y, phi'(x))``) are elementwise, keep x's dtype, may write into
``out`` (which may be ``x`` itself), never emit a RuntimeWarning (even for +-inf or 1e300 inputs), and each
derivative is the exact derivative of its forward as implemented; the full contract, kinks and saturation
rule are stated in generator/engine/activations.py, which registers these kernels. Each derivative sits next
to its forward. The constants (leaky slope, ELU alpha, SELU lambda and alpha) are the published ones.

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

import numpy as np

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


def linear(x, out=None):
    if out is None:
        return np.array(x, copy=True)
    np.copyto(out, x)
    return out


def linear_d(x, out=None):
    out = np.empty_like(x) if out is None else out
    out.fill(1.0)
    return out


def sigmoid(x, out=None):
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


def sigmoid_d(x, out=None):
    y = sigmoid(x, out=out)
    d = _sigmoid_d_from(y)
    np.copyto(y, d)
    return y


def sigmoid_both(x, out=None):
    y = sigmoid(x, out=out)
    return y, _sigmoid_d_from(y)


def tanh(x, out=None):
    return np.tanh(x, out=out)


def tanh_d(x, out=None):
    y = np.tanh(x, out=out)
    np.square(y, out=y)
    return np.subtract(1.0, y, out=y)  # 1 - tanh^2


def tanh_both(x, out=None):
    y = np.tanh(x, out=out)
    d = np.square(y)
    return y, np.subtract(1.0, d, out=d)  # the derivative from the output: one tanh, not two


def relu(x, out=None):
    return np.maximum(x, _zero(x), out=out)


def relu_d(x, out=None):
    return np.greater(x, 0.0, out=np.empty_like(x) if out is None else out)  # 1.0 / 0.0 in x's dtype


def leaky(x, out=None):
    # max(x, 0.01 x) equals x for x > 0 and 0.01 x otherwise, in one ufunc.
    return np.maximum(x, LEAKY_SLOPE * x, out=out)


def leaky_d(x, out=None):
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


def elu(x, out=None):
    return _elu_core(x, ELU_ALPHA, out)


def elu_d(x, out=None):
    return _elu_d_core(x, ELU_ALPHA, out)


def selu(x, out=None):
    y = _elu_core(x, SELU_ALPHA, out)
    with np.errstate(over="ignore"):  # lambda * (float max) legitimately overflows to inf
        y *= SELU_LAMBDA
    return y


def selu_d(x, out=None):
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


def gelu(x, out=None):
    m = np.maximum(x, -_GELU_CLAMP, out=out)  # -inf -> -10, so m * s below is never inf * 0
    s, _ = _gelu_gate(np.minimum(m, _GELU_CLAMP))  # s == 1 exactly for x >= 10
    return np.multiply(m, s, out=m)


def gelu_d(x, out=None):
    c = np.clip(x, -_GELU_CLAMP, _GELU_CLAMP)
    s, e = _gelu_gate(c)
    return _gelu_d_from(c, s, e, out)


def gelu_both(x, out=None):
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
