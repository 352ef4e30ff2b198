"""Figures: every registered figure renders in ko and en on synthetic contract data (NaN, ±inf,
diverged rows, values from 1e-30 to 1e60) with no missing-glyph warnings and no RuntimeWarning,
byte-identical across renders, Hangul from the packaged NanumGothic, real minus signs."""

from __future__ import annotations

import logging
import sys
import unicodedata
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from generator.figures import style
from generator.figures.draw import build_figure, drawing_function, render_figure
from generator.figures.io import figure_bytes
from generator.figures.registry import (
    FIGURES,
    PHASE_FIGURES,
    PHASE_TABLES,
    TRAINING_FIGURES,
    figure_alt,
    figure_jobs,
    figure_stem,
)
from generator.render import fonts, strings

INITS = ("zeros", "small", "large", "xavier", "glorot_normal", "glorot_uniform", "he", "he_uniform", "orthogonal")
ACTS = ("linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "gelu")
NORMS = ("none", "bn", "bn_post")
HIST_RANGE = {
    "linear": (-3, 3),
    "sigmoid": (0, 1),
    "tanh": (-1, 1),
    "relu": (0, 3),
    "leaky_relu": (-1, 3),
    "elu": (-1, 3),
    "selu": (-2, 3),
    "gelu": (-0.5, 3),
}
# per-layer multiplicative change of the activation std (norm "none"), to span 1e-30 .. 1e60
GAIN = {
    "zeros": 0.0,
    "small": 1e-3,
    "large": 1e6,
    "xavier": 0.9,
    "glorot_normal": 0.9,
    "glorot_uniform": 0.9,
    "he": 1.0,
    "he_uniform": 1.0,
    "orthogonal": 0.95,
}


def synthetic_data(inits=INITS, acts=ACTS, norms=NORMS, seeds=(0, 1, 2), depth=10, bins=40) -> dict:
    """Contract-shaped DataFrames with the awkward cases the real data can have."""
    rng = np.random.default_rng(0)
    prop_rows, hist_rows, th_rows = [], [], []
    for init in inits:
        for act in acts:
            lo_r, hi_r = HIST_RANGE[act]
            edges = np.linspace(lo_r, hi_r, bins + 1)
            for layer in range(1, depth + 1):
                g = GAIN[init]
                th = g**layer if init != "zeros" else np.nan
                th_rows.append(
                    dict(
                        init=init,
                        activation=act,
                        layer=layer,
                        q=th**2 if np.isfinite(th) else np.nan,
                        theory_mean=0.0,
                        theory_std=th,
                    )
                )
            for norm in norms:
                for seed in seeds:
                    for layer in range(1, depth + 1):
                        g = GAIN[init] if norm == "none" else (0.0 if init == "zeros" else 1.0)
                        std = (g**layer) * (1 + 0.05 * seed) if g else 0.0
                        std = min(std, 1e60)
                        diverged = False
                        if init == "large" and act == "elu" and norm == "none" and layer >= 6:
                            diverged, std = True, np.nan
                        if init == "large" and act == "selu" and norm == "none" and layer == depth:
                            std = np.inf
                        if init == "orthogonal" and act == "gelu" and norm == "bn" and seed == 1 and layer >= 8:
                            diverged, std = True, np.nan
                        mean = (0.1 * std * (-1) ** layer) if np.isfinite(std) else np.nan
                        row = dict(
                            init=init,
                            activation=act,
                            norm=norm,
                            seed=seed,
                            layer=layer,
                            mean=mean,
                            std=std,
                            min=-3 * std if np.isfinite(std) else np.nan,
                            max=3 * std if np.isfinite(std) else np.nan,
                            saturated_frac=0.5 if init == "large" else 0.0,
                            zero_frac=1.0 if init == "zeros" else 0.1,
                            preact_std=std,
                            grad_h_std=(std * 1e-2 if np.isfinite(std) else np.nan),
                            grad_w_norm=std,
                            grad_w_ratio=(np.nan if init == "zeros" else (std * 1e-3 if np.isfinite(std) else np.nan)),
                            theory_std=(GAIN[init] ** layer if norm == "none" and init != "zeros" else np.nan),
                            diverged=diverged,
                        )
                        prop_rows.append(row)
                        # histogram: fixed edges + two overflow bins
                        counts = np.zeros(bins + 2)
                        if np.isfinite(std):
                            x = rng.normal(mean, max(std, 1e-300), size=400) if std > 0 else np.zeros(400)
                            if act in ("relu", "sigmoid"):
                                x = np.clip(x, 0, None)
                            counts[0] = int((x < edges[0]).sum())
                            counts[-1] = int((x > edges[-1]).sum())
                            inside = x[(x >= edges[0]) & (x <= edges[-1])]
                            counts[1:-1] = np.histogram(inside, bins=edges)[0]
                        for b in range(bins + 2):
                            lo = -np.inf if b == 0 else edges[b - 1]
                            hi = np.inf if b == bins + 1 else edges[b]
                            hist_rows.append(
                                dict(
                                    init=init,
                                    activation=act,
                                    norm=norm,
                                    seed=seed,
                                    layer=layer,
                                    bin=b,
                                    lo=lo,
                                    hi=hi,
                                    count=int(counts[b]),
                                )
                            )
    return {"propagation": pd.DataFrame(prop_rows), "hist": pd.DataFrame(hist_rows), "theory": pd.DataFrame(th_rows)}


@pytest.fixture(scope="module")
def data():
    # a smaller grid keeps the test quick but keeps every awkward case
    return synthetic_data(seeds=(0, 1, 2), depth=10, bins=20)


JOB_AXES = {"inits": INITS, "activations": ("tanh", "relu", "elu", "selu", "gelu"), "norms": ("none", "bn")}


def _jobs():
    return figure_jobs(JOB_AXES)


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


def _render_checked(name, data, lang, **params):
    """Render to SVG bytes, returning (bytes, warnings, log records at WARNING+)."""
    handler = _Capture()
    mpl_logger = logging.getLogger("matplotlib")
    mpl_logger.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fig = build_figure(name, data, lang, **params)
            svg = figure_bytes(fig, "svg")
            png = figure_bytes(fig, "png", dpi=60)
    finally:
        mpl_logger.removeHandler(handler)
    logs = [r for r in handler.records if r.levelno >= logging.WARNING]
    return fig, svg, png, caught, logs


def test_every_figure_has_jobs_and_every_job_name_is_registered():
    names = {j.name for j in _jobs()}
    # the training figures need a target accuracy, the phase figures their tables (tests/test_phase_page.py)
    assert names == set(FIGURES) - set(TRAINING_FIGURES) - set(PHASE_FIGURES)
    phase = {"q0": 1.0, "c0": 0.5, "points": 48}  # the measured phase figures need the measurement's settings
    every = figure_jobs(JOB_AXES, target_accuracy=0.9, tables=tuple(PHASE_TABLES), phase=phase)
    assert {j.name for j in every} == set(FIGURES)
    assert all(
        j.kwargs == {"target_accuracy": 0.9}
        for j in figure_jobs(JOB_AXES, target_accuracy=0.9)
        if j.name in TRAINING_FIGURES
    )
    stems = [j.stem for j in _jobs()]
    assert len(stems) == len(set(stems)), "file names must be unique"
    assert "seed_case_tanh_small" in stems and "seed_case_tanh_small_bn" in stems
    # figures no page shows are not drawn (issue 15: they shipped in both languages unreferenced)
    assert "seed_case_relu_he_bn" not in stems and "seed_compare_bn" not in stems


@pytest.mark.parametrize("lang", strings.LANGUAGES)
@pytest.mark.parametrize("job", _jobs(), ids=lambda j: j.stem)
def test_render_no_warnings(job, lang, data):
    fig, svg, png, caught, logs = _render_checked(job.name, data, lang, **job.kwargs)
    messages = [str(w.message) for w in caught]
    assert not [m for m in messages if "glyph" in m.lower() or "missing" in m.lower()], messages
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)], messages
    assert not messages, messages
    assert not logs, [r.getMessage() for r in logs]
    assert svg.startswith(b"<?xml") and b"<svg" in svg
    assert png.startswith(b"\x89PNG")
    assert fig.get_suptitle(), "every figure has a title"
    assert figure_alt(job.name, lang, **job.kwargs)
    small = [(t, size) for t, size in _text_sizes(fig) if size < style.MIN_FONT_PT]
    assert not small, f"text below {style.MIN_FONT_PT} pt is unreadable on a phone: {small[:5]}"


