"""The rules of the training verdicts: the seed note's five batch-norm claims judged from the training CSVs.

Values only (numbers, verdict ids, part names; no sentences). Each ``*_claim`` function returns
``{"claim_id", "verdict", "effect", "ci_low", "ci_high", "n_runs", "verdict_a", "verdict_b", "parts",
"values"}``; generator/analysis/training.py turns them into ``claims.csv``. The pages print the rules
below from the constants of this module.

Rules (vocabulary and interval rules: generator/analysis/verdicts.py; comparisons:
generator/analysis/training_stats.py)
------------------------------------------------------------------------------------------------
Every comparison is **paired**: the two arms ran with the same seeds (and, for over-fitting, the
same data splits); the effect is the mean per-pair difference with its 95 % Student-t interval, signed
so that the claim predicts a positive effect, and has a **margin** m (the smallest effect that would
count as the claimed one). A directional comparison holds if the interval's low end is above 0, does
not hold if its high end is below m (evidence of absence), and is inconclusive otherwise. An
equivalence comparison ("like") holds only if the interval lies inside ±m. Missing values (NaN, an
empty arm) give fewer pairs; under 2 pairs the comparison is inconclusive. A claim of several
comparisons (parts): all hold → holds; some hold → partly; all do not hold → does_not_hold; else
inconclusive. Every claim is judged on all seeds and on the two disjoint halves of the seeds (even /
odd positions); if the halves disagree the verdict is inconclusive. The choices that precede the
comparisons (each arm's learning rate, which settings fail without BN) are made once on all seeds.

speed        faster: steps to the target accuracy saved by BN, each arm at its best learning rate
             (:func:`best_lr`); m = one evaluation interval (``eval_every`` steps). A run that never
             reaches the target counts as reaching it one evaluation after the end (a bound).
             higher_lr: per seed, the largest learning rate that is stable (no divergence, final
             training loss < ln 10), BN minus no BN in decades; m = one step of the grid.
init         per activation: per seed, how many weight scales (W = scale·N(0,1)) reach the target
             accuracy, BN minus no BN, in decades of the scale grid; m = :data:`DECADE`. A diverged run
             does not reach it; a NaN accuracy of a run that did not diverge is missing.
overfitting  (small training set, several splits) gap: generalization gap (train − validation
             accuracy) without BN minus with BN; m = :data:`ACC_MARGIN`. val_loss: relative
             reduction of the validation loss, 1 − loss_BN / loss_none; m = :data:`LOSS_MARGIN`.
             like_dropout (equivalence): validation accuracy of BN minus that of dropout within
             ±:data:`ACC_MARGIN`.
vanishing    a setting *fails* if most of its no-BN runs stall (final training loss ≥ STALL·ln 10):
             each (init, depth) of the depth experiment and the sigmoid network of the Fig. 1
             analogue. rescue (per failing setting): best validation accuracy with BN minus without;
             m = :data:`RESCUE_MARGIN`. balanced (per BN depth setting, equivalence): log10 of the
             first-to-last hidden layer gradient ratio on the first minibatch within ±log10(GRAD_BAND).
             No failing setting: an inconclusive part (no vanishing-gradient failure to solve).
mean         (no BN) per pair (raw → center), (scale → standardize), each at its best learning rate:
             acc: best validation accuracy gain, m = :data:`ACC_MARGIN`; steps: steps saved (as for
             speed). raw → center differ only in the mean subtraction; scale → standardize also
             divide by different scalars (the std of the raw vs the centred training pixels, ratio
             :func:`divisor_ratio`, ≈1.39 on digits), so that pair measures centring together with a
             larger input scale.

A diverged run without a measured accuracy counts as chance accuracy (1/N_CLASSES).
claims.csv's ``effect``/``ci_low``/``ci_high``/``n_runs`` are the claim's *primary* comparison
(``values["primary"]``): speed → faster; init and vanishing → the part with the lowest interval end
(the weakest); overfitting → val_loss; mean → acc_center. ``n_runs`` counts its pairs.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from generator.analysis.training_stats import align, compare, equivalent, flat, seed_interval, within
from generator.analysis.verdicts import VERDICTS, by_halves, combine  # noqa: F401  (VERDICTS: re-exported)
from generator.engine.mlp import N_CLASSES

CLAIM_IDS = ("speed", "init", "overfitting", "vanishing", "mean")
ACC_MARGIN = 0.01  # accuracies: one percentage point
LOSS_MARGIN = 0.05  # validation loss: a 5 % relative reduction
RESCUE_MARGIN = 0.10  # a rescue from vanishing gradients: ten percentage points of validation accuracy
DECADE = 1.0  # init: one decade of weight scale
GRAD_BAND = 10.0  # balanced gradients: first/last ratio within [1/GRAD_BAND, GRAD_BAND]
STALL = 0.9  # stalled: final training loss >= STALL * ln 10
CHANCE = 1.0 / N_CLASSES
PAIRS = (("raw", "center"), ("scale", "standardize"))


def best_lr(lr: pd.DataFrame, by: str) -> pd.DataFrame:
    """Per group ``by``: the learning rate with the fewest mean steps to the target among those where
    every seed reaches it; if none does, the one with the highest mean best validation accuracy."""
    out = []
    for g, d in lr.groupby(by, sort=False):
        agg = d.groupby("learning_rate").agg(
            steps=("steps_to_target", "mean"),
            reached=("steps_to_target", lambda s: s.notna().all()),
            acc=("best_val_acc", "mean"),
        )
        ok = agg[agg["reached"]]
        pick = ok["steps"].idxmin() if len(ok) else agg["acc"].fillna(-1).idxmax()
        out.append({by: g, "learning_rate": float(pick)})  # type: ignore[arg-type]  # a label: stubs say Hashable
    return pd.DataFrame(out, columns=[by, "learning_rate"])


# --- helpers ----------------------------------------------------------------------------------------


def _seeds(df: pd.DataFrame) -> list:
    return sorted(df["seed"].unique().tolist()) if "seed" in df else []


def _by(d: pd.DataFrame, col: str, keys=("seed",), accuracy: bool = True) -> pd.Series:
    """Column ``col`` indexed by the pair keys; an accuracy of a diverged run without a value counts as
    chance accuracy (it learned nothing that was measured)."""
    x = d[col].astype(float)
    if accuracy and "diverged" in d:
        x = x.where(~(x.isna() & d["diverged"].astype(bool)), CHANCE)
    idx = pd.MultiIndex.from_frame(d[list(keys)]) if len(keys) > 1 else pd.Index(d[keys[0]].to_numpy())
    return pd.Series(x.to_numpy(), index=idx)


def _steps_goodness(s: pd.Series, horizon: int, eval_every: int) -> tuple[pd.Series, pd.Series]:
    """−steps to the target; never reached -> −(horizon + eval_every) with bound −1 (goodness at most that)."""
    miss = s.isna()
    return (-s.fillna(horizon + eval_every)).astype(float), pd.Series(np.where(miss, -1.0, 0.0), index=s.index)


def _steps_part(claimed: pd.Series, other: pd.Series, horizon: int, eval_every: int) -> dict:
    (gc, bc), (go, bo) = _steps_goodness(claimed, horizon, eval_every), _steps_goodness(other, horizon, eval_every)
    c, o = align(gc, go)
    cb, ob = align(bc, bo)
    return compare(c, o, float(eval_every), cb, ob)


def _judge(claim_id: str, parts_of, seeds: list, primary, values: dict) -> dict:
    """A claim from ``parts_of(seed subset) -> {part: comparison}``: parts on all seeds, halves rule."""
    parts = parts_of(seeds)
    halves = by_halves(lambda s: combine(p["verdict"] for p in parts_of(s).values()), seeds)
    name = primary(parts) if callable(primary) else primary
    p = parts.get(name, {"effect": math.nan, "ci_low": math.nan, "ci_high": math.nan, "n": 0})
    v = {
        "primary": name or "none",
        "parts": list(parts),
        "verdict_all": halves["verdict_all"],
        "n_seeds": len(seeds),
        **values,
    }
    for k, part in parts.items():
        v.update(flat(k, part))
    return dict(
        claim_id=claim_id,
        verdict=halves["verdict"],
        effect=p["effect"],
        ci_low=p["ci_low"],
        ci_high=p["ci_high"],
        n_runs=int(p["n"]),
        verdict_a=halves["verdict_a"],
        verdict_b=halves["verdict_b"],
        parts=list(parts),
        values=v,
    )


def _weakest(parts: dict, prefix: str):
    """The part (name starting with ``prefix``) with the lowest interval end; NaN ends count lowest."""
    names = [k for k in parts if k.startswith(prefix)]
    return min(names, key=lambda k: (not math.isnan(parts[k]["ci_low"]), parts[k]["ci_low"]), default=None)


# --- the five rules -------------------------------------------------------------------------------


def speed_claim(lr: pd.DataFrame, eval_every: int, horizon: int) -> dict:
    pick = best_lr(lr, "norm").set_index("norm")["learning_rate"].to_dict()
    grid = np.sort(lr["learning_rate"].unique())
    step = float(np.mean(np.diff(np.log10(grid)))) if grid.size > 1 else 1.0

    def max_stable(d: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        """Per seed: log10 of the largest stable rate; none stable -> one step below the grid (bound −1),
        the grid's top -> bound +1 (larger rates were not tried)."""
        top = d.assign(x=np.where(d["stable"].astype(bool), d["learning_rate"], np.nan)).groupby("seed")["x"].max()
        val = np.log10(top.fillna(grid[0] / 10**step))
        bound = np.where(top.isna(), -1.0, np.where(top >= grid[-1], 1.0, 0.0))
        return val.astype(float), pd.Series(bound, index=top.index)

    def parts(seeds):
        d = lr[lr["seed"].isin(seeds)]
        at = {
            n: d[(d["norm"] == n) & (d["learning_rate"] == pick.get(n, math.nan))].set_index("seed")["steps_to_target"]
            for n in ("none", "bn")
        }
        (vb, bb), (vn, bn_) = max_stable(d[d["norm"] == "bn"]), max_stable(d[d["norm"] == "none"])
        c, o = align(vb, vn)
        cb, ob = align(bb, bn_)
        return {
            "faster": _steps_part(at["bn"], at["none"], horizon, eval_every),
            "higher_lr": compare(c, o, step, cb, ob),
        }

    values = {
        "best_lr_none": pick.get("none", math.nan),
        "best_lr_bn": pick.get("bn", math.nan),
        "lr_step_decades": step,
    }
    for n in ("none", "bn"):
        at = lr[(lr["norm"] == n) & (lr["learning_rate"] == pick.get(n, math.nan))]
        values[f"steps_{n}"] = seed_interval(at["steps_to_target"])["mean"]
        ok = lr[(lr["norm"] == n)].groupby("learning_rate")["stable"].all()
        values[f"max_stable_lr_{n}"] = float(ok[ok].index.max()) if ok.any() else math.nan
    return _judge("speed", parts, _seeds(lr), "faster", values)


