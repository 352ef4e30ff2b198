"""generator/render/env.py, the shared macros, and the MkDocs configuration (site/mkdocs.yml).

Fast unit tests of the strict Jinja2 Environment, plus a few builds of a tiny two-language docs
tree with the real site/mkdocs.yml (each ~1 s; marked ``slow``) and one real-browser search check
(marked ``browser``).
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from generator.pipeline.build import BuildError, build_site
from generator.pipeline.outputs import Manifest
from generator.pipeline.render_stage import render_pages
from generator.render import env as render
from generator.render.env import RenderError, environment, page_structure
from tinysite import HOME_NAV, site_mkdocs_yml

REPO = Path(__file__).resolve().parent.parent
SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8"/></svg>\n'


# ------------------------------------------------------------------------------------------------
# helpers


def make_templates(tmp_path: Path, pages: dict[str, str]) -> Path:
    """A templates dir with the repo's macros + strings and the given ``{"pages/x.ko.md.j2": src}``."""
    tdir = tmp_path / "templates"
    shutil.copytree(REPO / "templates" / "macros", tdir / "macros")
    for rel, src in pages.items():
        (tdir / rel).parent.mkdir(parents=True, exist_ok=True)
        (tdir / rel).write_text(src, encoding="utf-8")
    return tdir


def make_site(root: Path) -> Path:
    """A copy of site/ (mkdocs.yml + overrides); its navigation is passed to ``build_site(nav=...)``."""
    site = root / "site"
    site.mkdir(parents=True)
    shutil.copytree(REPO / "site" / "overrides", site / "overrides")
    (site / "mkdocs.yml").write_text(site_mkdocs_yml(), encoding="utf-8")
    return site


# the tiny site's navigation (render_tiny_site renders these two pages)
TINY_NAV = [*HOME_NAV, ("results", {"ko": "결과", "en": "Results"})]


RESULTS = {
    "ko": """{% import "macros/report.j2" as m with context %}
# 결과

ReLU는 He초기화와 함께 쓸 때 분산 {{ 0.000999 | num }}을 유지합니다. [그림](#fig-demo), [홈](index.md).

{{ m.figure("demo", "층별 표준편차", "층이 깊어질수록 표준편차가 줄어드는 선 그래프") }}

{{ m.table(df, "요약 표", "demo", columns={"init": "초기화", "std": "표준편차"}, csv="data/demo.csv") }}

{{ m.mathblock("\\\\sigma_w^2 = 2 / n") }}

{% call m.callout("note", "참고") %}
본문 {{ "x^2" | math }}.
{% endcall %}
""",
    "en": """{% import "macros/report.j2" as m with context %}
# Results

With He initialization, ReLU keeps the variance at {{ 0.000999 | num }}. See [the figure](#fig-demo), [home](index.md).

{{ m.figure("demo", "Standard deviation per layer", "Line chart: the standard deviation shrinks with depth") }}

{{ m.table(df, "Summary", "demo", columns={"init": "Init", "std": "Std"}, csv="data/demo.csv") }}

{{ m.mathblock("\\\\sigma_w^2 = 2 / n") }}

{% call m.callout("note", "Note") %}
Body {{ "x^2" | math }}.
{% endcall %}
""",
}


def render_tiny_site(tmp_path: Path, *, figure_langs=("ko", "en")) -> Path:
    """Render a tiny index + results (above) into a copy of site/; returns the site dir."""
    pages = {f"pages/results.{lg}.md.j2": src for lg, src in RESULTS.items()}
    # A tiny home page: the repository's real pages need the experiment data (test_site_tree.py).
    pages.update(
        {f"pages/index.{lg}.md.j2": "# {{ t('nav.index') }}\n\n{{ 'x^2' | mathblock }}\n" for lg in ("ko", "en")}
    )
    tdir = make_templates(tmp_path, pages)
    site = make_site(tmp_path)
    docs = site / "docs"
    df = pd.DataFrame({"init": ["he", "xavier"], "std": [0.81234, 1e-5]})
    render_pages({"df": df}, docs, templates_dir=tdir)
    (docs / "figures").mkdir()
    for lg in figure_langs:
        (docs / "figures" / f"demo.{lg}.svg").write_text(SVG)
    (docs / "data").mkdir()
    (docs / "data" / "demo.csv").write_text("init,std\nhe,0.81234\nxavier,1e-05\n")
    # the build publishes only what a stage listed in the docs manifest: these files stand in for the
    # figures and experiments stages
    Manifest(docs).record("fixture", [*(docs / "figures").iterdir(), docs / "data" / "demo.csv"])
    return site


