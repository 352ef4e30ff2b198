"""Nothing ships that no page uses: generator/pipeline/prune.py on synthetic trees, then the built
reduced-grid site (tests/conftest.py ``site_build``): no source map, no ``sourceMappingURL`` comment,
every figure and every theme asset referenced.

The reference check is written here from the HTML alone (tests/sitebuild.py's parser and URL
resolution), independently of the build: a figure file that no page shows (``<img src>``,
``<picture><source srcset>`` or ``<a href>``) fails, whatever made it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import sitebuild
from generator.pipeline.prune import lunr_needed, prune, search_languages

WORKER_JS = b"x=`${e}/min/lunr.stemmer.support.min.js`;y=`${e}/min/lunr.multi.min.js`;\n"
LUNR_FILES = (
    "min/lunr.stemmer.support.min.js",
    "min/lunr.multi.min.js",
    "min/lunr.ko.min.js",
    "min/lunr.ja.min.js",
    "min/lunr.de.min.js",
    "tinyseg.js",
    "wordcut.js",
)


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _theme_tree(root: Path, langs=("ko", "en"), worker: bytes = WORKER_JS) -> Path:
    """A public tree shaped like Material's output, with maps, map comments and every lunr file."""
    js = root / "assets" / "javascripts"
    _write(js / "bundle.1.min.js", b"var a=1;\n//# sourceMappingURL=bundle.1.min.js.map\n\n")
    _write(js / "bundle.1.min.js.map", b"{}" * 500)
    _write(js / "workers" / "search.2.min.js", worker + b"//# sourceMappingURL=search.2.min.js.map\n")
    _write(js / "workers" / "search.2.min.js.map", b"{}" * 300)
    _write(root / "assets" / "stylesheets" / "main.3.min.css", b"a{b:c}\n/*# sourceMappingURL=main.3.min.css.map */")
    _write(root / "assets" / "stylesheets" / "main.3.min.css.map", b"{}" * 40)
    _write(root / "assets" / "initlab.css", b"p{margin:0}\n")
    for name in LUNR_FILES:
        _write(js / "lunr" / name, name.encode() * 10)
    if langs is not None:
        _write(
            root / "search" / "search_index.json", json.dumps({"config": {"lang": list(langs)}, "docs": []}).encode()
        )
    _write(root / "index.html", b"<html></html>")
    return root


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(
    ("langs", "want"),
    [
        (["en"], {"min/lunr.stemmer.support.min.js"}),
        (["ko", "en"], {"min/lunr.stemmer.support.min.js", "min/lunr.ko.min.js", "min/lunr.multi.min.js"}),
        (
            ["ja", "en"],
            {"min/lunr.stemmer.support.min.js", "min/lunr.ja.min.js", "min/lunr.multi.min.js", "tinyseg.js"},
        ),
        (["th"], {"min/lunr.stemmer.support.min.js", "min/lunr.th.min.js", "wordcut.js"}),
    ],
)
def test_lunr_needed_follows_the_search_worker(langs, want):
    assert lunr_needed(langs) == want


def test_prune_removes_maps_comments_and_unused_lunr(tmp_path):
    root = _theme_tree(tmp_path / "public")
    before = _files(root)
    res = prune(root)
    after = _files(root)
    assert not [f for f in after if f.endswith(".map")]
    assert not [f for f, data in after.items() if b"sourceMappingURL" in data]
    lunr = {f.removeprefix("assets/javascripts/lunr/") for f in after if "/lunr/" in f}
    assert lunr == {"min/lunr.stemmer.support.min.js", "min/lunr.ko.min.js", "min/lunr.multi.min.js"}
    # the code before the comment is intact; everything else is untouched
    assert after["assets/javascripts/bundle.1.min.js"] == b"var a=1;\n"
    assert after["assets/stylesheets/main.3.min.css"] == b"a{b:c}\n"
    assert after["assets/javascripts/workers/search.2.min.js"] == WORKER_JS
    for name in ("assets/initlab.css", "index.html", "search/search_index.json"):
        assert after[name] == before[name]
    assert res.removed == sorted(set(before) - set(after))
    assert res.bytes_saved == sum(map(len, before.values())) - sum(map(len, after.values()))
    assert prune(root).removed == [] and _files(root) == after  # a second run changes nothing


@pytest.mark.parametrize("case", ["no index", "index without languages", "worker loads differently"])
def test_lunr_is_kept_when_its_use_cannot_be_judged(tmp_path, case):
    root = _theme_tree(
        tmp_path / "public",
        langs=None if case == "no index" else ("ko", "en"),
        worker=b"importScripts(`${e}/other.js`);\n" if case == "worker loads differently" else WORKER_JS,
    )
    if case == "index without languages":
        _write(root / "search" / "search_index.json", b'{"config": {}, "docs": []}')
    prune(root)
    lunr = {f.removeprefix("assets/javascripts/lunr/") for f in _files(root) if "/lunr/" in f}
    assert lunr == set(LUNR_FILES)
    assert not [f for f in _files(root) if f.endswith(".map")]  # maps go in every case


