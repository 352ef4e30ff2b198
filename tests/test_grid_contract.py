"""data/grid.json: the render and figures stages read grid facts from the data, never from --config.

The defect this guards against: ``experiments --config configs/small.toml`` followed by ``render`` with
the default config labelled layer 5 as "layer 10" and called every cell "explodes", silently. Now the
experiments stage writes grid.json last, and a later stage run with a config that disagrees with it
exits 2 with one line naming the field and both values, before writing anything.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from generator.config.load import load_config, parse_config
from generator.config.training import TrainingConfig
from generator.contract.dataset import Dataset
from generator.contract.grid import GRID_FILE, PROVENANCE, GridError, encode, first_difference, read_grid, write_grid
from generator.experiments.plan import grid_facts

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable


def _redirect(text: str, root: Path) -> str:
    """A config's text with its [output] directories moved under ``root``."""
    for key, default in (("docs_dir", "site/docs"), ("public_dir", "site/public"), ("cache_dir", ".cache")):
        text, n = re.subn(rf'(?m)^{key} = "{re.escape(default)}"', f'{key} = "{root / key}"', text)
        assert n == 1, f"{key} not found in the config text"
    return text


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """configs/small.toml's experiments (not its training runs) in a temporary output tree, and the
    default experiments.toml pointed at the same tree."""
    from generator.pipeline.experiments_stage import run_experiments
    from generator.pipeline.outputs import build_lock

    root = tmp_path_factory.mktemp("grid")
    small_toml = root / "small.toml"
    small_toml.write_text(_redirect((REPO / "configs" / "small.toml").read_text("utf-8"), root), "utf-8")
    default_toml = root / "experiments.toml"
    default_toml.write_text(_redirect((REPO / "experiments.toml").read_text("utf-8"), root), "utf-8")
    cfg = load_config(small_toml)
    with build_lock(cfg, wait=True, quiet=True):  # claims the output directories, as the CLI does
        run_experiments(cfg, quiet=True)
    return SimpleNamespace(
        root=root,
        cfg=cfg,
        small=small_toml,
        default=default_toml,
        docs=root / "docs_dir",
        data=root / "docs_dir" / "data",
    )


def _tree(path: Path) -> dict:
    """Every file under ``path`` (lock files aside) -> its bytes."""
    return {
        p.relative_to(path).as_posix(): p.read_bytes()
        for p in sorted(path.rglob("*"))
        if p.is_file() and not p.name.endswith(".lock")
    }


def _cli(*args) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [PY, "-m", "generator", *args, "--quiet"], capture_output=True, text=True, cwd=REPO, env=env, timeout=600
    )


@pytest.mark.parametrize("command", ["render", "figures"])
def test_a_config_that_disagrees_with_the_data_exits_2_before_writing(small, command):
    before = _tree(small.docs)
    out = _cli(command, "--config", str(small.default))
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0] == (
        "config error: propagation.depth: data/grid.json has propagation.depth = 5 (from small.toml) "
        "but --config gives 10; run experiments with this config first"
    )
    assert _tree(small.docs) == before
    assert not list(small.docs.glob("*.md")) and not (small.docs / "figures").exists()


def test_a_missing_grid_json_is_one_line(small, tmp_path):
    toml = tmp_path / "c.toml"
    toml.write_text(_redirect((REPO / "configs" / "small.toml").read_text("utf-8"), tmp_path), "utf-8")
    out = _cli("render", "--config", str(toml))
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "data/grid.json" in out.stderr and "run experiments first" in out.stderr
    assert not list((tmp_path / "docs_dir").glob("*.md"))


def test_grid_json_is_written_last_and_published(small):
    data = small.data
    grid = data / GRID_FILE
    newest_csv = max(p.stat().st_mtime_ns for p in data.glob("*.csv"))
    assert grid.stat().st_mtime_ns >= newest_csv
    manifest = json.loads((small.docs / ".initlab-manifest.json").read_text())
    assert f"data/{GRID_FILE}" in manifest["stages"]["experiments"]
    assert "data/placement.csv" in manifest["stages"]["experiments"]
    g = read_grid(data)
    assert (g.propagation.depth, g.propagation.samples, g.config_file) == (5, 200, "small.toml")
    assert g.seed_code.depth == 10 and g.placement.seeds == (0,) and not g.placement.from_grid


