"""Page contexts: the numbers each page's prose uses, computed in Python from the data files.

One module per page (``generator/pages/<page>.py``) exposes ``context(data: SiteData) -> dict``; the
page templates ``templates/pages/<page>.<lang>.md.j2`` see it as ``page`` (their own) and can reach
any other page's context as ``pages.<name>`` (for cross-references). Both languages render from the
same dict, so a number can never differ between the Korean and the English page.

Layout logic lives here, not in templates: selections, comparisons, verdicts and their rules.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from generator.analysis.seeds import SeedMeans
from generator.contract import schema as contract
from generator.config.load import Config, resolve

# Site order (the nav in site/mkdocs.yml follows it; tests check they agree).
PAGES = (
    "index",
    "initialization",
    "xavier",
    "he",
    "activations",
    "gradients",
    "batchnorm",
    "training",
    "theory",
    "results",
    "seed",
    "conclusions",
    "reproducibility",
    "references",
)


@dataclass
class SiteData:
    """Everything a page may read: the validated config and the contract CSVs."""

    cfg: Config
    data_dir: Path
    _frames: dict = field(default_factory=dict)

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
        return p[(p["layer"] == self.cfg.propagation.depth) & (p["norm"] == norm)]

    @cached_property
    def means(self) -> SeedMeans:
        """Every configuration's per-layer means over seeds (generator/analysis/seeds.py: the rule for
        diverged seeds and the flags), computed once from propagation.csv."""
        return SeedMeans.of(self.prop)

    def case(self, init: str, activation: str, norm: str = "none") -> pd.DataFrame:
        """Per-layer means over seeds for one configuration (:meth:`SeedMeans.case`: ``layer``, the
        propagation.csv value columns, the flags); empty (same columns) when the grid does not hold it."""
        return self.means.case(init, activation, norm)


def config_summary(cfg: Config) -> dict:
    p = cfg.propagation
    return {
        "samples": p.samples,
        "width": p.width,
        "depth": p.depth,
        "dtype": p.dtype,
        "inits": list(p.inits),
        "activations": list(p.activations),
        "norms": list(p.norms),
        "seeds": list(p.seeds),
        "n_seeds": len(p.seeds),
        "n_configs": len(p.inits) * len(p.activations) * len(p.norms),
        "n_runs": len(p.inits) * len(p.activations) * len(p.norms) * len(p.seeds),
        "hist_bins": p.hist_bins,
        "diverge_rms": p.diverge_rms,
        "config_file": cfg.path.name,
    }


def data_dictionary() -> list[dict]:
    """The contract as plain data for the data-dictionary tables."""
    return [
        {"name": f.name, "ko": f.ko, "en": f.en,
         "columns": [{"name": c.name, "dtype": c.dtype, "ko": c.ko, "en": c.en} for c in f.columns]}
        for f in contract.DATA_FILES.values()
    ]


def build_context(cfg: Config) -> dict:
    data = SiteData(cfg, resolve(cfg.output.docs_dir) / "data")
    pages = {}
    for name in PAGES:
        try:
            mod = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            continue
        pages[name] = mod.context(data)
    return {
        "config": config_summary(cfg),
        "data_dictionary": data_dictionary(),
        "pages": pages,
        "page_order": list(PAGES),
    }
