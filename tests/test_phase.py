"""Signal propagation with bias (generator/engine/phase.py): closed forms, published values, the bias-free
limit of theory.py, the depth scale against the iterated map, and a wide random network."""

import math

import numpy as np
import pytest

from generator.engine import phase
from generator.engine.activations import ACTIVATIONS, LEAKY_SLOPE, get_activation
from generator.engine.theory import chi, expect, fixed_point

RELU_FAMILY = [("relu", 0.0), ("leaky_relu", LEAKY_SLOPE)]


@pytest.mark.parametrize(
    ("act", "s2"), [("tanh", 0.5), ("tanh", 2.0), ("sigmoid", 1.0), ("elu", 1.0), ("gelu", 1.5), ("relu", 1.5)]
)
def test_bias_free_limit_matches_theory(act, s2):
    ref = fixed_point(act, s2, q0=1.0)
    assert ref["fixed_point_stable"]  # the comparison is about stable / ordered points
    q_star = phase.q_fixed_point(act, s2, 0.0, q0=1.0)
    assert q_star == pytest.approx(ref["q_star"], rel=1e-9, abs=1e-300)
    assert phase.chi1(act, s2, q_star) == pytest.approx(ref["chi1"], rel=1e-12)
    if q_star > 0:
        assert phase.chi1(act, s2, q_star) == pytest.approx(chi(act, s2, q_star), rel=1e-12)
    assert phase.phase_point(act, s2, 0.0)["regime"] == ref["regime"]


@pytest.mark.parametrize(("act", "a"), RELU_FAMILY)
@pytest.mark.parametrize("b2", [0.0, 0.05, 0.5, 2.0])
def test_relu_family_closed_forms(act, a, b2):
    g = (1.0 + a * a) / 2.0  # E[phi'^2] = E[phi^2] / q = (1 + a^2) / 2 at every q
    for s2 in (0.5, 1.2, 1.9):
        point = phase.phase_point(act, s2, b2)
        assert math.isfinite(point["q_star"])
        assert point["chi1"] == pytest.approx(s2 * g, rel=1e-12)
        assert point["q_star"] == pytest.approx(b2 / (1.0 - s2 * g), rel=1e-9, abs=1e-300)
        assert point["c_star"] == 1.0 and point["regime"] == "ordered"
    assert phase.sigma_w2_critical(act, b2) == pytest.approx(1.0 / g, rel=1e-9)
    assert phase.phase_point(act, 1.01 / g, b2)["regime"] == "explodes"


def test_relu_correlation_map_matches_arccos_kernel():
    # E[relu(u1) relu(u2)] = q (sqrt(1 - c^2) + (pi - arccos c) c) / (2 pi) (Cho & Saul 2009)
    s2, b2 = 1.5, 0.3
    q = phase.q_fixed_point("relu", s2, b2)
    for c in (-0.9, 0.0, 0.5, 0.95):
        kernel = q * (math.sqrt(1 - c * c) + (math.pi - math.acos(c)) * c) / (2 * math.pi)
        assert phase.correlation_map("relu", s2, b2, q, c) == pytest.approx((s2 * kernel + b2) / q, abs=1e-5)


@pytest.mark.parametrize("s2", [0.3, 0.9, 1.5])
@pytest.mark.parametrize("b2", [0.0, 0.1, 1.0])
def test_linear(s2, b2):
    point = phase.phase_point("linear", s2, b2)
    assert point["chi1"] == pytest.approx(s2, rel=1e-12)
    if s2 < 1.0:
        assert point["c_star"] == 1.0
        assert point["q_star"] == pytest.approx(b2 / (1.0 - s2), rel=1e-9, abs=1e-300)
        # C(c) = (s2 q* c + b2) / q* = c + (1 - s2)(1 - c) with q* = b2 / (1 - s2): c = 1 is the only fixed
        # point and it attracts; without bias a linear map keeps every correlation (C(c) = c)
        expected = 0.3 + (1.0 - s2) * 0.7 if b2 > 0 else 0.3
        assert phase.correlation_map("linear", s2, b2, point["q_star"], 0.3) == pytest.approx(expected, rel=1e-12)
    else:
        assert point["regime"] == "explodes"


def test_tanh_critical_line_published_value():
    # Schoenholz et al. 2017, Fig. 1: tanh at sigma_b^2 = 0.05 is critical near sigma_w^2 = 1.76. The value is
    # read off a plot to two decimals, so +-0.03 (about 2 % of it) is the reading precision, not a fudge.
    s2 = phase.sigma_w2_critical("tanh", 0.05)
    assert abs(s2 - 1.76) < 0.03
    q = phase.q_fixed_point("tanh", s2, 0.05)
    assert phase.chi1("tanh", s2, q) == pytest.approx(1.0, abs=1e-9)
    # the q*-parametrised line passes through the same point (linear interpolation on its grid)
    line = phase.critical_line("tanh")
    assert np.all(np.diff(line[:, 0]) > 0) and np.all(line[:, 0] >= 0)
    assert np.interp(0.05, line[:, 0], line[:, 1]) == pytest.approx(s2, abs=2e-3)
    # each row of the line is a fixed point with chi1 = 1
    for b2, s2_row, q_row in line[::30]:
        assert phase.q_fixed_point("tanh", s2_row, b2) == pytest.approx(q_row, rel=1e-6)
        assert phase.chi1("tanh", s2_row, q_row) == pytest.approx(1.0, rel=1e-12)
    # without bias: critical at sigma_w^2 = 1 (chi1 - 1 ~ 7 eps^2 / 4 just above, hence the tolerance)
    assert abs(phase.sigma_w2_critical("tanh", 0.0) - 1.0) < 1e-3
    regimes = [phase.phase_point("tanh", s, 0.05)["regime"] for s in (1.5, s2, 2.0)]
    assert regimes == ["ordered", "critical", "chaotic"]


