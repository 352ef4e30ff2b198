"""Full results page: the whole grid as init x activation tables per norm, the heatmaps, the CSV files
and the data dictionary.

Tables hold the last layer (``layer == depth``), seeds averaged. A configuration in which any seed
diverged at or before the last layer shows the marker ``DIVERGED`` instead of a number (the template
translates it), as in the heatmaps; NaN (undefined, e.g. ``grad_w_ratio`` for W = 0) shows as a dash.
"""

from __future__ import annotations

import pandas as pd

from generator.analysis.seeds import seed_means
from generator.contract import schema as contract
from generator.engine.activations import SATURATION_FRACTION
from generator.pages.gradients import grid_order
from generator.pages.summary import data_dictionary

DIVERGED = "diverged"  # cell marker for a diverged configuration (translated by the template)
METRICS = ("std", "saturated_frac", "grad_w_ratio")  # the grid tables, in page order


def pivot(data, column: str, norm: str) -> pd.DataFrame:
    """init x activation table of ``column`` at the last layer (seeds averaged), DIVERGED where any
    seed diverged; the first column ``init`` holds the init id."""
    depth = data.grid.propagation.depth
    inits, acts, _ = grid_order(data)
    last = seed_means(data).last(norm, depth).set_index(["init", "activation"])
    out = pd.DataFrame({"init": inits})
    for a in acts:
        col = []
        for i in inits:
            if (i, a) not in last.index:
                col.append(float("nan"))
            elif bool(last.at[(i, a), "diverged"]):
                col.append(DIVERGED)
            else:
                col.append(float(last.at[(i, a), column]))
        out[a] = pd.Series(col, dtype=object)
    return out


def context(data) -> dict:
    inits, acts, norms = grid_order(data)
    tables = [
        {
            "metric": m,
            "norm": n,
            "name": f"results-{m.replace('_', '-')}-{n.replace('_', '-')}",
            "df": pivot(data, m, n),
        }
        for m in METRICS
        for n in norms
    ]
    n_div = {
        n: int(
            sum((t["df"][acts] == DIVERGED).to_numpy().sum() for t in tables if t["norm"] == n and t["metric"] == "std")
        )
        for n in norms
    }
    files = []
    for f in contract.DATA_FILES.values():
        if data.has(f.name):
            df = pd.DataFrame([{"name": c.name, "dtype": c.dtype, "ko": c.ko, "en": c.en} for c in f.columns])
            files.append(
                {
                    "name": f.name,
                    "ko": f.ko,
                    "en": f.en,
                    "path": f"data/{f.name}",
                    "anchor": "dict-" + f.name.replace(".csv", "").replace("_", "-"),
                    "df": df,
                    "rows": int(len(data.frame(f.name))),
                }
            )
    listed = {d["name"] for d in data_dictionary()}
    return {
        "tables": tables,
        "metrics": list(METRICS),
        "diverged": DIVERGED,
        "n_div": n_div,
        "inits": inits,
        "activations": acts,
        "norms": norms,
        "files": files,
        "all_listed": all(f["name"] in listed for f in files),
        "heatmaps": [
            {"stem": f"heatmap_{k}{'' if n == 'none' else '_' + n}", "kind": k, "norm": n}
            for k in ("std", "gradratio")
            for n in norms
        ],
        "sat_threshold": SATURATION_FRACTION,
    }
