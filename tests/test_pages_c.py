"""Pages seed, conclusions, reproducibility, references: contexts from real (tiny) and synthetic data,
verdict rules against cases whose answer is known from theory, ko/en parity of the rendered pages,
the seed_rerun figure, and the "no result typed by hand" rule for these pages' templates and strings."""

from __future__ import annotations

import math
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from generator.analysis import claims, seed_note
from generator.config.load import parse_config
from generator.contract import schema as contract
from generator.contract.dataset import Dataset
from generator.contract.grid import write_grid
from generator.experiments import seed_code as seed_reference
from generator.experiments.plan import grid_facts
from generator.pages import conclusions, references, reproducibility, seed
from generator.pages import training as training_page
from generator.pages.registry import PAGES
from generator.pages.summary import config_summary, data_dictionary
from generator.pipeline.render_stage import render_pages
from generator.render import strings
from generator.render.env import page_structure

REPO = Path(__file__).resolve().parent.parent
MY_PAGES = ("seed", "conclusions", "reproducibility", "references")
MODULES = {"seed": seed, "conclusions": conclusions, "reproducibility": reproducibility, "references": references}

GRID = dict(
    samples=120,
    width=64,
    depth=6,
    inits=["zeros", "small", "large", "xavier", "glorot_normal", "he"],
    activations=["sigmoid", "tanh", "relu"],
    norms=["none", "bn"],
    seeds=[0, 1],
)


# ------------------------------------------------------------------------------------------------
# data: a tiny real grid (the actual engine) and synthetic layer statistics


def _config(tmp_path: Path, **prop):
    raw = {
        "output": {"docs_dir": str(tmp_path / "docs")},
        "propagation": {**GRID, **prop},
        "symmetry": {"samples": 16, "width": 6, "depth": 2},
    }
    return parse_config(raw, tmp_path / "experiments.toml")


def _real_data(data_dir: Path, grid: dict) -> None:
    from generator.experiments.propagation import run_propagation
    from generator.experiments.symmetry import run_symmetry

    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for init in grid["inits"]:
            for act in grid["activations"]:
                for norm in grid["norms"]:
                    for s in grid["seeds"]:
                        lay = run_propagation(
                            init=init,
                            activation=act,
                            norm=norm,
                            seed=s,
                            samples=grid["samples"],
                            width=grid["width"],
                            depth=grid["depth"],
                            hist_bins=4,
                        )["layers"]
                        lay.insert(0, "seed", s)
                        lay.insert(0, "norm", norm)
                        lay.insert(0, "activation", act)
                        lay.insert(0, "init", init)
                        lay["theory_std"] = np.nan
                        rows.append(lay)
    contract.write_csv("propagation.csv", pd.concat(rows, ignore_index=True), data_dir)
    sym = []
    for init in ("zeros", "constant", "xavier"):
        d = run_symmetry(init=init, activation="tanh", samples=16, width=6, depth=2, learning_rate=0.1, seed=0)
        d.insert(0, "seed", 0)
        d.insert(0, "activation", "tanh")
        d.insert(0, "init", init)
        d["width"] = 6
        sym.append(d)
    contract.write_csv("symmetry.csv", pd.concat(sym, ignore_index=True), data_dir)
    contract.write_csv("seed_printed.csv", seed_reference.load_printouts(), data_dir)
    contract.write_csv("seed_code.csv", seed_reference.seed_code_frame(seeds=(0, 1)), data_dir)


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pages_c")
    cfg = _config(tmp)
    data_dir = tmp / "docs" / "data"
    _real_data(data_dir, GRID)
    return cfg, data_dir


def _site(cfg, data_dir) -> Dataset:
    """The synthetic data with the grid facts of ``cfg`` (what the experiments stage would write)."""
    write_grid(data_dir, grid_facts(cfg))
    return Dataset(data_dir)


