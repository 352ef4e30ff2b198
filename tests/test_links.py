"""A crawl of the built HTML: every internal href/src resolves to a file of the built tree (CSV
downloads included) and every ``#anchor`` exists as an id in its target page. External links in
``<a href>`` are ignored, but nothing the browser loads by itself (script, stylesheet, icon, image,
font) may come from another host: the site must work offline.

Uses the session's shared build (tests/conftest.py ``site_build``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import sitebuild
from sitebuild import parse, url_to_file

# attributes that hold a URL, per tag
URL_ATTRS = {
    "a": ("href",),
    "link": ("href",),
    "script": ("src",),
    "img": ("src",),
    "source": ("src",),
    "iframe": ("src",),
    "video": ("src", "poster"),
    "audio": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "form": ("action",),
    "use": ("href", "xlink:href"),
    "image": ("href",),
}
SKIP_SCHEMES = ("mailto:", "tel:", "javascript:", "data:", "blob:")


@dataclass
class Link:
    page: str  # tree-relative file of the page holding the link
    line: int
    tag: str
    attr: str
    url: str
    rel: str = ""


def collect_links(public: Path) -> list[Link]:
    links = []
    for f in sitebuild.html_files(public):
        rel = f.relative_to(public).as_posix()
        for el in parse(f).elements:
            for attr in URL_ATTRS.get(el.tag, ()):
                url = el.attrs.get(attr)
                if url is None:
                    continue
                links.append(Link(rel, el.line, el.tag, attr, url.strip(), el.attrs.get("rel", "")))
    return links


def classify(link: Link, site_url: str) -> str:
    """``internal`` / ``external`` / ``skip``."""
    url = link.url
    if not url or url.lower().startswith(SKIP_SCHEMES):
        return "skip"
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") or url.startswith("//"):
        site = urlsplit(site_url)
        if parts.netloc == site.netloc and parts.path.startswith(site.path):
            return "internal"
        return "external"
    if parts.scheme:
        return "external"
    return "internal"


@pytest.fixture(scope="module")
def crawl(site_build):
    public = site_build.public_dir
    links = collect_links(public)
    assert links, "no links at all in the built site"
    return public, links


# The explorer keeps its view in the URL hash (site/assets/explorer/explorer.js):
# #init=..&activation=..&norm=..&seed=..[&vs=init,activation,norm,seed]
EXPLORER_STATE_KEYS = ("init", "activation", "norm", "seed", "vs")


def explorer_state(frag: str) -> dict | None:
    """The explorer state a fragment encodes, or None when it is an ordinary #anchor."""
    pairs = [part.partition("=") for part in frag.split("&")]
    if not all(sep and key in EXPLORER_STATE_KEYS for key, sep, _ in pairs):
        return None
    return {key: value for key, _, value in pairs}


def explorer_state_problems(state: dict, target: Path, public: Path) -> list[str]:
    """A state link must point at a page with the explorer and name values of the grid's axes."""
    if "explorer" not in parse(target).ids:
        return [f"explorer state on a page without the explorer ({target.relative_to(public)})"]
    axes = json.loads((public / "data" / "explorer" / "index.json").read_text("utf-8"))["axes"]
    seeds = {str(s) for s in axes["seed"]} | {"all"}
    valid = {"init": set(axes["init"]), "activation": set(axes["activation"]), "norm": set(axes["norm"]), "seed": seeds}
    problems = [f"{key}={state.get(key)!r} is not on the grid" for key in valid if state.get(key) not in valid[key]]
    if "vs" in state:
        parts = state["vs"].split(",")
        if len(parts) != 4 or any(v not in valid[k] for k, v in zip(valid, parts, strict=False)):
            problems.append(f"vs={state['vs']!r} is not init,activation,norm,seed of the grid")
    return problems


def test_explorer_state_is_told_from_an_anchor():
    assert explorer_state("init=he&activation=relu&norm=bn&seed=all") == {
        "init": "he",
        "activation": "relu",
        "norm": "bn",
        "seed": "all",
    }
    assert explorer_state("how-to-read") is None
    assert explorer_state("init=he&section=2") is None  # an unknown key: an anchor, checked as one


def test_internal_links_resolve(site_build, crawl):
    public, links = crawl
    site_path = site_build.prefix_path
    problems, checked, anchors, csv = [], 0, 0, 0
    for link in links:
        if classify(link, site_build.site_url) != "internal":
            continue
        url = link.url
        if url.startswith("http"):
            url = urlsplit(url).path + (f"#{urlsplit(url).fragment}" if urlsplit(url).fragment else "")
        target, frag = url_to_file(public, site_path, url, link.page)
        checked += 1
        where = f"{link.page}:{link.line} <{link.tag} {link.attr}={link.url!r}>"
        if target is None or not target.is_file():
            problems.append(f"{where}: no file {target}")
            continue
        if target.suffix == ".csv":
            csv += 1
        if frag and target.suffix == ".html":
            anchors += 1
            state = explorer_state(frag)
            if state is not None:  # not an anchor: a view of the explorer (its URL state)
                problems += [f"{where}: {p}" for p in explorer_state_problems(state, target, public)]
            elif frag not in parse(target).ids:
                problems.append(f"{where}: no id {frag!r} in {target.relative_to(public)}")
    print(
        f"\n[links] {checked} internal href/src checked ({anchors} with #anchors, {csv} CSV downloads) "
        f"in {len({lk.page for lk in links})} HTML files"
    )
    assert not problems, f"{len(problems)} broken internal links:\n" + "\n".join(problems[:50])
    assert checked > 0
    assert anchors > 0, "no #anchor links found: the anchor check checked nothing"


