"""The seed note's numbers: its printouts and snippets against our re-run and our grid (no display text).

Inputs: ``seed_printed.csv`` (the three printouts of the note, parsed from its text), ``seed_code.csv``
(each snippet re-run as written, one seeded Generator per seed, at the note's sizes) and
``propagation.csv`` (our grid). :func:`measure` returns every number the seed page shows, block by
block: (a) the 0.01 printout (and whether the printouts were "swapped": :func:`printout_runs`), what holds, (b) the He line, (c) fan-in vs fan-in + fan-out, (d) Xavier +
ReLU, (e) the input dimension, (f) BN placement.

Rules (the page states them from these constants):

* Per-layer factor of a case: the geometric mean of ``std[l] / std[l-1]`` over layers 2..L of the
  re-run, i.e. ``(std_L / std_1) ** (1 / (L - 1))`` (layer 1 is skipped: it maps the Gaussian input,
  whose shape differs from a hidden layer's).
* Relative difference of a printed value p from a re-run value r (mean over seeds): ``|p - r| / r``.
* A printout *matches* a re-run case when its largest relative difference over layers 1..L is at most
  :data:`MATCH_RTOL`. Each printout is compared with every tanh re-run; the best match is the case with
  the smallest largest difference.
* Xavier + ReLU: holds when the last-layer std is below ``COLLAPSE_RATIO`` x layer 1's; partly when the
  std shrinks at every layer with a factor < 1; does_not_hold otherwise.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from generator.analysis.rules import (
    COLLAPSE_RATIO,  # the conclusions page's xavier_relu rule too
)
from generator.analysis.seeds import SeedMeans
from generator.contract import seed_cases as seed_reference
from generator.engine import inits

MATCH_RTOL = 0.05  # a printout "matches" a re-run when every layer is within 5% of it
SEED_COMMENT_DIM = 10  # the note's code comment: "assume some unit gaussian 10-D input data"
PRINTED = seed_reference.PRINTED_CASES
CASES = tuple(seed_reference.SEED_CASES)
TANH_CASES = tuple(c for c in CASES if seed_reference.SEED_CASES[c][0] == "tanh")

# The constants of the ``* c`` snippets as the note writes them ("0.01", "1.0"), from their code lines.
SCALES = {"small": seed_reference.scale_text("small_tanh"), "large": seed_reference.scale_text("large_tanh")}


def seed_sizes(data) -> dict:
    """The note's sizes, as the experiments stage re-ran its code (grid.json ``seed_code``)."""
    sizes = data.grid.seed_code
    return {k: sizes[k] for k in ("samples", "width", "depth")}


def per_layer_factor(std_by_layer: pd.Series) -> float:
    """Geometric-mean ratio std[l]/std[l-1] over layers 2..L (index: layer, 1-based; layer 0 ignored)."""
    s = std_by_layer[std_by_layer.index >= 1].sort_index()
    if len(s) < 2:
        return math.nan
    first, last = float(s.iloc[0]), float(s.iloc[-1])
    if not (first > 0 and last > 0 and np.isfinite(first) and np.isfinite(last)):
        return math.nan
    return (last / first) ** (1.0 / (len(s) - 1))


def rel_diff(printed, rerun):
    return (printed - rerun).abs() / rerun


def rerun_table(code: pd.DataFrame, col: str = "std") -> pd.DataFrame:
    """Mean over seeds of ``col``: rows = layer (0 = input), columns = case."""
    return code.groupby(["case", "layer"])[col].mean().unstack(0)


def printed_table(printed: pd.DataFrame, col: str = "std") -> pd.DataFrame:
    return printed.pivot(index="layer", columns="case", values=col)


