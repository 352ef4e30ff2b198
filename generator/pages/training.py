"""Training page context: generator/training/claims.py computes it from the training CSVs."""

from __future__ import annotations

from ..training.claims import training_context
from ..training.figures import load_frames


def context(data) -> dict:
    t = data.cfg.training
    return training_context(load_frames(data.data_dir), t)
