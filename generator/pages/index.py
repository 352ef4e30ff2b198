"""Home page: what the site measures, the setup, and the results-at-a-glance health grid.

The health rules live in generator/analysis/health.py (forward label: explodes / vanishes / saturates / ok
from the last layer; backward label: vanishes / explodes / ok from the gradient ratio layer 1 / layer L;
``healthy`` = both ok); this page prints the same constants the rules use, and shows both labels in every
cell of the grid ("forward / backward"), with a legend. The helpers below are shared by this author's pages
(initialization, xavier, he, activations).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from generator.analysis.health import (
    BACKWARD,
    EXPLODE_ABOVE,
    FORWARD,
    GRAD_HIGH,
    GRAD_LOW,
    INPUT_STD,
    SATURATION_EXCESS,
    VANISH_BELOW,
    baseline_saturation,
    health_frame,
)
from generator.analysis.seeds import seed_means
from generator.common.languages import LANGUAGES
from generator.engine.activations import SATURATION_FRACTION
from generator.render import strings
from generator.render.filters import Badge

LANGS = LANGUAGES

VERDICTS = FORWARD  # the forward labels, in the order the rules are tried


# ------------------------------------------------------------------------------------------------
# helpers shared by this author's pages (initialization, xavier, he, activations)


def localized(builder) -> dict:
    """``{lang: builder(lang)}`` for every site language (tables whose labels are translated)."""
    return {lang: builder(lang) for lang in LANGS}


def label(lang: str, group: str, ident: str) -> str:
    """Display name of an init / activation / norm from the strings catalog."""
    return strings.t(lang, f"fig.{group}.{ident}")


def has(data, init: str | None = None, activation: str | None = None, norm: str = "none") -> bool:
    """Whether the configured grid holds this (init, activation, norm)."""
    p = data.grid.propagation
    return (init is None or init in p.inits) and (activation is None or activation in p.activations) and norm in p.norms


def second_moment(case: pd.DataFrame) -> np.ndarray:
    """E[h^2] per layer = std^2 + mean^2 (columns of Dataset.case)."""
    return case["std"].to_numpy(float) ** 2 + case["mean"].to_numpy(float) ** 2


def successive_ratios(values) -> np.ndarray:
    """v[l] / v[l-1] for l = 2..L (NaN where undefined)."""
    v = np.asarray(values, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return v[1:] / v[:-1]


def geometric_mean(values) -> float:
    """Geometric mean of the finite positive values (NaN if none)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    return float(np.exp(np.mean(np.log(v)))) if v.size else math.nan


def first_diverged_layer(data, init: str, activation: str, norm: str = "none") -> int | None:
    """The first layer at which any seed diverged, or None."""
    return seed_means(data).first_diverged(init, activation, norm)


def health_kind(label: str) -> str:
    """The badge colour of a health label (filters.BADGE_KINDS): the label itself, "unmeasured" grey."""
    return "neutral" if label == "unmeasured" else label


def health_text(lang: str, forward: str, backward: str) -> Badge:
    """The two labels of a configuration as shown everywhere on the site: "forward / backward" (a
    :class:`~generator.render.filters.Badge` pair: plain text in prose, two badges in a table)."""
    return Badge.join(
        [
            Badge(strings.t(lang, f"index.forward.{forward}"), health_kind(forward)),
            Badge(strings.t(lang, f"index.backward.{backward}"), health_kind(backward)),
        ]
    )


def glance_frame(data, norm: str = "none") -> pd.DataFrame:
    """One row per (init, activation) of ``norm`` in grid order: the health record (analysis/health.py)
    plus ``ratio`` (last std / input std), ``excess`` (saturated fraction above the baseline), ``diverged``."""
    cfg = data.grid.propagation
    h = health_frame(data)
    h = h[h["norm"] == norm].set_index(["init", "activation"])
    rows = []
    for init in cfg.inits:
        for act in cfg.activations:
            if (init, act) not in h.index:
                continue
            r = h.loc[(init, act)].to_dict()
            fd = r["first_diverged"]
            rows.append(
                {
                    "init": init,
                    "activation": act,
                    **r,
                    "ratio": r["last_std"] / INPUT_STD,
                    "excess": r["saturated_frac"] - r["saturation_baseline"],
                    "diverged": bool(np.isfinite(fd)),
                    "first_diverged": int(fd) if np.isfinite(fd) else None,
                }
            )
    return pd.DataFrame(rows)


def glance_cell(lang: str, forward: str, backward: str) -> Badge:
    """The compact grid cell: "healthy" when both passes are ok; the shared word when both labels are the
    same; "grad <label>" when only the backward pass fails; else "<forward> / grad <backward>". The full
    records with their numbers are in health.csv and the per-page tables."""
    if forward == "ok" and backward == "ok":
        return Badge(strings.t(lang, "index.verdict.healthy"), "ok")
    grad = Badge(
        strings.t(lang, "index.cell.grad", label=strings.t(lang, f"index.backward.{backward}")), health_kind(backward)
    )
    if forward == "ok":
        return grad
    if forward == backward:
        return Badge(strings.t(lang, f"index.forward.{forward}"), health_kind(forward))
    return Badge.join([Badge(strings.t(lang, f"index.forward.{forward}"), health_kind(forward)), grad])


