"""Golden pages: index, gradients and results rendered from a fixed synthetic dataset, byte for byte.

``tests/golden/data/`` holds closed-form data (tests/golden/make_data.py, no engine run), and
tests/golden/regenerate.py renders the pages through the site's own context and render code. A diff
here means a page's output changed: if the change is intended, run ``make golden`` (the same code
path writes the files) and review ``git diff tests/golden``.
"""

from __future__ import annotations

import difflib

import pytest

from generator.common.languages import LANGUAGES
from generator.contract import schema
from generator.contract.grid import read_grid
from generator.pipeline.render_stage import render_pages
from golden.make_data import DATA_DIR
from golden.regenerate import COMMAND, GOLDEN_DIR, PAGES, golden_context, golden_path, render_golden

CASES = [(page, lang) for page in PAGES for lang in LANGUAGES]


@pytest.fixture(scope="module")
def rendered() -> dict:
    return render_golden()


@pytest.mark.parametrize("page, lang", CASES, ids=[f"{p}.{lg}" for p, lg in CASES])
def test_page_matches_golden(rendered, page, lang):
    path = golden_path(page, lang)
    assert path.exists(), f"tests/golden/{path.name} is missing; run `{COMMAND}`"
    expected = path.read_bytes()
    actual = rendered[path].encode("utf-8")
    if actual != expected:
        diff = difflib.unified_diff(
            expected.decode("utf-8").splitlines(keepends=True),
            actual.decode("utf-8").splitlines(keepends=True),
            fromfile=f"tests/golden/{path.name}",
            tofile="rendered now",
            n=2,
        )
        text = "".join(list(diff)[:200])
        pytest.fail(
            f"{path.name} differs from the rendered page (first 200 diff lines below). If the change "
            f"is intended, run `{COMMAND}` and review `git diff tests/golden`.\n{text}",
            pytrace=False,
        )


def test_every_golden_file_is_rendered():
    """No stale snapshot: the .md files under tests/golden are exactly the pages x languages rendered."""
    on_disk = {p.name for p in GOLDEN_DIR.glob("*.md")}
    assert on_disk == {f"{p}.{lg}.md" for p in PAGES for lg in LANGUAGES}, f"run `{COMMAND}`"


def test_render_stage_writes_the_same_bytes(rendered, tmp_path):
    """The snapshots are what the render stage writes for the same context (generator/pipeline)."""
    written = render_pages(golden_context(), tmp_path / "docs", PAGES, assets_dir=tmp_path / "no-assets")
    assert {p.name: p.read_text("utf-8") for p in written} == {p.name: t for p, t in rendered.items()}


def test_dataset_is_small_and_passes_the_contract():
    """The fixed data pass the contract's type check and stay a few KB."""
    for name in ("propagation.csv", "theory_fixed.csv"):
        schema.read_csv(name, DATA_DIR)
    read_grid(DATA_DIR)
    size = sum(p.stat().st_size for p in DATA_DIR.iterdir())
    assert size < 16_000, f"golden dataset is {size} bytes"


def test_dataset_exercises_divergence(rendered):
    """At least one configuration diverges, so the pages' DIVERGED presentation is in the snapshots."""
    prop = schema.read_csv("propagation.csv", DATA_DIR)
    assert prop["diverged"].any() and not prop["diverged"].all()
    assert "| diverged |" in rendered[GOLDEN_DIR / "results.en.md"]
    assert "explodes" in rendered[GOLDEN_DIR / "index.en.md"]


def test_no_line_starts_with_inline_math(rendered):
    # Markdown reads a line that starts with an HTML tag as a raw HTML block: inline math there is split
    # off its sentence into a paragraph of its own (seen on the phase page). Start such lines with a word.
    bad = [
        (path.name, n)
        for path, text in rendered.items()
        for n, line in enumerate(text.splitlines(), 1)
        if line.lstrip().startswith("<math") and 'display="inline"' in line.split(">", 1)[0]
    ]
    assert not bad, bad
