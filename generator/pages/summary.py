"""Site-wide context shared by every page: the grid summary and the data dictionary.

Both come from the data contract: :func:`config_summary` from ``data/grid.json`` (the grid the data were
computed on, never ``--config``), :func:`data_dictionary` from generator/contract/schema.py.
"""

from __future__ import annotations

from generator.contract import schema as contract


def config_summary(grid) -> dict:
    """The grid facts the templates print as ``config`` (``grid``: a Dataset's ``grid``)."""
    p = grid.propagation
    n_configs = len(p.inits) * len(p.activations) * len(p.norms)
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
        "n_configs": n_configs,
        "n_runs": n_configs * len(p.seeds),
        "hist_bins": p.hist_bins,
        "diverge_rms": p.diverge_rms,
        "config_file": grid.config_file,
    }


def data_dictionary() -> list[dict]:
    """The contract as plain data for the data-dictionary tables."""
    return [
        {
            "name": f.name,
            "ko": f.ko,
            "en": f.en,
            "columns": [{"name": c.name, "dtype": c.dtype, "ko": c.ko, "en": c.en} for c in f.columns],
        }
        for f in contract.DATA_FILES.values()
    ]
