"""Figures in a real browser (issue 15): every figure opens full size, and on a phone its text stays readable.

* Desktop (1280×900): every ``figure.initlab-figure`` on every page, both languages, wraps its image in a
  link (``a.initlab-figure-open``) with an accessible name (the image's alt text), whose target is the same SVG as the image and
  answers HTTP 200 with an SVG (the full-size image).
* Phone (390×844): a figure is drawn 720 px wide with text of at least ``style.MIN_FONT_PT``; the page must
  show it wide enough that this text is at least ``MIN_TEXT_PX`` CSS px, scrolling sideways inside its
  link, which itself stays inside the screen.

Uses the shared reduced-grid site (tests/conftest.py). Skipped only when /usr/bin/chromium is absent.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urljoin

import pytest

from generator.figures import style
from generator.render.fonts import FIG_WIDTH_IN
from sitebuild import LANGS, page_names, page_path

CHROMIUM = "/usr/bin/chromium"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
MIN_TEXT_PX = 8.8  # "about 9 px": 8 pt text of a 720 px figure shown 620 px wide is 8.96 px
FIG_PX = FIG_WIDTH_IN * 96  # the SVG's intrinsic width in CSS px

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} not installed (apt-get install chromium; "
                       "`make browser-deps`): Playwright cannot download its own browser here"),
]

CASES = [(p, lang) for p in page_names() for lang in LANGS]
IDS = [f"{lang}-{p}" for p, lang in CASES]

FIGURES_JS = """
() => Array.from(document.querySelectorAll("figure.initlab-figure")).map(f => {
  const img = f.querySelector("img");
  const a = img ? img.closest("a") : null;
  const r = img ? img.getBoundingClientRect() : null;
  const box = a ? a.getBoundingClientRect() : null;
  return {id: f.id, img: img ? img.getAttribute("src") : null, width: r ? r.width : 0,
          link: a ? a.getAttribute("href") : null, cls: a ? a.className : "",
          name: a ? (a.getAttribute("aria-label") || (a.textContent || "").trim() || img.getAttribute("alt") || "").trim() : "",
          inFigure: a ? f.contains(a) : false, right: box ? box.right : 0};
})
"""


def _figures(browser, url: str, viewport: dict):
    ctx = browser.new_context(viewport=viewport)
    try:
        tab = ctx.new_page()
        resp = tab.goto(url, wait_until="load")
        assert resp is not None and resp.status == 200, url
        figs = tab.evaluate(FIGURES_JS)
        targets = {}
        for f in figs:
            if f["link"]:
                full = urljoin(url, f["link"])
                r = ctx.request.get(full)
                targets[f["id"]] = (r.status, r.headers.get("content-type", ""), full, urljoin(url, f["img"] or ""))
        return figs, targets
    finally:
        ctx.close()


@pytest.mark.parametrize("page,lang", CASES, ids=IDS)
def test_every_figure_opens_full_size(browser, site_url, page, lang):
    figs, targets = _figures(browser, site_url + page_path(page, lang), DESKTOP)
    for f in figs:
        assert f["link"] and f["inFigure"], f"{page} {lang} {f['id']}: the image is not wrapped in a link"
        assert "initlab-figure-open" in f["cls"], f
        assert f["name"], f"{page} {lang} {f['id']}: the link has no accessible name"
        status, ctype, full, img = targets[f["id"]]
        assert status == 200, f"{full}: HTTP {status}"
        assert "svg" in ctype, f"{full}: {ctype}"
        assert full == img, f"{f['id']}: the link opens {full}, not the figure's own image {img}"


def test_figure_pages_exist():
    """The parametrized tests above must see figures: the pages that have them are in the list."""
    assert {"initialization", "gradients", "training"} <= set(page_names())


@pytest.mark.parametrize("page,lang", CASES, ids=IDS)
def test_phone_figures_keep_text_readable(browser, site_url, page, lang):
    figs, _ = _figures(browser, site_url + page_path(page, lang), PHONE)
    for f in figs:
        text_px = style.MIN_FONT_PT * 96 / 72 * f["width"] / FIG_PX
        assert text_px >= MIN_TEXT_PX, (f"{page} {lang} {f['id']}: shown {f['width']:.0f} px wide, its smallest "
                                        f"text is {text_px:.1f} px on a {PHONE['width']} px phone")
        assert f["right"] <= PHONE["width"] + 0.5, f"{page} {lang} {f['id']}: the figure sticks out of the screen"
