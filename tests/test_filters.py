"""Filters of generator/render/filters.py: num, pct, math, mathblock, md_table (and their Jinja2 wiring)."""

from __future__ import annotations

import math as pymath
import re

import numpy as np
import pandas as pd
import pytest

from generator.render import filters
from generator.render.env import environment
from generator.render.filters import FilterError, math, mathblock, md_table, num, pct

M = "\u2212"  # real minus sign


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        (0.0, "0"),
        (-0.0, "0"),  # negative zero never prints as "−0"
        (0, "0"),
        (1.0, "1.00"),
        (0.5, "0.500"),
        (3.14159, "3.14"),
        (-3.14159, f"{M}3.14"),
        (0.0123456, "0.0123"),
        (0.001, "0.00100"),  # the threshold itself is fixed notation
        (0.000999, "9.99×10⁻⁴"),  # just below 1e-3 -> scientific
        (0.0009996, "0.00100"),  # rounds up to 1.00e-3 -> fixed, decided on the rounded value
        (-1.5e-7, f"{M}1.50×10⁻⁷"),
        (999.95, "1,000"),  # 3 sig digits, integer part kept
        (12345.6, "12,346"),  # integer part is never rounded away below 1e5
        (99949.0, "99,949"),
        (99999.4, "1.00×10⁵"),  # notation is decided on the 3-significant-digit value
        (99999.7, "1.00×10⁵"),  # rounds to 1.00e5 -> scientific
        (123456.0, "1.23×10⁵"),
        (-2.5e12, f"{M}2.50×10¹²"),
        (1000, "1,000"),  # integers are exact, grouped
        (-1234567, f"{M}1,234,567"),
        (np.int64(42), "42"),
        (np.float32(0.25), "0.250"),
        (np.float64(-0.0), "0"),
        (float("nan"), "—"),
        (np.nan, "—"),
        (None, "—"),
        (pd.NA, "—"),
        (float("inf"), "∞"),
        (float("-inf"), f"{M}∞"),
    ],
)
def test_num(x, expected):
    assert num(x, "ko") == expected
    assert num(x, "en") == expected  # ko and en share decimal/grouping marks today


def test_num_uses_real_minus_never_hyphen():
    for x in (-1.0, -1e-9, -1e9, -12345, float("-inf")):
        out = num(x, "en")
        assert "-" not in out and "⁻" not in out[:1] and out.startswith(M)


def test_num_sig_parameter():
    assert num(3.14159, "en", sig=2) == "3.1"
    assert num(3.14159, "en", sig=5) == "3.1416"


def test_num_locale_lives_in_one_table(monkeypatch):
    monkeypatch.setitem(
        filters.NUMBER_LOCALES, "xx", {"decimal": ",", "group": "\u202f", "sci": "{m}·10^{e}", "percent": "{v} %"}
    )
    assert num(12345.6, "xx") == "12\u202f346"
    assert num(0.5, "xx") == "0,500"
    assert num(1e-7, "xx") == "1,00·10^⁻⁷"
    assert pct(0.123, "xx") == "12,3 %"


def test_num_rejects_unknown_language_and_non_numbers():
    with pytest.raises(FilterError, match="unknown language 'fr'"):
        num(1.0, "fr")
    with pytest.raises(FilterError, match="not a real number"):
        num("1.0", "ko")
    with pytest.raises(FilterError, match="boolean"):
        num(True, "ko")


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        (0, "0%"),
        (0.0, "0%"),
        (1, "100%"),
        (0.123, "12.3%"),
        (0.5, "50.0%"),
        (0.0004, "< 0.1%"),  # non-zero but would print 0.0%
        (1e-12, "< 0.1%"),
        (0.0005, "0.1%"),
        (0.9996, "> 99.9%"),  # below one but would print 100.0%
        (0.999, "99.9%"),
        (1.5, "150.0%"),
        (-0.25, f"{M}25.0%"),
        (-0.0001, f"> {M}0.1%"),
        (float("nan"), "—"),
        (None, "—"),
    ],
)
def test_pct(x, expected):
    assert pct(x, "ko") == expected


