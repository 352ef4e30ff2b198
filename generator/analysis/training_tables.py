"""The training page's numbers from the training CSVs: one row list per table, plus a few summaries.

Values only (no labels, no formatting): :func:`page_numbers` returns plain rows (dicts of numbers and
ids) that generator/pages/training.py turns into display tables. Means are over seeds
(``analysis.training.mean_se``); learning rates are picked by ``analysis.training.best_lr``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from generator.analysis.training import best_lr, mean_se
from generator.engine.mlp import N_CLASSES


def lr_rows(lr: pd.DataFrame) -> list[dict]:
    """Per norm: the best learning rate, mean steps and best accuracy there, and the largest stable rate."""
    stable = lr.groupby(["norm", "learning_rate"])["stable"].all().reset_index()
    pick = best_lr(lr, "norm").set_index("norm")["learning_rate"]
    rows = []
    for norm in ("none", "bn"):
        at = lr[(lr["norm"] == norm) & (lr["learning_rate"] == pick[norm])]
        ok = stable[(stable["norm"] == norm) & stable["stable"]]["learning_rate"]
        rows.append({"norm": norm, "best_lr": float(pick[norm]), "steps": mean_se(at["steps_to_target"])[0],
                     "best_val_acc": mean_se(at["best_val_acc"])[0], "max_stable_lr": float(ok.max()) if len(ok) else math.nan})
    return rows


def init_rows(init: pd.DataFrame, target: float) -> list[dict]:
    """Per (activation, norm): how many weight scales reach the target, their range, divergences."""
    m = init.groupby(["activation", "norm", "init_scale"])["val_acc"].mean().fillna(0.0).reset_index()
    rows = []
    for act, norm in ((a, n) for a in dict.fromkeys(init["activation"]) for n in ("none", "bn")):
        d = m[(m["activation"] == act) & (m["norm"] == norm)]
        good = d[d["val_acc"] >= target]["init_scale"]
        sub = init[(init["activation"] == act) & (init["norm"] == norm)]
        n_div = int(sub.groupby("init_scale")["diverged"].any().sum())
        rows.append({"activation": act, "norm": norm, "n_good": int(len(good)), "n_div": n_div,
                     "lo": float(good.min()) if len(good) else math.nan, "hi": float(good.max()) if len(good) else math.nan,
                     "best_acc": float(d["val_acc"].max())})
    return rows


def depth_rows(depth: pd.DataFrame) -> list[dict]:
    """Per (init, norm, depth): mean accuracy and loss, median gradient ratios, the most common status."""
    rows = []
    for init_name, norm, dep in ((i, n, k) for i in dict.fromkeys(depth["init"]) for n in ("none", "bn")
                                 for k in sorted(depth["depth"].unique())):
        d = depth[(depth["init"] == init_name) & (depth["norm"] == norm) & (depth["depth"] == dep)]
        if not len(d):
            continue
        rows.append({"init": init_name, "norm": norm, "depth": int(dep), "best_val_acc": mean_se(d["best_val_acc"])[0],
                     "train_loss": mean_se(d["train_loss"])[0], "grad_ratio": float(d["grad_ratio"].median()),
                     "rel_grad_first": float(d["rel_grad_first"].median()),
                     "status": str(d["status"].value_counts().index[0])})
    return rows


def reg_rows(reg: pd.DataFrame) -> list[dict]:
    rows = []
    for norm, drop in (("none", False), ("none", True), ("bn", False), ("bn", True)):
        d = reg[(reg["norm"] == norm) & ((reg["dropout"] > 0) == drop)]
        rows.append({"setting": f"{norm}_{'dropout' if drop else 'plain'}", "train_acc": mean_se(d["train_acc"])[0],
                     "val_acc": mean_se(d["val_acc"])[0], "gap": mean_se(d["gap"])[0], "gap_se": mean_se(d["gap"])[1]})
    return rows


def pre_rows(pre: pd.DataFrame) -> list[dict]:
    ppick = best_lr(pre, "preprocess").set_index("preprocess")["learning_rate"]
    rows = []
    for how, lr_best in ppick.items():
        d = pre[(pre["preprocess"] == how) & (pre["learning_rate"] == lr_best)]
        rows.append({"preprocess": how, "best_lr": float(lr_best), "best_val_acc": mean_se(d["best_val_acc"])[0],
                     "steps": mean_se(d["steps_to_target"])[0]})
    return rows


def fig1_numbers(fig1: pd.DataFrame) -> dict:
    """Steps to the target, final accuracy and the drift/width of the tracked unit's input per norm."""
    f1 = fig1.groupby(["norm", "seed"])["steps_to_target"].first().groupby("norm").mean()
    f1_final = fig1[fig1["step"] == fig1["step"].max()].groupby("norm")["val_acc"].mean()
    f1_dist = {}
    for norm, d in fig1.groupby("norm"):
        per_seed = []
        # from the first evaluation after step 0: at step 0 BN's running statistics are still (0, 1)
        for _, ds in d[d["step"] > 0].sort_values("step").groupby("seed"):
            width = (ds["p85"] - ds["p15"]).to_numpy()
            per_seed.append({"drift": float(ds["p50"].max() - ds["p50"].min()), "width_start": float(width[0]),
                             "width_end": float(width[-1]), "p50_start": float(ds["p50"].iloc[0]), "p50_end": float(ds["p50"].iloc[-1])})
        f1_dist[norm] = {k: float(np.mean([r[k] for r in per_seed])) for k in per_seed[0]}
    return {"steps_none": float(f1.get("none", math.nan)), "steps_bn": float(f1.get("bn", math.nan)),
            "final_none": float(f1_final.get("none", math.nan)), "final_bn": float(f1_final.get("bn", math.nan)),
            **{f"{k}_{norm}": v for norm, dd in f1_dist.items() for k, v in dd.items()}}


def batch_numbers(batch_runs: pd.DataFrame, n_val: int) -> tuple[pd.DataFrame, dict]:
    """Seed means per batch size, and how many batch sizes train mode is (counted) lower/higher in."""
    batch = batch_runs.groupby("batch_size")[["train_acc", "val_acc", "val_acc_train_mode", "gap"]].mean().reset_index()
    floor = 1.0 / n_val
    worst = batch.loc[batch["gap"].abs().idxmax()] if len(batch) else None
    summary = {"n": int(len(batch)), "n_train_lower": int((batch["gap"] < -floor).sum()),
               "n_train_higher": int((batch["gap"] > floor).sum()),
               "worst_batch": int(worst["batch_size"]) if worst is not None else 0,
               "worst_gap": float(worst["gap"]) if worst is not None else math.nan,
               "smallest_failed": bool(len(batch) and batch["val_acc"].iloc[0] < 2.0 / N_CLASSES)}
    return batch, summary


def page_numbers(frames: dict, target: float, n_val: int) -> dict:
    """Everything numeric the training page shows besides the claims: row lists keyed by table."""
    batch, batch_summary = batch_numbers(frames["training_batch.csv"], n_val)
    return {
        "lr": lr_rows(frames["training_lr.csv"]),
        "init": init_rows(frames["training_init.csv"], target),
        "depth": depth_rows(frames["training_depth.csv"]),
        "batch": batch,
        "reg": reg_rows(frames["training_reg.csv"]),
        "pre": pre_rows(frames["training_preprocess.csv"]),
        "fig1": fig1_numbers(frames["training_fig1.csv"]),
        "batch_summary": batch_summary,
    }
