"""The references page: every entry has a clickable DOI / arXiv / proceedings link (or is named in NO_LINK
with a reason), and every author-year citation in any template or strings catalog is listed."""

from __future__ import annotations

import re
from pathlib import Path

from generator.common.languages import LANGUAGES
from generator.pages import references

REPO = Path(__file__).resolve().parent.parent
# "He et al. (2015)", "Ioffe & Szegedy, 2015", "Glorot and Bengio (2010)", "Ioffe와 Szegedy(2015)", "LeCun et al., 1998"
CITATION = re.compile(
    r"\b([A-Z][A-Za-z\-]+)(?:\s+et al\.|\s*(?:&|and|와|과)\s*[A-Z][A-Za-z\-]+)?,?\s*\(?((?:19|20)\d{2})\b"
)


def cited(text: str) -> set[tuple[str, int]]:
    return {(name, int(year)) for name, year in CITATION.findall(text)}


def listed() -> set[tuple[str, int]]:
    return {(r.authors[0].split()[-1], r.year) for r in references.REFERENCES}


def test_citation_pattern_on_known_forms():
    text = (
        "(He et al., 2015) Ioffe & Szegedy (2015); Glorot and Bengio (2010); Ioffe와 Szegedy(2015), "
        "LeCun et al., 1998 and Sohl-Dickstein 2017 but not ICLR or 1998 alone"
    )
    assert cited(text) == {("He", 2015), ("Ioffe", 2015), ("Glorot", 2010), ("LeCun", 1998), ("Sohl-Dickstein", 2017)}


def test_every_cited_work_is_listed():
    files = sorted((REPO / "templates").rglob("*.j2")) + sorted((REPO / "templates" / "strings").rglob("*.toml"))
    missing = {}
    for f in files:
        for c in cited(f.read_text("utf-8")) - listed():
            missing.setdefault(c, []).append(f.name)
    assert not missing, f"cited but not on the references page: {missing}"


def test_every_entry_has_a_link():
    keys = {r.key for r in references.REFERENCES}
    assert set(references.NO_LINK) <= keys and all(references.NO_LINK.values())
    for r in references.REFERENCES:
        links = references.links_of(r)
        assert links or r.key in references.NO_LINK, r.key
        if r.arxiv:
            assert re.fullmatch(r"\d{4}\.\d{4,5}", r.arxiv), r.key
        if r.doi:
            assert re.fullmatch(r"10\.\d{4,9}/\S+", r.doi), r.key
        for lang in LANGUAGES:
            md = str(references.entry_markdown(r, lang))
            for _label, url in links:
                assert url.startswith("https://") and f"({url})" in md, (r.key, md)


def test_the_works_the_text_and_the_reader_need():
    by_key = {r.key: r for r in references.REFERENCES}
    assert by_key["yang2019"].arxiv == "1902.08129"
    assert by_key["lecun1998"].doi == "10.1007/3-540-49430-8_2"
    for key, arxiv in (
        ("santurkar2018", "1805.11604"),
        ("bjorck2018", "1806.02375"),
        ("luo2019", "1809.00846"),
        ("hanin2018", "1803.01719"),
        ("pennington2017", "1711.04735"),
        ("hendrycks2016", "1606.08415"),
    ):
        assert by_key[key].arxiv == arxiv
    assert by_key["hanin2018"].cite == "Hanin & Rolnick (2018)"
