"""The training page's context: display only. ``{"available": False}`` until every training CSV and
``claims.csv`` exist (the page then says so).

Verdicts, their intervals, seed halves and settings are read from ``claims.csv``
(generator/analysis/training.py; rules in generator/analysis/training_rules.py); the tables' numbers
come from generator/analysis/training_tables.py. This module translates ids and builds the tables; the
claims' parts, intervals and evidence sentences are written by generator/pages/training_text.py
(:func:`evidence_text` is also what the conclusions page shows for the training claims). The rules'
margins reach the template as ``page.rules`` (from the rule constants, never typed).
"""

from __future__ import annotations

import math

import pandas as pd

from generator.analysis import training_rules as R
from generator.analysis.training import CLAIM_IDS, read_claims
from generator.analysis.training_tables import page_numbers
from generator.common.languages import LANGUAGES
from generator.contract.training import CLAIMS, FILES
from generator.engine.digits import LICENCE as DATA_LICENCE
from generator.engine.mlp import N_CLASSES
from generator.pages.training_text import evidence_text, interval_text, part_row, setting_text, verdict_badge
from generator.render import filters, strings
from generator.render.wording import cfg

NAMES = tuple(f.name for f in FILES) + (CLAIMS.name,)


def context(data) -> dict:
    """The training page's context from a ``generator.contract.dataset.Dataset``."""
    if not all(data.has(n) for n in NAMES):
        return {"available": False}
    return training_context({n: data.frame(n) for n in NAMES}, _training_settings(data))


# --- the training settings the page prints --------------------------------------------------------


def _training_settings(data) -> dict:
    """THE ONE PLACE the page reads the training settings: the ``[training]`` section the data were
    computed with (data/grid.json), plus n_train/n_val of the digits split it names."""
    t = data.grid.training
    return settings_of({k: t[k] for k in t})


def settings_of(t: dict) -> dict:
    """Training settings (a dict of the ``[training]`` fields) plus the sizes of the digits split they name."""
    from generator.engine.digits import load

    xt, _, xv, _ = load(t["val_fraction"], t["split_seed"], t["preprocess"], None)
    return {**t, "n_train": int(len(xt)), "n_val": int(len(xv))}


def _clean(d: dict) -> dict:
    """Integral floats become ints (so "5 epochs", not "5.00 epochs"); everything else unchanged."""
    return {k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in d.items()}


_CFG_KEYS = (
    "n_train",
    "n_val",
    "val_fraction",
    "split_seed",
    "preprocess",
    "width",
    "batch_size",
    "learning_rate",
    "momentum",
    "steps",
    "eval_every",
    "base_depth",
    "base_activation",
    "base_init",
    "init_depth",
    "init_steps",
    "init_scale_min",
    "init_scale_max",
    "init_scale_points",
    "lr_min",
    "lr_max",
    "lr_points",
    "pre_lr_points",
    "fig1_depth",
    "fig1_init_scale",
    "fig1_learning_rate",
    "fig1_steps",
    "depth_learning_rate",
    "depth_momentum",
    "batch_epochs",
    "dropout",
    "reg_train_size",
    "reg_steps",
    "reg_splits",
    "batch_lr_min",
    "batch_lr_max",
    "batch_lr_points",
)


def page_settings(s: dict) -> dict:
    """The ``cfg`` dict the template prints, from :func:`_training_settings`' values."""
    chance = math.log(10)
    out = {k: s[k] for k in _CFG_KEYS if k in s}
    out.update(
        {
            "n_seeds": len(s["seeds"]),
            "seeds": list(s["seeds"]),
            "target": s["target_accuracy"],
            "depths": list(s["depths"]),
            "max_depth": max(s["depths"]),
            "batch_sizes": list(s["batch_sizes"]),
            "n_classes": N_CLASSES,
            "chance_loss": chance,
            "stall_loss": R.STALL * chance,
            "stall_fraction": R.STALL,
            "data_licence": DATA_LICENCE,
        }
    )
    return _clean(out)


def rules() -> dict:
    """The rules' constants as the template prints them."""
    return {
        "acc_margin": R.ACC_MARGIN,
        "loss_margin": R.LOSS_MARGIN,
        "rescue_margin": R.RESCUE_MARGIN,
        "decade": R.DECADE,
        "grad_band": R.GRAD_BAND,
        "grad_band_log": math.log10(R.GRAD_BAND),
        "grad_band_inv": 1.0 / R.GRAD_BAND,
        "stall": R.STALL,
        "chance_acc": R.CHANCE,
        "level": 0.95,
    }


# --- the page -------------------------------------------------------------------------------------


PRIMARY_UNIT = {"speed": "num", "init": "num", "overfitting": "pct", "vanishing": "pct", "mean": "pct"}


def _claims_tables(claims: dict) -> dict[str, pd.DataFrame]:
    out = {}
    for lang in LANGUAGES:

        def verdict(x, lang=lang):
            return verdict_badge(x, lang)

        out[lang] = pd.DataFrame(
            [
                {
                    "claim": strings.t(lang, f"training.claim.{cid}"),
                    "verdict": verdict(c["verdict"]),
                    "effect": interval_text(c["effect"], c["ci_low"], c["ci_high"], PRIMARY_UNIT[cid], lang),
                    "primary": strings.t(lang, f"training.primary.{cid}"),
                    "halves": filters.Badge.join([verdict(c["verdict_a"]), verdict(c["verdict_b"])]),
                    "n_runs": c["n_runs"],
                }
                for cid, c in ((k, claims[k]) for k in CLAIM_IDS)
            ]
        )
    return out


