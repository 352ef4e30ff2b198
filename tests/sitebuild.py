"""Test helper: build the reduced-grid site into a temporary directory and serve it on 127.0.0.1.

Used by the session fixtures in tests/conftest.py (``site_server``, ``site_build``), which build
ONE site per test session and share it between test_site_tree / test_links / test_browser /
test_determinism. Nothing under the repository's ``site/`` or ``.cache`` is touched: the config is
``configs/small.toml`` with its ``[output]`` paths rewritten to absolute paths in a tmp dir.

The site is built like CI builds it, stage by stage: ``python -m generator experiments|figures|
render --config <tmp config>`` as subprocesses (their stderr is kept, so missing-glyph warnings of
the figure workers can be checked), then :func:`generator.pipeline.build.build_site` in-process with
the site's navigation, as ``stage_build`` passes it (in-process so the
:class:`~generator.pipeline.build.BuildResult` and its ``warnings`` are available).

Material's language links are absolute under ``site_url``, so the site is served under the same
path prefix: the HTTP root is a tmp dir holding a symlink ``<prefix> -> <public_dir>``. The server
is bound *before* the build (its port goes into ``site_url``), which avoids a free-port race.
"""

from __future__ import annotations

import functools
import hashlib
import html
import http.server
import os
import re
import subprocess
import sys
import threading
import time
import tomllib
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

REPO = Path(__file__).resolve().parent.parent
SMALL_CONFIG = REPO / "configs" / "small.toml"
PREFIX = "initlab"
ARTIFACTS = REPO / "test-artifacts"
LANGS = ("ko", "en")

# matplotlib's complaints when a glyph or font is missing (UserWarning text / font_manager log).
GLYPH_WARNING_RE = re.compile(
    r"Glyph \d+ .*missing from|missing from (current )?font|findfont: Font family|"
    r"Font family .* not found|Failed to find font",
    re.IGNORECASE,
)


# ------------------------------------------------------------------------------------------------
# config and build


def toml_dump(data: dict) -> str:
    """Minimal TOML writer for a config (tables of scalars and lists of scalars)."""

    def value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, (list, tuple)):
            return "[" + ", ".join(value(x) for x in v) + "]"
        raise TypeError(f"cannot write {v!r} as TOML")

    out = []
    for table, body in data.items():
        out.append(f"[{table}]")
        out.extend(f"{k} = {value(v)}" for k, v in body.items())
        out.append("")
    return "\n".join(out)


def write_config(
    root: Path, base: Path = SMALL_CONFIG, overrides: dict | None = None, name: str = "config.toml"
) -> Path:
    """``base`` with ``[output]`` pointing at absolute dirs under ``root`` (plus ``overrides``)."""
    root = Path(root)
    raw = tomllib.loads(Path(base).read_text("utf-8"))
    raw["output"] = {
        "docs_dir": str(root / "docs"),
        "public_dir": str(root / "public"),
        "cache_dir": str(root / "cache"),
    }
    for table, body in (overrides or {}).items():
        raw.setdefault(table, {}).update(body)
    root.mkdir(parents=True, exist_ok=True)
    path = root / name
    path.write_text(toml_dump(raw), "utf-8")
    return path


def run_stage(
    stage: str, config: Path, *, extra_args=(), python_flags=(), env=None, timeout: float = 900
) -> subprocess.CompletedProcess:
    """``python [flags] -m generator <stage> --config <config>`` in the repo (stdout/stderr captured)."""
    cmd = [sys.executable, *python_flags, "-m", "generator", stage, "--config", str(config), *extra_args]
    full_env = dict(os.environ, PYTHONIOENCODING="utf-8", **(env or {}))
    return subprocess.run(
        cmd, cwd=REPO, env=full_env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )


class StageError(AssertionError):
    pass


@dataclass
class SiteBuild:
    root: Path
    config: Path
    docs_dir: Path
    public_dir: Path
    cache_dir: Path
    site_url: str
    result: object = None  # generator.pipeline.build.BuildResult
    stage_logs: dict = field(default_factory=dict)  # stage -> combined stdout+stderr
    seconds: dict = field(default_factory=dict)  # stage -> wall seconds
    fingerprint: str = ""  # source_fingerprint() when the build started

    @property
    def prefix_path(self) -> str:
        """The URL path of the site root, e.g. ``/initlab/``."""
        return urlsplit(self.site_url).path


