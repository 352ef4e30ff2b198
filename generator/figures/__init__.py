"""initlab figures: a registry of pure figure functions, one Korean and one English file each.

Public API::

    FIGURES: dict[str, FigureSpec]          # name -> spec (function, input tables, file stem)
    build_figure(name, data, lang, **params) -> matplotlib.figure.Figure
    render_figure(name, data, lang, out_dir, formats=("svg",), **params) -> Path   # out_dir/<stem>.<lang>.svg
    figure_jobs(config_axes) -> list[FigureJob]   # every figure instance the site needs
    figure_stem(name, **params) -> str            # e.g. "seed_case_tanh_small"
    figure_alt(name, lang, **params) -> str       # alt text from the strings catalog
    save_figure(fig, path) / figure_bytes(fig, fmt)   # deterministic SVG (site) / PNG (README)

A figure function has the signature ``(data: dict[str, DataFrame], lang: str, **params) -> Figure``
where ``data`` holds the contract tables ``propagation``, ``hist`` and ``theory`` (see contract.py).
It touches no global state: figures are ``matplotlib.figure.Figure`` objects (no pyplot), built and
saved inside :func:`generator.render.fonts.style_context`. All text comes from the ``[fig]`` tables of
``templates/strings/{ko,en}.toml``. Every job is independent (data in, one file out), so the
pipeline can render jobs in parallel processes and cache each file by a hash of
(``job.stem``, ``lang``, the spec's input tables, and the figures package source).

Files (default grid: 9 inits x 8 activations x norms none/bn)::

    seed_case_<act>_<init>[_<norm>]   seed's plots: mean/std per layer (band over seeds) + histograms
    seed_compare[_<norm>]             small vs large vs xavier vs he, std per layer, tanh | relu, log y
    grad_std_<act>[_<norm>]           backpropagated gradient std per layer, log y
    theory_<act>                      theory (lines) vs measured (markers) std per layer, log y
    heatmap_std[_<norm>]              last-layer std over init x activation, log colour scale
    heatmap_gradratio[_<norm>]        last-layer ||dL/dW|| / ||W|| over init x activation

``_<norm>`` is omitted for norm ``none``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

from generator.common.languages import LANGUAGES
from generator.render import strings
from generator.render.fonts import setup_matplotlib, style_context
from generator.figures import heatmaps, lines, seed_cases, style
from generator.figures.io import figure_bytes, save_figure

__all__ = [
    "FIGURES", "FigureSpec", "FigureJob", "build_figure", "render_figure", "figure_jobs", "figure_stem",
    "figure_alt", "save_figure", "figure_bytes", "setup_matplotlib", "style_context",
]


def _norm_suffix(norm: str) -> str:
    return "" if norm == "none" else f"_{norm}"


@dataclass(frozen=True)
class FigureSpec:
    name: str
    func: Callable  # (data, lang, **params) -> Figure
    tables: tuple[str, ...]  # contract tables the figure reads (for cache keys)
    stem: Callable[..., str]  # (**params) -> file stem without language/suffix
    alt: Callable[[str, dict], str] = field(repr=False)  # (lang, params) -> alt text


def _alt_seed_case(lang, p):
    return strings.t(lang, "fig.seed_case.alt", init=style.label(lang, "init", p["init"]),
                     activation=style.label(lang, "activation", p["activation"]),
                     norm=style.label(lang, "norm", p.get("norm", "none")))


def _alt_seed_compare(lang, p):
    return strings.t(lang, "fig.seed_compare.alt",
                     inits=style.join_names(lang, "init", p.get("inits", seed_cases.COMPARE_INITS)),
                     activations=style.join_names(lang, "activation",
                                                  p.get("activations", seed_cases.COMPARE_ACTIVATIONS)))


def _alt_grad(lang, p):
    return strings.t(lang, "fig.grad_std.alt", activation=style.label(lang, "activation", p["activation"]),
                     norm=style.label(lang, "norm", p.get("norm", "none")),
                     inits=style.join_names(lang, "init", p.get("inits", lines.GRAD_INITS)))


def _alt_theory(lang, p):
    return strings.t(lang, "fig.theory.alt", activation=style.label(lang, "activation", p["activation"]),
                     inits=style.join_names(lang, "init", p.get("inits", lines.THEORY_INITS)))


def _alt_heatmap(key):
    return lambda lang, p: strings.t(lang, f"fig.{key}.alt", norm=style.label(lang, "norm", p.get("norm", "none")))


FIGURES: dict[str, FigureSpec] = {
    spec.name: spec
    for spec in (
        FigureSpec("seed_case", seed_cases.seed_case, ("propagation", "hist"),
                   lambda init, activation, norm="none", **_: f"seed_case_{activation}_{init}{_norm_suffix(norm)}",
                   _alt_seed_case),
        FigureSpec("seed_compare", seed_cases.seed_compare, ("propagation",),
                   lambda norm="none", **_: f"seed_compare{_norm_suffix(norm)}", _alt_seed_compare),
        FigureSpec("grad_std", lines.grad_std, ("propagation",),
                   lambda activation, norm="none", **_: f"grad_std_{activation}{_norm_suffix(norm)}", _alt_grad),
        FigureSpec("theory", lines.theory_vs_measured, ("propagation", "theory"),
                   lambda activation, **_: f"theory_{activation}", _alt_theory),
        FigureSpec("heatmap_std", heatmaps.heatmap_std, ("propagation",),
                   lambda norm="none", **_: f"heatmap_std{_norm_suffix(norm)}", _alt_heatmap("heatmap_std")),
        FigureSpec("heatmap_gradratio", heatmaps.heatmap_gradratio, ("propagation",),
                   lambda norm="none", **_: f"heatmap_gradratio{_norm_suffix(norm)}",
                   _alt_heatmap("heatmap_gradratio")),
    )
}


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


def _spec(name: str) -> FigureSpec:
    try:
        return FIGURES[name]
    except KeyError:
        raise KeyError(f"unknown figure {name!r}; valid: {', '.join(FIGURES)}") from None


def figure_stem(name: str, **params) -> str:
    return _spec(name).stem(**params)


def figure_alt(name: str, lang: str, **params) -> str:
    return _spec(name).alt(lang, params)


def build_figure(name: str, data: Mapping, lang: str, **params):
    """Build (but do not save) one figure; the caller saves it with :func:`save_figure`."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; valid: {', '.join(LANGUAGES)}")
    spec = _spec(name)
    with style_context():
        return spec.func(data, lang, **params)