def init_claim(init: pd.DataFrame, target: float) -> dict:
    scales = np.sort(init["init_scale"].unique())
    per_decade = 1.0 / float(np.mean(np.diff(np.log10(scales)))) if scales.size > 1 else 1.0
    acts = [str(a) for a in dict.fromkeys(init["activation"])]
    work = (init["val_acc"] >= target).astype(float).where(init["val_acc"].notna() | init["diverged"].astype(bool))
    g = init.assign(work=work).groupby(["activation", "norm", "seed"])["work"]
    count = g.sum().where(g.count() == g.size())  # a missing accuracy makes the seed's count missing

    def per_seed(act, norm, seeds):
        # count's index is a MultiIndex (activation, norm, seed); pandas-stubs types it as a flat Index
        cases = count.index.droplevel("seed")  # type: ignore[arg-type]
        c = count.xs((act, norm), level=("activation", "norm")) if (act, norm) in cases else pd.Series(dtype=float)
        return c[c.index.isin(seeds)] / per_decade

    def parts(seeds):
        return {
            f"wider_{a}": compare(*align(per_seed(a, "bn", seeds), per_seed(a, "none", seeds)), DECADE) for a in acts
        }

    values = {"grid_points": int(scales.size), "points_per_decade": per_decade, "activations": acts}
    for a in acts:
        for n in ("none", "bn"):
            values[f"working_scales_{a}_{n}"] = seed_interval(per_seed(a, n, _seeds(init)) * per_decade)["mean"]
    return _judge("init", parts, _seeds(init), lambda p: _weakest(p, "wider_"), values)