def test_grid_json_round_trip(small, tmp_path):
    facts = grid_facts(small.cfg)
    write_grid(tmp_path, facts)
    back = read_grid(tmp_path)
    assert first_difference(back, facts) is None and back.to_dict() == json.loads(encode(facts))
    assert back.propagation.seeds == tuple(small.cfg.propagation.seeds)
    assert back.training.to_dict() == json.loads(json.dumps(dataclasses.asdict(small.cfg.training)))
    assert back.symmetry.constant == small.cfg.symmetry.constant
    # the same facts rewrite nothing; the bytes are deterministic
    stamp = (tmp_path / GRID_FILE).stat().st_mtime_ns
    write_grid(tmp_path, grid_facts(small.cfg))
    assert (tmp_path / GRID_FILE).stat().st_mtime_ns == stamp
    # a difference is named with both values; the config file's name is not a grid fact
    other = json.loads(encode(facts))
    other["propagation"]["hist_bins"] = 7
    assert first_difference(back, other) == ("propagation.hist_bins", 20, 7)
    other = json.loads(encode(facts))
    other["config_file"] = "copy.toml"
    assert first_difference(back, other, ignore=PROVENANCE) is None
    assert first_difference(back, other) == ("config_file", "small.toml", "copy.toml")
    # 1 and 1.0, or true and 1, are different facts
    other = json.loads(encode(facts))
    other["theory"]["quadrature_points"] = float(other["theory"]["quadrature_points"])
    assert first_difference(back, other)[0] == "theory.quadrature_points"


def test_a_damaged_grid_json_names_the_field(small, tmp_path):
    facts = json.loads(encode(grid_facts(small.cfg)))
    del facts["propagation"]["depth"]
    (tmp_path / GRID_FILE).write_text(json.dumps(facts))
    with pytest.raises(GridError, match=r"propagation\.depth is missing"):
        read_grid(tmp_path)
    (tmp_path / GRID_FILE).write_text("{")
    with pytest.raises(GridError, match="not JSON"):
        read_grid(tmp_path)


def test_a_config_without_training_means_the_training_defaults():
    """README: "Only [propagation] is required; a section left out takes its defaults (without
    [training] the training experiments run with the defaults of generator/config/training.py)"."""
    from generator.pipeline.training_stage import plan

    cfg = parse_config({"propagation": {"depth": 3}}, REPO / "x.toml")
    assert cfg.training == TrainingConfig()
    assert "training" in cfg.sections  # the training stage skips only a config without this section
    runs = plan(cfg.training)
    assert runs and runs == plan(TrainingConfig())
    # and that is what grid.json records (and the training and reproducibility pages print)
    assert grid_facts(cfg)["training"] == dataclasses.asdict(TrainingConfig())
    assert "training" in grid_facts(cfg)["sections"]
    # a [training] table changes it: the section is read, not ignored
    cfg2 = parse_config({"propagation": {"depth": 3}, "training": {"steps": 7}}, REPO / "x.toml")
    assert cfg2.training.steps == 7 and grid_facts(cfg2)["training"]["steps"] == 7


def test_the_render_stage_runs_no_task(small, monkeypatch, tmp_path):
    """Rendering reads the data: every way to run a task fails here, and the pages still render."""
    from generator.pipeline import runner, stages

    def refuse(*a, **k):
        raise AssertionError("the render stage ran a task")

    for name in ("run_tasks", "submit_tasks", "resolve_function"):
        monkeypatch.setattr(runner, name, refuse)
    written = stages.stage_render(small.cfg, SimpleNamespace(quiet=True))
    names = {Path(p).name for p in written}
    assert {"index.ko.md", "batchnorm.en.md"} <= names
    text = (small.docs / "batchnorm.en.md").read_text("utf-8")
    assert "placement.csv" in text and "layer 5" in text.lower()


def test_pages_read_the_grid_not_the_config(small):
    """A Dataset has no config; the index page's rules print the data's depth."""
    from generator.pages import index

    data = Dataset(small.data)
    assert not hasattr(data, "cfg")
    assert index.context(data)["rules"]["depth"] == 5


def test_rendering_imports_no_matplotlib(small):
    code = (
        "import sys, types; from generator.config.load import load_config; "
        "from generator.pipeline.stages import stage_render; "
        f"stage_render(load_config({str(small.small)!r}), types.SimpleNamespace(quiet=True)); "
        "print('matplotlib' in sys.modules)"
    )
    out = subprocess.run(
        [PY, "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