def synthetic_prop(cases: dict, depth: int, seeds=(0, 1), norm="none") -> pd.DataFrame:
    """cases: (init, act) -> dict(std=callable(layer), sat=float, grad=float, diverged=bool)."""
    rows = []
    for (init, act), spec in cases.items():
        for s in seeds:
            for layer in range(1, depth + 1):
                std = spec["std"](layer)
                rows.append(
                    dict(
                        init=init,
                        activation=act,
                        norm=spec.get("norm", norm),
                        seed=s,
                        layer=layer,
                        mean=0.0,
                        std=std,
                        min=-3 * std,
                        max=3 * std,
                        saturated_frac=spec.get("sat", 0.0),
                        zero_frac=0.0,
                        preact_std=std,
                        grad_h_std=1.0,
                        grad_w_norm=1.0,
                        grad_w_ratio=spec.get("grad", 0.1),
                        theory_std=np.nan,
                        diverged=spec.get("diverged", False),
                    )
                )
    return contract.check_frame("propagation.csv", pd.DataFrame(rows))


# ------------------------------------------------------------------------------------------------
# rules on synthetic data with a known answer


def test_per_layer_factor_is_exact_on_a_geometric_series():
    s = pd.Series([3.0 * 0.5 ** (k - 1) for k in range(1, 11)], index=range(1, 11))
    assert seed_note.per_layer_factor(s) == pytest.approx(0.5)
    s0 = pd.concat([pd.Series([1.0], index=[0]), s])  # the input row (layer 0) is ignored
    assert seed_note.per_layer_factor(s0) == pytest.approx(0.5)


def test_xavier_relu_rule_partly_at_depth_10_holds_when_deep():
    """Xavier + ReLU halves the second moment per layer: std × 1/√2. After 9 steps that is 4.4% of layer 1
    (not collapsed: partly); after 19 steps 0.14% (collapsed: holds)."""
    f = 1 / math.sqrt(2)
    for depth, expected in ((10, "partly"), (20, "holds")):
        prop = synthetic_prop({("xavier", "relu"): {"std": lambda l: 0.58 * f ** (l - 1)}}, depth)
        j = claims.judge_xavier_relu(claims.Runs(prop), ["relu"])
        assert j["verdict"] == expected, depth
        assert j["values"]["factor"]["gm"] == pytest.approx(f)
    # a flat std sits at the "shrinks" threshold (ratio 1): no evidence either way -> inconclusive, never
    # does_not_hold; growing by more than the margin factor over the depth is evidence of absence
    flat = synthetic_prop({("xavier", "relu"): {"std": lambda l: 0.58}}, 10)
    assert claims.judge_xavier_relu(claims.Runs(flat), ["relu"])["verdict"] == "inconclusive"
    grows = synthetic_prop({("xavier", "relu"): {"std": lambda l: 0.58 * 1.2 ** (l - 1)}}, 10)  # ratio 1.2^9 = 5.2
    assert claims.judge_xavier_relu(claims.Runs(grows), ["relu"])["verdict"] == "does_not_hold"


def test_small_and_large_init_rules():
    g = math.sqrt(500) * 0.01  # tanh ~ identity near 0: std × 0.01·√fan_in per layer
    cases = {
        ("small", "tanh"): {"std": lambda l: g**l, "grad": 1e-4},
        ("large", "tanh"): {"std": lambda l: 0.98, "sat": 0.76, "grad": 0.09},
        ("xavier", "tanh"): {"std": lambda l: 0.63 / math.sqrt(l), "grad": 0.12},
    }
    prop = synthetic_prop(cases, 10)
    assert claims.judge_small(claims.Runs(prop), ["tanh"])["verdict"] == "holds"
    large = claims.judge_large(claims.Runs(prop), ["tanh"])
    assert large["verdict"] == "partly" and large["parts"] == {"saturated": "holds", "grad_vanishes": "does_not_hold"}
    both = synthetic_prop({**cases, ("large", "tanh"): {"std": lambda l: 0.98, "sat": 0.76, "grad": 1e-3}}, 10)
    assert claims.judge_large(claims.Runs(both), ["tanh"])["verdict"] == "holds"
    assert claims.judge_xavier_tanh(claims.Runs(prop), ["tanh"])["verdict"] == "holds"
    assert claims.judge_small(claims.Runs(prop), ["relu"]) is None  # not in the grid: no verdict


