"""``claims.csv``: the training verdicts, one row per claim (rules: generator/analysis/training_rules.py).

Contract
--------
:func:`all_claims` applies the rules to the training frames; :func:`claims_frame` makes the rows with
the columns :data:`COLUMNS`:

``claim_id, verdict``          the claim and its verdict (all seeds, then the seed-halves rule);
``effect, ci_low, ci_high``    the primary comparison's mean paired effect and 95 % t interval;
``n_runs``                     its pairs (runs per arm);
``setting``                    language-neutral ``key=value; ...``: data set, width, depth, batch size,
                               learning rate(s), steps, seeds, splits (:func:`parse_setting` reads it);
``verdict_a, verdict_b``       the verdicts on the two disjoint seed halves;
``evidence``                   every scalar value as ``key=value`` (language-neutral);
``values``                     every value as JSON (floats exact, NaN as null).

:func:`read_claims` reads the file back as ``{claim_id: {"verdict", "effect", "ci_low", "ci_high",
"n_runs", "setting", "verdict_a", "verdict_b", **values}}`` (the conclusions page codes against it).
This module re-exports the rules' names (``CLAIM_IDS``, ``best_lr``, the margins, ``*_claim``).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

from generator.analysis.training_rules import (  # noqa: F401  (re-exported)
    ACC_MARGIN,
    CHANCE,
    CLAIM_IDS,
    DECADE,
    GRAD_BAND,
    LOSS_MARGIN,
    PAIRS,
    RESCUE_MARGIN,
    STALL,
    VERDICTS,
    best_lr,
    divisor_ratio,
    init_claim,
    mean_claim,
    overfitting_claim,
    speed_claim,
    vanishing_claim,
)

COLUMNS = [
    "claim_id",
    "verdict",
    "effect",
    "ci_low",
    "ci_high",
    "n_runs",
    "setting",
    "verdict_a",
    "verdict_b",
    "evidence",
    "values",
]


def all_claims(frames: dict, t) -> list[dict]:
    """Every claim (see training_rules) with its ``setting``; ``t``: the TrainingConfig (or alike) used."""
    out = [
        speed_claim(frames["training_lr.csv"], t.eval_every, t.steps),
        init_claim(frames["training_init.csv"], t.target_accuracy),
        overfitting_claim(frames["training_reg.csv"]),
        vanishing_claim(frames["training_depth.csv"], frames["training_fig1.csv"]),
        mean_claim(
            frames["training_preprocess.csv"], t.eval_every, t.steps, divisor_ratio(t.val_fraction, t.split_seed)
        ),
    ]
    for c in out:
        c["setting"] = setting_of(c, t)
    return out


# --- the setting column -----------------------------------------------------------------------------


def _fmt(x) -> str:
    if isinstance(x, (list, tuple)):
        return "/".join(_fmt(y) for y in x)
    if isinstance(x, float):
        return "nan" if math.isnan(x) else f"{x:.6g}"
    return str(x)


def setting_of(c: dict, t) -> str:
    """The claim's setting as ``key=value; ...`` (keys: the page's ``training.setting.*`` labels)."""
    v, g = c["values"], (lambda k: getattr(t, k, None))
    base = [("data", "digits"), ("width", g("width")), ("batch", g("batch_size"))]
    net = [("depth", g("base_depth")), ("act", g("base_activation")), ("init", g("base_init"))]
    cid = c["claim_id"]
    if cid == "speed":
        rest = [*net, ("lr_none", v["best_lr_none"]), ("lr_bn", v["best_lr_bn"]), ("steps", g("steps"))]
    elif cid == "init":
        rest = [
            ("depth", g("init_depth")),
            ("act", list(v["activations"])),
            ("lr", g("learning_rate")),
            ("steps", g("init_steps")),
            ("scales", [g("init_scale_min"), g("init_scale_max")]),
            ("points", v["grid_points"]),
        ]
    elif cid == "overfitting":
        rest = [
            *net,
            ("train_size", g("reg_train_size")),
            ("lr", g("learning_rate")),
            ("steps", g("reg_steps")),
            ("dropout", v["dropout_p"]),
            ("splits", v["n_splits"]),
        ]
    elif cid == "vanishing":
        rest = [
            ("depth", list(g("depths") or [])),
            ("act", "relu"),
            ("init", list(g("depth_inits") or [])),
            ("lr", g("depth_learning_rate")),
            ("momentum", g("depth_momentum")),
            ("steps", g("steps")),
            ("fig1_depth", g("fig1_depth")),
            ("fig1_lr", g("fig1_learning_rate")),
            ("fig1_steps", g("fig1_steps")),
        ]
    else:
        rest = [*net, *((f"lr_{h}", v[f"best_lr_{h}"]) for p in v["pairs"] for h in p), ("steps", g("steps"))]
    return "; ".join(f"{k}={_fmt(x)}" for k, x in [*base, *rest, ("seeds", v["n_seeds"])] if x is not None)


def parse_setting(s: str) -> list[tuple[str, str]]:
    """``"a=1; b=x"`` -> ``[("a", "1"), ("b", "x")]``."""
    return [(k, v) for k, eq, v in (kv.partition("=") for kv in str(s).split("; ")) if eq]


# --- claims.csv -----------------------------------------------------------------------------------


def _evidence(values: dict) -> str:
    """The language-neutral ``evidence`` column: scalar values as key=value (lists are in ``values`` only)."""
    return "; ".join(
        f"{k}={_fmt(x) if not isinstance(x, bool) else x}" for k, x in values.items() if not isinstance(x, list)
    )


def _json_values(values: dict) -> str:
    """``values`` as JSON: floats round-trip exactly (repr), NaN becomes null."""

    def clean(x):
        if isinstance(x, float) and math.isnan(x):
            return None
        if isinstance(x, (np.floating, np.integer, np.bool_)):
            return clean(x.item())
        return [clean(y) for y in x] if isinstance(x, (list, tuple)) else x

    return json.dumps({k: clean(x) for k, x in values.items()}, ensure_ascii=False, separators=(",", ":"))


def claims_frame(frames: dict, t) -> pd.DataFrame:
    rows = [
        {
            **{k: c[k] for k in COLUMNS if k in c},
            "evidence": _evidence(c["values"]),
            "values": _json_values(c["values"]),
        }
        for c in all_claims(frames, t)
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


def _float(x) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def read_claims(df: pd.DataFrame) -> dict[str, dict]:
    """``claims.csv`` (as read through the contract) -> {claim_id: {...}} (see the module doc); null -> NaN."""
    out = {}
    for r in df.to_dict("records"):
        v = {k: math.nan if x is None else x for k, x in json.loads(r["values"]).items()}
        n = _float(r.get("n_runs"))
        out[str(r["claim_id"])] = {
            "verdict": str(r["verdict"]),
            **{k: _float(r.get(k)) for k in ("effect", "ci_low", "ci_high")},
            "n_runs": int(n) if math.isfinite(n) else 0,
            "setting": "" if pd.isna(r.get("setting", "")) else str(r.get("setting", "")),
            **{k: str(r.get(k, "inconclusive")) for k in ("verdict_a", "verdict_b")},
            **v,
        }
    return out
