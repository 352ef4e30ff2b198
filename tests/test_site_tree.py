"""The built reduced-grid site as a file tree (no browser): pages in both languages, images, alt
text, no raw TeX or leaked Jinja, a warning-free strict build and figures without missing glyphs.

Uses the session's shared build (tests/conftest.py ``site_build``)."""

from __future__ import annotations

import logging
import re
import warnings

import pytest

import sitebuild
from sitebuild import HANGUL_RE, LANGS, page_file, page_language, page_names, parse, url_to_file


@pytest.fixture(scope="module")
def public(site_build):
    return site_build.public_dir


@pytest.fixture(scope="module")
def pages_html(public):
    """Every HTML page of the site except 404.html."""
    files = [p for p in sitebuild.html_files(public) if p.name != "404.html"]
    assert files, f"no HTML in {public}"
    return files


def test_pages_with_templates_are_listed():
    names = page_names()
    assert "index" in names, "the home page has no templates"


@pytest.mark.parametrize("lang", LANGS)
def test_every_page_exists_in_both_languages(public, lang):
    missing = [
        str(page_file(public, p, lang).relative_to(public))
        for p in page_names()
        if not page_file(public, p, lang).is_file()
    ]
    assert not missing, f"pages missing in {lang}: {missing}"


def test_no_page_without_its_translation(public, pages_html):
    """Conversely, every built page has a counterpart in the other language."""
    problems = []
    for f in pages_html:
        rel = f.relative_to(public).as_posix()
        other = rel[3:] if rel.startswith("en/") else f"en/{rel}"
        if not (public / other).is_file():
            problems.append(f"{rel} has no {other}")
    assert not problems, problems


def test_every_img_source_exists(site_build, public, pages_html):
    problems, checked = [], 0
    for f in pages_html:
        rel = f.relative_to(public).as_posix()
        for img in parse(f).find("img"):
            src = img.attrs.get("src", "")
            if not src:
                problems.append(f"{rel}:{img.line}: <img> without src")
                continue
            target, _ = url_to_file(public, site_build.prefix_path, src, rel)
            checked += 1
            if target is None or not target.is_file():
                problems.append(f"{rel}:{img.line}: {src} -> {target}")
    assert not problems, "\n".join(problems)
    assert checked > 0, "the site has no images at all"


def test_figures_have_alt_text_in_the_page_language(public, pages_html):
    problems, checked = [], 0
    for f in pages_html:
        rel = f.relative_to(public).as_posix()
        lang = page_language(public, f)
        for img in parse(f).find("img"):
            alt = img.attrs.get("alt", "").strip()
            checked += 1
            if not alt:
                problems.append(f"{rel}:{img.line}: empty alt for {img.attrs.get('src')}")
            elif lang == "ko" and not HANGUL_RE.search(alt):
                problems.append(f"{rel}:{img.line}: Korean page, alt has no Hangul: {alt[:80]!r}")
            elif lang == "en" and HANGUL_RE.search(alt):
                problems.append(f"{rel}:{img.line}: English page, alt has Hangul: {alt[:80]!r}")
    assert not problems, "\n".join(problems)
    assert checked > 0


def test_each_language_shows_its_own_figure_files(site_build, public, pages_html):
    """A localized figure on a Korean page is the bytes of ``figures/<x>.ko.svg``; on an English
    page those of ``<x>.en.svg`` (static-i18n renames them; a fallback would show Korean figures
    on English pages)."""
    docs_figs = site_build.docs_dir / "figures"
    problems, checked = [], 0
    for f in pages_html:
        rel = f.relative_to(public).as_posix()
        lang = page_language(public, f)
        for img in parse(f).find("img"):
            target, _ = url_to_file(public, site_build.prefix_path, img.attrs.get("src", ""), rel)
            if target is None or not target.is_file() or target.suffix != ".svg":
                continue
            source = docs_figs / f"{target.stem}.{lang}.svg"
            if not source.is_file():
                continue  # not a localized figure
            checked += 1
            if target.read_bytes() != source.read_bytes():
                problems.append(f"{rel}: {img.attrs['src']} is not the {lang} figure {source.name}")
    assert not problems, "\n".join(problems)
    assert checked > 0, "no localized figure found on any page"


def test_no_raw_tex_in_prose(public, pages_html):
    problems = []
    for f in pages_html:
        for p in sitebuild.raw_tex(parse(f)):
            problems.append(f"{f.relative_to(public)}: {p}")
    assert not problems, "raw TeX outside <math>/<code>:\n" + "\n".join(problems)


def test_math_is_mathml(public, pages_html):
    """Formulas are MathML (rendered at build time), never TeX for a client-side renderer."""
    for f in pages_html:
        text = f.read_text("utf-8")
        assert "MathJax" not in text and "katex" not in text.lower(), f"{f}: client-side math renderer"
    assert any("<math" in f.read_text("utf-8") for f in pages_html), "no <math> anywhere: math filter unused?"