def printout_matches(rerun: pd.DataFrame, printed: pd.DataFrame) -> list[dict]:
    """For each printout: its largest relative difference from every tanh re-run, and the best match."""
    out = []
    for case in PRINTED:
        if case not in printed.columns:
            continue
        p = printed[case][printed.index >= 1]
        diffs = {c: float(rel_diff(p, rerun[c].reindex(p.index)).max()) for c in TANH_CASES if c in rerun.columns}
        best = min(diffs, key=diffs.__getitem__) if diffs else None
        own = diffs.get(case, math.nan)
        out.append(
            {
                "case": case,
                "own_max_rel": own,
                "matches_own": bool(own <= MATCH_RTOL),
                "best": best,
                "best_max_rel": diffs[best] if best is not None else math.nan,
                "best_is_own": best == case,
                "diffs": diffs,
            }
        )
    return out


def prop_case(prop: pd.DataFrame, init: str, act: str, norm: str = "none") -> pd.DataFrame:
    """Per-layer means over seeds of one configuration (:meth:`SeedMeans.case`), indexed by layer."""
    c = SeedMeans.of(prop).case(init, act, norm).set_index("layer")
    return c[
        [k for k in ("mean", "std", "saturated_frac", "grad_w_ratio", "grad_h_std", "zero_frac") if k in c.columns]
    ]


# --- the blocks of the page ---------------------------------------------------------------------


def case_rows(rerun: pd.DataFrame, printed: pd.DataFrame, factors: dict, L: int) -> list[dict]:
    """One row per snippet: its code line, activation, layer-1 and last-layer std, per-layer factor."""
    cases = []
    for c in CASES:
        act, code_line = seed_reference.SEED_CASES[c]
        cases.append(
            {
                "case": c,
                "code": code_line,
                "activation": act,
                "std1": float(rerun[c].loc[1]),
                "stdL": float(rerun[c].loc[L]),
                "factor": factors[c],
                "printed": c in printed.columns,
            }
        )
    return cases


def small_block(rerun, printed, factors, matches, L: int, width: int) -> tuple[pd.DataFrame, dict]:
    """(a) the 0.01 printout against the 0.01 and the 1.0 re-runs (relative differences in percent)."""
    lay = [i for i in printed.index if i >= 1]
    small_tbl = pd.DataFrame(
        {
            "layer": lay,
            "printed": [float(printed.loc[i, "small_tanh"]) for i in lay],
            "rerun_small": [float(rerun.loc[i, "small_tanh"]) for i in lay],
            "rerun_large": [float(rerun.loc[i, "large_tanh"]) for i in lay],
        }
    )
    small_tbl["ratio_small"] = small_tbl["printed"] / small_tbl["rerun_small"]
    small_tbl["rel_large"] = 100 * rel_diff(small_tbl["printed"], small_tbl["rerun_large"])  # percent
    small = {
        "printed_L": float(printed.loc[L, "small_tanh"]),
        "rerun_L": float(rerun.loc[L, "small_tanh"]),
        "rerun_large_L": float(rerun.loc[L, "large_tanh"]),
        "ratio_L": float(printed.loc[L, "small_tanh"] / rerun.loc[L, "small_tanh"]),
        "factor": factors["small_tanh"],
        "scale_times_sqrt_width": float(SCALES["small"]) * math.sqrt(width),
        "max_rel_large_pct": float(small_tbl["rel_large"].max()),
        "min_ratio_small": float(small_tbl["ratio_small"].min()),
        "best": matches["small_tanh"]["best"],
        "best_is_large": matches["small_tanh"]["best"] == "large_tanh",
        "matches_own": matches["small_tanh"]["matches_own"],
        "printed_first": float(printed.loc[1, "small_tanh"]),
    }
    return small_tbl, small


