"""Words a reader trips over (issue 15, items 2 and 8): one name for the source note, Korean without
translationese, English counts and units that agree, config values printed as written, undefined
values as dashes.

Three layers of checks: the formatters of generator/render/wording.py on synthetic values (each rule
and its edge), the page helpers that print settings (generator/pages/training.py), and the text of
every page -- the golden pages rendered from their fixed data, and every string catalog and page
template -- scanned for the regression classes below.
"""

from __future__ import annotations

import math
import re
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from generator.pages import training as training_page
from generator.render import filters
from generator.render.wording import agree, at_least, cfg, defined, measured, points

REPO = Path(__file__).resolve().parent.parent
STRINGS = REPO / "templates" / "strings"
PAGES_DIR = REPO / "templates" / "pages"

# Never on a page (either language): the source note's retired names, Korean translationese, English
# agreement / unit slips. Each entry: (language or None for both, regex, why).
FORBIDDEN = [
    (None, r"시드 ?글|시드 ?노트", "the source note is 원본 노트 (시드 is the random seed)"),
    (
        None,
        r"(?i)\bseed note\b|Reproducing the seed\b|reproducing-the-seed",
        "the source note is 'source note' in English",
    ),
    ("ko", r"열지도", "heatmap is 히트맵"),
    ("ko", r"되비", "translationese (역전파는 순전파를 되비춘다)"),
    ("ko", r"찍기 수준", "translationese: chance level"),
    ("ko", r"한 벌마다", "translationese"),
    ("ko", r"활성화 이전 값|사전활성", "pre-activation is 사전 활성값"),
    ("ko", r"sigmoid[와과는가를의에]", "Korean prose uses the display name 시그모이드"),
    (
        "en",
        r"\b1 (do not hold|hold\b|are (judged|inconclusive)|(measurable )?claims\b)",
        "a count of 1 takes a singular verb",
    ),
    ("en", r"%\s*percentage points?", "percentage points are not a percentage"),
    ("en", r"\d\(\[?(table|figure)", "a reference glued to a number"),
]


def forbidden_hits(text: str, lang: str) -> list[str]:
    hits = []
    for only, pattern, why in FORBIDDEN:
        if only in (None, lang):
            for m in re.finditer(pattern, text):
                line = text[text.rfind("\n", 0, m.start()) + 1 : text.find("\n", m.end())]
                hits.append(f"{why}: {m.group(0)!r} in {line.strip()[:160]!r}")
    return hits


# --- the formatters on synthetic values ---------------------------------------------------------


@pytest.mark.parametrize(
    "value, text",
    [
        (0.1, "0.1"),
        (0.01, "0.01"),
        (0.9, "0.9"),
        (50.0, "50"),
        (1.0, "1"),
        (3, "3"),
        (1000, "1,000"),
        (1e-4, "0.0001"),
        (0.001, "0.001"),
        (2.5e-5, "2.5×10⁻⁵"),
        (1e8, "10⁸"),
        (1.5e8, "1.5×10⁸"),
        (-0.3, "−0.3"),
        (0.0, "0"),
        (0.3162, "0.3162"),
    ],
)
def test_cfg_prints_a_config_value_as_written(value, text):
    assert cfg(value, "en") == text
    assert cfg(value, "ko") == text  # both locales share the marks today


def test_cfg_falls_back_to_three_digits_for_a_computed_grid_point():
    lr = float(np.logspace(-2, 0, 5)[1])  # 0.03162277660168379: written nowhere, so not "as written"
    assert cfg(lr, "en") == filters.num(lr, "en") == "0.0316"
    assert cfg(float("nan"), "en") == filters.DASH and cfg(None, "en") == filters.DASH
    with pytest.raises(filters.FilterError):
        cfg(True, "en")
    with pytest.raises(filters.FilterError):
        cfg("0.1", "en")


def test_a_measured_value_keeps_its_significant_digits():
    # the distinction the two formatters exist for: the same 0.1 as a measurement and as a setting
    assert filters.num(0.1, "en") == "0.100" and cfg(0.1, "en") == "0.1"


@pytest.mark.parametrize(
    "value, en, ko",
    [
        (0.25, "25 percentage points", "25%p"),
        (0.01, "1 percentage point", "1%p"),
        (-0.05, "−5 percentage points", "−5%p"),
    ],
)
def test_points(value, en, ko):
    assert points(value, "en", digits=0) == en and points(value, "ko", digits=0) == ko
    assert "%" not in en


def test_agree():
    assert agree(1, "does not hold", "do not hold") == "1 does not hold"
    assert agree(0, "does not hold", "do not hold") == "0 do not hold"
    assert agree(2.0, "claim", "claims") == "2 claims"
    with pytest.raises(filters.FilterError):
        agree(1.5, "a", "b")


