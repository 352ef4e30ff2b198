"""Deterministic figure files.

**SVG is the site format.** It is crisp at any zoom and on high-DPI screens, small for line charts,
and with ``svg.fonttype = "path"`` every glyph (Hangul included) is an outline, so the page needs
no Korean web font and looks the same in every browser. Determinism: no ``Date``/``Creator``
metadata, ``svg.hashsalt`` fixes the clip-path/hatch ids, ``svg.id`` is unset, glyph ids derive
from the (packaged, hence fixed) font files -- so rendering the same data twice gives the same bytes,
and a content hash of the file is a valid cache key.

**PNG** (``save_figure(fig, "x.png")``) is offered for the README / social cards: Agg is
deterministic too, and ``Software`` metadata is dropped so the bytes do not depend on the
matplotlib version string.

Files are written to a temporary sibling and renamed into place, so parallel renders never leave
a half-written file behind.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

from generator.common import atomic
from generator.render.fonts import style_context

SVG_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}
PNG_METADATA = {"Software": None}


def figure_bytes(fig, fmt: str = "svg", dpi: float | None = None) -> bytes:
    """Serialize ``fig`` to SVG or PNG bytes with initlab's settings (deterministic)."""
    fmt = fmt.lower()
    buf = io.BytesIO()
    with style_context():
        if fmt == "svg":
            fig.savefig(buf, format="svg", metadata=SVG_METADATA)
        elif fmt == "png":
            fig.savefig(buf, format="png", metadata=PNG_METADATA, dpi=dpi or matplotlib.rcParams["savefig.dpi"])
        else:
            raise ValueError(f"unsupported figure format {fmt!r}; valid: svg, png")
    return buf.getvalue()


def save_figure(fig, path, dpi: float | None = None) -> Path:
    """Write ``fig`` to ``path`` (format from the suffix: .svg or .png) atomically; return the path."""
    path = Path(path)
    data = figure_bytes(fig, path.suffix.lstrip(".") or "svg", dpi=dpi)
    atomic.write_bytes(path, data)
    return path
