"""The one way this project writes a file: a unique temporary name beside it, then ``os.replace``.

Contract: a reader sees the old content or the new content, never a torn file, whatever runs at the
same time (two builds, a reader of the cache) and wherever the writer is stopped (Ctrl-C, SIGTERM,
kill -9: at worst a ``.<name>.*.tmp`` file is left beside the target, never the target half-written).
Temporary names come from :func:`tempfile.mkstemp`, so two writers never share one; a fixed name such
as ``x.tmp`` would let one writer rename the other's half-written file into place.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def open_atomic(path: str | os.PathLike, mode: str = "wb", encoding: str | None = None) -> Iterator:
    """Yield a file object; on normal exit its content replaces ``path`` in one rename.

    On an exception (KeyboardInterrupt included) the temporary file is removed and ``path`` is
    unchanged. The new file gets the usual permissions (``0o666 & ~umask``), not mkstemp's 0600.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, mode, encoding=encoding) as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with open_atomic(path, "wb") as fh:
        fh.write(data)


def write_text(path: str | os.PathLike, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def copy_file(src: str | os.PathLike, dst: str | os.PathLike) -> None:
    """Copy ``src`` to ``dst`` atomically (``dst`` never exists half-copied)."""
    with open(src, "rb") as fin, open_atomic(dst, "wb") as fout:
        shutil.copyfileobj(fin, fout, 1 << 20)
