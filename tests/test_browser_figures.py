"""Figures in a real browser (issue 15): every figure opens full size, and on a phone its text stays readable.

* Desktop (1280×900): every ``figure.initlab-figure`` on every page, both languages, wraps its image in a
  link (``a.initlab-figure-open``) with an accessible name (the image's alt text), whose target is the same SVG as the image and
  answers HTTP 200 with an SVG (the full-size image).
* Phone (390×844): a figure is drawn 720 px wide with text of at least ``style.MIN_FONT_PT``; the page must
  show it wide enough that this text is at least ``MIN_TEXT_PX`` CSS px, scrolling sideways inside its
  link, which itself stays inside the screen.

Uses the shared reduced-grid site (tests/conftest.py) and asserts on the session's one visit per page,
language and viewport (``page_visits``, tests/pagevisits.py: the desktop visit is the one
tests/test_browser.py asserts on). Skipped only when /usr/bin/chromium is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.figures import style
from generator.render.fonts import FIG_WIDTH_IN
from pagevisits import VIEWPORTS
from sitebuild import LANGS, page_names

CHROMIUM = "/usr/bin/chromium"
PHONE = VIEWPORTS["phone"]
MIN_TEXT_PX = 8.8  # "about 9 px": 8 pt text of a 720 px figure shown 620 px wide is 8.96 px
FIG_PX = FIG_WIDTH_IN * 96  # the SVG's intrinsic width in CSS px

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"{CHROMIUM} not installed (apt-get install chromium; "
        "`make browser-deps`): Playwright cannot download its own browser here",
    ),
]

CASES = [(p, lang) for p in page_names() for lang in LANGS]
IDS = [f"{lang}-{p}" for p, lang in CASES]


@pytest.mark.parametrize("page,lang", CASES, ids=IDS)
def test_every_figure_opens_full_size(page_visits, page, lang):
    v = page_visits.get(page, lang, "desktop")
    assert v.status == 200, v.url
    figs, targets = v.figures, v.figure_targets
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


@pytest.mark.viewport("phone")
@pytest.mark.parametrize("page,lang", CASES, ids=IDS)
def test_phone_figures_keep_text_readable(page_visits, page, lang):
    v = page_visits.get(page, lang, "phone")
    assert v.status == 200, v.url
    for f in v.figures:
        text_px = style.MIN_FONT_PT * 96 / 72 * f["width"] / FIG_PX
        assert text_px >= MIN_TEXT_PX, (
            f"{page} {lang} {f['id']}: shown {f['width']:.0f} px wide, its smallest "
            f"text is {text_px:.1f} px on a {PHONE['width']} px phone"
        )
        assert f["right"] <= PHONE["width"] + 0.5, f"{page} {lang} {f['id']}: the figure sticks out of the screen"
