"""Page ``phase`` (질서와 혼돈 / Order and chaos): the phase diagram, depth scales and trainability. Display only.

Reads the contract files of issue 17 item 7 (``phase_theory.csv``, ``phase_critical.csv``,
``phase_measured.csv``, ``trainability.csv``) and what generator/analysis/phase.py and
generator/analysis/trainability.py make of them; every number the template prints is in this context.

* ``available``: phase_theory.csv and phase_critical.csv exist (without them the page says the phase
  stage did not run, and links nothing that is absent); ``has_measured`` / ``has_trainability``: the
  sections of the measurements and of trainability, each only when its file exists;
* ``grid``: the theory grid's axes as the data hold them; ``acts``: one dict per activation of
  phase_theory.csv (regime counts, the critical sigma_w2 at the smallest and largest sigma_b2 of
  phase_critical.csv, the smallest c* of a non-exploding point (rounded to :data:`C_STAR_DECIMALS`) and
  the first grid point where it occurs, and ``on_line``: the named inits whose
  sigma_w2 (generator.engine.theory.sigma_w2, fan_in = fan_out) equals the critical sigma_w2 at sigma_b2 = 0
  within :data:`ON_LINE_RTOL`);
* ``measured``: ``analysis.phase.phase_summary`` rows by activation, and the display table of
  ``xi_c_fits`` at the largest width (``tables.fits.<lang>``);
* ``train``: ``analysis.trainability.trainability_summary`` (rule constants, counts, verdict) plus the
  grid the data cover.

The analysis modules are imported where they are used, so the page registry loads without them.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from generator.analysis.factors import ACT_ORDER
from generator.common.languages import LANGUAGES
from generator.engine import theory
from generator.figures.instances import PHASE_INITS
from generator.render import filters, strings
from generator.render.wording import cfg

THEORY, CRITICAL, MEASURED, TRAINABILITY = (
    "phase_theory.csv",
    "phase_critical.csv",
    "phase_measured.csv",
    "trainability.csv",
)
NAMES = (THEORY, CRITICAL, MEASURED, TRAINABILITY)
REGIMES = ("ordered", "critical", "chaotic", "explodes")
ON_LINE_RTOL = 1e-6  # an init "sits on the critical line" when its sigma_w2 equals the critical one to this
C_STAR_DECIMALS = 6  # c* is accurate to ~1e-6 for kinked activations (engine/phase.py): printed rounded to this


def context(data) -> dict:
    """The phase page's context from a ``generator.contract.dataset.Dataset``."""
    grid = data.grid
    settings = None
    if "phase" in grid.sections:
        settings = {"q0": grid.phase.q0, "c0": grid.phase.c0, "points": grid.phase.quadrature_points}
    return phase_context({n: data.frame(n) for n in NAMES if data.has(n)}, settings)


def _acts(frame: pd.DataFrame) -> list[str]:
    have = set(frame["activation"])
    return [a for a in ACT_ORDER if a in have] + sorted(have - set(ACT_ORDER))


def _axis(values) -> dict:
    v = sorted(set(float(x) for x in values))
    return {"min": v[0], "max": v[-1], "n": len(v)}


def _named_inits(act: str) -> list[dict]:
    return [{"init": i, "sigma_w2": theory.sigma_w2(i, act, 100, 100)} for i in PHASE_INITS]


def _act_row(act: str, th: pd.DataFrame, crit: pd.DataFrame) -> dict:
    t = th[th["activation"] == act]
    c = crit[crit["activation"] == act].sort_values("sigma_b2")
    counts = {r: int((t["regime"] == r).sum()) for r in REGIMES}
    finite = t[t["regime"] != "explodes"]
    c_low = finite.loc[finite["c_star"].idxmin()] if finite["c_star"].notna().any() else None
    first, last = c.iloc[0], c.iloc[-1]
    crit0 = float(first["sigma_w2_critical"]) if float(first["sigma_b2"]) == 0.0 else math.nan
    inits = _named_inits(act)
    on_line = [
        d["init"]
        for d in inits
        if d["sigma_w2"] is not None
        and math.isfinite(crit0)
        and math.isclose(d["sigma_w2"], crit0, rel_tol=ON_LINE_RTOL)
    ]
    return {
        "activation": act,
        "n_points": int(len(t)),
        "regimes": counts,
        "critical_b0": crit0,
        "critical_b_min": float(first["sigma_b2"]),
        "critical_lo": float(first["sigma_w2_critical"]),
        "critical_b_max": float(last["sigma_b2"]),
        "critical_hi": float(last["sigma_w2_critical"]),
        "q_star_hi": float(last["q_star"]),
        "q_star_hi_finite": math.isfinite(float(last["q_star"])),
        "inits": inits,
        "on_line": on_line,
        "c_star_min": None if c_low is None else round(float(c_low["c_star"]), C_STAR_DECIMALS) + 0.0,
        "c_star_min_at": None if c_low is None else {k: float(c_low[k]) for k in ("sigma_w2", "sigma_b2")},
    }


