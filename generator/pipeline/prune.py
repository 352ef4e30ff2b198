"""Remove from a freshly built HTML tree the theme files no reader's browser ever loads.

Contract: :func:`prune` runs on the new tree right after ``mkdocs build`` (``build_site``), before it
is swapped into ``public/``, and deletes only copies the theme made: a file whose path also exists in
the published docs folder came from the project (``docs_dir``) and is never touched.

* **Source maps.** Material ships ``*.map`` next to its bundle, search worker and stylesheets
  (about 1.3 MB, the bundle's alone 1 MB) for debugging the theme's own sources. Every ``assets/**/*.map``
  is removed, and the trailing ``//# sourceMappingURL=...`` (``/*# ... */`` in CSS) comment of every
  ``assets/**/*.{js,css}`` is stripped, so a browser's developer tools do not request the missing file.
* **Unused lunr languages.** Material's search worker (9.x) loads, for the languages of the search
  index (``config.lang`` of ``search/search_index.json``): ``min/lunr.stemmer.support.min.js``,
  ``min/lunr.<lang>.min.js`` for every language but English, ``min/lunr.multi.min.js`` when there
  is more than one language, ``tinyseg.js`` for ``ja`` and ``wordcut.js`` for ``hi`` and ``th``
  (:func:`lunr_needed`). The other files of ``assets/javascripts/lunr/`` (about 1 MB, ``wordcut.js``
  alone 677 kB) are removed. Only when every search index names its languages and the worker still
  loads by that scheme (its text names ``lunr.stemmer.support.min.js`` and ``lunr.multi.min.js``);
  otherwise the lunr folder is left as it is.

Figures are not pruned here: a figure no page shows is a bug in the page or in the figure stage (which
paid to render it); tests/test_prune.py fails on it instead of the build hiding it.

Deterministic: the same tree in gives the same tree out. Returns what was removed (paths relative to
the tree, sorted) and the bytes saved.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

LUNR = "assets/javascripts/lunr"
WORKERS = "assets/javascripts/workers"
# A source-map comment at the end of a file (after the last line of code, trailing whitespace allowed).
_JS_MAP_RE = re.compile(rb"\n?//[#@] sourceMappingURL=[^\n]*\s*\Z")
_CSS_MAP_RE = re.compile(rb"\n?/\*[#@] sourceMappingURL=[^\n]*?\*/\s*\Z")


@dataclass
class Pruned:
    removed: list[str] = field(default_factory=list)  # tree-relative posix paths, sorted
    stripped: list[str] = field(default_factory=list)  # files whose sourceMappingURL comment was cut
    bytes_saved: int = 0


def lunr_needed(langs: list[str] | tuple[str, ...]) -> set[str]:
    """The files (relative to the lunr folder) Material's search worker loads for ``langs``."""
    need = {"min/lunr.stemmer.support.min.js"}
    for lang in langs:
        if lang == "ja":
            need.add("tinyseg.js")
        if lang in ("hi", "th"):
            need.add("wordcut.js")
        if lang != "en":
            need.add(f"min/lunr.{lang}.min.js")
    if len(langs) > 1:
        need.add("min/lunr.multi.min.js")
    return need


def search_languages(out_dir: Path) -> list[str] | None:
    """Union of ``config.lang`` over every search index of the tree (sorted); None when there is no
    index or one does not name its languages (then nothing of lunr can be judged unused)."""
    langs: set[str] = set()
    indexes = sorted(out_dir.rglob("search/search_index.json"))
    for index in indexes:
        try:
            lang = json.loads(index.read_text("utf-8"))["config"]["lang"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if isinstance(lang, str):
            lang = [lang]
        if not isinstance(lang, list) or not all(isinstance(x, str) for x in lang):
            return None
        langs.update(lang)
    return sorted(langs) if indexes and langs else None


def _worker_loads_by_scheme(out_dir: Path) -> bool:
    """Material's search worker still loads lunr files by the scheme :func:`lunr_needed` mirrors."""
    texts = [w.read_bytes() for w in sorted((out_dir / WORKERS).glob("search.*.js"))]
    return bool(texts) and all(b"lunr.stemmer.support.min.js" in t and b"lunr.multi.min.js" in t for t in texts)


def prune(out_dir: Path, docs_dir: Path | None = None) -> Pruned:
    """Remove source maps and unused lunr files from ``out_dir`` (see the module docstring); a path
    that exists in ``docs_dir`` (the published docs) is the project's and is kept."""
    out_dir = Path(out_dir)
    res = Pruned()

    def theirs(path: Path) -> bool:
        return docs_dir is None or not (Path(docs_dir) / path.relative_to(out_dir)).exists()

    doomed = [p for p in (out_dir / "assets").rglob("*.map") if p.is_file() and theirs(p)]
    langs = search_languages(out_dir)
    if langs is not None and (out_dir / LUNR).is_dir() and _worker_loads_by_scheme(out_dir):
        keep = lunr_needed(langs)
        doomed += [
            p
            for p in (out_dir / LUNR).rglob("*")
            if p.is_file() and theirs(p) and p.relative_to(out_dir / LUNR).as_posix() not in keep
        ]
    for path in sorted(set(doomed)):
        res.bytes_saved += path.stat().st_size
        res.removed.append(path.relative_to(out_dir).as_posix())
        path.unlink()
    for path in sorted((out_dir / "assets").rglob("*")):
        if path.suffix not in (".js", ".css") or not path.is_file() or not theirs(path):
            continue
        data = path.read_bytes()
        cut = (_JS_MAP_RE if path.suffix == ".js" else _CSS_MAP_RE).sub(b"\n", data, count=1)
        if cut != data:
            path.write_bytes(cut)
            res.bytes_saved += len(data) - len(cut)
            res.stripped.append(path.relative_to(out_dir).as_posix())
    return res
