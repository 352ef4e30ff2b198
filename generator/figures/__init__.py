"""The figures layer: matplotlib drawing functions, one Korean and one English file per figure.

``registry.py`` lists every figure (grid, page and training figures) without importing matplotlib;
``draw.py`` resolves a figure's drawing function and saves it (``io.py``: deterministic SVG/PNG);
``style.py`` and ``data.py`` hold the shared look and the aggregations the drawings use.
"""
