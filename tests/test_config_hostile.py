"""Hostile config and CLI input: every case exits 2 with ONE line of at most 300 characters,
``config error: <field>: ...``, prints nothing on stdout, and writes nothing (site/ and the tmp output
dirs are unchanged). Huge or unbounded input must fail fast, before anything is allocated or opened."""

from __future__ import annotations

import dataclasses
import math
import os
import subprocess
import sys
import time
import typing
from pathlib import Path

import pytest

from generator import cli
from generator.common.paths import ROOT
from generator.config import load as gconfig
from generator.config import memory as gmemory
from generator.config.load import ConfigError, load_config, parse_config
from test_config import SMALL, tree_digest


def small_in(tmp_path: Path) -> str:
    """configs/small.toml with its [output] dirs under tmp_path/out (which must stay absent)."""
    text = SMALL
    for key, rel in (("docs_dir", "site/docs"), ("public_dir", "site/public"), ("cache_dir", ".cache")):
        text = text.replace(f'{key} = "{rel}"', f'{key} = "{tmp_path / "out" / key}"', 1)
    return text


def check_one_line(code: int, out: str, err: str, field: str, fragments=()) -> str:
    assert code == 2, (code, err)
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err[:2000]
    line = lines[0]
    assert line.startswith(f"config error: {field}: "), line
    assert len(line) <= gconfig.MAX_LINE, len(line)
    for frag in fragments:
        assert frag in line, (frag, line)
    return line


def run_main(capsys, tmp_path: Path, argv: list[str], field: str, fragments=()) -> str:
    """cli.main(argv) in-process; checks the one-line contract and that nothing was written."""
    before = tree_digest(ROOT / "site"), tree_digest(tmp_path / "out")
    code = cli.main(argv)
    captured = capsys.readouterr()
    line = check_one_line(code, captured.out, captured.err, field, fragments)
    assert (tree_digest(ROOT / "site"), tree_digest(tmp_path / "out")) == before
    assert not (tmp_path / "out").exists()
    return line


