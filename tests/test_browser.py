"""Real-browser tests: Playwright drives Debian's Chromium (/usr/bin/chromium) against the shared
reduced-grid site served on 127.0.0.1 under its site_url prefix (tests/conftest.py).

Every page in both languages is visited ONCE at 1280x900 (the session's ``page_visits``,
tests/pagevisits.py, shared with tests/test_browser_figures.py); the visit records the HTTP status,
console errors, page errors, failed requests, every image's natural size (lazy images are switched
to eager and awaited), raw TeX in the rendered text, the bounding box of every ``<math>``, the width
of every table against its scroll wrapper and the content column (at 1280 px every table must fit
without sideways scrolling), an axe-core scan, and where the language selector leads when clicked.
The tests below assert on those records. Full-page screenshots of the home, gradients and training
pages per language, at 1280 and 390 px (``ko-gradients-1280.png``), go to ``test-artifacts/``, with
``axe-violations.json`` (all impacts, for the report).

Skipped, with the reason, only when /usr/bin/chromium is absent.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from pagevisits import LOAD_IMAGES_JS, VIEWPORTS, screenshot_pages, shot_name
from sitebuild import LANGS, page_names, page_path

CHROMIUM = "/usr/bin/chromium"
VIEWPORT = VIEWPORTS["desktop"]
SERIOUS = ("serious", "critical")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"{CHROMIUM} not installed (apt-get install chromium; "
        "`make browser-deps`): Playwright cannot download its own browser here",
    ),
]

PAGES = page_names()
CASES = [(p, lang) for p in PAGES for lang in LANGS]
IDS = [f"{lang}-{p}" for p, lang in CASES]


SHOT_WIDTHS = (1280, 390)
NARROW = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def visit(page_visits):
    """``visit(page, lang)``: the session's desktop visit of the page (tests/pagevisits.py)."""
    return page_visits.get


# ------------------------------------------------------------------------------------------------
# per page and language


@pytest.mark.parametrize(("page", "lang"), CASES, ids=IDS)
def test_page_loads_without_errors(visit, page, lang):
    v = visit(page, lang)
    assert v.status == 200, f"{v.url}: HTTP {v.status}"
    assert not v.page_errors, f"{v.url}: uncaught exceptions: {v.page_errors}"
    assert not v.console_errors, f"{v.url}: console errors: {v.console_errors}"
    assert not v.bad_requests, f"{v.url}: failed requests: {v.bad_requests}"
    assert not v.foreign_requests, (
        f"{v.url}: requests to other hosts (the site must work offline): {v.foreign_requests}"
    )


@pytest.mark.parametrize(("page", "lang"), CASES, ids=IDS)
def test_every_image_loaded(visit, page, lang):
    v = visit(page, lang)
    broken = [i for i in v.images if not (i["w"] > 0 and i["h"] > 0)]
    assert not broken, f"{v.url}: images not loaded: {broken}"


@pytest.mark.parametrize(("page", "lang"), CASES, ids=IDS)
def test_no_raw_tex_and_formulas_typeset(visit, page, lang):
    v = visit(page, lang)
    assert not v.text_tex, f"{v.url}: raw TeX in the rendered text: {v.text_tex[:10]}"
    empty = [m for m in v.math if not (m["w"] > 0 and m["h"] > 0)]
    assert not empty, f"{v.url}: {len(empty)} of {len(v.math)} <math> elements have no box: {empty[:3]}"
    assert all("math" in m["display"] for m in v.math), (
        f"{v.url}: <math> not laid out as MathML: {sorted({m['display'] for m in v.math})}"
    )
    # a display formula fits its box vertically: no vertical scrollbar beside it, nothing clipped
    tall = [b for b in v.math_blocks if b["sh"] > b["ch"] + 1]
    assert not tall, f"{v.url}: display math taller than its box (scrollbar or clipped): {tall[:3]}"


@pytest.mark.parametrize(("page", "lang"), CASES, ids=IDS)
def test_language_switcher_leads_to_the_same_page(visit, site_url, page, lang):
    v = visit(page, lang)
    other = "en" if lang == "ko" else "ko"
    assert v.switch_error is None, f"{v.url}: clicking the {other} language link failed: {v.switch_error}"
    want = urlsplit(site_url).path + page_path(page, other)
    got = urlsplit(v.switch_url).path
    assert got == want, f"{v.url}: the {other} link led to {v.switch_url}, want {want}"
    assert v.switch_status in (200, 304, None), f"{v.switch_url}: HTTP {v.switch_status}"


@pytest.mark.parametrize(("page", "lang"), CASES, ids=IDS)
def test_axe_no_serious_or_critical_violations(visit, page, lang):
    v = visit(page, lang)
    bad = [x for x in v.axe if x["impact"] in SERIOUS]
    assert not bad, f"{v.url}: axe-core violations:\n" + json.dumps(bad, ensure_ascii=False, indent=1)


@pytest.mark.parametrize(("page", "lang"), CASES, ids=IDS)
def test_tables_fit_at_1280(visit, page, lang):
    """At 1280x900 no table scrolls sideways: its scroll wrapper holds it, and its right edge stays
    inside the content column (issue 15: tables that fit, in both languages)."""
    v = visit(page, lang)
    shown = [t for t in v.tables if t["shown"]]
    wide = [t for t in shown if t["sw"] > t["cw"] + 1 or t["right"] > t["col_right"] + 1]
    assert not wide, f"{v.url}: {len(wide)} of {len(shown)} tables overflow at {VIEWPORT['width']} px: " + "; ".join(
        f"{t['caption']!r} ({t['sw']} > {t['cw']} px)" for t in wide
    )