def test_he_rule_stable_vs_the_printed_line():
    ok = synthetic_prop({("he", "relu"): {"std": lambda l: 0.83, "sat": 0.5}}, 10)
    assert claims.judge_he_relu(claims.Runs(ok), ["relu"])["verdict"] == "holds"  # ReLU's ~50% zeros are not saturation
    bad = synthetic_prop({("he", "relu"): {"std": lambda l: 250.0**l}}, 10)  # the /sqrt(2/fan_in) line
    assert claims.judge_he_relu(claims.Runs(bad), ["relu"])["verdict"] == "does_not_hold"


def test_bn_init_rule():
    inits = ["zeros", "small", "xavier", "he"]
    none = {
        (i, "tanh"): {"std": (lambda l, i=i: {"zeros": 0.0, "small": 1e-5, "xavier": 0.3, "he": 0.6}[i])} for i in inits
    }
    bn = {(i, "tanh"): {"std": (lambda l, i=i: 0.0 if i == "zeros" else 0.63), "norm": "bn"} for i in inits}
    prop = pd.concat([synthetic_prop(none, 5), synthetic_prop(bn, 5)], ignore_index=True)
    j = claims.judge_bn_init(claims.Runs(prop), inits, ["tanh"], ["none", "bn"])
    assert j["verdict"] == "holds"
    assert j["spreads"]["tanh"]["bn"]["gm"] == pytest.approx(1.0) and j["spreads"]["tanh"]["none"]["gm"] > 1e4
    assert claims.judge_bn_init(claims.Runs(prop), inits, ["tanh"], ["none"]) is None


def test_symmetry_rule():
    def sym(zeros_after):
        rows = []
        for init, n in (("zeros", 1), ("constant", 1), ("xavier", 6)):
            for phase in ("before", "after"):
                k = zeros_after if (init == "zeros" and phase == "after") else n
                rows.append(
                    dict(
                        init=init,
                        activation="tanh",
                        seed=0,
                        layer=1,
                        phase=phase,
                        distinct_units=k,
                        distinct_weights=k,
                        width=6,
                    )
                )
        return pd.DataFrame(rows)

    assert claims.judge_symmetry(sym(1))["verdict"] == "holds"
    assert claims.judge_symmetry(sym(3))["verdict"] == "partly"


def test_printout_runs_tells_a_copy_from_two_runs():
    """Two printouts with the same layer-0 statistics are one output pasted twice (not two runs)."""
    L = 3
    rerun = pd.DataFrame(
        {"small_tanh": [0.2**l for l in range(L + 1)], "large_tanh": [0.98] * (L + 1), "xavier_tanh": [0.6] * (L + 1)}
    )
    printed = pd.DataFrame({c: list(rerun["large_tanh"]) if c != "xavier_tanh" else list(rerun[c]) for c in rerun})
    m = {r["case"]: r for r in seed_note.printout_matches(rerun, printed)}
    same = pd.DataFrame({c: [0.001] * (L + 1) for c in rerun})
    r = seed_note.printout_runs(same, printed, m)
    assert r["both_large"] and not r["distinct_inputs"] and r["small_never_shown"]
    differ = same.copy()
    differ.loc[0, "large_tanh"] = -0.002
    assert seed_note.printout_runs(differ, printed, m)["distinct_inputs"]


def test_printout_matching_finds_the_swapped_printout():
    L = 10
    rerun = pd.DataFrame(
        {
            "small_tanh": [0.2**l for l in range(L + 1)],
            "large_tanh": [0.98] * (L + 1),
            "xavier_tanh": [0.63 / math.sqrt(max(l, 1)) for l in range(L + 1)],
        }
    )
    printed = pd.DataFrame(
        {
            "small_tanh": [0.98 * 1.001] * (L + 1),
            "large_tanh": [0.98] * (L + 1),
            "xavier_tanh": list(rerun["xavier_tanh"] * 1.01),
        }
    )
    m = {r["case"]: r for r in seed_note.printout_matches(rerun, printed)}
    assert m["small_tanh"]["best"] == "large_tanh" and not m["small_tanh"]["matches_own"]
    assert m["large_tanh"]["matches_own"] and m["xavier_tanh"]["matches_own"]


# ------------------------------------------------------------------------------------------------
# contexts from real data