# ------------------------------------------------------------------------------------------------
# the strict Environment


def test_environment_is_strict_and_markdown_friendly():
    env = environment()
    assert env.undefined.__name__ == "StrictUndefined"
    assert env.trim_blocks and env.lstrip_blocks and env.keep_trailing_newline
    assert env.autoescape is False
    assert {"num", "pct", "math", "mathblock", "md_table"} <= set(env.filters)
    assert "t" in env.globals


def test_undefined_variable_names_template_line_and_variable(tmp_path):
    tdir = make_templates(tmp_path, {"pages/x.ko.md.j2": "# 제목\n\n값: {{ foo }}\n", "pages/x.en.md.j2": "# Title\n"})
    with pytest.raises(RenderError) as info:
        render_pages({}, tmp_path / "docs", templates_dir=tdir)
    msg = str(info.value)
    assert msg.startswith("template pages/x.ko.md.j2")
    assert "line 3" in msg
    assert "'foo' is undefined" in msg


def test_undefined_attribute_is_named(tmp_path):
    tdir = make_templates(tmp_path, {"pages/x.ko.md.j2": "{{ stats.mean }}\n", "pages/x.en.md.j2": "x\n"})
    with pytest.raises(RenderError, match=r"pages/x.ko.md.j2, line 1: 'dict object' has no attribute 'mean'"):
        render_pages({"stats": {}}, tmp_path / "docs", templates_dir=tdir)


def test_missing_translation_key_names_key_and_language(tmp_path):
    tdir = make_templates(
        tmp_path,
        {"pages/x.ko.md.j2": "{{ t('nav.index') }}\n", "pages/x.en.md.j2": "ok\n\n{{ t('nav.no_such_key') }}\n"},
    )
    with pytest.raises(RenderError) as info:
        render_pages({}, tmp_path / "docs", templates_dir=tdir)
    msg = str(info.value)
    assert msg.startswith("template pages/x.en.md.j2, line 3:")
    assert "missing translation key 'nav.no_such_key' for language 'en'" in msg


def test_missing_translation_key_inside_a_macro_is_named(tmp_path):
    tdir = make_templates(
        tmp_path,
        {
            "macros/extra.j2": "{% macro label() %}{{ t('ui.nope') }}{% endmacro %}",
            "pages/x.ko.md.j2": '{% import "macros/extra.j2" as e with context %}\n{{ e.label() }}\n',
            "pages/x.en.md.j2": "x\n",
        },
    )
    with pytest.raises(RenderError, match=r"pages/x.ko.md.j2.*missing translation key 'ui.nope' for language 'ko'"):
        render_pages({}, tmp_path / "docs", templates_dir=tdir)


def test_syntax_error_names_template_and_line(tmp_path):
    tdir = make_templates(tmp_path, {"pages/x.ko.md.j2": "ok\n{% if %}\n", "pages/x.en.md.j2": "x\n"})
    with pytest.raises(RenderError, match=r"template pages/x.ko.md.j2, line 2: syntax error"):
        render_pages({}, tmp_path / "docs", templates_dir=tdir)


def test_every_page_needs_every_language(tmp_path):
    tdir = make_templates(tmp_path, {"pages/x.ko.md.j2": "# 제목\n"})
    with pytest.raises(RenderError, match=r"page 'x' has no template for language\(s\) \['en'\]"):
        render_pages({}, tmp_path / "docs", templates_dir=tdir)


