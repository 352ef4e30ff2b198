"""Escaping: text that is not Markdown authored in templates/ never reaches the HTML as markup.

Catalog values (``t()``), data (``md_table`` cells and headers), config values and file names, and
what the macros receive (captions, alt text, labels, titles, paths) are escaped for HTML-in-Markdown
(generator/render/filters.py, "Escaping"; generator/render/strings.py for the plain-text / Markdown catalog rule).
Hostile inputs are rendered through the real macros and templates, then through Python-Markdown with
the extensions of site/mkdocs.yml, and the HTML is parsed: no script element, no event-handler
attribute, no javascript:/data:/vbscript: link or image anywhere.
"""

from __future__ import annotations

import re
import shutil
import string
from html.parser import HTMLParser
from pathlib import Path

import markdown
import pandas as pd
import pytest
from markupsafe import Markup

from generator.pipeline.render_stage import render_pages
from generator.render import filters, strings
from generator.render.env import RenderError, environment
from generator.render.filters import (
    FilterError,
    Md,
    UnsafeMarkdownError,
    alt_text,
    check_markdown,
    code,
    escape_md,
    link,
    md_table,
    safe_url,
)

REPO = Path(__file__).resolve().parent.parent

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
JS_LINK = "[click](javascript:alert(1))"
ATTR = "Title { onclick=alert(1) }"
HOSTILE = [
    SCRIPT,
    IMG,
    JS_LINK,
    ATTR,
    "<a href='javascript:alert(1)'>x</a>",
    "<javascript:alert(1)>",
    "![i](javascript:alert(1))",
    "[r][1]\n\n[1]: javascript:alert(1)",
    "`x` & <!-- c -->",
]


# ------------------------------------------------------------------------------------------------
# helpers: Markdown -> HTML as the site does it, and an HTML scan


def _site_extensions() -> list[str]:
    """The extension names under ``markdown_extensions:`` in site/mkdocs.yml."""
    cfg = (REPO / "site" / "mkdocs.yml").read_text("utf-8")
    block = re.search(r"(?m)^markdown_extensions:\n((?:[ ].*\n|\n)+)", cfg).group(1)
    return re.findall(r"(?m)^  - ([\w.]+)", block)


def to_html(text: str) -> str:
    from pymdownx.slugs import slugify

    exts = _site_extensions()
    assert {"attr_list", "md_in_html", "tables", "toc"} <= set(exts)
    return markdown.markdown(
        str(text), extensions=exts, extension_configs={"toc": {"permalink": True, "slugify": slugify(case="lower")}}
    )


class _Scan(HTMLParser):
    """Elements, attributes and visible text of an HTML fragment (character references decoded)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        self.text.append(data)


def scan(html: str) -> _Scan:
    s = _Scan()
    s.feed(html)
    s.close()
    return s


def visible_text(html: str) -> str:
    return " ".join("".join(scan(html).text).split())


def assert_inert(html: str, allowed_tags: set[str] | None = None) -> None:
    """No script/iframe/object/style element, no on* or style attribute, no unsafe URL, no unexpected tag."""
    s = scan(html)
    for tag, attrs in s.tags:
        assert tag not in {"script", "iframe", "object", "embed", "style", "form", "base", "meta", "link"}, (tag, html)
        if allowed_tags is not None:
            assert tag in allowed_tags, (tag, attrs, html)
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name, html)
            assert name != "style" or tag in {"th", "td"}, (tag, name, html)  # tables' text-align only
            if name in {"href", "src", "action", "formaction", "xlink:href"}:
                scheme = re.sub(r"[\s\x00-\x1f]", "", value or "").lower().split(":", 1)
                assert len(scheme) == 1 or scheme[0] not in {"javascript", "data", "vbscript"}, (tag, value)
    assert "<script" not in html.lower(), html
    # the same, read off the HTML text: onerror=/onclick=..., or an href/src with an unsafe scheme, as
    # an attribute of a real tag (text inside a quoted attribute value, e.g. escaped alt text, skipped)
    attr = r"""\s+[^\s=>/]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>"']*))?"""
    tag = rf"""<[A-Za-z][\w-]*(?:{attr})*?"""
    assert not re.search(rf"""{tag}\s+on[a-z]+\s*=""", html, re.I), html
    assert not re.search(rf"""{tag}\s+(?:href|src)\s*=\s*["']?\s*(?:javascript|data|vbscript):""", html, re.I), html