def render_figure(name: str, data: Mapping, lang: str, out_dir, formats=("svg",), **params) -> Path:
    """Build one figure and write ``out_dir/<stem>.<lang>.<fmt>`` for each format; return the first path."""
    stem = figure_stem(name, **params)
    out_dir = Path(out_dir)
    paths = []
    with style_context():
        fig = _spec(name).func(data, lang, **params)
        for fmt in formats:
            paths.append(save_figure(fig, out_dir / f"{stem}.{lang}.{fmt}"))
    return paths[0]


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


# Extension point for page-specific figures: a module ``generator/figures/page_<name>.py`` calls
# :func:`register` at import (this package imports every ``page_*`` module below), adding its spec
# and, optionally, a job provider ``(axes: dict) -> list[dict of params]`` for the instances it needs.
JOB_PROVIDERS: dict[str, Callable[[dict], list[dict]]] = {}


def register(spec: FigureSpec, jobs: Callable[[dict], list[dict]] | None = None) -> FigureSpec:
    """Add a figure to the registry (and the params of each instance the site needs)."""
    if spec.name in FIGURES:
        raise ValueError(f"figure {spec.name!r} is registered twice")
    FIGURES[spec.name] = spec
    if jobs is not None:
        JOB_PROVIDERS[spec.name] = jobs
    return spec


def figure_jobs(config_axes) -> list[FigureJob]:
    """Every figure instance the site needs for a config's grid (each rendered once per language).

    Cases whose init/activation is not in the grid are skipped; comparison figures keep the inits
    that are present. Theory figures exist for norm ``none`` only (the theory assumes no BN).
    """
    ax = _axes(config_axes)
    inits, acts, norms = ax["inits"], ax["activations"], ax["norms"]
    jobs: list[FigureJob] = []

    def add(name, **params):
        jobs.append(FigureJob(name, tuple(sorted(params.items()))))

    for norm in norms:
        for init, act in seed_cases.SEED_CASES:
            if init in inits and act in acts:
                add("seed_case", init=init, activation=act, norm=norm)
        cmp_inits = tuple(i for i in seed_cases.COMPARE_INITS if i in inits)
        cmp_acts = tuple(a for a in seed_cases.COMPARE_ACTIVATIONS if a in acts)
        if cmp_inits and cmp_acts:
            add("seed_compare", inits=cmp_inits, activations=cmp_acts, norm=norm)
        g_inits = tuple(i for i in lines.GRAD_INITS if i in inits)
        for act in ("tanh", "relu"):
            if g_inits and act in acts:
                add("grad_std", activation=act, inits=g_inits, norm=norm)
        add("heatmap_std", norm=norm)
        add("heatmap_gradratio", norm=norm)
    if "none" in norms:
        t_inits = tuple(i for i in lines.THEORY_INITS if i in inits)
        if t_inits:
            for act in acts:
                add("theory", activation=act, inits=t_inits)
    for name, provider in JOB_PROVIDERS.items():
        for params in provider(ax):
            add(name, **params)
    return jobs


def _import_page_modules() -> None:
    import importlib
    import pkgutil

    for mod in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if mod.name.startswith("page_"):
            importlib.import_module(f"{__name__}.{mod.name}")


_import_page_modules()