def _fitted_depth_scale(act, s2, b2, c_star, q_star, layers=400):
    c, gaps = 0.5, []
    for _ in range(layers):
        c = phase.correlation_map(act, s2, b2, q_star, c)
        gaps.append(abs(c - c_star))
    gaps = np.array(gaps)
    tail = np.nonzero((gaps < 1e-3) & (gaps > 1e-10))[0]  # linear regime, above rounding
    assert tail.size >= 10
    slope = np.polyfit(tail, np.log(gaps[tail]), 1)[0]
    return -1.0 / slope


@pytest.mark.parametrize(("s2", "regime"), [(1.3, "ordered"), (3.0, "chaotic")])
def test_xi_c_matches_iterated_correlation_map(s2, regime):
    point = phase.phase_point("tanh", s2, 0.05)
    assert point["regime"] == regime
    if regime == "chaotic":
        assert point["c_star"] < 1.0
        c = point["c_star"]
        assert phase.correlation_map("tanh", s2, 0.05, point["q_star"], c) == pytest.approx(c, abs=1e-12)
    fitted = _fitted_depth_scale("tanh", s2, 0.05, point["c_star"], point["q_star"])
    assert fitted == pytest.approx(point["xi_c"], rel=0.05)


def test_xi_q_stein_form_matches_numerical_second_derivative():
    # s2 E[phi'^2 + phi phi''] with phi'' by centred differences of phi' (tanh is smooth)
    act, s2, b2, h = get_activation("tanh"), 2.0, 0.05, 1e-5
    q = phase.q_fixed_point("tanh", s2, b2)

    def d2(a):
        return (act.derivative(a + h) - act.derivative(a - h)) / (2 * h)

    direct = s2 * float(expect(lambda a: act.derivative(a) ** 2 + act.forward(a) * d2(a), q))
    assert phase.qmap_slope("tanh", s2, q) == pytest.approx(direct, rel=1e-7)
    assert phase.phase_point("tanh", s2, b2)["xi_q"] == pytest.approx(-1.0 / math.log(direct), rel=1e-6)


def test_every_activation_on_a_small_grid():
    seen = set()
    for act in ACTIVATIONS:
        cols = phase.phase_grid(act, [0.5, 1.5, 3.0], [0.0, 0.1])
        for i, regime in enumerate(cols["regime"]):
            assert regime in phase.REGIMES
            if regime == "explodes":
                assert math.isinf(cols["q_star"][i]) and math.isnan(cols["xi_c"][i])
            else:
                assert -1.0 <= cols["c_star"][i] <= 1.0 and cols["xi_c"][i] >= 0.0
                assert (cols["c_star"][i] < 1.0) == (regime == "chaotic")
            if regime == "chaotic":  # c* < 1 is a fixed point of the map, and it attracts (chi_c < 1)
                s2, b2, q, c = (cols[k][i] for k in ("sigma_w2", "sigma_b2", "q_star", "c_star"))
                assert phase.correlation_map(act, s2, b2, q, c) == pytest.approx(c, abs=1e-9)
                assert cols["chi_c"][i] < 1.0
        seen.update((act, r) for r in cols["regime"])
    # the grid reaches every phase, so each branch above ran (tanh and SELU have chaotic points here)
    assert {r for _, r in seen} == set(phase.REGIMES) and ("selu", "chaotic") in seen


def test_wide_network_q_matches_fixed_point():
    # tanh at a chaotic point, where a batch of inputs decorrelates (c* ~ 0.2) and so averages over units.
    # One width-2000 network's q at layer 20 still scatters by ~2.5 % (sqrt(2 / 2000) = 3.2 % from one
    # weight draw), so q is averaged over 4 independent networks: ~1.3 %, and 3 % is more than 2 sigma.
    s2, b2, width, depth = 2.0, 0.05, 2000, 20
    q_star = phase.q_fixed_point("tanh", s2, b2)
    rng = np.random.default_rng(20170)
    qs = []
    for _net in range(4):
        h = rng.standard_normal((32, width))  # q0 = 1
        for layer in range(depth):  # layer 1 acts on the input itself: q^1 = s2 q0 + b2
            w = rng.normal(0.0, math.sqrt(s2 / width), (width, width))
            b = rng.normal(0.0, math.sqrt(b2), width)
            h = (np.tanh(h) if layer else h) @ w + b
        qs.append(float(np.mean(h * h)))
    assert float(np.mean(qs)) == pytest.approx(q_star, rel=0.03)
