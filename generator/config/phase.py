"""``[phase]`` config section: the order-to-chaos phase diagram (theory grid + finite-width measurements).

:class:`PhaseConfig` follows generator/config/load.py's conventions (a frozen dataclass whose field
``metadata`` declares what is valid; cross-field checks in ``__post_init__`` raise
:class:`generator.common.errors.ConfigError`). This module does not import ``generator.config.load``.

Grids are linear: ``theory_points`` values from ``sigma_w2_min`` to ``sigma_w2_max`` (and likewise for
sigma_b2), each rounded to 12 significant digits so values and cache keys are the same on every platform.
The measured sub-grid takes every k-th theory value (``points_w`` / ``points_b`` values, ends included),
so every measured point is exactly a theory point: ``points - 1`` must divide ``theory_points - 1``.
The defaults are sized for a 2-core ``make site`` (README "Speed"); configs/phase-cluster.toml is the full sweep.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from generator.common.errors import ConfigError
from generator.engine.activations import ACTIVATIONS

MAX_SEED, MAX_SEEDS = 2**32 - 1, 1000  # as generator/config/training.py
MAX_WIDTH, MAX_DEPTH, MAX_PAIRS = 20_000, 10_000, 10_000
MAX_GRID = 401  # points per axis of the theory grid
MAX_SIGMA2 = 100.0  # beyond this every activation here is deep in chaos or explodes: nothing new to see


def _axis(default: float) -> float:
    return field(default=default, metadata={"min": 0.0, "max": MAX_SIGMA2})


def _points(default: int) -> int:
    return field(default=default, metadata={"min": 2, "max": MAX_GRID})


@dataclass(frozen=True)
class PhaseConfig:
    activations: tuple[str, ...] = field(
        default=("tanh", "relu"), metadata={"choices": tuple(ACTIVATIONS), "unique": True, "nonempty": True}
    )
    # the (sigma_w^2, sigma_b^2) rectangle: shows tanh's critical line (1 at sigma_b^2 = 0, about 1.76 at
    # 0.05, rising with sigma_b^2) with ordered and chaotic sides, and ReLU's vertical line at 2
    sigma_w2_min: float = _axis(0.5)
    sigma_w2_max: float = _axis(4.5)
    sigma_b2_min: float = _axis(0.0)
    sigma_b2_max: float = _axis(0.4)
    theory_points: int = _points(41)  # per axis: phase_theory.csv has theory_points^2 rows per activation
    points_w: int = _points(9)  # measured sub-grid (phase_measured.csv), every k-th theory value
    points_b: int = _points(5)
    widths: tuple[int, ...] = field(
        default=(100, 300, 1000),
        metadata={"min": 2, "max": MAX_WIDTH, "unique": True, "nonempty": True, "max_items": 20},
    )
    depth: int = field(default=50, metadata={"min": 2, "max": MAX_DEPTH})
    # 8 independent weight draws: the chaotic-side xi_c fit (analysis/phase.py) needs them; with 3 seeds most
    # chaotic points come out inconclusive (interval wider than the estimate)
    seeds: tuple[int, ...] = field(
        default=tuple(range(8)),
        metadata={"min": 0, "max": MAX_SEED, "unique": True, "nonempty": True, "max_items": MAX_SEEDS},
    )
    pairs: int = field(default=16, metadata={"min": 1, "max": MAX_PAIRS})  # input pairs per network
    q0: float = field(default=1.0, metadata={"gt": 0.0, "max": 1e6})  # |x|^2 / N of every input
    # correlation within each input pair: not 0, a fixed point of the correlation map for odd phi at
    # sigma_b = 0; 0.5 starts below the chaotic c* of most points and well below the ordered c* = 1
    c0: float = field(default=0.5, metadata={"min": -1.0, "max": 1.0})
    # nodes per half-line of the theory's Gaussian expectations (engine/phase.py; its 2-D rule costs
    # nodes^2): for tanh, c* and xi_c at 48 agree with 96 to 12 digits at a quarter of the cost
    quadrature_points: int = field(default=48, metadata={"min": 8, "max": 400})
    # sigma_w^2 values per task: a task's points share one weight draw, stacked into one GEMM per layer
    chunk_w: int = field(default=3, metadata={"min": 1, "max": MAX_GRID})

    def __post_init__(self):
        for axis in ("w", "b"):
            lo, hi = getattr(self, f"sigma_{axis}2_min"), getattr(self, f"sigma_{axis}2_max")
            if hi <= lo:
                raise ConfigError(f"phase.sigma_{axis}2_max", f"must be > sigma_{axis}2_min ({lo:g}), got {hi:g}")
            points = getattr(self, f"points_{axis}")
            if (self.theory_points - 1) % (points - 1):
                valid = [p for p in range(2, self.theory_points + 1) if (self.theory_points - 1) % (p - 1) == 0]
                raise ConfigError(
                    f"phase.points_{axis}",
                    f"{points} does not pick theory-grid points (theory_points = {self.theory_points}); "
                    f"valid: {', '.join(map(str, valid))}",
                )
        if self.sigma_w2_min <= 0.0:
            raise ConfigError(
                "phase.sigma_w2_min", f"must be > 0 (sigma_w^2 = 0 has no signal), got {self.sigma_w2_min:g}"
            )

    @property
    def theory_w(self) -> list[float]:
        return _linspace(self.sigma_w2_min, self.sigma_w2_max, self.theory_points)

    @property
    def theory_b(self) -> list[float]:
        return _linspace(self.sigma_b2_min, self.sigma_b2_max, self.theory_points)

    @property
    def measured_w(self) -> list[float]:
        return self.theory_w[:: (self.theory_points - 1) // (self.points_w - 1)]

    @property
    def measured_b(self) -> list[float]:
        return self.theory_b[:: (self.theory_points - 1) // (self.points_b - 1)]


def _linspace(lo: float, hi: float, n: int) -> list[float]:
    # lo + i (hi - lo) / (n - 1), rounded to 12 significant digits (0.1 prints as 0.1, keys are stable)
    return [float(f"{lo + i * (hi - lo) / (n - 1):.12g}") for i in range(n)]