def _text_sizes(fig) -> list[tuple[str, float]]:
    """(text, size in points) of every visible, non-empty text of a drawn figure (ticks and legends too)."""
    from matplotlib.text import Text

    return [
        (t.get_text(), float(t.get_fontsize())) for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()
    ]


def test_text_size_check_sees_tick_labels_and_legends(data):
    """The size check above must see the small texts: tick labels and legend entries of a drawn figure."""
    job = next(j for j in _jobs() if j.stem == "seed_compare")
    fig = build_figure(job.name, data, "en", **job.kwargs)
    figure_bytes(fig, "svg")  # tick labels exist once the figure is drawn
    texts = dict(_text_sizes(fig))
    assert any(t == strings.t("en", "fig.init.xavier") for t in texts), "legend entries are seen"
    assert len(texts) > 10, "tick labels are seen"


def test_byte_identical_and_languages_differ(data, tmp_path):
    for job in [j for j in _jobs() if j.stem in ("seed_case_tanh_small", "heatmap_std", "theory_tanh")]:
        a = render_figure(job.name, data, "ko", tmp_path / "a", formats=("svg", "png"), **job.kwargs)
        b = render_figure(job.name, data, "ko", tmp_path / "b", formats=("svg", "png"), **job.kwargs)
        en = render_figure(job.name, data, "en", tmp_path / "a", **job.kwargs)
        assert a.name == f"{job.stem}.ko.svg" and en.name == f"{job.stem}.en.svg"
        assert a.read_bytes() == b.read_bytes(), job.stem
        assert a.with_suffix(".png").read_bytes() == b.with_suffix(".png").read_bytes(), job.stem
        assert a.read_bytes() != en.read_bytes()
        svg = a.read_text(encoding="utf-8")
        assert "<text" not in svg, "text must be outlines (svg.fonttype = path)"
        for banned in ("<dc:date>", "Matplotlib v", "<dc:creator>"):
            assert banned not in svg


