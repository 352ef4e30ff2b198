"""The training page's context: display only. ``{"available": False}`` until every training CSV and
``claims.csv`` exist (the page then says so).

Verdicts and their values are read from ``claims.csv`` (generator/analysis/training.py computes them
in the training stage); the tables' numbers come from generator/analysis/training_tables.py. This
module translates category columns and writes the claims' evidence sentences from the strings
catalog (``training.evidence.*``) in the site's number format (``num``/``pct``);
:func:`evidence_text` is also what the conclusions page shows for the training claims.
"""

from __future__ import annotations

import math

import pandas as pd

from generator.analysis.training import CLAIM_IDS, GRAD_BAND, SE_FACTOR, STALL, read_claims
from generator.analysis.training_tables import page_numbers
from generator.common.languages import LANGUAGES
from generator.contract.training import CLAIMS, FILES
from generator.engine.mlp import N_CLASSES
from generator.render import filters, strings

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


_CFG_KEYS = ("n_train", "n_val", "val_fraction", "split_seed", "preprocess", "width", "batch_size", "learning_rate",
             "momentum", "steps", "eval_every", "base_depth", "base_activation", "base_init", "init_depth",
             "init_steps", "init_scale_min", "init_scale_max", "init_scale_points", "lr_min", "lr_max", "lr_points",
             "pre_lr_points", "fig1_depth", "fig1_init_scale", "fig1_learning_rate", "fig1_steps",
             "depth_learning_rate", "depth_momentum", "batch_epochs", "dropout", "reg_train_size", "reg_steps")


def page_settings(s: dict) -> dict:
    """The ``cfg`` dict the template prints, from :func:`_training_settings`' values."""
    chance = math.log(10)
    out = {k: s[k] for k in _CFG_KEYS}
    out.update({"n_seeds": len(s["seeds"]), "seeds": list(s["seeds"]), "target": s["target_accuracy"],
                "depths": list(s["depths"]), "max_depth": max(s["depths"]), "batch_sizes": list(s["batch_sizes"]),
                "n_classes": N_CLASSES, "chance_loss": chance, "stall_loss": STALL * chance, "stall_fraction": STALL,
                "se_factor": SE_FACTOR, "grad_band": GRAD_BAND, "grad_band_inv": 1.0 / GRAD_BAND})
    return _clean(out)


# --- evidence sentences ---------------------------------------------------------------------------


def evidence_text(cid: str, v: dict, lang: str) -> str:
    """The evidence sentence of training claim ``cid`` from its values (:func:`read_claims`)."""
    def num(x):
        return filters.num(x, lang)

    def pct(x):
        return filters.pct(x, lang)

    def say(key, **kw):
        return strings.t(lang, f"training.evidence.{key}", **kw)

    if cid == "speed":
        return say("speed", **{k: num(v[k]) for k in ("steps_bn", "steps_none", "best_lr_bn", "best_lr_none",
                                                      "max_stable_lr_bn", "max_stable_lr_none")})
    if cid == "init":
        parts = [say("init_part", act=strings.t(lang, f"fig.activation.{a}"), bn=num(v[f"working_scales_{a}_bn"]),
                     none=num(v[f"working_scales_{a}_none"])) for a in v["activations"]]
        return say("init", grid_points=num(v["grid_points"]), parts=say("init_sep").join(parts))
    if cid == "overfitting":
        return say("overfitting", **{f"{q}_{k}": pct(v[f"{q}_{k}"]) for q in ("gap", "val_acc")
                                     for k in ("none", "bn", "dropout", "both")})
    if cid == "vanishing":
        return say("vanishing", failing=num(v["failing"]), rescued=num(v["rescued"]),
                   settings=", ".join(v["failing_settings"]) or filters.DASH,
                   min_grad_ratio_bn=num(v["min_grad_ratio_bn"]), max_grad_ratio_bn=num(v["max_grad_ratio_bn"]))
    if cid == "mean":
        parts = [say("mean_part", a=a, b=b, acc_a=pct(v[f"best_val_acc_{a}"]), acc_b=pct(v[f"best_val_acc_{b}"]),
                     steps_a=num(v[f"steps_{a}"]), steps_b=num(v[f"steps_{b}"])) for a, b in v["pairs"]]
        return say("mean", parts=say("mean_sep").join(parts)) if parts else say("mean_none")
    raise KeyError(f"no evidence sentence for training claim {cid!r}")


# --- the page -------------------------------------------------------------------------------------


def _localize(df: pd.DataFrame, labels: dict[str, str]) -> dict[str, pd.DataFrame]:
    """{lang: df} with each column in ``labels`` replaced by its display label ``<key>.<value>``."""
    out = {}
    for lang in LANGUAGES:
        d = df.copy()
        for col, key in labels.items():
            d[col] = [strings.t(lang, f"{key}.{v}") for v in d[col].astype(str)]
        out[lang] = d
    return out


def _claims_tables(claims: dict) -> dict[str, pd.DataFrame]:
    out = {}
    for lang in LANGUAGES:
        out[lang] = pd.DataFrame([{"claim": strings.t(lang, f"training.claim.{cid}"),
                                   "verdict": strings.t(lang, f"training.verdict.{claims[cid]['verdict']}"),
                                   "evidence": evidence_text(cid, claims[cid], lang)} for cid in CLAIM_IDS])
    return out


def training_context(frames: dict, settings: dict) -> dict:
    """Everything the training page shows: ``frames`` {csv name: DataFrame} (the training CSVs and
    ``claims.csv``), ``settings`` as :func:`_training_settings` returns them. ``tables.<name>.<lang>``
    are display tables whose category columns are translated (numbers are formatted by the template)."""
    claims = read_claims(frames[CLAIMS.name])
    n = page_numbers(frames, settings["target_accuracy"], settings["n_val"])
    norm_lbl = "fig.training.norm_short"
    return {
        "available": True,
        "cfg": page_settings(settings),
        "claims": claims,
        "verdicts": [claims[c]["verdict"] for c in CLAIM_IDS],
        "lr": {r["norm"]: r for r in n["lr"]},
        "init": {f"{r['activation']}_{r['norm']}": r for r in n["init"]},
        "depth": {f"{r['init']}_{r['norm']}_{r['depth']}": r for r in n["depth"]},
        "batch": {int(r.batch_size): r._asdict() for r in n["batch"].itertuples(index=False)},
        "reg": {r["setting"]: r for r in n["reg"]},
        "pre": {r["preprocess"]: r for r in n["pre"]},
        "fig1": n["fig1"],
        "batch_summary": n["batch_summary"],
        "tables": {
            "claims": _claims_tables(claims),
            "lr": _localize(pd.DataFrame(n["lr"]), {"norm": norm_lbl}),
            "init": _localize(pd.DataFrame(n["init"]), {"activation": "fig.activation", "norm": norm_lbl}),
            "depth": _localize(pd.DataFrame(n["depth"]), {"init": "fig.init", "norm": norm_lbl, "status": "training.status"}),
            "batch": _localize(n["batch"], {}),
            "reg": _localize(pd.DataFrame(n["reg"]), {"setting": "fig.training.reg"}),
            "pre": _localize(pd.DataFrame(n["pre"]), {"preprocess": "fig.training.pre"}),
        },
    }
