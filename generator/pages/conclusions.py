"""Page ``conclusions``: every claim of the seed note's conclusions, tagged holds / partly / does not hold.

Propagation claims are judged here from ``propagation.csv`` and ``symmetry.csv`` (values are means over
seeds; "layer 1" and "last layer" are layers 1 and ``depth`` of the grid). Training claims come from
``claims.csv`` (written by the training stage, rules in generator/analysis/training.py); while that file
does not exist their rows say "measured on the training page".

Rules (the page states them from these constants):

* collapsed: last-layer std < ``COLLAPSE_RATIO`` × layer-1 std.
* gradient vanishes: the first layer's relative gradient ‖∂L/∂W₁‖/‖W₁‖ is at least ``GRAD_FACTOR``
  times smaller than with the reference init ``REFERENCE_INIT`` (same activation, no BN).
* saturated: at least ``SATURATED_SHARE`` of the last layer's units are saturated (``saturated_frac``).
* stable: never diverged, and the last-layer std is within a factor ``STABLE_BAND`` of layer 1's (both
  ways). For the s-shaped activations the last layer must also not be saturated (for ReLU-like
  activations the "saturated" zero region always holds about half the units, so it is not used).

Claims and verdicts:

zero_symmetry     all-equal (zero) weights keep every hidden unit identical, before and after an SGD step.
                  holds: every equal-weight init has one distinct unit at every layer and phase;
                  partly: some; does_not_hold: none.
small_vanishing   small init (× 0.01) collapses the activations and the gradient vanishes (tanh).
                  holds: collapsed and gradient vanishes; partly: one of the two; does_not_hold: neither.
large_saturation  large init (× 1.0) saturates tanh and the gradient becomes 0.
                  holds: saturated and gradient vanishes; partly: one; does_not_hold: neither.
xavier_tanh       "sigmoid, tanh: use Xavier". holds: Xavier is stable, not saturated, and the gradient
                  reaching layer 1 is within STABLE_BAND of the output gradient (std of dL/dH, layer 1 vs
                  last) for every s-shaped activation in the grid; partly: for some; does_not_hold: none.
xavier_relu       "Xavier + ReLU: mean and std converge to 0". holds: collapsed; partly: the std shrinks
                  at every layer (per-layer factor < 1) without collapsing; does_not_hold: otherwise.
he_relu           "ReLU: use He" (mean and std stay away from 0). holds: He + ReLU is stable.
bn_init_prop      "BN reduces the dependence on the initial weights", at initialization: per activation the
                  spread max/min of the last-layer std over the random inits (all but ``zeros``), with and
                  without BN. holds: with BN the spread is within STABLE_BAND and smaller than without for
                  every activation; partly: smaller for some activation; does_not_hold: otherwise.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from generator.analysis.seeds import SeedMeans
from generator.render import filters, strings
from generator.analysis.rules import COLLAPSE_RATIO
from generator.analysis.training import read_claims
from generator.pages.training import evidence_text as training_evidence
from generator.pages.seed import SCALES, fmt_values, localized, per_layer_factor

GRAD_FACTOR = 10
SATURATED_SHARE = 0.5
STABLE_BAND = 10
REFERENCE_INIT = "xavier"
S_SHAPED = ("sigmoid", "tanh")
EQUAL_INITS = ("zeros", "constant")
VERDICTS = ("holds", "partly", "does_not_hold")
TRAINING_CLAIMS = ("speed", "init", "overfitting", "vanishing", "mean")
NOT_MEASURED = ("use_relu", "babysitting", "hyperparameters")

# Claims by section of the seed note: (claim id, source) with source "prop" (judged here) or "training".
SECTIONS = {
    "init": (("zero_symmetry", "prop"), ("small_vanishing", "prop"), ("large_saturation", "prop"),
             ("xavier_tanh", "prop"), ("xavier_relu", "prop"), ("he_relu", "prop")),
    "bn": (("speed", "training"), ("bn_init_prop", "prop"), ("init", "training"), ("overfitting", "training"),
           ("vanishing", "training")),
    "summary": (("mean", "training"),),
}


def verdict_of(a: bool, b: bool) -> str:
    """Two-condition rule: both -> holds, one -> partly, none -> does_not_hold."""
    return "holds" if a and b else "partly" if a or b else "does_not_hold"


def share_verdict(n_ok: int, n: int) -> str:
    """All -> holds, some -> partly, none (or nothing to judge) -> does_not_hold."""
    return "holds" if n and n_ok == n else "partly" if n_ok else "does_not_hold"


def case_stats(prop: pd.DataFrame, init: str, act: str, norm: str = "none") -> dict | None:
    """Mean-over-seeds layer statistics of one configuration (:meth:`SeedMeans.case`; a diverged
    seed never enters a mean), or None if it is not in the data. ``diverged``: any seed at any layer."""
    c = SeedMeans.of(prop).case(init, act, norm).set_index("layer")
    if not len(c):
        return None
    std, g = c["std"], c["grad_h_std"]
    depth = int(std.index.max())
    return {
        "std": std,
        "std1": float(std.loc[1]), "stdL": float(std.loc[depth]),
        "ratio": float(std.loc[depth] / std.loc[1]) if std.loc[1] > 0 else math.nan,
        "factor": per_layer_factor(std),
        "meanL": float(c["mean"].loc[depth]),
        "satL": float(c["saturated_frac"].loc[depth]),
        "grad1": float(c["grad_w_ratio"].loc[1]),
        # Backward analogue of "ratio": how much of the output gradient reaches layer 1.
        "gradflow": float(g.loc[1] / g.loc[depth]) if g.loc[depth] > 0 else math.nan,
        "diverged": bool(c["diverged_case"].any()),
        "depth": depth,
    }


def collapsed(s: dict) -> bool:
    return bool(np.isfinite(s["ratio"]) and s["ratio"] < COLLAPSE_RATIO)


def stable(s: dict) -> bool:
    """Never diverged and last-layer std within a factor STABLE_BAND of layer 1's."""
    r = s["ratio"]
    return bool(not s["diverged"] and np.isfinite(r) and 1 / STABLE_BAND <= r <= STABLE_BAND)


