"""Health from both passes (generator/analysis/health.py, health.csv, and every page that says "healthy").

* the rules on hand-made inputs, at and around every threshold;
* ``health_of`` on synthetic propagation frames with closed-form per-layer values: labels, the gradient
  ratio, the seed spread (min/max, 95 % t interval against its closed form), the seed-half stability
  (halves that disagree -> ``unstable``; one seed -> ``untested``), a diverged run's values never used;
* health.csv: the contract's columns, a write/read round trip, the label vocabularies its descriptions list;
* no page calls a configuration healthy whose backward label is not ok: the golden data set with one
  configuration's gradient made to vanish (forward still ok), the five pages' contexts built from it and
  rendered, every healthy / labelled row checked against health.csv.
"""

from __future__ import annotations

import importlib
import math
import shutil

import numpy as np
import pandas as pd
import pytest
from scipy.stats import t as student_t

from generator.analysis import health as H
from generator.contract import schema
from generator.contract.dataset import Dataset

MINE = ("index", "initialization", "xavier", "he", "activations")


# ------------------------------------------------------------------------------------------------
# rules


def test_forward_rules_at_their_thresholds():
    f = H.forward_label
    assert f(1.0, 0.0, 0.0, False) == "ok"
    assert f(H.EXPLODE_ABOVE * 1.01, 0.0, 0.0, False) == "explodes"
    assert f(H.EXPLODE_ABOVE, 0.0, 0.0, False) == "ok"  # "more than": the bound itself is ok
    assert f(H.VANISH_BELOW * 0.99, 0.0, 0.0, False) == "vanishes"
    assert f(H.VANISH_BELOW, 0.0, 0.0, False) == "ok"
    assert f(1.0, 0.0, 0.0, True) == "explodes"  # divergence first
    assert f(1.0, 0.5 + H.SATURATION_EXCESS + 0.01, 0.5, False) == "saturates"
    assert f(1.0, 0.5 + H.SATURATION_EXCESS - 0.01, 0.5, False) == "ok"


def test_backward_rules_at_their_thresholds():
    b = H.backward_label
    assert b(1.0) == "ok"
    assert b(H.GRAD_LOW) == "ok" and b(H.GRAD_HIGH) == "ok"  # the band is closed
    assert b(H.GRAD_LOW * 0.99) == "vanishes" and b(0.0) == "vanishes"
    assert b(H.GRAD_HIGH * 1.01) == "explodes" and b(math.inf) == "explodes"
    assert b(1.0, zero_first=True) == "vanishes"  # nothing reaches layer 1
    assert b(1.0, measured=False) == "unmeasured" and b(math.nan) == "unmeasured"
    assert H.grad_ratio(2.0, 4.0) == 0.5
    assert H.grad_ratio(1.0, 0.0) == math.inf and math.isnan(H.grad_ratio(0.0, 0.0))
    assert H.grad_ratio(0.0, 1.0) == 0.0


def test_is_healthy_needs_both_passes():
    assert H.is_healthy({"forward": "ok", "backward": "ok"})
    assert not H.is_healthy({"forward": "ok", "backward": "vanishes"})
    assert not H.is_healthy({"forward": "saturates", "backward": "ok"})
    row = pd.DataFrame([{"forward": "ok", "backward": "ok"}]).iloc[0]
    assert H.is_healthy(row)


# ------------------------------------------------------------------------------------------------
# health_of on synthetic frames


def _frame(configs: dict, depth: int, seeds) -> pd.DataFrame:
    """Propagation-like rows: configs[(init, act)] = fn(seed) -> (std per layer, grad per layer, diverged)."""
    rows = []
    for (init, act), fn in configs.items():
        for seed in seeds:
            std, grad, div = fn(seed)
            for layer in range(1, depth + 1):
                rows.append(
                    {
                        "init": init,
                        "activation": act,
                        "norm": "none",
                        "seed": seed,
                        "layer": layer,
                        "mean": 0.0,
                        "std": std[layer - 1],
                        "min": -1.0,
                        "max": 1.0,
                        "saturated_frac": 0.0,
                        "zero_frac": 0.0,
                        "preact_std": std[layer - 1],
                        "grad_h_std": grad[layer - 1],
                        "grad_w_norm": 1.0,
                        "grad_w_ratio": 1.0,
                        "theory_std": np.nan,
                        "diverged": bool(div and layer >= div),
                    }
                )
    return pd.DataFrame(rows)


def _geometric(first, factor, depth):
    return [first * factor ** (l - 1) for l in range(1, depth + 1)]


