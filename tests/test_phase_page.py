"""The phase page (order and chaos): its figures in ko and en, its context from the contract frames, and
its rendering with and without the phase/trainability files.

Frames: tests/phase_frames.py (theory and critical line from the real engine; measured and trainability
synthetic), read through the real generator/analysis/phase.py and generator/analysis/trainability.py.
"""

from __future__ import annotations

import logging
import re
import warnings

import pandas as pd
import pytest

from generator.figures import style
from generator.figures.draw import build_figure, render_figure
from generator.figures.io import figure_bytes
from generator.figures.registry import FIGURES, PHASE_FIGURES, PHASE_TABLES, figure_alt, figure_jobs
from generator.pages import phase as phase_page
from generator.pages import references
from generator.pages.registry import PAGES, SECTIONS
from generator.pipeline.render_stage import render_pages
from generator.render import strings
from generator.render.env import page_structure
from tests import phase_frames as pf
from tests.test_explorer_data import BUDGET_GZ

AXES = {"inits": ("xavier", "he"), "activations": ("tanh", "relu"), "norms": ("none",)}


@pytest.fixture(scope="module")
def frames():
    return pf.frames()


@pytest.fixture(scope="module")
def data(frames):
    return {k.removesuffix(".csv"): v for k, v in frames.items()}


# --- figures ------------------------------------------------------------------------------------------


def _params(name: str) -> dict:
    """The params the figure's job carries (figure_jobs with the frames' settings)."""
    jobs = figure_jobs(AXES, tables=tuple(PHASE_TABLES), phase=pf.SETTINGS)
    return dict(next(j for j in jobs if j.name == name).params)


def test_phase_figures_exist_only_when_their_tables_do():
    assert not [j for j in figure_jobs(AXES) if j.name in PHASE_FIGURES]
    every = {j.name for j in figure_jobs(AXES, tables=tuple(PHASE_TABLES), phase=pf.SETTINGS)}
    assert set(PHASE_FIGURES) <= every
    unknown = {j.name for j in figure_jobs(AXES, tables=tuple(PHASE_TABLES))} & set(PHASE_FIGURES)
    assert unknown == {"phase_chi1", "phase_trainability"}  # measured figures need the settings
    only_train = {j.name for j in figure_jobs(AXES, tables=("trainability",))} & set(PHASE_FIGURES)
    assert only_train == {"phase_trainability"}
    assert {t for n in PHASE_FIGURES for t in FIGURES[n].tables} == set(PHASE_TABLES)


@pytest.mark.parametrize("lang", strings.LANGUAGES)
@pytest.mark.parametrize("name", PHASE_FIGURES)
def test_phase_figure_renders_without_warnings(name, lang, data):
    records: list[logging.LogRecord] = []
    handler = logging.Handler(level=logging.WARNING)
    handler.emit = records.append
    logging.getLogger("matplotlib").addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fig = build_figure(name, data, lang, **_params(name))
            svg = figure_bytes(fig, "svg")
    finally:
        logging.getLogger("matplotlib").removeHandler(handler)
    messages = [str(w.message) for w in caught]
    assert not messages, messages  # no missing glyph, no RuntimeWarning
    assert not records, [r.getMessage() for r in records]
    assert svg.startswith(b"<?xml") and b"<text" not in svg
    assert fig.get_suptitle() and figure_alt(name, lang)
    from matplotlib.text import Text

    small = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    assert all(t.get_fontsize() >= style.MIN_FONT_PT for t in small)


def test_phase_figures_are_deterministic_and_languages_differ(data, tmp_path):
    for name in ("phase_chi1", "phase_width"):
        a = render_figure(name, data, "ko", tmp_path / "a", **_params(name))
        b = render_figure(name, data, "ko", tmp_path / "b", **_params(name))
        en = render_figure(name, data, "en", tmp_path / "a", **_params(name))
        assert a.read_bytes() == b.read_bytes(), name
        assert a.read_bytes() != en.read_bytes(), name


def test_chi1_figure_draws_the_critical_line_from_the_data(data):
    """The black line of each panel is phase_critical.csv's (sigma_w2_critical, sigma_b2), not a recomputation."""
    fig = build_figure("phase_chi1", data, "en")
    crit = data["phase_critical"]
    for ax, act in zip(fig.axes, ("tanh", "relu"), strict=False):
        line = next(ln for ln in ax.get_lines() if ln.get_linewidth() == 2.0)
        c = crit[crit["activation"] == act].sort_values("sigma_b2")
        assert list(line.get_xdata()) == list(c["sigma_w2_critical"])
        assert list(line.get_ydata()) == list(c["sigma_b2"])


