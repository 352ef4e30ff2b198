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
training figures, which exist only when it is given).

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

``_<norm>`` is omitted for norm ``none``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from generator.analysis.rules import MATCH_TOL, MATCHING
from generator.contract.seed_cases import scale_text
from generator.render import strings

# Contract tables of the grid figures and of the training figures (table key -> file in data/).
GRID_TABLES = {"propagation": "propagation.csv", "hist": "histograms.csv", "theory": "theory.csv",
               "theory_fixed": "theory_fixed.csv", "symmetry": "symmetry.csv",
               "seed_code": "seed_code.csv", "seed_printed": "seed_printed.csv"}
TRAINING_TABLES = {n: f"{n}.csv" for n in (
    "training_init", "training_lr", "training_speed", "training_fig1", "training_depth", "training_depth_grads",
    "training_batch", "training_reg", "training_preprocess")}
TABLE_FILES = {**GRID_TABLES, **TRAINING_TABLES}

# The instances the grid figures draw (inits/activations not in the grid are skipped).
SEED_CASES = (("small", "tanh"), ("large", "tanh"), ("xavier", "tanh"), ("xavier", "relu"), ("he", "relu"))
# With a normalization only the cases a page shows are drawn (the batchnorm page: small and large tanh);
# the others shipped in both languages and were never referenced (issue 15).
SEED_CASES_NORM = {"bn": (("small", "tanh"), ("large", "tanh"))}
COMPARE_INITS = ("small", "large", "xavier", "he")
COMPARE_ACTIVATIONS = ("tanh", "relu")
GRAD_INITS = ("small", "large", "xavier", "he")
THEORY_INITS = ("small", "large", "xavier", "he")
# activation_curves: x range. Sigmoid's slope falls below 1% of its maximum only past |x| ~ 6, so a
# narrower range would hide the saturation the figure is there to show.
CURVE_RANGE = (-8.0, 8.0)
CURVE_X_MAX = f"{CURVE_RANGE[1]:g}"  # as printed in the alt text and caption
# basics_lines: key -> (strings table, inits, activations)
LINE_SETS = {
    "glorot": ("xavier.fig_glorot", ("xavier", "glorot_normal", "glorot_uniform"), ("tanh", "relu")),
    "he": ("he.fig_he", ("xavier", "he", "he_uniform"), ("relu", "leaky_relu", "selu")),
}


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


def _label(lang: str, group: str, ident: str) -> str:
    return strings.t(lang, f"fig.{group}.{ident}")


def _names(lang: str, group: str, idents) -> str:
    return ", ".join(_label(lang, group, i) for i in idents)


def _present(wanted, have) -> tuple:
    return tuple(x for x in wanted if x in have)


# --- job providers: axes -> [params] -----------------------------------------------------------


def _per_norm(axes: dict, make) -> list[dict]:
    return [p for norm in axes["norms"] for p in make(norm)]


def _jobs_seed_case(axes):
    def cases(norm):
        return SEED_CASES if norm == "none" else SEED_CASES_NORM.get(norm, ())
    return _per_norm(axes, lambda norm: [{"init": i, "activation": a, "norm": norm} for i, a in cases(norm)
                                         if i in axes["inits"] and a in axes["activations"]])


def _jobs_seed_compare(axes):
    """Without normalization only: the pages show no normalized comparison."""
    inits, acts = _present(COMPARE_INITS, axes["inits"]), _present(COMPARE_ACTIVATIONS, axes["activations"])
    return [{"inits": inits, "activations": acts, "norm": "none"}] if inits and acts and "none" in axes["norms"] else []


def _jobs_grad_std(axes):
    inits = _present(GRAD_INITS, axes["inits"])
    return _per_norm(axes, lambda norm: [{"activation": a, "inits": inits, "norm": norm} for a in ("tanh", "relu")
                                         if inits and a in axes["activations"]])


