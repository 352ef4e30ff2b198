"""Page ``conclusions``: every claim of the seed note's conclusions, tagged with one of the four verdicts
of :mod:`generator.analysis.verdicts` (holds / partly / inconclusive / does not hold).

Propagation claims are judged by :mod:`generator.analysis.claims` (its docstring states the rules, the
thresholds and margins) from ``propagation.csv`` and ``symmetry.csv``, on all seeds and on the two disjoint
seed halves. Training claims come from ``claims.csv`` via :func:`generator.analysis.training.read_claims`
(``verdict``, ``effect``, ``ci_low``, ``ci_high``, ``n_runs``, ``setting``, ``verdict_a``, ``verdict_b``
and the claim's values); while that file does not exist their rows say "measured on the training page".
This module adds the display: claim sentences, verdict labels (both halves beside the verdict), evidence
sentences with each number's 95 % interval and its min–max over seeds, links, localized tables.
"""

from __future__ import annotations

import pandas as pd

from generator.analysis.claim_rules import MARGIN_FACTOR, MARGIN_SHARE
from generator.analysis.claims import (
    GRAD_FACTOR,
    REFERENCE_INIT,
    SATURATED_SHARE,
    STABLE_BAND,
    judge_all,
    prop_rows,
    symmetry_rows,
)
from generator.analysis.rules import COLLAPSE_RATIO
from generator.analysis.training import read_claims
from generator.analysis.verdicts import VERDICTS, split_seeds
from generator.pages.batchnorm import BN_SIG
from generator.pages.seed import SCALES, fmt_values, localized
from generator.pages.training import PRIMARY_UNIT, interval_text, part_row, setting_text
from generator.pages.training import evidence_text as training_evidence
from generator.render import filters, strings
from generator.render.wording import at_least

TRAINING_CLAIMS = ("speed", "init", "overfitting", "vanishing", "mean")
NOT_MEASURED = ("use_relu", "babysitting", "hyperparameters")

