"""Real-browser tests of getting around the site: search per language, the language switch keeping the
``#anchor``, the shipped math font, clickable references and the "code behind this page" links.

Playwright drives Debian's Chromium against the session's shared reduced-grid site (tests/conftest.py
``site_url``/``site_build``). Skipped, with the reason, only when /usr/bin/chromium is absent.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from sitebuild import LANGS, page_path

CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1280, "height": 900}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"{CHROMIUM} not installed (apt-get install chromium; "
        "`make browser-deps`): Playwright cannot download its own browser here",
    ),
]


@pytest.fixture(scope="module")
def tab(site_url, browser):
    """One browser tab for the module; requests to other hosts are recorded on ``tab.foreign``."""
    origin = "/".join(site_url.split("/", 3)[:3])
    ctx = browser.new_context(viewport=VIEWPORT)
    try:
        page = ctx.new_page()
        page.foreign = []
        page.on(
            "request",
            lambda r: (
                page.foreign.append(r.url) if not r.url.startswith((origin + "/", "data:", "blob:", "about:")) else None
            ),
        )
        yield page
    finally:
        ctx.close()


def _lang_of(url: str, site_url: str) -> str:
    rest = urlsplit(url).path[len(urlsplit(site_url).path) :]
    return "en" if rest == "en/" or rest.startswith("en/") else "ko"


def _search(tab, site_url: str, lang: str, term: str) -> list[str]:
    tab.goto(site_url + ("en/training/" if lang == "en" else "training/"), wait_until="load")
    tab.click(".md-search__input")
    tab.fill(".md-search__input", term)
    tab.press(".md-search__input", "End")  # fill() fires no keyup for Hangul; Material listens to it
    tab.wait_for_selector(".md-search-result__item", timeout=20000)
    return tab.eval_on_selector_all(".md-search-result__item > a.md-search-result__link", "els => els.map(e => e.href)")


@pytest.mark.parametrize(
    ("lang", "term"),
    [("en", "Glorot"), ("en", "Kaiming"), ("en", "fan_in"), ("en", "ReLU"), ("ko", "배치 정규화"), ("ko", "BN")],
)
def test_search_returns_pages_of_the_readers_language_only(tab, site_url, lang, term):
    hrefs = _search(tab, site_url, lang, term)
    assert hrefs, f"{lang} search for {term!r}: no results"
    langs = [_lang_of(h, site_url) for h in hrefs]
    assert langs[0] == lang, f"{lang} search for {term!r}: first result {hrefs[0]}"
    assert set(langs) == {lang}, f"{lang} search for {term!r} returned pages of the other language: {hrefs}"
    for href in hrefs:  # every result is a page of the built site, not a location off by a language root
        assert tab.request.get(href.split("#")[0]).status == 200, href


@pytest.mark.parametrize(("start", "other"), [("ko", "en"), ("en", "ko")])
def test_language_switch_keeps_the_anchor(tab, site_url, start, other):
    tab.goto(site_url + page_path("training", start) + "#depth", wait_until="load")
    assert tab.locator("#depth").count() == 1, "the training page has no #depth section"
    tab.hover(".md-header .md-select")
    with tab.expect_navigation(wait_until="load"):
        tab.locator(f'.md-header .md-select a.md-select__link[hreflang="{other}"]').click()
    got = urlsplit(tab.url)
    assert got.path == urlsplit(site_url).path + page_path("training", other) and got.fragment == "depth", tab.url
    # also after the reader moved to another section by an in-page link (hashchange)
    tab.evaluate("location.hash = '#setup'")
    href = tab.get_attribute(f'.md-header .md-select a.md-select__link[hreflang="{start}"]', "href")
    assert href.endswith("training/#setup"), href


def test_math_uses_the_shipped_font_and_sums_are_not_clipped(tab, site_url):
    tab.goto(site_url + page_path("gradients", "ko"), wait_until="networkidle")
    info = tab.evaluate("""async () => {
      await document.fonts.ready;
      const sums = [...document.querySelectorAll("munderover, munder")].filter(e => e.textContent.includes("∑"));
      return {
        family: getComputedStyle(document.querySelector("math")).fontFamily,
        loaded: [...document.fonts].filter(f => f.status === "loaded").map(f => f.family.replace(/"/g, "")),
        sums: sums.map(e => {
          // the operator, and the whole operator with its limits, inside the display-math box
          const op = e.firstElementChild.getBoundingClientRect(), all = e.getBoundingClientRect();
          const box = e.closest(".initlab-math"), outer = (box || e.closest("math")).getBoundingClientRect();
          return {h: op.height, top: all.top - outer.top, bottom: outer.bottom - all.bottom,
                  fontSize: parseFloat(getComputedStyle(e).fontSize),
                  scroll: box ? box.scrollHeight - box.clientHeight : 0};
        }),
      };
    }""")
    assert info["family"].startswith('"initlab STIX Math"'), info["family"]
    assert "initlab STIX Math" in info["loaded"], f"the math font was not loaded: {info['loaded']}"
    assert info["sums"], "the gradients page has no ∑ with limits to check"
    for s in info["sums"]:
        # a large operator in display style is taller than the text around it, and fits in its box
        assert s["h"] > 1.2 * s["fontSize"], f"∑ is not a large operator: {s}"
        assert s["top"] >= -1 and s["bottom"] >= -1 and s["scroll"] <= 1, f"∑ clipped by its box: {s}"
    assert not tab.foreign, tab.foreign


@pytest.mark.parametrize("lang", LANGS)
def test_every_reference_link_is_a_link(tab, site_url, lang):
    from generator.pages import references

    tab.goto(site_url + page_path("references", lang), wait_until="load")
    anchors = set(tab.eval_on_selector_all("article a[href^='http']", "els => els.map(e => e.href)"))
    code = tab.eval_on_selector_all("article code", "els => els.map(e => e.textContent)")
    for r in references.references():
        for _, url in references.links_of(r):
            assert url in anchors, f"{r.key}: {url} is not an <a href> on the references page"
    assert not [c for c in code if c.startswith(("http", "doi:", "arXiv:", "10."))], f"addresses inside <code>: {code}"
    source = tab.locator("#ref-seed ~ p").first.inner_text()
    assert "choidam" in source and "개발아 담하자" in source and "2020-05-26" in source, source
    if not references.links_of(next(r for r in references.references() if r.key == "seed")):
        assert ("URL 기록 없음" if lang == "ko" else "URL not recorded") in source, source


@pytest.mark.parametrize("lang", LANGS)
def test_code_behind_the_page(tab, site_url, lang):
    from generator.pages.sources import page_sources
    from generator.pipeline.links import repo_link

    link = repo_link()  # what the shared build saw: the same environment and repository
    tab.goto(site_url + page_path("training", lang), wait_until="load")
    items = tab.locator(".initlab-code li")
    assert items.count() == len(page_sources("training"))
    assert items.all_inner_texts() == list(page_sources("training"))
    hrefs = tab.eval_on_selector_all(".initlab-code li a", "els => els.map(e => e.href)")
    edit = tab.eval_on_selector_all("a.md-content__button[rel=edit]", "els => els.map(e => e.href)")
    if link.url:
        assert hrefs == [link.blob(p) for p in page_sources("training")]
        assert edit == [link.blob(f"templates/pages/training.{lang}.md.j2")]
    else:
        assert hrefs == [] and edit == [], "links to a repository the build did not know"
