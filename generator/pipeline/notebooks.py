"""The topic notebooks: ``notebooks/<name>.py`` (jupytext percent format) -> ``<docs_dir>/notebooks/<name>.ipynb``.

Contract
--------
* The ``.py`` files are the source of truth in git: plain Python that runs top to bottom as a script,
  and a jupytext-paired notebook (header ``formats: ipynb,py:percent``) that ``jupytext --sync`` or
  JupyterLab with jupytext opens as one. Every file starts with :data:`HEADER`, byte for byte, except
  for the two lines ``format_version`` / ``jupytext_version`` that ``jupytext --sync`` adds under
  ``text_representation`` (ignored: they name the tool's version, not the notebook).
* :func:`percent_to_ipynb` reads the percent format's subset these files use: a line ``# %%`` starts a
  code cell, ``# %% [markdown]`` a Markdown cell (each line's leading ``# `` or ``#`` removed); text
  after the marker may carry JSON-valued metadata as ``key=value`` (``tags=["parameters"]``); leading and
  trailing blank lines of a cell are dropped, as jupytext does. Anything before the first marker other
  than the header is an error (:class:`NotebookError`), so nothing is silently lost.
* The output is nbformat 4.4 JSON (no cell ids, which 4.5 would draw at random), without outputs or
  execution counts, indented as nbformat writes it (``indent=1``, sorted keys, UTF-8, final newline):
  the same ``.py`` always gives the same bytes, on any machine and at any time.
* :func:`write_notebooks` converts every ``notebooks/*.py`` into ``<docs_dir>/notebooks/`` (rewriting a
  file only when its bytes change) and records them in the build's manifest under the stage
  ``"notebooks"``; a notebook an earlier build made whose source is gone is removed, nothing else is.

Why not jupytext or nbformat at build time: they would add jupyter_core, traitlets, jsonschema,
PyYAML and markdown-it to the runtime dependencies (issue 18 item 6 is trimming them) for a conversion
of four files in a fixed subset of the format, and jupytext's notebooks are nbformat 4.5 with random
cell ids (different bytes at every build). Checked with jupytext 1.19.6 / nbformat 5.11.1: for these
files the output equals ``nbformat.writes(jupytext.reads(py))`` byte for byte once that notebook is
set to 4.4 without ids, and passes ``nbformat.validate``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from generator.common import atomic
from generator.common.paths import NOTEBOOKS_DIR
from generator.pipeline.outputs import Manifest

HEADER = """\
# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---
"""
# What HEADER says, as notebook metadata (jupytext writes the same keys into a paired .ipynb).
METADATA = {
    "jupytext": {"formats": "ipynb,py:percent", "text_representation": {"extension": ".py", "format_name": "percent"}},
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
}
STAGE = "notebooks"  # the manifest's stage name (generator/pipeline/outputs.py)

_TOOL_LINES = re.compile(r"^#       (?:format_version|jupytext_version): .*\n", re.M)
_MARKER = re.compile(r"^# %%(?P<rest>.*)$")
_KIND = re.compile(r"^\s*\[(?P<kind>markdown|md)\]")
_META = re.compile(r'(\w+)=(\[[^\]]*\]|"[^"]*"|\S+)')


class NotebookError(ValueError):
    """A notebook source outside the supported subset (the message names the file and line)."""


def _cell_metadata(text: str, where: str) -> dict:
    meta = {}
    for key, value in _META.findall(text):
        try:
            meta[key] = json.loads(value)
        except ValueError:
            raise NotebookError(f"{where}: cell metadata {key}={value} is not JSON") from None
    rest = _META.sub("", text).strip()
    if rest:
        raise NotebookError(f"{where}: cell titles are not supported ({rest!r})")
    return meta


def _strip_blank(lines: list[str]) -> list[str]:
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


def _uncomment(line: str, where: str) -> str:
    if line == "#" or not line:
        return ""
    if line.startswith("# "):
        return line[2:]
    raise NotebookError(f"{where}: a Markdown line must start with '# ' ({line!r})")


def _cell(kind: str, meta: dict, lines: list[str], where: str) -> dict:
    if kind == "markdown":
        lines = [_uncomment(s, where) for s in lines]
    lines = _strip_blank(lines)
    source = [s + "\n" for s in lines[:-1]] + lines[-1:]  # nbformat's split: every line but the last ends in \n
    cell = {"cell_type": kind, "metadata": meta, "source": source}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def percent_to_ipynb(text: str, name: str = "<notebook>") -> str:
    """The nbformat 4.4 JSON text of the percent-format notebook ``text`` (see module doc)."""
    end = text.find("\n# ---\n", 1)
    if not text.startswith("# ---\n") or end < 0 or _TOOL_LINES.sub("", text[: end + 7]) != HEADER:
        raise NotebookError(f"{name}: must start with the jupytext header (generator/pipeline/notebooks.py HEADER)")
    lines = text[end + 7 :].splitlines()
    cells, current = [], None  # current: (kind, metadata, lines, where)
    for i, line in enumerate(lines, start=text[: end + 7].count("\n") + 1):
        where = f"{name}:{i}"
        m = _MARKER.match(line)
        if m:
            if current is not None:
                cells.append(_cell(*current))
            rest = m.group("rest")
            k = _KIND.match(rest)
            kind = "markdown" if k else "code"
            current = (kind, _cell_metadata(rest[k.end() :] if k else rest, where), [], where)
        elif current is None:
            if line.strip():
                raise NotebookError(f"{where}: text before the first '# %%' cell marker")
        else:
            current[2].append(line)
    if current is not None:
        cells.append(_cell(*current))
    nb = {"cells": cells, "metadata": METADATA, "nbformat": 4, "nbformat_minor": 4}
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def notebook_sources(src_dir: Path | None = None) -> list[Path]:
    """The notebook sources, sorted: ``notebooks/*.py`` of the repository (or of ``src_dir``)."""
    src = NOTEBOOKS_DIR if src_dir is None else Path(src_dir)
    return sorted(p for p in src.glob("*.py") if p.is_file()) if src.is_dir() else []


def write_notebooks(docs_dir: Path, src_dir: Path | None = None) -> list[Path]:
    """Convert every source into ``<docs_dir>/notebooks/<name>.ipynb``; returns the written paths, sorted.

    All sources are converted before anything is written, so a bad source leaves docs_dir unchanged.
    """
    out_dir = Path(docs_dir) / "notebooks"
    converted = {
        out_dir / f"{p.stem}.ipynb": percent_to_ipynb(p.read_text("utf-8"), p.name) for p in notebook_sources(src_dir)
    }
    for path, text in converted.items():
        data = text.encode("utf-8")
        if not path.is_file() or path.read_bytes() != data:
            atomic.write_bytes(path, data)
    manifest = Manifest(Path(docs_dir))
    manifest.remove_stale(STAGE, converted)
    manifest.record(STAGE, converted)
    return sorted(converted)
