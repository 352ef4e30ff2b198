"""The basics pages: index, initialization, xavier, he, activations (+ page_basics figures, glossary).

* the verdict rules of the home page on hand-made inputs and on a tiny real grid where the answer is
  known from theory (small -> vanishes, large + ReLU -> explodes, large + tanh -> saturates,
  He + ReLU and Xavier + tanh -> healthy, zeros -> vanishes);
* measured ratios against theory on that grid (Xavier + ReLU halves the second moment, He keeps it);
* every page rendered in both languages with the same structure, every in-page link to a figure or
  table resolving on the page, no inline math opening a line (Markdown would make it an HTML block);
* no decimal literal typed into the prose of these templates or their string tables;
* the new figures build in both languages.
"""

from __future__ import annotations

import importlib
import math
import re
from pathlib import Path

import pytest

from generator.config.load import load_config
from generator.contract.dataset import Dataset
from generator.pages import registry as P
from generator.pipeline.render_stage import render_pages
from generator.render import strings
from generator.render.env import page_structure

REPO = Path(__file__).resolve().parent.parent
MINE = ("index", "initialization", "xavier", "he", "activations")
TABLES = ("index", "initialization", "xavier", "he", "activations", "glossary")

TINY = """
[output]
docs_dir = "{root}/docs"
public_dir = "{root}/public"
cache_dir = "{root}/cache"

[propagation]
samples = 256
width = 128
depth = 6
dtype = "float64"
inits = ["zeros", "small", "large", "xavier", "glorot_normal", "glorot_uniform", "he", "he_uniform"]
activations = ["linear", "tanh", "relu", "leaky_relu", "selu"]
norms = ["none"]
seeds = [0, 1]
hist_bins = 20

[symmetry]
inits = ["zeros", "constant", "xavier"]
activation = "tanh"
samples = 16
width = 6
depth = 2
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A tiny real grid run through the experiment engine: (cfg, Dataset, context)."""
    from generator.pipeline.experiments_stage import run_experiments

    root = tmp_path_factory.mktemp("pages_a")
    (root / "tiny.toml").write_text(TINY.format(root=root), encoding="utf-8")
    cfg = load_config(root / "tiny.toml")
    run_experiments(cfg, quiet=True)
    data = Dataset(root / "docs" / "data")
    ctx = {
        "config": P.config_summary(data.grid),
        "data_dictionary": P.data_dictionary(),
        "page_order": list(P.PAGES),
        "pages": {n: importlib.import_module(f"generator.pages.{n}").context(data) for n in MINE},
    }
    return cfg, data, ctx


# ------------------------------------------------------------------------------------------------
# the verdict rules


def test_verdict_rules_on_hand_made_inputs():
    from generator.analysis.health import EXPLODE_ABOVE, SATURATION_EXCESS, VANISH_BELOW
    from generator.analysis.health import forward_label as verdict

    assert verdict(1.0, 0.0, 0.0, False) == "ok"
    assert verdict(VANISH_BELOW / 2, 0.0, 0.0, False) == "vanishes"
    assert verdict(EXPLODE_ABOVE * 2, 0.0, 0.0, False) == "explodes"
    assert verdict(math.inf, math.nan, 0.0, False) == "explodes"
    assert verdict(1.0, 0.0, 0.0, True) == "explodes"  # divergence wins over everything
    assert verdict(VANISH_BELOW / 2, 1.0, 0.0, True) == "explodes"
    assert verdict(VANISH_BELOW / 2, 1.0, 0.0, False) == "vanishes"  # vanishing is tried before saturation
    assert verdict(1.0, SATURATION_EXCESS + 0.1, 0.0, False) == "saturates"
    # ReLU: half its inputs have slope 0 -- that is its baseline, not saturation
    assert verdict(1.0, 0.5, 0.5, False) == "ok"
    assert verdict(1.0, 0.5 + SATURATION_EXCESS + 0.01, 0.5, False) == "saturates"


def test_baseline_saturation_matches_closed_forms():
    from generator.analysis.health import baseline_saturation

    assert baseline_saturation("relu") == pytest.approx(0.5, abs=1e-4)
    assert baseline_saturation("linear") == 0.0
    assert baseline_saturation("leaky_relu") == 0.0
    # tanh: |tanh'(x)| = 1 - tanh^2 < 0.01  <=>  |x| > atanh(sqrt(0.99)); P(|z| > c) = erfc(c / sqrt 2)
    c = math.atanh(math.sqrt(0.99))
    assert baseline_saturation("tanh") == pytest.approx(math.erfc(c / math.sqrt(2)), rel=1e-3)


