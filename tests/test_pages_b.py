"""Pages gradients, batchnorm, theory, results: contexts from real (tiny grid) and synthetic data,
rules that give the answer theory predicts, and ko/en parity of the rendered pages."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from generator.analysis import batchnorm as bn_analysis
from generator.analysis.factors import all_factors, init_spread
from generator.config.load import load_config
from generator.contract.dataset import Dataset
from generator.figures.draw import build_figure
from generator.figures.io import figure_bytes
from generator.figures.registry import figure_jobs
from generator.pages import batchnorm, gradients, results, theory
from generator.pages.summary import config_summary, data_dictionary
from generator.pipeline.render_stage import render_pages
from generator.render import strings
from generator.render.env import page_structure

REPO = Path(__file__).resolve().parent.parent
MY_PAGES = ("gradients", "batchnorm", "theory", "results")


# ------------------------------------------------------------------------------------------------
# a real (tiny) grid, run through the real experiment stage into a temporary directory


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from generator.pipeline.experiments_stage import run_experiments

    root = tmp_path_factory.mktemp("pages_b")
    toml = root / "tiny.toml"
    toml.write_text(f"""
[output]
docs_dir = "{root / "docs"}"
public_dir = "{root / "public"}"
cache_dir = "{root / "cache"}"

[propagation]
samples = 128
width = 64
depth = 4
inits = ["zeros", "small", "large", "xavier", "he", "orthogonal"]
activations = ["tanh", "relu"]
norms = ["none", "bn"]
seeds = [0, 1]
hist_bins = 10

[symmetry]
samples = 16
width = 8