def build_reduced_site(root: Path, site_url: str, base: Path = SMALL_CONFIG, epoch: int | None = None) -> SiteBuild:
    """experiments -> figures -> render (CLI subprocesses) -> build_site (in-process), into ``root``.
    ``epoch``: SOURCE_DATE_EPOCH (default: build_site's, i.e. $SOURCE_DATE_EPOCH or the last commit)."""
    from generator.pipeline.build import build_site
    from generator.pipeline.nav import site_nav

    root = Path(root)
    config = write_config(root, base)
    sb = SiteBuild(
        root=root,
        config=config,
        docs_dir=root / "docs",
        public_dir=root / "public",
        cache_dir=root / "cache",
        site_url=site_url,
        fingerprint=source_fingerprint(),
    )
    for stage in ("experiments", "figures", "render"):
        t0 = time.perf_counter()
        proc = run_stage(stage, config)
        sb.seconds[stage] = time.perf_counter() - t0
        sb.stage_logs[stage] = proc.stdout + proc.stderr
        if proc.returncode != 0:
            raise StageError(
                f"`python -m generator {stage}` failed (exit {proc.returncode}):\n{(proc.stdout + proc.stderr)[-4000:]}"
            )
    t0 = time.perf_counter()
    sb.result = build_site(
        public_dir=sb.public_dir, docs_dir=sb.docs_dir, site_url=site_url, epoch=epoch, nav=site_nav()
    )
    sb.seconds["build"] = time.perf_counter() - t0
    return sb


@dataclass
class CliSite:
    """One ``python -m generator site`` run: its output root (docs/, public/, cache/, config.toml) and process."""

    root: Path
    config: Path
    proc: subprocess.CompletedProcess