def test_verdicts_on_a_real_tiny_grid_agree_with_theory(tiny):
    _, _, ctx = tiny
    frame = ctx["pages"]["index"]["frame"]
    v = {(r.init, r.activation): r.forward for r in frame.itertuples()}
    assert v[("zeros", "tanh")] == v[("zeros", "relu")] == "vanishes"
    assert v[("small", "tanh")] == v[("small", "relu")] == "vanishes"  # (0.01 sqrt(128))^6 ~ 2e-6
    assert v[("large", "relu")] == "explodes"  # sqrt(64)^6 ~ 2.6e5
    assert v[("large", "linear")] == "explodes"
    assert v[("large", "tanh")] == "saturates"  # pre-activation std ~ 11
    assert v[("xavier", "tanh")] == "ok"
    assert v[("he", "relu")] == v[("he_uniform", "relu")] == "ok"
    assert v[("xavier", "selu")] == "ok"
    b = {(r.init, r.activation): r.backward for r in frame.itertuples()}
    assert b[("he", "relu")] == b[("xavier", "tanh")] == "ok"  # the gradient reaches layer 1
    assert b[("small", "tanh")] == b[("zeros", "relu")] == "vanishes"
    assert b[("large", "relu")] == "explodes"  # ReLU is positively homogeneous: the gradient grows as the signal
    assert b[("large", "tanh")] == "explodes"  # grows ~ sqrt(n) E|tanh'| per layer
    counts = ctx["pages"]["index"]["counts"]
    assert sum(counts.values()) == len(frame) == 8 * 5


def test_measured_ratios_on_the_tiny_grid(tiny):
    _, _, ctx = tiny
    x, h, i = ctx["pages"]["xavier"], ctx["pages"]["he"], ctx["pages"]["initialization"]
    assert x["relu"]["predicted"] == pytest.approx(0.5, abs=1e-9)
    assert x["relu"]["ratio"] == pytest.approx(0.5, abs=0.1)  # finite width: a little above 1/2
    assert h["relu"]["ratio"] == pytest.approx(1.0, abs=0.15)
    assert x["variance_equal"] and x["variance"]["xavier"] == pytest.approx(1 / 128)
    assert x["variants"]["identical_normal"]  # same draws, same scale
    assert x["variants"]["within_noise"] and h["uniform"]["within_noise"]  # same variance: seed noise only
    assert h["var_he"] == h["var_he_uniform"] == pytest.approx(2 / 128)
    assert abs(h["selu_xavier"]["last_std"] - 1.0) < 0.2
    # small: per-layer factor sigma sqrt(n) for tanh (linear regime), measured and predicted
    assert i["cases"]["small_tanh"]["factor"] == pytest.approx(i["small_sigma_sqrt_n"], rel=0.05)
    assert i["cases"]["small_tanh"]["theory_factor"] == pytest.approx(i["small_sigma_sqrt_n"], rel=0.01)
    assert i["cases"]["large_relu"]["factor"] == pytest.approx(i["large_relu_growth_theory"], rel=0.15)
    s = i["symmetry"]
    assert set(s["collapsed"]) == {"zeros", "constant"} and s["broken"] == ["xavier"]


def test_activation_saturation_intervals():
    from generator.analysis.rules import MATCHING
    from generator.engine.activations import ACTIVATIONS
    from generator.pages.activations import saturation_intervals

    assert set(MATCHING) == set(ACTIVATIONS)
    assert saturation_intervals("linear") == [] and saturation_intervals("leaky_relu") == []
    ((lo, hi),) = [iv for iv in saturation_intervals("relu")]
    assert math.isinf(lo) and hi == pytest.approx(0.0, abs=1e-3)
    c = math.atanh(math.sqrt(0.99))
    tails = saturation_intervals("tanh")
    assert len(tails) == 2 and tails[0][1] == pytest.approx(-c, abs=1e-3) and tails[1][0] == pytest.approx(c, abs=1e-3)
    assert saturation_intervals("selu")[0][1] == pytest.approx(math.log(0.01), abs=1e-3)
    assert len(saturation_intervals("gelu")) == 2  # tail + band around the minimum


# ------------------------------------------------------------------------------------------------
# rendered pages


@pytest.fixture(scope="module")
def rendered(tiny, tmp_path_factory):
    _, _, ctx = tiny
    docs = tmp_path_factory.mktemp("pages_a_docs")
    render_pages(ctx, docs, list(MINE))
    return {n: {lg: (docs / f"{n}.{lg}.md").read_text("utf-8") for lg in ("ko", "en")} for n in MINE}