def test_hangul_resolves_to_packaged_nanumgothic():
    from matplotlib import font_manager

    with fonts.style_context():
        prop = font_manager.FontProperties(family=fonts.STYLE["font.family"])
        found = Path(font_manager.findfont(prop, fallback_to_default=False))
    assert found.name == "NanumGothic.ttf"
    assert found.parent == fonts.font_dir(), "must be koreanize-matplotlib's file, not a system copy"
    hangul_only = "층별 활성값 표준편차"
    assert all(unicodedata.name(c).startswith("HANGUL") for c in hangul_only.replace(" ", ""))
    assert ord(hangul_only[0]) in _cmap(found)


def test_fonts_module_does_not_import_koreanize(tmp_path):
    import subprocess

    code = (
        "import sys; from generator.render import fonts; fonts.setup_matplotlib(); "
        "from generator.figures.draw import drawing_function; from generator.figures.registry import FIGURES; "
        "[drawing_function(n) for n in FIGURES]; print('koreanize_matplotlib' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert out.stdout.strip() == "False"


def _ko_fig_strings() -> list[str]:
    out = []

    def walk(node):
        for v in node.values():
            if isinstance(v, dict):
                walk(v)
            else:
                out.append(v)

    walk(strings.load("ko")["fig"])
    return out


def _cmap(path) -> set[int]:
    from matplotlib.ft2font import FT2Font

    return set(FT2Font(str(path)).get_charmap())


def test_fonts_cover_every_ko_string_and_minus():
    from matplotlib import font_manager

    nanum = _cmap(fonts.font_path())
    dejavu = _cmap(font_manager.findfont(font_manager.FontProperties(family="DejaVu Sans"), fallback_to_default=False))
    chars = {c for s in _ko_fig_strings() for c in s if not c.isspace()}
    chars.update("0123456789.e%" + "\u2212")
    hangul = {c for c in chars if unicodedata.name(c, "").startswith("HANGUL")}
    assert hangul, "the ko catalog has Hangul"
    missing_nanum = sorted(c for c in chars if ord(c) not in nanum)
    # NanumGothic lacks only U+2212 MINUS SIGN among these; the per-glyph fallback (DejaVu Sans) has it.
    assert missing_nanum == ["\u2212"], missing_nanum
    assert 0x2212 in dejavu
    assert all(ord(c) in nanum for c in hangul)


def test_unicode_minus_in_tick_labels(data):
    fig = build_figure("seed_case", data, "ko", init="small", activation="tanh")
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    with fonts.style_context():
        FigureCanvasAgg(fig).draw()
    labels = [t.get_text() for ax in fig.get_axes() for t in ax.get_xticklabels() + ax.get_yticklabels()]
    # the tanh histograms' fixed range starts at -1 and the mean panel has negative ticks
    assert any(s.startswith("\u2212") for s in labels), labels
    assert not any(s.startswith("-") for s in labels), "hyphen-minus in a tick label"


def test_catalog_keys_match_and_every_figure_has_strings():
    ko, en = strings.flat_keys("ko"), strings.flat_keys("en")
    ko_fig = {k for k in ko if k.startswith("fig.")}
    en_fig = {k for k in en if k.startswith("fig.")}
    assert ko_fig == en_fig
    from generator.config.load import PropagationConfig

    # Core figures keep their text under [fig.<name>]; page and training figures keep it in their
    # page's strings. Either way every instance the site renders has alt text in both languages.
    core = {
        n
        for n, spec in FIGURES.items()
        if spec.draw.split(":")[0].rsplit(".", 1)[1] in ("seed_cases", "lines", "heatmaps")
    }
    assert {"seed_case", "heatmap_std", "theory"} <= core
    for name in core:
        assert {f"fig.{name}.title", f"fig.{name}.alt"} <= ko_fig, name
    for job in figure_jobs(PropagationConfig(), target_accuracy=0.9):
        for lang in ("ko", "en"):
            assert figure_alt(job.name, lang, **job.kwargs).strip(), (job.stem, lang)
    for group, idents in (("init", INITS), ("activation", ACTS), ("norm", NORMS)):
        for ident in idents:
            assert f"fig.{group}.{ident}" in ko_fig
            assert strings.t("ko", f"fig.{group}.{ident}") and strings.t("en", f"fig.{group}.{ident}")


def test_stems_and_unknown_figure():
    assert figure_stem("seed_case", init="small", activation="tanh", norm="none") == "seed_case_tanh_small"
    assert figure_stem("heatmap_std", norm="bn") == "heatmap_std_bn"
    with pytest.raises(KeyError, match="unknown figure"):
        figure_stem("nope")
    with pytest.raises(ValueError, match="unknown language"):
        build_figure("heatmap_std", {}, "fr")


def test_default_grid_jobs():
    from generator.config.load import PropagationConfig

    jobs = figure_jobs(PropagationConfig())
    stems = {j.stem for j in jobs}
    assert {
        "seed_case_tanh_small",
        "seed_case_tanh_large",
        "seed_case_tanh_xavier",
        "seed_case_relu_xavier",
        "seed_case_relu_he",
        "seed_compare",
        "heatmap_std",
        "heatmap_gradratio_bn",
        "theory_gelu",
    } <= stems
    assert not any(s.startswith("theory") and s.endswith("_bn") for s in stems)


def test_empty_and_all_nan_data_still_render():
    empty = synthetic_data(inits=("zeros",), acts=("tanh",), norms=("none",), seeds=(0,), depth=3, bins=4)
    nan = empty["propagation"].copy()
    for col in ("mean", "std", "grad_h_std", "grad_w_ratio", "theory_std"):
        nan[col] = np.nan
    d = dict(empty, propagation=nan)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name, params in (
            ("seed_case", dict(init="zeros", activation="tanh")),
            ("heatmap_std", {}),
            ("grad_std", dict(activation="tanh", inits=("zeros",))),
            ("theory", dict(activation="tanh", inits=("zeros",))),
        ):
            figure_bytes(build_figure(name, d, "en", **params))
            figure_bytes(build_figure(name, empty, "ko", **params))


def test_identical_bytes_across_processes(tmp_path):
    """Same SVG bytes from fresh interpreters with different hash seeds (a valid cache key)."""
    import os
    import subprocess

    code = (
        "import sys, hashlib; sys.path.insert(0, 'tests')\n"
        "from test_figures import synthetic_data\n"
        "from generator.figures.draw import build_figure\n"
        "from generator.figures.io import figure_bytes\n"
        "d = synthetic_data(inits=('small', 'large', 'zeros'), acts=('tanh', 'elu'), norms=('none',), depth=4, bins=6)\n"
        "for lang in ('ko', 'en'):\n"
        "    for name, p in (('seed_case', dict(init='large', activation='elu')), ('heatmap_std', {})):\n"
        "        print(hashlib.sha256(figure_bytes(build_figure(name, d, lang, **p))).hexdigest())\n"
    )
    root = Path(__file__).resolve().parent.parent
    outs = []
    for seed in ("1", "4242"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        outs.append(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root, env=env
            ).stdout
        )
    assert outs[0] == outs[1] and len(outs[0].split()) == 4


def test_fmt_sig_three_significant_digits_real_minus():
    from generator.figures.numbers import fmt_sig

    # Same format as the prose and tables (generator.render.filters.num).
    assert fmt_sig(0.23) == "0.230"
    assert fmt_sig(136.0) == "136"
    assert fmt_sig(1.049e-30) == "1.05×10\u207b\u00b3\u2070"
    assert fmt_sig(1e60) == "1.00×10\u2076\u2070"
    assert fmt_sig(-0.5) == "\u22120.500"
    assert fmt_sig(float("nan")) == "—" and fmt_sig(0.0) == "0"


@pytest.mark.parametrize(
    "label, expected",
    [
        ("$\\mathdefault{10^{-4}}$", "10⁻⁴"),
        ("$\\mathdefault{10^{0}}$", "10⁰"),
        ("$\\mathdefault{10^{12}}$", "10¹²"),
        ("$\\mathdefault{2\\times10^{-1}}$", "2×10⁻¹"),
        ("$\\mathdefault{2^{10}}$", "2¹⁰"),
        ("", ""),
        ("0.5", "0.5"),
        ("$\\alpha$", "$\\alpha$"),
    ],
)
def test_unicode_power(label, expected):
    from generator.figures.style import unicode_power

    assert unicode_power(label) == expected


def test_log_ticks_are_plain_text_not_mathtext():
    """finish() swaps matplotlib's mathtext log-tick labels for the same labels as plain Unicode."""
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.ticker import LogFormatterSciNotation

    from generator.figures.style import UnicodeLogFormatter, finish, new_figure, unicode_power

    fig = new_figure(3)
    ax, ax2 = fig.subplots(1, 2)
    ax.set_yscale("log")
    ax.set_ylim(1e-5, 1e3)
    ax.set_xscale("log", base=2)
    ax.set_xlim(1, 256)
    ax2.set_yscale("log")
    ax2.set_ylim(0.2, 3)  # under a decade: minor ticks get labels too
    reference = LogFormatterSciNotation(labelOnlyBase=False)
    FigureCanvasSVG(fig).draw()
    before = [t.get_text() for t in ax2.get_yticklabels(minor=True)]
    finish(fig)
    FigureCanvasSVG(fig).draw()
    assert isinstance(ax.yaxis.get_major_formatter(), UnicodeLogFormatter)
    labels = [
        t.get_text()
        for a in (ax, ax2)
        for axis in (a.xaxis, a.yaxis)
        for t in axis.get_ticklabels() + axis.get_ticklabels(minor=True)
    ]
    assert labels and not any("$" in s or "\\" in s for s in labels)
    assert "10⁻⁵" in labels and "10³" in labels and "2⁸" in labels
    after = [t.get_text() for t in ax2.get_yticklabels(minor=True)]
    assert after == [unicode_power(s) for s in before]  # the same ticks labelled, the same values
    assert any(after) and any("×10⁻¹" in s for s in after)
    assert reference(1e-3) == "$\\mathdefault{10^{-3}}$"  # what is being replaced


def test_every_drawing_path_resolves_to_a_function_of_the_figures_package():
    """The registry names each drawing function by dotted path; each one exists, under generator.figures."""
    import inspect

    for name, spec in FIGURES.items():
        module, _, func_name = spec.draw.partition(":")
        assert module.startswith("generator.figures.") and func_name, (name, spec.draw)
        func = drawing_function(name)
        assert inspect.isfunction(func) and func.__module__ == module and func.__name__ == func_name, name
        assert list(inspect.signature(func).parameters)[:2] == ["data", "lang"], (name, spec.draw)


def test_a_drawing_path_outside_the_figures_package_is_refused(monkeypatch):
    import dataclasses

    from generator.figures import registry

    monkeypatch.setitem(
        registry.FIGURES, "heatmap_std", dataclasses.replace(registry.FIGURES["heatmap_std"], draw="os:system")
    )
    with pytest.raises(ValueError, match=r"generator\.figures\.<module>:<function>"):
        drawing_function("heatmap_std")


def test_the_registry_loads_no_matplotlib():
    import subprocess

    code = (
        "import sys; from generator.figures import registry; from generator.config.load import PropagationConfig; "
        "jobs = registry.figure_jobs(PropagationConfig(), target_accuracy=0.9); "
        "[registry.figure_alt(j.name, 'en', **j.kwargs) for j in jobs]; "
        "print(len(jobs) > 0, 'matplotlib' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert out.stdout.strip() == "True False", out.stdout


# --- issue 15: the five figures that hid what they were meant to show -----------------------------


def test_activation_curves_clip_nothing_and_show_sigmoid_saturation(data):
    from generator.engine.activations import ACTIVATIONS
    from generator.figures.instances import CURVE_RANGE

    fig = build_figure("activation_curves", data, "en")
    axes = [ax for ax in fig.get_axes() if ax.get_visible() and ax.get_title()]
    assert len(axes) == len(ACTIVATIONS)
    for ax in axes:
        lo, hi = ax.get_ylim()
        for line in ax.get_lines():
            y = np.asarray(line.get_ydata(), dtype=float)
            if y.size > 2:  # the curves, not the axis lines
                assert lo <= np.nanmin(y) and np.nanmax(y) <= hi, f"{ax.get_title()}: a curve leaves the panel"
    sig = ACTIVATIONS["sigmoid"]
    x = np.linspace(*CURVE_RANGE, 2001)
    assert sig.saturated(x).any(), "the range must reach sigmoid's saturated tails"


def test_seed_case_zero_bar_and_mean_range():
    from generator.figures.seed_cases import MEAN_FLOOR, _split_zero

    edges = np.linspace(-1, 1, 5)  # 0 is an edge: exact zeros are counted in the bin [0, 0.5)
    frac, zero = _split_zero(np.array([0.1, 0.2, 0.6, 0.1]), edges, 0.5)
    assert zero == pytest.approx(0.5) and frac[2] == pytest.approx(0.1) and frac.sum() + zero == pytest.approx(1.0)
    frac, zero = _split_zero(np.array([0.5, 0.5]), np.array([-1.0, 0.0, 1.0]), 0.0)
    assert zero == 0.0 and frac.tolist() == [0.5, 0.5]
    assert MEAN_FLOOR >= 0.1


def test_seed_case_mean_panel_does_not_zoom_into_noise(data):
    job = next(j for j in _jobs() if j.stem == "seed_case_tanh_small")
    fig = build_figure(job.name, data, "en", **job.kwargs)
    ax_mean = next(ax for ax in fig.get_axes() if ax.get_title() == strings.t("en", "fig.seed_case.mean"))
    lo, hi = ax_mean.get_ylim()
    assert lo <= -0.1 and hi >= 0.1


def test_theory_figures_have_a_residual_panel(data):
    job = next(j for j in _jobs() if j.name == "theory")
    fig = build_figure(job.name, data, "en", **job.kwargs)
    res = [ax for ax in fig.get_axes() if ax.get_ylabel() == strings.t("en", "fig.theory.residual")]
    assert len(res) == 1
    lo, hi = res[0].get_ylim()
    assert lo == pytest.approx(-hi) and hi <= 100.0 and res[0].get_yscale() == "linear"


def test_grad_factors_one_panel_per_activation(data):
    job = next(j for j in _jobs() if j.name == "grad_factors")
    fig = build_figure(job.name, data, "en", **job.kwargs)
    titles = [ax.get_title() for ax in fig.get_axes() if ax.get_visible() and ax.get_title()]
    assert titles == [strings.t("en", f"fig.activation.{a}") for a in ACTS]  # every activation of the data
    colours = {style.init_style(i)[0] for i in INITS}
    assert "#F0E442" not in colours, "Okabe-Ito yellow is too light on white"
