"""Page weight of a built site: what a reader downloads, read from the files of a public dir.

:func:`weigh` walks ``public_dir`` (names starting with ``.``, the build's marker, are not served and
are left out) and returns a :class:`Weight`:

parts       files and bytes per part of the tree: ``en`` is everything under ``en/``; ``shared`` the
            top-level ``assets/``, ``search/``, ``data/`` and ``sitemap.xml[.gz]`` (both languages load or
            link them); ``ko`` everything else (the Korean pages at the root, ``404.html``, ``figures/``).
            ``total`` is their sum, i.e. every file of the tree.
pages       per HTML file: its bytes, ``images`` (every distinct local file an ``<img src>`` names: what a
            wide screen loads; a phone's ``<picture><source>`` variant would replace one of them) and
            ``styles_scripts`` (the ``<link rel=stylesheet>`` and ``<script src>`` files, cached after
            the first page). ``page`` = HTML + images; ``first_visit`` = page + styles and scripts.
            References are resolved relative to the page; absolute and external URLs are not counted.

:func:`numbers` gives the flat keys ``make bench`` stores (bench/results.json, bench/compare.json);
:func:`table` the Markdown table it prints. ``python -m generator.pipeline.bench_weight PUBLIC_DIR``
prints the table for any built tree.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

PARTS = ("ko", "en", "shared")
SHARED = frozenset({"assets", "search", "data", "sitemap.xml", "sitemap.xml.gz"})


@dataclass
class Page:
    path: str  # tree-relative posix path of the HTML file
    lang: str  # "en" under en/, else "ko"
    html_bytes: int
    image_bytes: int = 0
    styles_scripts_bytes: int = 0
    images: list[str] = field(default_factory=list)

    @property
    def page_bytes(self) -> int:
        return self.html_bytes + self.image_bytes

    @property
    def first_visit_bytes(self) -> int:
        return self.page_bytes + self.styles_scripts_bytes


@dataclass
class Weight:
    parts: dict[str, tuple[int, int]]  # part -> (files, bytes)
    pages: list[Page]

    @property
    def total(self) -> tuple[int, int]:
        return sum(f for f, _ in self.parts.values()), sum(b for _, b in self.parts.values())

    def largest(self, lang: str | None = None) -> Page | None:
        """The heaviest page (HTML + images) of ``lang`` (any language when None); ties: first path."""
        pages = [p for p in self.pages if lang is None or p.lang == lang]
        return max(sorted(pages, key=lambda p: p.path), key=lambda p: p.page_bytes, default=None)


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.images: list[str] = []
        self.styles_scripts: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img" and a.get("src"):
            self.images.append(a["src"])
        elif tag == "script" and a.get("src"):
            self.styles_scripts.append(a["src"])
        elif tag == "link" and "stylesheet" in (a.get("rel") or "").split() and a.get("href"):
            self.styles_scripts.append(a["href"])


def _local(public: Path, page_rel: str, ref: str) -> Path | None:
    """The file a relative ``ref`` on ``page_rel`` names, None for absolute/external refs or outside files."""
    parts = urlsplit(ref)
    if parts.scheme or parts.netloc or not parts.path or parts.path.startswith("/"):
        return None
    target = (public / page_rel).parent / unquote(parts.path)
    try:
        target = target.resolve()
        target.relative_to(public.resolve())
    except (OSError, ValueError):
        return None
    return target if target.is_file() else None


def _size(files: set[Path]) -> int:
    return sum(f.stat().st_size for f in files)


def part_of(rel: str) -> str:
    top = rel.split("/", 1)[0]
    return "en" if top == "en" else "shared" if top in SHARED else "ko"


def weigh(public_dir: Path) -> Weight:
    public = Path(public_dir)
    parts = {p: [0, 0] for p in PARTS}
    pages = []
    for path in sorted(public.rglob("*")):
        rel = path.relative_to(public).as_posix()
        if not path.is_file() or any(s.startswith(".") for s in rel.split("/")):
            continue
        size = path.stat().st_size
        parts[part_of(rel)][0] += 1
        parts[part_of(rel)][1] += size
        if path.suffix != ".html":
            continue
        refs = _Refs()
        refs.feed(path.read_text("utf-8", "replace"))
        images = {f for f in (_local(public, rel, r) for r in refs.images) if f}
        styles_scripts = {f for f in (_local(public, rel, r) for r in refs.styles_scripts) if f}
        pages.append(
            Page(
                rel,
                "en" if rel.startswith("en/") else "ko",
                size,
                _size(images),
                _size(styles_scripts),
                sorted(f.relative_to(public.resolve()).as_posix() for f in images),
            )
        )
    return Weight({p: (f, b) for p, (f, b) in parts.items()}, pages)


def numbers(w: Weight) -> dict[str, int | None]:
    """Flat keys for results.json / compare.json (bytes; None when a language has no page)."""
    out: dict[str, int | None] = {f"weight_{p}_bytes": w.parts[p][1] for p in PARTS}
    out["weight_total_bytes"] = w.total[1]
    out["weight_total_files"] = w.total[0]
    for lang in ("ko", "en"):
        page = w.largest(lang)
        out[f"weight_largest_page_{lang}_bytes"] = page.page_bytes if page else None
    return out


def table(w: Weight, title: str = "") -> str:
    """Markdown: bytes per part, then the largest page of each language."""
    labels = {
        "ko": "ko (pages at the root, 404, figures/)",
        "en": "en (en/)",
        "shared": "shared (assets/, data/, search/, sitemap)",
    }
    rows = [f"**Page weight{' — ' + title if title else ''}**", "", "| part | files | bytes |", "|---|---:|---:|"]
    rows += [f"| {labels[p]} | {w.parts[p][0]:,} | {w.parts[p][1]:,} |" for p in PARTS]
    rows.append(f"| total | {w.total[0]:,} | {w.total[1]:,} |")
    rows += [
        "",
        "| largest page | HTML | images | HTML + images | first visit (+ CSS, JS) |",
        "|---|---:|---:|---:|---:|",
    ]
    for lang in ("ko", "en"):
        p = w.largest(lang)
        if p is not None:
            rows.append(
                f"| {lang}: {p.path} ({len(p.images)} images) | {p.html_bytes:,} | {p.image_bytes:,} | "
                f"{p.page_bytes:,} | {p.first_visit_bytes:,} |"
            )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not Path(args[0]).is_dir():
        print("usage: python -m generator.pipeline.bench_weight PUBLIC_DIR", file=sys.stderr)
        return 2
    print(table(weigh(Path(args[0])), args[0]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