[theory]
quadrature_points = 48
""")
    cfg = load_config(toml)
    run_experiments(cfg, quiet=True)
    return Dataset(root / "docs" / "data")


@pytest.fixture(scope="module")
def contexts(tiny):
    return {
        name: mod.context(tiny)
        for name, mod in (("gradients", gradients), ("batchnorm", batchnorm), ("theory", theory), ("results", results))
    }


def test_gradients_context_on_real_data(contexts):
    g = contexts["gradients"]
    assert g["depth"] == 4 and g["steps"] == 3
    c = g["cases"]
    # small weights, tanh in its linear regime: forward and backward factor both ~ sigma_w = sqrt(chi_1)
    st = c["small_tanh"]
    assert st["mirror"] and st["verdict"] == "vanishing"
    assert st["bwd"] == pytest.approx(st["sqrt_chi1"], rel=0.1)
    # ReLU family: the backward factor is the forward factor (both halve the mean square)
    for init in ("small", "xavier", "he"):
        assert c[f"{init}_relu"]["mirror"], init
    # saturated tanh: the forward pass stands still, the gradient grows towards the input
    lt = c["large_tanh"]
    assert lt["fwd"] == pytest.approx(1.0, abs=0.05) and lt["bwd"] > 1.5 and not lt["mirror"]
    assert lt["gain"] > 1 and lt["verdict"] == ("exploding" if lt["gain"] > gradients.GAIN_LIMIT else "stable")
    # W = 0: no gradient below the top layer
    zeros = g["grads_tbl"][g["grads_tbl"]["init"] == "zeros"]
    assert set(zeros["verdict"]) == {"zero"}
    # BN: nothing vanishes or explodes at this depth
    assert g["summary"]["bn"]["vanishing"] == 0 and g["summary"]["bn"]["exploding"] == 0


def test_gradient_predictions_on_real_data(contexts):
    """Along the trajectory, prod sqrt(chi(q^l)) predicts b at width 64 within a few per cent, at least as
    well as sqrt(chi_1) at q*; with BN the per-layer factor is sqrt(E[phi'^2] / Var phi) for every init."""
    g = contexts["gradients"]
    p = g["summary"]["none"]["pred"]
    assert p["traj"]["n"] >= 8 and p["traj"]["max"] < 0.08
    assert p["traj"]["max"] <= p["star"]["max"] + 1e-12
    bn = g["bn_by_act"]
    assert bn["relu"]["pred_b"] == pytest.approx(math.sqrt(math.pi / (math.pi - 1)), rel=1e-9)
    assert g["relu_bn_closed"] == pytest.approx(bn["relu"]["pred_b"], rel=1e-9)
    for act in ("relu", "tanh"):  # a constant factor > 1 per layer, not 1
        assert bn[act]["b_min"] > 1.03 and bn[act]["max_rel"] < 0.05, act


def test_batchnorm_context_on_real_data(contexts):
    b = contexts["batchnorm"]
    conv = b["conv"]
    assert conv["momentum"] == pytest.approx(0.1) and conv["unbiased"] and conv["eps"] == pytest.approx(1e-5)
    s = b["summary"]
    assert s["confirmed"] and s["bn_ratio_max"] < s["none_ratio_min"]
    assert s["bn_sd_median"] < 1e-2 < s["none_sd_median"]
    # the random inits are every init of the grid but zeros (counted from the data)
    # scale invariance: the normal-draw family (small, large, xavier, he) differs only through eps
    assert b["families"] and {"small", "large", "xavier", "he"} <= set(b["families"][0])
    assert b["inv"]["max_rel"] < 0.05
    assert b["zeros"]["max_std"] == 0.0
    # gradient ratio with BN scales as 1/c^2: small/large = sigma_w^2(large)/sigma_w^2(small)
    gs = b["grad_scale"]
    assert gs["matches"] and gs["predicted"] == pytest.approx(64 / (64 * 1e-4))
    # placement: saturation with bn_post follows the weight scale (large tanh saturates), bn does not
    lt = b["placement_summary"]["tanh_large"]
    assert lt["sat_post"] > 0.5 > lt["sat_bn"] and b["placement_source"]["from_config"] is False


def test_theory_context_on_real_data(contexts):
    th = contexts["theory"]
    assert th["regimes"]["n"] == 5 * 2  # random inits x activations
    assert (
        sum(th["regimes"][r] for r in th["regimes"] if r in ("ordered", "critical", "marginal", "chaotic", "explodes"))
        == 10
    )
    # He-ReLU: chi_1 = 1 exactly, F(q) = q: marginal; orthogonal-ReLU the same; xavier-tanh critical
    chi = th["chi_tbl"].set_index("init")
    assert chi.loc["he", "relu"] == pytest.approx(1.0)
    reg = th["regime_tbl"].set_index("init")
    assert reg.loc["he", "relu"] == reg.loc["orthogonal", "relu"] == "marginal"
    assert reg.loc["xavier", "tanh"] == "critical" and reg.loc["large", "relu"] == "explodes"
    assert {"init": "he", "activation": "relu"} in th["regimes"]["marginal_pairs"]
    assert th["growth_tbl"].set_index("init").loc["large", "relu"] == pytest.approx(64 / 2)  # sigma_w^2 / 2
    assert th["theory_depth"] == 100  # the config default: curves run deeper than the grid (depth 4)
    assert chi.loc["small", "tanh"] < 1 and th["q_tbl"].set_index("init").loc["large", "relu"] == math.inf
    # the theory tracks the measurement (finite width 64: a few per cent to tens of per cent)
    assert th["overall"]["median_rel"] < 0.1
    assert {d["name"] for d in th["details"]} == {"theory-xavier-tanh", "theory-he-relu"}
    # with BN, q = 1 at every layer: Std[phi(z)] predicts every layer
    assert th["bn_summary"]["max_rel"] < 0.05


def test_results_context_on_real_data(contexts, tiny):
    r = contexts["results"]
    assert len(r["tables"]) == 3 * 2
    std = r["tables"][0]["df"]
    assert list(std.columns) == ["init", "tanh", "relu"] and len(std) == 6
    assert {f["name"] for f in r["files"]} >= {"propagation.csv", "theory.csv", "theory_fixed.csv"}
    for f in r["files"]:
        assert list(f["df"]["name"]) == [
            c.name for c in __import__("generator.contract.schema", fromlist=["x"]).DATA_FILES[f["name"]].columns
        ]


def test_pages_render_with_language_parity(tiny, contexts, tmp_path):
    ctx = {
        "config": config_summary(tiny.grid),
        "data_dictionary": data_dictionary(),
        "pages": contexts,
        "page_order": list(MY_PAGES),
    }
    out = render_pages(ctx, tmp_path / "docs", list(MY_PAGES))
    assert len(out) == 2 * len(MY_PAGES)
    for name in MY_PAGES:
        ko = (tmp_path / "docs" / f"{name}.ko.md").read_text("utf-8")
        en = (tmp_path / "docs" / f"{name}.en.md").read_text("utf-8")
        sk, se = page_structure(ko), page_structure(en)
        assert sk == se, name
        assert sk["figures"] or name == "theory" or sk["tables"], name
        for text in (ko, en):
            assert "$" not in text and "{{" not in text, name
            # a line that starts with inline <math> would become a raw HTML block and split the paragraph
            assert not re.search(r"^<math", text, re.MULTILINE), name
            assert not re.search(r"\|\s*(nan|inf|None)\s*\|", text), name  # numbers go through num/pct
        # every figure / table anchor a link points to exists on the page
        anchors = set(sk["figures"]) | set(sk["tables"])
        for target in re.findall(r"\]\(#((?:fig|tbl)-[^)]+)\)", ko + en):
            assert target in anchors, (name, target)
        # figures have alt text and captions in the page's language
        assert re.search(r"!\[[^\]]*[가-힣][^\]]*\]\(figures/[^)]+\.ko\.svg\)", ko) or not sk["figures"]
        assert not re.search(r"\.en\.svg", ko) and not re.search(r"\.ko\.svg", en)


# ------------------------------------------------------------------------------------------------
# rules on synthetic data where theory gives the answer


def _rows(std, grad, depth):
    return pd.DataFrame(
        {
            "layer": np.arange(1, depth + 1),
            "std": std,
            "grad_h_std": grad,
            "grad_w_ratio": np.ones(depth),
            "diverged": False,
            "all_zero_grad": False,
        }
    ).set_index("layer")


@pytest.mark.parametrize(
    "f,b,verdict,mirror",
    [
        (0.5, 0.5, "vanishing", True),  # linear regime: 0.5^9 < 1/10
        (1.0, 1.0, "stable", True),  # critical init
        (1.0, 2.0, "exploding", False),  # saturated tanh: forward flat, gradient grows
        (0.9, 0.95, "stable", True),  # within 10%: 0.95^9 = 0.63
    ],
)
def test_factor_rule_matches_geometric_series(f, b, verdict, mirror):
    depth = 10
    layers = np.arange(1, depth + 1)
    rows = _rows(f**layers, b ** (depth - layers), depth)
    out = gradients.factors(rows, depth)
    assert out["fwd"] == pytest.approx(f) and out["bwd"] == pytest.approx(b)
    assert out["verdict"] == verdict and out["mirror"] == mirror
    assert out["gain"] == pytest.approx(b ** (depth - 1))


def test_factor_rule_zero_and_diverged():
    depth = 5
    rows = _rows(np.zeros(depth), np.r_[np.zeros(depth - 1), 0.01], depth)
    rows["all_zero_grad"] = rows["grad_h_std"] == 0
    assert gradients.factors(rows, depth)["verdict"] == "zero"
    rows = _rows(10.0 ** np.arange(depth), np.ones(depth), depth)
    rows.loc[3:, "diverged"] = True
    f = gradients.factors(rows, depth)
    assert f["verdict"] == "diverged" and math.isnan(f["fwd"])


def test_spread_summary_counts_the_random_inits_once():
    """3 random inits; tanh has one diverged init, relu none: the count is 3 (the old max(n) + max(n_div)
    mixed the activations and printed 4)."""
    from types import SimpleNamespace

    rows = []
    for act in ("tanh", "relu"):
        for init, std in (("zeros", 0.0), ("small", 0.01), ("xavier", 0.3), ("he", 0.6)):
            for norm in ("none", "bn"):
                div = act == "tanh" and init == "he" and norm == "none"
                rows += [
                    dict(
                        init=init,
                        activation=act,
                        norm=norm,
                        seed=0,
                        layer=l,
                        mean=0.0,
                        std=math.inf if div and l == 3 else std,
                        diverged=div and l == 3,
                    )
                    for l in (1, 2, 3)
                ]
    data = SimpleNamespace(
        prop=pd.DataFrame(rows), grid=SimpleNamespace(propagation=SimpleNamespace(depth=3, diverge_rms=1e4))
    )
    table, summary = bn_analysis.spread_summary(data, ["tanh", "relu"])
    assert summary["n_inits"] == 3 and summary["n_div_none"] == 1
    # tanh's diverged he enters at the threshold: spread 1e4 / 0.01, a lower bound; relu's is exact
    t = table.set_index("activation")
    assert t.loc["tanh", "ratio_none"] == pytest.approx(1e4 / 0.01) and t.loc["tanh", "bound_none"]
    assert t.loc["relu", "ratio_none"] == pytest.approx(0.6 / 0.01) and not t.loc["relu", "bound_none"]
    assert summary["none_max_bound"] and not summary["none_min_bound"] and summary["none_sd_bound"]


def _last_rows(values: dict, *, seeds=(0,), norm="none", diverged=()) -> list[dict]:
    """Layer-3 rows (the last layer) of one activation: ``values`` init -> std (or seed -> std)."""
    return [
        dict(
            init=i,
            activation="tanh",
            norm=norm,
            seed=s,
            layer=3,
            std=v[s] if isinstance(v, dict) else v,
            diverged=(i, s) in diverged,
        )
        for i, v in values.items()
        for s in seeds
    ]


def test_init_spread_known_ratio():
    rows = []
    for init, v_none in (("small", 1e-4), ("xavier", 1e-1), ("he", 1.0), ("zeros", 0.0)):
        rows += _last_rows({init: v_none})
        rows += _last_rows({init: 0.0 if init == "zeros" else 0.6}, norm="bn")
    sp = init_spread(pd.DataFrame(rows), 3, cap=1e8).set_index("norm")
    assert sp.loc["none", "ratio"] == pytest.approx(1e4) and sp.loc["bn", "ratio"] == pytest.approx(1.0)
    assert sp.loc["none", "n"] == 3  # zeros excluded
    assert sp.loc["none", "sd_log10"] == pytest.approx(np.std([-4, -1, 0]))
    assert not sp.loc["none", "bound"] and sp.loc["none", "n_div"] == 0  # nothing diverged: exact max / min


def test_init_spread_a_diverged_init_enters_at_the_threshold():
    """One init diverged in every seed: it enters at the threshold (its std is at least that), the
    spread is threshold / min and flagged as a lower bound; a value measured in the diverged run (inf
    here) never enters."""
    cap, seeds = 1e4, (0, 1)
    vals = {"small": {0: 1e-3, 1: 3e-3}, "xavier": 0.3, "large": math.inf}
    prop = pd.DataFrame(_last_rows(vals, seeds=seeds, diverged={("large", 0), ("large", 1)}))
    sp = init_spread(prop, 3, cap=cap).iloc[0]
    assert sp["bound"] and sp["n_div"] == 1 and sp["n"] == 3
    assert sp["ratio"] == pytest.approx(cap / 2e-3)  # min: small's seed mean (1e-3 + 3e-3) / 2
    assert sp["hi"] == cap
    # per seed, the same rule on each run
    per = init_spread(prop, 3, cap=cap, by_seed=True).set_index("seed")
    assert per.loc[0, "ratio"] == pytest.approx(cap / 1e-3) and per.loc[1, "ratio"] == pytest.approx(cap / 3e-3)
    assert per["bound"].all()
    # only one of two seeds diverged: that seed enters at the threshold inside the init's mean
    part = pd.DataFrame(
        _last_rows({"small": 1e-3, "large": {0: 5.0, 1: math.inf}}, seeds=seeds, diverged={("large", 1)})
    )
    sp = init_spread(part, 3, cap=cap).iloc[0]
    assert sp["bound"] and sp["hi"] == pytest.approx((5.0 + cap) / 2)


def test_scale_families_follow_the_init_formulas():
    fams = bn_analysis.scale_families(
        ["zeros", "small", "large", "xavier", "glorot_normal", "glorot_uniform", "he", "he_uniform", "orthogonal"]
    )
    as_sets = [set(f) for f in fams]
    assert {"small", "large", "xavier", "glorot_normal", "he"} in as_sets
    assert {"glorot_uniform", "he_uniform"} in as_sets
    assert not any("orthogonal" in f or "zeros" in f for f in as_sets)


def test_all_factors_on_synthetic_propagation():
    depth = 6
    rows = []
    for init, f in (("small", 0.2), ("he", 1.0)):
        for seed in (0, 1):
            for layer in range(1, depth + 1):
                rows.append(
                    dict(
                        init=init,
                        activation="relu",
                        norm="none",
                        seed=seed,
                        layer=layer,
                        std=f**layer,
                        grad_h_std=f ** (depth - layer),
                        diverged=False,
                    )
                )
    ft = all_factors(pd.DataFrame(rows), depth).set_index("init")
    assert ft.loc["small", "fwd"] == pytest.approx(0.2) and ft.loc["small", "bwd"] == pytest.approx(0.2)
    assert ft.loc["he", "gain"] == pytest.approx(1.0)


# ------------------------------------------------------------------------------------------------
# figures, strings, templates


def test_new_figures_render_in_both_languages(tiny):
    from generator.contract import schema as contract

    data = {"propagation": contract.read_csv("propagation.csv", tiny.data_dir)}
    jobs = [j for j in figure_jobs(tiny.grid.propagation) if j.name in ("grad_factors", "bn_spread")]
    assert {j.name for j in jobs} == {"grad_factors", "bn_spread"}
    for job in jobs:
        for lang in ("ko", "en"):
            fig = build_figure(job.name, data, lang, **job.kwargs)
            assert figure_bytes(fig, "png")[:4] == b"\x89PNG"


def test_strings_parity_for_my_tables():
    for table in ("gradients", "batchnorm", "theory_page", "results"):
        ko = {k for k in strings.flat_keys("ko") if k.startswith(table + ".")}
        en = {k for k in strings.flat_keys("en") if k.startswith(table + ".")}
        assert ko and ko == en, table


def test_no_typed_decimals_in_my_templates():
    decimal = re.compile(r"(?<![\w.])\d+\.\d+(?![\w.])")
    for name in MY_PAGES:
        for lang in ("ko", "en"):
            text = (REPO / "templates" / "pages" / f"{name}.{lang}.md.j2").read_text("utf-8")
            prose = re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", "", text, flags=re.DOTALL)
            assert not decimal.findall(prose), (name, lang, decimal.findall(prose))


def test_placement_runs_are_a_data_file(tiny):
    """The experiments stage runs plan.placement_tasks into placement.csv (the grid has no bn_post) and the
    page reads its last layer from there: no task runs while rendering."""
    from generator.experiments import plan

    g = tiny.grid
    place = tiny.frame("placement.csv")
    assert not g.placement.from_grid and set(place["norm"]) == {"bn_post"}
    assert set(zip(place["activation"], place["init"])) == {
        (a, i) for a in plan.PLACEMENT_ACTS for i in plan.PLACEMENT_INITS if i in g.propagation.inits
    }
    assert set(place["seed"]) == {g.propagation.seeds[0]} and place["layer"].max() == g.propagation.depth
    table, source = bn_analysis.placement_frame(tiny)
    assert source["seeds"] == [g.propagation.seeds[0]] and len(table) == len(place) // g.propagation.depth
    last = place[place["layer"] == g.propagation.depth].set_index(["activation", "init"])
    for r in table.itertuples():
        assert r.sat_post == last.loc[(r.activation, r.init), "saturated_frac"]
        assert r.pre_post == last.loc[(r.activation, r.init), "preact_std"]