def _text_nodes(mathml: str) -> list[str]:
    return re.findall(r">([^<]+)<", mathml)


def test_math_inline_is_mathml_and_markdown_safe():
    out = math(r"q^l = \sigma_w^2 \, \mathbb{E}[\phi(z)^2] + \sigma_b^2 * x_{i}")
    assert out.startswith('<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline">')
    assert out.endswith("</math>") and "\n" not in out
    for text in _text_nodes(out):  # no character Markdown would turn into emphasis/links/code
        assert not set(text) & set("*_[]`\\|")


def test_mathblock_is_a_display_block():
    out = mathblock(r"\frac{1}{n}")
    assert out.startswith("\n<div") and out.endswith("</div>\n")
    assert 'display="block"' in out and "<mfrac>" in out


@pytest.mark.parametrize("bad", [r"\frac{", r"\left(", "", r"\sigmaa_w"])
def test_math_errors_name_the_latex(bad):
    with pytest.raises(FilterError, match="math:"):
        math(bad)


def test_math_unknown_command_is_an_error_not_text():
    with pytest.raises(FilterError, match=r"unknown LaTeX command\(s\) \\sigmaa"):
        math(r"\sigmaa_w^2")


def test_md_table_formats_and_aligns():
    df = pd.DataFrame({"init": ["he", "x|y"], "std": [0.123456, np.nan], "n": [1000, 2], "dead": [0.0004, 0.5]})
    out = md_table(df, "en", columns={"init": "Init", "std": "Std", "n": "N", "dead": "Dead"}, formats={"dead": "pct"})
    assert out.splitlines() == [
        "| Init | Std | N | Dead |",
        "| :--- | ---: | ---: | ---: |",
        "| he | 0.123 | 1,000 | < 0.1% |",
        "| x\\|y | — | 2 | 50.0% |",
    ]


def test_md_table_column_subset_and_callable_format():
    df = pd.DataFrame({"a": [1.0, -2.0], "b": ["p", "q"]})
    out = md_table(df, "ko", columns=["b", "a"], formats={"a": lambda v: f"<{v:g}>"}, align={"b": "center"})
    # a callable's text is data: escaped like any cell (only the built-in number formats pass as they are)
    assert out.splitlines() == ["| b | a |", "| :---: | ---: |", "| p | &lt;1&gt; |", "| q | &lt;-2&gt; |"]


def test_md_table_errors_name_the_column():
    df = pd.DataFrame({"a": [1.0]})
    with pytest.raises(FilterError, match=r"unknown column\(s\) \['zz'\]"):
        md_table(df, "ko", columns=["zz"])
    with pytest.raises(FilterError, match="unknown format 'bogus'"):
        md_table(df, "ko", formats={"a": "bogus"})
    with pytest.raises(FilterError, match="DataFrame"):
        md_table([1, 2], "ko")


def test_filters_default_to_the_page_language(monkeypatch):
    monkeypatch.setitem(filters.NUMBER_LOCALES, "ko", {**filters.NUMBER_LOCALES["ko"], "decimal": ","})
    env = environment()
    tpl = env.from_string("{{ x | num }} {{ x | num('en') }} {{ y | pct }} {{ 'a_1' | math }}")
    out_ko = tpl.render(x=0.5, y=0.25, lang="ko")
    out_en = tpl.render(x=0.5, y=0.25, lang="en")
    assert out_ko.startswith("0,500 0.500 25,0% <math")
    assert out_en.startswith("0.500 0.500 25.0% <math")


def test_nan_check_does_not_warn():
    # pyproject turns RuntimeWarning into errors; formatting NaN/inf must not emit any.
    for v in (np.float64("nan"), np.float64("inf"), np.float32("nan")):
        num(v, "ko"), pct(v, "ko")
    assert pymath.isnan(float("nan"))