def test_failed_render_writes_nothing(tmp_path):
    tdir = make_templates(
        tmp_path,
        {
            "pages/a.ko.md.j2": "# a\n",
            "pages/a.en.md.j2": "# a\n",
            "pages/b.ko.md.j2": "{{ missing }}\n",
            "pages/b.en.md.j2": "# b\n",
        },
    )
    docs = tmp_path / "docs"
    with pytest.raises(RenderError):
        render_pages({}, docs, templates_dir=tdir)
    assert not docs.exists()


def test_full_render_removes_pages_whose_template_is_gone(tmp_path):
    tdir = make_templates(
        tmp_path,
        {
            "pages/a.ko.md.j2": "가\n",
            "pages/a.en.md.j2": "a\n",
            "pages/old.ko.md.j2": "옛\n",
            "pages/old.en.md.j2": "old\n",
        },
    )
    docs = tmp_path / "docs"
    render_pages({}, docs, templates_dir=tdir, assets_dir=tmp_path / "none", notebooks_dir=tmp_path / "none")
    for lg in ("ko", "en"):
        (tdir / "pages" / f"old.{lg}.md.j2").unlink()
    (docs / "data").mkdir(parents=True)
    (docs / "data" / "keep.csv").write_text("x\n")
    (docs / "mine.ko.md").write_text("not rendered by the build: never deleted")
    render_pages({}, docs, templates_dir=tdir, assets_dir=tmp_path / "none", notebooks_dir=tmp_path / "none")
    assert sorted(
        p.relative_to(docs).as_posix() for p in docs.rglob("*") if p.is_file() and not p.name.startswith(".initlab")
    ) == ["a.en.md", "a.ko.md", "data/keep.csv", "mine.ko.md"]


def test_context_cannot_override_lang(tmp_path):
    tdir = make_templates(tmp_path, {"pages/x.ko.md.j2": "x\n", "pages/x.en.md.j2": "x\n"})
    with pytest.raises(RenderError, match="must not define"):
        render_pages({"lang": "en"}, tmp_path / "docs", templates_dir=tdir)


def test_render_pages_selected_pages_and_unknown_page(tmp_path):
    tdir = make_templates(
        tmp_path,
        {
            "pages/a.ko.md.j2": "가 {{ lang }}\n",
            "pages/a.en.md.j2": "a {{ lang }}\n",
            "pages/sub/b.ko.md.j2": "나\n",
            "pages/sub/b.en.md.j2": "b\n",
        },
    )
    docs = tmp_path / "docs"
    out = render_pages({}, docs, ["a"], templates_dir=tdir, assets_dir=tmp_path / "none")
    assert out == [docs / "a.en.md", docs / "a.ko.md"]
    assert (docs / "a.ko.md").read_text() == "가 ko\n" and (docs / "a.en.md").read_text() == "a en\n"
    assert render.discover_pages(tdir) == {"a": ["en", "ko"], "sub/b": ["en", "ko"]}
    with pytest.raises(RenderError, match="unknown page"):
        render_pages({}, docs, ["zzz"], templates_dir=tdir)


def test_render_copies_assets_even_with_no_pages(tmp_path):
    # The real pages need the data context; they are rendered end to end in test_site_tree.py.
    docs = tmp_path / "docs"
    assert render_pages({}, docs, pages=[]) == []
    assert (docs / "assets" / "initlab.css").is_file()


# ------------------------------------------------------------------------------------------------
# macros


def test_figure_macro():
    env = environment()
    tpl = env.from_string(
        '{% import "macros/report.j2" as m with context %}{{ m.figure("layer_std", "캡션 *강조*", "대체 [텍스트]") }}'
    )
    out = tpl.render(lang="ko")
    assert '<figure class="initlab-figure" id="fig-layer_std" markdown="span">' in out
    assert "![대체 \\[텍스트\\]](figures/layer_std.ko.svg){ loading=lazy }" in out
    assert '<figcaption markdown="span">캡션 *강조*</figcaption>' in out
    assert out.startswith("\n") and out.endswith("\n\n")  # a block of its own