# --- context ------------------------------------------------------------------------------------------


def test_context_numbers_come_from_the_frames(frames):
    ctx = phase_page.phase_context(frames, pf.SETTINGS)
    assert ctx["available"] and ctx["has_measured"] and ctx["has_trainability"]
    th, crit = frames["phase_theory.csv"], frames["phase_critical.csv"]
    acts = {a["activation"]: a for a in ctx["acts"]}
    assert list(acts) == ["tanh", "relu"]
    for act, a in acts.items():
        t = th[th["activation"] == act]
        assert sum(a["regimes"].values()) == a["n_points"] == len(t)
        assert a["regimes"]["explodes"] == int((t["regime"] == "explodes").sum())
        c = crit[(crit["activation"] == act) & (crit["sigma_b2"] == 0.0)]
        assert a["critical_b0"] == float(c["sigma_w2_critical"].iloc[0])
    # tanh is critical at sigma_w2 = 1 (Xavier), ReLU at 2 (He; orthogonal with ReLU's gain sqrt 2 too)
    assert acts["tanh"]["on_line"] == ["xavier"]
    assert acts["relu"]["on_line"] == ["he", "orthogonal"]
    assert ctx["grid"]["sigma_w2"] == {"min": min(pf.SIGMA_W2), "max": max(pf.SIGMA_W2), "n": len(pf.SIGMA_W2)}
    assert ctx["measured"]["widths"] == list(pf.WIDTHS)
    assert ctx["train"]["depths"] == list(pf.TRAIN_DEPTHS)


def test_on_line_follows_the_data_not_the_init_names(frames):
    moved = frames["phase_critical.csv"].copy()
    moved.loc[(moved["activation"] == "tanh") & (moved["sigma_b2"] == 0.0), "sigma_w2_critical"] = 1.5
    ctx = phase_page.phase_context({**frames, "phase_critical.csv": moved}, pf.SETTINGS)
    tanh = next(a for a in ctx["acts"] if a["activation"] == "tanh")
    assert tanh["critical_b0"] == 1.5 and tanh["on_line"] == []


def test_measured_frames_need_their_settings(frames):
    """q0, c0 and the quadrature points are not columns of phase_measured.csv: never assume defaults."""
    with pytest.raises(ValueError, match="settings"):
        phase_page.phase_context(frames)
    assert "measured" not in phase_page.phase_context({k: v for k, v in frames.items() if "measured" not in k})


def test_phase_figure_jobs_carry_the_measurement_settings():
    jobs = {j.name: dict(j.params) for j in figure_jobs(AXES, tables=tuple(PHASE_TABLES), phase=pf.SETTINGS)}
    assert jobs["phase_xi_c"] == jobs["phase_width"] == pf.SETTINGS
    assert jobs["phase_chi1"] == jobs["phase_trainability"] == {}


def test_context_without_files_says_so():
    assert phase_page.phase_context({}) == {
        "available": False,
        "has_measured": False,
        "has_trainability": False,
        "regime_names": list(phase_page.REGIMES),
    }


# --- rendering ----------------------------------------------------------------------------------------


def _render(ctx: dict, out) -> dict:
    context = {"pages": {"phase": ctx, "references": references.context(None)}, "page_order": list(PAGES)}
    render_pages(context, out, ["phase"])
    return {lang: (out / f"phase.{lang}.md").read_text("utf-8") for lang in strings.LANGUAGES}


def test_page_is_in_the_nav_under_theory():
    assert "phase" in PAGES and ("theory", ("theory", "phase")) in SECTIONS
    assert strings.t("ko", "nav.phase") == "질서와 혼돈" and strings.t("en", "nav.phase") == "Order and chaos"


def test_page_renders_in_both_languages_with_the_data(frames, tmp_path):
    ctx = phase_page.phase_context(frames, pf.SETTINGS)
    md = _render(ctx, tmp_path)
    ko, en = page_structure(md["ko"]), page_structure(md["en"])
    assert ko == en
    assert set(ko["figures"]) == {f"fig-{n}" for n in PHASE_FIGURES}
    assert ko["tables"] == ["tbl-phase-fits"]
    for lang, text in md.items():
        assert "$" not in re.sub(r"`[^`]*`", "", text), lang
        # a line opening with inline math would be split off its sentence (raw HTML block)
        assert not re.search(r'^\s*<math[^>]*display="inline"', text, flags=re.M), lang
        assert not re.search(r"\\(frac|sqrt|sigma|xi|chi)\b", re.sub(r"<math.*?</math>", "", text, flags=re.S)), lang
        assert "references.md#ref-poole2016" in text and "references.md#ref-schoenholz2017" in text
        assert "theory.md" in text
        # numbers from the data: the trainability counts and verdict
        tr = ctx["train"]
        assert strings.t(lang, f"phase.verdict.{tr['verdict']}") in text
    heads = [h for _, h in ko["headings"]]
    assert heads == ["phase", "maps", "diagram", "depth-scale", "width", "trainability"]