@pytest.fixture
def catalog(monkeypatch):
    """Replace the strings catalog with ``{lang: dict}`` for the test (the real one is restored)."""

    def install(ko: dict, en: dict | None = None):
        data = {"ko": ko, "en": en if en is not None else ko}
        monkeypatch.setattr(strings, "load", lambda lang: data[lang])

    return install


# ------------------------------------------------------------------------------------------------
# escape_md and friends


@pytest.mark.parametrize("value", HOSTILE)
def test_escape_md_leaves_no_markup(value):
    out = escape_md(value)
    assert isinstance(out, Md)
    assert not set(out) & set('<>[]{}`|\\"')
    html = to_html(out)
    assert_inert(html, allowed_tags={"p"})
    assert not any(tag == "a" for tag, _ in scan(html).tags)
    # and it still reads as the text that went in
    assert visible_text(html) == " ".join(value.split())


def test_escape_md_examples_and_idempotence():
    assert escape_md(SCRIPT) == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert escape_md(JS_LINK) == "&#91;click&#93;(javascript:alert(1))"
    assert escape_md('a & b "q"') == "a &amp; b &quot;q&quot;"
    assert escape_md("already &lt; and &#91; and &nbsp;") == "already &lt; and &#91; and &nbsp;"  # entities kept
    assert escape_md("&bogus; &") == "&amp;bogus; &amp;"
    for v in HOSTILE:
        assert escape_md(escape_md(v)) == escape_md(v)
        assert escape_md(str(escape_md(v))) == escape_md(v)  # even after losing the Markup mark
    assert escape_md(Markup("<b>trusted</b>")) == "<b>trusted</b>"
    assert escape_md("q* and σ_w²") == "q* and σ_w²"  # emphasis characters are not a safety issue


def test_md_format_escapes_arguments_but_keeps_markup():
    out = Md("[{}](#{}) {}").format(JS_LINK, "x", Markup("<em>ok</em>"))
    assert out == "[&#91;click&#93;(javascript:alert(1))](#x) <em>ok</em>"
    assert Md("a ") + SCRIPT == "a &lt;script&gt;alert(1)&lt;/script&gt;"


def test_code_span_and_alt_text():
    assert code("experiments.toml") == "`experiments.toml`"
    assert code("a`b") == "``a`b``"
    assert code("`x`") == "`` `x` ``"
    assert "<b>" not in to_html(f"file {code('<b>x</b>.toml')}").replace("&lt;b&gt;", "")
    assert visible_text(to_html(f"file {code('<b>x</b>.toml')}")) == "file <b>x</b>.toml"
    assert alt_text("대체 [텍스트]") == "대체 \\[텍스트\\]"
    assert alt_text(IMG) == "&lt;img src=x onerror=alert(1)&gt;"
    assert alt_text('say "hi"\nnow') == "say &quot;hi&quot; now"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "java&#115;cript:alert(1)",
        "data:text/html,<b>",
        "vbscript:msgbox(1)",
        "&#x6A;avascript:alert(1)",
    ],
)
def test_unsafe_urls_are_refused(url):
    with pytest.raises(UnsafeMarkdownError, match="refused"):
        safe_url(url)
    with pytest.raises(UnsafeMarkdownError):
        link("x", url)
    with pytest.raises(UnsafeMarkdownError):
        check_markdown(f"see [x]({url})", "somewhere")


def test_safe_urls_pass():
    assert safe_url("data/x.csv") == "data/x.csv"
    assert safe_url("training.md#top") == "training.md#top"
    assert safe_url("https://example.org/a b") == "https://example.org/a%20b"
    assert link("<b>", "seed.md#x") == "[&lt;b&gt;](seed.md#x)"