def test_table_csv_and_callout_macros():
    env = environment()
    df = pd.DataFrame({"a": ["x"], "b": [0.5]})
    tpl = env.from_string(
        '{% import "macros/report.j2" as m with context %}'
        '{{ m.table(df, "Caption", "t1", columns={"a": "A", "b": "B"}, csv="data/t1.csv") }}'
        '{% call m.callout("warning", "Careful") %}line one\nline two{% endcall %}'
    )
    out = tpl.render(lang="en", df=df)
    assert '<figure class="initlab-table" id="tbl-t1" markdown="block">' in out
    assert "| A | B |\n| :--- | ---: |\n| x | 0.500 |" in out
    assert "[Download CSV](data/t1.csv){ .initlab-csv download }" in out
    assert '</figure>\n\n\n!!! warning "Careful"\n    line one\n    line two\n\n' in out


# ------------------------------------------------------------------------------------------------
# ko/en parity of structure


def test_page_structure_detects_mismatch():
    ko = '# 가\n\n## 나 { #sec-b }\n\n<figure class="initlab-figure" id="fig-a" markdown="span">\n'
    en = "# A\n\n## B { #sec-b }\n\n### C\n\n```\n# not a heading\n```\n"
    a, b = page_structure(ko), page_structure(en)
    assert a["headings"] == [(1, None), (2, "sec-b")]
    assert b["headings"] == [(1, None), (2, "sec-b"), (3, None)]
    assert a["figures"] == ["fig-a"] and b["figures"] == []
    assert a != b


def test_language_parity(site_build):
    """Every rendered page of the session's reduced-grid site (the real templates and data) has the
    same heading structure and figure/table/CSV/math/callout counts in Korean and English."""
    docs = site_build.docs_dir
    pairs = [(ko, ko.with_name(ko.name[: -len(".ko.md")] + ".en.md")) for ko in sorted(docs.glob("**/*.ko.md"))]
    assert len(pairs) >= len(render.discover_pages())
    for ko, en in pairs:
        assert en.is_file(), f"{ko.name} has no English counterpart"
        s_ko, s_en = page_structure(ko.read_text("utf-8")), page_structure(en.read_text("utf-8"))
        assert s_ko == s_en, f"{ko.name} vs {en.name}: structure differs\n ko: {s_ko}\n en: {s_en}"


# ------------------------------------------------------------------------------------------------
# site/mkdocs.yml


def _mkdocs_yml() -> dict:
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_constructor("!ENV", lambda loader, node: loader.construct_sequence(node)[-1])
    Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)
    return yaml.load((REPO / "site" / "mkdocs.yml").read_text("utf-8"), Loader=Loader)


def _catalog_nav(lang: str) -> dict:
    """The ``[nav]`` table of templates/strings/<lang>.toml, read without generator.render.strings."""
    import tomllib

    with open(REPO / "templates" / "strings" / f"{lang}.toml", "rb") as fh:
        return tomllib.load(fh)["nav"]


def _registry() -> tuple[str, ...]:
    from generator.pages.registry import PAGES

    return PAGES


