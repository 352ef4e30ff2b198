"""The training claims as display text: parts, intervals, verdict words, settings and evidence sentences.

Contract: pure functions from the values of one claim of ``claims.csv`` (generator/analysis/training.py
``read_claims``) to localized strings from the strings catalog (``training.*``) in the site's number
format (``num``/``pct``; a margin, a rule's constant, as written by ``cfg``). Used by the training page
(generator/pages/training.py) and by the conclusions page, which shows the same evidence sentences
(:func:`evidence_text`) for the training claims. No judgement here: verdicts are read, never computed.
"""

from __future__ import annotations

import math

from generator.analysis.training import CLAIM_IDS, parse_setting
from generator.render import filters, strings
from generator.render.wording import cfg

PART_KINDS = {
    "higher_lr": "num",
    "like_dropout": "pct",
    "val_loss": "pct",
    "faster": "num",
    "wider": "num",
    "gap": "pct",
    "rescue": "pct",
    "balanced": "num",
    "failure": "pct",
    "acc": "pct",
    "steps": "num",
}


def _kind(part: str) -> tuple[str, str]:
    for k in PART_KINDS:
        if part == k or part.startswith(k + "_"):
            return k, part[len(k) + 1 :]
    raise KeyError(f"unknown part {part!r}")


def _fmt(x, unit: str, lang: str) -> str:
    return filters.pct(x, lang) if unit == "pct" else filters.num(x, lang)


def interval_text(effect, lo, hi, unit: str, lang: str) -> str:
    """``effect [lo, hi]`` in the site's number format (— where undefined)."""
    if effect is None or (isinstance(effect, float) and math.isnan(effect)):
        return filters.DASH
    return strings.t(
        lang, "training.ci", effect=_fmt(effect, unit, lang), lo=_fmt(lo, unit, lang), hi=_fmt(hi, unit, lang)
    )


def _arg_text(kind: str, arg: str, v: dict, lang: str) -> str:
    if kind == "wider":
        return strings.t(lang, f"fig.activation.{arg}")
    if kind in ("rescue", "balanced"):
        if arg == "sigmoid":
            return strings.t(lang, "training.part_arg.sigmoid")
        init, depth = arg.rsplit("_", 1)
        return strings.t(lang, "training.part_arg.depth", init=strings.t(lang, f"fig.init.{init}"), depth=depth)
    if kind in ("acc", "steps"):
        a = next((p[0] for p in v.get("pairs", []) if p[1] == arg), "?")
        return f"{a} → {arg}"
    return ""


def part_row(part: str, v: dict, lang: str) -> dict:
    """One comparison of a claim as display strings: label, effect [interval], margin, verdict."""
    kind, arg = _kind(part)
    unit = PART_KINDS[kind]
    g = {k: v.get(f"{part}_{k}", math.nan) for k in ("effect", "ci_low", "ci_high", "margin", "verdict", "n")}
    # the margin is a rule's constant: as written (2, not 2.00); a share margin keeps the effect's % form
    margin = filters.pct(g["margin"], lang) if unit == "pct" else cfg(g["margin"], lang)
    return {
        "part": strings.t(lang, f"training.part.{kind}", arg=_arg_text(kind, arg, v, lang)),
        "effect": interval_text(g["effect"], g["ci_low"], g["ci_high"], unit, lang),
        "margin": ("±" + margin) if kind in ("like_dropout", "balanced") else margin,
        "n": g["n"],
        "verdict": verdict_badge(g["verdict"], lang),
    }


def verdict_badge(v: str, lang: str) -> filters.Badge:
    """The localized verdict word (plain text in prose, a badge in a table cell)."""
    return filters.Badge(strings.t(lang, f"training.verdict.{v}"), v)


def evidence_text(cid: str, v: dict, lang: str) -> str:
    """The evidence sentence of training claim ``cid`` from its values (:func:`read_claims`)."""
    if cid not in CLAIM_IDS:
        raise KeyError(f"no evidence sentence for training claim {cid!r}")
    parts = [part_row(p, v, lang) for p in v.get("parts", [])]
    body = (
        strings.t(lang, "training.evidence.sep").join(strings.t(lang, "training.evidence.part", **p) for p in parts)
        or filters.DASH
    )
    halves = strings.t(
        lang,
        "training.evidence.halves",
        a=strings.t(lang, f"training.verdict.{v.get('verdict_a', 'inconclusive')}"),
        b=strings.t(lang, f"training.verdict.{v.get('verdict_b', 'inconclusive')}"),
    )
    return f"{body}. {halves}"


def _setting_value(key: str, value: str, lang: str) -> str:
    """One setting value for a reader: activations and inits by their display names, numbers as written
    in the config (:func:`cfg`: 0.1, not 0.100), anything else as stored; "a/b" lists item by item."""

    def one(x: str) -> str:
        if key in ("act", "init"):
            return strings.t(lang, f"fig.{'activation' if key == 'act' else 'init'}.{x}")
        try:
            f = float(x)
        except ValueError:
            return x
        return cfg(int(f) if f.is_integer() and "." not in x and "e" not in x else f, lang)

    return "/".join(one(x) for x in value.split("/"))


def setting_text(setting: str, lang: str) -> str:
    """claims.csv's language-neutral setting as "label value · label value"."""
    return " · ".join(
        strings.t(lang, f"training.setting.{k}", v=_setting_value(k, x, lang)) for k, x in parse_setting(setting)
    )
