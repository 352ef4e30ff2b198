"""Numerical faults: grids that blow up run through experiments + figures without a crash, without
a RuntimeWarning reaching the user, with the blown-up rows marked ``diverged`` and the figures
marking them ("발산" / "diverged" cell labels, the × legend entry).

Two grids, both ``large`` init with relu/elu/gelu/linear, depth 30, tiny width and samples:

* ``float64``: the activations grow past ``diverge_rms`` (1e8) but stay finite;
* ``float32``: they overflow to inf, and inf - inf gives NaN (a real overflow).

The CLI runs in a subprocess with ``-W error::RuntimeWarning`` (and PYTHONWARNINGS for worker
processes), so any RuntimeWarning would turn into a traceback on stderr and a non-zero exit.
"""

from __future__ import annotations

import math

import pytest

import sitebuild

ACTIVATIONS = ["relu", "elu", "gelu", "linear"]
GRIDS = {
    "float64": {"dtype": "float64", "width": 32, "samples": 16},
    "float32-overflow": {"dtype": "float32", "width": 400, "samples": 8},
}
DEPTH = 30


def _config(root, grid: str):
    p = GRIDS[grid]
    return sitebuild.write_config(
        root,
        overrides={
            "propagation": {
                "inits": ["large"],
                "activations": ACTIVATIONS,
                "norms": ["none", "bn"],
                "seeds": [0, 1],
                "depth": DEPTH,
                "hist_bins": 10,
                **p,
            },
            "symmetry": {"samples": 8, "width": 4, "depth": 2},
            "theory": {"quadrature_points": 16},
        },
    )


def _run(stage, config):
    proc = sitebuild.run_stage(
        stage,
        config,
        extra_args=["--quiet"],
        python_flags=["-W", "error::RuntimeWarning"],
        env={"PYTHONWARNINGS": "error::RuntimeWarning"},
        timeout=600,
    )
    out = proc.stdout + proc.stderr
    tail = "\n".join(out.strip().splitlines()[-25:])
    if proc.returncode != 0 or "Traceback" in out:
        pytest.fail(f"`python -m generator {stage}` crashed (exit {proc.returncode}):\n{tail}", pytrace=False)
    if "Warning" in out:
        pytest.fail(f"a warning reached the user in `python -m generator {stage}`:\n{tail}", pytrace=False)
    return proc


@pytest.fixture(scope="module", params=list(GRIDS))
def faulty(request, tmp_path_factory):
    """(grid name, config, docs dir) after experiments + figures ran on the grid."""
    root = tmp_path_factory.mktemp(f"faults-{request.param}")
    config = _config(root, request.param)
    _run("experiments", config)
    _run("figures", config)
    return request.param, config, root / "docs"


def _tables(docs):
    from generator.contract import schema as contract
    from generator.figures.registry import GRID_TABLES as TABLE_FILES

    data_dir = docs / "data"
    return {k: contract.read_csv(v, data_dir) for k, v in TABLE_FILES.items() if (data_dir / v).exists()}


def test_unnormalized_rows_are_marked_diverged(faulty):
    grid, _, docs = faulty
    prop = _tables(docs)["propagation"]
    last = prop[(prop["layer"] == DEPTH) & (prop["norm"] == "none")]
    assert sorted(last["activation"].unique()) == sorted(ACTIVATIONS)
    not_marked = last[~last["diverged"].astype(bool)]
    assert not_marked.empty, f"{grid}: last-layer rows not marked diverged:\n{not_marked}"
    # once diverged, a run stays diverged at every deeper layer
    for (act, seed), g in prop[prop["norm"] == "none"].groupby(["activation", "seed"]):
        d = g.sort_values("layer")["diverged"].astype(bool).to_numpy()
        first = d.argmax()
        assert d[first:].all(), f"{grid} {act} seed {seed}: diverged flag flips back"


def test_batch_norm_keeps_the_same_grid_finite(faulty):
    grid, _, docs = faulty
    prop = _tables(docs)["propagation"]
    bn = prop[prop["norm"] == "bn"]
    assert not bn["diverged"].astype(bool).any(), f"{grid}: BN rows diverged:\n{bn[bn['diverged']]}"
    assert all(math.isfinite(v) for v in bn["std"]), grid


def test_float32_grid_really_overflows(faulty):
    grid, _, docs = faulty
    if grid != "float32-overflow":
        pytest.skip("only the float32 grid overflows")
    prop = _tables(docs)["propagation"]
    raw = prop[prop["norm"] == "none"][["std", "max", "min"]].to_numpy(dtype=float)
    import numpy as np

    assert (~np.isfinite(raw)).any(), "the float32 grid was meant to overflow to inf/NaN"


def test_every_figure_file_was_written(faulty):
    from generator.config.load import load_config
    from generator.figures.registry import figure_jobs

    grid, config, docs = faulty
    missing = [
        f"{job.stem}.{lang}.svg"
        for job in figure_jobs(load_config(config, check_writable=False))
        for lang in sitebuild.LANGS
        if not (docs / "figures" / f"{job.stem}.{lang}.svg").is_file()
    ]
    assert not missing, f"{grid}: figures not written: {missing}"


def _texts(fig) -> list[str]:
    from matplotlib.text import Text

    return [t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text()]


@pytest.mark.parametrize("lang", sitebuild.LANGS)
@pytest.mark.parametrize("name", ["heatmap_std", "heatmap_gradratio"])
def test_heatmaps_label_every_diverged_cell(faulty, name, lang):
    from generator.figures.draw import build_figure
    from generator.render import strings

    grid, _, docs = faulty
    label = strings.t(lang, "fig.diverged")
    assert label == {"ko": "발산", "en": "diverged"}[lang]
    fig = build_figure(name, _tables(docs), lang, norm="none")
    n = sum(t == label for t in _texts(fig))
    assert n == len(ACTIVATIONS), f"{grid} {name} {lang}: {n} cells labelled {label!r}, want {len(ACTIVATIONS)}"
    fig_bn = build_figure(name, _tables(docs), lang, norm="bn")
    assert label not in _texts(fig_bn), f"{grid} {name}_bn {lang}: a BN cell is labelled {label!r}"


@pytest.mark.parametrize("lang", sitebuild.LANGS)
def test_line_figures_mark_divergence(faulty, lang):
    """Every line figure of the grid that plots an unnormalized ``large`` run has the × legend entry."""
    from generator.config.load import load_config
    from generator.figures.draw import build_figure
    from generator.figures.registry import figure_jobs
    from generator.render import strings

    grid, config, docs = faulty
    legend = strings.t(lang, "fig.diverged_legend")
    data = _tables(docs)
    checked = []
    for job in figure_jobs(load_config(config, check_writable=False)):
        kw = job.kwargs
        if job.name not in ("seed_compare", "grad_std", "seed_case") or kw.get("norm", "none") != "none":
            continue
        fig = build_figure(job.name, data, lang, **kw)
        assert legend in _texts(fig), f"{grid} {job.stem} {lang}: no {legend!r} legend entry"
        checked.append(job.stem)
    assert checked, f"{grid}: no line figure plots the diverged runs"
