"""Build the HTML site: ``mkdocs build --strict`` into a temporary directory, swapped in on success.

:func:`build_site` runs ``python -m mkdocs build --strict -f <site>/mkdocs.yml -d <site>/.public-XXXX``
as a subprocess with ``SOURCE_DATE_EPOCH`` and ``NO_MKDOCS_2_WARNING=1`` set, captures its log and fails
on a non-zero exit *or any WARNING line*. Only then is the new tree swapped into ``<site>/public``
(one atomic ``renameat2(RENAME_EXCHANGE)`` on Linux; elsewhere rename-aside / rename-in / delete-old;
generator/pipeline/build_fs.py, with the locks, the debris sweep and the staged docs).
On any failure -- a mkdocs error, a warning, an exception, KeyboardInterrupt/SIGINT, SIGTERM via the
CLI -- the temporary directory is removed and the previous ``public/`` is left byte-identical.

The navigation is data: ``build_site(nav=...)`` writes ``nav`` and ``nav_translations`` into a transient
child config (``INHERIT: mkdocs.yml``, generator/pipeline/nav.py), which also carries a ``docs_dir`` override.

Before mkdocs runs, a preflight checks that every localized file in the docs dir exists in every
language (``x.ko.md`` <-> ``x.en.md``, ``figures/f.ko.svg`` <-> ``figures/f.en.svg``), because the site
is built with static-i18n's ``fallback_to_default: true`` (needed so unsuffixed data files are shared).

Determinism: ``SOURCE_DATE_EPOCH`` is taken from the environment, else the last git commit time,
else :data:`DEFAULT_EPOCH`; ``sitemap.xml.gz`` is re-compressed with that mtime and no file name
(generator/pipeline/postprocess.py, which also writes one search index per language). Two clean
builds of the same inputs are byte-identical (tests/test_build_atomic.py). Repository links
(``repo_url``, edit links, "code behind this page") go into the child config too
(generator/pipeline/links.py).

Builds sharing the parent of ``public/`` or the folder of ``mkdocs.yml`` are serialized with an
``flock`` on both, which also makes it safe to sweep ``.public-*`` debris left by a killed (SIGKILL)
build; only folders carrying the build's marker (or empty) are swept.
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from generator.common.languages import LANGUAGES
from generator.common.paths import ROOT, SITE_DIR
from generator.pipeline.build_fs import TMP_PREFIX, locked, marked_tmpdir, stage_docs, swap_in, sweep_debris
from generator.pipeline.links import link_settings, repo_link
from generator.pipeline.nav import Nav, nav_settings, read_config_value, site_nav, write_child_config
from generator.pipeline.outputs import MANIFEST, MARKER, owned
from generator.pipeline.postprocess import postprocess
from generator.pipeline.prune import prune
from generator.pipeline.signals import worker_setup

DEFAULT_EPOCH = 1767225600  # 2026-01-01T00:00:00Z, used when there is no git history
_WARNING_RE = re.compile(r"^\s*(WARNING|ERROR)\b|Aborted with \d+ warnings", re.MULTILINE)
_LOCALIZED_RE = re.compile(r"^(?P<stem>.+)\.(?P<lang>[a-z]{2})(?P<ext>\.[^./]+)$")


class BuildError(RuntimeError):
    """The site did not build; ``log`` holds mkdocs' output. ``public/`` was left untouched."""

    def __init__(self, message: str, log: str = "") -> None:
        super().__init__(message)
        self.log = log


@dataclass
class BuildResult:
    public_dir: Path
    site_url: str
    source_date_epoch: int
    seconds: float  # wall time of the mkdocs subprocess
    log: str  # mkdocs' combined stdout/stderr
    files: int  # files in the new public/
    warnings: list[str] = field(default_factory=list)  # always empty on success (strict)


# ------------------------------------------------------------------------------------------------
# helpers


