"""The seed-aggregation rule (generator/analysis/seeds.py) on synthetic frames, checked against an
independent plain-NumPy computation of the same rule."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from generator.analysis.seeds import SeedMeans, last_layer_matrix, layer_stats

DEPTH = 6
SEEDS = (0, 1, 2)


def _frame(diverge_from: dict, seed: int = 7, inf_at=(), nan_at=()) -> pd.DataFrame:
    """Random positive std / grad values for (init, tanh, none) runs; ``diverge_from[(init, seed)]`` =
    first diverged layer; ``inf_at`` / ``nan_at``: (init, seed, layer) rows whose std is ±inf / NaN."""
    rng = np.random.default_rng(seed)
    rows = []
    for init in ("a", "b"):
        for s in SEEDS:
            first = diverge_from.get((init, s))
            for layer in range(1, DEPTH + 1):
                std = float(rng.uniform(0.5, 2.0) * 10.0**layer)
                if (init, s, layer) in inf_at:
                    std = math.inf if layer % 2 else -math.inf
                if (init, s, layer) in nan_at:
                    std = math.nan
                rows.append(
                    dict(
                        init=init,
                        activation="tanh",
                        norm="none",
                        seed=s,
                        layer=layer,
                        std=std,
                        grad_h_std=float(rng.uniform(0.0, 1.0)) if layer > 1 else 0.0,
                        theory_std=float(layer),
                        diverged=first is not None and layer >= first,
                    )
                )
    return pd.DataFrame(rows)


def _numpy_rule(df: pd.DataFrame, init: str, col: str):
    """Independent computation: per layer, values of seeds not diverged at or before that layer and
    finite (and no ±inf in the row's measured values) -> mean / min / max; flags."""
    out = {"mean": [], "lo": [], "hi": [], "n_ok": [], "diverged": []}
    for layer in range(1, DEPTH + 1):
        vals, n_ok, any_div = [], 0, False
        for s in SEEDS:
            run = df[(df["init"] == init) & (df["seed"] == s)].sort_values("layer")
            upto = run[run["layer"] <= layer]
            div = bool(upto["diverged"].any() or np.isinf(upto[["std", "grad_h_std"]].to_numpy()).any())
            any_div |= div
            if not div:
                n_ok += 1
                v = float(run.loc[run["layer"] == layer, col].iloc[0])
                if np.isfinite(v):
                    vals.append(v)
        v = np.array(vals)
        out["mean"].append(v.sum() / v.size if v.size else np.nan)
        out["lo"].append(v.min() if v.size else np.nan)
        out["hi"].append(v.max() if v.size else np.nan)
        out["n_ok"].append(n_ok)
        out["diverged"].append(any_div)
    return {k: np.array(v) for k, v in out.items()}


def test_one_of_three_seeds_diverged_from_layer_3():
    df = _frame({("a", 1): 3})
    sm = SeedMeans(df)
    c = sm.case("a", "tanh").set_index("layer")
    ref = _numpy_rule(df, "a", "std")
    np.testing.assert_allclose(c["std"].to_numpy(), ref["mean"], rtol=1e-15)
    assert c.loc[1:2, "n_ok"].tolist() == [3, 3] and c.loc[3:, "n_ok"].tolist() == [2] * (DEPTH - 2)
    assert c["n_seeds"].tolist() == [3] * DEPTH
    assert c.loc[1:2, "diverged"].tolist() == [False, False] and c.loc[3:, "diverged"].all()
    assert not c["all_diverged"].any() and c["diverged_case"].all()
    # the diverged seed's values are excluded from layer 3 on: mean of the two others
    ok = df[(df["init"] == "a") & (df["seed"] != 1) & (df["layer"] == 4)]["std"].to_numpy()
    assert c.loc[4, "std"] == pytest.approx(ok.mean(), rel=1e-15)
    # the other init never diverged: no flag anywhere
    b = sm.case("b", "tanh")
    assert not b["diverged"].any() and not b["diverged_case"].any() and (b["n_ok"] == 3).all()


def test_diverged_flag_is_sticky_even_if_the_column_is_not():
    df = _frame({})
    df.loc[(df["init"] == "a") & (df["seed"] == 2) & (df["layer"] == 3), "diverged"] = True  # layer 3 only
    c = SeedMeans(df).case("a", "tanh").set_index("layer")
    assert c.loc[3:, "diverged"].all() and (c.loc[3:, "n_ok"] == 2).all() and not c.loc[2, "diverged"]


def test_all_three_diverged_gives_nan_and_all_diverged():
    df = _frame({("a", 0): 4, ("a", 1): 2, ("a", 2): 5})
    c = SeedMeans(df).case("a", "tanh").set_index("layer")
    assert c.loc[5:, "all_diverged"].all() and not c.loc[:4, "all_diverged"].any()
    assert c.loc[5:, "std"].isna().all() and c.loc[5:, "grad_h_std"].isna().all()
    assert (c.loc[5:, "n_ok"] == 0).all()
    # a prediction column is not a measurement of the run: still averaged
    assert c.loc[6, "theory_std"] == 6.0
    st = layer_stats(df, "std", DEPTH, init="a", activation="tanh", norm="none")
    assert np.isnan(st.mean[4:]).all() and st.diverged[1:].all() and not st.diverged[0]


def test_inf_and_nan_never_contribute():
    df = _frame({}, inf_at={("a", 0, 2)}, nan_at={("a", 2, 4)})
    c = SeedMeans(df).case("a", "tanh").set_index("layer")
    ref = _numpy_rule(df, "a", "std")
    assert np.isfinite(c["std"]).all()
    np.testing.assert_allclose(c["std"].to_numpy(), ref["mean"], rtol=1e-15)
    # ±inf is an overflow: the run counts as diverged from there on; NaN only drops that value
    assert c["n_ok"].tolist() == ref["n_ok"].tolist() == [3, 2, 2, 2, 2, 2]
    assert c["diverged"].tolist() == ref["diverged"].tolist()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_matches_independent_numpy_on_random_divergence(seed):
    rng = np.random.default_rng(seed)
    div = {(i, s): int(rng.integers(1, DEPTH + 3)) for i in ("a", "b") for s in SEEDS}
    div = {k: v for k, v in div.items() if v <= DEPTH}
    df = _frame(div, seed=seed, nan_at={("b", 0, 5)})
    df = df.sample(frac=1.0, random_state=seed).reset_index(drop=True)  # row order must not matter
    sm = SeedMeans(df)
    for init in ("a", "b"):
        for col in ("std", "grad_h_std"):
            ref = _numpy_rule(df, init, col)
            st = sm.stats(col, init=init, activation="tanh", norm="none")
            np.testing.assert_allclose(st.mean, ref["mean"], rtol=1e-14)
            np.testing.assert_array_equal(st.lo, ref["lo"])
            np.testing.assert_array_equal(st.hi, ref["hi"])
            np.testing.assert_array_equal(st.diverged, ref["diverged"])
        c = sm.case(init, "tanh")
        assert c["n_ok"].tolist() == _numpy_rule(df, init, "std")["n_ok"].tolist()
    vals, dv, zero = last_layer_matrix(df, "std", ["a", "b", "missing"], ["tanh"], "none", DEPTH)
    assert np.isnan(vals[2, 0]) and not dv[2, 0] and not zero[2, 0]
    for k, init in enumerate(("a", "b")):
        ref = _numpy_rule(df, init, "std")
        np.testing.assert_allclose(vals[k, 0], ref["mean"][-1], rtol=1e-14)
        assert dv[k, 0] == ref["diverged"][-1]
    # zero flag: grad_h_std is exactly 0 at layer 1 in every seed
    assert sm.stats("grad_h_std", init="a", activation="tanh", norm="none").zero.tolist() == [True] + [False] * 5


def test_missing_case_is_empty_with_the_same_columns():
    sm = SeedMeans(_frame({}))
    empty = sm.case("nope", "tanh")
    assert len(empty) == 0 and list(empty.columns) == list(sm.case("a", "tanh").columns)
    assert len(sm.last("none")) == 2 and set(sm.last("none")["layer"]) == {DEPTH}


def test_first_diverged_layer():
    sm = SeedMeans(_frame({("a", 1): 4, ("a", 2): 3}))
    assert sm.first_diverged("a", "tanh") == 3 and sm.first_diverged("b", "tanh") is None
    assert sm.first_diverged("nope", "tanh") is None
