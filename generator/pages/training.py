"""Training page context from the training CSVs (generator/analysis/training_claims.py computes it):
``{"available": False}`` until they all exist, and the page then says so."""

from __future__ import annotations

from generator.analysis.training_claims import CLAIMS, training_context
from generator.pipeline.training_stage import FILES


def context(data) -> dict:
    """The training page's context from a ``generator.contract.dataset.Dataset``:
    ``{"available": False}`` until every training CSV exists, else ``training_context`` + ``available``."""
    names = [f.name for f in FILES] + [CLAIMS.name]
    if not all(data.has(n) for n in names):
        return {"available": False}
    t = data.grid.training  # the [training] settings the data were computed with (grid.json)
    return training_context({n: data.frame(n) for n in names}, t)
