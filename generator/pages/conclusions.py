"""Page ``conclusions``: every claim of the seed note's conclusions, tagged holds / partly / does not hold.

Propagation claims are judged by :mod:`generator.analysis.claims` (its docstring states the rules and
the claims) from ``propagation.csv`` and ``symmetry.csv``. Training claims come from ``claims.csv``
(written by the training stage, rules in generator/analysis/training.py); while that file does not
exist their rows say "measured on the training page". This module adds the display: claim sentences,
verdict labels, evidence sentences and links, localized tables.
"""

from __future__ import annotations

import pandas as pd

from generator.analysis.claims import (
    GRAD_FACTOR,
    REFERENCE_INIT,
    SATURATED_SHARE,
    STABLE_BAND,
    VERDICTS,
    judge_all,
    prop_rows,
    symmetry_rows,
)
from generator.analysis.rules import COLLAPSE_RATIO
from generator.analysis.training import read_claims
from generator.pages.seed import SCALES, fmt_values, localized
from generator.pages.training import evidence_text as training_evidence
from generator.render import filters, strings

TRAINING_CLAIMS = ("speed", "init", "overfitting", "vanishing", "mean")
NOT_MEASURED = ("use_relu", "babysitting", "hyperparameters")

# Claims by section of the seed note: (claim id, source) with source "prop" (judged in analysis.claims)
# or "training".
SECTIONS = {
    "init": (("zero_symmetry", "prop"), ("small_vanishing", "prop"), ("large_saturation", "prop"),
             ("xavier_tanh", "prop"), ("xavier_relu", "prop"), ("he_relu", "prop")),
    "bn": (("speed", "training"), ("bn_init_prop", "prop"), ("init", "training"), ("overfitting", "training"),
           ("vanishing", "training")),
    "summary": (("mean", "training"),),
}


def _training_claims(data) -> dict | None:
    """claims.csv's verdicts and values by claim id, or None while the training stage has not written it."""
    if not data.has("claims.csv"):
        return None
    return read_claims(data.frame("claims.csv"))


def _figure_stems(grid) -> set[str]:
    """Stems of the figures the figures stage draws for the data's grid (its axes from grid.json)."""
    from generator.figures.registry import figure_jobs

    return {j.stem for j in figure_jobs(grid.propagation)}


def evidence_text(cid: str, j: dict, lang: str) -> str:
    """The evidence sentence of a judged claim: numbers via ``num``, shares (``sat*``) via ``pct``."""
    def fmt(values: dict) -> dict:
        out = fmt_values({k: v for k, v in values.items() if not k.startswith("sat")}, lang)
        out.update({k: filters.pct(v, lang) for k, v in values.items() if k.startswith("sat")})
        return out

    v = j["values"]
    if cid == "xavier_tanh":
        parts = [strings.t(lang, "conclusions.evidence.xavier_tanh_part", act=strings.t(lang, f"fig.activation.{a}"),
                           **fmt({"ratio": v[f"ratio_{a}"], "sat": v[f"sat_{a}"],
                                  "gradflow": v[f"gradflow_{a}"]})) for a in j["acts"]]
        return strings.t(lang, "conclusions.evidence.xavier_tanh", parts="; ".join(parts),
                         **fmt({"n_ok": v["n_ok"], "n": v["n"]}))
    if cid == "zero_symmetry":
        names = ", ".join(strings.t(lang, f"conclusions.sym_init.{i}") for i in v["inits"].split(", "))
        return strings.t(lang, f"conclusions.evidence.{cid}", **{**fmt(v), "inits": names})
    return strings.t(lang, f"conclusions.evidence.{cid}", **fmt(v))


# where each propagation claim's evidence is shown: (anchor kind, target) -- "fig"/"tbl" on this page,
# "seed" for a section of the seed page
EVIDENCE = {
    "zero_symmetry": ("tbl", "#tbl-conclusions-symmetry"),
    "small_vanishing": ("fig", "#fig-seed_compare"),
    "large_saturation": ("tbl", "#tbl-conclusions-prop"),
    "xavier_tanh": ("tbl", "#tbl-conclusions-prop"),
    "xavier_relu": ("seed", "seed.md#xavier-relu"),
    "he_relu": ("fig", "#fig-seed_compare"),
    "bn_init_prop": ("tbl", "#tbl-conclusions-bn-spread"),
}


def _row(cid: str, source: str, lang: str, judged: dict, training: dict | None, evidence: dict) -> dict:
    """One claim's table row in ``lang`` (``key``: its verdict key, for the counts and the tests)."""
    claim = strings.t(lang, f"conclusions.claim.{cid}", **SCALES)
    if source == "training":
        if training is None or cid not in training:
            return {"claim": claim, "verdict": strings.t(lang, "conclusions.verdict.on_training"),
                    "evidence": strings.t(lang, "conclusions.evidence.training_pending"), "where": "—",
                    "key": "pending"}
        tr = training[cid]
        return {"claim": claim, "verdict": strings.t(lang, f"conclusions.verdict.{tr['verdict']}"),
                "evidence": training_evidence(cid, tr, lang),
                "where": filters.link(strings.t(lang, "conclusions.link.training"), "training.md"),
                "key": tr["verdict"]}
    j = judged.get(cid)
    if j is None:
        return {"claim": claim, "verdict": strings.t(lang, "conclusions.verdict.not_in_grid"),
                "evidence": strings.t(lang, "conclusions.evidence.not_in_grid"), "where": "—",
                "key": "not_in_grid"}
    kind, target = evidence[cid]
    return {"claim": claim, "verdict": strings.t(lang, f"conclusions.verdict.{j['verdict']}"),
            "evidence": evidence_text(cid, j, lang),
            "where": filters.link(strings.t(lang, f"conclusions.link.{kind}"), target), "key": j["verdict"]}


