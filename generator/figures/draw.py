"""Draw a registered figure: resolve its function and save one deterministic file per format.

    build_figure(name, data, lang, **params) -> matplotlib.figure.Figure
    render_figure(name, data, lang, out_dir, formats=("svg",), **params) -> Path   # out_dir/<stem>.<lang>.svg
    drawing_function(name) -> the function a spec names ("generator.figures.heatmaps:heatmap_std")

This is the only dynamic import in generator/figures/: :mod:`generator.figures.registry` names each
drawing function by dotted path, so enumerating figures loads no matplotlib and only drawing does.
Figures are ``matplotlib.figure.Figure`` objects (no pyplot), built and saved inside
:func:`generator.render.fonts.style_context`; saving is :func:`generator.figures.io.save_figure`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from pathlib import Path

from generator.common.languages import LANGUAGES
from generator.figures.io import save_figure
from generator.figures.registry import figure_stem, spec
from generator.render.fonts import style_context

PACKAGE = "generator.figures."


def drawing_function(name: str) -> Callable:
    """The function the registry names for figure ``name`` (a module of generator/figures/ only)."""
    module, _, func = spec(name).draw.partition(":")
    if not module.startswith(PACKAGE) or not func:
        raise ValueError(
            f"figure {name!r}: drawing function must be '{PACKAGE}<module>:<function>', not {spec(name).draw!r}"
        )
    return getattr(importlib.import_module(module), func)


def build_figure(name: str, data: Mapping, lang: str, **params):
    """Build (but do not save) one figure; the caller saves it with :func:`save_figure`."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; valid: {', '.join(LANGUAGES)}")
    func = drawing_function(name)
    with style_context():
        return func(data, lang, **params)


def render_figure(name: str, data: Mapping, lang: str, out_dir, formats=("svg",), **params) -> Path:
    """Build one figure and write ``out_dir/<stem>.<lang>.<fmt>`` for each format; return the first path."""
    stem = figure_stem(name, **params)
    func = drawing_function(name)
    out_dir = Path(out_dir)
    paths = []
    with style_context():
        fig = func(data, lang, **params)
        for fmt in formats:
            paths.append(save_figure(fig, out_dir / f"{stem}.{lang}.{fmt}"))
    return paths[0]