# --------------------------------------------------------------------------------------------
# badges (verdict and health labels in table cells)


def _cells(md: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip("|").split(" | ")] for line in str(md).splitlines()[2:]]


def test_badge_is_its_word_outside_tables_and_a_span_inside():
    b = filters.Badge("holds", "holds")
    assert b == "holds" and f"verdict: {b}" == "verdict: holds"  # prose and tests see the plain word
    df = pd.DataFrame({"claim": ["a", "b"], "verdict": [b, "plain"]})
    rows = _cells(md_table(df, "en"))
    assert rows[0][1] == '<span class="initlab-badge initlab-badge--holds">holds</span>'
    assert rows[1][1] == "plain"  # an ordinary string stays plain text


def test_badge_join_and_suffix_keep_separators_as_plain_text():
    pair = filters.Badge.join([filters.Badge("saturates", "saturates"), filters.Badge("grad explodes", "explodes")])
    cell = pair.suffixed(" ‡")
    assert cell == "saturates / grad explodes ‡"
    rows = _cells(md_table(pd.DataFrame({"c": [cell]}), "en"))
    assert rows[0][0] == (
        '<span class="initlab-badge initlab-badge--saturates">saturates</span> / '
        '<span class="initlab-badge initlab-badge--explodes">grad explodes</span> ‡'
    )
    assert pair.suffixed("") is pair


def test_badge_text_is_escaped_and_kind_checked():
    rows = _cells(md_table(pd.DataFrame({"c": [filters.Badge("<b>x</b> | y", "neutral")]}), "en"))
    assert "<b>" not in rows[0][0] and "&lt;b&gt;" in rows[0][0] and "\\|" in rows[0][0]
    with pytest.raises(FilterError, match="unknown kind"):
        filters.Badge("x", "green")
    assert set(filters.BADGE_KINDS) >= {
        "holds",
        "partly",
        "inconclusive",
        "does_not_hold",
        "ok",
        "vanishes",
        "explodes",
        "saturates",
    }


def test_badge_format_looks_up_the_catalog_word_and_maps_the_kind():
    from generator.render import strings

    kinds = {"stable": "ok", "vanishing": "vanishes"}
    for lang in ("ko", "en"):
        fmt = filters.badge_format(lang, "gradients.verdict", kinds)
        b = fmt("vanishing")
        assert b == strings.t(lang, "gradients.verdict.vanishing") and b.segments[0][1] == "vanishes"
        assert fmt(None) == filters.DASH
    with pytest.raises(FilterError, match="unknown kind"):
        filters.badge_format("en", "gradients.verdict", kinds)("zero")  # "zero" is no badge kind unmapped


def test_badges_template_global_uses_the_page_language():
    env = environment()
    tpl = env.from_string('{{ df | md_table(formats={"v": badges("gradients.verdict", {"stable": "ok"})}) }}')
    df = pd.DataFrame({"v": ["stable"]})
    from generator.render import strings

    for lang in ("ko", "en"):
        out = tpl.render(df=df, lang=lang)
        assert f'initlab-badge--ok">{strings.t(lang, "gradients.verdict.stable")}</span>' in out


def test_page_labels_are_badges_of_their_kind():
    """The cells the pages build carry the kind of their label (the home grid, the health pair)."""
    from generator.pages.index import glance_cell, health_text

    assert [k for _, k in glance_cell("en", "ok", "ok").segments] == ["ok"]
    assert [k for _, k in glance_cell("en", "ok", "vanishes").segments] == ["vanishes"]
    assert [k for _, k in glance_cell("ko", "saturates", "explodes").segments] == ["saturates", None, "explodes"]
    assert [k for _, k in glance_cell("en", "explodes", "unmeasured").segments] == ["explodes", None, "neutral"]
    assert [k for _, k in health_text("en", "ok", "vanishes").segments] == ["ok", None, "vanishes"]