def _not_measured_df(lang: str) -> pd.DataFrame:
    return pd.DataFrame({"claim": [strings.t(lang, f"conclusions.claim.{c}", **SCALES) for c in NOT_MEASURED],
                         "reason": [strings.t(lang, f"conclusions.reason.{c}") for c in NOT_MEASURED]})


def _prop_df(rows: list[dict], lang: str) -> pd.DataFrame:
    return pd.DataFrame({
        "init": [strings.t(lang, f"fig.init.{r['init']}") for r in rows],
        "activation": [strings.t(lang, f"fig.activation.{r['activation']}") for r in rows],
        "std1": [r["std1"] for r in rows], "stdL": [r["stdL"] for r in rows],
        "ratio": [r["ratio"] for r in rows], "sat": [r["sat"] for r in rows],
        "grad1": [r["grad1"] for r in rows],
        "stable": [strings.t(lang, "conclusions.yes" if r["stable"] else "conclusions.no") for r in rows],
    })


def _sym_df(rows: list[dict], lang: str) -> pd.DataFrame:
    return pd.DataFrame({
        "init": [strings.t(lang, f"conclusions.sym_init.{r['init']}") for r in rows],
        "phase": [strings.t(lang, f"conclusions.phase.{r['phase']}") for r in rows],
        "min": [r["min"] for r in rows], "max": [r["max"] for r in rows],
        "width": [r["width"] for r in rows],
    })


def _spread_df(bn: dict | None, lang: str) -> pd.DataFrame:
    sp = bn["spreads"] if bn else {}
    return pd.DataFrame({
        "activation": [strings.t(lang, f"fig.activation.{a}") for a in sp],
        "none": [v["none"] for v in sp.values()], "bn": [v["bn"] for v in sp.values()],
    })


def context(data) -> dict:
    cfg = data.grid.propagation
    inits, acts, norms = list(cfg.inits), list(cfg.activations), list(cfg.norms)
    prop = data.prop if data.has("propagation.csv") else None
    sym = data.frame("symmetry.csv") if data.has("symmetry.csv") else None
    training = _training_claims(data)
    stems = _figure_stems(data.grid)
    figures = {"seed_compare": "seed_compare" in stems, "heatmap_std": "heatmap_std" in stems,
               "heatmap_std_bn": "heatmap_std_bn" in stems}
    judged = judge_all(prop, sym, inits, acts, norms) if prop is not None else {}
    # if seed_compare is not rendered for this grid, point to the numbers table instead
    evidence = dict(EVIDENCE)
    if not figures["seed_compare"]:
        evidence["small_vanishing"] = evidence["he_relu"] = ("tbl", "#tbl-conclusions-prop")

    def section_df(name: str, lang: str) -> pd.DataFrame:
        rows = [_row(cid, src, lang, judged, training, evidence) for cid, src in SECTIONS[name]]
        return pd.DataFrame(rows)[["claim", "verdict", "evidence", "where"]]

    # verdict keys for tests and the count sentence
    keys = {cid: _row(cid, src, "en", judged, training, evidence)["key"]
            for sec in SECTIONS.values() for cid, src in sec}
    counts = {k: sum(1 for v in keys.values() if v == k) for k in (*VERDICTS, "pending", "not_in_grid")}
    p_rows = prop_rows(prop, inits, acts) if prop is not None else []
    sym_rows = symmetry_rows(sym) if sym is not None else []
    bn = judged.get("bn_init_prop")
    return {
        "rules": {"collapse_ratio": COLLAPSE_RATIO, "grad_factor": GRAD_FACTOR, "saturated_share": SATURATED_SHARE,
                  "stable_band": STABLE_BAND, "stable_band_inv": 1 / STABLE_BAND, "reference_init": REFERENCE_INIT},
        "depth": cfg.depth,
        "has_prop": prop is not None,
        "has_training": training is not None,
        "has_symmetry": bool(sym_rows),
        "has_spread": bn is not None,
        "figures": figures,
        "keys": keys,
        "counts": counts,
        "n_claims": len(keys),
        "n_judged": sum(counts[k] for k in VERDICTS),
        "judged": {k: (v["verdict"] if v else None) for k, v in judged.items()},
        "parts": {k: v.get("parts", {}) for k, v in judged.items() if v},
        "tables": {name: localized(lambda lang, n=name: section_df(n, lang)) for name in SECTIONS}
        | {"not_measured": localized(_not_measured_df), "prop": localized(lambda lang: _prop_df(p_rows, lang)),
           "symmetry": localized(lambda lang: _sym_df(sym_rows, lang)),
           "spread": localized(lambda lang: _spread_df(bn, lang))},
    }
