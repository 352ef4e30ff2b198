"""``[training]`` config section: the design of the training experiments (digits MLP, SGD).

:class:`TrainingConfig` follows generator/config.py's conventions: a frozen dataclass whose field
``metadata`` declares what is valid (``choices``, ``min``/``max`` inclusive, ``unique``, ``nonempty``);
cross-field checks live in ``__post_init__`` and raise :class:`generator.config.ConfigError`.
This module does not import ``generator.config`` at import time, so ``generator/config.py`` can import it
anywhere (``from .training.config import TrainingConfig``) without a circular import.
The defaults are the issue's design; a bigger sweep is a bigger ``[training]`` table, nothing else.
Grids given as (min, max, points) are log-spaced: ``numpy.logspace(log10(min), log10(max), points)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..activations import ACTIVATIONS
from ..inits import INITS
from .data import PREPROCESS

TRAIN_NORMS = ("none", "bn")


def _ch(*names) -> dict:
    return {"choices": tuple(names)}


def _grid(*names, unique=True) -> dict:
    return {"choices": tuple(names), "unique": unique, "nonempty": True}


@dataclass(frozen=True)
class TrainingConfig:
    # data
    split_seed: int = field(default=0, metadata={"min": 0})
    val_fraction: float = field(default=0.2, metadata={"min": 0.05, "max": 0.5})
    preprocess: str = field(default="standardize", metadata=_ch(*PREPROCESS))
    seeds: tuple[int, ...] = field(default=(0, 1, 2), metadata={"min": 0, "unique": True, "nonempty": True})
    # the shared training recipe
    width: int = field(default=100, metadata={"min": 2})
    batch_size: int = field(default=64, metadata={"min": 2})
    learning_rate: float = field(default=0.1, metadata={"min": 0.0})
    momentum: float = field(default=0.0, metadata={"min": 0.0, "max": 0.999})
    steps: int = field(default=200, metadata={"min": 1})
    eval_every: int = field(default=10, metadata={"min": 1})
    target_accuracy: float = field(default=0.9, metadata={"min": 0.1, "max": 1.0})
    # base network of the learning-rate, speed, batch-size, regularization and preprocessing runs
    base_depth: int = field(default=6, metadata={"min": 1})
    base_activation: str = field(default="relu", metadata=_ch(*ACTIVATIONS))
    base_init: str = field(default="he", metadata=_ch(*INITS))
    # (a) init sensitivity: W = scale * N(0, 1) in every layer
    init_depth: int = field(default=8, metadata={"min": 1})
    init_activations: tuple[str, ...] = field(default=("tanh", "relu"), metadata=_grid(*ACTIVATIONS))
    init_scale_min: float = field(default=1e-4, metadata={"min": 1e-12})
    init_scale_max: float = field(default=10.0, metadata={"min": 1e-12})
    init_scale_points: int = field(default=16, metadata={"min": 2})
    init_steps: int = field(default=150, metadata={"min": 1})
    # (b, c) learning rate and speed
    lr_min: float = field(default=1e-3, metadata={"min": 1e-12})
    lr_max: float = field(default=10.0, metadata={"min": 1e-12})
    lr_points: int = field(default=13, metadata={"min": 2})
    # (d) Ioffe & Szegedy Fig. 1 analogue
    fig1_depth: int = field(default=3, metadata={"min": 1})
    fig1_activation: str = field(default="sigmoid", metadata=_ch(*ACTIVATIONS))
    fig1_init_scale: float = field(default=0.05, metadata={"min": 0.0})
    fig1_learning_rate: float = field(default=1.0, metadata={"min": 0.0})
    fig1_steps: int = field(default=1000, metadata={"min": 1})
    # (e) depth
    depths: tuple[int, ...] = field(default=(10, 20, 30), metadata={"min": 1, "unique": True, "nonempty": True})
    depth_inits: tuple[str, ...] = field(default=("he", "xavier"), metadata=_grid(*INITS))
    depth_norms: tuple[str, ...] = field(default=("none", "bn"), metadata=_grid(*TRAIN_NORMS))
    depth_learning_rate: float = field(default=0.01, metadata={"min": 0.0})
    depth_momentum: float = field(default=0.9, metadata={"min": 0.0, "max": 0.999})
    # (f) batch size
    batch_sizes: tuple[int, ...] = field(default=(2, 4, 8, 16, 32, 128), metadata={"min": 2, "unique": True, "nonempty": True})
    batch_epochs: float = field(default=5.0, metadata={"min": 0.01})
    # (g) regularization
    dropout: float = field(default=0.3, metadata={"min": 0.0, "max": 0.95})
    reg_train_size: int = field(default=360, metadata={"min": 20})
    reg_steps: int = field(default=400, metadata={"min": 1})
    # preprocessing
    preprocess_options: tuple[str, ...] = field(default=PREPROCESS, metadata=_grid(*PREPROCESS))
    pre_lr_points: int = field(default=9, metadata={"min": 2})

    def __post_init__(self):
        from ..config import ConfigError  # imported here: generator/config.py may import this module

        if self.init_scale_max <= self.init_scale_min:
            raise ConfigError("training.init_scale_max", f"must be > init_scale_min ({self.init_scale_min!r})")
        if self.lr_max <= self.lr_min:
            raise ConfigError("training.lr_max", f"must be > lr_min ({self.lr_min!r})")

    @property
    def init_scales(self) -> list[float]:
        return _logspace(self.init_scale_min, self.init_scale_max, self.init_scale_points)

    @property
    def learning_rates(self) -> list[float]:
        return _logspace(self.lr_min, self.lr_max, self.lr_points)

    @property
    def pre_learning_rates(self) -> list[float]:
        return _logspace(self.lr_min, self.lr_max, self.pre_lr_points)


def _logspace(lo: float, hi: float, n: int) -> list[float]:
    # Rounded to 12 significant digits so the values (and cache keys) are the same on every platform.
    return [float(f"{v:.12g}") for v in np.logspace(np.log10(lo), np.log10(hi), n)]
