"""Rewrites of a freshly built HTML tree, before generator/pipeline/build.py swaps it into ``public/``.

:func:`postprocess` (one call per build, on the temporary tree):

* every ``*.gz`` is re-compressed with a fixed header (the build's ``SOURCE_DATE_EPOCH`` as mtime, no
  file name), so two builds of the same inputs are byte-identical;
* the root ``sitemap.xml``/``.gz`` is copied into each other language root: Material's language
  selector fetches ``<language root>/sitemap.xml`` to map the current page to its translation, and
  static-i18n writes only the root one (which lists every page with its hreflang alternates), so
  ``en/sitemap.xml`` would 404 on every page view;
* the one search index becomes one index per language (generator/pipeline/search_split.py).
"""

from __future__ import annotations

import gzip
import io
import shutil
from pathlib import Path

from generator.pipeline.search_split import split_search_index


def normalize_gzip(path: Path, mtime: int) -> None:
    """Re-compress ``path`` with a fixed header (mtime, no file name) so it is reproducible."""
    data = gzip.decompress(path.read_bytes())
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=mtime, compresslevel=9) as gz:
        gz.write(data)
    path.write_bytes(buf.getvalue())


def postprocess(out_dir: Path, epoch: int, languages: tuple[str, ...]) -> None:
    """Apply the rewrites of the module docstring to ``out_dir``; ``languages[0]`` is the root's."""
    for gz in sorted(out_dir.rglob("*.gz")):
        normalize_gzip(gz, epoch)
    for lang in languages[1:]:
        lang_root = out_dir / lang
        if (lang_root / "index.html").is_file():
            for name in ("sitemap.xml", "sitemap.xml.gz"):
                if (out_dir / name).is_file() and not (lang_root / name).exists():
                    shutil.copyfile(out_dir / name, lang_root / name)
    split_search_index(out_dir, languages)
