"""The training page's tables: seed means with 95 % t intervals, and paired effects with intervals.

Values only (numbers and ids). Every aggregate over seeds is
:func:`generator.analysis.training_stats.seed_interval` (mean of the finite values and its 95 % t
interval): a row holds ``<col>`` (mean), ``<col>_lo`` and ``<col>_hi``. Learning rates are picked by
:func:`generator.analysis.training_rules.best_lr`, except in the batch-size experiment, where each
(norm, batch size) takes the learning rate with the best mean final validation accuracy over seeds
(:func:`batch_choice`). Paired effects use :func:`generator.analysis.training_stats.compare`.
"""

from __future__ import annotations

import math

import pandas as pd

from generator.analysis.training_rules import ACC_MARGIN, CHANCE, REG_ARMS, best_lr
from generator.analysis.training_stats import align, compare, seed_interval


def _ci(row: dict, col: str, x) -> dict:
    s = seed_interval(x)
    row.update({col: s["mean"], f"{col}_lo": s["lo"], f"{col}_hi": s["hi"]})
    return row


def _cols(row: dict, d: pd.DataFrame, cols) -> dict:
    for c in cols:
        if c in d:
            _ci(row, c, d[c])
    return row


def lr_rows(lr: pd.DataFrame) -> list[dict]:
    """Per norm: the best learning rate, steps, accuracy and loss there, and the largest stable rate."""
    stable = lr.groupby(["norm", "learning_rate"])["stable"].all().reset_index()
    pick = best_lr(lr, "norm").set_index("norm")["learning_rate"]
    rows = []
    for norm in ("none", "bn"):
        at = lr[(lr["norm"] == norm) & (lr["learning_rate"] == pick.get(norm, math.nan))]
        ok = stable[(stable["norm"] == norm) & stable["stable"]]["learning_rate"]
        rows.append(
            _cols(
                {
                    "norm": norm,
                    "best_lr": float(pick.get(norm, math.nan)),
                    "max_stable_lr": float(ok.max()) if len(ok) else math.nan,
                },
                at,
                ("steps_to_target", "best_val_acc", "val_loss"),
            )
        )
    return rows


def init_rows(init: pd.DataFrame, target: float) -> list[dict]:
    """Per (activation, norm): how many weight scales reach the target (seed means), their range, divergences."""
    m = init.groupby(["activation", "norm", "init_scale"])["val_acc"].mean().fillna(0.0).reset_index()
    rows = []
    for act, norm in ((a, n) for a in dict.fromkeys(init["activation"]) for n in ("none", "bn")):
        d = m[(m["activation"] == act) & (m["norm"] == norm)]
        good = d[d["val_acc"] >= target]["init_scale"]
        sub = init[(init["activation"] == act) & (init["norm"] == norm)]
        n_div = int(sub.groupby("init_scale")["diverged"].any().sum())
        rows.append(
            {
                "activation": act,
                "norm": norm,
                "n_good": int(len(good)),
                "n_div": n_div,
                "lo": float(good.min()) if len(good) else math.nan,
                "hi": float(good.max()) if len(good) else math.nan,
                "best_acc": float(d["val_acc"].max()) if len(d) else math.nan,
            }
        )
    return rows


def depth_rows(depth: pd.DataFrame) -> list[dict]:
    """Per (init, norm, depth): accuracy and losses with intervals, median gradient ratios, the commonest status."""
    rows = []
    for init_name, norm, dep in (
        (i, n, k) for i in dict.fromkeys(depth["init"]) for n in ("none", "bn") for k in sorted(depth["depth"].unique())
    ):
        d = depth[(depth["init"] == init_name) & (depth["norm"] == norm) & (depth["depth"] == dep)]
        if not len(d):
            continue
        row = {
            "init": init_name,
            "norm": norm,
            "depth": int(dep),
            "grad_ratio": float(d["grad_ratio"].median()),
            "rel_grad_first": float(d["rel_grad_first"].median()),
            "status": str(d["status"].value_counts().index[0]),
        }
        rows.append(_cols(row, d, ("best_val_acc", "train_loss", "val_loss")))
    return rows


def reg_rows(reg: pd.DataFrame) -> list[dict]:
    """Per arm (none, bn, dropout, both): accuracies, validation loss and gap over seeds × splits."""
    rows = []
    for name, (norm, drop) in REG_ARMS.items():
        d = reg[(reg["norm"] == norm) & ((reg["dropout"] > 0) == drop)]
        rows.append(
            _cols(
                {"setting": f"{norm}_{'dropout' if drop else 'plain'}", "arm": name, "n": int(len(d))},
                d,
                ("train_acc", "val_acc", "val_loss", "gap"),
            )
        )
    return rows


def pre_rows(pre: pd.DataFrame) -> list[dict]:
    ppick = best_lr(pre, "preprocess").set_index("preprocess")["learning_rate"]
    rows = []
    for how, lr_best in ppick.items():
        d = pre[(pre["preprocess"] == how) & (pre["learning_rate"] == lr_best)]
        rows.append(
            _cols({"preprocess": how, "best_lr": float(lr_best)}, d, ("best_val_acc", "steps_to_target", "val_loss"))
        )
    return rows