# Claims by section of the seed note: (claim id, source) with source "prop" (judged in analysis.claims)
# or "training".
SECTIONS = {
    "init": (
        ("zero_symmetry", "prop"),
        ("small_vanishing", "prop"),
        ("large_saturation", "prop"),
        ("xavier_tanh", "prop"),
        ("xavier_relu", "prop"),
        ("he_relu", "prop"),
    ),
    "bn": (
        ("speed", "training"),
        ("bn_init_prop", "prop"),
        ("init", "training"),
        ("overfitting", "training"),
        ("vanishing", "training"),
    ),
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


def spread_text(sp: dict, lang: str, share: bool = False) -> str:
    """A per-seed number as the page shows it: centre, 95 % interval, min–max over seeds."""
    f = (lambda x: filters.pct(x, lang)) if share else (lambda x: filters.num(x, lang))
    return strings.t(
        lang, "conclusions.spread", c=f(sp["gm"]), lo=f(sp["lo"]), hi=f(sp["hi"]), min=f(sp["min"]), max=f(sp["max"])
    )


def init_spread_text(sp: dict, lang: str, sig: int = 3) -> str:
    """The spread across inits of one (activation, norm): the seed-averaged value of
    :func:`generator.analysis.factors.init_spread` -- the number the batch-norm page prints, "≥" when a
    diverged run entered at the threshold, with the same ``sig`` digits (4 with BN: 1.002) -- then the
    per-seed values the verdict pairs (95 % interval of their geometric mean, min–max over seeds)."""
    return strings.t(
        lang,
        "conclusions.init_spread",
        c=at_least(sp["value"], lang, sp["bound"], sig=sig),
        **{k: filters.num(sp[k], lang, sig=sig) for k in ("lo", "hi", "min", "max")},
    )


def verdict_label(v: str | None, lang: str) -> str:
    """The localized verdict word, a badge of its verdict in a table cell (filters.Badge)."""
    return filters.Badge(strings.t(lang, f"conclusions.verdict.{v}"), v) if v else filters.DASH


def _parts_text(parts: dict, lang: str) -> str:
    return "; ".join(strings.t(lang, f"conclusions.part.{k}") + ": " + verdict_label(v, lang) for k, v in parts.items())


def evidence_text(cid: str, j: dict, lang: str) -> str:
    """The evidence sentence of a judged claim: every compared number with its interval and seed range."""
    v = j["values"]

    def say(key, **kw):
        return strings.t(lang, f"conclusions.evidence.{key}", **kw)

    if cid == "zero_symmetry":
        names = ", ".join(strings.t(lang, f"conclusions.sym_init.{i}") for i in v["inits"].split(", "))
        return say(cid, **{**fmt_values(v, lang), "inits": names})
    if cid == "xavier_tanh":
        parts = [
            say(
                "xavier_tanh_part",
                act=strings.t(lang, f"fig.activation.{a}"),
                ratio=spread_text(v[a]["ratio"], lang),
                sat=spread_text(v[a]["sat"], lang, share=True),
                gradflow=spread_text(v[a]["gradflow"], lang),
                n_ok=filters.num(v[a]["n_ok"], lang),
                n=filters.num(v[a]["n"], lang),
                verdict=verdict_label(j["parts"][a], lang),
            )
            for a in j["acts"]
        ]
        return say(cid, parts="; ".join(parts))
    if cid == "bn_init_prop":
        parts = [
            say(
                "bn_init_part",
                act=strings.t(lang, f"fig.activation.{a}"),
                none=init_spread_text(sp["none"], lang),
                bn=init_spread_text(sp["bn"], lang, sig=BN_SIG),
                verdict=verdict_label(j["parts"][a], lang),
            )
            for a, sp in j["spreads"].items()
        ]
        return say(cid, n_inits=filters.num(v["n_inits"], lang), parts="; ".join(parts))
    kw = {
        k: (spread_text(x, lang, share=k == "sat") if isinstance(x, dict) else filters.num(x, lang))
        for k, x in v.items()
    }
    return say(cid, **kw, parts=_parts_text(j.get("parts", {}), lang))


def _count(x):
    """A run count read from CSV (may come as 30.0) as an int; anything else unchanged."""
    return int(x) if isinstance(x, float) and x.is_integer() else x


def training_text(cid: str, tr: dict, lang: str) -> str:
    """A training claim's effect with its interval, runs and setting (claims.csv), then its own sentence."""
    if "effect" not in tr:  # a claims.csv written before the effect columns existed
        return training_evidence(cid, tr, lang)
    setting = tr.get("setting")
    head = strings.t(
        lang,
        "conclusions.evidence.training",
        primary=strings.t(lang, f"training.primary.{cid}"),
        effect=interval_text(tr.get("effect"), tr.get("ci_low"), tr.get("ci_high"), PRIMARY_UNIT[cid], lang),
        n_runs=filters.num(_count(tr.get("n_runs")), lang),
        setting=setting_text(setting, lang) if isinstance(setting, str) and setting else filters.DASH,
    )
    # The other comparisons of the claim, each once: the primary one is already in ``head`` and the
    # seed halves have their own column, so neither is repeated here.
    try:
        parts = [part_row(p, tr, lang) for p in tr.get("parts", [])]
    except (KeyError, TypeError):  # values written before the parts' keys existed
        return head
    primary_effect = interval_text(tr.get("effect"), tr.get("ci_low"), tr.get("ci_high"), PRIMARY_UNIT[cid], lang)
    others = [p for p in parts if p["effect"] != primary_effect]
    if not others:
        return head
    return (
        head
        + " "
        + strings.t(lang, "training.evidence.sep").join(strings.t(lang, "training.evidence.part", **p) for p in others)
        + "."
    )


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


def _halves(j: dict, lang: str) -> str:
    """Both seed halves' verdicts ("A / B"), or why there are none."""
    if j.get("verdict_a") is None and j.get("verdict_b") is None:
        return strings.t(lang, "conclusions.halves_exact" if j.get("exact") else "conclusions.halves_none")
    a, b = verdict_label(j.get("verdict_a"), lang), verdict_label(j.get("verdict_b"), lang)
    if isinstance(a, filters.Badge) and isinstance(b, filters.Badge):
        return filters.Badge.join([a, b])
    return f"{a} / {b}"


def _row(cid: str, source: str, lang: str, judged: dict, training: dict | None, evidence: dict) -> dict:
    """One claim's table row in ``lang`` (``key``: its verdict key, for the counts and the tests)."""
    claim = strings.t(lang, f"conclusions.claim.{cid}", **SCALES)
    if source == "training":
        if training is None or cid not in training:
            return {
                "claim": claim,
                "verdict": filters.Badge(strings.t(lang, "conclusions.verdict.on_training"), "neutral"),
                "halves": "—",
                "evidence": strings.t(lang, "conclusions.evidence.training_pending"),
                "where": "—",
                "key": "pending",
            }
        tr = training[cid]
        return {
            "claim": claim,
            "verdict": verdict_label(tr["verdict"], lang),
            "halves": _halves(tr, lang),
            "evidence": training_text(cid, tr, lang),
            "where": filters.link(strings.t(lang, "conclusions.link.training"), "training.md"),
            "key": tr["verdict"],
        }
    j = judged.get(cid)
    if j is None:
        return {
            "claim": claim,
            "verdict": filters.Badge(strings.t(lang, "conclusions.verdict.not_in_grid"), "neutral"),
            "halves": "—",
            "evidence": strings.t(lang, "conclusions.evidence.not_in_grid"),
            "where": "—",
            "key": "not_in_grid",
        }
    kind, target = evidence[cid]
    return {
        "claim": claim,
        "verdict": verdict_label(j["verdict"], lang),
        "halves": _halves(j, lang),
        "evidence": evidence_text(cid, j, lang),
        "where": filters.link(strings.t(lang, f"conclusions.link.{kind}"), target),
        "key": j["verdict"],
    }


def _not_measured_df(lang: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "claim": [strings.t(lang, f"conclusions.claim.{c}", **SCALES) for c in NOT_MEASURED],
            "reason": [strings.t(lang, f"conclusions.reason.{c}") for c in NOT_MEASURED],
        }
    )