def test_screenshots_written(browser, site_url, visit, artifacts_dir):
    """Full-page screenshots at 1280 px (taken by the visit) and 390 px (phone), both languages."""
    for page in screenshot_pages():
        for lang in LANGS:
            visit(page, lang)
            ctx = browser.new_context(viewport=NARROW, is_mobile=True, locale="ko-KR" if lang == "ko" else "en-US")
            narrow = artifacts_dir / shot_name(lang, page, NARROW["width"])
            narrow.unlink(missing_ok=True)  # a shot from an earlier run must not pass for this one
            try:
                tab = ctx.new_page()
                tab.goto(site_url + page_path(page, lang), wait_until="load")
                tab.wait_for_load_state("networkidle")
                tab.evaluate(LOAD_IMAGES_JS)
                tab.wait_for_timeout(300)
                tab.screenshot(path=str(narrow), full_page=True)
            finally:
                ctx.close()
            for width in SHOT_WIDTHS:
                shot = artifacts_dir / shot_name(lang, page, width)
                assert shot.is_file() and shot.stat().st_size > 10_000, shot


NARROW_PAGES = [p for p in ("index", "initialization", "results", "reproducibility") if p in PAGES]


@pytest.mark.parametrize("page", NARROW_PAGES)
def test_narrow_viewport(browser, site_url, page):
    """On a phone-sized viewport, pages with wide tables and formulas do not scroll sideways as a
    whole, and the tables that now overflow are keyboard-scrollable (axe)."""
    from axe_playwright_python.sync_playwright import Axe

    ctx = browser.new_context(viewport={"width": 375, "height": 800}, is_mobile=True)
    try:
        tab = ctx.new_page()
        tab.goto(site_url + page_path(page, "ko"), wait_until="load")
        tab.wait_for_load_state("networkidle")
        overflow = tab.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        res = Axe().run(tab)
        bad = [
            (x["id"], [n.get("target") for n in x.get("nodes", [])][:5])
            for x in res.response.get("violations", [])
            if x.get("impact") in SERIOUS
        ]
    finally:
        ctx.close()
    assert overflow <= 1, f"{page}: the page scrolls sideways by {overflow}px at 375px width"
    assert not bad, f"{page} at 375px: serious/critical axe violations {bad}"


# ------------------------------------------------------------------------------------------------
# search


def _index(site_build) -> dict:
    """The whole site's search documents: the Korean index (search/) and the English one (en/search/,
    locations relative to en/, generator/pipeline/search_split.py) with "en/" put back."""
    index = json.loads((site_build.public_dir / "search" / "search_index.json").read_text("utf-8"))
    en = json.loads((site_build.public_dir / "en" / "search" / "search_index.json").read_text("utf-8"))
    index["docs"] += [{**doc, "location": "en/" + doc["location"]} for doc in en["docs"]]
    return index


def _page_of(location: str) -> str:
    return location.split("#", 1)[0]


def pick_search_term(index: dict, lang: str) -> tuple[str, str]:
    """A word that occurs on exactly one page of the whole site (both languages; case-insensitive
    substring test, so Material's trailing-wildcard query cannot match elsewhere) -> (term, page path).
    Korean: a Hangul word on a Korean page; English: an ASCII word on an English page. Prefers the
    word most frequent on its page, then the longer word, then alphabetical order (deterministic)."""
    sep = re.compile(index["config"]["separator"])
    texts: dict[str, str] = {}
    for doc in index["docs"]:
        page = _page_of(doc["location"])
        texts[page] = texts.get(page, "") + " " + doc["title"] + " " + re.sub(r"<[^>]+>", " ", doc["text"])
    lowered = {p: t.lower() for p, t in texts.items()}
    candidates = []
    for page, text in texts.items():
        is_en = page.startswith("en/")
        if is_en != (lang == "en"):
            continue
        words = [w for w in sep.split(text) if w]
        if lang == "ko":
            words = [w for w in words if re.fullmatch(r"[가-힣]{3,}", w)]
        else:
            words = [w.lower() for w in words if re.fullmatch(r"[A-Za-z]{7,}", w)]
        for w in set(words):
            holders = [p for p, t in lowered.items() if w.lower() in t]
            if holders == [page]:
                candidates.append((page == ("en/" if is_en else ""), -lowered[page].count(w.lower()), -len(w), w, page))
    assert candidates, f"no {lang} word occurs on exactly one page"
    candidates.sort()
    _, _, _, word, page = candidates[0]
    return word, page


@pytest.mark.parametrize("lang", LANGS)
def test_search_finds_the_page_with_the_term(browser, site_url, site_build, artifacts_dir, lang):
    term, want_page = pick_search_term(_index(site_build), lang)
    ctx = browser.new_context(viewport=VIEWPORT)
    try:
        tab = ctx.new_page()
        errors = []
        tab.on("pageerror", lambda e: errors.append(str(e)))
        tab.goto(site_url + ("en/" if lang == "en" else ""), wait_until="load")
        tab.click(".md-search__input")
        tab.fill(".md-search__input", term)
        tab.press(".md-search__input", "End")  # fill() fires no keyup for Hangul; Material listens to it
        tab.wait_for_selector(".md-search-result__item", timeout=20000)
        hrefs = tab.eval_on_selector_all(
            ".md-search-result__item > a.md-search-result__link", "els => els.map(e => e.href)"
        )
        tab.screenshot(path=str(artifacts_dir / f"{lang}-search.png"))
    finally:
        ctx.close()
    want = urlsplit(site_url).path + want_page
    pages = [urlsplit(h).path for h in hrefs]
    assert pages, f"search for {term!r}: no results"
    assert pages[0] == want, f"search for {term!r}: first result {hrefs[0]}, want {want}"
    assert set(pages) == {want}, f"search for {term!r}: results outside {want}: {hrefs}"
    assert not errors, errors