@pytest.mark.parametrize(
    "text",
    [
        "[x](javascript:alert(1))",
        "![x](data:image/svg+xml,<svg onload=alert(1)>)",
        "<javascript:alert(1)>",
        "[x][r]\n\n[r]: javascript:alert(1)",
        SCRIPT,
        IMG,
        "<span onclick=alert(1)>x</span>",
        "<span style='x'>x</span>",
        "<!-- hidden -->",
        "*x*{ onclick=alert(1) }",
        "<iframe src=x></iframe>",
    ],
)
def test_check_markdown_refuses(text):
    with pytest.raises(UnsafeMarkdownError, match="key 'k'"):
        check_markdown(text, "key 'k'")


def test_check_markdown_allows_repository_markdown():
    ok = (
        "Run `python -m generator experiments` and see [the page](training.md), <https://example.org/x>, "
        '<me@example.org>, H<sub>2</sub>O<br>, <span class="x" title="t">s</span>, **bold**, x < 1, '
        "{ .cls #id }, [ref][r]\n\n[r]: seed.md#top"
    )
    assert check_markdown(ok, "k") == ok
    assert_inert(to_html(ok), allowed_tags={"p", "a", "code", "sub", "br", "span", "strong"})


@pytest.mark.parametrize(
    "text",
    [
        "`<script>alert(1)</script>`",
        "\\`<script>alert(1)</script>\\`",
        "<script src=//evil.example/x.js",
        "x <img src=x",
    ],
)
def test_check_markdown_inspects_code_spans_and_unterminated_tags(text):
    # a code span is literal only where Markdown runs; an unterminated tag swallows the template's next tag
    with pytest.raises(UnsafeMarkdownError, match="not allowed"):
        check_markdown(text, "k")


def test_math_takes_escaped_tex_back_to_characters():
    assert filters.math(Markup("x &lt; 1")) == filters.math("x < 1")
    assert "<mo>&#x0003C;</mo>" in filters.math("x < 1")  # MathML escapes the TeX "<" itself


# ------------------------------------------------------------------------------------------------
# md_table


def test_md_table_escapes_data_cells_and_headers():
    df = pd.DataFrame({"name": [SCRIPT, JS_LINK, "a|b", "line1\nline2", "x & y"], "v": [0.5, 0.0004, 2.0, 3.0, 1e-9]})
    out = md_table(df, "en", columns={"name": IMG, "v": "v"}, formats={"v": "pct"})
    lines = out.splitlines()
    assert lines[0] == "| &lt;img src=x onerror=alert(1)&gt; | v |"
    assert lines[2] == "| &lt;script&gt;alert(1)&lt;/script&gt; | 50.0% |"
    assert lines[3] == "| &#91;click&#93;(javascript:alert(1)) | < 0.1% |"  # numbers as formatted
    assert lines[4] == "| a\\|b | 200.0% |"
    assert lines[5] == "| line1 line2 | 300.0% |"
    assert lines[6] == "| x &amp; y | < 0.1% |"
    html = to_html(out)
    assert_inert(html, allowed_tags={"table", "thead", "tbody", "tr", "th", "td"})
    assert [visible_text(f"<p>{c}</p>") for c in re.findall(r"<td[^>]*>(.*?)</td>", html)][::2] == [
        SCRIPT,
        JS_LINK,
        "a|b",
        "line1 line2",
        "x & y",
    ]


def test_md_table_keeps_markdown_cells_and_number_formats():
    df = pd.DataFrame({"file": [link(code("a.csv"), "data/a.csv")], "sha": [code("ab|cd")], "n": [1234]})
    out = md_table(df, "en")
    assert out.splitlines()[2] == "| [`a.csv`](data/a.csv) | `ab\\|cd` | 1,234 |"
    html = to_html(out)
    assert '<a href="data/a.csv"><code>a.csv</code></a>' in html


