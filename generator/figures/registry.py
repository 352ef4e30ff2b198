"""The one registry of the site's figures: grid, page and training figures, without matplotlib.

Public API::

    FIGURES: dict[str, FigureSpec]              # name -> spec (drawing function by dotted path, tables, stem, alt, jobs)
    figure_jobs(config_axes, target_accuracy=None) -> list[FigureJob]   # every figure instance the site needs
    figure_stem(name, **params) -> str          # e.g. "seed_case_tanh_small"
    figure_alt(name, lang, **params) -> str     # alt text from the strings catalog
    TABLE_FILES: dict[str, str]                 # table key (as in FigureSpec.tables) -> contract file

A spec names its drawing function as ``"generator.figures.<module>:<function>"``; only
:mod:`generator.figures.draw` imports it (and matplotlib), so pages and the pipeline can enumerate
figures, stems and alt text without loading any plotting code. A drawing function has the signature
``(data: dict[str, DataFrame], lang: str, **params) -> Figure`` where ``data`` holds at least the
tables of its spec (keys of :data:`TABLE_FILES`). ``jobs(axes)`` gives the params of every instance
the site needs for a grid (``axes``: inits, activations, norms; plus ``target_accuracy`` for the
training figures, which exist only when it is given). The job providers, the alt-text functions and the
cases the grid figures show (``SEED_CASES``, ``CURVE_RANGE``, ...) are in generator/figures/instances.py.

Files (default grid: 9 inits x 8 activations x norms none/bn)::

    seed_case_<act>_<init>[_<norm>]   seed's plots: mean/std per layer (band over seeds) + histograms
                                      (with a norm: SEED_CASES_NORM only)
    seed_compare                      small vs large vs xavier vs he, std per layer, tanh | relu, log y (norm none)
    grad_std_<act>[_<norm>]           backpropagated gradient std per layer, log y
    theory_<act>                      theory (lines) vs measured (markers) std per layer, log y
    heatmap_std[_<norm>]              last-layer std over init x activation, log colour scale
    heatmap_gradratio[_<norm>]        last-layer ||dL/dW|| / ||W|| over init x activation
    grad_factors, bn_spread           gradients / batchnorm pages (figures/gradients.py, figures/batchnorm.py)
    basics_<key>, basics_matched, activation_curves   basics pages (generator/figures/basics.py)
    seed_rerun                        the seed page: the note's printouts next to its code re-run
    training_<name>                   the training page (generator/figures/training.py)
    phase_<name>                      the phase page (generator/figures/phase.py; only when its tables exist)

``_<norm>`` is omitted for norm ``none``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from generator.figures import instances as inst
from generator.figures.instances import CURVE_X_MAX

# Contract tables of the grid figures and of the training figures (table key -> file in data/).
GRID_TABLES = {
    "propagation": "propagation.csv",
    "hist": "histograms.csv",
    "theory": "theory.csv",
    "theory_fixed": "theory_fixed.csv",
    "symmetry": "symmetry.csv",
    "seed_code": "seed_code.csv",
    "seed_printed": "seed_printed.csv",
}
TRAINING_TABLES = {
    n: f"{n}.csv"
    for n in (
        "training_init",
        "training_lr",
        "training_speed",
        "training_fig1",
        "training_depth",
        "training_depth_grads",
        "training_batch",
        "training_reg",
        "training_preprocess",
    )
}
# The phase page's tables (issue 17 item 7), written by the phase and trainability stages when configured.
PHASE_TABLES = {n: f"{n}.csv" for n in ("phase_theory", "phase_critical", "phase_measured", "trainability")}
TABLE_FILES = {**GRID_TABLES, **TRAINING_TABLES, **PHASE_TABLES}


@dataclass(frozen=True)
class FigureSpec:
    name: str
    draw: str  # "generator.figures.<module>:<function>", (data, lang, **params) -> Figure
    tables: tuple[str, ...]  # keys of TABLE_FILES the figure reads (for cache keys)
    stem: Callable[..., str] = field(repr=False)  # (**params) -> file stem without language/suffix
    alt: Callable[[str, dict], str] = field(repr=False)  # (lang, params) -> alt text
    jobs: Callable[[dict], list[dict]] = field(repr=False)  # (axes) -> params of every instance


@dataclass(frozen=True)
class FigureJob:
    name: str
    params: tuple[tuple[str, object], ...]  # sorted (key, value) pairs: hashable, picklable

    @property
    def kwargs(self) -> dict:
        return dict(self.params)

    @property
    def stem(self) -> str:
        return figure_stem(self.name, **self.kwargs)

    def filename(self, lang: str, fmt: str = "svg") -> str:
        return f"{self.stem}.{lang}.{fmt}"


def _suffix(norm: str) -> str:
    return "" if norm == "none" else f"_{norm}"


def _fixed(stem):
    return lambda **_: stem


_FIG = "generator.figures."
_SPECS = (
    FigureSpec(
        "seed_case",
        _FIG + "seed_cases:seed_case",
        ("propagation", "hist"),
        lambda init, activation, norm="none", **_: f"seed_case_{activation}_{init}{_suffix(norm)}",
        inst.alt_seed_case,
        inst.jobs_seed_case,
    ),
    FigureSpec(
        "seed_compare",
        _FIG + "seed_cases:seed_compare",
        ("propagation",),
        lambda norm="none", **_: f"seed_compare{_suffix(norm)}",
        inst.alt_seed_compare,
        inst.jobs_seed_compare,
    ),
    FigureSpec(
        "grad_std",
        _FIG + "lines:grad_std",
        ("propagation",),
        lambda activation, norm="none", **_: f"grad_std_{activation}{_suffix(norm)}",
        inst.alt_grad,
        inst.jobs_grad_std,
    ),
    FigureSpec(
        "heatmap_std",
        _FIG + "heatmaps:heatmap_std",
        ("propagation",),
        lambda norm="none", **_: f"heatmap_std{_suffix(norm)}",
        inst.alt_heatmap("heatmap_std"),
        inst.jobs_by_norm,
    ),
    FigureSpec(
        "heatmap_gradratio",
        _FIG + "heatmaps:heatmap_gradratio",
        ("propagation",),
        lambda norm="none", **_: f"heatmap_gradratio{_suffix(norm)}",
        inst.alt_heatmap("heatmap_gradratio"),
        inst.jobs_by_norm,
    ),
    FigureSpec(
        "theory",
        _FIG + "lines:theory_vs_measured",
        ("propagation", "theory"),
        lambda activation, **_: f"theory_{activation}",
        inst.alt_theory,
        inst.jobs_theory,
    ),
    FigureSpec(
        "grad_factors",
        _FIG + "gradients:grad_factors",
        ("propagation",),
        _fixed("grad_factors"),
        inst.alt_key("gradients.fig.factors.alt"),
        inst.jobs_grad_factors,
    ),
    FigureSpec(
        "bn_spread",
        _FIG + "batchnorm:bn_spread",
        ("propagation",),
        _fixed("bn_spread"),
        inst.alt_key("batchnorm.fig.spread.alt"),
        inst.jobs_bn_spread,
    ),
    FigureSpec(
        "basics_lines",
        _FIG + "basics:basics_lines",
        ("propagation",),
        lambda key, **_: f"basics_{key}",
        inst.alt_lines,
        inst.jobs_basics_lines,
    ),
    FigureSpec(
        "basics_matched",
        _FIG + "basics:basics_matched",
        ("propagation",),
        _fixed("basics_matched"),
        inst.alt_key("activations.fig_matched.alt"),
        inst.jobs_basics_matched,
    ),
    FigureSpec(
        "activation_curves",
        _FIG + "basics:activation_curves",
        (),
        _fixed("activation_curves"),
        inst.alt_key("activations.fig_curves.alt", x_max=CURVE_X_MAX),
        inst.once,
    ),
    FigureSpec(
        "seed_rerun",
        _FIG + "seed_rerun:seed_rerun",
        ("seed_code", "seed_printed"),
        _fixed("seed_rerun"),
        inst.alt_seed_rerun,
        inst.once,
    ),
)
# training figure -> (drawing function in generator/figures/training.py or training_reg.py, strings key, tables)
_TRAINING = {
    "training_init": ("training:fig_init", "init", ("training_init",)),
    "training_lr": ("training:fig_lr", "lr", ("training_lr",)),
    "training_speed": ("training:fig_speed", "speed", ("training_speed",)),
    "training_fig1": ("training:fig_fig1", "fig1", ("training_fig1",)),
    "training_depth": ("training:fig_depth", "depth", ("training_depth", "training_depth_grads")),
    "training_batch": ("training:fig_batch", "batch", ("training_batch",)),
    "training_reg": ("training_reg:fig_reg", "reg", ("training_reg",)),
    "training_preprocess": ("training:fig_preprocess", "pre", ("training_preprocess",)),
}
TRAINING_FIGURES = tuple(_TRAINING)
# phase figure -> tables (generator/figures/phase.py); drawn when every table it reads is present
_PHASE = {
    "phase_chi1": ("phase_theory", "phase_critical"),
    "phase_xi_c": ("phase_theory", "phase_measured"),
    "phase_width": ("phase_measured",),
    "phase_trainability": ("trainability",),
}
# the measurement's settings a phase figure's analysis needs (grid.json "phase"; PHASE_PARAMS below)
_PHASE_PARAMS = {"phase_xi_c": ("q0", "c0", "points"), "phase_width": ("q0", "c0", "points")}
PHASE_FIGURES = tuple(_PHASE)

FIGURES: dict[str, FigureSpec] = {spec.name: spec for spec in _SPECS}
FIGURES.update(
    {
        name: FigureSpec(
            name, _FIG + func, tables, _fixed(name), inst.alt_key(f"fig.training.{key}.alt"), inst.jobs_training
        )
        for name, (func, key, tables) in _TRAINING.items()
    }
)
FIGURES.update(
    {
        name: FigureSpec(
            name,
            f"{_FIG}phase:{name}",
            tables,
            _fixed(name),
            inst.alt_key(f"phase.fig.{name.removeprefix('phase_')}.alt"),
            inst.jobs_if_tables(*tables, params=_PHASE_PARAMS.get(name, ())),
        )
        for name, tables in _PHASE.items()
    }
)


def spec(name: str) -> FigureSpec:
    try:
        return FIGURES[name]
    except KeyError:
        raise KeyError(f"unknown figure {name!r}; valid: {', '.join(FIGURES)}") from None


def figure_stem(name: str, **params) -> str:
    return spec(name).stem(**params)


def figure_alt(name: str, lang: str, **params) -> str:
    return spec(name).alt(lang, params)


def _axes(config_axes) -> dict:
    """Accept a Config, a PropagationConfig, or a mapping with inits/activations/norms."""
    src = getattr(config_axes, "propagation", config_axes)
    out = {}
    for key in ("inits", "activations", "norms"):
        val = src.get(key) if isinstance(src, Mapping) else getattr(src, key, None)
        if val is None:
            raise ValueError(f"figure_jobs: config has no {key!r}")
        out[key] = tuple(val)
    return out


def figure_jobs(config_axes, target_accuracy: float | None = None, tables=(), phase=None) -> list[FigureJob]:
    """Every figure instance the site needs for a config's grid (each rendered once per language).

    Cases whose init/activation is not in the grid are skipped; comparison figures keep the inits
    that are present. Theory figures exist for norm ``none`` only (the theory assumes no BN). The
    training figures are included when ``target_accuracy`` (drawn as their target line) is given, the
    phase figures when ``tables`` (keys of :data:`PHASE_TABLES` whose files exist) holds every table they read,
    drawn with ``phase`` (dict q0, c0, points: the measurement's settings; required for the measured figures).
    """
    axes = {**_axes(config_axes), "target_accuracy": target_accuracy, "tables": tuple(tables), "phase": phase}
    return [FigureJob(s.name, tuple(sorted(p.items()))) for s in FIGURES.values() for p in s.jobs(axes)]
