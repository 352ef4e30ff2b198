"""The conclusions page's propagation rules in four verdict classes, on synthetic per-seed data whose answer
is known: a flat effect is inconclusive, an interval beyond the margin is does_not_hold, seed halves that
disagree are inconclusive; and the training rows show claims.csv's effect, interval, runs, setting, halves."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from generator.analysis import claim_rules as cr
from generator.analysis import claims
from generator.analysis.verdicts import Interval, t_quantile
from generator.pages import conclusions
from generator.pages import training as training_page
from generator.render import strings

SEEDS = tuple(range(10))


def rows(
    init,
    act,
    seeds,
    std_of,
    *,
    grad=0.1,
    gradh=lambda s, l: 1.0,
    sat=0.0,
    depth=6,
    norm="none",
    diverged=lambda s: False,
):
    """Per-seed layer rows of one configuration: ``std_of(seed, layer)``."""
    return [
        dict(
            init=init,
            activation=act,
            norm=norm,
            seed=s,
            layer=l,
            mean=0.0,
            std=std_of(s, l),
            saturated_frac=sat,
            grad_w_ratio=grad,
            grad_h_std=gradh(s, l),
            diverged=diverged(s) and l == depth,
        )
        for s in seeds
        for l in range(1, depth + 1)
    ]


def frame(*parts) -> pd.DataFrame:
    return pd.DataFrame([r for p in parts for r in p])


# --- the rule families: closed forms ---------------------------------------------------------------


def test_threshold_rule_classes():
    m = cr.LOG_MARGIN
    assert cr.threshold_verdict(Interval(0.5, 0.1, 0.9, 10), m) == "holds"
    assert cr.threshold_verdict(Interval(0.0, -0.2, 0.2, 10), m) == "inconclusive"  # flat: straddles
    assert cr.threshold_verdict(Interval(-0.2, -0.25, -0.15, 10), m) == "inconclusive"  # wrong side, within margin
    assert cr.threshold_verdict(Interval(-1.0, -1.2, -0.8, 10), m) == "does_not_hold"  # beyond the margin
    assert cr.threshold_verdict(Interval(1.0, math.nan, math.nan, 1), m) == "inconclusive"  # one seed: no interval


def test_band_rule_and_all_of():
    w, m = 1.0, cr.LOG_MARGIN  # band [0.1, 10] on log10
    assert cr.band_verdict(Interval(0, -0.2, 0.2, 5), w, m) == "holds"
    assert cr.band_verdict(Interval(1, 0.8, 1.2, 5), w, m) == "inconclusive"  # straddles the upper edge
    assert cr.band_verdict(Interval(3, 2.8, 3.2, 5), w, m) == "does_not_hold"
    assert cr.band_verdict(Interval(-3, -3.2, -2.8, 5), w, m) == "does_not_hold"
    assert cr.all_of(["holds", "inconclusive"]) == "inconclusive"
    assert cr.all_of(["holds", "does_not_hold"]) == "does_not_hold"
    assert cr.all_of([]) == "inconclusive"
    assert cr.label_verdict([True] * 3) == "holds" and cr.label_verdict([False] * 3) == "does_not_hold"
    assert cr.label_verdict([True, False]) == "inconclusive"


def test_spread_is_the_t_interval_of_the_log_mean():
    x = np.array([1.0, 10.0, 100.0])  # log10: 0, 1, 2 -> mean 1, sd 1
    sp = cr.spread(x)
    half = t_quantile(3) / math.sqrt(3)
    assert sp["gm"] == pytest.approx(10.0)
    assert sp["lo"] == pytest.approx(10 ** (1 - half)) and sp["hi"] == pytest.approx(10 ** (1 + half))
    assert (sp["min"], sp["max"], sp["n"]) == (1.0, 100.0, 3)


# --- the claims on synthetic grids ------------------------------------------------------------------


def _small_grid(collapse_of_seed) -> claims.Runs:
    """tanh small init whose last/first std ratio per seed is ``collapse_of_seed(s)``; Xavier for the gradient."""
    small = rows("small", "tanh", SEEDS, lambda s, l: 0.2 * collapse_of_seed(s) ** ((l - 1) / 5), grad=1e-4)
    ref = rows("xavier", "tanh", SEEDS, lambda s, l: 0.6, grad=0.1)
    return claims.Runs(frame(small, ref))


def test_small_init_holds_when_every_seed_collapses():
    rng = np.random.default_rng(0)
    jitter = {s: float(rng.uniform(0.5, 2.0)) for s in SEEDS}
    j = claims.judge_small(_small_grid(lambda s: 1e-5 * jitter[s]), ["tanh"])
    assert j["verdict"] == j["verdict_a"] == j["verdict_b"] == "holds"
    assert j["parts"] == {"collapsed": "holds", "grad_vanishes": "holds"}
    assert j["values"]["ratio"]["min"] == pytest.approx(1e-5 * min(jitter.values()))


def test_ratio_at_the_threshold_is_inconclusive_not_does_not_hold():
    # ratio scattered around the collapse threshold: the interval straddles it
    j = claims.judge_small(_small_grid(lambda s: claims.COLLAPSE_RATIO * (1.5 if s % 3 else 0.6)), ["tanh"])
    assert j["parts"]["collapsed"] == "inconclusive"
    # a clear non-collapse (ratio 0.5, far above 2 x the threshold) is evidence of absence
    j = claims.judge_small(_small_grid(lambda s: 0.5), ["tanh"])
    assert j["parts"]["collapsed"] == "does_not_hold" and j["verdict"] == "partly"  # the gradient part holds


def test_seed_halves_that_disagree_make_it_inconclusive():
    # even seeds (half A) collapse, odd seeds (half B) do not
    j = claims.judge_small(_small_grid(lambda s: 1e-6 if s % 2 == 0 else 0.5), ["tanh"])
    assert j["verdict_a"] == "holds" and j["verdict_b"] == "partly"
    assert j["verdict"] == "inconclusive"


def test_he_relu_one_diverged_seed_is_evidence():
    ok = rows("he", "relu", SEEDS, lambda s, l: 0.8)
    assert claims.judge_he_relu(claims.Runs(frame(ok)), ["relu"])["verdict"] == "holds"
    bad = rows("he", "relu", SEEDS, lambda s, l: 0.8, diverged=lambda s: s == 3)
    j = claims.judge_he_relu(claims.Runs(frame(bad)), ["relu"])
    assert j["parts"]["not_diverged"] == "does_not_hold" and j["verdict_all"] == "does_not_hold"
    assert j["values"]["n_diverged"] == 1


def test_xavier_tanh_label_rule_mixed_seeds_inconclusive():
    # sigmoid's gradient reaches layer 1 in half the seeds only (0.25^5 ~ 1e-3 of the output otherwise)
    sig = rows("xavier", "sigmoid", SEEDS, lambda s, l: 0.5, gradh=lambda s, l: (1.0 if s < 5 else 0.25) ** (6 - l))
    tanh = rows("xavier", "tanh", SEEDS, lambda s, l: 0.5)
    j = claims.judge_xavier_tanh(claims.Runs(frame(sig, tanh)), ["sigmoid", "tanh"])
    assert j["parts"]["sigmoid"] == "inconclusive" and j["parts"]["tanh"] == "holds"
    assert j["values"]["sigmoid"]["n_ok"] == 5


def test_bn_init_equal_spreads_do_not_hold():
    inits = ["small", "xavier", "he"]
    stds = {"small": 0.01, "xavier": 0.3, "he": 0.6}
    rng = np.random.default_rng(1)
    noise = {s: float(rng.uniform(0.95, 1.05)) for s in SEEDS}
    none = [
        r for i in inits for r in rows(i, "tanh", SEEDS, lambda s, l, i=i: stds[i] * (noise[s] if i == "he" else 1))
    ]
    same = [
        r
        for i in inits
        for r in rows(i, "tanh", SEEDS, lambda s, l, i=i: stds[i] * (noise[s] if i == "he" else 1), norm="bn")
    ]
    j = claims.judge_bn_init(claims.Runs(frame(none, same)), inits, ["tanh"], ["none", "bn"])
    # BN changes nothing: the paired interval of the reduction lies below log10(MARGIN_FACTOR)
    assert j["spreads"]["tanh"]["reduces"] == "does_not_hold" and j["verdict"] == "does_not_hold"
    flat = [r for i in inits for r in rows(i, "tanh", SEEDS, lambda s, l: 0.63, norm="bn")]
    assert claims.judge_bn_init(claims.Runs(frame(none, flat)), inits, ["tanh"], ["none", "bn"])["verdict"] == "holds"


# --- training rows: the claims.csv interface of generator.analysis.training.read_claims ---------------


def test_training_row_shows_effect_interval_runs_setting_and_halves():
    tr = {
        "overfitting": {
            "verdict": "inconclusive",
            "effect": 0.0123,
            "ci_low": -0.004,
            "ci_high": 0.0286,
            "n_runs": 30.0,
            "setting": "data=digits; width=100; depth=6",
            "verdict_a": "holds",
            "verdict_b": "inconclusive",
        }
    }
    for lang in strings.LANGUAGES:
        r = conclusions._row("overfitting", "training", lang, {}, tr, {})
        assert r["key"] == "inconclusive"
    assert strings.t("ko", "conclusions.verdict.inconclusive") != strings.t("en", "conclusions.verdict.inconclusive")
    for lang in strings.LANGUAGES:
        r = conclusions._row("overfitting", "training", lang, {}, tr, {})
        assert r["verdict"] == strings.t(lang, "conclusions.verdict.inconclusive")
        assert re.search(r"(?<![\d.])30(?![\d.])", r["evidence"])
        assert training_page.setting_text("data=digits; width=100; depth=6", lang) in r["evidence"]
        assert "1.2" in r["evidence"] and "2.9" in r["evidence"]  # effect 1.23 % [−0.4 %, 2.86 %] in percent
        assert r["halves"] == (
            strings.t(lang, "conclusions.verdict.holds") + " / " + strings.t(lang, "conclusions.verdict.inconclusive")
        )


def test_per_run_stats_equal_case_stats_on_each_seed():
    """The one-pass per-run table gives what case_stats gives on that seed's rows alone (divergence rule too)."""
    rng = np.random.default_rng(2)
    noise = {(s, l): float(rng.uniform(0.5, 1.5)) for s in range(4) for l in range(1, 7)}
    prop = frame(
        rows(
            "he",
            "relu",
            range(4),
            lambda s, l: noise[s, l],
            gradh=lambda s, l: noise[s, l] ** 2,
            diverged=lambda s: s == 2,
        ),
        rows("xavier", "tanh", range(4), lambda s, l: 0.5 * noise[s, l], sat=0.25),
    )
    runs = claims.Runs(prop)
    for s in range(4):
        for init, act in (("he", "relu"), ("xavier", "tanh")):
            want = claims.case_stats(prop[prop["seed"] == s], init, act)
            got = runs.stats(s, init, act)
            for k in ("std1", "stdL", "ratio", "factor", "meanL", "satL", "grad1", "gradflow", "diverged", "depth"):
                assert got[k] == pytest.approx(want[k], nan_ok=True), (s, init, k)
    assert runs.stats(2, "he", "relu")["diverged"] and math.isnan(runs.stats(2, "he", "relu")["ratio"])
