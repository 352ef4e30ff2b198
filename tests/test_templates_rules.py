"""Rules for every page template: no result typed by hand, both languages present."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from generator.pages.registry import PAGES
from generator.render import strings

REPO = Path(__file__).resolve().parent.parent
TEMPLATES = sorted((REPO / "templates" / "pages").glob("*.md.j2"))
# Jinja expressions/statements/comments may hold constants (formulas, config values); prose may not.
_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
_DECIMAL = re.compile(r"(?<![\w.])\d+\.\d+(?![\w.])")


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_no_decimal_literal_in_prose(path):
    prose = _JINJA.sub(" ", path.read_text("utf-8"))
    hits = [m.group(0) for m in _DECIMAL.finditer(prose)]
    assert not hits, f"{path.name}: typed-in decimals {hits} (numbers must come from the data context)"


def test_scanner_catches_a_typed_number():
    assert _DECIMAL.search(_JINJA.sub(" ", "the std stays at 0.98 in every layer {{ x | num }}"))
    assert not _DECIMAL.search(_JINJA.sub(" ", "the std is {{ 0.98 | num }} at layer 10"))


def test_every_page_has_both_languages_and_a_nav_title():
    names = {p.name.split(".")[0] for p in TEMPLATES}
    assert names <= set(PAGES)
    for name in names:
        for lang in strings.LANGUAGES:
            assert (REPO / "templates" / "pages" / f"{name}.{lang}.md.j2").exists(), (name, lang)
            assert strings.t(lang, f"nav.{name}")


def test_strings_catalogs_have_identical_keys():
    assert strings.flat_keys("ko") == strings.flat_keys("en")


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_no_line_starts_with_inline_math(path):
    # Markdown treats a line that starts with <math> as a raw HTML block: the formula would break
    # out of its sentence. Inline formulas must sit inside a line of prose.
    # the expression may hold "}" (e.g. \text{BN}); it only may not close the tag before "| math"
    starts = re.compile(r"^\s*\{\{(?:[^}]|\}(?!\}))*?\|\s*math\s*\}\}")
    bad = [i + 1 for i, line in enumerate(path.read_text("utf-8").splitlines()) if starts.match(line)]
    assert not bad, f"{path.name}: inline math at the start of line(s) {bad}"
