"""The code behind each page: which repository files compute what a page shows.

:data:`COMPUTED_BY` maps every page of the registry to the modules its numbers come from, in the order a
reader would follow them (the experiment that produced the data, the engine it ran, the analysis that
turned the data into numbers and verdicts, the figures drawn from it). :func:`page_sources` adds what
every page has: its page module ``generator/pages/<page>.py`` and its two templates
``templates/pages/<page>.{ko,en}.md.j2``. Paths are repository-relative POSIX paths; the HTML build
renders them at the end of each page as links ``<repo_url>/blob/<ref>/<path>`` (or as plain paths when
the build knows no repository; generator/pipeline/links.py). tests/test_repo_links.py checks that every
page has an entry and every path exists.
"""

from __future__ import annotations

from generator.common.languages import LANGUAGES

_PROPAGATION = (
    "generator/experiments/propagation.py",
    "generator/engine/network.py",
    "generator/engine/inits.py",
    "generator/engine/activations.py",
    "generator/engine/activation_kernels.py",
    "generator/analysis/seeds.py",
)
_HEALTH = ("generator/analysis/health.py", "generator/analysis/rules.py")
_TRAINING = (
    "generator/experiments/training_run.py",
    "generator/engine/mlp.py",
    "generator/engine/layers.py",
    "generator/engine/digits.py",
)

COMPUTED_BY: dict[str, tuple[str, ...]] = {
    "index": _PROPAGATION + _HEALTH + ("generator/figures/heatmaps.py",),
    "guide": _HEALTH
    + ("generator/analysis/recommend.py", "generator/engine/theory.py", "generator/analysis/training.py"),
    "explorer": _PROPAGATION
    + _HEALTH
    + (
        "generator/pages/explorer_data.py",
        "generator/analysis/explorer_examples.py",
        "generator/pipeline/explorer_stage.py",
        "generator/engine/theory.py",
        "site/assets/explorer/explorer.js",
    ),
    "initialization": _PROPAGATION + _HEALTH + ("generator/experiments/symmetry.py",),
    "xavier": _PROPAGATION + _HEALTH + ("generator/analysis/verdicts.py",),
    "he": _PROPAGATION + _HEALTH,
    "activations": _PROPAGATION + _HEALTH + ("generator/figures/basics.py",),
    "gradients": _PROPAGATION
    + ("generator/analysis/factors.py", "generator/analysis/rules.py", "generator/figures/gradients.py"),
    "batchnorm": _PROPAGATION
    + ("generator/engine/layers.py", "generator/analysis/batchnorm.py", "generator/figures/batchnorm.py"),
    "training": _TRAINING
    + (
        "generator/experiments/training_plan.py",
        "generator/analysis/training_tables.py",
        "generator/analysis/training_stats.py",
        "generator/figures/training.py",
        "generator/figures/training_reg.py",
    ),
    "theory": ("generator/engine/theory.py", "generator/analysis/factors.py", "generator/analysis/seeds.py"),
    "phase": (
        "generator/engine/phase.py",
        "generator/engine/theory.py",
        "generator/experiments/phase_plan.py",
        "generator/experiments/phase_run.py",
        "generator/experiments/trainability_run.py",
        "generator/experiments/training_run.py",
        "generator/pipeline/phase_stage.py",
        "generator/pipeline/trainability_stage.py",
        "generator/analysis/phase.py",
        "generator/analysis/trainability.py",
        "generator/figures/phase.py",
    ),
    "results": _PROPAGATION + ("generator/analysis/factors.py", "generator/figures/lines.py"),
    "seed": (
        "generator/experiments/seed_code.py",
        "generator/analysis/seed_note.py",
        "generator/figures/seed_cases.py",
        "generator/figures/seed_rerun.py",
    ),
    "conclusions": (
        "generator/analysis/verdicts.py",
        "generator/analysis/claims.py",
        "generator/analysis/claim_stats.py",
        "generator/analysis/claim_rules.py",
        "generator/analysis/training.py",
        "generator/analysis/training_rules.py",
    ),
    "reproducibility": (
        "generator/pages/summary.py",
        "generator/contract/schema.py",
        "generator/pipeline/stages.py",
        "generator/pipeline/stamp.py",
    ),
    "references": (),
}


def page_sources(page: str) -> tuple[str, ...]:
    """The page module, the modules of :data:`COMPUTED_BY`, then the page's templates (no duplicates).
    ``KeyError`` for a page without an entry."""
    paths = (
        f"generator/pages/{page}.py",
        *COMPUTED_BY[page],
        *(f"templates/pages/{page}.{lang}.md.j2" for lang in LANGUAGES),
    )
    return tuple(dict.fromkeys(paths))