def _jobs_theory(axes):
    inits = _present(THEORY_INITS, axes["inits"])  # the theory assumes no BN: norm none only
    return [{"activation": a, "inits": inits} for a in axes["activations"]] if inits and "none" in axes["norms"] else []


def _jobs_by_norm(axes):
    return [{"norm": norm} for norm in axes["norms"]]


def _jobs_basics_lines(axes):
    out = []
    for key, (_, inits, acts) in LINE_SETS.items():
        i, a = _present(inits, axes["inits"]), _present(acts, axes["activations"])
        if "none" in axes["norms"] and len(i) >= 2 and a:
            out.append({"key": key, "inits": i, "activations": a})
    return out


def _jobs_basics_matched(axes):
    pairs = tuple((a, i) for a, i in MATCHING.items() if a in axes["activations"] and i in axes["inits"])
    return [{"matching": pairs}] if pairs and "none" in axes["norms"] else []


def _jobs_grad_factors(axes):
    return [{"tol": MATCH_TOL, "norm": "none"}] if "none" in axes["norms"] else []


def _jobs_bn_spread(axes):
    norms = _present(("none", "bn", "bn_post"), axes["norms"])
    return [{"norms": norms}] if "none" in norms and "bn" in norms else []  # the batchnorm page's condition


def _once(axes):
    return [{}]


def _jobs_training(axes):
    target = axes.get("target_accuracy")
    return [] if target is None else [{"target_accuracy": target}]


# --- alt text ----------------------------------------------------------------------------------


def _alt_seed_case(lang, p):
    return strings.t(lang, "fig.seed_case.alt", init=_label(lang, "init", p["init"]),
                     activation=_label(lang, "activation", p["activation"]),
                     norm=_label(lang, "norm", p.get("norm", "none")))


def _alt_seed_compare(lang, p):
    return strings.t(lang, "fig.seed_compare.alt", inits=_names(lang, "init", p.get("inits", COMPARE_INITS)),
                     activations=_names(lang, "activation", p.get("activations", COMPARE_ACTIVATIONS)))


def _alt_grad(lang, p):
    return strings.t(lang, "fig.grad_std.alt", activation=_label(lang, "activation", p["activation"]),
                     norm=_label(lang, "norm", p.get("norm", "none")),
                     inits=_names(lang, "init", p.get("inits", GRAD_INITS)))


def _alt_theory(lang, p):
    return strings.t(lang, "fig.theory.alt", activation=_label(lang, "activation", p["activation"]),
                     inits=_names(lang, "init", p.get("inits", THEORY_INITS)))


def _alt_heatmap(key):
    return lambda lang, p: strings.t(lang, f"fig.{key}.alt", norm=_label(lang, "norm", p.get("norm", "none")))


def _alt_lines(lang, p):
    table, d_inits, d_acts = LINE_SETS[p["key"]]
    return strings.t(lang, f"{table}.alt", inits=_names(lang, "init", p.get("inits", d_inits)),
                     activations=_names(lang, "activation", p.get("activations", d_acts)))


def _alt_key(key, **fmt):
    return lambda lang, p: strings.t(lang, key, **fmt)


def _alt_seed_rerun(lang, p):
    scales = {k: scale_text(f"{k}_tanh") for k in ("small", "large")}
    return strings.t(lang, "seed_page.fig.seed_rerun.alt", **scales)


def _fixed(stem):
    return lambda **_: stem