def test_site_nav_lists_every_registry_page_in_order_with_catalog_titles():
    """nav: ``<ko title>: <page>.md`` in registry order; en nav_translations ``<ko title>: <en title>``;
    the rest of mkdocs.yml's plugin list is copied unchanged; every page template is in the registry."""
    from generator.pipeline.nav import nav_settings, site_nav

    pages, ko, en = _registry(), _catalog_nav("ko"), _catalog_nav("en")
    nav = site_nav()
    # sections (issue 15): (name, titles, pages) groups; tests/test_structure.py checks them
    flat = [child for item in nav for child in (item[2] if len(item) == 3 else [item])]
    assert flat == [(page, {"ko": ko[page], "en": en[page]}) for page in pages]
    templates = render.discover_pages()
    assert sorted(templates) == sorted(pages), "a page template is missing from the registry (or vice versa)"
    assert all(sorted(templates[page]) == ["en", "ko"] for page in pages)

    settings = nav_settings(REPO / "site" / "mkdocs.yml", nav)
    entries = [
        child
        for e in settings["nav"]
        for child in (next(iter(e.values())) if isinstance(next(iter(e.values())), list) else [e])
    ]
    assert entries == [{ko[page]: f"{page}.md"} for page in pages]
    languages = {lg["locale"]: lg for lg in settings["plugins"][1]["i18n"]["languages"]}
    sections = {item[1]["ko"]: item[1]["en"] for item in nav if len(item) == 3}
    assert languages["en"].pop("nav_translations") == {**{ko[page]: en[page] for page in pages}, **sections}
    assert "nav_translations" not in languages["ko"]
    assert settings["plugins"] == _mkdocs_yml()["plugins"]


def test_child_config_keeps_the_parents_plugins_through_mkdocs_inherit(tmp_path):
    """MkDocs' own loader merges the child into mkdocs.yml: INHERIT replaces lists, so the child
    carries the whole plugin list; the English palette of the parent must survive next to the nav."""
    from mkdocs.utils import yaml as mkdocs_yaml

    from generator.pipeline.nav import nav_settings, write_child_config

    site = make_site(tmp_path)
    child = write_child_config(site / "mkdocs.yml", nav_settings(site / "mkdocs.yml", TINY_NAV), ".public-")
    assert child.parent == site and child.read_text("utf-8").startswith("INHERIT: ")  # swept if left over
    with open(child, "rb") as fh:
        merged = mkdocs_yaml.yaml_load(fh)
    assert merged["nav"] == [{"홈": "index.md"}, {"결과": "results.md"}]
    assert merged["theme"]["custom_dir"] == "overrides" and merged["site_name"] == "initlab"
    en = merged["plugins"][1]["i18n"]["languages"][1]
    assert en["nav_translations"] == {"홈": "Home", "결과": "Results"}
    assert en["theme"]["palette"][0]["toggle"]["name"] == "Switch to dark mode"
    assert [next(iter(p)) for p in merged["plugins"]] == ["search", "i18n"]


@pytest.mark.parametrize(
    "nav, message",
    [
        ([("index", {"ko": "홈"})], "page 'index' has no nav title in en"),
        ([("a", {"ko": "같음", "en": "A"}), ("b", {"ko": "같음", "en": "B"})], "two pages share the nav title '같음'"),
    ],
)
def test_bad_navigation_is_a_build_error_before_mkdocs(tmp_path, nav, message):
    site = make_site(tmp_path)
    (site / "docs").mkdir()
    with pytest.raises(BuildError, match=re.escape(f"navigation: {message}")):
        build_site(site, nav=nav)
    assert sorted(p.name for p in site.iterdir()) == ["docs", "mkdocs.yml", "overrides"]


def test_plugins_behind_a_yaml_tag_cannot_be_copied(tmp_path):
    from generator.pipeline.nav import nav_settings

    cfg = tmp_path / "mkdocs.yml"
    cfg.write_text(
        "site_url: !ENV [X, 'http://a/']\nplugins:\n  - i18n:\n      languages:\n"
        "        - locale: ko\n          default: true\n          name: !ENV [NAME, 'x']\n",
        "utf-8",
    )
    with pytest.raises(ValueError, match="use a YAML tag"):
        nav_settings(cfg, HOME_NAV)


