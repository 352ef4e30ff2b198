"""Per-configuration factors of the propagation data: seed means per layer, forward/backward growth
factors, last-layer std and how much it depends on the init (pandas/NumPy only, no matplotlib).

Used by the gradients / batchnorm / theory pages and by the figures of generator/figures/gradients.py,
so a page's numbers and the figure drawn beside them come from the same code. Every mean over seeds
comes from generator/analysis/seeds.py (one rule for diverged seeds); the factors and the last-layer std
of a configuration with a diverged seed are NaN. :func:`init_spread` is the one spread of the last-layer
std across inits (a diverged run enters at the divergence threshold; its docstring states the rule).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from generator.analysis.seeds import SeedMeans
from generator.engine.activations import ACTIVATIONS
from generator.engine.inits import INITS

# Display order of inits and activations in tables and figures: the engine registries' order.
INIT_ORDER, ACT_ORDER = tuple(INITS), tuple(ACTIVATIONS)


def ordered(values, order) -> list:
    """Distinct ``values`` in the order of ``order`` (values not in it last, sorted)."""
    have = list(dict.fromkeys(values))
    return [v for v in order if v in have] + sorted(v for v in have if v not in order)


def seed_mean(prop: pd.DataFrame) -> pd.DataFrame:
    """Per (init, activation, norm, layer): :meth:`SeedMeans.table` of ``prop`` (means over the
    contributing seeds and the flags, generator/analysis/seeds.py) with ``all_zero_grad``
    (grad_h_std == 0 in every seed)."""
    return SeedMeans.of(prop).table(("zero_grad_h_std",)).rename(columns={"zero_grad_h_std": "all_zero_grad"})


def _pos_ratio(a: float, b: float) -> float:
    if not (np.isfinite(a) and np.isfinite(b)) or a <= 0 or b <= 0:
        return math.nan
    return a / b


def layer_factors(rows: pd.DataFrame, depth: int) -> dict:
    """Per-layer geometric-mean factors of one configuration (``rows`` from :func:`seed_mean`, one
    per layer): ``fwd = (std_L/std_1)^(1/(L-1))``, ``bwd = (g_1/g_L)^(1/(L-1))`` with g = grad_h_std,
    ``gain = g_1/g_L``; NaN where a value is missing, zero or diverged."""
    nan = math.nan
    rows = rows.set_index("layer") if "layer" in rows.columns else rows
    if depth < 2 or 1 not in rows.index or depth not in rows.index:
        return {"fwd": nan, "bwd": nan, "gain": nan, "diverged": True, "zero_grad": False}
    diverged = bool(rows["diverged"].any())
    fs = _pos_ratio(float(rows["std"].loc[depth]), float(rows["std"].loc[1]))
    gs = _pos_ratio(float(rows["grad_h_std"].loc[1]), float(rows["grad_h_std"].loc[depth]))
    if diverged:
        fs = gs = nan
    n = depth - 1
    return {
        "fwd": fs ** (1 / n) if np.isfinite(fs) else nan,
        "bwd": gs ** (1 / n) if np.isfinite(gs) else nan,
        "gain": gs,
        "diverged": diverged,
        "zero_grad": bool(rows.loc[1, "all_zero_grad"]),
    }


def all_factors(prop: pd.DataFrame, depth: int, norm: str = "none") -> pd.DataFrame:
    """:func:`layer_factors` for every (init, activation) of ``prop`` at ``norm``."""
    means = seed_mean(prop[prop["norm"] == norm])
    rows = []
    for (init, act), sub in means.groupby(["init", "activation"], sort=False):
        rows.append({"init": init, "activation": act, **layer_factors(sub, depth)})
    return pd.DataFrame(rows, columns=["init", "activation", "fwd", "bwd", "gain", "diverged", "zero_grad"])


def last_layer_std(prop: pd.DataFrame, depth: int) -> pd.DataFrame:
    """Seed-averaged last-layer std per (init, activation, norm) with ``diverged`` (any seed, any layer:
    the flag ``diverged_case``); a diverged configuration's std is NaN (left out, and counted)."""
    t = SeedMeans.of(prop).table()
    out = t.loc[t["layer"] == depth, ["init", "activation", "norm", "std", "diverged_case"]]
    out = out.rename(columns={"diverged_case": "diverged"}).reset_index(drop=True)
    out.loc[out["diverged"], "std"] = math.nan
    return out