def test_seed_context_quantifies_every_discrepancy(real):
    cfg, data_dir = real
    c = seed.context(_site(cfg, data_dir))
    assert c["available"]
    width = c["sizes"]["width"]
    # (a) the 0.01 printout is the 1.0 code's output
    assert c["small"]["best"] == "large_tanh" and not c["small"]["matches_own"]
    assert c["small"]["factor"] == pytest.approx(float(seed.SCALES["small"]) * math.sqrt(width), rel=0.05)
    # ... and not a swap: the 1.0 printout is a 1.0 run too, from a different input; the 0.01 output is never shown
    runs = c["small"]["runs"]
    assert runs["both_large"] and runs["distinct_inputs"] and runs["small_never_shown"]
    # (b) the printed He line multiplies the per-layer factor by fan_in/2
    assert c["he"]["scale_ratio"] == pytest.approx(width / 2)
    assert c["he"]["factor_printed"] == pytest.approx(width / 2 * c["he"]["factor_corrected"], rel=0.1)
    assert c["he"]["first_over"] is not None
    assert 0.5 < c["he"]["factor_corrected"] < 1.5
    # (c) equal fan_in and fan_out: identical variances, identical measurements
    assert c["fan"]["equal"] and c["fan"]["have_glorot"] and c["fan"]["max_rel"] < 1e-9
    assert c["fan"]["rect_ratio"] == pytest.approx(2 / 3)
    # (d) Xavier + ReLU shrinks by ~1/sqrt(2) per layer but is not 0
    assert c["xr"]["factor_seed"] == pytest.approx(1 / math.sqrt(2), rel=0.05)
    assert c["xr"]["stdL"] > 0 and c["xr"]["verdict"] == "partly"  # 10 layers: shrinking, not collapsed
    # (e) the input is 500-D, not 10-D
    assert c["inp"]["dim"] == width and c["inp"]["comment_dim"] == seed.SEED_COMMENT_DIM
    assert c["inp"]["small_first_factor"] == pytest.approx(c["inp"]["small_pred_500"], rel=0.05)
    # (f) with BN before the activation, outputs are not standard normal
    assert c["bn"]["rows"]["bn_relu"]["mean"] > 0.3 and c["bn"]["rows"]["bn_tanh"]["std"] < 0.8
    # what holds
    assert c["holds"]["xavier_tanh"]["matches"] and c["holds"]["large_tanh"]["matches"]
    for lang in strings.LANGUAGES:
        assert len(c["tables"]["summary"][lang]) == 6


def test_conclusions_context_real_and_training_claims(real, tmp_path):
    cfg, data_dir = real
    c = conclusions.context(_site(cfg, data_dir))
    assert c["has_training"] is False
    assert c["keys"]["small_vanishing"] == "holds"
    assert c["keys"]["xavier_relu"] in ("partly", "holds")
    assert c["keys"]["he_relu"] == "holds"
    assert c["keys"]["zero_symmetry"] == "holds"
    assert c["keys"]["bn_init_prop"] == "holds"
    assert all(c["keys"][k] == "pending" for k in conclusions.TRAINING_CLAIMS)
    assert c["counts"]["pending"] == len(conclusions.TRAINING_CLAIMS)
    assert "—" in set(c["tables"]["bn"]["en"]["where"])
    # with claims.csv the training verdicts are used and linked to the training page
    import shutil

    d2 = tmp_path / "data"
    shutil.copytree(data_dir, d2)
    verdicts = dict(zip(conclusions.TRAINING_CLAIMS, ("holds", "partly", "does_not_hold", "partly", "holds")))
    # claims.csv as generator/analysis/training.py writes it (columns of the contract); values minimal
    n = len(verdicts)
    pd.DataFrame(
        {
            "claim_id": list(verdicts),
            "verdict": list(verdicts.values()),
            "effect": [0.25 + i for i in range(n)],
            "ci_low": [0.125] * n,
            "ci_high": [3.5 + i for i in range(n)],
            "n_runs": [10] * n,
            "setting": ["data=digits; width=100; batch=64; seeds=10"] * n,
            "verdict_a": list(verdicts.values()),
            "verdict_b": ["inconclusive"] * n,
            "evidence": ["x=1"] * n,
            "values": ["{}"] * n,
        }
    ).to_csv(d2 / "claims.csv", index=False)
    c2 = conclusions.context(_site(cfg, d2))
    assert c2["has_training"] and c2["counts"]["pending"] == 0
    for k, v in verdicts.items():
        assert c2["keys"][k] == v
    # each training row states its effect with the interval, the number of paired runs and the setting
    for lang in strings.LANGUAGES:
        rows = list(c2["tables"]["bn"][lang]["evidence"]) + list(c2["tables"]["summary"][lang]["evidence"])
        speed = [e for e in rows if "3.50" in e]
        assert speed and all("0.125" in e and "10" in e for e in speed)
        assert all(training_page.setting_text("data=digits; width=100; batch=64; seeds=10", lang) in e for e in speed)
    assert "[training page](training.md)" in set(c2["tables"]["bn"]["en"]["where"])


