"""Means over seeds: the one place that aggregates the runs of a configuration, with one rule for
diverged seeds.

THE RULE. A *run* is one (init, activation, norm, seed); a *case* is one (init, activation, norm, layer).

* A run is **diverged at a layer** when its ``diverged`` column is true there or at any earlier layer
  (sticky: once a run has blown up, every later layer counts as diverged), or when any measured value
  of that row is ±inf (an overflow is a divergence; ``theory_*`` columns are predictions and do not count).
* At a case, a seed **contributes** a column's value iff its run is not diverged at that layer and the
  value is finite. ``mean`` / ``lo`` / ``hi`` are the mean / min / max over the contributing seeds; NaN
  when no seed contributes (never a value measured in a diverged run). Prediction columns
  (``theory_*``: computed from the config, not measured in the run) contribute whenever finite.
* Flags, computed here and never re-derived by callers:

  ``n_seeds``        seeds (rows) at the case;
  ``n_ok``           seeds whose run is not diverged at this layer;
  ``diverged``       any seed diverged at this layer (sticky over layers, so also at every later layer);
  ``all_diverged``   every seed diverged at this layer (``n_ok == 0``);
  ``diverged_case``  any seed diverged at any layer of this (init, activation, norm);
  ``zero_<col>``     every seed's raw value of ``<col>`` is exactly 0 (diverged or not).

How to *show* a case without a value -- a "diverged" marker, +inf, a gap in a line -- is the caller's
choice, made from these flags.

Means are taken with one ``groupby(...).mean()`` per data set (pandas' grouped mean, the same
summation every page used before), so pages and figures read bit-identical numbers. Layer-folder rule:
pandas and NumPy only (no matplotlib, no strings).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

CONFIG = ["init", "activation", "norm"]
KEYS = [*CONFIG, "layer"]
NOT_VALUES = {"seed", "layer"}
FLAGS = ["n_seeds", "n_ok", "diverged", "all_diverged", "diverged_case"]


def select(df: pd.DataFrame, **eq) -> pd.DataFrame:
    """Rows where each column equals the given value (``None`` values are ignored)."""
    mask = np.ones(len(df), dtype=bool)
    for col, val in eq.items():
        if val is None:
            continue
        mask &= (df[col] == val).to_numpy()
    return df.loc[mask]


def depth_of(data: dict[str, pd.DataFrame]) -> int:
    """The deepest layer in the figures' data (propagation, else the histograms); 1 when empty."""
    for name in ("propagation", "hist"):
        df = data.get(name)
        if df is not None and len(df):
            return int(df["layer"].max())
    return 1


def value_columns(frame: pd.DataFrame) -> list[str]:
    """Numeric measurement columns of a propagation-like frame (everything but keys, seed, layer)."""
    return [
        c
        for c in frame.columns
        if c not in NOT_VALUES
        and c not in CONFIG
        and c != "diverged"
        and pd.api.types.is_numeric_dtype(frame[c])
        and not pd.api.types.is_bool_dtype(frame[c])
    ]


