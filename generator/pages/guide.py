"""The "what to use" cheat-sheet page (``guide``): display only.

Every answer comes from generator/analysis/recommend.py (the rules are there): which inits the health
labels support per activation without and with batch normalization (``health.csv`` rules,
generator/analysis/health.py, with the mean-field regime of ``theory_fixed.csv`` beside them), and what
the training verdicts of ``claims.csv`` say about the learning rate, init sensitivity, depth,
regularization and preprocessing. The mean-field regimes describe the recursion without normalization, so
only the rows without batch normalization carry one. This module only adds the link to the measurement behind each answer
(:data:`LINKS`, page#anchor; tests/test_structure.py checks each anchor exists on its page).

:func:`context` reads the Dataset; :func:`guide_context` builds the context from those inputs (tests
call it with synthetic labels). Context: ``norms`` (the norms of the grid with their ``rows`` from ``init_choices``), ``training``
(``{"available": bool, "rows": training_answers + "link", "lr": learning_rates}``), ``has_theory``,
``n_healthy`` (per norm), ``n_cells`` (per norm) and ``links``.
"""

from __future__ import annotations

from generator.analysis.health import health_frame
from generator.analysis.recommend import init_choices, learning_rates, training_answers

# the measurement behind each answer: "<page>.md#<anchor>" (anchors written by the pages' templates)
LINKS = {
    "health_none": "index.md#tbl-glance",
    "health_bn": "batchnorm.md#init-dependence",
    "regime": "theory.md#tbl-theory-regime",
    "learning_rate": "training.md#speed",
    "lr_table": "training.md#tbl-training-lr",
    "init_sensitivity": "training.md#init",
    "depth": "training.md#depth",
    "regularization": "training.md#regularization",
    "preprocessing": "training.md#preprocessing",
}
NORMS = ("none", "bn")  # the norms the cheat-sheet answers for (bn_post is a placement study, not a choice)


def context(data) -> dict:
    """The cheat-sheet's context from a ``generator.contract.dataset.Dataset``."""
    from generator.pages.training import NAMES as TRAINING_FILES

    regimes = data.frame("theory_fixed.csv") if data.has("theory_fixed.csv") else None
    claims = lr = None
    if all(data.has(n) for n in TRAINING_FILES):
        from generator.analysis.training import read_claims
        from generator.analysis.training_tables import lr_rows

        claims, lr = read_claims(data.frame("claims.csv")), lr_rows(data.frame("training_lr.csv"))
    return guide_context(health_frame(data), regimes, claims, lr)


def guide_context(health, regimes=None, claims: dict | None = None, lr_rows: list | None = None) -> dict:
    """The context from its inputs: ``health`` (health.csv rows), ``regimes`` (theory_fixed.csv or None),
    ``claims`` (``read_claims`` of claims.csv, None without training data) and the learning-rate rows."""
    norms = [n for n in NORMS if n in set(health["norm"])]
    out = {
        "norms": [
            {"norm": n, "link": LINKS[f"health_{n}"], "rows": init_choices(health, n, regimes if n == "none" else None)}
            for n in norms
        ],
        "n_healthy": {n: int(health[health["norm"] == n]["healthy"].astype(bool).sum()) for n in norms},
        "n_cells": {n: int((health["norm"] == n).sum()) for n in norms},
        "has_theory": regimes is not None,
        "links": LINKS,
        "training": {"available": False},
    }
    if claims is not None:
        out["training"] = {
            "available": True,
            "rows": [{**a, "link": LINKS[a["question"]]} for a in training_answers(claims)],
            "lr": learning_rates(lr_rows or []),
        }
    return out