def source_date_epoch(repo: Path = ROOT) -> int:
    """``$SOURCE_DATE_EPOCH``, else the last commit time of ``repo``, else :data:`DEFAULT_EPOCH`."""
    env = os.environ.get("SOURCE_DATE_EPOCH")
    if env:
        return int(env)
    try:
        out = subprocess.run(
            ["git", "-C", str(repo), "log", "-1", "--format=%ct"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        if out.returncode == 0 and out.stdout.strip().isdigit():
            return int(out.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return DEFAULT_EPOCH


def check_language_parity(docs_dir: Path, languages: tuple[str, ...] = LANGUAGES) -> list[str]:
    """Problems like ``"results.ko.md has no results.en.md"`` for localized files missing a language."""
    groups: dict[tuple[str, str], set[str]] = {}
    for path in docs_dir.rglob("*"):
        if not path.is_file():
            continue
        rel = path.relative_to(docs_dir).as_posix()
        m = _LOCALIZED_RE.match(rel)
        if m and m["lang"] in languages:
            groups.setdefault((m["stem"], m["ext"]), set()).add(m["lang"])
    problems = []
    for (stem, ext), have in sorted(groups.items()):
        for lang in languages:
            if lang not in have:
                src = f"{stem}.{sorted(have)[0]}{ext}"
                problems.append(f"{src} has no {stem}.{lang}{ext}")
    return problems


def _warnings(log: str) -> list[str]:
    """WARNING/ERROR records of a mkdocs log, each with its indented continuation lines."""
    out: list[str] = []
    current: list[str] | None = None
    for line in log.splitlines():
        if re.match(r"(WARNING|ERROR)\b", line):
            current = [line.rstrip()]
            out.append("")
        elif current is not None and line.startswith((" ", "\t")) and line.strip():
            current.append(line.rstrip())
        else:
            current = None
            continue
        out[-1] = "\n".join(current)
    return out


def _postprocess(out_dir: Path, epoch: int) -> None:
    """Rewrite the fresh tree before it is swapped in (generator/pipeline/postprocess.py)."""
    postprocess(out_dir, epoch, LANGUAGES)


def _child_settings(config_file: Path, nav: Nav | None, repo_url: str | None) -> dict:
    """The transient child config's settings: the navigation (nav.py) and the repository links (links.py)."""
    try:
        settings = {} if nav is None else nav_settings(config_file, nav)
    except ValueError as exc:
        raise BuildError(f"navigation: {exc}") from exc
    try:
        settings.update(link_settings(repo_link(repo_url)))
    except ValueError as exc:
        raise BuildError(f"repository links: {exc}") from exc
    return settings


def _terminate(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _require_parity(docs_dir: Path) -> None:
    """:class:`BuildError` listing every localized file of ``docs_dir`` that misses a language."""
    problems = check_language_parity(docs_dir)
    if problems:
        raise BuildError("every page and localized figure must exist in both languages:\n  " + "\n  ".join(problems))


def _build_env(epoch: int, site_url: str | None) -> tuple[dict[str, str], str]:
    """The mkdocs subprocess's environment and the site URL it builds for (``site_url`` over the environment's)."""
    env = dict(os.environ)
    env.update(SOURCE_DATE_EPOCH=str(epoch), NO_MKDOCS_2_WARNING="1", PYTHONHASHSEED="0", PYTHONIOENCODING="utf-8")
    if site_url:
        env["INITLAB_SITE_URL"] = site_url if site_url.endswith("/") else site_url + "/"
    return env, env.get("INITLAB_SITE_URL", "http://127.0.0.1:8000/initlab/")


def _run_mkdocs(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float | None) -> tuple[str, float]:
    """Run ``cmd`` (mkdocs build); return its log and wall seconds. :class:`BuildError` on a non-zero exit,
    any WARNING/ERROR line or the timeout; on any exception (KeyboardInterrupt, SystemExit) mkdocs is stopped."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        preexec_fn=functools.partial(worker_setup, os.getpid()),
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        _terminate(proc)
        raise BuildError(f"mkdocs build did not finish within {timeout} s") from exc
    except BaseException:  # KeyboardInterrupt, SystemExit (SIGTERM): stop mkdocs, then clean up
        _terminate(proc)
        raise
    seconds = time.perf_counter() - t0
    log = out.decode("utf-8", "replace")
    warnings = _warnings(log)
    if proc.returncode != 0 or _WARNING_RE.search(log):
        detail = "\n".join(warnings) or log.strip()[-2000:]
        raise BuildError(f"mkdocs build --strict failed (exit {proc.returncode}):\n{detail}", log)
    return log, seconds


# ------------------------------------------------------------------------------------------------
# the build


def build_site(
    site_dir: Path = SITE_DIR,
    public_dir: Path | None = None,
    *,
    docs_dir: Path | None = None,
    site_url: str | None = None,
    config_file: Path | None = None,
    epoch: int | None = None,
    timeout: float | None = 600,
    nav: Nav | None = None,
    repo_url: str | None = None,
) -> BuildResult:
    """Build ``<site_dir>/mkdocs.yml`` strictly into ``public_dir`` (default ``<site_dir>/public``).

    ``docs_dir`` overrides the config's ``docs_dir`` (a transient ``INHERIT`` config next to
    mkdocs.yml, so relative paths keep their meaning). ``site_url`` overrides ``$INITLAB_SITE_URL``
    (the ``site_url: !ENV`` of mkdocs.yml); a trailing ``/`` is added. ``nav``: ``[(page, {lang: title})]``
    (``nav.site_nav()`` for the site); None lets MkDocs list the docs. Raises :class:`BuildError` (with
    ``.log``) on failure; ``public_dir`` is then unchanged and no ``.public-*`` debris is left.
    ``repo_url`` overrides ``$INITLAB_REPO_URL`` / the git remote (generator/pipeline/links.py: repository
    and edit links, the "code behind this page" list).
    """
    site_dir = Path(site_dir).resolve()
    public_dir = Path(public_dir).resolve() if public_dir is not None else site_dir / "public"
    config_file = Path(config_file).resolve() if config_file is not None else site_dir / "mkdocs.yml"
    if not config_file.is_file():
        raise BuildError(f"no MkDocs config at {config_file}")
    child_settings = _child_settings(config_file, nav, repo_url)
    configured_docs = (config_file.parent / (read_config_value(config_file, "docs_dir") or "docs")).resolve()
    docs_dir = Path(docs_dir).resolve() if docs_dir is not None else configured_docs
    if not docs_dir.is_dir():
        raise BuildError(f"docs dir {docs_dir} does not exist; render the pages first (python -m generator site)")
    if not (docs_dir / MANIFEST).is_file():  # with a manifest, the staged (published) files are checked, below
        _require_parity(docs_dir)

    epoch = source_date_epoch() if epoch is None else int(epoch)
    env, effective_url = _build_env(epoch, site_url)

    public_dir.parent.mkdir(parents=True, exist_ok=True)
    # both folders get temporary files (the new tree and staged docs / a transient mkdocs config) and
    # both are swept of a killed build's debris: a build sharing either waits, so no live build's
    # temporary files are swept
    with locked(public_dir.parent, config_file.parent):
        if public_dir.exists() and not (public_dir.is_dir() and owned(public_dir, "public_dir")):
            raise BuildError(
                f"{public_dir} exists and was not made by initlab (no {MARKER} file): "
                "not replacing it; choose a new or empty directory"
            )
        sweep_debris(public_dir.parent, config_file.parent)
        tmp = marked_tmpdir(public_dir.parent, TMP_PREFIX, "public_dir")
        child_file: Path | None = None
        staged: Path | None = None
        try:
            staged = stage_docs(docs_dir, public_dir.parent)
            if staged is not None:
                docs_dir = staged
                _require_parity(docs_dir)
            if docs_dir != configured_docs:
                child_settings["docs_dir"] = str(docs_dir)
            child_file = write_child_config(config_file, child_settings, TMP_PREFIX)
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes 0700; the published tree must be readable
            cmd = [
                sys.executable,
                "-m",
                "mkdocs",
                "build",
                "--strict",
                "--clean",
                "-f",
                str(child_file or config_file),
                "-d",
                str(tmp),
            ]
            log, seconds = _run_mkdocs(cmd, config_file.parent, env, timeout)
            _postprocess(tmp, epoch)
            prune(tmp, docs_dir)  # theme files no browser loads (generator/pipeline/prune.py)
            files = sum(1 for p in tmp.rglob("*") if p.is_file())
            swap_in(tmp, public_dir)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        finally:
            if child_file is not None:
                child_file.unlink(missing_ok=True)
            if staged is not None:
                shutil.rmtree(staged, ignore_errors=True)
    return BuildResult(
        public_dir=public_dir, site_url=effective_url, source_date_epoch=epoch, seconds=seconds, log=log, files=files
    )


def _sigterm_to_exit(signum, frame):  # pragma: no cover - exercised via subprocess
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    """``python -m generator.pipeline.build [--site-dir DIR] [--public-dir DIR] [--docs-dir DIR] [--site-url URL]
    [--no-nav]``, with the site's navigation unless ``--no-nav``."""
    ap = argparse.ArgumentParser(
        prog="python -m generator.pipeline.build",
        description="mkdocs build --strict into a temp dir, swapped into public/ on success",
    )
    ap.add_argument("--site-dir", type=Path, default=SITE_DIR)
    ap.add_argument("--public-dir", type=Path, default=None)
    ap.add_argument("--docs-dir", type=Path, default=None, help="default: docs_dir of mkdocs.yml")
    ap.add_argument(
        "--site-url",
        default=None,
        help="absolute base URL (default: $INITLAB_SITE_URL or http://127.0.0.1:8000/initlab/)",
    )
    ap.add_argument(
        "--repo-url",
        default=None,
        help="repository for the source links (default: $INITLAB_REPO_URL, else a GitHub 'origin' remote, else none)",
    )
    ap.add_argument("--no-nav", action="store_true", help="no generated nav: MkDocs lists the docs (a hand-made site)")
    args = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, _sigterm_to_exit)
    try:
        res = build_site(
            args.site_dir,
            args.public_dir,
            docs_dir=args.docs_dir,
            site_url=args.site_url,
            nav=None if args.no_nav else site_nav(),
            repo_url=args.repo_url,
        )
    except BuildError as exc:
        print(f"build error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("build interrupted; previous site left unchanged", file=sys.stderr)
        return 130
    print(f"built {res.files} files into {res.public_dir} in {res.seconds:.2f}s (site_url {res.site_url})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
