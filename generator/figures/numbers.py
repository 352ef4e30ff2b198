"""Numbers printed inside figures, in the site's one number format (generator.render.filters.num).

Only the drawing modules that print numbers import this module (the heatmaps' cell labels, the
training figures' learning rates), so a change to the number format re-renders exactly those figures:
a figure's cache key is the import closure of the module that draws it (generator/common/imports.py).
"""

from __future__ import annotations

import numpy as np

from generator.render.filters import num


def fmt_sig(v: float, digits: int = 3) -> str:
    """``v`` as the site's prose and tables write it (generator.render.filters.num): 3 significant digits,
    ``1.02×10⁻⁵`` below 1e-3 and from 1e5, real minus sign — one number format on every surface."""
    if v is None or not np.isfinite(v):
        return "—"
    return num(float(v), "en", sig=digits)
