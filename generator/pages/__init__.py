"""Page contexts: the numbers each page's prose uses, computed in Python from the data files.

One module per page (``generator/pages/<page>.py``) exposes ``context(data: Dataset) -> dict``; the
registry (generator/pages/registry.py) lists the pages in site order and builds the render context.
Pages read the data contract only (generator/contract/dataset.py), never a config.

Layout logic lives here, not in templates: selections, comparisons, verdicts and their rules.
"""
