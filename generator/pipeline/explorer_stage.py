"""Writes the explorer's JSON documents under ``<docs_dir>/data/explorer/`` (part of the render stage).

:func:`write_explorer` writes exactly the bytes of generator/pages/explorer_data.py ``documents`` (the
explorer page's context reports their sizes from the same dict), each only when its bytes changed, so a
rebuild from unchanged data rewrites nothing and reports every file as unchanged (the documents are a
pure function of the CSVs: a cached build is byte-identical). The docs manifest's ``explorer`` stage
lists the files; a file an earlier run listed and this one does not make (a configuration removed from
the grid) is deleted, and nothing the manifest does not list is ever touched
(generator/pipeline/outputs.py).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from generator.common import atomic
from generator.pages.explorer_data import DIR, documents
from generator.pipeline.outputs import Manifest

STAGE = "explorer"  # the docs manifest's stage name


@dataclass
class ExplorerStats:
    total: int = 0
    unchanged: int = 0
    written: int = 0
    removed: int = 0


def explorer_dir(docs_dir: Path) -> Path:
    return Path(docs_dir) / "data" / DIR


def write_explorer(data, docs_dir: Path, quiet: bool = False) -> ExplorerStats:
    """Write the documents of ``data`` (a Dataset) into ``<docs_dir>/data/explorer/``; see the module doc."""
    docs = documents(data)
    out = explorer_dir(docs_dir)
    out.mkdir(parents=True, exist_ok=True)
    stats = ExplorerStats(total=len(docs))
    paths = []
    for name, blob in docs.items():
        path = out / name
        paths.append(path)
        if path.is_file() and not path.is_symlink() and path.read_bytes() == blob:
            stats.unchanged += 1
            continue
        atomic.write_bytes(path, blob)
        stats.written += 1
    manifest = Manifest(Path(docs_dir))
    stats.removed = len(manifest.remove_stale(STAGE, paths))
    manifest.record(STAGE, paths)
    if not quiet:
        print(
            f"explorer: {stats.total} files, {stats.unchanged} unchanged, {stats.written} written, "
            f"{stats.removed} removed",
            file=sys.stderr,
        )
    return stats
