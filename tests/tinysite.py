"""Shared by the tiny-site tests: the real site/mkdocs.yml with a nav that lists only the home page.

The real nav lists every content page, which needs the experiment data; tests that build a tiny
two-language docs tree keep the real theme, plugins and validation settings but only the home entry.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def home_only_mkdocs_yml() -> str:
    cfg = (REPO / "site" / "mkdocs.yml").read_text(encoding="utf-8")
    cfg, n_nav = re.subn(r"(?m)^nav:\n(?:  - .*\n)+", "nav:\n  - 홈: index.md\n", cfg, count=1)
    cfg, n_tr = re.subn(r"(?m)^( +)nav_translations:\n(?:\1  .*\n)+", r"\1nav_translations:\n\1  홈: Home\n", cfg,
                        count=1)
    assert n_nav == 1 and n_tr == 1, "site/mkdocs.yml changed shape: nav / nav_translations not found"
    return cfg
