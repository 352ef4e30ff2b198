"""The page registry: the site's pages in order, and the one function that builds their contexts.

Each page module ``generator/pages/<page>.py`` exposes ``context(data: Dataset) -> dict``
(generator/contract/dataset.py: the contract files and ``data/grid.json``, never a config); the page
templates ``templates/pages/<page>.<lang>.md.j2`` see it as ``page`` (their own) and can reach any
other page's context as ``pages.<name>`` (for cross-references). Both languages render from the same
dict, so a number can never differ between the Korean and the English page.
"""

from __future__ import annotations

from generator.pages import (activations, batchnorm, conclusions, gradients, he, index, initialization,
                             references, reproducibility, results, seed, theory, training, xavier)
from generator.pages.summary import config_summary, data_dictionary

# Site order (the nav in site/mkdocs.yml follows it; tests check they agree) -> the page's context.
CONTEXTS = {
    "index": index.context,
    "initialization": initialization.context,
    "xavier": xavier.context,
    "he": he.context,
    "activations": activations.context,
    "gradients": gradients.context,
    "batchnorm": batchnorm.context,
    "training": training.context,
    "theory": theory.context,
    "results": results.context,
    "seed": seed.context,
    "conclusions": conclusions.context,
    "reproducibility": reproducibility.context,
    "references": references.context,
}
PAGES = tuple(CONTEXTS)


def build_context(data) -> dict:
    """The render context of the whole site from a Dataset."""
    return {
        "config": config_summary(data.grid),
        "data_dictionary": data_dictionary(),
        "pages": {name: context(data) for name, context in CONTEXTS.items()},
        "page_order": list(PAGES),
    }