def test_labels_and_numbers_from_closed_forms():
    L = 4
    seeds = [0, 1, 2, 3]
    scale = {0: 0.9, 1: 1.0, 2: 1.1, 3: 1.2}
    configs = {
        # forward flat at 1, gradient flat: healthy
        ("xavier", "linear"): lambda s: (_geometric(scale[s], 1.0, L), _geometric(1.0, 1.0, L), None),
        # forward flat, gradient grows towards the top by 4 per layer: ratio 4^-3 = 1/64 -> vanishes
        ("xavier", "tanh"): lambda s: (_geometric(0.5, 1.0, L), _geometric(scale[s] / 64, 4.0, L), None),
        # gradient shrinks towards the top: ratio 3^3 = 27 -> explodes
        ("he", "linear"): lambda s: (_geometric(1.0, 1.0, L), _geometric(27.0, 1 / 3, L), None),
        # every seed diverges at layer 2: forward explodes, gradient unmeasured
        ("large", "linear"): lambda s: (_geometric(1.0, 1e3, L), _geometric(1.0, 1.0, L), 2),
    }
    h = H.health_of(_frame(configs, L, seeds), L).set_index(["init", "activation"])
    assert list(h.reset_index().columns) == H.COLUMNS
    ok = h.loc[("xavier", "linear")]
    assert (ok["forward"], ok["backward"], ok["healthy"]) == ("ok", "ok", True)
    assert ok["last_std"] == pytest.approx(np.mean(list(scale.values())))
    assert (ok["last_std_lo"], ok["last_std_hi"]) == (0.9, 1.2)
    v = np.array(list(scale.values()))
    half = student_t.ppf(0.975, 3) * v.std(ddof=1) / 2.0  # t_{0.975,3} s / sqrt(4)
    assert ok["last_std_ci_low"] == pytest.approx(v.mean() - half) and ok["last_std_ci_high"] == pytest.approx(
        v.mean() + half
    )
    assert ok["n_seeds"] == 4 and ok["n_ok"] == 4 and ok["stability"] == "stable"
    van = h.loc[("xavier", "tanh")]
    assert (van["forward"], van["backward"], van["healthy"]) == ("ok", "vanishes", False)
    assert van["grad_ratio"] == pytest.approx(1 / 64)
    assert van["grad_ratio_lo"] == pytest.approx(1 / 64) and van["grad_ratio_hi"] == pytest.approx(1 / 64)
    assert h.loc[("he", "linear"), "backward"] == "explodes"
    assert h.loc[("he", "linear"), "grad_ratio"] == pytest.approx(27.0)
    big = h.loc[("large", "linear")]
    assert (big["forward"], big["backward"]) == ("explodes", "unmeasured")
    assert big["first_diverged"] == 2 and big["n_ok"] == 0 and big["last_std"] == math.inf
    assert math.isnan(big["grad_ratio_lo"])  # a diverged run's values never count


def test_halves_that_disagree_are_reported_unstable():
    L = 3

    # even-position seeds (0, 2) keep the gradient (ratio 1), odd ones (1, 3) lose it (ratio 1e-4): the
    # all-seed mean ratio is ~1/2 (ok), half a says ok, half b says vanishes
    def fn(s):
        return _geometric(1.0, 1.0, L), ([1.0, 1.0, 1.0] if s % 2 == 0 else [1e-4, 1e-2, 1.0]), None

    h = H.health_of(_frame({("xavier", "linear"): fn}, L, [0, 1, 2, 3]), L).iloc[0]
    assert (h["backward_a"], h["backward_b"]) == ("ok", "vanishes")
    assert h["stability"] == "unstable"
    assert h["grad_ratio_lo"] == pytest.approx(1e-4) and h["grad_ratio_hi"] == pytest.approx(1.0)


def test_a_single_seed_is_untested():
    L = 2
    h = H.health_of(_frame({("xavier", "linear"): lambda s: ([1, 1], [1, 1], None)}, L, [7]), L).iloc[0]
    assert h["stability"] == "untested" and h["forward_b"] == H.NO_HALF and h["forward_a"] == "ok"
    assert math.isnan(h["last_std_ci_low"])  # no interval from one seed


# ------------------------------------------------------------------------------------------------
# the contract


def test_contract_columns_vocabularies_and_round_trip(tmp_path):
    spec = schema.DATA_FILES["health.csv"]
    assert spec.column_names == H.COLUMNS
    desc = {c.name: c.en for c in spec.columns}
    assert all(v in desc["forward"] for v in H.FORWARD)
    assert all(v in desc["backward"] for v in H.BACKWARD)
    assert all(v in desc["stability"] for v in H.STABILITY)
    assert all(c.ko and c.en for c in spec.columns)
    L = 3
    frame = _frame(
        {
            ("xavier", "linear"): lambda s: ([1, 1, 1], [1, 1, 1], None),
            ("large", "linear"): lambda s: ([1, 1e3, 1e6], [1, 1, 1], 2),
        },
        L,
        [0],
    )
    h = H.health_of(frame, L)
    schema.write_csv("health.csv", h, tmp_path)
    back = schema.read_csv("health.csv", tmp_path)
    pd.testing.assert_frame_equal(back, h, check_dtype=False)


# ------------------------------------------------------------------------------------------------
# no page calls a configuration healthy whose backward label is not ok


