"""Page ``seed``: the seed note's code and printed numbers next to ours, case by case.

Every number comes from :func:`generator.analysis.seed_note.measure` (inputs and rules are stated
there); this module only adds the display: case labels, localized tables, the one-line summary per
discrepancy (sentences in the strings catalog, numbers formatted here).
"""

from __future__ import annotations

import math

import pandas as pd

from generator.analysis.seed_note import (
    CASES,
    MATCH_RTOL,
    SCALES,
    SEED_COMMENT_DIM,
    measure,
    seed_sizes,
)
from generator.common.languages import LANGUAGES
from generator.contract import seed_cases as seed_reference
from generator.render import filters, strings

LANGS = LANGUAGES


def _scale_expr(code_line: str) -> str:
    """The scaling part of a weight line: "W = randn(fan_in, fan_out) * 0.01" -> "* 0.01"."""
    return code_line.split(")", 1)[1].strip() if ")" in code_line else code_line


def localized(fn) -> dict:
    """``{lang: fn(lang)}`` for every site language (context stays language-independent per key)."""
    return {lang: fn(lang) for lang in LANGS}


def fmt_values(values: dict, lang: str) -> dict:
    """Format numbers for a sentence in the strings catalog: floats/ints via ``num``, strings as-is."""
    out = {}
    for k, v in values.items():
        if isinstance(v, str):
            out[k] = v
        elif isinstance(v, bool):
            out[k] = str(v)
        else:
            out[k] = filters.num(v, lang)
    return out


def case_label(lang: str, case: str) -> str:
    return strings.t(lang, f"seed_page.case.{case}", **SCALES)


def _label(lang: str, kind: str, rows: list[dict], key: str) -> list[str]:
    """The catalog labels ``fig.<kind>.<row[key]>`` of ``rows``."""
    return [strings.t(lang, f"fig.{kind}.{r[key]}") for r in rows]


# --- the page -----------------------------------------------------------------------------------


def _cases_df(cases: list[dict], lang: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "case": [case_label(lang, r["case"]) for r in cases],
            "code": [filters.code(_scale_expr(r["code"])) for r in cases],
            "activation": _label(lang, "activation", cases, "activation"),
            "printed": [strings.t(lang, "seed_page.yes" if r["printed"] else "seed_page.no") for r in cases],
            "std1": [r["std1"] for r in cases],
            "stdL": [r["stdL"] for r in cases],
            "factor": [r["factor"] for r in cases],
        }
    )


def _glorot_df(rows: list[dict], lang: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "activation": _label(lang, "activation", rows, "activation"),
            "xavier": [r["xavier"] for r in rows],
            "glorot": [r["glorot"] for r in rows],
            "max_rel": [r["max_rel"] for r in rows],
        }
    )


def _bn_df(rows: list[dict], lang: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "norm": _label(lang, "norm", rows, "norm"),
            "activation": _label(lang, "activation", rows, "activation"),
            "mean": [r["mean"] for r in rows],
            "std": [r["std"] for r in rows],
        }
    )


def _summary(m: dict) -> tuple[dict, dict]:
    """Per discrepancy (a)..(f): the numbers of its sentence and the catalog key of the sentence."""
    L, width, fan, bn = m["L"], m["sizes"]["width"], m["fan"], m["bn"]
    small, he, xr = m["small"], m["he"], m["xr"]
    values = {
        "a": {"printed": small["printed_L"], "rerun": small["rerun_L"], "large_val": small["rerun_large_L"], "L": L},
        "b": {"factor": he["factor_printed"], "stdL": he["stdL_printed"], "corr": he["stdL_corrected"], "L": L},
        "c": {"width": width, "max_rel": fan["max_rel"]} if fan["have_glorot"] else {"width": width},
        "d": {"factor": xr["factor_seed"], "theory": xr["theory"], "stdL": xr["stdL"], "L": L},
        "e": {"dim": width, "comment": SEED_COMMENT_DIM},
        "f": {
            "std_tanh": bn["rows"].get("bn_tanh", {}).get("std", math.nan),
            "mean_relu": bn["rows"].get("bn_relu", {}).get("mean", math.nan),
            "std_relu": bn["rows"].get("bn_relu", {}).get("std", math.nan),
        },
    }
    runs = small.get("runs", {})
    keys = {
        "a": "a" if runs.get("both_large") and runs.get("small_never_shown") else "a_plain",
        "b": "b",
        "c": "c" if fan["have_glorot"] else "c_nodata",
        "d": "d",
        "e": "e",
        "f": "f" if bn["have_bn"] and m["bn_rows"] else "f_nodata",
    }
    return values, keys


def _summary_df(values: dict, keys: dict, lang: str) -> pd.DataFrame:
    ids = list(values)
    return pd.DataFrame(
        {
            "id": [f"({i})" for i in ids],
            "item": [strings.t(lang, f"seed_page.summary.{i}.item", **SCALES) for i in ids],
            "consequence": [
                strings.t(lang, f"seed_page.summary.{keys[i]}.consequence", **SCALES, **fmt_values(values[i], lang))
                for i in ids
            ],
        }
    )


def context(data) -> dict:
    sizes = seed_sizes(data)
    m = measure(data)
    if m is None:
        return {"available": False}
    summary_values, summary_keys = _summary(m)
    return {
        "available": True,
        "scales": SCALES,
        "sizes": m["sizes"],
        "L": m["L"],
        "depth_seed": sizes["depth"],
        "seeds": m["seeds"],
        "n_seeds": len(m["seeds"]),
        "match_rtol": MATCH_RTOL,
        "cases": m["cases"],
        "code": {c: seed_reference.SEED_CASES[c][1] for c in CASES},
        "factors": m["factors"],
        "matches": m["matches"],
        "small": m["small"],
        "holds": m["holds"],
        "he": m["he"],
        "fan": m["fan"],
        "xr": m["xr"],
        "inp": m["inp"],
        "bn": m["bn"],
        "tables": {
            "summary": localized(lambda lang: _summary_df(summary_values, summary_keys, lang)),
            "cases": localized(lambda lang: _cases_df(m["cases"], lang)),
            "small": m["small_tbl"],
            "holds": m["holds_tbl"],
            "he": m["he_tbl"],
            "glorot": localized(lambda lang: _glorot_df(m["glorot_rows"], lang)),
            "bn": localized(lambda lang: _bn_df(m["bn_rows"], lang)),
        },
    }