_FIG = "generator.figures."
_SPECS = (
    FigureSpec("seed_case", _FIG + "seed_cases:seed_case", ("propagation", "hist"),
               lambda init, activation, norm="none", **_: f"seed_case_{activation}_{init}{_suffix(norm)}",
               _alt_seed_case, _jobs_seed_case),
    FigureSpec("seed_compare", _FIG + "seed_cases:seed_compare", ("propagation",),
               lambda norm="none", **_: f"seed_compare{_suffix(norm)}", _alt_seed_compare, _jobs_seed_compare),
    FigureSpec("grad_std", _FIG + "lines:grad_std", ("propagation",),
               lambda activation, norm="none", **_: f"grad_std_{activation}{_suffix(norm)}", _alt_grad, _jobs_grad_std),
    FigureSpec("heatmap_std", _FIG + "heatmaps:heatmap_std", ("propagation",),
               lambda norm="none", **_: f"heatmap_std{_suffix(norm)}", _alt_heatmap("heatmap_std"), _jobs_by_norm),
    FigureSpec("heatmap_gradratio", _FIG + "heatmaps:heatmap_gradratio", ("propagation",),
               lambda norm="none", **_: f"heatmap_gradratio{_suffix(norm)}", _alt_heatmap("heatmap_gradratio"),
               _jobs_by_norm),
    FigureSpec("theory", _FIG + "lines:theory_vs_measured", ("propagation", "theory"),
               lambda activation, **_: f"theory_{activation}", _alt_theory, _jobs_theory),
    FigureSpec("grad_factors", _FIG + "gradients:grad_factors", ("propagation",), _fixed("grad_factors"),
               _alt_key("gradients.fig.factors.alt"), _jobs_grad_factors),
    FigureSpec("bn_spread", _FIG + "batchnorm:bn_spread", ("propagation",), _fixed("bn_spread"),
               _alt_key("batchnorm.fig.spread.alt"), _jobs_bn_spread),
    FigureSpec("basics_lines", _FIG + "basics:basics_lines", ("propagation",), lambda key, **_: f"basics_{key}",
               _alt_lines, _jobs_basics_lines),
    FigureSpec("basics_matched", _FIG + "basics:basics_matched", ("propagation",), _fixed("basics_matched"),
               _alt_key("activations.fig_matched.alt"), _jobs_basics_matched),
    FigureSpec("activation_curves", _FIG + "basics:activation_curves", (), _fixed("activation_curves"),
               _alt_key("activations.fig_curves.alt", x_max=CURVE_X_MAX), _once),
    FigureSpec("seed_rerun", _FIG + "seed_rerun:seed_rerun", ("seed_code", "seed_printed"), _fixed("seed_rerun"),
               _alt_seed_rerun, _once),
)
# training figure -> (drawing function in generator/figures/training.py, strings key, tables)
_TRAINING = {
    "training_init": ("fig_init", "init", ("training_init",)),
    "training_lr": ("fig_lr", "lr", ("training_lr",)),
    "training_speed": ("fig_speed", "speed", ("training_speed",)),
    "training_fig1": ("fig_fig1", "fig1", ("training_fig1",)),
    "training_depth": ("fig_depth", "depth", ("training_depth", "training_depth_grads")),
    "training_batch": ("fig_batch", "batch", ("training_batch",)),
    "training_reg": ("fig_reg", "reg", ("training_reg",)),
    "training_preprocess": ("fig_preprocess", "pre", ("training_preprocess",)),
}
TRAINING_FIGURES = tuple(_TRAINING)

FIGURES: dict[str, FigureSpec] = {spec.name: spec for spec in _SPECS}
FIGURES.update({name: FigureSpec(name, f"{_FIG}training:{func}", tables, _fixed(name),
                                 _alt_key(f"fig.training.{key}.alt"), _jobs_training)
                for name, (func, key, tables) in _TRAINING.items()})


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


def figure_jobs(config_axes, target_accuracy: float | None = None) -> list[FigureJob]:
    """Every figure instance the site needs for a config's grid (each rendered once per language).

    Cases whose init/activation is not in the grid are skipped; comparison figures keep the inits
    that are present. Theory figures exist for norm ``none`` only (the theory assumes no BN). The
    training figures are included when ``target_accuracy`` (drawn as their target line) is given.
    """
    axes = {**_axes(config_axes), "target_accuracy": target_accuracy}
    return [FigureJob(s.name, tuple(sorted(p.items()))) for s in FIGURES.values() for p in s.jobs(axes)]