def run_subprocess(tmp_path: Path, argv: list[str], field: str, fragments=()) -> str:
    """The same through ``python -m generator`` with a timeout: a read that blocks fails the test."""
    before = tree_digest(ROOT / "site"), tree_digest(tmp_path / "out")
    proc = subprocess.run(
        [sys.executable, "-m", "generator", *argv], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    line = check_one_line(proc.returncode, proc.stdout, proc.stderr, field, fragments)
    assert "Traceback" not in proc.stderr
    assert (tree_digest(ROOT / "site"), tree_digest(tmp_path / "out")) == before
    return line


def seeds(n: int) -> str:
    return "seeds = [" + ", ".join(map(str, range(n))) + "]"


def training(line: str) -> tuple[str, str]:
    """(old, new): ``line`` added at the top of [training] (for keys small.toml's [training] lacks)."""
    return "[training]\n", f"[training]\n{line}\n"


# (id, (old, new) replacement in small.toml, field, fragments of the line)
CONFIG_CASES = [
    # bounds: sizes
    ("depth-1e9", ("depth = 5", "depth = 1000000000"), "propagation.depth", ["<= 10000", "1000000000"]),
    ("width-over-max", ("width = 100", "width = 20001"), "propagation.width", ["<= 20000"]),
    ("samples-over-max", ("samples = 200", "samples = 100001"), "propagation.samples", ["<= 100000"]),
    ("hist-bins-over-max", ("hist_bins = 20", "hist_bins = 10001"), "propagation.hist_bins", ["<= 10000"]),
    ("seed-over-32-bits", ("seeds = [0, 1]", "seeds = [0, 4294967296]"), "propagation.seeds[1]", ["<= 4294967295"]),
    ("too-many-seeds", ("seeds = [0, 1]", seeds(1001)), "propagation.seeds", ["1001 items", "at most 1000"]),
    (
        "repeated-inits",
        ('inits = ["zeros", "small", "large", "xavier", "he"]', "inits = [" + '"he", ' * 10 + "]"),
        "propagation.inits",
        ["10 items", "at most 9"],
    ),
    ("symmetry-width", ("width = 8", "width = 129"), "symmetry.width", ["<= 128"]),
    ("training-width", ("width = 16", "width = 5000"), "training.width", ["<= 4096"]),
    ("training-depths", ("depths = [2, 4]", "depths = [2, 1001]"), "training.depths[1]", ["<= 1000"]),
    ("training-steps-1e9", ("\nsteps = 30", "\nsteps = 1000000000"), "training.steps", ["<= 100000"]),
    (
        "training-batch-sizes-long",
        ("batch_sizes = [4, 32]", f"batch_sizes = {list(range(2, 200))}"),
        "training.batch_sizes",
        ["198 items", "at most 100"],
    ),
    # finite floats (TOML has nan / inf literals; 1e999 overflows to inf)
    (
        "diverge-nan",
        ("diverge_rms = 1e4", "diverge_rms = nan"),
        "propagation.diverge_rms",
        ["must be a finite number, got nan"],
    ),
    ("diverge-inf", ("diverge_rms = 1e4", "diverge_rms = inf"), "propagation.diverge_rms", ["finite", "got inf"]),
    (
        "diverge-minus-inf",
        ("diverge_rms = 1e4", "diverge_rms = -inf"),
        "propagation.diverge_rms",
        ["finite", "got -inf"],
    ),
    ("diverge-below-1", ("diverge_rms = 1e4", "diverge_rms = 0.5"), "propagation.diverge_rms", [">= 1.0"]),
    (
        "diverge-400-digit-int",
        ("diverge_rms = 1e4", "diverge_rms = " + "9" * 400),
        "propagation.diverge_rms",
        ["must be a finite number, got an integer of 400 digits"],
    ),
    ("symmetry-constant-nan", ("constant = 0.1", "constant = nan"), "symmetry.constant", ["finite", "nan"]),
    ("symmetry-lr-zero", ("learning_rate = 0.1", "learning_rate = 0.0"), "symmetry.learning_rate", ["> 0.0"]),
    (
        "symmetry-lr-1e999",
        ("learning_rate = 0.1", "learning_rate = 1e999"),
        "symmetry.learning_rate",
        ["finite", "inf"],
    ),
    ("momentum-one", training("momentum = 1.0"), "training.momentum", ["<= 0.999"]),
    ("val-fraction-nan", training("val_fraction = nan"), "training.val_fraction", ["finite", "nan"]),
    (
        "target-accuracy-zero",
        ("target_accuracy = 0.5", "target_accuracy = 0.0"),
        "training.target_accuracy",
        [">= 0.1"],
    ),
    ("lr-min-minus-inf", training("lr_min = -inf"), "training.lr_min", ["finite", "-inf"]),
    ("lr-max-below-min", training("lr_min = 1.0\nlr_max = 0.5"), "training.lr_max", ["> lr_min (1)", "0.5"]),
    ("init-scale-inf", training("init_scale_max = inf"), "training.init_scale_max", ["finite"]),
    ("training-lr-nan", training("learning_rate = nan"), "training.learning_rate", ["finite"]),
    # huge values: the line stays short
    (
        "huge-string",
        ('dtype = "float64"', 'dtype = "' + "x" * 900_000 + '"'),
        "propagation.dtype",
        ["unknown value 'xxxx", "...", "float64"],
    ),
    (
        "huge-int",
        ("depth = 5", "depth = " + "9" * 4000),
        "propagation.depth",
        ["<= 10000, got an integer of 4000 digits"],
    ),
    (
        "huge-key",
        ("depth = 5", "depth = 5\n" + "k" * 900_000 + " = 1"),
        "propagation." + "k" * 65 + "...",
        ["unknown key; valid: samples"],
    ),
    ("key-with-newline", ("depth = 5", 'depth = 5\n"a\\nb" = 1'), "propagation.a\\nb", ["unknown key"]),
    ("int-over-python-limit", ("depth = 5", "depth = " + "9" * 5000), "toml", ["malformed", "4300"]),
    ("nested-arrays", ("depth = 5", "depth = " + "[" * 100_000), "toml", ["nested too deeply"]),
]


@pytest.mark.parametrize("case_id,change,field,fragments", CONFIG_CASES, ids=[c[0] for c in CONFIG_CASES])
def test_hostile_config_value(tmp_path, capsys, case_id, change, field, fragments):
    text = small_in(tmp_path)
    assert change[0] in text, change[0]
    text = text.replace(*change, 1)
    path = tmp_path / "bad.toml"
    path.write_text(text, "utf-8")
    start = time.perf_counter()
    run_main(capsys, tmp_path, ["experiments", "--config", str(path), "--quiet"], field, fragments)
    assert time.perf_counter() - start < 5, "validation must be fast"


# (id, file content: bytes, or a function of the valid small config's bytes; field; fragments)
FILE_CASES = [
    ("latin-1", lambda good: b"# caf\xe9\n" + good, "--config", ["not UTF-8 text", "byte 0xe9 at line 1, byte 6"]),
    ("latin-1-line-4", b"\n\n[propagation]\n# \xff\n", "--config", ["not UTF-8 text", "at line 4"]),
    ("bom", lambda good: b"\xef\xbb\xbf" + good, "--config", ["UTF-8 BOM"]),
    ("empty", b"", "--config", ["missing section [propagation]", "required"]),
    ("comments-only", b"# nothing here\n", "--config", ["missing section [propagation]"]),
    ("no-propagation", b"[symmetry]\nwidth = 8\n", "--config", ["missing section [propagation] in"]),
    ("over-1-mib", lambda good: good + b"#" * (1 << 20) + b"\n", "--config", ["larger than 1 MiB"]),
    ("section-not-a-table", b"propagation = 5\n", "propagation", ["must be a table, got 5"]),
    ("array-of-tables", b"[[propagation]]\ndepth = 3\n", "propagation", ["must be a table"]),
]


@pytest.mark.parametrize("case_id,content,field,fragments", FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_hostile_config_file(tmp_path, capsys, case_id, content, field, fragments):
    data = content(small_in(tmp_path).encode()) if callable(content) else content
    path = tmp_path / "bad.toml"
    path.write_bytes(data)
    run_main(capsys, tmp_path, ["experiments", "--config", str(path), "--quiet"], field, fragments)


def _symlink_loop(tmp_path: Path) -> str:
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    return str(tmp_path / "loop")


PATH_CASES = [
    # (id, path builder, fragments)
    ("directory", lambda tmp: str(tmp), ["not a regular file (a directory)"]),
    ("dev-null", lambda tmp: "/dev/null", ["not a regular file (a character device)"]),
    ("nul-in-path", lambda tmp: str(tmp / "a\0b.toml"), ["NUL character"]),
    ("part-over-255", lambda tmp: str(tmp / ("x" * 256 + ".toml")), ["path too long"]),
    ("path-over-4096", lambda tmp: str(tmp) + "/a" * 2100, ["path too long"]),
    ("symlink-loop", _symlink_loop, ["cannot open", "symbolic links"]),
    ("through-a-file", lambda tmp: str(ROOT / "configs" / "small.toml" / "x.toml"), ["cannot open", "Not a directory"]),
    ("missing", lambda tmp: str(tmp / "nope.toml"), ["no such file", "nope.toml"]),
]


@pytest.mark.parametrize("case_id,make,fragments", PATH_CASES, ids=[c[0] for c in PATH_CASES])
def test_hostile_config_path(tmp_path, capsys, case_id, make, fragments):
    run_main(capsys, tmp_path, ["experiments", "--config", make(tmp_path), "--quiet"], "--config", fragments)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file regardless of its mode")
def test_unreadable_config(tmp_path, capsys):
    path = tmp_path / "secret.toml"
    path.write_text(small_in(tmp_path))
    path.chmod(0)
    run_main(capsys, tmp_path, ["experiments", "--config", str(path)], "--config", ["Permission denied"])


def test_dev_zero_and_fifo_never_block(tmp_path):
    """Through a subprocess with a timeout: reading /dev/zero to the end or opening a FIFO with no
    writer would hang; both are refused from a stat, before anything is opened."""
    run_subprocess(
        tmp_path,
        ["experiments", "--config", "/dev/zero"],
        "--config",
        ["/dev/zero is not a regular file (a character device)"],
    )
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    run_subprocess(tmp_path, ["site", "--config", str(fifo)], "--config", ["not a regular file (a FIFO)"])


# --- CLI: --workers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value,fragments",
    [
        ("0", [">= 1, got 0"]),
        ("-1", [">= 1, got -1"]),
        ("200", ["<= ", "got 200", "--allow-oversubscribe"]),
        ("abc", ["must be an integer, got 'abc'"]),
        ("2.5", ["must be an integer"]),
        ("9" * 10_000, ["must be an integer"]),
    ],
)
def test_bad_workers(tmp_path, capsys, value, fragments):
    path = tmp_path / "ok.toml"
    path.write_text(small_in(tmp_path))
    run_main(capsys, tmp_path, ["experiments", "--config", str(path), "--workers", value], "--workers", fragments)


def test_workers_checked_before_any_stage(tmp_path, capsys, monkeypatch):
    """`site --workers 0` fails even when the site would be up to date: nothing reaches the pipeline."""
    from generator.pipeline import stages as pipeline

    def never(*a, **k):
        raise AssertionError("pipeline reached")

    monkeypatch.setattr(pipeline, "run_command", never)
    path = tmp_path / "ok.toml"
    path.write_text(small_in(tmp_path))
    run_main(capsys, tmp_path, ["site", "--config", str(path), "--workers", "0"], "--workers", [">= 1"])
    # the cap is the CPU count, and --allow-oversubscribe lifts it (the args are then handed on as an int)
    args = cli.build_parser().parse_args(["site", "--workers", str((os.cpu_count() or 1) + 3), "--allow-oversubscribe"])
    cli._check_args(args)
    assert args.workers == (os.cpu_count() or 1) + 3
    args = cli.build_parser().parse_args(["site", "--workers", "1"])
    cli._check_args(args)
    assert args.workers == 1
    with pytest.raises(SystemExit):
        cli.main(["site", "--help"])
    assert "--allow-oversubscribe" in capsys.readouterr().out


def test_oversubscribed_workers_still_checked_for_memory(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(gmemory, "available_memory_bytes", lambda: 4 * 10**9)
    path = tmp_path / "ok.toml"
    path.write_text(small_in(tmp_path).replace("width = 100", "width = 2000", 1))
    line = run_main(
        capsys,
        tmp_path,
        ["experiments", "--config", str(path), "--workers", "500", "--allow-oversubscribe"],
        "propagation",
        ["× 500 workers", "4.0 GB available"],
    )
    assert "reduce samples, width or depth" in line


# --- memory estimate -------------------------------------------------------------------------------


def test_task_bytes_formula_and_monotone():
    base = dict(samples=1000, width=500, depth=10, hist_bins=40)
    b = gmemory.propagation_task_bytes(**base)
    # the docstring's formula, by hand: activations, histogram fallback, weights, histograms
    assert b == 8 * 1000 * 500 * (30 + 13) + 24 * 1000 * 500 + 8 * 10 * 500**2 * 5 + 96 * 10 * 42
    for key in base:
        assert gmemory.propagation_task_bytes(**{**base, key: base[key] * 2}) > b, key
    assert gmemory.propagation_task_bytes(**base, itemsize=4) < b
    assert gmemory.propagation_results_bytes(2, 10, 40) > gmemory.propagation_results_bytes(1, 10, 40)


def test_cache_sizes_in_the_estimate_match_propagation():
    """The estimate counts propagation.py's caches; if the code keeps more, the estimate must follow."""
    from generator.experiments import propagation as prop

    assert prop.draw_inputs.cache_info().maxsize == gmemory.INPUT_CACHE
    assert prop.draw_weights.cache_info().maxsize == gmemory.WEIGHT_CACHE
    import numpy as np

    saved = dict(prop._FIRST_PREACT)
    try:
        for k in range(5):
            prop._first_preact(("test", k), np.ones((2, 2)), np.ones((2, 2)))
        assert len(prop._FIRST_PREACT) <= gmemory.FIRST_PREACT_CACHE
    finally:
        prop._FIRST_PREACT.clear()
        prop._FIRST_PREACT.update(saved)


def test_grid_too_big_for_memory(tmp_path, capsys):
    """Inside every bound, far beyond any machine: 10 000 layers of 20 000 x 20 000 weights (32 TB)."""
    text = small_in(tmp_path).replace("width = 100", "width = 20000", 1).replace("depth = 5", "depth = 10000", 1)
    path = tmp_path / "huge.toml"
    path.write_text(text)
    start = time.perf_counter()
    run_main(
        capsys,
        tmp_path,
        ["experiments", "--config", str(path)],
        "propagation",
        ["the grid needs about", "GB per worker ×", "GB available; reduce samples, width or depth"],
    )
    assert time.perf_counter() - start < 5


def test_collected_results_too_big(tmp_path, capsys):
    """Small tasks, but 20 000 tasks x 1000 layers x 1002 bins of histogram rows for the main process."""
    text = (
        small_in(tmp_path)
        .replace("width = 100", "width = 2", 1)
        .replace("samples = 200", "samples = 2", 1)
        .replace("depth = 5", "depth = 1000", 1)
        .replace("hist_bins = 20", "hist_bins = 1000", 1)
        .replace("seeds = [0, 1]", seeds(1000), 1)
    )
    path = tmp_path / "rows.toml"
    path.write_text(text)
    run_main(
        capsys,
        tmp_path,
        ["experiments", "--config", str(path)],
        "propagation",
        ["20000 tasks return about", "reduce depth, hist_bins or the grid"],
    )


def test_training_run_too_big(tmp_path, capsys):
    path = tmp_path / "train.toml"
    path.write_text(
        small_in(tmp_path).replace("width = 16", "width = 4096", 1).replace("depths = [2, 4]", "depths = [2, 1000]", 1)
    )
    run_main(
        capsys,
        tmp_path,
        ["experiments", "--config", str(path)],
        "training",
        ["one run needs about", "reduce width, the depths or the batch sizes"],
    )


def test_default_configs_fit_and_small_memory_refuses(monkeypatch):
    for name in ("experiments.toml", "configs/small.toml"):
        load_config(ROOT / name, check_writable=False)  # this machine: fits
    monkeypatch.setattr(gmemory, "available_memory_bytes", lambda: 100 * 10**6)
    with pytest.raises(ConfigError) as exc:
        load_config(ROOT / "experiments.toml", check_writable=False, workers=2)
    assert str(exc.value).startswith(
        "config error: propagation: the grid needs about 0.3 GB per worker × 2 workers, only 0.1 GB available"
    )
    monkeypatch.setattr(gmemory, "available_memory_bytes", lambda: None)  # unknown: not checked
    load_config(ROOT / "experiments.toml", check_writable=False)


def test_available_memory_is_positive():
    avail = gmemory.available_memory_bytes()
    assert avail is None or avail > 0


def test_cgroup_limit_caps_available_memory(tmp_path, monkeypatch):
    """In a container, the cgroup's limit minus its usage bounds what the grid may use."""
    (tmp_path / "max").write_text("1073741824\n")
    (tmp_path / "current").write_text("73741824\n")
    monkeypatch.setattr(gmemory, "_CGROUP_FILES", ((str(tmp_path / "max"), str(tmp_path / "current")),))
    monkeypatch.setattr(gmemory, "_meminfo_available", lambda: 8 * 10**9)
    assert gmemory.available_memory_bytes() == 10**9
    (tmp_path / "max").write_text("max\n")  # cgroup v2 without a limit: MemAvailable alone
    assert gmemory.available_memory_bytes() == 8 * 10**9


# --- in-process: sizes no file can reach (the 1 MiB cap) -------------------------------------------


def _raw(tmp_path) -> dict:
    import tomllib

    return tomllib.loads(small_in(tmp_path))


def test_three_million_seeds_fail_fast(tmp_path):
    raw = _raw(tmp_path)
    raw["propagation"]["seeds"] = list(range(3_000_000))
    start = time.perf_counter()
    with pytest.raises(ConfigError) as exc:
        parse_config(raw)
    assert time.perf_counter() - start < 1.0
    assert str(exc.value) == "config error: propagation.seeds: has 3000000 items; at most 1000 allowed"


def test_fifty_megabyte_string_gives_a_short_line(tmp_path):
    raw = _raw(tmp_path)
    raw["symmetry"]["activation"] = "\n" * 10 + "y" * 50_000_000
    with pytest.raises(ConfigError) as exc:
        parse_config(raw)
    line = str(exc.value)
    assert line.startswith("config error: symmetry.activation: unknown value '\\n\\n")
    assert len(line) <= gconfig.MAX_LINE and "\n" not in line


def test_config_error_is_one_short_line_whatever_it_is_given():
    err = ConfigError("f\r\nx" * 1000, "bad\nvalue\x00\u2028" * 10_000)
    line = str(err)
    assert len(line) <= gconfig.MAX_LINE
    assert line.isprintable() and line.startswith("config error: f\\r\\nx")
    assert line.endswith("...")
    plain = ConfigError("propagation.depth", "must be >= 1, got 0")
    assert str(plain) == "config error: propagation.depth: must be >= 1, got 0"


def test_huge_int_in_a_list_is_described_not_printed(tmp_path):
    raw = _raw(tmp_path)
    raw["propagation"]["seeds"] = [0, 10**10_000]
    with pytest.raises(ConfigError) as exc:
        parse_config(raw)
    assert str(exc.value) == (
        "config error: propagation.seeds[1]: must be <= 4294967295, got an integer of 10001 digits"
    )


# --- the schema itself ---------------------------------------------------------------------------


def test_every_size_and_list_field_is_bounded():
    """Each int has a documented maximum, each list a maximum length, each float a bound or is only
    required finite on purpose (listed here)."""
    only_finite = {("propagation", "diverge_rms"), ("symmetry", "constant")}
    for section, cls in gconfig.SECTIONS.items():
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            tp, meta = hints[f.name], dict(f.metadata)
            if tp is int or (tp is float and (section, f.name) not in only_finite):
                assert "max" in meta, f"{section}.{f.name} has no max"
            elif typing.get_origin(tp) is tuple:
                assert gconfig.max_items(meta) is not None, f"{section}.{f.name} has no max length"
                if typing.get_args(tp)[0] is int:
                    assert "max" in meta, f"{section}.{f.name} items have no max"


def test_readme_documents_the_maxima():
    text = (ROOT / "README.md").read_text("utf-8")
    table = text[text.index("## Configuration") : text.index("An invalid config")]
    for fragment in (
        "100 000",
        "20 000",
        "10 000",
        "1–1000 distinct",
        "2³²−1",
        "4096",
        "1797",
        "1 MiB",
        "--allow-oversubscribe",
        "Only `[propagation]` is required",
    ):
        assert fragment in table, fragment


def test_missing_sections_other_than_propagation_take_defaults(tmp_path):
    path = tmp_path / "only.toml"
    path.write_text("[propagation]\ndepth = 3\n")
    cfg = load_config(path, check_writable=False)
    assert cfg.propagation.depth == 3
    assert cfg.symmetry == gconfig.SymmetryConfig() and cfg.training == type(cfg.training)()
    assert math.isfinite(cfg.propagation.diverge_rms)