def test_md_table_callable_and_str_formats_are_escaped_unless_markup():
    df = pd.DataFrame({"a": [1.0], "b": ["<b>"]})
    out = md_table(df, "en", formats={"a": lambda v: f"<{v:g}>", "b": "str"})
    assert out.splitlines()[2] == "| &lt;1&gt; | &lt;b&gt; |"
    out = md_table(df, "en", formats={"a": lambda v: Md("**{}**").format(v)})
    assert out.splitlines()[2] == "| **1.0** | &lt;b&gt; |"


# ------------------------------------------------------------------------------------------------
# the strings catalog: plain text by default, Markdown when marked


def test_plain_catalog_values_are_escaped(catalog):
    catalog({"x": {"s": SCRIPT, "l": JS_LINK, "fmt": "{a} of {b} <i>", "c": "{c:.2f}"}})
    assert strings.t_page("en", "x.s") == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert strings.t_page("en", "x.l") == "&#91;click&#93;(javascript:alert(1))"
    out = strings.t_page("en", "x.fmt", a=IMG, b=strings.t_page("en", "x.s"))
    assert out == "&lt;img src=x onerror=alert(1)&gt; of &lt;script&gt;alert(1)&lt;/script&gt; &lt;i&gt;"
    assert strings.t_page("en", "x.c", c=1 / 3) == "0.33"
    assert strings.t("en", "x.s") == SCRIPT  # figures and Python code get the raw text


def test_markdown_catalog_values_are_checked_and_name_the_key(catalog):
    catalog(
        {
            "x": {
                "ok_md": "Run `a < b` now",
                "bad_md": JS_LINK,
                "arg_md": "see {v}",
                "tbl": {"_markdown": True, "one": "*yes* `code`", "two": "[x](vbscript:y)"},
            }
        }
    )
    assert strings.is_markdown_key("en", "x.ok_md") and strings.is_markdown_key("en", "x.tbl.one")
    assert not strings.is_markdown_key("en", "x.fmt")
    assert strings.t_page("en", "x.ok_md") == "Run `a < b` now"
    assert strings.t_page("en", "x.tbl.one") == "*yes* `code`"
    assert strings.t_page("en", "x.arg_md", v=JS_LINK) == "see &#91;click&#93;(javascript:alert(1))"
    with pytest.raises(UnsafeMarkdownError, match=r"translation key 'x.bad_md' for language 'en'.*javascript"):
        strings.t_page("en", "x.bad_md")
    with pytest.raises(UnsafeMarkdownError, match=r"'x.tbl.two'.*vbscript"):
        strings.t_page("en", "x.tbl.two")


# ------------------------------------------------------------------------------------------------
# whole pages through the real macros

PAGE = """{% import "macros/report.j2" as m with context %}
{% import "macros/datadict.j2" as dd with context %}
# {{ t("x.title") }} { #top }

{{ t("x.script") }} and {{ t("x.link") }} and {{ t("x.attr") }}; config file {{ cfg | code }}.
Caption of a config table: {{ t("x.cfg", path=cfg) }}. Data: {{ raw | esc }}.

{{ m.figure("demo", t("x.img"), t("x.img")) }}

{{ m.figure("demo2", raw, raw) }}

{{ m.table(df, t("x.script"), "demo", columns={"name": t("x.link"), "v": t("x.img")}, csv="data/demo.csv") }}

{{ dd.data_dictionary(files, level=3) }}
{% call m.callout("note", t("x.script")) %}
Body {{ t("x.link") }}.
{% endcall %}
"""


def _hostile_catalog() -> dict:
    return {
        "x": {
            "title": "Title " + SCRIPT,
            "script": SCRIPT,
            "link": JS_LINK,
            "attr": ATTR,
            "img": IMG,
            "cfg": "Section of the config file {path}",
        },
        "ui": {"download_csv": "<b>CSV</b> " + JS_LINK},
        "reproducibility": {
            "dd": {
                "caption": "Columns of {file}",
                "column": SCRIPT,
                "type": IMG,
                "meaning": JS_LINK,
                "dtype": {"str": "<u>string</u>"},
            }
        },
    }