def test_mkdocs_yml_facts():
    cfg = _mkdocs_yml()
    assert cfg["site_url"] == "http://127.0.0.1:8000/initlab/"  # !ENV default
    assert cfg["theme"]["font"] is False and cfg["theme"]["language"] == "ko"
    assert "navigation.instant" not in cfg["theme"]["features"]
    names = [p if isinstance(p, str) else next(iter(p)) for p in cfg["plugins"]]
    assert names == ["search", "i18n"]  # no privacy/social (offline)
    i18n = cfg["plugins"][1]["i18n"]
    assert i18n["docs_structure"] == "suffix" and i18n["reconfigure_material"] and i18n["reconfigure_search"]
    assert [(lg["locale"], lg.get("default", False)) for lg in i18n["languages"]] == [("ko", True), ("en", False)]
    assert set(cfg["validation"]) >= {"omitted_files", "absolute_links", "unrecognized_links", "anchors"}
    assert all(v == "warn" for k, v in cfg["validation"].items() if k != "nav")
    # the navigation is generated (generator/pipeline/nav.py), never written here
    assert "nav" not in cfg and all("nav_translations" not in lg for lg in i18n["languages"])


# ------------------------------------------------------------------------------------------------
# MkDocs builds of a tiny two-language site


@pytest.fixture(scope="module")
def built_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    site = render_tiny_site(root)
    res = build_site(site, site_url="https://owner.github.io/initlab/", nav=TINY_NAV)
    return res


@pytest.mark.slow
def test_tiny_site_builds_strict_in_both_languages(built_site):
    pub = built_site.public_dir
    assert built_site.warnings == []
    for rel in (
        "index.html",
        "results/index.html",
        "en/index.html",
        "en/results/index.html",
        "figures/demo.svg",
        "en/figures/demo.svg",
        "data/demo.csv",
        "search/search_index.json",
        "sitemap.xml",
        "sitemap.xml.gz",
        "en/sitemap.xml",
        "assets/initlab.css",
    ):
        assert (pub / rel).is_file(), rel
    ko = (pub / "results" / "index.html").read_text("utf-8")
    en = (pub / "en" / "results" / "index.html").read_text("utf-8")
    assert '<html lang="ko"' in ko and '<html lang="en"' in en
    assert 'id="fig-demo"' in en and 'src="../figures/demo.svg"' in en
    assert 'href="../../data/demo.csv"' in en and "download" in en  # one shared copy of the data
    assert '<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">' in en
    assert "<table>" in en and "1.00×10⁻⁵" in en
    assert 'class="admonition note"' in en
    assert "navigation.instant" not in ko


@pytest.mark.slow
def test_language_switcher_points_to_the_same_page(built_site):
    pub = built_site.public_dir

    def links(rel):
        html = (pub / rel).read_text("utf-8")
        return dict((lang, href) for href, lang in re.findall(r'<a href="([^"]*)" hreflang="([a-z]{2})"', html))

    assert links("en/results/index.html")["ko"] == "../../results/"
    assert links("results/index.html")["en"] == "../en/results/"
    # home pages use absolute links under the site_url path (GitHub project Pages subpath)
    assert links("en/index.html")["ko"] == "/initlab/"
    assert links("index.html")["en"] == "/initlab/en/"
    sitemap = (pub / "sitemap.xml").read_text("utf-8")
    assert "<loc>https://owner.github.io/initlab/en/results/</loc>" in sitemap


@pytest.mark.slow
def test_no_external_resources(built_site):
    pub = built_site.public_dir
    for html in pub.rglob("*.html"):
        text = html.read_text("utf-8")
        # what the page LOADS (src, <link href>); an <a href> to another site is a link the reader may follow
        # (references, the footer's licence deeds), not a resource
        loads = re.findall(r'<(?!a\s)[a-z]+\s[^>]*?(?:src|href)="(https?://[^"]+)"', text)
        for url in loads:
            assert url.startswith("https://owner.github.io/initlab/") or "squidfunk" in url or "mkdocs" in url, (
                f"{html.relative_to(pub)} loads {url}"
            )
        assert "fonts.googleapis" not in text and "cdn." not in text