def fig1_numbers(fig1: pd.DataFrame) -> dict:
    """Steps to the target, final accuracy and the drift/width of the tracked unit's input per norm
    (percentiles read with batch statistics, train mode)."""
    f1 = fig1.groupby(["norm", "seed"])["steps_to_target"].first()
    last = fig1[fig1["step"] == fig1["step"].max()]
    out = {}
    for norm in ("none", "bn"):
        out.update({f"steps_{k}_{norm}": v for k, v in seed_interval(f1.get(norm, pd.Series(dtype=float))).items()})
        out.update({f"final_{k}_{norm}": v for k, v in seed_interval(last[last["norm"] == norm]["val_acc"]).items()})
    for by_norm, d in fig1.groupby("norm"):
        per_seed = []
        for _, ds in d[d["step"] > 0].sort_values("step").groupby("seed"):  # from the first evaluation after step 0
            width = (ds["p85"] - ds["p15"]).to_numpy()
            per_seed.append(
                {
                    "drift": float(ds["p50"].max() - ds["p50"].min()),
                    "width_start": float(width[0]),
                    "width_end": float(width[-1]),
                    "p50_start": float(ds["p50"].iloc[0]),
                    "p50_end": float(ds["p50"].iloc[-1]),
                }
            )
        for k in per_seed[0] if per_seed else ():
            out[f"{k}_{by_norm}"] = seed_interval([r[k] for r in per_seed])["mean"]
    return out


def batch_choice(batch: pd.DataFrame) -> pd.DataFrame:
    """Per (norm, batch_size): the learning rate with the best mean final validation accuracy over seeds."""
    m = batch.groupby(["norm", "batch_size", "learning_rate"])["val_acc"].mean().fillna(-1.0).reset_index()
    return m.loc[
        m.groupby(["norm", "batch_size"])["val_acc"].idxmax(), ["norm", "batch_size", "learning_rate"]
    ].reset_index(drop=True)


def batch_rows(batch: pd.DataFrame) -> list[dict]:
    """Per batch size, each norm at its chosen learning rate: accuracies with intervals, and the paired
    effect of BN (test mode) over no BN with its interval (same seeds)."""
    pick = batch.merge(batch_choice(batch), on=["norm", "batch_size", "learning_rate"])
    rows = []
    for b in sorted(batch["batch_size"].unique()):
        row: dict = {"batch_size": int(b)}
        arms = {}
        for norm in ("none", "bn"):
            d = pick[(pick["norm"] == norm) & (pick["batch_size"] == b)]
            row[f"lr_{norm}"] = float(d["learning_rate"].iloc[0]) if len(d) else math.nan
            for col in ("val_acc", "val_loss", "val_acc_train_mode", "train_acc"):
                if col in d and not (col == "val_acc_train_mode" and norm == "none"):
                    _ci(row, f"{col}_{norm}", d[col])
            arms[norm] = d.set_index("seed")["val_acc"].astype(float)
        eff = compare(*align(arms["bn"], arms["none"]), ACC_MARGIN)
        row.update(
            {
                "bn_effect": eff["effect"],
                "bn_effect_lo": eff["ci_low"],
                "bn_effect_hi": eff["ci_high"],
                "bn_effect_verdict": eff["verdict"],
            }
        )
        mode = pick[(pick["norm"] == "bn") & (pick["batch_size"] == b)]
        gap = compare(mode["val_acc_train_mode"].to_numpy(float), mode["val_acc"].to_numpy(float), ACC_MARGIN)
        row.update({"mode_gap": gap["effect"], "mode_gap_lo": gap["ci_low"], "mode_gap_hi": gap["ci_high"]})
        rows.append(row)
    return rows


def batch_summary(rows: list[dict]) -> dict:
    """How many batch sizes BN beats / loses to the no-BN control, and train vs test mode (intervals)."""

    def n(key, pos):
        return int(sum(1 for r in rows if (r[f"{key}_lo"] > 0 if pos else r[f"{key}_hi"] < 0)))

    smallest = rows[0] if rows else {}
    return {
        "n": len(rows),
        "bn_better": n("bn_effect", True),
        "bn_worse": n("bn_effect", False),
        "train_higher": n("mode_gap", True),
        "train_lower": n("mode_gap", False),
        "smallest": int(smallest.get("batch_size", 0)),
        "smallest_failed": bool(rows) and float(smallest.get("val_acc_bn", math.nan)) < 2 * CHANCE,
    }


def page_numbers(frames: dict, target: float) -> dict:
    """Everything numeric the training page shows besides the claims: row lists keyed by table."""
    batch = batch_rows(frames["training_batch.csv"])
    return {
        "lr": lr_rows(frames["training_lr.csv"]),
        "init": init_rows(frames["training_init.csv"], target),
        "depth": depth_rows(frames["training_depth.csv"]),
        "batch": batch,
        "batch_summary": batch_summary(batch),
        "reg": reg_rows(frames["training_reg.csv"]),
        "pre": pre_rows(frames["training_preprocess.csv"]),
        "fig1": fig1_numbers(frames["training_fig1.csv"]),
    }