def source_fingerprint() -> str:
    """Hash of everything a build reads from the repo (to tell a real nondeterminism from a tree
    edited by someone else while the test ran)."""
    h = hashlib.sha256()
    for top in ("generator", "templates", "notebooks", "site/overrides", "site/assets", "site/mkdocs.yml", "configs"):
        base = REPO / top
        files = (
            [base]
            if base.is_file()
            else sorted(p for p in base.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        )
        for p in files:
            h.update(p.relative_to(REPO).as_posix().encode() + b"\0")
            try:
                h.update(p.read_bytes())
            except OSError:
                pass
    return h.hexdigest()


# ------------------------------------------------------------------------------------------------
# serving


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # `format`: the base class names it so
        pass

    def end_headers(self):
        self.send_header("Cache-Control", "no-store")
        super().end_headers()


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # The browser may drop a connection it no longer needs (a cancelled prefetch): not an error.
        import sys

        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


class SiteServer:
    """A ThreadingHTTPServer on 127.0.0.1:<free port> whose root holds ``<prefix> -> public_dir``.

    Bound at construction (so the port is known before the site is built); serves after
    :meth:`start`. ``url`` is ``http://127.0.0.1:<port>/<prefix>/``.
    """

    def __init__(self, http_root: Path, public_dir: Path, prefix: str = PREFIX, port: int = 0):
        self.http_root = Path(http_root)
        self.http_root.mkdir(parents=True, exist_ok=True)
        link = self.http_root / prefix
        if not link.is_symlink():
            link.symlink_to(public_dir, target_is_directory=True)
        handler = functools.partial(_QuietHandler, directory=str(self.http_root))
        self.httpd = _QuietServer(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/{prefix}/"
        self._thread: threading.Thread | None = None

    def start(self) -> SiteServer:
        if self._thread is None:
            self._thread = threading.Thread(target=self.httpd.serve_forever, name="site-server", daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(timeout=10)
        self.httpd.server_close()


# ------------------------------------------------------------------------------------------------
# the built tree


def page_names() -> list[str]:
    """PAGES (site order) that have a template in every language."""
    from generator.pages.registry import PAGES

    base = REPO / "templates" / "pages"
    return [p for p in PAGES if all((base / f"{p}.{lang}.md.j2").is_file() for lang in LANGS)]


def page_path(page: str, lang: str) -> str:
    """Site-relative URL path of a page: ``""``, ``"seed/"``, ``"en/"``, ``"en/seed/"``."""
    rel = "" if page == "index" else f"{page}/"
    return rel if lang == "ko" else f"en/{rel}"


def page_file(public: Path, page: str, lang: str) -> Path:
    return public / page_path(page, lang) / "index.html"


def html_files(public: Path) -> list[Path]:
    return sorted(public.rglob("*.html"))


def page_language(public: Path, path: Path) -> str:
    rel = path.relative_to(public).parts
    return "en" if rel and rel[0] == "en" else "ko"


def url_to_file(public: Path, site_path: str, ref: str, page_rel: str) -> tuple[Path | None, str]:
    """Resolve an internal ``ref`` found on the page at ``page_rel`` (tree-relative file path) to
    ``(file in public, fragment)``. ``site_path`` is the site_url path (``/initlab/``). Returns
    ``(None, ...)`` for a ref outside the site."""
    parts = urlsplit(ref)
    frag = unquote(parts.fragment)
    path = unquote(parts.path)
    if not path:
        target = page_rel
    elif path.startswith("/"):
        if not path.startswith(site_path):
            return None, frag
        target = path[len(site_path) :]
    else:
        base = page_rel.rsplit("/", 1)[0] if "/" in page_rel else ""
        target = f"{base}/{path}" if base else path
    # normalise ./ and ../
    stack: list[str] = []
    for seg in target.split("/"):
        if seg in ("", "."):
            continue
        if seg == "..":
            if not stack:
                return None, frag
            stack.pop()
        else:
            stack.append(seg)
    f = public.joinpath(*stack) if stack else public
    if f.is_dir() or target.endswith("/") or not stack:
        f = f / "index.html"
    return f, frag


# ------------------------------------------------------------------------------------------------
# a small HTML model (stdlib html.parser: bs4/lxml are not dependencies)

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
# Text inside these is not prose (code, math, scripts, styles, SVG).
NON_PROSE = {"math", "code", "pre", "script", "style", "svg", "kbd", "samp", "textarea"}

HANGUL_RE = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
RAW_TEX_RE = re.compile(r"\$[^$\s][^$\n]*?\$|\\\(|\\\)|\\\[|\\\]|\\frac|\\sqrt|\\mathrm|\\operatorname|\\sigma|\\cdot")
TEMPLATE_LEAK_RE = re.compile(r"\{\{|\{%|\{#")


@dataclass
class Element:
    tag: str
    attrs: dict
    line: int
    parent: str = ""  # tag of the enclosing element ("" at the top)


class PageModel(HTMLParser):
    """Elements (tag + attrs), ids, and prose text (outside NON_PROSE) of one HTML file."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.ids: set[str] = set()
        self.prose: list[tuple[int, str]] = []  # (line, text) chunks
        self.all_text: list[tuple[int, str]] = []
        self._stack: list[str] = []
        self._non_prose = 0
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        d = {k: (v if v is not None else "") for k, v in attrs}
        self.elements.append(Element(tag, d, self.getpos()[0], self._stack[-1] if self._stack else ""))
        if "id" in d:
            self.ids.add(d["id"])
        if tag == "a" and "name" in d:
            self.ids.add(d["name"])
        if tag in VOID:
            return
        self._stack.append(tag)
        if tag in NON_PROSE:
            self._non_prose += 1

    def handle_startendtag(self, tag, attrs):
        d = {k: (v if v is not None else "") for k, v in attrs}
        self.elements.append(Element(tag, d, self.getpos()[0], self._stack[-1] if self._stack else ""))
        if "id" in d:
            self.ids.add(d["id"])

    def handle_endtag(self, tag):
        if tag in VOID or tag not in self._stack:
            return
        while self._stack:
            top = self._stack.pop()
            if top in NON_PROSE:
                self._non_prose -= 1
            if top == tag:
                break

    def handle_data(self, data):
        if not data.strip():
            return
        line = self.getpos()[0]
        self.all_text.append((line, data))
        if self._non_prose == 0:
            self.prose.append((line, data))

    def find(self, tag: str) -> list[Element]:
        return [e for e in self.elements if e.tag == tag]


@functools.cache
def parse(path: Path) -> PageModel:
    return PageModel(path.read_text("utf-8"))


def raw_tex(model: PageModel) -> list[str]:
    """Raw TeX fragments in prose (outside <math>/<code>/<pre>/...)."""
    out = []
    for line, text in model.prose:
        for m in RAW_TEX_RE.finditer(text):
            out.append(f"line {line}: {m.group(0)!r} in {text.strip()[:80]!r}")
    return out


def template_leaks(raw_html: str) -> list[str]:
    """``{{``/``{%``/``{#`` left by Jinja in the HTML, outside <script>/<style>/<code>/<pre> text."""
    # Strip the content of script/style/code/pre (minified JS may legitimately contain "{{").
    stripped = re.sub(r"<(script|style|pre|code)\b[^>]*>.*?</\1>", "", raw_html, flags=re.DOTALL | re.IGNORECASE)
    out = []
    for m in TEMPLATE_LEAK_RE.finditer(stripped):
        ctx = stripped[max(0, m.start() - 40) : m.end() + 40].replace("\n", " ")
        out.append(html.unescape(ctx))
    return out