REG_ARMS = {"none": ("none", False), "bn": ("bn", False), "dropout": ("none", True), "both": ("bn", True)}


def overfitting_claim(reg: pd.DataFrame) -> dict:
    keys = ("split", "seed") if "split" in reg else ("seed",)

    def arm(d, name, col):
        norm, drop = REG_ARMS[name]
        sub = d[(d["norm"] == norm) & ((d["dropout"] > 0) == drop)]
        return _by(sub, col, keys, accuracy=col.endswith("_acc"))

    def parts(seeds):
        d = reg[reg["seed"].isin(seeds)]
        gp, gb = align(arm(d, "none", "gap"), arm(d, "bn", "gap"))
        lp, lb = align(arm(d, "none", "val_loss"), arm(d, "bn", "val_loss"))
        ab, ad = align(arm(d, "bn", "val_acc"), arm(d, "dropout", "val_acc"))
        return {
            "gap": compare(-gb, -gp, ACC_MARGIN),
            "val_loss": compare(1.0 - lb / lp, np.zeros(lp.shape), LOSS_MARGIN),
            "like_dropout": equivalent(ab, ad, ACC_MARGIN),
        }

    values = {
        "dropout_p": float(reg.loc[reg["dropout"] > 0, "dropout"].max()) if (reg["dropout"] > 0).any() else 0.0,
        "n_splits": int(reg["split"].nunique()) if "split" in reg else 1,
    }
    for name in REG_ARMS:
        for col in ("gap", "val_acc", "val_loss", "train_acc"):
            values[f"{col}_{name}"] = seed_interval(arm(reg, name, col))["mean"]
    gp, gd = align(arm(reg, "none", "gap"), arm(reg, "dropout", "gap"))
    values.update(flat("dropout_gap", compare(-gd, -gp, ACC_MARGIN)))
    return _judge("overfitting", parts, _seeds(reg), "val_loss", values)


