"""The explorer page in a real browser (issue 16 acceptance; DOM contract: explorer-spec section 3).

Against the shared reduced-grid site (tests/conftest.py: ``site_build``, ``site_url``, ``browser``):

* each control change redraws the charts (their SVG markup changes), and the table then equals
  propagation.csv for that configuration -- one seed's raw values, or with "all" the seed mean computed
  HERE with pandas from propagation.csv by the rule of generator/analysis/seeds.py (a run is diverged from
  its first flagged or overflowing layer on; a layer where no seed contributes says "diverged") -- within
  the display precision (3 significant digits), for a healthy configuration, one with batch normalization
  and one that diverges (the reduced grid's ``large`` + ReLU at layer 5, configs/small.toml);
* a URL hash restores the selection and the overlay, the overlay draws a second series on every chart,
  the language switch keeps the hash;
* no console error, no request to another host, axe-core finds nothing serious or critical, no sideways
  page scroll at 390 px; screenshots explorer-{ko,en}-{1280,390}.png go to test-artifacts/;
* the script's number format equals generator.render.filters.num on edge values, in both languages.

Skipped only when /usr/bin/chromium is absent.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from generator.render.filters import num

CHROMIUM = "/usr/bin/chromium"
LANGS = ("ko", "en")
AXES = ("init", "activation", "norm", "seed")
DIVERGED_LABEL = {"ko": "발산", "en": "diverged"}  # templates/strings/*/explorer.toml explorer.js.diverged

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} not installed (`make browser-deps`)"),
]


# ------------------------------------------------------------------------------------------------
# expected values, from propagation.csv only


@pytest.fixture(scope="module")
def prop(site_build) -> pd.DataFrame:
    return pd.read_csv(site_build.docs_dir / "data" / "propagation.csv")


@pytest.fixture(scope="module")
def health(site_build) -> pd.DataFrame:
    return pd.read_csv(site_build.docs_dir / "data" / "health.csv")


def stat_columns(prop: pd.DataFrame) -> list[str]:
    return [c for c in prop.columns if c not in ("init", "activation", "norm", "seed", "layer", "diverged")]


def expected(prop: pd.DataFrame, cfg: dict) -> pd.DataFrame:
    """Per layer (index) and column: the value the table must show; NaN = no value, GONE = every seed diverged."""
    rows = prop[
        (prop["init"] == cfg["init"]) & (prop["activation"] == cfg["activation"]) & (prop["norm"] == cfg["norm"])
    ]
    cols = stat_columns(prop)
    if cfg["seed"] != "all":
        one = rows[rows["seed"] == int(cfg["seed"])].set_index("layer").sort_index()
        return one[cols].astype(float)
    measured = [c for c in cols if not c.startswith("theory")]
    out = {}
    for layer in sorted(rows["layer"].unique()):
        contrib = []
        for _, run in rows.groupby("seed"):
            upto = run[run["layer"] <= layer]
            blown = upto["diverged"].astype(bool).any() or np.isinf(upto[measured].to_numpy(float)).any()
            contrib.append((blown, run[run["layer"] == layer].iloc[0]))
        vals = {}
        for c in cols:
            ok = [
                float(r[c])
                for blown, r in contrib
                if (not blown or c.startswith("theory")) and math.isfinite(float(r[c]))
            ]
            every_blown = all(blown for blown, _ in contrib)
            vals[c] = float(np.mean(ok)) if ok else (GONE if every_blown and not c.startswith("theory") else math.nan)
        out[layer] = vals
    return pd.DataFrame.from_dict(out, orient="index", dtype=object)


GONE = "every seed diverged"
_SUP = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")


def parse_cell(text: str) -> float:
    t = text.replace("†", "").strip().replace("\u2212", "-").replace(",", "")
    if t == "—":
        return math.nan
    if t in ("∞", "-∞"):
        return math.inf if t == "∞" else -math.inf
    if "×10" in t:
        m, e = t.split("×10")
        return float(m) * 10.0 ** int(e.translate(_SUP))
    return float(t)


def check_table(tab, prop: pd.DataFrame, cfg: dict, lang: str) -> int:
    exp = expected(prop, cfg)
    cells = tab.evaluate("""() => Array.from(document.querySelectorAll('#ex-table td[data-stat]')).map(td =>
        [td.dataset.stat, +td.dataset.layer, td.textContent, td.dataset.diverged])""")
    assert len(cells) == exp.size, (len(cells), exp.shape)
    bad = []
    for stat, layer, text, _ in cells:
        want = exp.loc[layer, stat]
        if isinstance(want, str):
            ok = want == GONE and text == DIVERGED_LABEL[lang]
        elif isinstance(want, float) and math.isnan(want):
            ok = text == "—"
        else:
            got = parse_cell(text)
            # 3 significant digits: at most half a unit of the third digit (+ the data's 6-digit rounding)
            ok = got == want or abs(got - want) <= 0.0051 * abs(want)
        if not ok:
            bad.append((layer, stat, text, want))
    assert not bad, f"{cfg}: table differs from propagation.csv: {bad[:8]}"
    return len(cells)


# ------------------------------------------------------------------------------------------------
# the page


def hash_of(cfg: dict, vs: dict | None = None) -> str:
    h = "#" + "&".join(f"{a}={cfg[a]}" for a in AXES)
    return h + ("&vs=" + ",".join(str(vs[a]) for a in AXES) if vs else "")


def wait_ready(tab, h: str) -> None:
    tab.wait_for_function("h => document.getElementById('explorer').dataset.ready === h", arg=h, timeout=15000)


def charts_markup(tab) -> str:
    return tab.evaluate(
        "() => document.querySelector('.ex-charts').innerHTML + document.getElementById('ex-hists').innerHTML"
    )


class Tab:
    """One browser page with its console errors and foreign requests recorded."""

    def __init__(self, browser, base: str, width: int = 1280, height: int = 900):
        self.ctx = browser.new_context(viewport={"width": width, "height": height})
        self.page = self.ctx.new_page()
        self.errors: list[str] = []
        self.foreign: list[str] = []
        origin = "/".join(base.split("/", 3)[:3])
        self.page.on("console", lambda m: self.errors.append(f"{m.type}: {m.text}") if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on(
            "request",
            lambda r: (
                self.foreign.append(r.url) if not r.url.startswith((origin + "/", "data:", "blob:", "about:")) else None
            ),
        )

    def close(self):
        self.ctx.close()


def url(site_url: str, lang: str) -> str:
    return site_url + ("explorer/" if lang == "ko" else "en/explorer/")


@pytest.fixture(scope="module")
def configs(prop, health) -> dict:
    """A healthy configuration, one with batch normalization and one that diverges (from the data)."""
    plain = health[health["norm"] == "none"]
    healthy = plain[plain["healthy"].astype(bool)].iloc[0]
    bn = health[(health["norm"] == "bn") & (health["init"] != healthy["init"])].iloc[0]
    div = health[health["first_diverged"].notna()]
    assert len(div), "the reduced grid has no diverged configuration (configs/small.toml diverge_rms)"
    seed = str(sorted(prop["seed"].unique())[-1])
    pick = lambda r: {"init": r["init"], "activation": r["activation"], "norm": r["norm"]}  # noqa: E731
    return {"healthy": pick(healthy), "bn": pick(bn), "diverged": pick(div.iloc[0]), "seed": seed}


@pytest.mark.parametrize("lang", LANGS)
def test_each_control_redraws_and_the_table_matches_the_csv(browser, site_url, prop, configs, lang):
    tab = Tab(browser, site_url)
    try:
        page = tab.page
        page.goto(url(site_url, lang))
        page.wait_for_selector("#explorer[data-ready]", state="attached")
        cur = {a: page.input_value(f"#ex-{a}") for a in AXES}
        targets = [dict(configs[k], seed=s) for k in ("healthy", "bn", "diverged") for s in ("all", configs["seed"])]
        checked = 0
        for target in targets:
            for a in AXES:  # one control at a time: every change must redraw
                if cur[a] == target[a]:
                    continue
                before = charts_markup(page)
                page.select_option(f"#ex-{a}", target[a])
                cur[a] = target[a]
                wait_ready(page, hash_of(cur))
                assert charts_markup(page) != before, f"changing {a} to {target[a]} did not change the charts"
                assert page.evaluate("location.hash") == hash_of(cur)
            checked += check_table(page, prop, target, lang)
        assert checked >= 6 * len(prop["layer"].unique())
        # the diverged configuration says so: a marker on the charts, the word in the table
        wait_ready(page, hash_of(cur))
        assert page.locator(".ex-charts .ex-div").count() > 0
        assert tab.errors == [] and tab.foreign == []
    finally:
        tab.close()


@pytest.mark.parametrize("lang", LANGS)
def test_hash_restores_overlay_draws_two_series_and_language_switch_keeps_it(browser, site_url, configs, lang):
    a, b = dict(configs["bn"], seed="all"), dict(configs["diverged"], seed=configs["seed"])
    h = hash_of(a, b)
    tab = Tab(browser, site_url)
    try:
        page = tab.page
        page.goto(url(site_url, lang) + h)
        wait_ready(page, h)
        assert {x: page.input_value(f"#ex-{x}") for x in AXES} == {x: str(a[x]) for x in AXES}
        assert {x: page.input_value(f"#ex-vs-{x}") for x in AXES} == {x: str(b[x]) for x in AXES}
        assert page.is_checked("#ex-vs-on")
        for chart in ("mean", "std", "grad_h_std", "grad_w_ratio"):
            for s in "ab":
                assert page.locator(f'#ex-chart-{chart} path.ex-series[data-series="{s}"]').count() == 1, (chart, s)
        assert page.locator('#ex-hists path.ex-series[data-series="b"]').count() >= 1
        # switching the overlay off writes the hash without vs, and the language switch carries it along
        page.uncheck("#ex-vs-on")
        wait_ready(page, hash_of(a))
        assert page.locator('path.ex-series[data-series="b"]').count() == 0
        other = "en" if lang == "ko" else "ko"
        page.hover(".md-header .md-select")
        with page.expect_navigation(wait_until="load"):
            page.locator(f'.md-header .md-select a.md-select__link[hreflang="{other}"]').click()
        assert page.url.endswith(("explorer/" if other == "ko" else "en/explorer/") + hash_of(a)), page.url
        wait_ready(page, hash_of(a))
        assert page.get_attribute("#explorer", "data-lang") == other
        assert {x: page.input_value(f"#ex-{x}") for x in AXES} == {x: str(a[x]) for x in AXES}
        assert tab.errors == [] and tab.foreign == []
    finally:
        tab.close()


@pytest.mark.parametrize("lang", LANGS)
def test_clean_accessible_and_fits_a_phone(browser, site_url, artifacts_dir, configs, lang):
    from axe_playwright_python.sync_playwright import Axe

    h = hash_of(dict(configs["diverged"], seed="all"), dict(configs["bn"], seed="all"))
    for width, height in ((1280, 900), (390, 844)):
        tab = Tab(browser, site_url, width, height)
        try:
            page = tab.page
            page.goto(url(site_url, lang) + h)
            wait_ready(page, h)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(artifacts_dir / f"explorer-{lang}-{width}.png"), full_page=True)
            sw, cw = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
            assert sw <= cw, f"{width}px: the page scrolls sideways ({sw} > {cw})"
            assert page.evaluate("+document.getElementById('explorer').dataset.redrawMs") >= 0
            if width == 1280:
                for sel in ("#ex-init", "#ex-activation", "#ex-norm", "#ex-seed", "#ex-vs-on"):  # labelled controls
                    assert page.evaluate("s => document.querySelector(s).labels.length", sel) >= 1, sel
                assert page.locator("svg.ex-svg[role=img][aria-label]").count() == page.locator("svg.ex-svg").count()
                violations = Axe().run(page).response.get("violations", [])
                serious = [
                    (v["id"], v.get("impact"), [n.get("target") for n in v.get("nodes", [])][:3])
                    for v in violations
                    if v.get("impact") in ("serious", "critical")
                ]
                assert not serious, serious
            assert tab.errors == [], tab.errors
            assert tab.foreign == [], tab.foreign
        finally:
            tab.close()


NUMBERS = [
    0.0,
    -0.0,
    1e-3,
    -1e-3,
    0.000999,
    0.0009995,
    0.00099949,
    0.0009996,
    0.001004,
    99999.7,
    99999.4,
    -99999.7,
    1e5,
    12345.6,
    -12345.6,
    1234.5,
    2.0,
    0.5,
    1.125,
    0.125,
    2.675,
    1.005,
    1 / 3,
    -2 / 3,
    123456789.0,
    1e300,
    -1e-300,
    5e-324,
    0.0123456,
    9.995,
    9.9949,
    0.1,
    100.0,
    999.5,
    1000.5,
    math.nan,
    math.inf,
    -math.inf,
]


def test_script_number_format_equals_the_python_filter(browser, site_url):
    rng = np.random.default_rng(16)
    values = NUMBERS + [float(v) for v in rng.standard_normal(300) * 10.0 ** rng.integers(-8, 9, 300)]
    values += [float(f"{v:.6g}") for v in values[len(NUMBERS) :]]  # the data's 6 significant digits
    tab = Tab(browser, site_url)
    try:
        tab.page.goto(url(site_url, "ko"))
        tab.page.wait_for_function("typeof window.initlabExplorerNum === 'function'")
        got = tab.page.evaluate("vs => vs.map(v => window.initlabExplorerNum(v))", values)
    finally:
        tab.close()
    for lang in LANGS:
        bad = [(v, g, num(v, lang)) for v, g in zip(values, got) if g != num(v, lang)]
        assert not bad, f"{lang}: JS format differs from filters.num: {bad[:10]}"
    assert re.fullmatch(r"1\.00×10⁵", got[NUMBERS.index(99999.7)])  # the rounded value picks the notation


@pytest.mark.parametrize("lang", LANGS)
def test_theory_line_shows_the_phase_diagram_xi_c(browser, site_build, site_url, configs, lang):
    """Without normalization, a pair the phase stage placed (index.json ``phase``) shows its xi_c there,
    in the script's number format; with batch normalization the line says the theory does not apply."""
    import json

    from generator.render import strings

    index = json.loads((site_build.docs_dir / "data" / "explorer" / "index.json").read_text("utf-8"))
    placed = [(i, a) for i, acts in index["phase"].items() for a in acts]
    assert placed, "configs/small.toml's [phase] places no (init, activation) of its grid"
    init, act = placed[0]
    xi = index["phase"][init][act]["xi_c"]
    cfg = dict(init=init, activation=act, norm="none", seed="all")
    tab = Tab(browser, site_url)
    try:
        page = tab.page
        page.goto(url(site_url, lang) + hash_of(cfg))
        wait_ready(page, hash_of(cfg))
        text = page.locator("#ex-health .ex-theory-text").first.text_content()
        shown = num(float(xi), lang=lang) if xi != "inf" else "∞"
        assert f"{strings.t(lang, 'explorer.js.xi_c')} = {shown}" in text, text
        bn = dict(cfg, norm="bn")
        page.goto(url(site_url, lang) + hash_of(bn))
        wait_ready(page, hash_of(bn))
        text = page.locator("#ex-health .ex-theory-text").first.text_content()
        assert strings.t(lang, "explorer.js.xi_c") not in text and tab.errors == []
    finally:
        tab.close()