def init_spread(
    prop: pd.DataFrame, depth: int, cap: float, *, exclude=("zeros",), by_seed: bool = False
) -> pd.DataFrame:
    """THE spread of the last-layer std across initializations (the one definition: the batchnorm page,
    the conclusions page and the bn_init_prop verdict all read it from here).

    Per (activation, norm) -- and per seed with ``by_seed`` -- over the inits of ``prop`` but ``exclude``:

    * each init enters with its last-layer std, mean over seeds by the rule of
      :mod:`generator.analysis.seeds` (a diverged seed contributes no value);
    * a **diverged run** (seeds.py: flagged or overflowed at any layer) has no finite std, but it is at
      least the divergence threshold ``cap`` (``diverge_rms``: the run was stopped because its activations
      grew past it), so it enters at ``cap``: an init with ``k`` of ``n`` seeds diverged enters at
      ``(k * cap + sum of the other seeds' std) / n`` -- ``cap`` itself when every seed diverged (the case
      in every grid so far), the seeds.py mean when none did. With ``by_seed`` each run is its own "mean";
    * ``ratio`` = max / min over the inits with a positive value (NaN with fewer than two), ``sd_log10`` =
      population std of their log10; ``lo`` / ``hi`` the min / max;
    * ``bound``: some init entered with a diverged run. That init's value is then at most its true size,
      and when every seed diverged it is the largest value (a run that did not diverge stays below
      ``cap``); raising the largest value only widens the spread, so ``ratio`` and ``sd_log10`` are lower
      bounds (pages print "≥ x", never ∞). ``n``: inits with a value; ``n_div``: those with a diverged run.
    """
    keys = ["activation", "norm", *(["seed"] if by_seed else [])]
    t = _last_layer_runs(prop, depth, by_seed)
    t = t[~t["init"].isin(exclude)]
    n_div = t["n_seeds"] - t["n_ok"]
    ok_sum = t["std"].fillna(0.0) * t["n_ok"]
    value = np.where(n_div == 0, t["std"], (cap * n_div + ok_sum) / t["n_seeds"])
    t = t.assign(value=value, has_div=n_div > 0)
    rows = []
    for key, sub in t.groupby(keys, sort=False):
        v = sub["value"].to_numpy(dtype=float)
        ok = v[np.isfinite(v) & (v > 0)]
        two = ok.size >= 2
        rows.append(
            {
                **dict(zip(keys, key)),
                "n": int(ok.size),
                "n_div": int(sub["has_div"].sum()),
                "lo": float(ok.min()) if ok.size else math.nan,
                "hi": float(ok.max()) if ok.size else math.nan,
                "ratio": float(ok.max() / ok.min()) if two else math.nan,
                "sd_log10": float(np.log10(ok).std()) if two else math.nan,
                "bound": bool(sub["has_div"].any()),
            }
        )
    return pd.DataFrame(rows, columns=[*keys, "n", "n_div", "lo", "hi", "ratio", "sd_log10", "bound"])


_SEP = "\x1f"  # joins init and seed into one key, so SeedMeans aggregates each run on its own


def _last_layer_runs(prop: pd.DataFrame, depth: int, by_seed: bool) -> pd.DataFrame:
    """Last-layer rows of :meth:`SeedMeans.table` (std mean, ``n_seeds``, ``n_ok``) per configuration,
    or per run (``seed`` column) with ``by_seed``: the seed folded into the init key, so each run is one
    case and the divergence rule of seeds.py applies unchanged."""
    if not by_seed:
        t = SeedMeans.of(prop).table()
        return t[t["layer"] == depth].reset_index(drop=True)
    f = prop.copy()
    f["init"] = f["init"].astype(str) + _SEP + f["seed"].astype(int).astype(str)
    t = SeedMeans(f).table()
    t = t[t["layer"] == depth].reset_index(drop=True)
    key = t["init"].str.split(_SEP, n=1, expand=True)
    return t.assign(init=key[0], seed=key[1].astype(int))
