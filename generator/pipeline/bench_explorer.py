"""``make bench``: the explorer page's redraw time in a real browser (issue 16 item 6; reported, not asserted).

:func:`measure` serves a built public tree on 127.0.0.1 (under ``/initlab/``: the explorer finds its script
and data by relative URLs, so any prefix works), opens the Korean explorer page in headless Chromium
(Playwright, /usr/bin/chromium), changes one control at a time through a fixed round of configurations
and reads the page's own measurement after each redraw: ``data-redraw-ms`` on ``#explorer``
(``performance.now()`` from the control change to the drawn charts, histograms and table, the JSON fetch
included; site/assets/explorer/explorer.js). Keys of the result:

redraw_ms_median / redraw_ms_max   over ``changes`` control changes (target: median < 50 ms on this machine)
first_ms                           the page's first draw (index.json and one configuration fetched)
assets_gz_bytes                    explorer.js + explorer.css + the d3 bundle, each gzip -9, summed (budget 60 KB)

None when Playwright, /usr/bin/chromium or the explorer page is missing.
"""

from __future__ import annotations

import functools
import gzip
import http.server
import statistics
import tempfile
import threading
from pathlib import Path

from generator.common.paths import ASSETS_DIR

CHROMIUM = "/usr/bin/chromium"
ASSETS = ("explorer/explorer.js", "explorer/explorer.css", "vendor/d3/d3.min.js")


def assets_gz_bytes(assets_dir: Path = ASSETS_DIR) -> int:
    """gzip -9 sizes of the explorer's script, stylesheet and d3 bundle, summed (what a visit transfers)."""
    return sum(len(gzip.compress((assets_dir / a).read_bytes(), 9, mtime=0)) for a in ASSETS)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


def _round(options: dict[str, list[str]]) -> list[tuple[str, str]]:
    """(control id, value) changes: every init, activation, norm and seed option once, then back."""
    steps = [(f"ex-{axis}", v) for axis in ("init", "activation", "norm", "seed") for v in options[axis][1:]]
    return steps + [(f"ex-{axis}", options[axis][0]) for axis in ("init", "activation", "norm", "seed")]


def measure(public_dir: Path, rounds: int = 2) -> dict | None:
    public_dir = Path(public_dir)
    if not (public_dir / "explorer" / "index.html").is_file() or not Path(CHROMIUM).exists():
        return None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    with tempfile.TemporaryDirectory() as root:
        (Path(root) / "initlab").symlink_to(public_dir.resolve(), target_is_directory=True)
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=root))
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
                try:
                    return _drive(browser, f"http://127.0.0.1:{httpd.server_address[1]}/initlab/explorer/", rounds)
                finally:
                    browser.close()
        finally:
            httpd.shutdown()
            httpd.server_close()


def _drive(browser, url: str, rounds: int) -> dict:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(url)
    page.wait_for_selector("#explorer[data-ready]", state="attached", timeout=30000)
    first = float(page.get_attribute("#explorer", "data-redraw-ms"))
    found = page.evaluate("""() => Object.fromEntries(["init", "activation", "norm", "seed"].map(a => {
        const s = document.getElementById("ex-" + a);
        return [a, [s.value, Array.from(s.options).map(o => o.value)]];
    }))""")
    options = {a: [cur] + [v for v in vals if v != cur] for a, (cur, vals) in found.items()}  # the current first
    current = {f"ex-{a}": cur for a, (cur, _) in found.items()}
    times = []
    for _ in range(rounds):
        for control, value in _round(options):
            if current[control] == value:
                continue
            before = page.get_attribute("#explorer", "data-ready")
            page.select_option(f"#{control}", value)
            current[control] = value
            # redrawn, or the page says it could not load the data (reported as a failure, never waited on)
            page.wait_for_function(
                "b => document.getElementById('explorer').dataset.ready !== b || "
                "document.getElementById('ex-msg').textContent !== ''",
                arg=before,
                polling=50,
            )
            if page.get_attribute("#explorer", "data-ready") == before:
                raise RuntimeError(f"explorer: {control}={value}: " + page.text_content("#ex-msg"))
            times.append(float(page.get_attribute("#explorer", "data-redraw-ms")))
    return {
        "redraw_ms_median": statistics.median(times),
        "redraw_ms_max": max(times),
        "changes": len(times),
        "first_ms": first,
        "assets_gz_bytes": assets_gz_bytes(),
    }
