"""``[trainability]`` config section: tanh MLPs on digits over sigma_w^2 x depth at one sigma_b^2 (issue 17 item 3).

:class:`TrainabilityConfig` follows generator/config/load.py's conventions (field ``metadata`` declares what
is valid; cross-field checks in ``__post_init__`` raise :class:`generator.common.errors.ConfigError`), as
generator/config/training.py does. Every network: ``depth`` hidden tanh layers of ``width`` units, no
normalization, W ~ N(0, sigma_w^2 / fan_in) in every layer and b ~ N(0, sigma_b^2) in every hidden layer,
plain minibatch SGD (no momentum) for ``steps`` steps, then the validation accuracy.

The sigma_w^2 grid is LINEAR, ``numpy.linspace(sigma_w2_min, sigma_w2_max, sigma_w2_points)`` rounded to 12
significant digits, so the ordered side, the critical point (tanh at sigma_b^2 = 0.05: sigma_w^2 ~ 1.76) and
the chaotic side are sampled evenly. The defaults are sized for a 2-core ``make site`` (README "Speed").
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from generator.common.errors import ConfigError
from generator.config.training import DIGITS_ROWS, MAX_DEPTH, MAX_LR, MAX_POINTS, MAX_STEPS, MAX_WIDTH, _seeds
from generator.engine.activations import ACTIVATIONS

MAX_SIGMA2 = 100.0  # tanh saturates completely long before: larger values show nothing new


@dataclass(frozen=True)
class TrainabilityConfig:
    activation: str = field(default="tanh", metadata={"choices": tuple(ACTIVATIONS)})
    sigma_b2: float = field(default=0.05, metadata={"min": 0.0, "max": MAX_SIGMA2})
    sigma_w2_min: float = field(default=1.0, metadata={"gt": 0.0, "max": MAX_SIGMA2})
    sigma_w2_max: float = field(default=4.0, metadata={"gt": 0.0, "max": MAX_SIGMA2})
    sigma_w2_points: int = field(default=13, metadata={"min": 2, "max": MAX_POINTS})
    depths: tuple[int, ...] = field(
        default=(5, 10, 20, 40, 60, 80),
        metadata={"min": 1, "max": MAX_DEPTH, "unique": True, "nonempty": True, "max_items": MAX_POINTS},
    )
    width: int = field(default=64, metadata={"min": 2, "max": MAX_WIDTH})
    steps: int = field(default=300, metadata={"min": 1, "max": MAX_STEPS})
    batch_size: int = field(default=64, metadata={"min": 2, "max": DIGITS_ROWS})
    learning_rate: float = field(default=0.01, metadata={"gt": 0.0, "max": MAX_LR})
    # >= 2: the analysis states a seed interval for every cell
    seeds: tuple[int, ...] = field(default=(0, 1, 2), metadata=_seeds())

    def __post_init__(self):
        if self.sigma_w2_max <= self.sigma_w2_min:
            raise ConfigError(
                "trainability.sigma_w2_max",
                f"must be > sigma_w2_min ({self.sigma_w2_min:g}), got {self.sigma_w2_max:g}",
            )
        if len(self.seeds) < 2:
            raise ConfigError("trainability.seeds", f"needs at least 2 seeds (a seed interval), got {len(self.seeds)}")

    @property
    def sigma_w2s(self) -> list[float]:
        # Rounded to 12 significant digits so the values (and cache keys) are the same on every platform.
        grid = np.linspace(self.sigma_w2_min, self.sigma_w2_max, self.sigma_w2_points)
        return [float(f"{v:.12g}") for v in grid]