def _fits_tables(fits: pd.DataFrame) -> dict[str, pd.DataFrame]:
    width = int(fits["width"].max())
    f = fits[fits["width"] == width].sort_values(["activation", "sigma_w2", "sigma_b2"])
    out = {}
    for lang in LANGUAGES:
        rows = []
        for r in f.to_dict("records"):
            fit = r["xi_c_fit"]
            rows.append(
                {
                    "activation": strings.t(lang, f"fig.activation.{r['activation']}"),
                    "sigma_w2": cfg(r["sigma_w2"], lang),  # grid points: printed as configured
                    "sigma_b2": cfg(r["sigma_b2"], lang),
                    "regime": strings.t(lang, f"phase.regime.{r['regime']}"),
                    "xi_c_theory": r["xi_c_theory"],
                    # the jackknife interval is symmetric (fit -/+ t * se): printed as fit +/- half width
                    "xi_c_fit": strings.t(
                        lang,
                        "phase.interval",
                        mid=filters.num(fit, lang),
                        half=filters.num((r["xi_c_hi"] - r["xi_c_lo"]) / 2, lang),
                    )
                    if np.isfinite(fit) and np.isfinite(r["xi_c_hi"])
                    else (filters.num(fit, lang) if np.isfinite(fit) else filters.DASH),
                    "status": strings.t(lang, f"phase.status.{r['status']}"),
                }
            )
        out[lang] = pd.DataFrame(rows)
    return out


def _by_act(summary: pd.DataFrame, agreement: pd.DataFrame) -> dict:
    """Per activation: the q error at the smallest and largest width and its slope (phase_summary), and
    the xi_c fits' agreement at the largest width (fit_agreement)."""
    out = {}
    for act, g in summary.groupby("activation", sort=False):
        g = g.sort_values("width")
        first, last = g.iloc[0], g.iloc[-1]
        agree = agreement[agreement["activation"] == act].to_dict("records")
        out[act] = {
            "width_min": int(first["width"]),
            "width_max": int(last["width"]),
            "rel_err_min_width": float(first["rel_err"]),
            "rel_err_max_width": float(last["rel_err"]),
            "slope": float(last["slope"]),
            **(agree[0] if agree else {"n_points": 0, "n_fit": 0, "n_inconclusive": 0}),
        }
    return out


def _measured(frames: dict, settings: dict) -> dict:
    from generator.analysis.phase import MIN_SPANS, fit_agreement, phase_summary, q_error, theory_lookup, xi_c_fits

    m, th = frames[MEASURED], frames[THEORY]
    fits = xi_c_fits(m, theory_lookup(th), **settings)
    summary = phase_summary(q_error(m, **settings), th)
    return {
        "by_act": _by_act(summary, fit_agreement(fits)),
        "acts": _acts(summary),
        "widths": sorted(int(w) for w in m["width"].unique()),
        "n_seeds": int(m["seed"].nunique()),
        "depth": int(m["layer"].max()),
        "min_spans": MIN_SPANS,
        "width_max": int(fits["width"].max()),
        "tables": {"fits": _fits_tables(fits)},
    }


def _train(frames: dict) -> dict:
    from generator.analysis.trainability import accuracy_grid, trainability_summary

    t = frames[TRAINABILITY]
    grid = accuracy_grid(t)
    s = trainability_summary(grid)
    return {
        **s,
        "activation": str(t["activation"].iloc[0]),
        "sigma_b2": float(t["sigma_b2"].iloc[0]),
        "threshold": s["chance"] + s["margin"],
        "undefined_cells": int((grid["side"] == "undefined").sum()),
        "sigma_w2": _axis(t["sigma_w2"]),
        "depths": sorted(int(d) for d in t["depth"].unique()),
        "n_seeds": int(t["seed"].nunique()),
    }


def phase_context(frames: dict, settings: dict | None = None) -> dict:
    """Everything the page shows, from ``frames`` {contract file name: DataFrame} (absent files left out) and
    ``settings``: the measurement's q0, c0 and quadrature points (grid.json ``phase``; needed when
    phase_measured.csv is among the frames)."""
    available = THEORY in frames and CRITICAL in frames
    out = {
        "available": available,
        "has_measured": available and MEASURED in frames and len(frames[MEASURED]) > 0,
        "has_trainability": TRAINABILITY in frames and len(frames[TRAINABILITY]) > 0,
        "regime_names": list(REGIMES),
    }
    if not available:
        return out
    th, crit = frames[THEORY], frames[CRITICAL]
    out["grid"] = {"sigma_w2": _axis(th["sigma_w2"]), "sigma_b2": _axis(th["sigma_b2"])}
    out["acts"] = [_act_row(a, th, crit) for a in _acts(th)]
    if out["has_measured"]:
        if settings is None:
            raise ValueError("phase_context: phase_measured.csv needs the measurement's settings (q0, c0, points)")
        out["measured"] = _measured(frames, settings)
    if out["has_trainability"]:
        out["train"] = _train(frames)
    return out
