"""The page registry: the site's pages in order, and the one function that builds their contexts.

Each page module ``generator/pages/<page>.py`` exposes ``context(data: Dataset) -> dict``
(generator/contract/dataset.py: the contract files and ``data/grid.json``, never a config); the page
templates ``templates/pages/<page>.<lang>.md.j2`` see it as ``page`` (their own) and can reach any
other page's context as ``pages.<name>`` (for cross-references). Both languages render from the same
dict, so a number can never differ between the Korean and the English page.

:data:`SECTIONS` groups the pages for the navigation (generator/pipeline/nav.py): ``(section, pages)``
in site order, the first group (``None``) at the top level, the others titled ``nav_section.<section>``
in the strings catalog. The site order (:data:`PAGES`) is the sections' order; every page is in
exactly one section (tests/test_structure.py).
"""

from __future__ import annotations

from generator.pages import (
    activations,
    batchnorm,
    conclusions,
    explorer,
    gradients,
    guide,
    he,
    index,
    initialization,
    phase,
    references,
    reproducibility,
    results,
    seed,
    theory,
    training,
    xavier,
)
from generator.pages.summary import config_summary, data_dictionary

# The navigation's groups: the answers first, then the topics, then the data and how they were made.
SECTIONS = (
    (None, ("index", "guide", "explorer", "conclusions")),
    ("basics", ("initialization", "activations", "gradients")),
    ("initialization", ("xavier", "he")),
    ("normalization", ("batchnorm", "training")),
    ("theory", ("theory", "phase")),
    ("method", ("results", "seed", "reproducibility", "references")),
)
_CONTEXT = {
    "index": index.context,
    "guide": guide.context,
    "explorer": explorer.context,
    "conclusions": conclusions.context,
    "initialization": initialization.context,
    "activations": activations.context,
    "gradients": gradients.context,
    "xavier": xavier.context,
    "he": he.context,
    "batchnorm": batchnorm.context,
    "training": training.context,
    "theory": theory.context,
    "phase": phase.context,
    "results": results.context,
    "seed": seed.context,
    "reproducibility": reproducibility.context,
    "references": references.context,
}
# Site order (the sections' order; the generated nav follows it) -> the page's context.
CONTEXTS = {page: _CONTEXT[page] for _, pages in SECTIONS for page in pages}
PAGES = tuple(CONTEXTS)


def build_context(data) -> dict:
    """The render context of the whole site from a Dataset."""
    return {
        "config": config_summary(data.grid),
        "data_dictionary": data_dictionary(),
        "pages": {name: context(data) for name, context in CONTEXTS.items()},
        "page_order": list(PAGES),
    }
