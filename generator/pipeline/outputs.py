"""What the build owns, and the lock that lets one build at a time touch it.

Contract
--------
* :func:`check_outputs` runs before any stage writes anything. Each output directory of the config
  (``docs_dir``, ``public_dir``, ``cache_dir``), resolved with symlinks followed, must

  - not be the repository, an ancestor of it, a source path (:data:`SOURCES`: ``.git``,
    ``generator/``, ``templates/``, ``site/assets``, ...) or inside one, nor contain one;
  - not equal, contain or sit inside another output directory;
  - if it exists, be a directory that is empty, carries the build's marker file (:data:`MARKER`,
    written when the build creates or adopts it), or is one of the repository's default generated
    directories (:data:`DEFAULT_GENERATED`, git-ignored; adopted from builds older than the marker).

  Otherwise it raises :class:`~generator.config.load.ConfigError` (exit 2, one line) and nothing is touched.
* :class:`Manifest` (``<docs_dir>/.initlab-manifest.json``) lists, per stage, the files the build wrote
  under ``docs_dir``. A stage deletes a file only when its previous manifest listed it; the HTML build
  publishes only listed files, so a stray file dropped into ``docs_dir`` is neither deleted nor published.
* :func:`build_lock` holds an exclusive ``flock`` on ``<cache_dir>/.initlab.lock`` and
  ``<docs_dir>/.initlab.lock`` for the whole command; a second build waits (with a message naming the
  holder) or, with ``wait=False``, exits 2 saying who holds it. Under the lock, debris of an earlier
  crashed build (the scratch directory :func:`scratch_dir`, legacy ``.figures-*`` folders) is removed.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from generator.common import atomic
from generator.common.paths import ROOT
from generator.config.load import Config, ConfigError, resolve

MARKER = ".initlab-output"
MANIFEST = ".initlab-manifest.json"
LOCK = ".initlab.lock"
ROLES = ("docs_dir", "public_dir", "cache_dir")

# Source paths of the repository (relative to ROOT): no output may be, contain or sit inside one.
SOURCES = (
    ".git",
    ".github",
    ".ci",
    ".venv",
    "generator",
    "templates",
    "tests",
    "configs",
    "reference",
    "media",
    "notebooks",
    "site/assets",
    "site/overrides",
    "site/vendor-src",
    "site/mkdocs.yml",
    "README.md",
    "README.ko.md",
    "CONTRIBUTING.md",
    "Makefile",
    "pyproject.toml",
    "experiments.toml",
)
# The generated directories of the default config (git-ignored): adopted even without a marker.
DEFAULT_GENERATED = {"docs_dir": "site/docs", "public_dir": "site/public", "cache_dir": ".cache"}


def _real(p: str | os.PathLike) -> Path:
    return Path(os.path.realpath(p))


def _rel(p: Path) -> str:
    """``p`` as the user would write it: relative to the repository when inside it."""
    try:
        return p.relative_to(ROOT.resolve()).as_posix() or "."
    except ValueError:
        return str(p)


def _nested(a: Path, b: Path) -> bool:
    return a == b or a.is_relative_to(b) or b.is_relative_to(a)


def owned(path: Path, role: str) -> bool:
    """Does the existing directory ``path`` belong to the build (marker, default place, or empty)?"""
    if (path / MARKER).is_file() or path == _real(ROOT / DEFAULT_GENERATED[role]):
        return True
    return next(iter(os.scandir(path)), None) is None


def check_outputs(cfg: Config) -> dict[str, Path]:
    """Resolved output directories of ``cfg``, or ConfigError naming the field (see module doc)."""
    root = ROOT.resolve()
    dirs = {role: _real(resolve(getattr(cfg.output, role))) for role in ROLES}
    sources = [_real(ROOT / s) for s in SOURCES]
    hint = "choose a new or empty directory, or one under site/ like the defaults"
    # three passes, so the message names the worst problem first: sources, then overlaps, then owners
    for role, path in dirs.items():
        field = f"output.{role}"
        if root.is_relative_to(path):
            raise ConfigError(field, f"{_rel(path)} contains the repository; {hint}")
        for src in sources:
            if _nested(path, src):
                where = "is" if path == src else "is inside" if path.is_relative_to(src) else "contains"
                raise ConfigError(field, f"{_rel(path)} {where} the source path {_rel(src)}; {hint}")
    for role, path in dirs.items():
        for other, opath in dirs.items():
            if other != role and _nested(path, opath):
                raise ConfigError(
                    f"output.{role}",
                    f"{_rel(path)} overlaps output.{other} ({_rel(opath)}); "
                    "docs, public and cache must be separate directories",
                )
    for role, path in dirs.items():
        if path.exists() or path.is_symlink():
            if not path.is_dir():
                raise ConfigError(f"output.{role}", f"{_rel(path)} exists and is not a directory; {hint}")
            if not owned(path, role):
                raise ConfigError(
                    f"output.{role}",
                    f"{_rel(path)} is not empty and was not made by initlab (no {MARKER} file); {hint}",
                )
    return dirs


def claim(path: Path, role: str) -> Path:
    """Create ``path`` if needed and mark it as the build's own (call after :func:`check_outputs`)."""
    path.mkdir(parents=True, exist_ok=True)
    write_marker(path, role)
    return path