def test_csv_downloads_resolve_to_data_files(site_build, crawl):
    """Every CSV link (``.initlab-csv``) points at a file under ``data/`` holding a header row."""
    public, links = crawl
    csv_links = [lk for lk in links if lk.tag == "a" and urlsplit(lk.url).path.endswith(".csv")]
    if not csv_links:
        pytest.skip("no page links a CSV yet")
    for lk in csv_links:
        target, _ = url_to_file(public, site_build.prefix_path, lk.url, lk.page)
        assert target is not None and target.is_file(), f"{lk.page}: {lk.url}"
        assert target.parent.name == "data", f"{lk.page}: {lk.url} is not under data/"
        head = target.read_text("utf-8").splitlines()[0]
        assert "," in head, f"{target}: no CSV header"


def test_no_resources_from_other_hosts(site_build, crawl):
    """No <script src>, <link href> (stylesheets, icons, preloads), <img>/<source> or iframes from
    another host: CDNs and web fonts would break the offline site."""
    _, links = crawl
    bad = [
        f"{lk.page}:{lk.line} <{lk.tag} {lk.attr}={lk.url!r}>"
        for lk in links
        if lk.tag != "a" and classify(lk, site_build.site_url) == "external"
    ]
    assert not bad, "resources from other hosts:\n" + "\n".join(bad)


def test_no_external_urls_in_css_and_js(site_build):
    """Stylesheets (all) and the site's own scripts import nothing from other hosts (``@import``,
    ``url(https://...)``, fonts.googleapis, CDNs). Material's bundle (assets/javascripts/) is not
    scanned: it names unpkg.com for a ResizeObserver polyfill and for mermaid, fetched only in
    browsers without ResizeObserver or on pages with a mermaid diagram (neither applies); the
    browser test asserts that no page requests anything from another host."""
    import re

    public = site_build.public_dir
    bad = []
    pattern = re.compile(
        r"(@import\s+(url\()?['\"]?https?://|url\(\s*['\"]?https?://|fonts\.googleapis|"
        r"fonts\.gstatic|cdn\.jsdelivr|unpkg\.com|cdnjs\.cloudflare)"
    )
    own_js = [p for p in (public / "assets").rglob("*.js") if "javascripts" not in p.relative_to(public).parts]
    assert own_js, "the site's own script (assets/initlab.js) is missing"
    for f in list(public.rglob("*.css")) + own_js:
        text = f.read_text("utf-8", "replace")
        for m in pattern.finditer(text):
            bad.append(f"{f.relative_to(public)}: {text[max(0, m.start() - 40) : m.end() + 60]!r}")
    assert not bad, "\n".join(bad[:20])


def test_language_switcher_links_to_the_same_page(site_build):
    """Static check of Material's language selector (the browser test clicks it)."""
    public = site_build.public_dir
    problems = []
    for page in sitebuild.page_names():
        for lang in sitebuild.LANGS:
            other = "en" if lang == "ko" else "ko"
            f = sitebuild.page_file(public, page, lang)
            rel = f.relative_to(public).as_posix()
            links = [
                e
                for e in parse(f).find("a")
                if "md-select__link" in e.attrs.get("class", "") and e.attrs.get("hreflang") == other
            ]
            if len(links) != 1:
                problems.append(f"{rel}: {len(links)} selector links to {other}")
                continue
            target, _ = url_to_file(public, site_build.prefix_path, links[0].attrs["href"], rel)
            want = sitebuild.page_file(public, page, other)
            if target != want:
                problems.append(f"{rel}: {other} link {links[0].attrs['href']!r} -> {target}, want {want}")
    assert not problems, "\n".join(problems)


def test_sitemap_lists_existing_pages(site_build):
    import re

    public = site_build.public_dir
    text = (public / "sitemap.xml").read_text("utf-8")
    locs = re.findall(r"<loc>([^<]+)</loc>", text) + re.findall(r'href="([^"]+)"', text)
    assert locs
    missing = []
    for loc in locs:
        target, _ = url_to_file(public, site_build.prefix_path, urlsplit(loc).path, "index.html")
        if target is None or not target.is_file():
            missing.append(loc)
    assert not missing, missing
