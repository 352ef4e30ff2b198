"""The one way the package hashes content: SHA-256, hex digests, file contents never mtimes.

It also holds the one integrity scheme every stored artefact uses (cache entries, figure files, stage
manifests, compiled templates): the payload files are written first, then a JSON *sidecar*
``{"files": {relative name: sha256}, ...key inputs}`` is written last (atomically). A reader trusts a
payload only through :func:`verify_sidecar`: no sidecar, an unreadable one, or a file that no longer
hashes to its record is a miss -- so an interrupted write (no sidecar yet) and a damaged or edited
file are never used.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path

from generator.common import atomic


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_parts(parts: Iterable[bytes]) -> str:
    """Hex SHA-256 of the concatenated ``parts`` (fed one at a time: for digests over many files;
    callers separate their parts with a NUL or a length so that boundaries are part of the digest)."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part)
    return h.hexdigest()


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's content, read in 1 MiB chunks."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def write_sidecar(sidecar: str | os.PathLike, base: str | os.PathLike, names, **meta) -> dict:
    """Hash each of ``names`` (paths relative to ``base``, all complete) and write the sidecar; call
    it last. Returns what was written."""
    base = Path(base)
    record = {**meta, "files": {n: sha256_file(base / n) for n in sorted(names)}}
    atomic.write_text(sidecar, json.dumps(record, indent=1, sort_keys=True, allow_nan=False))
    return record


def verify_sidecar(sidecar: str | os.PathLike, base: str | os.PathLike, names=None) -> dict | None:
    """The sidecar's record when it parses and every file it lists (relative to ``base``) still hashes
    to its entry -- and, if ``names`` is given, it lists exactly those; otherwise None."""
    base = Path(base)
    try:
        record = json.loads(Path(sidecar).read_text())
        files = record["files"]
        if names is not None and set(files) != set(names):
            return None
        if all(sha256_file(base / n) == h for n, h in files.items()):
            return record
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    return None
