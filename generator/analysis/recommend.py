"""What to use, decided from the measurements: the rules behind the cheat-sheet page (``guide``).

Contract
--------
Every answer is a function of the contract data; nothing here is typed from a run.

:func:`init_choices` ``(health, norm, regimes=None)`` -> one row per activation of ``health.csv``
(generator/analysis/health.py; first-appearance order) for one norm::

    {"activation", "norm", "status", "inits", "unstable", "forward_only", "n_inits", "regimes"}

``inits`` are the inits whose (init, activation, norm) is *healthy* (forward ``ok`` and backward ``ok``)
with a ``stable`` or ``untested`` label (:data:`health.STABILITY`); ``unstable`` the healthy ones whose two
seed halves disagree; ``forward_only`` the inits that keep the forward signal (forward ``ok``) but not the
gradient. ``status`` (:data:`STATUS`), the first rule that fires:

1. ``recommended``  -- at least one init in ``inits``;
2. ``inconclusive`` -- healthy inits exist, but every one is ``unstable`` (the seed halves disagree);
3. ``forward_only`` -- no healthy init; some keep the forward signal only;
4. ``none``         -- no init keeps even the forward signal.

``regimes`` maps each init of ``inits`` to its mean-field regime from ``theory_fixed.csv``
(generator/engine/theory.py ``REGIMES``) when that pair was computed, so the page can show whether the
theory agrees (``critical`` / ``marginal`` at the edge of chaos).

:func:`training_answers` ``(claims)`` -> one row per training question (:data:`QUESTIONS`) from the
claims of ``claims.csv`` (generator/analysis/training.py ``read_claims``)::

    {"question", "claim", "verdict", "advice", "stable"}

``advice`` (:data:`ADVICE`) follows the verdict alone: ``holds`` -> ``use``, ``partly`` -> ``consider``,
``inconclusive`` -> ``unproven`` (the data cannot tell; the page says what was measured),
``does_not_hold`` -> ``no_gain``. ``stable``: both seed halves gave the all-seed verdict.

:func:`learning_rates` ``(lr_rows)`` -> ``{norm: {"best_lr", "max_stable_lr"}}`` from the training
page's learning-rate rows (generator/analysis/training_tables.py ``lr_rows``).

Layer-folder rule: pandas only (no sentences, no matplotlib).
"""

from __future__ import annotations

import math

import pandas as pd

STATUS = ("recommended", "inconclusive", "forward_only", "none")
# question -> the training claim that answers it (generator/analysis/training_rules.py CLAIM_IDS)
QUESTIONS = {
    "learning_rate": "speed",
    "init_sensitivity": "init",
    "depth": "vanishing",
    "regularization": "overfitting",
    "preprocessing": "mean",
}
ADVICE = {"holds": "use", "partly": "consider", "inconclusive": "unproven", "does_not_hold": "no_gain"}


def _status(healthy_stable: list, healthy_unstable: list, forward_only: list) -> str:
    if healthy_stable:
        return "recommended"
    if healthy_unstable:
        return "inconclusive"
    if forward_only:
        return "forward_only"
    return "none"


def _regimes(regimes: pd.DataFrame | None) -> dict[tuple[str, str], str]:
    if regimes is None or regimes.empty:
        return {}
    return {(str(r.init), str(r.activation)): str(r.regime) for r in regimes.itertuples()}


def init_choices(health: pd.DataFrame, norm: str = "none", regimes: pd.DataFrame | None = None) -> list[dict]:
    """Per activation: which inits the health labels support for ``norm`` (module doc for the rules)."""
    h = health[health["norm"] == norm]
    theory = _regimes(regimes)
    rows = []
    for act in h["activation"].drop_duplicates():
        cells = h[h["activation"] == act]
        healthy = cells[cells["healthy"].astype(bool)]
        stable = [str(i) for i, s in zip(healthy["init"], healthy["stability"]) if s != "unstable"]
        unstable = [str(i) for i, s in zip(healthy["init"], healthy["stability"]) if s == "unstable"]
        fwd = [
            str(i)
            for i, f, ok in zip(cells["init"], cells["forward"], cells["healthy"].astype(bool))
            if f == "ok" and not ok
        ]
        rows.append(
            {
                "activation": str(act),
                "norm": norm,
                "status": _status(stable, unstable, fwd),
                "inits": stable,
                "unstable": unstable,
                "forward_only": fwd,
                "n_inits": int(len(cells)),
                "regimes": {i: theory[(i, act)] for i in stable if (i, act) in theory},
            }
        )
    return rows


def training_answers(claims: dict) -> list[dict]:
    """One row per question of :data:`QUESTIONS` whose claim is in ``claims`` (module doc)."""
    rows = []
    for question, cid in QUESTIONS.items():
        c = claims.get(cid)
        if c is None:
            continue
        verdict = c["verdict"]
        rows.append(
            {
                "question": question,
                "claim": cid,
                "verdict": verdict,
                "advice": ADVICE[verdict],
                "stable": c.get("verdict_a") == verdict and c.get("verdict_b") == verdict,
            }
        )
    return rows


def learning_rates(lr_rows: list[dict]) -> dict[str, dict]:
    """``{norm: {"best_lr", "max_stable_lr"}}``; a NaN (no run reached the target / none stable) stays NaN."""
    return {
        str(r["norm"]): {
            "best_lr": float(r.get("best_lr", math.nan)),
            "max_stable_lr": float(r.get("max_stable_lr", math.nan)),
        }
        for r in lr_rows
    }
