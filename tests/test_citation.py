"""Licences and citation: LICENSE / LICENSE-CONTENT, PEP 639 metadata, CITATION.cff (valid against the
vendored CFF 1.2.0 schema, tests/data/SOURCE.md), the "how to cite" box of the reproducibility page
(read from CITATION.cff) and the footer's licence line in both languages."""

from __future__ import annotations

import html
import json
import re
import tomllib
from pathlib import Path

import jsonschema
import pytest
import yaml

from generator.contract.licences import LICENCES
from generator.pages import reproducibility
from generator.pages.reproducibility import citation

REPO = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((REPO / "tests" / "data" / "cff-1.2.0.schema.json").read_text("utf-8"))
CFF_TEXT = (REPO / "CITATION.cff").read_text("utf-8")
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]


def cff_errors(data: dict) -> list[str]:
    validator = jsonschema.Draft7Validator(SCHEMA, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(data)]


def test_vendored_schema_is_cff_1_2_0():
    assert SCHEMA["$id"] == "https://citation-file-format.github.io/1.2.0/schema.json"
    jsonschema.Draft7Validator.check_schema(SCHEMA)


def test_citation_cff_is_valid():
    data = yaml.safe_load(CFF_TEXT)
    assert data["cff-version"] == "1.2.0"
    assert cff_errors(data) == []


@pytest.mark.parametrize(
    "breakage",
    [
        lambda d: d.pop("authors"),  # required key missing
        lambda d: d.update({"cff-version": "1.2"}),  # not a version the schema knows
        lambda d: d.update({"license": "MIT-or-so"}),  # not an SPDX identifier
        lambda d: d.update({"authors": [{"nickname": "x"}]}),  # neither a person nor an entity
        lambda d: d.update({"titel": d["title"]}),  # unknown key (additionalProperties: false)
    ],
    ids=["no-authors", "bad-version", "bad-licence", "bad-author", "typo-key"],
)
def test_schema_check_rejects_a_broken_copy(breakage, tmp_path):
    broken = tmp_path / "CITATION.cff"
    broken.write_text(CFF_TEXT, "utf-8")
    data = yaml.safe_load(broken.read_text("utf-8"))
    breakage(data)
    assert cff_errors(data), "the schema check accepted a broken CITATION.cff"


def test_citation_agrees_with_pyproject_and_licence_files():
    data = yaml.safe_load(CFF_TEXT)
    assert data["version"] == PYPROJECT["version"]
    code, content = data["license"]
    assert PYPROJECT["license"] == code == "MIT"  # PEP 639: an SPDX expression, not the retired table
    assert content == "CC-BY-4.0"
    assert PYPROJECT["license-files"] == [LICENCES[code]["file"], LICENCES[content]["file"]]
    assert "Permission is hereby granted, free of charge" in (REPO / "LICENSE").read_text("utf-8")
    legal = (REPO / "LICENSE-CONTENT").read_text("utf-8")
    assert legal.startswith("Attribution 4.0 International")
    for part in (
        "Section 1 -- Definitions.",
        "Section 8 -- Interpretation.",
        "Creative Commons may be contacted at creativecommons.org.",
    ):
        assert part in legal  # the full legal code, not a summary


def test_setuptools_that_reads_pep_639():
    requires = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["build-system"]["requires"]
    m = re.fullmatch(r"setuptools>=(\d+)", requires[0])
    assert m and int(m.group(1)) >= 77, requires


