"""Whole-site stamp: ``site`` does nothing when none of its inputs changed since the last good build.

Contract
--------
``SiteStamp.for_build(cfg, site_url)`` hashes every input a site build reads:

* the parsed config (every section's values, so a comment edit changes nothing) and the resolved
  output directories;
* every file under ``generator/``, ``templates/``, ``reference/``, ``notebooks/`` and ``site/`` (minus
  the generated docs/public trees and ``__pycache__``), ``pyproject.toml`` and the seed note if present;
* the installed distributions (``*.dist-info`` names carry name and version), the Python version and
  machine;
* what the build takes from the environment: the effective ``site_url``, ``SOURCE_DATE_EPOCH``, the
  repository the pages link to and its ref (generator/pipeline/links.py: a new commit changes the
  links, so it rebuilds) and the source note's address (``$INITLAB_SOURCE_NOTE_URL``).

After a successful build, :meth:`SiteStamp.record` writes ``<cache_dir>/site-stamp.json`` with that key
and a digest of the generated docs tree and of ``public_dir``. :meth:`SiteStamp.is_current` is True only
when the key matches *and* both trees still hash to what was recorded -- so a deleted or hand-edited
output file, a changed template, config line, library version or source file all rebuild, and the
stage caches (experiment entries, figure files) then decide what is actually recomputed. File contents
are hashed, never mtimes. The check costs tens of milliseconds and imports nothing heavy, which is
what makes a warm ``make site`` cheaper than a bare ``mkdocs build``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

from generator.common import atomic
from generator.common.hashing import sha256_file, sha256_parts
from generator.common.paths import ROOT, SEED_TEXT
from generator.config.load import Config, resolve
from generator.pipeline.outputs import LOCK

STAMP_NAME = "site-stamp.json"
_SOURCE_TREES = ("generator", "templates", "reference", "site", "notebooks")
_SKIP_DIRS = {"__pycache__", ".pytest_cache"}


def _walk(root: Path, exclude: tuple[Path, ...] = ()):
    """Files under ``root`` in a stable order, skipping ``exclude`` subtrees and caches."""
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        # .public-*: a concurrent or killed build's temporary files beside mkdocs.yml, not sources
        dirnames[:] = sorted(
            d for d in dirnames if d not in _SKIP_DIRS and (here / d) not in exclude and not d.startswith(".public-")
        )
        for name in sorted(filenames):
            # the pipeline lock's file says who holds it (pid, time): not an output
            if not name.endswith(".pyc") and not name.startswith(".public-") and name != LOCK:
                yield here / name


def tree_digest(root: Path, exclude: tuple[Path, ...] = ()) -> str | None:
    """SHA-256 over (relative path, content) of every file under ``root``; None if it does not exist."""
    if not root.is_dir():
        return None
    return sha256_parts(
        part
        for path in _walk(root, exclude)
        for part in (path.relative_to(root).as_posix().encode() + b"\0", bytes.fromhex(sha256_file(path)))
    )


def _distributions() -> list[str]:
    """Installed distributions as their metadata directory names (``name-version.dist-info``)."""
    names = set()
    for entry in sys.path:
        if entry and os.path.isdir(entry):
            names.update(n for n in os.listdir(entry) if n.endswith((".dist-info", ".egg-info")))
    return sorted(names)


@dataclass
class SiteStamp:
    key: str
    path: Path
    docs_dir: Path
    public_dir: Path

    @classmethod
    def for_build(
        cls, cfg: Config, site_url: str | None = None, root: Path = ROOT, repo_url: str | None = None
    ) -> SiteStamp:
        """The stamp of building ``cfg`` from the sources under ``root`` (the repository)."""
        from generator.pipeline.build import source_date_epoch
        from generator.pipeline.links import repo_link

        docs, public, cache = (resolve(d) for d in (cfg.output.docs_dir, cfg.output.public_dir, cfg.output.cache_dir))
        generated = (docs, public, cache)
        parts: list[bytes] = []

        def add(label: str, value: str | bytes) -> None:
            parts.append(label.encode() + b"\0" + (value if isinstance(value, bytes) else value.encode()) + b"\0")

        add(
            "config",
            json.dumps(
                {name: dataclasses.asdict(sec) for name, sec in cfg.sections.items()}, sort_keys=True, default=str
            ),
        )
        add("dirs", "|".join(str(d) for d in generated))
        add("config_path", str(Path(cfg.path).resolve()))  # the pages name the config file
        for tree in _SOURCE_TREES:
            add(tree, tree_digest(root / tree, exclude=generated) or "-")
        add("pyproject", (root / "pyproject.toml").read_bytes())
        add("seed", SEED_TEXT.read_bytes() if SEED_TEXT.is_file() else b"-")
        add("dists", "\n".join(_distributions()))
        add("python", f"{platform.python_version()} {platform.machine()}")
        url = site_url or os.environ.get("INITLAB_SITE_URL", "")
        add("env", f"site_url={url} epoch={source_date_epoch()}")
        try:
            link = repo_link(repo_url, repo=root)
            links = f"repo={link.url} ref={link.ref}"
        except ValueError as exc:  # the build itself reports it (BuildError)
            links = f"invalid {exc}"
        add("links", f"{links} source_note={os.environ.get('INITLAB_SOURCE_NOTE_URL', '')}")
        return cls(sha256_parts(parts), cache / STAMP_NAME, docs, public)

    def _outputs(self) -> dict:
        return {"docs": tree_digest(self.docs_dir), "public": tree_digest(self.public_dir)}

    def is_current(self) -> bool:
        """True when the last recorded build had these inputs and its outputs are untouched."""
        try:
            saved = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return False
        if saved.get("key") != self.key:
            return False
        out = self._outputs()
        return None not in out.values() and saved.get("outputs") == out

    def record(self) -> None:
        """Write the stamp (atomically) after a successful build."""
        atomic.write_text(
            self.path, json.dumps({"key": self.key, "outputs": self._outputs()}, indent=1, sort_keys=True) + "\n"
        )
