"""Test helper: ONE browser visit per (page, language, viewport) of the shared reduced-grid site, its
facts kept for the session (the ``page_visits`` fixture in tests/conftest.py).

The browser tests (tests/test_browser.py, tests/test_browser_figures.py) used to load a page once per
check; now a visit records every fact the checks need and each test asserts on the records, so a
failure still names its check and its page.

* ``desktop`` (1280x900, locale ko-KR / en-US): HTTP status, console errors, page errors, failed
  requests, requests to other hosts, every image's natural size (lazy images switched to eager and
  awaited), raw TeX in the rendered text, the box of every ``<math>`` and display-math container,
  every table's width against its scroll wrapper and the content column, every
  ``figure.initlab-figure`` (its image, link, accessible name) with the HTTP status and content type
  of what its link opens, an axe-core scan, and where the header's language selector leads when
  clicked. Full-page 1280 px screenshots of :func:`screenshot_pages` go to ``test-artifacts/``, with
  ``axe-violations.json`` (all impacts, for the report).
* ``phone`` (390x844): every ``figure.initlab-figure`` as laid out right after ``load`` (its image's
  shown width and its link's right edge).

Why a batch: axe-core takes about 40 % of a desktop visit and runs in the page's own renderer
process. The first time a test asks for a visit, every visit the collected tests will ask for (their
``page``/``lang`` parameters; the viewport from ``@pytest.mark.viewport``, default desktop) is made in
site order, and page N's axe scan runs while page N-1 is finished (a clean reload and the language
click) and page N's phone visit loads, so the two cores both work. What each visit records is the
same as when visited alone. A visit that raises stores its error, which every test of that visit
reports; the other visits are unaffected.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

import sitebuild
from sitebuild import page_names, page_path

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
AXE_OPTIONS = {"resultTypes": ["violations"]}  # what axe_playwright_python's Axe().run passes


def screenshot_pages() -> tuple[str, ...]:
    return tuple(p for p in ("index", "gradients", "training") if p in page_names())


def shot_name(lang: str, page: str, width: int) -> str:
    return f"{lang}-{page}-{width}.png"


@dataclass
class Visit:
    url: str
    viewport: str = "desktop"
    status: int | None = None
    console_errors: list = field(default_factory=list)
    page_errors: list = field(default_factory=list)
    bad_requests: list = field(default_factory=list)
    foreign_requests: list = field(default_factory=list)  # anything not from the local server
    images: list = field(default_factory=list)  # {src, w, h}
    math: list = field(default_factory=list)  # {w, h, html}
    math_blocks: list = field(default_factory=list)  # display-math containers: {sh, ch, html}
    tables: list = field(default_factory=list)  # every table: widths of its scroll wrapper and edges
    text_tex: list = field(default_factory=list)  # raw TeX found in the rendered text
    figures: list = field(default_factory=list)  # FIGURES_JS records
    figure_targets: dict = field(default_factory=dict)  # figure id -> (status, content type, link URL, img URL)
    axe: list = field(default_factory=list)  # violations (all impacts)
    switch_url: str | None = None  # where the language selector led
    switch_status: int | None = None
    switch_error: str | None = None


LOAD_IMAGES_JS = """
async () => {
  const imgs = Array.from(document.images);
  for (const img of imgs) { img.loading = "eager"; }
  for (const img of imgs) { img.scrollIntoView({block: "center"}); }
  const timeout = (ms) => new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), ms));
  await Promise.allSettled(imgs.map(img => Promise.race([img.decode(), timeout(15000)])));
  window.scrollTo(0, 0);
  return imgs.map(img => ({src: img.currentSrc || img.getAttribute("src"), w: img.naturalWidth,
                           h: img.naturalHeight, complete: img.complete}));
}
"""

# Rendered prose: the body's text without math, code, scripts, styles and SVG.
PROSE_TEXT_JS = """
() => {
  const clone = document.body.cloneNode(true);
  clone.querySelectorAll("math, code, pre, script, style, svg, kbd, samp, textarea").forEach(e => e.remove());
  return clone.textContent;
}
"""

MATH_BOXES_JS = """
() => {
  document.querySelectorAll("details").forEach(d => { d.open = true; });
  return Array.from(document.querySelectorAll("math")).map(m => {
    const r = m.getBoundingClientRect();
    return {w: r.width, h: r.height, display: getComputedStyle(m).display, html: m.outerHTML.slice(0, 120)};
  });
}
"""

# Every table of the page (in <details> too, opened by MATH_BOXES_JS): its scroll wrapper's scroll and
# client width, and its right edge against the content column's (.md-content__inner). (Not the
# figure's scrollWidth: Material's wrapper has negative side margins, so it always pokes out 0.8rem.)
TABLES_JS = """
() => {
  const col = document.querySelector(".md-content__inner").getBoundingClientRect();
  return Array.from(document.querySelectorAll(".md-typeset table")).map(t => {
    const wrap = t.closest(".md-typeset__scrollwrap") || t.parentElement;
    const fig = t.closest("figure") || wrap;
    const cap = fig.querySelector("figcaption");
    return {caption: (cap ? cap.textContent : t.rows[0].textContent).trim().slice(0, 60),
            sw: wrap.scrollWidth, cw: wrap.clientWidth, right: t.getBoundingClientRect().right,
            col_right: col.right, shown: t.getClientRects().length > 0};
  });
}
"""

# Display-math containers scroll sideways when a formula is too wide; vertically they must not scroll.
MATH_BLOCKS_JS = """
() => Array.from(document.querySelectorAll(".initlab-math")).map(b => (
  {sh: b.scrollHeight, ch: b.clientHeight, oy: getComputedStyle(b).overflowY, html: b.innerHTML.slice(0, 80)}))