def run_diverged(frame: pd.DataFrame, cols: list[str]) -> np.ndarray:
    """Per row: is its run diverged at this layer (the rule above: flag or overflow, sticky)."""
    raw = frame[cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    measured = [i for i, c in enumerate(cols) if not c.startswith("theory")]
    row = np.isinf(raw[:, measured]).any(axis=1) if measured else np.zeros(len(frame), dtype=bool)
    if "diverged" in frame.columns:
        row |= frame["diverged"].fillna(False).astype(bool).to_numpy()
    if not row.any():
        return row
    runs = [c for c in [*CONFIG, "seed"] if c in frame.columns]
    layer = frame["layer"].to_numpy(dtype=float)
    first = (
        pd.Series(np.where(row, layer, np.nan), index=frame.index)
        .groupby([frame[c] for c in runs], sort=False)
        .transform("min")
        .to_numpy()
    )
    return layer >= first  # NaN (never diverged) compares False


@dataclass(frozen=True)
class LayerStats:
    """One column of one configuration over layers 1..depth (what the line figures draw)."""

    layers: np.ndarray  # 1..depth
    mean: np.ndarray  # mean over contributing seeds (NaN if none)
    lo: np.ndarray  # min over contributing seeds
    hi: np.ndarray  # max over contributing seeds
    diverged: np.ndarray  # bool: any seed diverged at this layer (sticky)
    zero: np.ndarray  # bool: every seed's value is exactly 0


class SeedMeans:
    """Every case of a propagation-like frame aggregated once (see the module docstring for the rule).

    ``depth``: the last layer (``last``, ``stats`` and ``matrix`` default to it).
    """

    def __init__(self, frame: pd.DataFrame, *, depth: int | None = None):
        cols = value_columns(frame)
        self.columns = cols
        self.depth = int(depth if depth is not None else (frame["layer"].max() if len(frame) else 0))
        raw = frame[cols].apply(pd.to_numeric, errors="coerce").astype(float)
        div = run_diverged(frame, cols)
        measured = np.array([not c.startswith("theory") for c in cols])
        clean = raw.where(np.isfinite(raw.to_numpy()) & ~(div[:, None] & measured[None, :]))
        by = [frame[k] for k in KEYS]
        g = clean.groupby(by, sort=False)
        self._mean, self._lo, self._hi = g.mean(), g.min(), g.max()
        d = pd.Series(div, index=frame.index).groupby(by, sort=False)
        flags = pd.DataFrame({"n_seeds": d.size(), "n_ok": d.size() - d.sum().astype(int)})
        flags["diverged"] = d.any().astype(bool)
        flags["all_diverged"] = flags["n_ok"] == 0
        flags["diverged_case"] = flags["diverged"].groupby(level=CONFIG, sort=False).transform("any")
        zero = (raw == 0).groupby(by, sort=False).all()
        self._flags = pd.concat([flags, zero.add_prefix("zero_")], axis=1)
        self._index = self._mean.index

    @classmethod
    def of(cls, frame: pd.DataFrame) -> SeedMeans:
        """The aggregate of ``frame``, computed once per frame object (pages and figures ask per case;
        the contract frames are read once and never modified, which this memo relies on)."""
        key = id(frame)
        hit = _MEMO.get(key)
        if hit is not None and hit[0]() is frame:
            return hit[1]
        made = cls(frame)
        _MEMO[key] = (weakref.ref(frame, lambda _: _MEMO.pop(key, None)), made)
        return made

    # --- tables ---------------------------------------------------------------------------------

    @cached_property
    def _table(self) -> pd.DataFrame:
        out = self._mean.copy()
        for c in FLAGS:
            out[c] = self._flags[c]
        return out.reset_index()

    def table(self, extra: tuple[str, ...] = ()) -> pd.DataFrame:
        """One row per case (first-appearance order): keys, the means of every value column and the
        flags (``extra``: more flag columns, e.g. ``("zero_grad_h_std",)``); a copy."""
        out = self._table.copy()
        for c in extra:
            out[c] = self._flags[c].to_numpy()
        return out

    def case(self, init: str, activation: str, norm: str = "none") -> pd.DataFrame:
        """Per-layer rows (sorted by layer) of one configuration: ``layer``, the means, the flags;
        empty with the same columns when the data does not hold it."""
        t = self._table
        sel = t[(t["init"] == init) & (t["activation"] == activation) & (t["norm"] == norm)]
        return sel.drop(columns=CONFIG).sort_values("layer").reset_index(drop=True)

    def last(self, norm: str = "none", layer: int | None = None) -> pd.DataFrame:
        """One row per (init, activation) at ``layer`` (default: the last) for ``norm``."""
        t = self._table
        sel = t[(t["norm"] == norm) & (t["layer"] == (self.depth if layer is None else layer))]
        return sel.reset_index(drop=True)

    def first_diverged(self, init: str, activation: str, norm: str = "none") -> int | None:
        """The first layer at which any seed of the configuration is diverged, or None."""
        rows, at = self._positions.get((init, activation, norm), (np.zeros(0, dtype=int), np.zeros(0, dtype=int)))
        div = self._flags["diverged"].to_numpy()[rows]
        return int(at[div].min()) if div.any() else None

    # --- what the figures draw -------------------------------------------------------------------

    @cached_property
    def _positions(self) -> dict:
        """(init, activation, norm) -> (row positions in the aggregate, their layers)."""
        idx = self._index
        keys = zip(*(idx.get_level_values(k) for k in CONFIG))
        pos: dict = {}
        for i, key in enumerate(keys):
            pos.setdefault(key, []).append(i)
        layer = idx.get_level_values("layer").to_numpy()
        return {k: (np.array(v), layer[v]) for k, v in pos.items()}

    def stats(self, col: str, *, init: str, activation: str, norm: str, depth: int | None = None) -> LayerStats:
        """``col`` of one configuration over layers 1..``depth`` (NaN / False where absent)."""
        layers = np.arange(1, (self.depth if depth is None else depth) + 1)
        rows, at = self._positions.get((init, activation, norm), (np.zeros(0, dtype=int), np.zeros(0, dtype=int)))
        keep = (at >= 1) & (at <= len(layers))
        rows, slot = rows[keep], at[keep] - 1

        def pick(frame, c, fill, dtype):
            out = np.full(len(layers), fill, dtype=dtype)
            if c in frame.columns:
                out[slot] = frame[c].to_numpy()[rows]
            return out

        return LayerStats(
            layers,
            pick(self._mean, col, np.nan, float),
            pick(self._lo, col, np.nan, float),
            pick(self._hi, col, np.nan, float),
            pick(self._flags, "diverged", False, bool),
            pick(self._flags, f"zero_{col}", False, bool),
        )

    def matrix(self, col: str, inits, activations, norm: str, layer: int | None = None):
        """(values, diverged, zero) arrays of shape (len(inits), len(activations)) at ``layer``: the
        mean, the sticky ``diverged`` flag and ``zero_<col>`` of each cell (NaN / False where absent)."""
        layer = self.depth if layer is None else layer
        idx = pd.MultiIndex.from_product([list(inits), list(activations), [norm], [layer]], names=KEYS)
        shape = (len(inits), len(activations))
        vals = self._mean[col].reindex(idx).to_numpy(dtype=float).reshape(shape)
        div = self._flags["diverged"].reindex(idx).fillna(False).to_numpy(dtype=bool).reshape(shape)
        zero = self._flags[f"zero_{col}"].reindex(idx).fillna(False).to_numpy(dtype=bool).reshape(shape)
        return vals, div, zero


_MEMO: dict[int, tuple[weakref.ref, SeedMeans]] = {}


def layer_stats(prop: pd.DataFrame, col: str, depth: int | None = None, **eq) -> LayerStats:
    """:meth:`SeedMeans.stats` of ``prop`` for one configuration (``eq``: init, activation, norm)."""
    sm = SeedMeans.of(prop)
    return sm.stats(
        col, init=eq["init"], activation=eq["activation"], norm=eq.get("norm", "none"), depth=depth or sm.depth
    )


def last_layer_matrix(prop: pd.DataFrame, col: str, inits, activations, norm: str, layer: int):
    """:meth:`SeedMeans.matrix` of ``prop``."""
    return SeedMeans.of(prop).matrix(col, inits, activations, norm, layer)


def seed_means(data) -> SeedMeans:
    """The :class:`SeedMeans` of a dataset's propagation.csv (``data.prop``; computed once per frame)."""
    return SeedMeans.of(data.prop)