def printout_runs(printed_mean: pd.DataFrame, printed: pd.DataFrame, matches: dict) -> dict:
    """Were the ×0.01 and ×1.0 printouts "swapped"? Both match the ×1.0 re-run if ``both_large``; their
    inputs (layer 0: the data the run drew) differ if ``distinct_inputs`` -- two separate ×1.0 runs, not one
    output pasted twice; ``small_never_shown``: no printout is within MATCH_RTOL of the ×0.01 re-run."""
    inp = {
        f"{c}_{k}0": float(t[c].loc[0])
        for c in ("small_tanh", "large_tanh")
        for k, t in (("mean", printed_mean), ("std", printed))
    }
    inp = {k.replace("_tanh", ""): v for k, v in inp.items()}
    small_rel = [m["diffs"].get("small_tanh", math.nan) for m in matches.values()]
    return {
        **inp,
        "distinct_inputs": bool(inp["small_mean0"] != inp["large_mean0"] or inp["small_std0"] != inp["large_std0"]),
        "both_large": bool(matches["small_tanh"]["best"] == "large_tanh" and matches["large_tanh"]["matches_own"]),
        "large_own_max_rel_pct": 100 * float(matches["large_tanh"]["own_max_rel"]),
        "small_never_shown": bool(all(np.isfinite(r) and r > MATCH_RTOL for r in small_rel)),
        "min_rel_small_pct": 100 * float(min(small_rel)),
    }


def holds_block(code, rerun, printed, matches, L: int) -> tuple[pd.DataFrame, dict]:
    """What holds: the xavier and 1.0 printouts against their own re-run, and the spread over seeds."""
    rerun_lo = code.groupby(["case", "layer"])["std"].min().unstack(0)
    rerun_hi = code.groupby(["case", "layer"])["std"].max().unstack(0)
    lay = [i for i in printed.index if i >= 1]
    holds_tbl = pd.DataFrame({"layer": lay})
    holds = {}
    for c in ("xavier_tanh", "large_tanh"):
        p = np.array([float(printed.loc[i, c]) for i in lay])
        r = np.array([float(rerun.loc[i, c]) for i in lay])
        holds_tbl[f"{c}_printed"] = p
        holds_tbl[f"{c}_rerun"] = r
        holds_tbl[f"{c}_rel"] = 100 * np.abs(p - r) / r  # percent
        spread = [100 * (float(rerun_hi.loc[i, c]) - float(rerun_lo.loc[i, c])) / float(rerun.loc[i, c]) for i in lay]
        holds[c] = {
            "max_rel_pct": float(holds_tbl[f"{c}_rel"].max()),
            "mean_rel_pct": float(holds_tbl[f"{c}_rel"].mean()),
            "matches": matches[c]["matches_own"],
            "spread_pct": float(max(spread)),
            "n_layers": len(lay),
            "printed_L": float(printed.loc[L, c]),
            "rerun_L": float(rerun.loc[L, c]),
        }
    return holds_tbl, holds


def he_block(rerun, factors, L: int, width: int, diverge_rms: float) -> tuple[pd.DataFrame, dict]:
    """(b) the He line: ``/ sqrt(2/fan_in)`` as printed instead of ``* sqrt(2/fan_in)``."""
    he_tbl = pd.DataFrame({"layer": list(range(1, L + 1))})
    he_tbl["as_printed"] = [float(rerun.loc[i, "he_relu_as_printed"]) for i in he_tbl["layer"]]
    he_tbl["corrected"] = [float(rerun.loc[i, "he_relu_corrected"]) for i in he_tbl["layer"]]
    prev = [float(rerun.loc[i - 1, "he_relu_as_printed"]) for i in he_tbl["layer"]]
    he_tbl["growth"] = he_tbl["as_printed"] / np.array(prev)
    he_tbl.loc[0, "growth"] = np.nan  # layer 1 maps the input, not a hidden layer
    over = he_tbl[he_tbl["as_printed"] > diverge_rms]["layer"]
    he = {
        "scale_printed": math.sqrt(width / 2),
        "scale_correct": math.sqrt(2 / width),
        "scale_ratio": width / 2,
        "factor_printed": factors["he_relu_as_printed"],
        "factor_corrected": factors["he_relu_corrected"],
        "stdL_printed": float(rerun.loc[L, "he_relu_as_printed"]),
        "stdL_corrected": float(rerun.loc[L, "he_relu_corrected"]),
        "std1_corrected": float(rerun.loc[1, "he_relu_corrected"]),
        "corrected_range_lo": float(he_tbl["corrected"].min()),
        "corrected_range_hi": float(he_tbl["corrected"].max()),
        "diverge_rms": float(diverge_rms),
        "first_over": int(over.iloc[0]) if len(over) else None,
    }
    return he_tbl, he


