"""The explorer page (``explorer``): the context its templates and script need; display only.

The page's script (site/assets/explorer/explorer.js) fetches the JSON documents of
generator/pages/explorer_data.py from ``data/explorer/``; this context gives the templates the same
facts to print (every key always present):

``axes`` (init / activation / norm in grid order), ``seeds``, ``layers`` (1..depth), ``stats`` (the
propagation.csv float columns, from the contract), ``default`` (he / relu / none when the grid has them,
else each axis's first value; seed ``"all"``), ``index_path`` (docs-relative, for a download link),
``n_configs``, ``files``, ``raw_bytes``, ``max_fetch_gz`` (sizes of the documents the build writes) and
``examples`` (picked by rule, generator/analysis/explorer_examples.py).
"""

from __future__ import annotations

from generator.analysis import explorer_examples
from generator.analysis.health import health_frame
from generator.pages import explorer_data

PREFERRED = {"init": "he", "activation": "relu", "norm": "none"}  # the opening view when the grid has it


def context(data) -> dict:
    p = data.grid.propagation
    axes = {"init": list(p.inits), "activation": list(p.activations), "norm": list(p.norms)}
    docs = explorer_data.documents(data)
    return {
        "axes": axes,
        "seeds": [int(s) for s in p.seeds],
        "layers": list(range(1, int(p.depth) + 1)),
        "stats": explorer_data.stat_columns(),
        "default": {**{k: (v if v in axes[k] else axes[k][0]) for k, v in PREFERRED.items()}, "seed": "all"},
        "index_path": f"data/{explorer_data.DIR}/{explorer_data.INDEX}",
        "n_configs": len(explorer_data.configs(data.grid)),
        **explorer_data.sizes(docs),
        "examples": explorer_examples.examples(health_frame(data)),
        "has_phase": data.has("phase_theory.csv"),  # index.json's "phase": places on the phase diagram
    }
