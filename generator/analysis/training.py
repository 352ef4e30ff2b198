"""Aggregates of the training runs that both the data files and the verdicts use (one definition)."""

from __future__ import annotations

import pandas as pd


def best_lr(lr: pd.DataFrame, by: str) -> pd.DataFrame:
    """Per group ``by``: the learning rate with the fewest mean steps to the target among those where
    every seed reaches it; if none does, the one with the highest mean best validation accuracy."""
    out = []
    for g, d in lr.groupby(by, sort=False):
        agg = d.groupby("learning_rate").agg(steps=("steps_to_target", "mean"), reached=("steps_to_target", lambda s: s.notna().all()),
                                             acc=("best_val_acc", "mean"))
        ok = agg[agg["reached"]]
        pick = ok["steps"].idxmin() if len(ok) else agg["acc"].fillna(-1).idxmax()
        out.append({by: g, "learning_rate": float(pick)})
    return pd.DataFrame(out)