"""

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

# axe-core runs in the page while Python drives another page; AXE_RESULT_JS awaits its promise.
AXE_START_JS = "opts => { window.__initlabAxe = axe.run(opts); }"
AXE_RESULT_JS = "() => window.__initlabAxe"


@dataclass
class _Open:
    """A desktop visit between :func:`_start_desktop` and :func:`_finish_desktop`."""

    page: str
    lang: str
    visit: Visit
    ctx: object
    tab: object


def _listen(tab, v: Visit, base_url: str, failed: list, ok: set) -> None:
    tab.on(
        "console",
        lambda m: v.console_errors.append(f"{m.type}: {m.text} @ {m.location}") if m.type == "error" else None,
    )
    tab.on("pageerror", lambda e: v.page_errors.append(str(e)))
    origin = "/".join(base_url.split("/", 3)[:3])  # http://127.0.0.1:PORT
    tab.on(
        "request",
        lambda r: (
            v.foreign_requests.append(r.url)
            if not r.url.startswith((origin + "/", "data:", "blob:", "about:"))
            else None
        ),
    )
    tab.on("requestfailed", lambda r: failed.append((r.url, r.failure)))
    tab.on("response", lambda r: ok.add(r.url) if r.status < 400 else v.bad_requests.append(f"HTTP {r.status} {r.url}"))


def _figure_targets(ctx, url: str, figures: list) -> dict:
    """Fetch what each figure's link opens: figure id -> (status, content type, link URL, image URL)."""
    out = {}
    for f in figures:
        if f["link"]:
            full = urljoin(url, f["link"])
            r = ctx.request.get(full)
            out[f["id"]] = (r.status, r.headers.get("content-type", ""), full, urljoin(url, f["img"] or ""))
    return out


def _start_desktop(browser, base_url: str, page: str, lang: str, artifacts: Path) -> _Open:
    """Load the page and record everything but the axe scan, which is left running in the page."""
    from axe_playwright_python.base import AXE_SCRIPT

    v = Visit(url=base_url + page_path(page, lang))
    ctx = browser.new_context(viewport=VIEWPORTS["desktop"], locale="ko-KR" if lang == "ko" else "en-US")
    try:
        tab = ctx.new_page()
        failed, ok = [], set()
        _listen(tab, v, base_url, failed, ok)
        resp = tab.goto(v.url, wait_until="load")
        v.status = resp.status if resp else None
        v.figures = tab.evaluate(FIGURES_JS)
        tab.wait_for_load_state("networkidle")
        v.images = tab.evaluate(LOAD_IMAGES_JS)
        tab.wait_for_load_state("networkidle")
        # A lazy image's first request is aborted when we switch it to eager; it is then refetched.
        v.bad_requests += [f"failed {u}: {why}" for u, why in failed if u not in ok]
        text = tab.evaluate(PROSE_TEXT_JS)
        v.text_tex = [m.group(0) for m in sitebuild.RAW_TEX_RE.finditer(text)]
        if page in screenshot_pages():
            tab.wait_for_timeout(300)
            tab.screenshot(path=str(artifacts / shot_name(lang, page, VIEWPORTS["desktop"]["width"])), full_page=True)
        v.math = tab.evaluate(MATH_BOXES_JS)
        v.tables = tab.evaluate(TABLES_JS)
        v.math_blocks = tab.evaluate(MATH_BLOCKS_JS)
        v.figure_targets = _figure_targets(ctx, v.url, v.figures)
        tab.evaluate(AXE_SCRIPT)
        tab.evaluate(AXE_START_JS, AXE_OPTIONS)
    except BaseException:
        ctx.close()
        raise
    return _Open(page, lang, v, ctx, tab)