def saturated(s: dict) -> bool:
    return bool(s["satL"] >= SATURATED_SHARE)


def healthy(s: dict, act: str) -> bool:
    """Stable, and for an s-shaped activation also not saturated (the rule behind "use Xavier for tanh")."""
    return stable(s) and not (act in S_SHAPED and saturated(s))


def grad_vanishes(s: dict, ref: dict | None) -> bool | None:
    if ref is None or not (np.isfinite(s["grad1"]) and np.isfinite(ref["grad1"])) or ref["grad1"] <= 0:
        return None
    return bool(s["grad1"] * GRAD_FACTOR <= ref["grad1"])


# --- the propagation claims ---------------------------------------------------------------------


def judge_symmetry(sym: pd.DataFrame | None) -> dict | None:
    if sym is None or not len(sym):
        return None
    eq = sym[sym["init"].isin(EQUAL_INITS)]
    if not len(eq):
        return None
    per = eq.groupby("init")["distinct_units"].max()
    n_ok = int((per == 1).sum())
    other = sym[~sym["init"].isin(EQUAL_INITS)]
    return {"verdict": share_verdict(n_ok, len(per)),
            "values": {"max_distinct": int(eq["distinct_units"].max()), "width": int(sym["width"].max()),
                       "inits": ", ".join(sorted(per.index)),
                       "other_min": int(other["distinct_units"].min()) if len(other) else 0}}


def _tanh_case(prop, acts, init: str):
    """(stats of ``init`` with tanh, stats of the reference init, whether the gradient vanishes) or None
    when the grid lacks tanh or the case."""
    if "tanh" not in acts:
        return None
    s, ref = case_stats(prop, init, "tanh"), case_stats(prop, REFERENCE_INIT, "tanh")
    if s is None:
        return None
    return s, ref, bool(grad_vanishes(s, ref))


def judge_small(prop, acts) -> dict | None:
    case = _tanh_case(prop, acts, "small")
    if case is None:
        return None
    s, ref, gv = case
    return {"verdict": verdict_of(collapsed(s), gv), "parts": {"collapsed": collapsed(s), "grad_vanishes": gv},
            "values": {"ratio": s["ratio"], "grad": s["grad1"], "ref_grad": ref["grad1"] if ref else math.nan,
                       "L": s["depth"]}}