def _parts_tables(claims: dict) -> dict[str, dict[str, pd.DataFrame]]:
    return {
        cid: {
            lang: pd.DataFrame(
                [part_row(p, claims[cid], lang) for p in claims[cid].get("parts", [])],
                columns=["part", "effect", "margin", "n", "verdict"],
            )
            for lang in LANGUAGES
        }
        for cid in CLAIM_IDS
    }


def _ci_cells(rows: list[dict], cols: dict[str, str], keep: tuple) -> dict[str, pd.DataFrame]:
    """{lang: table}: ``keep`` columns as they are, each of ``cols`` (name -> unit) as "mean [lo, hi]"."""
    out = {}
    for lang in LANGUAGES:
        out[lang] = pd.DataFrame(
            [
                {
                    **{k: r.get(k) for k in keep},
                    **{
                        c: interval_text(r.get(c, math.nan), r.get(f"{c}_lo"), r.get(f"{c}_hi"), u, lang)
                        for c, u in cols.items()
                    },
                }
                for r in rows
            ]
        )
    return out


def _as_written(tables: dict[str, pd.DataFrame], cols: tuple) -> dict[str, pd.DataFrame]:
    """Learning rates are settings (grid points), not measurements: printed by :func:`cfg`."""
    return {lang: d.assign(**{c: [cfg(v, lang) for v in d[c]] for c in cols}) for lang, d in tables.items()}


def _relabel(tables: dict[str, pd.DataFrame], labels: dict[str, str]) -> dict[str, pd.DataFrame]:
    out = {}
    for lang, d in tables.items():
        d = d.copy()
        for col, key in labels.items():
            d[col] = [strings.t(lang, f"{key}.{v}") for v in d[col].astype(str)]
        out[lang] = d
    return out


def training_context(frames: dict, settings: dict) -> dict:
    """Everything the training page shows: ``frames`` {csv name: DataFrame} (the training CSVs and
    ``claims.csv``), ``settings`` as :func:`_training_settings` returns them. ``tables.<name>.<lang>``
    are display tables (ids translated, intervals written out)."""
    claims = read_claims(frames[CLAIMS.name])
    n = page_numbers(frames, settings["target_accuracy"])
    norm_lbl = "fig.training.norm_short"
    return {
        "available": True,
        "cfg": page_settings(settings),
        "rules": rules(),
        "claims": claims,
        "verdicts": [claims[c]["verdict"] for c in CLAIM_IDS],
        "settings": {
            cid: {lang: setting_text(claims[cid]["setting"], lang) for lang in LANGUAGES} for cid in CLAIM_IDS
        },
        "evidence": {cid: {lang: evidence_text(cid, claims[cid], lang) for lang in LANGUAGES} for cid in CLAIM_IDS},
        "lr": {r["norm"]: r for r in n["lr"]},
        "init": {f"{r['activation']}_{r['norm']}": r for r in n["init"]},
        "depth": {f"{r['init']}_{r['norm']}_{r['depth']}": r for r in n["depth"]},
        "batch": {r["batch_size"]: r for r in n["batch"]},
        "reg": {r["arm"]: r for r in n["reg"]},
        "pre": {r["preprocess"]: r for r in n["pre"]},
        "fig1": n["fig1"],
        "batch_summary": n["batch_summary"],
        "tables": {
            "claims": _claims_tables(claims),
            "parts": _parts_tables(claims),
            "lr": _relabel(
                _as_written(
                    _ci_cells(
                        n["lr"],
                        {"steps_to_target": "num", "best_val_acc": "pct", "val_loss": "num"},
                        ("norm", "best_lr", "max_stable_lr"),
                    ),
                    ("best_lr", "max_stable_lr"),
                ),
                {"norm": norm_lbl},
            ),
            "init": _relabel(
                {lang: pd.DataFrame(n["init"]) for lang in LANGUAGES},
                {"activation": "fig.activation", "norm": norm_lbl},
            ),
            "depth": _relabel(
                _ci_cells(
                    n["depth"],
                    {"best_val_acc": "pct", "train_loss": "num", "val_loss": "num"},
                    ("init", "norm", "depth", "grad_ratio", "status"),
                ),
                {"init": "fig.init", "norm": norm_lbl, "status": "training.status"},
            ),
            "batch": _as_written(
                _ci_cells(
                    n["batch"],
                    {
                        "val_acc_none": "pct",
                        "val_acc_bn": "pct",
                        "val_acc_train_mode_bn": "pct",
                        "bn_effect": "pct",
                        "val_loss_none": "num",
                        "val_loss_bn": "num",
                    },
                    ("batch_size", "lr_none", "lr_bn"),
                ),
                ("lr_none", "lr_bn"),
            ),
            "reg": _relabel(
                _ci_cells(
                    n["reg"], {"train_acc": "pct", "val_acc": "pct", "val_loss": "num", "gap": "pct"}, ("setting", "n")
                ),
                {"setting": "fig.training.reg"},
            ),
            "pre": _relabel(
                _as_written(
                    _ci_cells(
                        n["pre"],
                        {"best_val_acc": "pct", "steps_to_target": "num", "val_loss": "num"},
                        ("preprocess", "best_lr"),
                    ),
                    ("best_lr",),
                ),
                {"preprocess": "fig.training.pre"},
            ),
        },
    }