# Elements that hold running text: inline math belongs inside one of them.
TEXT_CONTAINERS = {
    "p",
    "li",
    "td",
    "th",
    "dd",
    "dt",
    "figcaption",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "a",
    "span",
    "em",
    "strong",
    "b",
    "i",
    "sup",
    "sub",
    "summary",
    "label",
    "blockquote",
    "mark",
    "del",
}


def test_inline_math_stays_in_its_paragraph(public, pages_html):
    """``<math display="inline">`` inside running text. Python-Markdown makes a line that *starts*
    with ``<math`` a raw HTML block, which ends the paragraph: the formula then sits on a line of
    its own between two paragraph fragments ("... 입력은 / X~N(0,1) / 에서 뽑은 ...")."""
    problems = []
    for f in pages_html:
        for el in parse(f).find("math"):
            if el.attrs.get("display", "inline") == "inline" and el.parent not in TEXT_CONTAINERS:
                problems.append(f"{f.relative_to(public)}:{el.line}: inline <math> directly in <{el.parent or 'root'}>")
    assert not problems, (
        f"{len(problems)} inline formulas broke out of their paragraph (in the template, "
        "do not start a line with an inline math filter/macro):\n" + "\n".join(problems)
    )


def test_no_leaked_jinja(public):
    problems = []
    for f in sitebuild.html_files(public):
        for leak in sitebuild.template_leaks(f.read_text("utf-8")):
            problems.append(f"{f.relative_to(public)}: ...{leak}...")
    assert not problems, "leaked template syntax:\n" + "\n".join(problems)


def test_no_leaked_jinja_in_markdown(site_build):
    problems = []
    for md in sorted(site_build.docs_dir.glob("*.md")):
        text = md.read_text("utf-8")
        for m in re.finditer(r"\{\{|\{%|\{#-?\s", text):
            problems.append(f"{md.name}: {text[max(0, m.start() - 30) : m.end() + 30]!r}")
    assert not problems, problems


def test_strict_build_had_no_warnings(site_build):
    res = site_build.result
    assert res.warnings == []
    assert not re.search(r"^\s*(WARNING|ERROR)\b", res.log, re.MULTILINE), res.log[-3000:]


def test_no_absolute_build_paths_in_output(site_build, public):
    """The tmp build dirs must not leak into the published files (they differ between builds)."""
    needles = [str(site_build.root).encode(), str(site_build.docs_dir).encode()]
    leaks = [
        p.relative_to(public).as_posix()
        for p in public.rglob("*")
        if p.is_file() and p.suffix != ".gz" and any(n in p.read_bytes() for n in needles)
    ]
    assert not leaks, f"build paths leaked into {leaks}"


def test_figure_stage_emitted_no_missing_glyph_warnings(site_build):
    log = site_build.stage_logs["figures"]
    m = re.search(r"figures: (\d+) files, (\d+) cached, (\d+) rendered", log)
    assert m, f"figure stage summary missing:\n{log[-2000:]}"
    assert int(m.group(3)) > 0 and int(m.group(2)) == 0, "a clean build must render every figure"
    bad = [line for line in log.splitlines() if sitebuild.GLYPH_WARNING_RE.search(line)]
    assert not bad, "matplotlib font warnings during the figure stage:\n" + "\n".join(bad[:20])
    others = [line for line in log.splitlines() if "Warning" in line]
    assert not others, "warnings during the figure stage:\n" + "\n".join(others[:20])


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


def test_figures_in_process_have_no_missing_glyphs(site_build):
    """One instance of every figure kind per language, drawn in-process with warnings and the
    matplotlib loggers captured (the stage itself renders in worker processes)."""
    from generator.config.load import load_config
    from generator.contract import schema as contract
    from generator.figures.draw import build_figure
    from generator.figures.io import figure_bytes
    from generator.figures.registry import TABLE_FILES, figure_jobs
    from generator.pipeline import training_stage  # noqa: F401 (declares the training CSVs in the contract)

    data_dir = site_build.docs_dir / "data"
    data = {k: contract.read_csv(v, data_dir) for k, v in TABLE_FILES.items() if (data_dir / v).exists()}
    cfg = load_config(site_build.config, check_writable=False)
    jobs = {}
    for job in figure_jobs(cfg, target_accuracy=cfg.training.target_accuracy):  # training figures too
        jobs.setdefault(job.name, job)
    handler = _Collect()
    loggers = [
        logging.getLogger(n)
        for n in (
            "matplotlib",
            "matplotlib.font_manager",
            "matplotlib.mathtext",
            "matplotlib.texmanager",
            "matplotlib.backends",
        )
    ]
    old_levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for job in jobs.values():
                for lang in LANGS:
                    fig = build_figure(job.name, data, lang, **job.kwargs)
                    assert figure_bytes(fig, "svg")
    finally:
        for lg, lvl in zip(loggers, old_levels):
            lg.removeHandler(handler)
            lg.setLevel(lvl)
    messages = [f"{w.category.__name__}: {w.message}" for w in caught]
    messages += [
        f"log {r.name} {r.levelname}: {r.getMessage()}" for r in handler.records if r.levelno >= logging.WARNING
    ]
    assert len(jobs) >= 3, f"expected several figure kinds, got {sorted(jobs)}"
    assert not messages, "\n".join(messages[:20])
