"""The pages layer: analysis results -> the display dicts the templates print.

One module per page (``generator/pages/<page>.py``) exposes ``context(data: Dataset) -> dict``; the
registry (registry.py) lists the pages in site order and builds the render context (summary.py: the
grid summary and the data dictionary every page may show). Pages read the data contract only
(generator/contract/dataset.py, grid facts from data/grid.json), never a config; the numbers and
verdicts come from generator/analysis/, and a page arranges them (labels, localized tables).
"""