@pytest.mark.parametrize(
    "keep",
    [(), ("phase_theory.csv", "phase_critical.csv"), ("trainability.csv",)],
    ids=["none", "theory-only", "trainability-only"],
)
def test_page_renders_when_files_are_missing(frames, tmp_path, keep):
    ctx = phase_page.phase_context({k: frames[k] for k in keep}, pf.SETTINGS)
    md = _render(ctx, tmp_path)
    ko, en = page_structure(md["ko"]), page_structure(md["en"])
    assert ko == en
    shown = {f.removeprefix("fig-") for f in ko["figures"]}
    expected = {"phase_chi1"} if "phase_theory.csv" in keep else set()
    assert shown == expected  # a figure whose data are absent is never linked
    if not keep:
        assert "phase_theory.csv" in md["en"]


def test_page_numbers_change_with_the_data(frames, tmp_path):
    th = frames["phase_theory.csv"]
    fewer = {**frames, "phase_theory.csv": th[th["sigma_b2"] <= 0.1].reset_index(drop=True)}
    a = _render(phase_page.phase_context(frames, pf.SETTINGS), tmp_path / "a")["en"]
    b = _render(phase_page.phase_context(fewer, pf.SETTINGS), tmp_path / "b")["en"]
    n_all = len(th[th["activation"] == "tanh"])
    n_few = len(fewer["phase_theory.csv"].query("activation == 'tanh'"))
    assert f"Of its {n_all} points" in a and f"Of its {n_few} points" in b


def test_measured_table_marks_inconclusive_fits(frames):
    ctx = phase_page.phase_context(frames, pf.SETTINGS)
    en = ctx["measured"]["tables"]["fits"]["en"]
    assert isinstance(en, pd.DataFrame) and len(en) == len(pf.MEASURED_W) * len(pf.MEASURED_B) * len(pf.ACTS)
    assert set(en["status"]) <= {strings.t("en", "phase.status.fit"), strings.t("en", "phase.status.inconclusive")}


# --- the explorer's index -----------------------------------------------------------------------------


def _explorer_dataset():
    from tests.test_explorer_data import MemoryDataset, synthetic

    inits = ("zeros", "small", "large", "xavier", "glorot_normal", "glorot_uniform", "he", "he_uniform", "orthogonal")
    acts = ("linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "gelu")
    data = MemoryDataset(*synthetic(inits, acts, ("none", "bn"), tuple(range(10)), 10, 40))
    data._frames["phase_theory.csv"] = pf.theory_frame()  # held unchecked: a contract-shaped test frame
    return data


def test_explorer_index_phase_entry():
    import json

    from generator.pages import explorer
    from generator.pages.explorer_data import INDEX, build, gz_size

    data = _explorer_dataset()
    built = build(data)[INDEX]
    index = json.loads(built)
    th = pf.theory_frame()
    fixed = data.frame("theory_fixed.csv")
    phase = index["phase"]
    assert set(phase["xavier"]) == set(pf.ACTS)  # only the activations phase_theory.csv holds
    for init, act in (("xavier", "tanh"), ("he", "relu"), ("small", "tanh")):
        s2 = float(fixed[(fixed["init"] == init) & (fixed["activation"] == act)]["sigma_w2"].iloc[0])
        at0 = th[(th["activation"] == act) & (th["sigma_b2"] == 0)]
        row = at0.iloc[(at0["sigma_w2"] - s2).abs().argmin()]
        e = phase[init][act]
        assert e["regime"] == row["regime"] and e["sigma_w2"] == pytest.approx(row["sigma_w2"], rel=1e-5)
    assert phase["xavier"]["tanh"]["regime"] == "critical" and phase["he"]["relu"]["regime"] == "critical"
    assert gz_size(built) <= BUDGET_GZ
    assert explorer.context(data)["has_phase"]
    del data._frames["phase_theory.csv"]  # the same data without the phase stage's file
    assert json.loads(build(data)[INDEX])["phase"] == {} and not explorer.context(data)["has_phase"]
