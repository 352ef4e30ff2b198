"""Training page context: generator/training/claims.py computes it from the training CSVs
(``{"available": False}`` until they all exist, and the page then says so)."""

from __future__ import annotations

from ..training.claims import page_context as context  # noqa: F401
