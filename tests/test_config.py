"""Bad input: every invalid config exits 2 with one line naming the field, and writes nothing."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from generator import cli
from generator.common.paths import ROOT
from generator.config.load import ConfigError, load_config
from generator.engine.activations import ACTIVATIONS
from generator.engine.inits import INITS

SMALL = (ROOT / "configs" / "small.toml").read_text()


def tree_digest(root: Path) -> str:
    """Hash of every path and file content under root (missing root hashes as empty)."""
    h = hashlib.sha256()
    if root.exists():
        for p in sorted(root.rglob("*")):
            h.update(str(p.relative_to(root)).encode())
            if p.is_file():
                h.update(p.read_bytes())
    return h.hexdigest()


def with_change(old: str, new: str) -> str:
    assert old in SMALL, old
    return SMALL.replace(old, new, 1)


CASES = [
    # (id, config text, field, fragments that must appear in the message)
    ("unknown-init", with_change('"zeros", "small"', '"zeros", "tiny"'), "propagation.inits[1]", ["tiny", *INITS]),
    (
        "unknown-activation",
        with_change('activations = ["tanh"', 'activations = ["swish"'),
        "propagation.activations[0]",
        ["swish", *ACTIVATIONS],
    ),
    (
        "unknown-norm",
        with_change('norms = ["none", "bn"]', 'norms = ["none", "layernorm"]'),
        "propagation.norms[1]",
        ["layernorm", "none", "bn", "bn_post"],
    ),
    ("depth-zero", with_change("depth = 5", "depth = 0"), "propagation.depth", [">= 1"]),
    ("depth-negative", with_change("depth = 5", "depth = -3"), "propagation.depth", [">= 1"]),
    ("width-zero", with_change("width = 100", "width = 0"), "propagation.width", [">= 1"]),
    ("bn-one-sample", with_change("samples = 200", "samples = 1"), "propagation.samples", ["at least 2"]),
    ("non-integer-size", with_change("width = 100", "width = 2.5"), "propagation.width", ["integer"]),
    ("string-size", with_change("width = 100", 'width = "100"'), "propagation.width", ["integer"]),
    ("unknown-key", with_change("depth = 5", "depth = 5\ndepht = 5"), "propagation.depht", ["unknown key", "depth"]),
    ("unknown-section", SMALL + "\n[propagaton]\ndepth = 3\n", "propagaton", ["unknown section", "propagation"]),
    ("malformed-toml", with_change("depth = 5", "depth = = 5"), "toml", ["malformed"]),
    (
        "empty-grid",
        with_change('activations = ["tanh", "relu"]', "activations = []"),
        "propagation.activations",
        ["empty", "relu"],
    ),
    ("negative-seed", with_change("seeds = [0, 1]", "seeds = [0, -1]"), "propagation.seeds[1]", [">= 0"]),
    (
        "duplicate-axis",
        with_change('"xavier", "he"]', '"xavier", "he", "he"]'),
        "propagation.inits",
        ["duplicate", "he"],
    ),
    (
        "unwritable-output",
        with_change('docs_dir = "site/docs"', 'docs_dir = "/proc/initlab/docs"'),
        "output.docs_dir",
        ["not writable"],
    ),
    (
        "output-under-a-file",
        with_change('public_dir = "site/public"', 'public_dir = "pyproject.toml/public"'),
        "output.public_dir",
        ["not writable"],
    ),
    (
        "bad-symmetry-init",
        with_change('inits = ["zeros", "constant", "xavier"]', 'inits = ["zeros", "ones"]'),
        "symmetry.inits[1]",
        ["ones", "constant", "he"],
    ),
    ("bad-dtype", with_change('dtype = "float64"', 'dtype = "float16"'), "propagation.dtype", ["float64", "float32"]),
]


@pytest.mark.parametrize("case_id,text,field,fragments", CASES, ids=[c[0] for c in CASES])
def test_bad_config_exits_2_with_one_line(tmp_path, capsys, case_id, text, field, fragments):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    before = tree_digest(ROOT / "site")
    code = cli.main(["experiments", "--config", str(path), "--quiet"])
    captured = capsys.readouterr()
    assert code == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"config error: {field}: "), lines[0]
    for frag in fragments:
        assert frag in lines[0], (frag, lines[0])
    assert captured.out == ""
    assert tree_digest(ROOT / "site") == before


def test_missing_config_file(tmp_path, capsys):
    assert cli.main(["render", "--config", str(tmp_path / "nope.toml")]) == 2
    assert capsys.readouterr().err.startswith("config error: --config: no such file")


def test_only_with_unknown_axis_or_value(capsys):
    cfg = str(ROOT / "configs" / "small.toml")
    assert cli.main(["experiments", "--config", cfg, "--only", "optimizer=adam"]) == 2
    assert (
        "config error: --only: unknown axis 'optimizer'; valid: init, activation, norm, seed" in capsys.readouterr().err
    )
    assert cli.main(["experiments", "--config", cfg, "--only", "init=glorot_normal"]) == 2
    assert "glorot_normal is not in the config's grid" in capsys.readouterr().err


def test_subprocess_prints_no_traceback(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(with_change("depth = 5", "depth = 0"))
    proc = subprocess.run(
        [sys.executable, "-m", "generator", "site", "--config", str(path)], capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == "config error: propagation.depth: must be >= 1, got 0"
    assert "Traceback" not in proc.stderr


def test_valid_configs_load():
    for name in ("experiments.toml", "configs/small.toml"):
        cfg = load_config(ROOT / name)
        assert cfg.propagation.depth >= 1
    with pytest.raises(ConfigError):
        load_config(ROOT / "configs" / "does-not-exist.toml")