@pytest.fixture(scope="module")
def broken_gradient(tmp_path_factory):
    """The golden data set, with Xavier + tanh's gradient made to vanish below layer 3 (its forward pass
    is untouched, so a forward-only rule would still call it healthy); health.csv and theory.csv added."""
    from generator.engine import theory
    from golden.make_data import DATA_DIR

    root = tmp_path_factory.mktemp("health_pages")
    for name in ("propagation.csv", "theory_fixed.csv", "grid.json"):
        shutil.copy(DATA_DIR / name, root / name)
    prop = schema.read_csv("propagation.csv", root)
    sel = (prop["init"] == "xavier") & (prop["activation"] == "tanh") & (prop["layer"] < 3)
    prop.loc[sel, "grad_h_std"] = prop.loc[sel, "grad_h_std"] * 1e-3
    schema.write_csv("propagation.csv", prop, root)
    data = Dataset(root)
    g = data.grid.propagation
    th = []
    for init in g.inits:
        for act in g.activations:
            mf = theory.mean_field(act, theory.sigma_w2(init, act, g.width, g.width), g.depth, points=32)
            th.append(pd.DataFrame({"init": init, "activation": act, **mf}))
    schema.write_csv("theory.csv", pd.concat(th, ignore_index=True), root)
    schema.write_csv("health.csv", H.health_of(prop, g.depth), root)
    data = Dataset(root)
    ctx = {name: importlib.import_module(f"generator.pages.{name}").context(data) for name in MINE}
    return data, ctx


def _labelled(obj, path=""):
    """Every dict in a page context that carries an (init, activation) and a health label or flag."""
    if isinstance(obj, dict):
        if "init" in obj and "activation" in obj and ({"healthy", "forward", "backward"} & set(obj)):
            yield path, obj
        for k, v in obj.items():
            yield from _labelled(v, f"{path}.{k}")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from _labelled(v, f"{path}[{i}]")
    elif isinstance(obj, pd.DataFrame) and {"init", "activation"} <= set(obj.columns):
        for i, r in enumerate(obj.to_dict("records")):
            yield from _labelled(r, f"{path}[{i}]")


def test_the_broken_case_is_forward_ok_backward_vanishes(broken_gradient):
    data, _ = broken_gradient
    rec = data.frame("health.csv").set_index(["init", "activation"]).loc[("xavier", "tanh")]
    assert (rec["forward"], rec["backward"], bool(rec["healthy"])) == ("ok", "vanishes", False)


def test_no_page_calls_a_configuration_healthy_whose_backward_label_is_not_ok(broken_gradient):
    data, ctx = broken_gradient
    csv = data.frame("health.csv")
    csv = csv[csv["norm"] == "none"].set_index(["init", "activation"])
    seen = 0
    for name, page in ctx.items():
        for path, row in _labelled(page, name):
            key = (row["init"], row["activation"])
            truth = csv.loc[key]
            if row.get("healthy"):
                assert truth["backward"] == "ok" and truth["forward"] == "ok", f"{path}: {key} called healthy"
            if "healthy" in row:
                assert bool(row["healthy"]) == bool(truth["healthy"]), path
            for side in ("forward", "backward"):
                if side in row:
                    assert row[side] == truth[side], f"{path}: {side} label differs from health.csv"
            seen += 1
    assert seen >= 10  # the walk really found the rows
    # lists of healthy pairs / activations
    for p in ctx["initialization"]["healthy_pairs"]:
        assert csv.loc[(p["init"], p["activation"]), "healthy"]
    assert {"init": "xavier", "activation": "tanh"} not in ctx["initialization"]["healthy_pairs"]
    for page, init in (("xavier", "xavier"), ("he", "he")):
        for act in ctx[page]["health"]["healthy"]:
            assert csv.loc[(init, act), "healthy"], f"{page}: {act}"
    assert "tanh" not in ctx["xavier"]["health"]["healthy"] and "tanh" in ctx["xavier"]["health"]["forward_only"]
    assert ctx["index"]["n_healthy"] == int(csv["healthy"].sum())
    assert ctx["index"]["forward_only"] == 1


def test_rendered_grid_shows_both_labels(broken_gradient, tmp_path):
    from generator.pages import registry as P
    from generator.pipeline.render_stage import render_pages
    from generator.render import strings

    data, pages = broken_gradient
    ctx = {
        "config": P.config_summary(data.grid),
        "data_dictionary": P.data_dictionary(),
        "page_order": list(P.PAGES),
        "pages": pages,
    }
    render_pages(ctx, tmp_path, ["index", "xavier"])  # the others need data the golden set lacks (symmetry, zeros)
    for lang in ("ko", "en"):
        text = (tmp_path / f"index.{lang}.md").read_text("utf-8")
        row = next(line for line in text.splitlines() if line.startswith(f"| {strings.t(lang, 'fig.init.xavier')} |"))
        ok, van = strings.t(lang, "index.forward.ok"), strings.t(lang, "index.backward.vanishes")
        grad_van = strings.t(lang, "index.cell.grad", label=van)
        assert grad_van in row  # xavier + tanh: forward ok, gradient vanishes
        xav = (tmp_path / f"xavier.{lang}.md").read_text("utf-8")
        assert f"{ok} / {van}" in xav
