"""The render stage's writing half: rendered pages and ``site/assets/**`` into ``<docs_dir>``.

:func:`render_pages` renders every page in every language to strings first
(:func:`generator.render.env.render_page`), so a failing template leaves ``docs_dir`` unchanged, then
writes only the files whose bytes changed (atomically, generator/common/atomic.py) and records them in
the manifest (generator/pipeline/outputs.py): a full render removes pages whose template is gone, and
:func:`copy_assets` mirrors ``site/assets/**`` into ``<docs_dir>/assets`` and
:func:`generator.pipeline.notebooks.write_notebooks` converts ``notebooks/*.py`` into
``<docs_dir>/notebooks/*.ipynb`` (the pages link them). Nothing else under ``docs_dir`` is touched.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from generator.common import atomic
from generator.common.languages import LANGUAGES
from generator.common.paths import ASSETS_DIR
from generator.pipeline.notebooks import write_notebooks
from generator.pipeline.outputs import Manifest
from generator.render.env import PAGES_DIR, RenderError, discover_pages, environment, render_page


def copy_assets(docs_dir: Path, assets_dir: Path | None = None) -> list[Path]:
    """Mirror ``site/assets/**`` into ``<docs_dir>/assets``; a file copied by an earlier run whose
    source is gone is removed (only files the manifest lists: nothing else under docs_dir is touched)."""
    src = assets_dir or ASSETS_DIR
    dst = docs_dir / "assets"
    copied = []
    for path in sorted(src.rglob("*")) if src.is_dir() else []:
        if path.is_file():
            target = dst / path.relative_to(src)
            if not target.is_file() or target.read_bytes() != path.read_bytes():
                atomic.copy_file(path, target)
            copied.append(target)
    manifest = Manifest(docs_dir)
    manifest.remove_stale("assets", copied)
    manifest.record("assets", copied)
    return copied


def _write_if_changed(path: Path, text: str) -> None:
    data = text.encode("utf-8")
    if path.exists() and path.read_bytes() == data:
        return
    atomic.write_bytes(path, data)


def render_pages(
    context: dict[str, Any],
    docs_dir: Path,
    pages: Iterable[str] | None = None,
    *,
    templates_dir: Path | None = None,
    assets_dir: Path | None = None,
    languages: Iterable[str] = LANGUAGES,
    bytecode_dir: Path | None = None,
    notebooks_dir: Path | None = None,
) -> list[Path]:
    """Render every page (or only ``pages``) in every language into ``docs_dir``.

    Each ``templates/pages/<name>.<lang>.md.j2`` -> ``<docs_dir>/<name>.<lang>.md``, rendered with
    ``context`` + ``lang``. Every page must exist in every language (the site is built with
    ``fallback_to_default: false``). All pages are rendered before any file is written, so a failing
    template leaves ``docs_dir`` unchanged. A full render (``pages=None``) also deletes
    ``<docs_dir>/**/*.<lang>.md`` files whose template no longer exists. Copies ``site/assets/**``
    to ``<docs_dir>/assets`` and converts ``notebooks/*.py`` (or ``notebooks_dir``'s) into
    ``<docs_dir>/notebooks``. Returns the rendered Markdown paths, sorted. ``bytecode_dir``: see
    :func:`environment`.
    """
    env = environment(templates_dir, bytecode_dir)
    languages = tuple(languages)
    available = discover_pages(templates_dir)
    names = sorted(available) if pages is None else list(pages)
    unknown = [n for n in names if n not in available]
    if unknown:
        raise RenderError(f"unknown page(s) {unknown}; available: {sorted(available)}")
    for name in names:
        missing = [lg for lg in languages if lg not in available[name]]
        if missing:
            raise RenderError(
                f"page {name!r} has no template for language(s) {missing} "
                f"(expected {PAGES_DIR}/{name}.<lang>.md.j2 for each of {list(languages)})"
            )

    rendered: dict[Path, str] = {}
    for name in names:
        for lang in languages:
            rendered[docs_dir / f"{name}.{lang}.md"] = render_page(env, name, lang, context)

    docs_dir.mkdir(parents=True, exist_ok=True)
    for path, text in rendered.items():
        _write_if_changed(path, text)
    manifest = Manifest(docs_dir)
    if pages is None:  # a full render: pages whose template is gone must not linger in the site
        manifest.remove_stale("render", rendered)
        manifest.record("render", rendered)
    else:
        manifest.record("render", manifest.listed("render") | {p.relative_to(docs_dir).as_posix() for p in rendered})
    copy_assets(docs_dir, assets_dir)
    write_notebooks(docs_dir, notebooks_dir)
    return sorted(rendered)