def test_undefined_is_a_dash_and_a_bound_says_so():
    assert measured(math.inf, "en") == filters.DASH and measured(-math.inf, "en") == filters.DASH
    assert measured(float("nan"), "en") == filters.DASH and measured(2.0, "en") == "2.00"
    assert math.isnan(defined(math.inf)) and defined(3) == 3.0
    assert at_least(1.02e8, "en", bound=True) == "≥\u00a01.02×10⁸"
    assert at_least(1.02e8, "en", bound=False) == "1.02×10⁸"
    # a table cell of an undefined value keeps its numeric column and shows the dash
    table = filters.md_table(pd.DataFrame({"std": [defined(math.inf), 0.5]}), "en")
    assert "| — |" in table and "∞" not in table


# --- settings as the pages print them -----------------------------------------------------------


def test_setting_text_prints_config_values_as_written_and_display_names():
    s = "data=digits; width=100; depth=10/20/30; act=relu; init=he/xavier; lr=0.01; momentum=0.9; lr_bn=0.464159; steps=50"
    en = training_page.setting_text(s, "en")
    assert "η 0.01" in en and "momentum 0.9" in en and "50 steps" in en, en
    assert "0.0100" not in en and "50.0" not in en and "0.900" not in en
    assert "ReLU" in en and "relu" not in en  # display names, not ids
    assert "η with BN 0.464" in en  # a computed grid point: 3 significant digits
    ko = training_page.setting_text(s, "ko")
    assert "0.01" in ko and "0.0100" not in ko and "초기화 He" not in ko


def test_a_rule_margin_is_printed_as_written():
    v = {
        "higher_lr_effect": 0.0,
        "higher_lr_ci_low": 0.0,
        "higher_lr_ci_high": 0.0,
        "higher_lr_margin": 2.0,
        "higher_lr_verdict": "does_not_hold",
        "higher_lr_n": 2,
    }
    row = training_page.part_row("higher_lr", v, "en")
    assert row["margin"] == "2", row


# --- page text ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def golden_pages() -> dict:
    from golden.regenerate import render_golden

    return {p.name: t for p, t in render_golden().items()}


def test_rendered_golden_pages_use_the_fixed_words(golden_pages):
    assert golden_pages
    hits = [
        f"{name}: {h}"
        for name, text in golden_pages.items()
        for h in forbidden_hits(text, "ko" if ".ko." in name else "en")
    ]
    assert not hits, "\n".join(hits)
    # the random seed keeps its word in both languages
    assert any("시드" in t for n, t in golden_pages.items() if ".ko." in n)
    assert any(re.search(r"\bseeds?\b", t) for n, t in golden_pages.items() if ".en." in n)


def _strings(lang: str) -> list[tuple[str, str]]:
    out = []

    def walk(prefix, d):
        for k, v in d.items():
            if isinstance(v, dict):
                walk(f"{prefix}{k}.", v)
            elif isinstance(v, str):
                out.append((prefix + k, v))

    for path in [STRINGS / f"{lang}.toml", *sorted((STRINGS / lang).glob("*.toml"))]:
        walk(f"{path.stem}:", tomllib.loads(path.read_text("utf-8")))
    return out


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_every_string_and_template_uses_the_fixed_words(lang):
    """Pages the golden set does not render (seed, training, ...) are checked at their source: every
    catalog string and every page template of the language."""
    hits = [f"{key}: {h}" for key, text in _strings(lang) for h in forbidden_hits(text, lang)]
    for path in sorted(PAGES_DIR.glob(f"*.{lang}.md.j2")):
        hits += [f"{path.name}: {h}" for h in forbidden_hits(path.read_text("utf-8"), lang)]
    assert not hits, "\n".join(hits)


def test_the_source_note_has_one_name_in_each_language():
    ko, en = dict(_strings("ko")), dict(_strings("en"))
    assert ko["ko:nav.seed"] == "원본 노트 재현" and en["en:nav.seed"] == "Reproducing the source note"
    assert any("원본 노트" in v for v in ko.values()) and any("source note" in v for v in en.values())


def test_templates_print_config_values_with_cfg():
    """A learning rate, momentum or divergence threshold reaches a page through ``cfg``, never ``num``."""
    config_like = re.compile(
        r"\{\{\s*[\w.]*(learning_rate|lr_min|lr_max|momentum|diverge_rms|leaky_slope)\s*\|\s*num\b"
    )
    hits = [
        f"{p.name}: {m.group(0)}" for p in PAGES_DIR.glob("*.j2") for m in config_like.finditer(p.read_text("utf-8"))
    ]
    assert not hits, hits


