"""Shared by the tiny-site tests: the real site/mkdocs.yml, and navigations for a tiny site as data.

site/mkdocs.yml holds no nav (the build generates it, generator/pipeline/nav.py); a tiny
two-language docs tree keeps the real theme, plugins and validation settings and passes its own
small navigation to ``build_site(nav=...)``.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

HOME_NAV = [("index", {"ko": "홈", "en": "Home"})]


def site_mkdocs_yml() -> str:
    cfg = (REPO / "site" / "mkdocs.yml").read_text(encoding="utf-8")
    assert "\nnav:" not in cfg and "nav_translations:" not in cfg, (
        "site/mkdocs.yml holds a nav again: the build generates it (generator/pipeline/nav.py)"
    )
    return cfg
