"""What the render stage reads: the contract files and the grid facts of one data directory.

``Dataset(data_dir)`` is all a page gets (never a config): ``frame(name)`` loads a contract CSV once,
type-checked (generator/contract/schema.py); ``has(name)`` says whether the experiments stage wrote it;
``grid`` is ``data/grid.json`` as an attribute view (``data.grid.propagation.depth``,
generator/contract/grid.py). Grid facts come from the data, so a page labels layers with the depth the
data were computed at, whatever ``--config`` says.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import pandas as pd

from generator.contract import schema as contract
from generator.contract.grid import Facts, read_grid


class Dataset:
    """The contract files under ``data_dir`` and their grid facts."""

    def __init__(self, data_dir: str | Path):
        self.data_dir = Path(data_dir)
        self._frames: dict[str, pd.DataFrame] = {}

    @cached_property
    def grid(self) -> Facts:
        return read_grid(self.data_dir)

    def frame(self, name: str) -> pd.DataFrame:
        """A contract file by name (``"propagation.csv"``), loaded once and type-checked."""
        if name not in self._frames:
            self._frames[name] = contract.read_csv(name, self.data_dir)
        return self._frames[name]

    def has(self, name: str) -> bool:
        return (self.data_dir / name).exists()

    @cached_property
    def prop(self) -> pd.DataFrame:
        return self.frame("propagation.csv")

    def last_layer(self, norm: str = "none") -> pd.DataFrame:
        """Rows of the last layer for one norm."""
        p = self.prop
        return p[(p["layer"] == self.grid.propagation.depth) & (p["norm"] == norm)]