def write_marker(path: Path, role: str) -> None:
    marker = path / MARKER
    text = f"initlab {role}: generated by `python -m generator`; the build may replace what it made here.\n"
    if not marker.is_file() or marker.read_text("utf-8", "replace") != text:
        atomic.write_text(marker, text)


# ------------------------------------------------------------------------------------------------
# the manifest of generated files under docs_dir


class Manifest:
    """Per-stage lists of files (POSIX paths relative to ``docs_dir``) the build wrote there."""

    def __init__(self, docs_dir: Path):
        self.docs_dir = Path(docs_dir)
        self.path = self.docs_dir / MANIFEST
        try:
            raw = json.loads(self.path.read_text("utf-8"))
            self.stages = {str(k): sorted(str(f) for f in v) for k, v in raw["stages"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            self.stages = {}

    def _relative(self, f: str | Path) -> str:
        """A path under docs_dir (absolute or relative to it) as the manifest writes it."""
        p = Path(f)
        return (p.relative_to(self.docs_dir) if p.is_absolute() else p).as_posix()

    def listed(self, stage: str) -> set[str]:
        return set(self.stages.get(stage, ()))

    def files(self) -> list[str]:
        """Every listed file that exists, sorted (what the HTML build publishes)."""
        names = {f for fs in self.stages.values() for f in fs}
        return sorted(f for f in names if (self.docs_dir / f).is_file())

    def record(self, stage: str, files: Iterable[str | Path]) -> None:
        """Set ``stage``'s list to ``files`` (paths under docs_dir, absolute or relative)."""
        self.stages[stage] = sorted({self._relative(f) for f in files})
        write_marker(self.docs_dir, "docs_dir")
        atomic.write_text(self.path, json.dumps({"stages": self.stages}, indent=1, sort_keys=True) + "\n")

    def remove_stale(self, stage: str, keep: Iterable[str | Path]) -> list[str]:
        """Delete files ``stage`` listed before and does not make now; never anything unlisted."""
        keep_rel = {self._relative(k) for k in keep}
        removed = []
        for name in sorted(self.listed(stage) - keep_rel):
            target = self.docs_dir / name
            # a listed name never leaves docs_dir (a hand-edited manifest cannot point elsewhere)
            if _real(target).is_relative_to(_real(self.docs_dir)) and target.is_file() and not target.is_symlink():
                target.unlink()
                removed.append(name)
        return removed


# ------------------------------------------------------------------------------------------------
# the pipeline lock


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, 300, 0).decode("utf-8", "replace").strip()
    except OSError:
        text = ""
    return text or "another process"


@contextmanager
def _flock(path: Path, wait: bool, quiet: bool) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            who = _holder(fd)
            if not wait:
                raise ConfigError(
                    "lock", f"another build holds {_rel(path)} ({who}); wait for it to finish or stop it"
                ) from None
            if not quiet:
                print(f"waiting: another build holds {_rel(path)} ({who})", file=sys.stderr, flush=True)
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())
        os.pwrite(fd, f"pid {os.getpid()}, since {stamp}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)  # an idle lock file is empty: two builds leave identical trees
    finally:
        os.close(fd)  # closing the descriptor releases the flock (also when the process dies)


@contextmanager
def build_lock(cfg: Config, *, wait: bool = True, quiet: bool = False) -> Iterator[dict[str, Path]]:
    """Check and claim the output directories, lock them, sweep an earlier crash's debris.

    Yields the resolved output directories. Locks are taken in path order, so two builds sharing
    any output directory serialize and never deadlock.
    """
    dirs = check_outputs(cfg)
    claim(dirs["docs_dir"], "docs_dir")
    claim(dirs["cache_dir"], "cache_dir")
    dirs["public_dir"].parent.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        for d in sorted({dirs["docs_dir"], dirs["cache_dir"]}):
            stack.enter_context(_flock(d / LOCK, wait, quiet))
        sweep(dirs)
        yield dirs


def scratch_dir(cfg: Config) -> Path:
    """Where the build's temporary folders live (inside the cache; emptied at every start)."""
    return resolve(cfg.output.cache_dir) / "tmp"


def sweep(dirs: dict[str, Path]) -> None:
    """Remove what a crashed build can leave behind (called under the lock)."""
    scratch = dirs["cache_dir"] / "tmp"
    if scratch.is_dir() and not scratch.is_symlink():
        shutil.rmtree(scratch, ignore_errors=True)
    # figures' temporary folders of older versions lived in docs_dir
    for old in dirs["docs_dir"].glob(".figures-*"):
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