@pytest.mark.parametrize("name", MINE)
def test_ko_en_parity_and_links(rendered, name):
    ko, en = rendered[name]["ko"], rendered[name]["en"]
    s_ko, s_en = page_structure(ko), page_structure(en)
    assert s_ko == s_en, f"{name}: structure differs\n ko: {s_ko}\n en: {s_en}"
    assert all(ident for level, ident in s_ko["headings"] if level == 2), "every section needs an explicit id"
    for lang, text in (("ko", ko), ("en", en)):
        anchors = set(re.findall(r'\bid="((?:fig|tbl)-[^"]+)"', text))
        for target in re.findall(r"\]\(#((?:fig|tbl)-[^)]+)\)", text):
            assert target in anchors, f"{name}.{lang}: link to #{target} but no such figure/table on the page"
        assert not re.search(r"^<math", text, re.M), f"{name}.{lang}: inline math opens a line (HTML block)"
        assert "$" not in text and "\\(" not in text
        for alt in re.findall(r"!\[([^\]]*)\]\(figures/", text):
            assert alt.strip(), f"{name}.{lang}: figure without alt text"
        assert text.count("<figcaption") == text.count('class="initlab-figure"') + text.count('class="initlab-table"')
    assert re.search(r"[가-힣]", ko) and not re.search(r"[가-힣]", en.replace("개발아 담하자", ""))


def test_index_states_its_rules_from_the_constants(rendered, tiny):
    from generator.analysis.health import EXPLODE_ABOVE, GRAD_HIGH, GRAD_LOW, SATURATION_EXCESS, VANISH_BELOW
    from generator.render.filters import num

    for lang in ("ko", "en"):
        text = rendered["index"][lang]
        assert num(VANISH_BELOW, lang, sig=1) in text
        assert num(EXPLODE_ABOVE, lang, sig=2) in text
        # a difference of shares: percentage points (generator/render/wording.py), not "25%"
        from generator.render.wording import points

        assert points(SATURATION_EXCESS, lang, digits=0) in text
        assert num(GRAD_LOW, lang, sig=1) in text and num(GRAD_HIGH, lang, sig=2) in text
        for v in ("explodes", "vanishes", "saturates", "ok"):
            assert strings.t(lang, f"index.forward.{v}") in text
        for v in ("unmeasured", "vanishes", "explodes", "ok"):
            assert strings.t(lang, f"index.backward.{v}") in text
        assert strings.t(lang, "index.verdict.healthy") in text
        assert "initialization.md" in text and "activations.md" in text


def test_repo_site_docs_parity_for_these_pages():
    """When the pipeline has rendered site/docs, these pages pair up there too."""
    docs = REPO / "site" / "docs"
    for name in MINE:
        ko, en = docs / f"{name}.ko.md", docs / f"{name}.en.md"
        if ko.exists() and en.exists():
            assert page_structure(ko.read_text("utf-8")) == page_structure(en.read_text("utf-8")), name


# ------------------------------------------------------------------------------------------------
# templates and strings

_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
_DECIMAL = re.compile(r"(?<![\w.])\d+\.\d+(?![\w.])")


@pytest.mark.parametrize("name", MINE)
def test_no_typed_decimal_in_prose(name):
    for lang in ("ko", "en"):
        src = (REPO / "templates" / "pages" / f"{name}.{lang}.md.j2").read_text("utf-8")
        prose = _JINJA.sub(" ", src)
        assert not _DECIMAL.findall(prose), f"{name}.{lang}: decimal literal(s) {_DECIMAL.findall(prose)}"


def test_strings_parity_and_no_decimals():
    ko = {k for k in strings.flat_keys("ko") if k.split(".")[0] in TABLES}
    en = {k for k in strings.flat_keys("en") if k.split(".")[0] in TABLES}
    assert ko == en
    for lang in ("ko", "en"):
        text = (REPO / "templates" / "strings" / lang / "pages_a.toml").read_text("utf-8")
        assert not _DECIMAL.findall(text), _DECIMAL.findall(text)
        for term in strings.load(lang)["glossary"].values():
            assert set(term) == {"term", "desc"} and term["term"] and term["desc"]
    # Korean glossary terms carry the English term in parentheses on first use
    for key, term in strings.load("ko")["glossary"].items():
        assert re.search(r"\([A-Za-z]", term["term"]), key


# ------------------------------------------------------------------------------------------------
# figures


def test_page_basics_figures_build_in_both_languages(tiny):
    from generator.contract import schema as contract
    from generator.figures.draw import build_figure
    from generator.figures.registry import FIGURES, figure_alt, figure_jobs
    from generator.figures.registry import GRID_TABLES as TABLE_FILES

    cfg, data, _ = tiny
    frames = {k: contract.read_csv(v, data.data_dir) for k, v in TABLE_FILES.items() if (data.data_dir / v).exists()}
    jobs = [j for j in figure_jobs(cfg) if j.name in ("basics_lines", "basics_matched", "activation_curves")]
    assert {j.stem for j in jobs} == {"basics_glorot", "basics_he", "basics_matched", "activation_curves"}
    for job in jobs:
        for lang in ("ko", "en"):
            fig = build_figure(job.name, frames, lang, **job.kwargs)
            assert fig.get_axes()
            assert figure_alt(job.name, lang, **job.kwargs)
            if lang == "ko":
                texts = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]
                assert any(re.search(r"[가-힣]", s) for s in texts)
    assert "basics_lines" in FIGURES