def _render(tmp_path: Path, src: str, context: dict) -> dict[str, str]:
    tdir = tmp_path / "templates"
    shutil.copytree(REPO / "templates" / "macros", tdir / "macros")
    for lang in ("ko", "en"):
        (tdir / "pages").mkdir(parents=True, exist_ok=True)
        (tdir / "pages" / f"p.{lang}.md.j2").write_text(src, encoding="utf-8")
    docs = tmp_path / "docs"
    render_pages(context, docs, templates_dir=tdir, assets_dir=tmp_path / "no-assets")
    return {lang: (docs / f"p.{lang}.md").read_text("utf-8") for lang in ("ko", "en")}


def test_hostile_catalog_data_and_config_render_inert(tmp_path, catalog):
    catalog(_hostile_catalog())
    df = pd.DataFrame({"name": [SCRIPT, JS_LINK], "v": [0.5, 1e-9]})
    files = [
        {
            "name": "demo.csv",
            "ko": SCRIPT,
            "en": IMG,
            "columns": [{"name": "<b>c</b>", "dtype": "str", "ko": JS_LINK, "en": ATTR}],
        }
    ]
    pages = _render(tmp_path, PAGE, {"df": df, "files": files, "cfg": "<b>x</b>.toml", "raw": IMG})
    for lang, md in pages.items():
        # the Markdown itself: nothing raw
        assert "`<b>x</b>.toml`" in md and "`<b>c</b>`" in md  # code spans: Markdown shows them as text
        outside_code = re.sub(r"`[^`]*`", "", md)
        for bad in ("<script", "<img", "<b>", "<u>", "[click]", "{ onclick", "](javascript:"):
            assert bad not in outside_code, (lang, bad)
        html = to_html(md)
        assert_inert(
            html,
            allowed_tags={
                "h1",
                "h3",
                "p",
                "a",
                "code",
                "figure",
                "figcaption",
                "img",
                "table",
                "thead",
                "tbody",
                "tr",
                "th",
                "td",
                "div",
            },
        )
        imgs = [a for tag, a in scan(html).tags if tag == "img"]
        assert [a["src"] for a in imgs] == [f"figures/demo.{lang}.svg", f"figures/demo2.{lang}.svg"]
        assert all(a["alt"] == IMG for a in imgs)  # the alt text is the hostile text, as text
        hrefs = [a.get("href") for tag, a in scan(html).tags if tag == "a"]
        figures = {f"figures/demo.{lang}.svg", f"figures/demo2.{lang}.svg"}  # each figure links to its own image
        assert all(h in {"#top", "#data-demo", "data/demo.csv"} | figures for h in hrefs), hrefs
        text = visible_text(html)
        for shown in (SCRIPT, JS_LINK, ATTR, "<b>x</b>.toml", "<b>CSV</b>", "<u>string</u>", "<b>c</b>"):
            assert shown in text, (lang, shown)
        assert "&lt;" not in text and "&#" not in text and "&amp;" not in text  # no double escaping


def test_hostile_url_in_a_macro_fails_the_render(tmp_path, catalog):
    catalog(_hostile_catalog())
    src = '{% import "macros/report.j2" as m with context %}\n{{ m.csv_link(path, "x") }}\n'
    with pytest.raises(RenderError, match=r"pages/p\.ko\.md\.j2.*refused javascript: URL"):
        _render(tmp_path, src, {"path": "javascript:alert(1)"})


def test_markdown_key_with_a_javascript_link_fails_the_render_naming_the_key(tmp_path, catalog):
    catalog({"x": {"note_md": "See " + JS_LINK}})
    with pytest.raises(RenderError, match=r"line 2.*translation key 'x.note_md' for language 'ko'.*javascript"):
        _render(tmp_path, "ok\n{{ t('x.note_md') }}\n", {})