def _stalls(train_loss: pd.Series) -> bool:
    """Most runs still at chance level (a diverged run, NaN, does not count as stalled)."""
    return bool((train_loss >= STALL * math.log(10)).sum() * 2 > len(train_loss)) if len(train_loss) else False


def _settings(depth: pd.DataFrame, fig1: pd.DataFrame) -> dict[str, tuple[pd.DataFrame, pd.DataFrame, str]]:
    """Every setting of the vanishing claim: name -> (no-BN rows, BN rows, accuracy column)."""
    out = {
        f"{i}_{k}": (d[d["norm"] == "none"], d[d["norm"] == "bn"], "best_val_acc")
        for (i, k), d in depth.groupby(["init", "depth"], sort=False)
    }
    if len(fig1) and {"train_loss", "val_acc"} <= set(fig1.columns):
        last = fig1.sort_values("step").groupby(["norm", "seed"]).tail(1)  # the last evaluation of each run
        out["sigmoid"] = (last[last["norm"] == "none"], last[last["norm"] == "bn"], "val_acc")
    return out


def vanishing_claim(depth: pd.DataFrame, fig1: pd.DataFrame) -> dict:
    settings = _settings(depth, fig1)
    failing = [k for k, (none, _, _) in settings.items() if _stalls(none["train_loss"])]
    bn_depth = depth[depth["norm"] == "bn"]
    band = math.log10(GRAD_BAND)

    def parts(seeds):
        out = {}
        for k in failing:
            none, bn, col = settings[k]
            out[f"rescue_{k}"] = compare(
                *align(_by(bn[bn["seed"].isin(seeds)], col), _by(none[none["seed"].isin(seeds)], col)), RESCUE_MARGIN
            )
        if not failing:
            out["failure"] = compare([], [], RESCUE_MARGIN)  # nothing to rescue: inconclusive by construction
        for (i, dep), d in bn_depth[bn_depth["seed"].isin(seeds)].groupby(["init", "depth"], sort=False):
            out[f"balanced_{i}_{dep}"] = within(np.log10(d["grad_ratio"].astype(float)), band)
        return out

    ratio = bn_depth.groupby(["init", "depth"])["grad_ratio"].median()
    c = _judge("vanishing", parts, _seeds(depth), lambda p: _weakest(p, "rescue_"), {})
    rescued = [k for k in failing if c["values"][f"rescue_{k}_verdict"] == "holds"]
    balanced = [p for p in c["parts"] if p.startswith("balanced_")]
    c["values"].update(
        failing=len(failing),
        rescued=len(rescued),
        failing_settings=failing,
        rescued_settings=rescued,
        max_grad_ratio_bn=float(ratio.max()) if len(ratio) else math.nan,
        min_grad_ratio_bn=float(ratio.min()) if len(ratio) else math.nan,
        balanced=bool(balanced) and all(c["values"][f"{p}_verdict"] == "holds" for p in balanced),
    )
    return c


def divisor_ratio(val_fraction: float, split_seed: int) -> float:
    """``scale``'s divisor over ``standardize``'s: std of the raw over the centred training pixels."""
    from generator.engine.digits import load

    x = load(val_fraction, split_seed, "raw", None)[0]
    return float(x.std() / (x - x.mean(axis=0)).std())


def mean_claim(pre: pd.DataFrame, eval_every: int, horizon: int, ratio: float = math.nan) -> dict:
    pick = best_lr(pre, "preprocess").set_index("preprocess")["learning_rate"].to_dict()
    at = {h: pre[(pre["preprocess"] == h) & (pre["learning_rate"] == lr)] for h, lr in pick.items()}
    pairs = [(a, b) for a, b in PAIRS if a in at and b in at]

    def parts(seeds):
        out = {}
        for a, b in pairs:
            da, db = (at[h][at[h]["seed"].isin(seeds)] for h in (a, b))
            out[f"acc_{b}"] = compare(*align(_by(db, "best_val_acc"), _by(da, "best_val_acc")), ACC_MARGIN)
            out[f"steps_{b}"] = _steps_part(
                db.set_index("seed")["steps_to_target"], da.set_index("seed")["steps_to_target"], horizon, eval_every
            )
        return out

    values = {"pairs": [[a, b] for a, b in pairs], "divisor_ratio": ratio}
    for h, d in at.items():
        values.update(
            {
                f"best_lr_{h}": float(pick[h]),
                f"best_val_acc_{h}": seed_interval(d["best_val_acc"])["mean"],
                f"steps_{h}": seed_interval(d["steps_to_target"])["mean"],
            }
        )
    return _judge("mean", parts, _seeds(pre), "acc_center", values)