def test_reproducibility_context_is_deterministic(real):
    cfg, data_dir = real
    a = reproducibility.context(_site(cfg, data_dir))
    b = reproducibility.context(_site(cfg, data_dir))
    assert a["versions"].equals(b["versions"]) and a["files"].equals(b["files"])
    assert a["versions"]["package"].iloc[0] == "python"
    assert {"numpy", "pandas", "matplotlib", "mkdocs"} <= set(a["versions"]["package"])
    names = {f["name"] for f in a["datadict"]}
    assert names == {p.name for p in data_dir.glob("*.csv") if p.name in contract.DATA_FILES}
    # [output] is left out on purpose: machine-specific paths change no number (and break determinism).
    assert [s["section"] for s in a["config"]][:2] == ["propagation", "symmetry"]
    text = a["versions"].to_string() + a["files"].to_string()
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b", text), "no dates on the page"


def test_references_are_complete():
    keys = {r.key for r in references.REFERENCES}
    assert {
        "glorot2010",
        "he2015",
        "ioffe2015",
        "saxe2013",
        "poole2016",
        "schoenholz2017",
        "klambauer2017",
        "lecun1998",
        "yang2019",
        "santurkar2018",
        "bjorck2018",
        "luo2019",
        "hanin2018",
        "pennington2017",
        "hendrycks2016",
        "alpaydin1998",
        "cs231n",
        "seed",
    } == keys
    for r in references.REFERENCES:
        assert r.title and r.venue and r.authors and 1990 < r.year < 2030
        if r.arxiv:
            assert re.fullmatch(r"\d{4}\.\d{4,5}", r.arxiv)
        for lang in strings.LANGUAGES:
            assert strings.t(lang, f"references.role.{r.key}")
    assert references.REFERENCES[1].cite == "He et al. (2015)"
    assert references.REFERENCES[0].cite == "Glorot & Bengio (2010)"


# ------------------------------------------------------------------------------------------------
# rendering: ko/en parity, no raw TeX, every internal anchor link resolves


def _render(cfg, data_dir, out: Path) -> dict:
    data = _site(cfg, data_dir)
    ctx = {
        "config": config_summary(data.grid),
        "data_dictionary": data_dictionary(),
        "pages": {n: MODULES[n].context(data) for n in MY_PAGES},
        "page_order": list(PAGES),
    }
    render_pages(ctx, out, list(MY_PAGES))
    return {(n, lang): (out / f"{n}.{lang}.md").read_text("utf-8") for n in MY_PAGES for lang in strings.LANGUAGES}