def _with_range(r: dict, key: str, lang: str, share: bool = False) -> str:
    """A seed mean with its min–max over seeds: "0.812 (0.650–0.951)"."""
    f = (lambda x: filters.pct(x, lang)) if share else (lambda x: filters.num(x, lang))
    return strings.t(lang, "conclusions.with_range", c=f(r[key]), min=f(r[f"{key}_min"]), max=f(r[f"{key}_max"]))


def _prop_df(rows: list[dict], lang: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "init": [strings.t(lang, f"fig.init.{r['init']}") for r in rows],
            "activation": [strings.t(lang, f"fig.activation.{r['activation']}") for r in rows],
            **{
                k: [_with_range(r, k, lang, share=k == "sat") for r in rows]
                for k in ("std1", "stdL", "ratio", "sat", "grad1")
            },
            **{
                col: [
                    strings.t(lang, "conclusions.n_of", k=filters.num(r[key], lang), n=filters.num(r["n"], lang))
                    for r in rows
                ]
                for col, key in (("stable", "n_healthy"), ("flows", "n_flows"))
            },
        }
    )


def _sym_df(rows: list[dict], lang: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "init": [strings.t(lang, f"conclusions.sym_init.{r['init']}") for r in rows],
            "phase": [strings.t(lang, f"conclusions.phase.{r['phase']}") for r in rows],
            "min": [r["min"] for r in rows],
            "max": [r["max"] for r in rows],
            "width": [r["width"] for r in rows],
        }
    )


def _spread_df(bn: dict | None, lang: str) -> pd.DataFrame:
    sp = bn["spreads"] if bn else {}
    return pd.DataFrame(
        {
            "activation": [strings.t(lang, f"fig.activation.{a}") for a in sp],
            "none": [init_spread_text(v["none"], lang) for v in sp.values()],
            "bn": [init_spread_text(v["bn"], lang, sig=BN_SIG) for v in sp.values()],
            "verdict": [verdict_label(bn["parts"][a], lang) for a in sp],
        }
    )