def test_figure_macro_with_plain_python_text():
    env = environment()
    tpl = env.from_string('{% import "macros/report.j2" as m with context %}{{ m.figure("f", cap, alt, src=src) }}')
    out = tpl.render(lang="en", cap=SCRIPT, alt=IMG, src="figures/a b.svg")
    assert "![&lt;img src=x onerror=alert(1)&gt;](figures/a%20b.svg){ loading=lazy }" in out
    assert '<figcaption markdown="span">&lt;script&gt;alert(1)&lt;/script&gt;</figcaption>' in out
    with pytest.raises(FilterError, match="refused data: URL"):
        tpl.render(lang="en", cap="c", alt="a", src="data:image/svg+xml,<svg/onload=alert(1)>")


def test_reference_entries_escape_their_fields():
    from generator.pages import references

    r = references.Reference("k", ("A <b>", "B"), JS_LINK, "V{ onclick=x }", 2020, url="javascript:alert(1)")
    out = references.entry_markdown(r, "en")
    assert isinstance(out, Md)
    html = to_html(out)
    assert_inert(html, allowed_tags={"p", "em", "code"})
    assert visible_text(html) == (f'A <b>, B. "{JS_LINK}". V{{ onclick=x }}, 2020. javascript:alert(1)')


# ------------------------------------------------------------------------------------------------
# the real catalog and the real pages


def _fields(template: str) -> dict:
    return {name.split(".")[0].split("[")[0]: "X" for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("lang", strings.LANGUAGES)
def test_every_real_catalog_value_reads_the_same_after_escaping(lang):
    """Each value of templates/strings, as the page gets it, shows the same text (and the same
    elements: code spans of the Markdown values) as the raw value rendered as Markdown did."""
    marked = []
    for key in sorted(strings.flat_keys(lang)):
        raw = strings.load(lang)
        for part in key.split("."):
            raw = raw[part]
        if not isinstance(raw, str):
            continue  # the `_markdown = true` table markers
        fmt = _fields(raw)
        page = strings.t_page(lang, key, **fmt)
        before, after = to_html(raw.format(**fmt)), to_html(page)
        assert visible_text(after) == visible_text(before), key
        assert [t for t, _ in scan(after).tags] == [t for t, _ in scan(before).tags], key
        if strings.is_markdown_key(lang, key):
            marked.append(key)
            assert page == raw.format(**fmt)
    # the Markdown values of the catalog: the pending-training note and the references' role sentences
    assert "training.pending_md" in marked
    assert {k for k in marked if k.startswith("references.role.")} == {
        f"references.role.{k}" for k in strings.load(lang)["references"]["role"] if k != "_markdown"
    }


def test_real_pages_render_without_raw_html_from_text_or_double_escaping(site_build, tmp_path):
    """The real templates with the reduced grid's context; the config file name made hostile."""
    from generator.config.load import load_config, resolve
    from generator.contract.dataset import Dataset
    from generator.pages.registry import build_context

    cfg = load_config(site_build.config, check_writable=False)
    context = build_context(Dataset(resolve(cfg.output.docs_dir) / "data"))
    context["config"]["config_file"] = "<b>x</b>.toml"
    context["pages"]["reproducibility"]["config_path"] = "cfg/<b>x</b>.toml"
    docs = tmp_path / "docs"
    render_pages(context, docs, assets_dir=tmp_path / "no-assets")
    double = re.compile(r"&amp;(?:lt|gt|amp|quot|#\d+|#x[0-9a-f]+);", re.I)
    for path in sorted(docs.glob("*.md")):
        md = path.read_text("utf-8")
        assert not double.search(md), (path.name, double.search(md).group(0))
        assert "<b>x</b>" not in md.replace("`<b>x</b>.toml`", "").replace("`cfg/<b>x</b>.toml`", ""), path.name
        html = to_html(md)
        assert_inert(html)
        assert not double.search(html), path.name
        if path.name.startswith(("reproducibility", "index", "results")):
            assert "<b>x</b>.toml" in visible_text(html), path.name
        if path.name.startswith("reproducibility"):
            assert "`cfg/<b>x</b>.toml`" in md
            assert "cfg/&lt;b&gt;x&lt;/b&gt;.toml" in md  # in the config tables' captions (escaped text)
