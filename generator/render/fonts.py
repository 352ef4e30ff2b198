"""Fonts and matplotlib settings for every initlab figure (Korean and English).

Hangul comes from the NanumGothic ``.ttf`` files *shipped inside the koreanize-matplotlib wheel*.
We only read its package data: ``import koreanize_matplotlib`` is never executed, because that
import calls ``koreanize()``, which mutates the global rcParams (and sets ``axes.unicode_minus``
to False). The files are located through the installed distribution's file list
(``importlib.metadata``) or, failing that, ``importlib.util.find_spec`` -- neither runs the
package's ``__init__``. A system copy of NanumGothic (e.g. Debian ``fonts-nanum``) is never relied
on: the packaged files are put first in the font list, so :func:`matplotlib.font_manager.findfont`
resolves ``NanumGothic`` to them on every machine (same glyph outlines -> same SVG bytes).

NanumGothic has no U+2212 MINUS SIGN glyph. ``font.family = ["NanumGothic", "DejaVu Sans"]``
uses matplotlib's per-glyph font fallback (matplotlib >= 3.6), so the real minus sign (and any
other glyph NanumGothic lacks) is drawn from DejaVu Sans, which ships with matplotlib itself.

Nothing here runs at import time. Call :func:`setup_matplotlib` (idempotent) to select the Agg
backend and register the fonts; it returns the rcParams dict :data:`STYLE`. Build *and* save
every figure inside :func:`style_context` (a :func:`matplotlib.rc_context`), so global rcParams
are left untouched and two renders are byte-identical.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import importlib.util
from pathlib import Path

import matplotlib

FONT_FAMILY = "NanumGothic"
FALLBACK_FAMILY = "DejaVu Sans"
FONT_FILES = ("NanumGothic.ttf",)  # regular only: NanumGothicBold is weight 600, DejaVu Sans Bold 700;
# asking for either weight makes findfont log "Failed to find font weight" for the other, so all
# initlab text is regular weight (titles are set apart by size).
_DIST = "koreanize-matplotlib"
_PKG = "koreanize_matplotlib"

# Okabe & Ito (2008) colour-blind-safe palette (black moved last: coloured lines read better).
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000")

# 7.5 in wide at 96 CSS px/in = 720 px: SVG figures map 1:1 onto the 720 px content column.
FIG_WIDTH_IN = 7.5

STYLE: dict = {
    "font.family": [FONT_FAMILY, FALLBACK_FAMILY],
    "font.size": 10.0,
    "axes.titlesize": 10.5,
    "axes.labelsize": 10.0,
    "xtick.labelsize": 9.0,
    "ytick.labelsize": 9.0,
    "legend.fontsize": 9.0,
    "figure.titlesize": 12.0,
    "figure.titleweight": "normal",
    "axes.unicode_minus": True,  # U+2212 in tick labels (drawn from DejaVu Sans via fallback)
    "mathtext.fontset": "dejavusans",  # log-axis tick labels "10^k" are mathtext
    "mathtext.default": "regular",
    "text.usetex": False,
    "svg.fonttype": "path",  # text as outlines: browsers need no (Korean) web font
    "svg.hashsalt": "initlab",  # deterministic clip-path / hatch ids
    "svg.id": None,
    "svg.image_inline": True,
    "path.simplify": True,
    "path.simplify_threshold": 0.111111111111,
    "path.snap": True,
    "agg.path.chunksize": 0,
    "figure.dpi": 100.0,
    "savefig.dpi": 150.0,  # PNG only; SVG is resolution independent
    "savefig.bbox": None,  # fixed canvas size: every figure has its declared size
    "savefig.facecolor": "white",
    "savefig.transparent": False,
    "figure.facecolor": "white",
    "figure.constrained_layout.use": False,
    "axes.prop_cycle": matplotlib.cycler(color=list(OKABE_ITO)),
    "image.cmap": "viridis",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#d0d0d0",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "axes.formatter.use_locale": False,
    "axes.formatter.useoffset": False,
    "axes.formatter.limits": (-3, 4),
    "legend.frameon": False,
    "lines.linewidth": 1.6,
    "lines.markersize": 5.0,
    "hatch.linewidth": 0.8,
    "hatch.color": "#555555",
    "image.interpolation": "nearest",
}


def font_dir() -> Path:
    """Directory holding koreanize-matplotlib's bundled NanumGothic files (package not imported)."""
    try:
        dist = importlib.metadata.distribution(_DIST)
        for f in dist.files or ():
            if f.name == FONT_FILES[0] and f.parts[0] == _PKG:
                path = Path(dist.locate_file(f)).resolve()
                if path.is_file():
                    return path.parent
    except importlib.metadata.PackageNotFoundError:
        pass
    spec = importlib.util.find_spec(_PKG)  # a top-level find_spec does not execute the package
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"{_DIST} is not installed; it provides the NanumGothic font (pip install {_DIST})")
    path = Path(next(iter(spec.submodule_search_locations))) / "fonts"
    if not (path / FONT_FILES[0]).is_file():
        raise RuntimeError(f"{FONT_FILES[0]} not found in {path}")
    return path.resolve()


def font_path() -> Path:
    """Path of the packaged NanumGothic (regular) ``.ttf``."""
    return font_dir() / FONT_FILES[0]


@functools.cache
def register_fonts() -> tuple[Path, ...]:
    """Add the packaged NanumGothic files to matplotlib's font manager (once per process).

    They are moved to the front of ``fontManager.ttflist``: findfont keeps the *first* best-scoring
    entry, so a system NanumGothic with the same name never wins.
    """
    from matplotlib import font_manager

    paths = tuple(font_dir() / name for name in FONT_FILES if (font_dir() / name).is_file())
    fm = font_manager.fontManager
    for p in paths:
        fm.addfont(str(p))
    ours = {str(p) for p in paths}
    mine = [e for e in fm.ttflist if e.fname in ours]
    fm.ttflist[:] = mine + [e for e in fm.ttflist if e.fname not in ours]
    fm._findfont_cached.cache_clear()  # addfont does this too; reordering needs it again
    return paths


@functools.cache
def _use_agg() -> None:
    # Figures are built with matplotlib.figure.Figure (never pyplot), so the backend only matters
    # to callers that do use pyplot; Agg keeps them headless.
    matplotlib.use("Agg")


def setup_matplotlib() -> dict:
    """Select the Agg backend, register NanumGothic, and return a copy of :data:`STYLE`.

    Idempotent and free of rcParams side effects: apply the returned dict with
    :func:`style_context` (or ``matplotlib.rc_context``).
    """
    _use_agg()
    register_fonts()
    return dict(STYLE)


@contextlib.contextmanager
def style_context():
    """``with style_context(): ...`` -- build and save figures with initlab's settings."""
    style = setup_matplotlib()
    with matplotlib.rc_context(style):
        yield style