@pytest.mark.slow
def test_search_index_holds_korean_and_is_configured_for_it(built_site):
    index = json.loads((built_site.public_dir / "search" / "search_index.json").read_text("utf-8"))
    cfg = index["config"]
    assert cfg["lang"] == ["ko", "en"]
    assert cfg["pipeline"] == ["stopWordFilter"]
    sep = re.compile(cfg["separator"])
    assert sep.split("ReLU는") == ["ReLU", "는"] and sep.split("He초기화") == ["He", "초기화"]
    assert sep.split("0.5와 1.0배") == ["0.5", "와", "1.0", "배"] and sep.split("끝.") == ["끝", ""]
    # one index per language (generator/pipeline/search_split.py), the same configuration in both
    en_index = json.loads((built_site.public_dir / "en" / "search" / "search_index.json").read_text("utf-8"))
    assert en_index["config"] == cfg
    ko_docs, en_docs = index["docs"], en_index["docs"]
    assert not [d for d in ko_docs if d["location"].startswith("en/")]
    assert any("초기화" in d["text"] for d in ko_docs)
    assert any(d["title"] == "결과" for d in ko_docs) and any(d["title"] == "Results" for d in en_docs)
    assert (built_site.public_dir / "assets" / "javascripts" / "lunr" / "min" / "lunr.ko.min.js").is_file()


@pytest.mark.slow
def test_broken_link_fails_the_strict_build(tmp_path):
    site = render_tiny_site(tmp_path)
    page = site / "docs" / "results.en.md"
    page.write_text(page.read_text("utf-8") + "\nSee [missing](nowhere.md).\n", "utf-8")
    with pytest.raises(BuildError, match=r"nowhere\.md"):
        build_site(site, nav=TINY_NAV)
    assert not (site / "public").exists()


@pytest.mark.slow
def test_broken_anchor_fails_the_strict_build(tmp_path):
    site = render_tiny_site(tmp_path)
    page = site / "docs" / "results.ko.md"
    page.write_text(page.read_text("utf-8") + "\n[없는 그림](#fig-nope)\n", "utf-8")
    with pytest.raises(BuildError, match=r"fig-nope"):
        build_site(site, nav=TINY_NAV)


@pytest.mark.slow
def test_missing_english_figure_fails_before_mkdocs(tmp_path):
    site = render_tiny_site(tmp_path, figure_langs=("ko",))
    with pytest.raises(BuildError, match=r"figures/demo\.ko\.svg has no figures/demo\.en\.svg"):
        build_site(site, nav=TINY_NAV)


@pytest.mark.slow
def test_page_missing_from_nav_fails(tmp_path):
    site = render_tiny_site(tmp_path)
    for lg in ("ko", "en"):
        (site / "docs" / f"orphan.{lg}.md").write_text("# orphan\n", "utf-8")
    Manifest(site / "docs").record(
        "fixture", [*Manifest(site / "docs").listed("fixture"), "orphan.ko.md", "orphan.en.md"]
    )
    with pytest.raises(BuildError, match=r"not included in the \"nav\"[^\n]*\n  - orphan\.ko\.md"):
        build_site(site, nav=TINY_NAV)


def _nav_links(html: str) -> list[tuple[str, str]]:
    """(href, title) of the page links of Material's navigation, in order."""
    return re.findall(
        r'<a href="([^"#]*)" class="md-nav__link[^"]*">\s*'
        r'<span class="md-ellipsis">\s*([^<]*?)\s*</span>',
        html,
    )


@pytest.mark.slow
def test_nav_shows_each_languages_titles(built_site):
    pub = built_site.public_dir
    assert _nav_links((pub / "index.html").read_text("utf-8")) == [(".", "홈"), ("results/", "결과")]
    assert _nav_links((pub / "en" / "index.html").read_text("utf-8")) == [("./", "Home"), ("results/", "Results")]
    assert _nav_links((pub / "en" / "results" / "index.html").read_text("utf-8")) == [
        ("../", "Home"),
        ("./", "Results"),
    ]