def test_search_languages_is_the_union_over_every_index(tmp_path):
    _write(tmp_path / "search" / "search_index.json", b'{"config": {"lang": ["ko"]}}')
    _write(tmp_path / "en" / "search" / "search_index.json", b'{"config": {"lang": "en"}}')
    assert search_languages(tmp_path) == ["en", "ko"]


def test_files_published_from_docs_are_never_pruned(tmp_path):
    root = _theme_tree(tmp_path / "public")
    docs = tmp_path / "docs"
    _write(docs / "assets" / "javascripts" / "bundle.1.min.js.map", b"ours")
    _write(docs / "assets" / "javascripts" / "lunr" / "wordcut.js", b"ours")
    _write(docs / "assets" / "stylesheets" / "main.3.min.css", b"ours")
    prune(root, docs)
    after = _files(root)
    assert "assets/javascripts/bundle.1.min.js.map" in after
    assert "assets/javascripts/lunr/wordcut.js" in after
    assert after["assets/stylesheets/main.3.min.css"].endswith(b"sourceMappingURL=main.3.min.css.map */")
    assert "assets/javascripts/workers/search.2.min.js.map" not in after


# ------------------------------------------------------------------------------------------------
# the built site

_CSS_URL_RE = re.compile(r"""url\(\s*["']?([^"')]+)["']?\s*\)""")
_CONFIG_RE = re.compile(r'<script id="__config" type="application/json">(.*?)</script>', re.S)


@pytest.fixture(scope="module")
def referenced(site_build) -> set[Path]:
    """Every file of the built tree that some HTML page names: ``<img src>``, ``<source srcset>``,
    ``<a href>``, ``<link href>``, ``<script src>``, the search worker of Material's ``__config``, and the
    ``url(...)`` of every stylesheet so named."""
    public = site_build.public_dir
    out: set[Path] = set()
    for page in sitebuild.html_files(public):
        rel = page.relative_to(public).as_posix()
        model = sitebuild.parse(page)
        refs = [e.attrs.get("src") for e in model.find("img") + model.find("script")]
        refs += [e.attrs.get("href") for e in model.find("a") + model.find("link")]
        refs += [
            c.strip().split(" ")[0] for e in model.find("source") for c in (e.attrs.get("srcset") or "").split(",")
        ]
        config = _CONFIG_RE.search(page.read_text("utf-8"))
        if config:
            refs.append(json.loads(config.group(1)).get("search"))
        for ref in filter(None, refs):
            target, _ = sitebuild.url_to_file(public, site_build.prefix_path, ref, rel)
            if target is not None and target.is_file():
                out.add(target.resolve())
    # A stylesheet's url(...) (the math font of assets/mathfont.css) is used wherever the sheet is.
    for sheet in [p for p in out if p.suffix == ".css"]:
        for ref in _CSS_URL_RE.findall(sheet.read_text("utf-8")):
            target = (sheet.parent / ref.split("#")[0].split("?")[0]).resolve()
            if not ref.startswith(("data:", "http:", "https:", "/")) and target.is_file():
                out.add(target)
    assert out, "no page references any file"
    return out


def test_no_source_maps_are_shipped(site_build):
    public = site_build.public_dir
    maps = [p.relative_to(public).as_posix() for p in public.rglob("*.map")]
    assert not maps, f"source maps in the built site: {maps}"
    comments = [
        p.relative_to(public).as_posix()
        for p in sorted(public.rglob("*"))
        if p.suffix in (".js", ".css") and b"sourceMappingURL" in p.read_bytes()
    ]
    assert not comments, f"files still pointing at a source map: {comments}"


def test_every_figure_is_shown_by_some_page(site_build, referenced):
    public = site_build.public_dir
    figures = [p for p in sorted(public.rglob("*")) if p.is_file() and "figures" in p.relative_to(public).parts]
    assert figures, "the built site has no figures"
    unused = [p.relative_to(public).as_posix() for p in figures if p.resolve() not in referenced]
    assert not unused, f"{len(unused)} figure files no page shows (stop making them or show them): {unused}"


def test_every_asset_is_used(site_build, referenced):
    """Every file under assets/ is named by a page, or is a lunr file the search worker loads for the
    languages of the search index (the browser tests' search checks that it does, without failed requests)."""
    public = site_build.public_dir
    lunr_dir = public / "assets" / "javascripts" / "lunr"
    langs = search_languages(public)
    assert langs, "the search index names no languages"
    lunr = {(lunr_dir / name).resolve() for name in lunr_needed(langs)}
    assert all(p.is_file() for p in lunr), "a lunr file the search worker loads is missing"
    unused = [
        p.relative_to(public).as_posix()
        for p in sorted((public / "assets").rglob("*"))
        if p.is_file() and p.resolve() not in referenced | lunr
    ]
    assert not unused, f"assets no page uses: {unused}"