def fan_block(prop, cfg, width: int) -> tuple[list[dict], dict]:
    """(c) Xavier "depends on fan_in and fan_out" while the code uses fan_in only: variances, and
    xavier vs glorot_normal in our grid (largest relative difference of the per-layer std)."""
    var_x = inits.weight_variance("xavier", width, width)
    var_g = inits.weight_variance("glorot_normal", width, width)
    var_g_rect = inits.weight_variance("glorot_normal", width, 2 * width)
    var_x_rect = inits.weight_variance("xavier", width, 2 * width)
    have_glorot = "glorot_normal" in cfg.inits and "xavier" in cfg.inits
    glorot_rows = []
    if have_glorot:
        for act in cfg.activations:
            x = prop_case(prop, "xavier", act)
            g = prop_case(prop, "glorot_normal", act)
            if not len(x) or not len(g):
                continue
            d = ((x["std"] - g["std"]).abs() / x["std"]).replace([np.inf], np.nan)
            glorot_rows.append(
                {
                    "activation": act,
                    "xavier": float(x.loc[cfg.depth, "std"]),
                    "glorot": float(g.loc[cfg.depth, "std"]),
                    "max_rel": float(d.max(skipna=True)) if d.notna().any() else math.nan,
                }
            )
    glorot_max = max((r["max_rel"] for r in glorot_rows if np.isfinite(r["max_rel"])), default=math.nan)
    fan = {
        "var_xavier": var_x,
        "var_glorot": var_g,
        "equal": bool(math.isclose(var_x, var_g, rel_tol=1e-12)),
        "width": width,
        "grid_width": cfg.width,
        "have_glorot": have_glorot and bool(glorot_rows),
        "max_rel": glorot_max,
        "rect_out": 2 * width,
        "var_glorot_rect": var_g_rect,
        "var_xavier_rect": var_x_rect,
        "rect_ratio": var_g_rect / var_x_rect,
    }
    return glorot_rows, fan


def xavier_relu_block(prop, cfg, rerun, rerun_mean, factors, L: int) -> dict:
    """(d) Xavier + ReLU, "mean and std converge to 0": the re-run's factor, the verdict, our grid."""
    depth = cfg.depth
    xr_prop = prop_case(prop, "xavier", "relu") if "xavier" in cfg.inits and "relu" in cfg.activations else None
    xr = {
        "factor_seed": factors["xavier_relu"],
        "theory": 1 / math.sqrt(2),
        "std1": float(rerun.loc[1, "xavier_relu"]),
        "stdL": float(rerun.loc[L, "xavier_relu"]),
        "mean1": float(rerun_mean.loc[1, "xavier_relu"]),
        "meanL": float(rerun_mean.loc[L, "xavier_relu"]),
        "layers_to_1pct": None,
        "have_prop": xr_prop is not None and len(xr_prop) > 0,
    }
    ratio = xr["stdL"] / xr["std1"] if xr["std1"] > 0 else math.nan
    shrinks = bool((rerun["xavier_relu"][rerun.index >= 1].diff().dropna() < 0).all())
    xr["verdict"] = (
        "holds" if ratio < COLLAPSE_RATIO else "partly" if shrinks and xr["factor_seed"] < 1 else "does_not_hold"
    )
    if xr["factor_seed"] and 0 < xr["factor_seed"] < 1:
        # how many layers until the std is 1% of layer 1's at the measured factor (an extrapolation)
        xr["layers_to_1pct"] = int(math.ceil(math.log(0.01) / math.log(xr["factor_seed"]))) + 1
    if xr_prop is not None and xr["have_prop"]:
        xr["factor_prop"] = per_layer_factor(xr_prop["std"])
        xr["stdL_prop"] = float(xr_prop.loc[depth, "std"])
        xr["meanL_prop"] = float(xr_prop.loc[depth, "mean"])
    return xr


