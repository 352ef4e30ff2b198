"""Repository links of the HTML site: where the code lives, at which commit, and what each page links to.

Contract
--------
:func:`repo_link` resolves the repository the site links to, like ``site_url``:

* the URL: an explicit value (``--repo-url``), else ``$INITLAB_REPO_URL``, else ``git remote get-url
  origin`` when that is a GitHub address (``git@github.com:o/r.git`` and ``https://github.com/o/r.git``
  both give ``https://github.com/o/r``). No URL is ever invented: an empty ``$INITLAB_REPO_URL`` or a
  non-GitHub / missing remote builds a site without repository links.
* the ref: ``$INITLAB_REPO_REF``, else the commit of the build (``git rev-parse HEAD``), so the links
  of one build always show the code that made it; both enter the site stamp (generator/pipeline/stamp.py).

:func:`link_settings` turns that into MkDocs settings for the transient child config the build writes
(generator/pipeline/build.py): ``repo_url`` / ``repo_name`` (Material's header link),
``edit_uri_template`` pointing each page at the *template* that made it
(``blob/<ref>/templates/pages/<page>.<lang>.md.j2``, the generated docs file being no source), and
``extra.initlab_code``: the ref, the ``blob`` base URL (or None), the section's title and note per
language (``ui.code_*`` in the strings catalogs) and, per page, the repository files
of generator/pages/sources.py, which site/overrides/main.html lists at the end of each page.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from generator.common.paths import ROOT

_GITHUB = re.compile(
    r"^(?:https://github\.com/|git@github\.com:|ssh://git@github\.com/)"
    r"(?P<owner>[A-Za-z0-9][A-Za-z0-9-]*)/(?P<name>[A-Za-z0-9._-]+?)(?:\.git)?/?$"
)


@dataclass(frozen=True)
class RepoLink:
    url: str | None  # https://github.com/owner/name, or None: no repository links
    ref: str | None  # commit (or branch/tag from $INITLAB_REPO_REF)

    @property
    def name(self) -> str | None:
        """``owner/name`` for Material's header, from the URL."""
        return "/".join(self.url.rstrip("/").split("/")[-2:]) if self.url else None

    def blob(self, path: str) -> str | None:
        """``<url>/blob/<ref>/<path>``, or None without a URL."""
        return f"{self.url}/blob/{self.ref or 'HEAD'}/{path}" if self.url else None


def _git(*args: str, repo: Path = ROOT) -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(repo), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def github_url(remote: str | None) -> str | None:
    """The https address of a GitHub remote URL; None for anything else."""
    m = _GITHUB.match((remote or "").strip())
    return f"https://github.com/{m['owner']}/{m['name']}" if m else None


def repo_link(url: str | None = None, repo: Path = ROOT) -> RepoLink:
    """The repository the site links to (see the module docstring for the order of sources)."""
    if url is None:
        url = os.environ.get("INITLAB_REPO_URL")
    if url is None:
        url = github_url(_git("remote", "get-url", "origin", repo=repo))
    url = url.strip().rstrip("/") or None if url else None
    if url and not url.startswith(("https://", "http://")):
        raise ValueError(f"repository URL must be an http(s) address, got {url[:80]!r}")
    ref = os.environ.get("INITLAB_REPO_REF") or _git("rev-parse", "HEAD", repo=repo)
    return RepoLink(url, ref)


def _short(ref: str) -> str:
    """A commit as its 12-digit prefix; a branch or tag name as it is."""
    return ref[:12] if re.fullmatch(r"[0-9a-f]{40}", ref) else ref


def link_settings(link: RepoLink, pages: tuple[str, ...] | None = None) -> dict:
    """Child-config settings for ``link`` (see the module docstring); ``pages`` default to the registry's."""
    from generator.common.languages import LANGUAGES
    from generator.pages.registry import PAGES
    from generator.pages.sources import page_sources
    from generator.render.strings import t

    ref = link.ref or "HEAD"
    labels = {
        lang: {
            "title": t(lang, "ui.code_title"),
            "note": t(lang, "ui.code_note", ref=_short(ref)) if link.url else t(lang, "ui.code_no_repo"),
        }
        for lang in LANGUAGES
    }
    code = {
        "ref": link.ref,
        "blob": link.blob("") if link.url else None,
        "labels": labels,
        "pages": {page: list(page_sources(page)) for page in (PAGES if pages is None else pages)},
    }
    settings: dict = {"extra": {"initlab_code": code}}
    if link.url:
        settings.update(
            repo_url=link.url, repo_name=link.name, edit_uri_template=f"blob/{ref}/templates/pages/{{path_noext}}.md.j2"
        )
    return settings
