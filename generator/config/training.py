"""``[training]`` config section: the design of the training experiments (digits MLP, SGD).

:class:`TrainingConfig` follows generator/config/load.py's conventions: a frozen dataclass whose field
``metadata`` declares what is valid (``choices``, ``min``/``max`` inclusive, ``gt`` exclusive, ``unique``,
``nonempty``, ``max_items``; every float must be finite);
cross-field checks live in ``__post_init__`` and raise :class:`generator.common.errors.ConfigError`.
This module does not import ``generator.config.load`` (which imports it to register the section).
The defaults are the issue's design; a bigger sweep is a bigger ``[training]`` table, nothing else.
Grids given as (min, max, points) are log-spaced: ``numpy.logspace(log10(min), log10(max), points)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from generator.common.errors import ConfigError
from generator.engine.activations import ACTIVATIONS
from generator.engine.digits import PREPROCESS
from generator.engine.inits import INITS

TRAIN_NORMS = ("none", "bn")


def _ch(*names) -> dict:
    return {"choices": tuple(names)}


def _grid(*names, unique=True) -> dict:
    return {"choices": tuple(names), "unique": unique, "nonempty": True}


# Maxima (see README "Configuration"): generous for exploring; whether a (width, depth, batch) run fits
# in memory is decided by training_run_bytes, checked by generator.config.load.load_config.
# Seeds feed numpy's SeedSequence and int64 CSV columns; 32 bits is numpy's classic seed range.
# (generator/config/load.py uses the same bounds for every seed list)
MAX_SEED, MAX_SEEDS = 2**32 - 1, 1000
MAX_WIDTH, MAX_DEPTH = 4096, 1000
MAX_STEPS = 100_000  # steps cost time, not memory: the bound catches a typo (1e9 steps), not a big sweep
MAX_POINTS = 100  # points of a log grid
MAX_LR = 100.0  # a step of 100 on standardized digits diverges at once: larger values show nothing new
MAX_SCALE = 1e6
DIGITS_ROWS = 1797  # samples in the digits data: a larger batch or subset is the whole training split


def _seeds() -> dict:
    return {"min": 0, "max": MAX_SEED, "unique": True, "nonempty": True, "max_items": MAX_SEEDS}


# The field helpers below return a dataclasses.Field, typed as its value (as dataclasses.field is) so
# that `steps: int = _steps(200)` type-checks.
def _steps(default: int) -> int:
    return field(default=default, metadata={"min": 1, "max": MAX_STEPS})


def _lr(default: float) -> float:
    return field(default=default, metadata={"gt": 0.0, "max": MAX_LR})


def _depth(default: int) -> int:
    return field(default=default, metadata={"min": 1, "max": MAX_DEPTH})


def _points(default: int) -> int:
    return field(default=default, metadata={"min": 2, "max": MAX_POINTS})


@dataclass(frozen=True)
class TrainingConfig:
    # data
    split_seed: int = field(default=0, metadata={"min": 0, "max": MAX_SEED})
    val_fraction: float = field(default=0.2, metadata={"min": 0.05, "max": 0.5})
    preprocess: str = field(default="standardize", metadata=_ch(*PREPROCESS))
    seeds: tuple[int, ...] = field(default=tuple(range(10)), metadata=_seeds())
    # seeds trained together in one task (stacked: cheaper per seed; memory grows with it, see
    # training_run_bytes); more seeds than this are split into several tasks
    seed_stack: int = field(default=10, metadata={"min": 1, "max": MAX_SEEDS})
    # the shared training recipe
    width: int = field(default=100, metadata={"min": 2, "max": MAX_WIDTH})
    batch_size: int = field(default=64, metadata={"min": 2, "max": DIGITS_ROWS})
    learning_rate: float = _lr(0.1)
    momentum: float = field(default=0.0, metadata={"min": 0.0, "max": 0.999})
    steps: int = _steps(200)
    eval_every: int = _steps(10)
    target_accuracy: float = field(default=0.9, metadata={"min": 0.1, "max": 1.0})
    # base network of the learning-rate, speed, batch-size, regularization and preprocessing runs
    base_depth: int = _depth(6)
    base_activation: str = field(default="relu", metadata=_ch(*ACTIVATIONS))
    base_init: str = field(default="he", metadata=_ch(*INITS))
    # (a) init sensitivity: W = scale * N(0, 1) in every layer
    init_depth: int = _depth(8)
    init_activations: tuple[str, ...] = field(default=("tanh", "relu"), metadata=_grid(*ACTIVATIONS))
    init_scale_min: float = field(default=1e-4, metadata={"min": 1e-12, "max": MAX_SCALE})
    init_scale_max: float = field(default=10.0, metadata={"min": 1e-12, "max": MAX_SCALE})
    init_scale_points: int = _points(16)
    init_steps: int = _steps(150)
    # (b, c) learning rate and speed
    lr_min: float = field(default=1e-3, metadata={"min": 1e-12, "max": MAX_LR})
    lr_max: float = field(default=10.0, metadata={"min": 1e-12, "max": MAX_LR})
    lr_points: int = _points(13)
    # (d) Ioffe & Szegedy Fig. 1 analogue
    fig1_depth: int = _depth(3)
    fig1_activation: str = field(default="sigmoid", metadata=_ch(*ACTIVATIONS))
    fig1_init_scale: float = field(default=0.05, metadata={"min": 0.0, "max": MAX_SCALE})
    fig1_learning_rate: float = _lr(1.0)
    fig1_steps: int = _steps(1000)
    # (e) depth
    depths: tuple[int, ...] = field(
        default=(10, 20, 30),
        metadata={"min": 1, "max": MAX_DEPTH, "unique": True, "nonempty": True, "max_items": MAX_POINTS},
    )
    depth_inits: tuple[str, ...] = field(default=("he", "xavier"), metadata=_grid(*INITS))
    depth_norms: tuple[str, ...] = field(default=("none", "bn"), metadata=_grid(*TRAIN_NORMS))
    depth_learning_rate: float = _lr(0.01)
    depth_momentum: float = field(default=0.9, metadata={"min": 0.0, "max": 0.999})
    # (f) batch size: {none, bn} × batch_sizes × a log grid of learning rates (the analysis picks the
    # best per norm and batch size)
    batch_sizes: tuple[int, ...] = field(
        default=(2, 4, 8, 16, 32, 128),
        metadata={"min": 2, "max": DIGITS_ROWS, "unique": True, "nonempty": True, "max_items": MAX_POINTS},
    )
    batch_epochs: float = field(default=5.0, metadata={"min": 0.01, "max": 1000.0})
    batch_lr_min: float = field(default=0.01, metadata={"min": 1e-12, "max": MAX_LR})
    batch_lr_max: float = field(default=1.0, metadata={"min": 1e-12, "max": MAX_LR})
    batch_lr_points: int = _points(5)
    # (g) regularization, repeated on every split seed (training subset and validation set)
    dropout: float = field(default=0.3, metadata={"min": 0.0, "max": 0.95})
    reg_train_size: int = field(default=360, metadata={"min": 20, "max": DIGITS_ROWS})
    reg_steps: int = _steps(400)
    reg_splits: tuple[int, ...] = field(default=(0, 1, 2), metadata=_seeds())
    # preprocessing
    preprocess_options: tuple[str, ...] = field(default=PREPROCESS, metadata=_grid(*PREPROCESS))
    pre_lr_points: int = _points(9)

    def __post_init__(self):
        if self.init_scale_max <= self.init_scale_min:
            raise ConfigError(
                "training.init_scale_max",
                f"must be > init_scale_min ({self.init_scale_min:g}), got {self.init_scale_max:g}",
            )
        if self.lr_max <= self.lr_min:
            raise ConfigError("training.lr_max", f"must be > lr_min ({self.lr_min:g}), got {self.lr_max:g}")
        if self.batch_lr_max <= self.batch_lr_min:
            raise ConfigError(
                "training.batch_lr_max", f"must be > batch_lr_min ({self.batch_lr_min:g}), got {self.batch_lr_max:g}"
            )

    @property
    def init_scales(self) -> list[float]:
        return _logspace(self.init_scale_min, self.init_scale_max, self.init_scale_points)

    @property
    def learning_rates(self) -> list[float]:
        return _logspace(self.lr_min, self.lr_max, self.lr_points)

    @property
    def pre_learning_rates(self) -> list[float]:
        return _logspace(self.lr_min, self.lr_max, self.pre_lr_points)

    @property
    def batch_learning_rates(self) -> list[float]:
        return _logspace(self.batch_lr_min, self.batch_lr_max, self.batch_lr_points)

    @property
    def seed_groups(self) -> list[tuple[int, ...]]:
        """``seeds`` in consecutive groups of at most ``seed_stack``: the seeds of one task."""
        k = self.seed_stack
        return [tuple(self.seeds[i : i + k]) for i in range(0, len(self.seeds), k)]


def training_run_bytes(t: TrainingConfig) -> int:
    """Peak bytes a worker holds while it runs the largest run of ``t`` (an upper estimate).

    With S = the seeds stacked in one task (min(seed_stack, len(seeds))), W = width, D = the deepest
    network (base, init, fig1 or depths), B = the largest batch (at most the data set's N = 1797 rows)
    and P = (D - 1) W^2 + (64 + 10 + 4 D) W parameters (64 inputs, 10 classes, BN's gamma/beta and
    running statistics), all float64::

        8 * S * (4 P                   the models' initial parameters, the flat copy, gradients, velocity
                 + B * W * (4 D + 6)   training buffers (fast._Buffers: pre, h, phi', dropout mask per layer)
                 + 4 * N * W)          inference buffers for the training and validation sets
    """
    stack = min(t.seed_stack, len(t.seeds))
    depth = max(t.base_depth, t.init_depth, t.fig1_depth, *t.depths)
    batch = min(DIGITS_ROWS, max(t.batch_size, *t.batch_sizes))
    params = (depth - 1) * t.width**2 + (64 + 10 + 4 * depth) * t.width
    return 8 * stack * (4 * params + batch * t.width * (4 * depth + 6) + 4 * DIGITS_ROWS * t.width)


def _logspace(lo: float, hi: float, n: int) -> list[float]:
    # Rounded to 12 significant digits so the values (and cache keys) are the same on every platform.
    return [float(f"{v:.12g}") for v in np.logspace(np.log10(lo), np.log10(hi), n)]
