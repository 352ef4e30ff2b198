"""Render the golden pages and (as a command) write them: ``make golden``, i.e.
``python -m tests.golden.regenerate``.

pdoc-style snapshots: :func:`render_golden` renders :data:`PAGES` in every site language from the fixed
synthetic dataset in ``tests/golden/data/`` (written by make_data.py, not by the engine) through the
site's own code path -- the page registry's context functions (generator/pages/registry.py), the grid
summary and data dictionary, and the render stage's Jinja environment and ``render_page``
(generator/render/env.py). tests/test_golden.py compares its output with ``tests/golden/<page>.<lang>.md``
byte for byte; this command rewrites those files from the same function, so after an intended change to
a page, its template, a filter or the strings catalog, run it and review ``git diff tests/golden``.

Only the chosen pages' contexts are built (the other pages need data this set does not hold); the
pages' templates read no other page's context.
"""

from __future__ import annotations

import sys
from pathlib import Path

from generator.common.languages import LANGUAGES
from generator.contract.dataset import Dataset
from generator.pages.registry import CONTEXTS
from generator.pages.registry import PAGES as SITE_PAGES
from generator.pages.summary import config_summary, data_dictionary
from generator.render.env import environment, render_page

GOLDEN_DIR = Path(__file__).resolve().parent
DATA_DIR = GOLDEN_DIR / "data"
PAGES = ("index", "gradients", "results")  # read only propagation.csv, theory_fixed.csv and grid.json
COMMAND = "make golden"


def golden_path(page: str, lang: str) -> Path:
    return GOLDEN_DIR / f"{page}.{lang}.md"


def golden_context(data_dir: Path = DATA_DIR) -> dict:
    """The render context of the golden pages (registry.build_context restricted to :data:`PAGES`)."""
    data = Dataset(data_dir)
    return {
        "config": config_summary(data.grid),
        "data_dictionary": data_dictionary(),
        "pages": {name: CONTEXTS[name](data) for name in PAGES},
        "page_order": list(SITE_PAGES),
    }


def render_golden(data_dir: Path = DATA_DIR) -> dict[Path, str]:
    """``{golden file path: rendered Markdown}`` for every golden page in every language."""
    context = golden_context(data_dir)
    env = environment()
    return {golden_path(page, lang): render_page(env, page, lang, context) for page in PAGES for lang in LANGUAGES}


def main() -> int:
    rendered = render_golden()
    for path, text in rendered.items():
        old = path.read_bytes() if path.exists() else None
        new = text.encode("utf-8")
        if old != new:
            path.write_bytes(new)
        print(f"{'unchanged' if old == new else 'wrote':9} {path.relative_to(GOLDEN_DIR.parent.parent)}")
    stale = sorted(set(GOLDEN_DIR.glob("*.md")) - set(rendered))
    for path in stale:  # a page dropped from PAGES must not leave its snapshot behind
        path.unlink()
        print(f"removed   {path.relative_to(GOLDEN_DIR.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