def test_reader_formats_persons_entities_year_and_url(tmp_path):
    cff = tmp_path / "CITATION.cff"
    cff.write_text(
        yaml.safe_dump(
            {
                "cff-version": "1.2.0",
                "message": "cite",
                "title": "Some Tool: a subtitle",
                "version": "2.3.4",
                "date-released": "2031-05-06",
                "repository-code": "https://example.org/some/tool",
                "license": ["MIT", "CC-BY-4.0"],
                "authors": [
                    {"given-names": "Ada", "family-names": "Byron", "name-particle": "de"},
                    {"name": "The Tool Team"},
                ],
            }
        ),
        "utf-8",
    )
    assert cff_errors(yaml.safe_load(cff.read_text("utf-8"))) == []
    c = citation(cff)
    assert c["plain"] == (
        "Ada de Byron, The Tool Team (2031). Some Tool: a subtitle. Version 2.3.4. https://example.org/some/tool"
    )
    bib = c["bibtex"]
    assert bib.startswith("@software{sometool,\n") and bib.endswith("\n}")
    assert 'author = "de Byron, Ada and {The Tool Team}"' in bib
    assert "{{" not in citation()["bibtex"]  # no template-like syntax in the generated Markdown
    for field in (
        "title = {Some Tool: a subtitle}",
        "version = {2.3.4}",
        "year = {2031}",
        "url = {https://example.org/some/tool}",
        "license = {MIT, CC-BY-4.0}",
    ):
        assert field in bib
    assert c["code_licence"]["name"] == "MIT" and c["content_licence"]["name"] == "CC BY 4.0"
    data = yaml.safe_load(cff.read_text("utf-8")) | {"doi": "10.5281/zenodo.1234567"}
    cff.write_text(yaml.safe_dump(data), "utf-8")
    with_doi = citation(cff)
    assert with_doi["plain"].endswith("Version 2.3.4. https://doi.org/10.5281/zenodo.1234567")
    assert "doi = {10.5281/zenodo.1234567}" in with_doi["bibtex"] and "url = {" in with_doi["bibtex"]


def test_readme_shows_the_bibtex_the_site_shows():
    assert citation()["bibtex"] in (REPO / "README.md").read_text("utf-8")


def test_reader_leaves_out_what_the_file_does_not_say():
    data = yaml.safe_load(CFF_TEXT)
    c = citation()
    assert data["title"] in c["plain"] and data["title"] in c["bibtex"]
    for author in data["authors"]:
        assert author["name"] in c["plain"]
    if "date-released" not in data:
        assert "year" not in c["bibtex"] and not re.search(r"\(\d{4}\)", c["plain"])
    if "repository-code" not in data and "url" not in data:
        assert "url =" not in c["bibtex"] and "http" not in c["plain"]


def test_reader_refuses_an_unknown_licence(tmp_path):
    cff = tmp_path / "CITATION.cff"
    cff.write_text(CFF_TEXT.replace("- CC-BY-4.0", "- GPL-3.0-only"), "utf-8")
    with pytest.raises(ValueError, match="license"):
        citation(cff)


def test_page_context_carries_the_citation():
    assert reproducibility.citation() == citation(reproducibility.CITATION_FILE)


def _footer_text(page_html: str) -> str:
    m = re.search(r'<div class="md-copyright__highlight">(.*?)</div>', page_html, re.S)
    assert m, "no copyright line in the footer"
    return html.unescape(re.sub(r"\s+", " ", m.group(1))).strip()


def _footer(page: Path) -> str:
    return _footer_text(page.read_text("utf-8"))


def test_built_site_footer_and_cite_box_in_both_languages(site_build):
    from sitebuild import page_file

    words = {"ko": ("코드", "글·그림·데이터"), "en": ("Code", "text, figures and data")}
    for lang, (code_word, content_word) in words.items():
        for page in ("index", "reproducibility"):
            footer = _footer(page_file(site_build.public_dir, page, lang))
            assert code_word in footer and content_word in footer, (lang, page, footer)
            for spdx in ("MIT", "CC-BY-4.0"):
                assert f'href="{LICENCES[spdx]["url"]}' in footer and LICENCES[spdx]["name"] in footer
        text = page_file(site_build.public_dir, "reproducibility", lang).read_text("utf-8")
        assert 'id="cite"' in text
        assert html.escape(citation()["plain"], quote=False) in text
        assert citation()["bibtex"] in html.unescape(re.sub(r"<[^>]+>", "", text))  # highlighted code block


@pytest.mark.parametrize("blob", [None, "https://github.com/o/r/blob/0123456789ab/"])
def test_footer_partial_links_the_licence_files_when_the_repository_is_known(blob):
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(REPO / "site" / "overrides"), autoescape=False)
    config = {"copyright": "Code: MIT", "extra": {"initlab_code": {"blob": blob}}}
    out = env.get_template("partials/copyright.html").render(config=config)
    assert "Code: MIT" in _footer_text(out)
    for name in ("LICENSE", "LICENSE-CONTENT"):
        assert (f'href="{blob}{name}"' in out) == (blob is not None)
        assert (REPO / name).is_file()
