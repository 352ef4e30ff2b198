"""The topic notebooks (notebooks/*.py, issue 18 item 8): they run, agree with the engine, convert to
stable bytes, and the pages link the converted files.

* Each notebook runs top to bottom as a script in a subprocess (INITLAB_NOTEBOOK_SIZE=test selects the
  tiny sizes of its parameters cell, MPLBACKEND=Agg, INITLAB_NOTEBOOK_OUT a temporary folder) and writes
  its figure and its key numbers; the numbers must equal what the engine (run_propagation,
  theory.mean_field) gives for the sizes the notebook's own parameters cell declares.
* The conversion (generator/pipeline/notebooks.py) gives nbformat 4.4 JSON without outputs or ids, the
  same bytes twice, and the render stage's writer keeps to the manifest.
* The five topic pages link one notebook each that exists; in the built reduced site (shared fixture)
  the link resolves to the converted file.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from unittest import mock

import numpy as np
import pytest

from generator.common.paths import NOTEBOOKS_DIR, ROOT, TEMPLATES_DIR
from generator.engine import theory
from generator.experiments.propagation import run_propagation
from generator.pipeline import notebooks
from generator.pipeline.outputs import Manifest

NAMES = ("initialization", "xavier_he", "batchnorm", "gradients")
# page -> notebook it links (the Xavier and He pages share one)
PAGES = {
    "initialization": "initialization",
    "xavier": "xavier_he",
    "he": "xavier_he",
    "batchnorm": "batchnorm",
    "gradients": "gradients",
}
SMALL_ENV = {"INITLAB_NOTEBOOK_SIZE": "test"}


def source(name: str) -> Path:
    return NOTEBOOKS_DIR / f"{name}.py"


def cells(name: str) -> list[dict]:
    return json.loads(notebooks.percent_to_ipynb(source(name).read_text("utf-8"), name))["cells"]


@functools.cache
def parameters(name: str) -> dict:
    """The globals of the notebook's parameters cell, run with the tests' environment (the cell reads
    ``os.environ``; ``os`` is imported in the cell before it)."""
    cell = [c for c in cells(name) if c["metadata"].get("tags") == ["parameters"]]
    assert len(cell) == 1, f"{name}: exactly one cell tagged 'parameters' expected"
    scope: dict = {"os": os}
    with mock.patch.dict(os.environ, SMALL_ENV):
        exec("".join(cell[0]["source"]), scope)  # the repository's own notebook cell
    return scope


@functools.cache
def engine(init, activation, norm, samples, width, depth, seeds) -> dict[str, np.ndarray]:
    """Per-layer std and grad_h_std from run_propagation, mean over ``seeds``."""
    runs = [
        run_propagation(init=init, activation=activation, norm=norm, seed=s, samples=samples, width=width, depth=depth)[
            "layers"
        ]
        for s in seeds
    ]
    return {col: np.mean([r[col].to_numpy() for r in runs], axis=0) for col in ("std", "grad_h_std")}


def engine_for(name, init, activation, norm="none"):
    p = parameters(name)
    return engine(init, activation, norm, p["SAMPLES"], p["WIDTH"], p["DEPTH"], tuple(p["SEEDS"]))


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """name -> (output folder, returncode, stderr): each notebook run once as a script, all at once."""
    procs = {}
    for name in NAMES:
        folder = tmp_path_factory.mktemp(name)
        env = {
            **os.environ,
            **SMALL_ENV,
            "INITLAB_NOTEBOOK_OUT": str(folder),
            "MPLBACKEND": "Agg",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        }
        procs[name] = (
            folder,
            subprocess.Popen(
                [sys.executable, str(source(name))],
                cwd=folder,
                env=env,
                text=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
            ),
        )
    out = {}
    for name, (folder, proc) in procs.items():
        try:
            _, err = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        out[name] = (folder, proc.returncode, err)
    return out


def numbers(ran, name) -> dict:
    folder, code, err = ran[name]
    assert code == 0, f"{name} failed:\n{err[-3000:]}"
    png = folder / f"{name}.png"
    assert png.is_file() and png.read_bytes().startswith(b"\x89PNG"), f"{name}: no figure written"
    return json.loads((folder / f"{name}.json").read_text("utf-8"))


def test_the_notebooks_are_the_topic_sources():
    assert sorted(p.stem for p in notebooks.notebook_sources()) == sorted(NAMES)
    for name in NAMES:
        assert source(name).read_text("utf-8").startswith(notebooks.HEADER), f"{name}: not a paired percent file"


def test_test_sizes_are_small():
    for name in NAMES:
        p = parameters(name)
        assert p["TEST"] and p["SAMPLES"] * p["WIDTH"] * p["DEPTH"] * len(p["SEEDS"]) <= 64 * 32 * 4, name


def test_initialization_matches_the_engine(ran):
    got = numbers(ran, "initialization")
    p = parameters("initialization")
    want = {f"{a}/{i}": engine_for("initialization", i, a)["std"][-1] for a in p["ACTIVATIONS"] for i in p["INITS"]}
    assert got.keys() == want.keys()
    for k, value in want.items():
        assert got[k] == pytest.approx(value, rel=1e-12), k


def test_xavier_he_matches_the_engine_and_the_theory(ran):
    got = numbers(ran, "xavier_he")
    p = parameters("xavier_he")
    for a in p["ACTIVATIONS"]:
        for i in p["INITS"]:
            predicted = theory.mean_field(a, theory.sigma_w2(i, a, p["WIDTH"], p["WIDTH"]), p["DEPTH"])
            assert got[f"{a}/{i}"]["measured"] == pytest.approx(engine_for("xavier_he", i, a)["std"][-1], rel=1e-12)
            assert got[f"{a}/{i}"]["theory"] == pytest.approx(predicted["theory_std"][-1], rel=1e-12)


def test_batchnorm_matches_the_engine(ran):
    got = numbers(ran, "batchnorm")
    p = parameters("batchnorm")
    for n in p["NORMS"]:
        for a in p["ACTIVATIONS"]:
            last = {i: engine_for("batchnorm", i, a, n)["std"][-1] for i in p["INITS"]}
            for i, v in last.items():
                assert got["last_std"][f"{n}/{a}/{i}"] == pytest.approx(v, rel=1e-12)
            assert got["spread"][f"{n}/{a}"] == pytest.approx(max(last.values()) / min(last.values()), rel=1e-12)


def test_gradients_match_the_engine(ran):
    got = numbers(ran, "gradients")
    p = parameters("gradients")
    for n in p["NORMS"]:
        for a in p["ACTIVATIONS"]:
            for i in p["INITS"]:
                g = engine_for("gradients", i, a, n)["grad_h_std"]
                key = f"{n}/{a}/{i}"
                assert got["first_layer_grad_std"][key] == pytest.approx(g[0], rel=1e-12)
                assert got["factor"][key] == pytest.approx((g[0] / g[-1]) ** (1 / (len(g) - 1)), rel=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_conversion_is_stable_nbformat_without_outputs(name):
    text = source(name).read_text("utf-8")
    first, second = notebooks.percent_to_ipynb(text, name), notebooks.percent_to_ipynb(text, name)
    assert first == second and first.endswith("}\n")
    nb = json.loads(first)
    assert (nb["nbformat"], nb["nbformat_minor"]) == (4, 4)
    assert nb["metadata"]["jupytext"]["formats"] == "ipynb,py:percent"
    kinds = [c["cell_type"] for c in nb["cells"]]
    assert kinds[0] == "markdown" and "code" in kinds
    assert re.match(r"# \S.* · \S", nb["cells"][0]["source"][0]), "first cell: '# <Korean title> · <English title>'"
    for c in nb["cells"]:
        extra = {"execution_count", "outputs"} if c["cell_type"] == "code" else set()
        assert set(c) == {"cell_type", "metadata", "source"} | extra, c  # no id, no attachments
        if c["cell_type"] == "code":
            assert c["outputs"] == [] and c["execution_count"] is None
        assert all(s.endswith("\n") for s in c["source"][:-1]) and not c["source"][-1].endswith("\n")
        assert c["source"][0].strip() and c["source"][-1].strip(), "cells carry no leading/trailing blank lines"
    # nothing of the source is lost: every code line is in a code cell, every comment of a Markdown cell
    code = "".join("".join(c["source"]) + "\n" for c in nb["cells"] if c["cell_type"] == "code")
    body = text[len(notebooks.HEADER) :]
    for line in body.splitlines():
        if line.strip() and not line.startswith("# %%") and not line.startswith("#"):
            assert line in code, line


def test_percent_parser_on_a_small_example():
    text = (
        notebooks.HEADER + "\n# %% [markdown]\n# # Title\n#\n# text\n\n"
        '# %% tags=["parameters"]\nN = 1\n\n\n# %%\nprint(N)\n'
    )
    nb = json.loads(notebooks.percent_to_ipynb(text))
    assert [c["source"] for c in nb["cells"]] == [["# Title\n", "\n", "text"], ["N = 1"], ["print(N)"]]
    assert nb["cells"][1]["metadata"] == {"tags": ["parameters"]}
    with pytest.raises(notebooks.NotebookError, match="before the first"):
        notebooks.percent_to_ipynb(notebooks.HEADER + "x = 1\n# %%\n")
    with pytest.raises(notebooks.NotebookError, match="Markdown line"):
        notebooks.percent_to_ipynb(notebooks.HEADER + "# %% [markdown]\nnot a comment\n")
    with pytest.raises(notebooks.NotebookError, match="header"):
        notebooks.percent_to_ipynb("# %%\nx = 1\n")
    # `jupytext --sync` adds its version under text_representation: same notebook, same bytes
    synced = text.replace(
        "#       format_name: percent\n",
        "#       format_name: percent\n#       format_version: '1.3'\n#       jupytext_version: 1.19.6\n",
    )
    assert synced != text and notebooks.percent_to_ipynb(synced) == notebooks.percent_to_ipynb(text)
    with pytest.raises(notebooks.NotebookError, match="header"):
        notebooks.percent_to_ipynb(text.replace("name: python3", "name: julia"))


def test_write_notebooks_keeps_to_the_manifest(tmp_path):
    src, docs = tmp_path / "src", tmp_path / "docs"
    src.mkdir()
    for name in ("a", "b"):
        (src / f"{name}.py").write_text(notebooks.HEADER + f"\n# %%\nx = '{name}'\n", "utf-8")
    stray = docs / "notebooks" / "mine.ipynb"
    stray.parent.mkdir(parents=True)
    stray.write_text("{}", "utf-8")
    written = notebooks.write_notebooks(docs, src)
    assert [p.name for p in written] == ["a.ipynb", "b.ipynb"]
    before = {p: p.read_bytes() for p in written}
    assert notebooks.write_notebooks(docs, src) == written and {p: p.read_bytes() for p in written} == before
    assert Manifest(docs).listed(notebooks.STAGE) == {"notebooks/a.ipynb", "notebooks/b.ipynb"}
    (src / "b.py").unlink()
    notebooks.write_notebooks(docs, src)
    assert not (docs / "notebooks" / "b.ipynb").exists() and (docs / "notebooks" / "a.ipynb").is_file()
    assert stray.read_text("utf-8") == "{}", "a file the build did not make is left alone"


_CALL = re.compile(r'\{\{\s*m\.notebook\("([^"]+)"\)\s*\}\}')


def test_each_topic_page_links_its_notebook_once():
    linked = set()
    for path in sorted((TEMPLATES_DIR / "pages").glob("*.md.j2")):
        page = path.name.split(".")[0]
        found = _CALL.findall(path.read_text("utf-8"))
        assert found == ([PAGES[page]] if page in PAGES else []), path.name
        linked.update(found)
    assert linked == set(NAMES), "every notebook is offered on a page"


def test_built_pages_link_the_converted_notebook(site_build):
    """In the reduced site: each topic page in each language has a download link to an .ipynb that exists
    and holds the conversion of the repository's source."""
    from sitebuild import LANGS, page_file, parse, url_to_file

    public = site_build.public_dir
    for page, name in PAGES.items():
        for lang in LANGS:
            html = page_file(public, page, lang)
            hrefs = [a.attrs.get("href", "") for a in parse(html).find("a") if ".ipynb" in a.attrs.get("href", "")]
            assert len(hrefs) == 1, f"{page}.{lang}: {hrefs}"
            rel = html.relative_to(public).as_posix()
            target, _ = url_to_file(public, site_build.prefix_path, hrefs[0], rel)
            assert target is not None and target.name == f"{name}.ipynb" and target.is_file(), (page, lang, hrefs)
            assert target.read_text("utf-8") == notebooks.percent_to_ipynb(source(name).read_text("utf-8"), name)


def test_the_render_stage_writes_the_notebooks(tmp_path):
    from generator.pipeline.render_stage import render_pages

    docs = tmp_path / "docs"
    render_pages({}, docs, pages=[], assets_dir=tmp_path / "no-assets")
    assert Manifest(docs).listed(notebooks.STAGE) == {f"notebooks/{n}.ipynb" for n in NAMES}
    for name in NAMES:
        text = (docs / "notebooks" / f"{name}.ipynb").read_text("utf-8")
        assert text == notebooks.percent_to_ipynb(source(name).read_text("utf-8"), name)
