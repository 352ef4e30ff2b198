"""The HTML build's side of the file system: the atomic swap into ``public/``, locks, debris, staged docs.

Contract (used by :func:`generator.pipeline.build.build_site`): :func:`swap_in` makes a finished tree the
content of ``public/`` (one ``renameat2(RENAME_EXCHANGE)`` on Linux via :func:`exchange`; elsewhere
rename-aside / rename-in / delete-old, the old tree restored if the rename-in fails); :func:`locked` holds an
``flock`` on every folder a build writes temporary files into; :func:`sweep_debris` removes what a killed
build left (only ``.public-*`` folders carrying the build's marker, or empty, and its transient configs);
:func:`marked_tmpdir` makes such a folder, marked at once; :func:`stage_docs` links the files the docs
manifest lists into one, so only what the build made is published.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from generator.pipeline.outputs import MANIFEST, MARKER, Manifest, write_marker

TMP_PREFIX = ".public-"

_libc = None


def exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE). False if unsupported."""
    global _libc
    if not sys.platform.startswith("linux"):
        return False
    try:
        if _libc is None:
            _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = _libc.renameat2
    except (OSError, AttributeError):
        return False
    AT_FDCWD, RENAME_EXCHANGE = -100, 2
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EPERM):
        return False
    raise OSError(err, f"renameat2({a}, {b}): {os.strerror(err)}")


def swap_in(new: Path, public: Path) -> None:
    """Make ``new`` the content of ``public``; the previous ``public`` is deleted afterwards."""
    if not public.exists():
        new.rename(public)
        return
    if exchange(new, public):  # `new` now holds the old site
        shutil.rmtree(new, ignore_errors=True)
        return
    old = Path(tempfile.mkdtemp(prefix=TMP_PREFIX + "old-", dir=public.parent))
    old.rmdir()
    public.rename(old)
    try:
        new.rename(public)
    except BaseException:
        old.rename(public)
        raise
    shutil.rmtree(old, ignore_errors=True)


@contextmanager
def locked(*directories: Path) -> Iterator[None]:
    """flock every directory (in path order: no deadlock between two builds)."""
    fds = []
    try:
        for directory in sorted(set(directories)):
            fds.append(os.open(directory, os.O_RDONLY))
            fcntl.flock(fds[-1], fcntl.LOCK_EX)
        yield
    finally:
        for fd in fds:
            os.close(fd)  # releases its flock


def sweep_debris(*dirs: Path) -> None:
    """Remove what a killed build left: only ``.public-*`` folders carrying the build's marker (or
    empty ones, killed before the marker was written) and its own transient configs."""
    for parent in dict.fromkeys(dirs):
        for p in parent.glob(TMP_PREFIX + "*"):
            if p.is_symlink():
                continue
            if p.is_dir() and ((p / MARKER).is_file() or not any(p.iterdir())):
                shutil.rmtree(p, ignore_errors=True)
            elif (
                p.is_file()
                and p.name.endswith(".mkdocs.yml")
                and p.read_text("utf-8", "replace").startswith("INHERIT: ")
            ):
                p.unlink(missing_ok=True)


def marked_tmpdir(parent: Path, prefix: str, role: str) -> Path:
    """A fresh folder, marked at once as the build's own (so only the build's debris is swept)."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    write_marker(tmp, role)
    return tmp


def stage_docs(docs_dir: Path, parent: Path) -> Path | None:
    """A folder of hard links (copies across file systems) to the files the docs manifest lists, so
    the HTML build publishes only what the build made; None when ``docs_dir`` has no manifest (a
    hand-made docs folder given to ``build_site`` directly is published as it is)."""
    if not (docs_dir / MANIFEST).is_file():
        return None
    stage = marked_tmpdir(parent, TMP_PREFIX + "docs-", "docs_dir")
    for name in Manifest(docs_dir).files():
        src, dst = docs_dir / name, stage / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)
    return stage