@pytest.mark.slow
def test_a_page_added_to_the_registry_appears_in_the_nav(tmp_path, monkeypatch):
    """Only the registry changes (``results`` added after ``index``): mkdocs.yml is not edited, and
    the nav shows the page with its catalog titles; without it the page is an orphan (strict fails)."""
    from generator.pipeline.nav import site_nav

    site = render_tiny_site(tmp_path)
    mkdocs_yml = (site / "mkdocs.yml").read_bytes()
    registry = "generator.pages.registry.PAGES"
    monkeypatch.setattr(registry, ("index",))
    with pytest.raises(BuildError, match=r"not included in the \"nav\"[^\n]*\n  - results\.ko\.md"):
        build_site(site, nav=site_nav())
    monkeypatch.setattr(registry, ("index", "results"))
    build_site(site, nav=site_nav())
    ko, en = _catalog_nav("ko"), _catalog_nav("en")
    pub = site / "public"
    assert _nav_links((pub / "index.html").read_text("utf-8")) == [(".", ko["index"]), ("results/", ko["results"])]
    assert _nav_links((pub / "en" / "results" / "index.html").read_text("utf-8")) == [
        ("../", en["index"]),
        ("./", en["results"]),
    ]
    assert (site / "mkdocs.yml").read_bytes() == mkdocs_yml


# ------------------------------------------------------------------------------------------------
# a real browser: Korean search finds a word inside a longer eojeol (prefix match)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.browser
@pytest.mark.slow
def test_korean_search_in_chromium(built_site, tmp_path, request):
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian chromium not installed (make browser-deps)")
    pytest.importorskip("playwright.sync_api")
    browser = request.getfixturevalue("browser")  # the session's one Chromium (tests/conftest.py)
    root = tmp_path / "srv"
    root.mkdir()
    (root / "initlab").symlink_to(built_site.public_dir)
    port = _free_port()
    srv = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}/initlab/"
        ctx = browser.new_context()
        try:
            page = ctx.new_page()
            failed = []
            page.on("response", lambda r: r.status >= 400 and failed.append(r.url))
            for _ in range(50):
                try:
                    page.goto(base + "results/")
                    break
                except Exception:
                    time.sleep(0.1)
            for query, expect in (("초기화", "결과"), ("ReLU", "결과")):
                page.goto(base + "results/")
                page.keyboard.press("s")
                box = page.locator("input[data-md-component=search-query]")
                box.press_sequentially(query, delay=20)
                page.keyboard.press("End")  # Hangul is inserted without keyup; Material searches on keyup
                item = page.locator(".md-search-result__item").first
                item.wait_for(timeout=10_000)
                assert expect in item.inner_text()
            # (The language selector is clicked on every page in test_browser.py, against a site
            # built for the URL it is served from: Material maps pages through sitemap.xml, whose
            # absolute URLs here name owner.github.io, not this server.)
        finally:
            ctx.close()
        assert failed == [], f"HTTP errors: {failed}"
    finally:
        srv.terminate()
        srv.wait()


def test_environment_uses_the_checked_bytecode_cache(tmp_path):
    """The render stage's compiled templates go through the checksummed cache, never Jinja's plain one."""
    from generator.render.jinja_cache import CheckedBytecodeCache

    env = environment(bytecode_dir=tmp_path / "jinja")
    assert isinstance(env.bytecode_cache, CheckedBytecodeCache)
    assert environment().bytecode_cache is None


def test_render_stage_loads_no_matplotlib():
    """The render stage (Jinja environment + every page module) names figures through the
    matplotlib-free registry and never loads the plotting code (at import, the page modules read only the
    figure cases of generator/figures/instances.py)."""
    import subprocess
    import sys

    code = (
        "import sys, importlib, pkgutil, generator.pages as P; import generator.render.env; "
        "[importlib.import_module(f'generator.pages.{m.name}') for m in pkgutil.iter_modules(P.__path__)]; "
        "print(sorted(m for m in sys.modules if m.startswith('generator.pages.')) != [], "
        "'matplotlib' in sys.modules, sorted(m for m in sys.modules if m.startswith('generator.figures.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "True False ['generator.figures.instances']", out.stdout