def test_pages_render_with_language_parity(real, tmp_path):
    cfg, data_dir = real
    md = _render(cfg, data_dir, tmp_path / "docs")
    for name in MY_PAGES:
        ko, en = page_structure(md[name, "ko"]), page_structure(md[name, "en"])
        assert ko == en, name
        assert all(ident for _, ident in ko["headings"]), f"{name}: every heading has an explicit id"
    anchors = {}
    for (name, lang), text in md.items():
        assert "$" not in re.sub(r"`[^`]*`", "", text), f"{name}.{lang}: raw $ math"
        assert not re.search(r"\\(frac|sqrt|text|partial)\b", re.sub(r"<math.*?</math>", "", text, flags=re.S)), (
            f"{name}.{lang}: raw TeX"
        )
        ids = set(re.findall(r'id="([^"]+)"', text)) | set(re.findall(r"\{ #([\w-]+) \}", text))
        anchors[name, lang] = ids
    for (name, lang), text in md.items():
        for target in re.findall(r"\]\((#[\w-]+)\)", text):
            assert target[1:] in anchors[name, lang], f"{name}.{lang}: broken link {target}"
        for page, frag in re.findall(r"\]\((\w+)\.md#([\w-]+)\)", text):
            if page in MY_PAGES:
                assert frag in anchors[page, lang], f"{name}.{lang}: broken link {page}.md#{frag}"
    # each figure has alt text and a caption
    for (_name, lang), text in md.items():
        for alt, src in re.findall(r"!\[([^\]]*)\]\((figures/[^)]+)\)", text):
            assert alt.strip() and src.endswith(f".{lang}.svg")


def test_korean_page_reads_korean(real, tmp_path):
    cfg, data_dir = real
    md = _render(cfg, data_dir, tmp_path / "docs")
    for name in MY_PAGES:
        ko = md[name, "ko"]
        hangul = len(re.findall(r"[가-힣]", ko))
        assert hangul > 200, name


# ------------------------------------------------------------------------------------------------
# no result typed by hand; strings parity


def _prose(template: str) -> str:
    t = re.sub(r"\{#.*?#\}", "", template, flags=re.S)
    t = re.sub(r"\{\{.*?\}\}", "", t, flags=re.S)
    t = re.sub(r"\{%.*?%\}", "", t, flags=re.S)
    t = re.sub(r"^```.*?^```", "", t, flags=re.S | re.M)
    return t


@pytest.mark.parametrize("name", MY_PAGES)
def test_no_decimal_literals_in_prose(name):
    for lang in strings.LANGUAGES:
        src = (REPO / "templates" / "pages" / f"{name}.{lang}.md.j2").read_text("utf-8")
        hits = re.findall(r"(?<![\w.])\d+\.\d+(?![\w.])", _prose(src))
        assert not hits, f"{name}.{lang}: decimal literals in prose {hits}"


def test_strings_catalog_has_no_decimal_literals_and_matching_keys():
    for lang in strings.LANGUAGES:
        text = (REPO / "templates" / "strings" / lang / "pages_c.toml").read_text("utf-8")
        assert not re.findall(r"(?<![\w.])\d+\.\d+(?![\w.])", text), lang
    ko = {
        k
        for k in strings.flat_keys("ko")
        if k.split(".")[0] in ("seed_page", "conclusions", "reproducibility", "references")
    }
    en = {
        k
        for k in strings.flat_keys("en")
        if k.split(".")[0] in ("seed_page", "conclusions", "reproducibility", "references")
    }
    assert ko == en and ko


# ------------------------------------------------------------------------------------------------
# the figure


def test_seed_rerun_figure_renders_without_warnings(real):
    import logging

    from generator.figures.draw import build_figure
    from generator.figures.io import figure_bytes
    from generator.figures.registry import figure_alt, figure_jobs

    _, data_dir = real
    tables = {
        "seed_code": contract.read_csv("seed_code.csv", data_dir),
        "seed_printed": contract.read_csv("seed_printed.csv", data_dir),
    }
    assert "seed_rerun" in {j.stem for j in figure_jobs({"inits": ["he"], "activations": ["relu"], "norms": ["none"]})}
    records = []

    class H(logging.Handler):
        def emit(self, record):
            records.append(record)

    h = H(level=logging.WARNING)
    logging.getLogger("matplotlib").addHandler(h)
    try:
        for data in (tables, {}):
            for lang in strings.LANGUAGES:
                with warnings.catch_warnings():
                    warnings.simplefilter("error")
                    fig = build_figure("seed_rerun", data, lang)
                    svg = figure_bytes(fig, "svg")
                assert svg.startswith(b"<?xml") and fig.get_suptitle()
                assert figure_alt("seed_rerun", lang)
    finally:
        logging.getLogger("matplotlib").removeHandler(h)
    assert not records, [r.getMessage() for r in records]