def judge_large(prop, acts) -> dict | None:
    case = _tanh_case(prop, acts, "large")
    if case is None:
        return None
    s, ref, gv = case
    return {"verdict": verdict_of(saturated(s), gv), "parts": {"saturated": saturated(s), "grad_vanishes": gv},
            "values": {"sat": s["satL"], "grad": s["grad1"], "ref_grad": ref["grad1"] if ref else math.nan,
                       "L": s["depth"]}}


def gradient_flows(s: dict) -> bool:
    """The gradient reaching layer 1 is within a factor STABLE_BAND of the output gradient (both ways)."""
    r = s["gradflow"]
    return bool(np.isfinite(r) and 1 / STABLE_BAND <= r <= STABLE_BAND)


def judge_xavier_tanh(prop, acts) -> dict | None:
    rows = [(a, case_stats(prop, "xavier", a)) for a in S_SHAPED if a in acts]
    rows = [(a, s) for a, s in rows if s is not None]
    if not rows:
        return None
    # "Use Xavier" means trainable: the forward signal stays healthy AND the gradient reaches layer 1.
    n_ok = sum(healthy(s, a) and gradient_flows(s) for a, s in rows)
    v = {f"ratio_{a}": s["ratio"] for a, s in rows}
    v.update({f"gradflow_{a}": s["gradflow"] for a, s in rows})
    v.update({f"sat_{a}": s["satL"] for a, s in rows})
    v["L"] = rows[0][1]["depth"]
    v["n_ok"], v["n"] = n_ok, len(rows)
    return {"verdict": share_verdict(n_ok, len(rows)), "values": v, "acts": [a for a, _ in rows]}


def judge_xavier_relu(prop, acts) -> dict | None:
    if "relu" not in acts:
        return None
    s = case_stats(prop, "xavier", "relu")
    if s is None:
        return None
    shrinks = bool((s["std"].sort_index().diff().dropna() < 0).all())
    verdict = "holds" if collapsed(s) else "partly" if shrinks and s["factor"] < 1 else "does_not_hold"
    return {"verdict": verdict, "values": {"factor": s["factor"], "stdL": s["stdL"], "meanL": s["meanL"],
                                           "ratio": s["ratio"], "L": s["depth"]}}


def judge_he_relu(prop, acts) -> dict | None:
    if "relu" not in acts:
        return None
    s = case_stats(prop, "he", "relu")
    if s is None:
        return None
    return {"verdict": "holds" if stable(s) else "does_not_hold",
            "values": {"ratio": s["ratio"], "stdL": s["stdL"], "factor": s["factor"], "L": s["depth"]}}


def judge_bn_init(prop, inits, acts, norms) -> dict | None:
    if "bn" not in norms or "none" not in norms:
        return None
    rand = [i for i in inits if i != "zeros"]
    if len(rand) < 2:
        return None
    spreads = {}
    for a in acts:
        sp = {}
        for norm in ("none", "bn"):
            last = []
            for i in rand:
                s = case_stats(prop, i, a, norm)
                if s is None:
                    continue
                last.append(s["stdL"] if not s["diverged"] and np.isfinite(s["stdL"]) else math.inf)
            last = [x for x in last if x > 0]
            sp[norm] = max(last) / min(last) if last else math.nan
        spreads[a] = sp
    n_smaller = sum(1 for sp in spreads.values() if sp["bn"] < sp["none"])
    n_all = sum(1 for sp in spreads.values() if sp["bn"] < sp["none"] and sp["bn"] <= STABLE_BAND)
    verdict = "holds" if spreads and n_all == len(spreads) else "partly" if n_smaller else "does_not_hold"
    bn_max = max(sp["bn"] for sp in spreads.values())
    none_min = min(sp["none"] for sp in spreads.values())
    return {"verdict": verdict, "spreads": spreads,
            "values": {"bn_max": bn_max, "none_min": none_min, "n_inits": len(rand), "n_acts": len(spreads)}}


# --- the page -----------------------------------------------------------------------------------


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