def input_block(rerun, sizes: dict) -> dict:
    """(e) the "10-D input" comment against the 500-D input the code draws."""
    width = sizes["width"]
    return {
        "comment_dim": SEED_COMMENT_DIM,
        "dim": width,
        "samples": sizes["samples"],
        "std0": float(rerun.loc[0, "large_tanh"]),
        "small_first_factor": float(rerun.loc[1, "small_tanh"] / rerun.loc[0, "small_tanh"]),
        "small_pred_500": float(SCALES["small"]) * math.sqrt(width),
        "small_pred_10": float(SCALES["small"]) * math.sqrt(SEED_COMMENT_DIM),
    }


def bn_block(prop, cfg) -> tuple[list[dict], dict]:
    """(f) BN placement: the paper normalizes pre-activations (our "bn"); the note's wording is "bn_post"."""
    bn_rows = []
    for norm in ("bn", "bn_post"):
        if norm not in cfg.norms:
            continue
        for act in ("tanh", "relu"):
            if act not in cfg.activations or "xavier" not in cfg.inits:
                continue
            c = prop_case(prop, "xavier", act, norm)
            if len(c):
                bn_rows.append(
                    {
                        "norm": norm,
                        "activation": act,
                        "mean": float(c.loc[cfg.depth, "mean"]),
                        "std": float(c.loc[cfg.depth, "std"]),
                        # share of outputs exactly 0 (ReLU): BN after ReLU maps all of them to one value
                        "zero": float(c.loc[cfg.depth, "zero_frac"]) if "zero_frac" in c.columns else math.nan,
                    }
                )
    bn = {
        "have_post": "bn_post" in cfg.norms,
        "have_bn": "bn" in cfg.norms,
        "rows": {f"{r['norm']}_{r['activation']}": r for r in bn_rows},
    }
    return bn_rows, bn


def measure(data) -> dict | None:
    """Every number of the seed page, or None when one of its three inputs is missing."""
    if not (data.has("seed_code.csv") and data.has("seed_printed.csv") and data.has("propagation.csv")):
        return None
    sizes = seed_sizes(data)
    code = data.frame("seed_code.csv")
    prop, cfg = data.prop, data.grid.propagation
    rerun, rerun_mean = rerun_table(code), rerun_table(code, "mean")
    printed = printed_table(data.frame("seed_printed.csv"))
    seeds = sorted(int(s) for s in code["seed"].unique())
    L = int(rerun.index.max())
    width = sizes["width"]
    factors = {c: per_layer_factor(rerun[c]) for c in CASES if c in rerun.columns}
    matches = {m["case"]: m for m in printout_matches(rerun, printed)}
    small_tbl, small = small_block(rerun, printed, factors, matches, L, width)
    small["runs"] = printout_runs(printed_table(data.frame("seed_printed.csv"), "mean"), printed, matches)
    holds_tbl, holds = holds_block(code, rerun, printed, matches, L)
    he_tbl, he = he_block(rerun, factors, L, width, cfg.diverge_rms)
    glorot_rows, fan = fan_block(prop, cfg, width)
    bn_rows, bn = bn_block(prop, cfg)
    return {
        "sizes": sizes,
        "seeds": seeds,
        "L": L,
        "factors": factors,
        "matches": matches,
        "cases": case_rows(rerun, printed, factors, L),
        "small": small,
        "small_tbl": small_tbl,
        "holds": holds,
        "holds_tbl": holds_tbl,
        "he": he,
        "he_tbl": he_tbl,
        "fan": fan,
        "glorot_rows": glorot_rows,
        "xr": xavier_relu_block(prop, cfg, rerun, rerun_mean, factors, L),
        "inp": input_block(rerun, sizes),
        "bn": bn,
        "bn_rows": bn_rows,
    }