def _finish_desktop(o: _Open, axe_log: dict, artifacts: Path) -> Visit:
    """Collect the axe scan, then click the header's language selector on a clean reload of the page."""
    v, tab = o.visit, o.tab
    try:
        results = tab.evaluate(AXE_RESULT_JS)
        v.axe = [
            {
                "id": x["id"],
                "impact": x.get("impact"),
                "help": x.get("help"),
                "nodes": [n.get("target") for n in x.get("nodes", [])][:10],
            }
            for x in results.get("violations", [])
        ]
        axe_log[f"{o.lang}/{o.page}"] = v.axe
        (artifacts / "axe-violations.json").write_text(json.dumps(axe_log, ensure_ascii=False, indent=1), "utf-8")
        other = "en" if o.lang == "ko" else "ko"
        try:
            tab.reload(wait_until="load")  # a clean page (axe injected its script)
            tab.hover(".md-header .md-select")
            link = tab.locator(f'.md-header .md-select a.md-select__link[hreflang="{other}"]')
            with tab.expect_navigation(wait_until="load") as nav:
                link.click()
            r = nav.value
            v.switch_status = r.status if r else None
            v.switch_url = tab.url
        except Exception as exc:  # reported by the test, not here
            v.switch_error = f"{type(exc).__name__}: {exc}"
    finally:
        o.ctx.close()
    return v


def _phone(browser, base_url: str, page: str, lang: str) -> Visit:
    v = Visit(url=base_url + page_path(page, lang), viewport="phone")
    ctx = browser.new_context(viewport=VIEWPORTS["phone"])
    try:
        tab = ctx.new_page()
        resp = tab.goto(v.url, wait_until="load")
        v.status = resp.status if resp else None
        v.figures = tab.evaluate(FIGURES_JS)
    finally:
        ctx.close()
    return v


def wanted_visits(items) -> list[tuple[str, str, str]]:
    """(page, lang, viewport) of every collected test that uses ``page_visits`` with ``page`` and ``lang``
    parameters, in collection order, without repeats."""
    out: dict[tuple[str, str, str], None] = {}
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "page_visits" in getattr(item, "fixturenames", ()) and {"page", "lang"} <= set(params):
            mark = item.get_closest_marker("viewport")
            out[(params["page"], params["lang"], mark.args[0] if mark else "desktop")] = None
    return list(out)


class PageVisits:
    """The session's visits: ``get(page, lang, viewport)`` -> :class:`Visit` (raises the visit's error)."""

    def __init__(self, browser, base_url: str, artifacts: Path, wanted: list[tuple[str, str, str]]):
        self.browser, self.base_url, self.artifacts = browser, base_url, artifacts
        self.wanted = wanted
        self.done: dict[tuple[str, str, str], Visit | BaseException] = {}
        self.axe_log: dict[str, list] = {}
        self.loads = 0  # visits made (each a fresh browser context), for the record
        self._batched = False

    def get(self, page: str, lang: str, viewport: str = "desktop") -> Visit:
        if viewport not in VIEWPORTS:
            raise KeyError(f"unknown viewport {viewport!r}: one of {sorted(VIEWPORTS)}")
        key = (page, lang, viewport)
        if not self._batched:
            self._batched = True
            self._batch([k for k in self.wanted if k[2] in VIEWPORTS])
        if key not in self.done:
            self._batch([key])
        got = self.done[key]
        if isinstance(got, BaseException):
            raise RuntimeError(f"the {viewport} visit of {lang}/{page} failed: {type(got).__name__}: {got}") from got
        return got

    def _record(self, key, fn, *args):
        self.loads += 1
        try:
            self.done[key] = out = fn(*args)
            return out
        except Exception as exc:  # reported by every test of this visit
            self.done[key] = exc
            return None

    def _batch(self, keys: list[tuple[str, str, str]]) -> None:
        """Make the visits ``keys``, a page's axe scan running while the previous page is finished and
        its own phone visit loads."""
        pairs = list(dict.fromkeys((p, lang) for p, lang, _ in keys))
        wanted = set(keys)
        pending: _Open | None = None
        for page, lang in pairs:
            started = None
            if (page, lang, "desktop") in wanted:
                started = self._record(
                    (page, lang, "desktop"), _start_desktop, self.browser, self.base_url, page, lang, self.artifacts
                )
            if pending is not None:
                self._finish(pending)
            pending = started
            if (page, lang, "phone") in wanted:
                self._record((page, lang, "phone"), _phone, self.browser, self.base_url, page, lang)
        if pending is not None:
            self._finish(pending)

    def _finish(self, o: _Open) -> None:
        key = (o.page, o.lang, "desktop")
        try:
            self.done[key] = _finish_desktop(o, self.axe_log, self.artifacts)
        except Exception as exc:
            self.done[key] = exc