def _glance_table(frame: pd.DataFrame, inits, activations, lang: str) -> pd.DataFrame:
    """Rows = inits, columns = activations, cells = :func:`glance_cell` in ``lang`` (‡: halves disagree)."""
    cells = {(r.init, r.activation): r for r in frame.itertuples()}
    out = []
    for init in inits:
        row = {"init": label(lang, "init", init)}
        for act in activations:
            r = cells.get((init, act))
            if r is None:
                row[act] = "—"
                continue
            mark = strings.t(lang, "index.unstable_mark") if r.stability == "unstable" else ""
            row[act] = glance_cell(lang, r.forward, r.backward).suffixed(mark)
        out.append(row)
    return pd.DataFrame(out)


def context(data) -> dict:
    cfg = data.grid.propagation
    frame = glance_frame(data)
    inits = [i for i in cfg.inits if i in set(frame["init"])]
    acts = [a for a in cfg.activations if a in set(frame["activation"])]
    healthy = frame[frame["healthy"]]
    baselines = {a: baseline_saturation(a) for a in acts}
    fwd_ok = frame[frame["forward"] == "ok"]
    return {
        "rules": {
            "input_std": INPUT_STD,
            "vanish_below": VANISH_BELOW,
            "explode_above": EXPLODE_ABOVE,
            "saturation_excess": SATURATION_EXCESS,
            "depth": cfg.depth,
            "diverge_rms": cfg.diverge_rms,
            "order": list(FORWARD),
            "backward": list(BACKWARD),
            "saturation_fraction": SATURATION_FRACTION,
            "grad_low": GRAD_LOW,
            "grad_high": GRAD_HIGH,
        },
        "baselines": baselines,
        "relu_baseline": baselines.get("relu"),
        "frame": frame,
        "table": localized(lambda lang: _glance_table(frame, inits, acts, lang)),
        "table_columns": localized(
            lambda lang: {"init": strings.t(lang, "index.col_init"), **{a: label(lang, "activation", a) for a in acts}}
        ),
        "counts": {v: int((frame["forward"] == v).sum()) for v in FORWARD},
        "backward_counts": {v: int((frame["backward"] == v).sum()) for v in BACKWARD},
        "n_healthy": int(len(healthy)),
        # forward ok but the gradient does not reach layer 1 intact: what a forward-only rule called healthy
        "forward_only": int((fwd_ok["backward"] != "ok").sum()),
        "n_unstable": int((frame["stability"] == "unstable").sum()),
        "n_seeds": int(frame["n_seeds"].min()) if len(frame) else 0,
        "n_cells": int(len(frame)),
        "n_healthy_inits": {a: int((healthy["activation"] == a).sum()) for a in acts},
        "glossary": list(strings.load("ko").get("glossary", {}).keys()),
    }


# ------------------------------------------------------------------------------------------------
# one init across the activations (xavier and he pages): both labels and their seed spread

HEALTH_COLUMNS = ("activation", "last_std", "last_std_range", "grad_ratio", "grad_ratio_range", "verdict")


def init_health(data, init: str, norm: str = "none") -> list[dict]:
    """The health records of ``init`` with every activation of the grid (grid order)."""
    h = health_frame(data)
    h = h[(h["init"] == init) & (h["norm"] == norm)].set_index("activation")
    return [h.loc[a].to_dict() | {"activation": a} for a in data.grid.propagation.activations if a in h.index]


def init_health_table(rows: list[dict], lang: str) -> pd.DataFrame:
    """Activation, last-layer std and gradient ratio (seed mean, min–max over seeds) and the two labels."""
    from generator.render.filters import num

    def rng(lo, hi):
        return f"{num(lo, lang)}–{num(hi, lang)}" if np.isfinite(lo) and np.isfinite(hi) else "—"

    return pd.DataFrame(
        [
            {
                "activation": label(lang, "activation", r["activation"]),
                "last_std": r["last_std"],
                "last_std_range": rng(r["last_std_lo"], r["last_std_hi"]),
                "grad_ratio": r["grad_ratio"],
                "grad_ratio_range": rng(r["grad_ratio_lo"], r["grad_ratio_hi"]),
                "verdict": health_text(lang, r["forward"], r["backward"]),
            }
            for r in rows
        ],
        columns=list(HEALTH_COLUMNS),
    )


def init_health_context(data, init: str) -> dict | None:
    """What the xavier / he pages print about one init across activations (None if not in the grid)."""
    rows = init_health(data, init)
    if not rows:
        return None
    return {
        "rows": {r["activation"]: r for r in rows},
        "healthy": [r["activation"] for r in rows if r["healthy"]],
        "forward_only": [r["activation"] for r in rows if r["forward"] == "ok" and r["backward"] != "ok"],
        "table": localized(lambda lang: init_health_table(rows, lang)),
        "columns": localized(lambda lang: {k: strings.t(lang, f"index.health_col.{k}") for k in HEALTH_COLUMNS}),
        "formats": {"last_std": "sig3", "grad_ratio": "sig3"},
    }