def context(data) -> dict:
    cfg = data.grid.propagation
    inits, acts, norms = list(cfg.inits), list(cfg.activations), list(cfg.norms)
    prop = data.prop if data.has("propagation.csv") else None
    sym = data.frame("symmetry.csv") if data.has("symmetry.csv") else None
    training = _training_claims(data)
    stems = _figure_stems(data.grid)
    figures = {"seed_compare": "seed_compare" in stems, "heatmap_std": "heatmap_std" in stems,
               "heatmap_std_bn": "heatmap_std_bn" in stems}

    judged: dict[str, dict | None] = {}
    if prop is not None:
        judged = {
            "zero_symmetry": judge_symmetry(sym),
            "small_vanishing": judge_small(prop, acts),
            "large_saturation": judge_large(prop, acts),
            "xavier_tanh": judge_xavier_tanh(prop, acts),
            "xavier_relu": judge_xavier_relu(prop, acts),
            "he_relu": judge_he_relu(prop, acts),
            "bn_init_prop": judge_bn_init(prop, inits, acts, norms),
        }
    # if seed_compare is not rendered for this grid, point to the numbers table instead
    evidence = dict(EVIDENCE)
    if not figures["seed_compare"]:
        evidence["small_vanishing"] = evidence["he_relu"] = ("tbl", "#tbl-conclusions-prop")

    def row(cid: str, source: str, lang: str) -> dict:
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

    def section_df(name: str, lang: str) -> pd.DataFrame:
        rows = [row(cid, src, lang) for cid, src in SECTIONS[name]]
        return pd.DataFrame(rows)[["claim", "verdict", "evidence", "where"]]

    def not_measured_df(lang: str) -> pd.DataFrame:
        return pd.DataFrame({"claim": [strings.t(lang, f"conclusions.claim.{c}", **SCALES) for c in NOT_MEASURED],
                             "reason": [strings.t(lang, f"conclusions.reason.{c}") for c in NOT_MEASURED]})

    # verdict keys for tests and the count sentence
    keys = {cid: row(cid, src, "en")["key"] for sec in SECTIONS.values() for cid, src in sec}
    counts = {k: sum(1 for v in keys.values() if v == k) for k in (*VERDICTS, "pending", "not_in_grid")}

    # supporting numbers table: the propagation configurations the claims use
    prop_rows = []
    if prop is not None:
        for init, act in (("small", "tanh"), ("large", "tanh"), ("xavier", "sigmoid"), ("xavier", "tanh"),
                          ("xavier", "relu"), ("he", "relu")):
            if init in inits and act in acts:
                s = case_stats(prop, init, act)
                if s is not None:
                    prop_rows.append({"init": init, "activation": act, "std1": s["std1"], "stdL": s["stdL"],
                                      "ratio": s["ratio"], "sat": s["satL"], "grad1": s["grad1"],
                                      "stable": healthy(s, act)})

    def prop_df(lang: str) -> pd.DataFrame:
        return pd.DataFrame({
            "init": [strings.t(lang, f"fig.init.{r['init']}") for r in prop_rows],
            "activation": [strings.t(lang, f"fig.activation.{r['activation']}") for r in prop_rows],
            "std1": [r["std1"] for r in prop_rows], "stdL": [r["stdL"] for r in prop_rows],
            "ratio": [r["ratio"] for r in prop_rows], "sat": [r["sat"] for r in prop_rows],
            "grad1": [r["grad1"] for r in prop_rows],
            "stable": [strings.t(lang, "conclusions.yes" if r["stable"] else "conclusions.no") for r in prop_rows],
        })

    sym_rows = []
    if sym is not None:
        g = sym.groupby(["init", "phase"], sort=False)
        for (init, phase), d in g:
            sym_rows.append({"init": init, "phase": phase, "min": int(d["distinct_units"].min()),
                             "max": int(d["distinct_units"].max()), "width": int(d["width"].max())})

    def sym_df(lang: str) -> pd.DataFrame:
        return pd.DataFrame({
            "init": [strings.t(lang, f"conclusions.sym_init.{r['init']}") for r in sym_rows],
            "phase": [strings.t(lang, f"conclusions.phase.{r['phase']}") for r in sym_rows],
            "min": [r["min"] for r in sym_rows], "max": [r["max"] for r in sym_rows],
            "width": [r["width"] for r in sym_rows],
        })

    bn = judged.get("bn_init_prop")

    def spread_df(lang: str) -> pd.DataFrame:
        sp = bn["spreads"] if bn else {}
        return pd.DataFrame({
            "activation": [strings.t(lang, f"fig.activation.{a}") for a in sp],
            "none": [v["none"] for v in sp.values()], "bn": [v["bn"] for v in sp.values()],
        })

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
        | {"not_measured": localized(not_measured_df), "prop": localized(prop_df), "symmetry": localized(sym_df),
           "spread": localized(spread_df)},
    }