@pytest.mark.parametrize(
    "lang, text",
    [
        ("ko", "시드 노트의 첫 실험"),
        ("ko", "시드 글 재현"),
        ("en", "Reproducing the seed"),
        ("en", "the seed note says"),
        ("ko", "열지도"),
        ("ko", "역전파는 순전파를 되비춘다"),
        ("ko", "찍기 수준"),
        ("ko", "사전활성 분산"),
        ("ko", "sigmoid와 tanh는"),
        ("en", "3 hold and 1 do not hold."),
        ("en", "25% percentage points"),
        ("en", "batch norm 0([table](#tbl-x))"),
    ],
)
def test_each_forbidden_pattern_catches_its_example(lang, text):
    """The scan above is only as good as its patterns: each one fires on the phrase the issue quoted."""
    assert forbidden_hits(text, lang)


def test_the_scan_leaves_the_random_seed_alone():
    assert not forbidden_hits("시드 3개의 평균, 시드 간 최소–최대", "ko")
    assert not forbidden_hits("mean over 3 seeds; the seed-to-seed spread; 1 holds", "en")


def _bn_dataset(root: Path):
    """A tiny data directory with norms none and bn (the golden grid facts, changed): tanh, four random
    inits and zeros, three layers, four seeds; ``large`` without BN diverges at layer 3 in every seed."""
    import json

    from generator.contract import schema as contract
    from generator.contract.dataset import Dataset

    grid = json.loads((REPO / "tests" / "golden" / "data" / "grid.json").read_text())
    p = grid["propagation"]
    p.update(
        inits=["zeros", "small", "xavier", "he", "large"],
        activations=["tanh"],
        norms=["none", "bn"],
        seeds=[0, 1, 2, 3],
    )
    root.mkdir(parents=True, exist_ok=True)
    (root / "grid.json").write_text(json.dumps(grid))
    last = {"zeros": 0.0, "small": 2e-3, "xavier": 0.3, "he": 0.6, "large": 1e5}
    rows = []
    for init, std_l in last.items():
        for norm in p["norms"]:
            for s in p["seeds"]:
                for layer in (1, 2, 3):
                    std = (
                        (0.0 if init == "zeros" else 0.63 * (1 + 1e-4 * s))
                        if norm == "bn"
                        else std_l * (1 + 0.01 * s) ** layer
                    )
                    div = init == "large" and norm == "none" and layer == 3
                    rows.append(
                        dict(
                            init=init,
                            activation="tanh",
                            norm=norm,
                            seed=s,
                            layer=layer,
                            mean=0.0,
                            std=std,
                            min=-3 * std,
                            max=3 * std,
                            saturated_frac=0.0,
                            zero_frac=0.0,
                            preact_std=std,
                            grad_h_std=1.0,
                            grad_w_norm=1.0,
                            grad_w_ratio=0.1,
                            theory_std=np.nan,
                            diverged=div,
                        )
                    )
    contract.write_csv("propagation.csv", contract.check_frame("propagation.csv", pd.DataFrame(rows)), root)
    return Dataset(root)


def test_one_spread_across_inits_prints_the_same_on_both_pages(tmp_path):
    """Issue 15 item 8 ("∞" on one page, 1.02×10⁸ on another): the batch-norm and conclusions pages read
    the spread from generator/analysis/factors.py:init_spread, so the same data prints the same number,
    "≥ threshold / min" where an init diverged, in both languages."""
    from generator.analysis.factors import init_spread
    from generator.pages import batchnorm, conclusions

    data = _bn_dataset(tmp_path / "data")
    cap = data.grid.propagation.diverge_rms
    sp = init_spread(data.prop, 3, cap).set_index("norm")
    small = data.prop[(data.prop["init"] == "small") & (data.prop["norm"] == "none") & (data.prop["layer"] == 3)]
    assert sp.loc["none", "bound"] and sp.loc["none", "ratio"] == pytest.approx(cap / small["std"].mean())
    assert not sp.loc["bn", "bound"]
    bn_page, concl = batchnorm.context(data), conclusions.context(data)
    for lang in ("en", "ko"):
        shown = bn_page["spread_display"][lang].set_index("activation")
        cells = concl["tables"]["spread"][lang].iloc[0]
        none, bn = shown.loc["tanh", "ratio_none"], shown.loc["tanh", "ratio_bn"]
        assert none == at_least(sp.loc["none", "ratio"], lang, bound=True) and none.startswith("≥")
        assert cells["none"].startswith(none + " (") and cells["bn"].startswith(bn + " (")
        assert "∞" not in none + cells["none"]
    # the verdict reads the same spread (per seed): BN removes the dependence here
    assert concl["judged"]["bn_init_prop"] == "holds"
    assert bn_page["summary"]["none_max_bound"] and bn_page["summary"]["confirmed"]
