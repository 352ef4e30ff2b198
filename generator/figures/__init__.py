"""The figures layer: matplotlib drawing functions, one Korean and one English file per figure.

``registry.py`` lists every figure (grid, page and training figures) without importing matplotlib;
``draw.py`` resolves a figure's drawing function and saves it (``io.py``: deterministic SVG/PNG);
``style.py`` holds the shared look and ``numbers.py`` the number format printed inside figures. The
numbers the drawings show come from generator/analysis/.
"""