def context(data) -> dict:
    cfg = data.grid.propagation
    inits, acts, norms = list(cfg.inits), list(cfg.activations), list(cfg.norms)
    prop = data.prop if data.has("propagation.csv") else None
    sym = data.frame("symmetry.csv") if data.has("symmetry.csv") else None
    training = _training_claims(data)
    stems = _figure_stems(data.grid)
    figures = {
        "seed_compare": "seed_compare" in stems,
        "heatmap_std": "heatmap_std" in stems,
        "heatmap_std_bn": "heatmap_std_bn" in stems,
    }
    judged = judge_all(prop, sym, inits, acts, norms, cap=cfg.diverge_rms) if prop is not None else {}
    seeds = sorted(int(x) for x in prop["seed"].unique()) if prop is not None else list(cfg.seeds)
    half_a, half_b = split_seeds(seeds)
    # if seed_compare is not rendered for this grid, point to the numbers table instead
    evidence = dict(EVIDENCE)
    if not figures["seed_compare"]:
        evidence["small_vanishing"] = evidence["he_relu"] = ("tbl", "#tbl-conclusions-prop")

    def section_df(name: str, lang: str) -> pd.DataFrame:
        rows = [_row(cid, src, lang, judged, training, evidence) for cid, src in SECTIONS[name]]
        return pd.DataFrame(rows)[["claim", "verdict", "halves", "evidence", "where"]]

    # verdict keys for tests and the count sentence
    keys = {
        cid: _row(cid, src, "en", judged, training, evidence)["key"] for sec in SECTIONS.values() for cid, src in sec
    }
    counts = {k: sum(1 for v in keys.values() if v == k) for k in (*VERDICTS, "pending", "not_in_grid")}
    p_rows = prop_rows(prop, inits, acts) if prop is not None else []
    sym_rows = symmetry_rows(sym) if sym is not None else []
    bn = judged.get("bn_init_prop")
    return {
        "rules": {
            "collapse_ratio": COLLAPSE_RATIO,
            "grad_factor": GRAD_FACTOR,
            "saturated_share": SATURATED_SHARE,
            "stable_band": STABLE_BAND,
            "stable_band_inv": 1 / STABLE_BAND,
            "reference_init": REFERENCE_INIT,
            "grad_factor_inv": 1 / GRAD_FACTOR,
            "margin_factor": MARGIN_FACTOR,
            "margin_share_points": round(100 * MARGIN_SHARE),
            "diverge_rms": cfg.diverge_rms,
            "collapse_margin": COLLAPSE_RATIO * MARGIN_FACTOR,
            "grad_margin": MARGIN_FACTOR / GRAD_FACTOR,
            "sat_margin": SATURATED_SHARE - MARGIN_SHARE,
            "band_lo_margin": 1 / (STABLE_BAND * MARGIN_FACTOR),
            "band_hi_margin": STABLE_BAND * MARGIN_FACTOR,
        },
        "seeds": {
            "n": len(seeds),
            "all": ", ".join(map(str, seeds)),
            "a": ", ".join(map(str, half_a)),
            "b": ", ".join(map(str, half_b)),
            "n_a": len(half_a),
            "n_b": len(half_b),
        },
        "depth": cfg.depth,
        "setting": {"samples": cfg.samples, "width": cfg.width, "depth": cfg.depth},
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
        "halves": {
            k: {"all": v.get("verdict_all"), "a": v.get("verdict_a"), "b": v.get("verdict_b")}
            for k, v in judged.items()
            if v
        },
        "parts": {k: v.get("parts", {}) for k, v in judged.items() if v},
        "tables": {name: localized(lambda lang, n=name: section_df(n, lang)) for name in SECTIONS}
        | {
            "not_measured": localized(_not_measured_df),
            "prop": localized(lambda lang: _prop_df(p_rows, lang)),
            "symmetry": localized(lambda lang: _sym_df(sym_rows, lang)),
            "spread": localized(lambda lang: _spread_df(bn, lang)),
        },
    }
