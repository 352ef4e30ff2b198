"""Cache keys from the import closure, and the one store's integrity scheme.

The closure tests walk a *copy* of the ``generator/`` tree (``root=``), edit one file there and compare
keys, so nothing in the repository is touched. Keys are compared through the same functions the
stages use (runner.task_code, experiments_stage.group_code, figures_stage.drawing_code).
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest

from generator.common import imports
from generator.common.paths import ROOT
from generator.pipeline.store import Cache, Store

PKG = ROOT / "generator"


def _modules(root: Path = ROOT) -> list[str]:
    out = []
    for p in sorted((root / "generator").rglob("*.py")):
        parts = p.relative_to(root).with_suffix("").parts
        out.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return out


def test_fast_scan_finds_the_same_imports_as_a_full_parse():
    for p in sorted(PKG.rglob("*.py")):
        fast = sorted(imports._import_statements(*imports._stat_key(p)))
        assert fast == sorted(imports.ast_import_statements(p)), p


def test_closure_follows_function_level_and_relative_imports(tmp_path):
    pkg = tmp_path / "generator"
    (pkg / "a").mkdir(parents=True)
    (pkg / "__init__.py").write_text('"""doc"""\n')
    (pkg / "a" / "__init__.py").write_text('"""doc"""\n')
    (pkg / "a" / "x.py").write_text("def f():\n    from . import y\n    from .z import name\n")
    (pkg / "a" / "y.py").write_text("import os\nimport generator.a.w\n")
    (pkg / "a" / "z.py").write_text("name = 1\n")
    (pkg / "a" / "w.py").write_text("")
    (pkg / "a" / "lone.py").write_text("")
    got = imports.closure("generator.a.x", root=tmp_path)
    assert got == {"generator", "generator.a", "generator.a.x", "generator.a.y", "generator.a.z", "generator.a.w"}


def test_propagation_closure_is_engine_only():
    c = imports.closure("generator.experiments.propagation")
    assert "generator.engine.network" in c and "generator.engine.activations" in c
    assert not any(
        m.startswith(("generator.render", "generator.figures", "generator.pages", "generator.pipeline")) for m in c
    )


def _copy_tree(tmp_path: Path) -> Path:
    shutil.copytree(PKG, tmp_path / "generator", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    return tmp_path


def _all_keys(root: Path) -> dict[str, str]:
    """Every code key the stages compute, walked under ``root``: tasks, stage groups, figures."""
    import generator.pipeline.training_stage  # noqa: F401 (registers the training task)
    from generator.figures.registry import FIGURES
    from generator.pipeline import runner
    from generator.pipeline.experiments_stage import GROUP_TASKS
    from generator.pipeline.figures_stage import job_runtime_modules

    keys = {f"task:{k}": imports.code_digest((runner.task_module(k),), root) for k in runner.TASKS}
    keys |= {
        f"group:{g}": imports.code_digest(
            ("generator.pipeline.experiments_stage", *(runner.task_module(k) for k in kinds)), root
        )
        for g, kinds in GROUP_TASKS.items()
    }
    keys["training-stage"] = imports.code_digest(
        ("generator.pipeline.training_stage", runner.task_module("training")), root
    )
    runtime = job_runtime_modules()  # the reader, font setup and writer every figure job runs
    for name, spec in FIGURES.items():
        keys[f"figure:{name}"] = imports.code_digest((spec.draw.split(":")[0], *runtime), root)
    return keys


def _changed(tmp_path: Path, edit) -> set[str]:
    root = _copy_tree(tmp_path)
    before = _all_keys(root)
    edit(root)
    after = _all_keys(root)
    return {k for k in before if before[k] != after[k]}


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)
    # a later mtime even on a coarse clock: the walker memoises by (path, mtime, size)
    t = time.time() + 5
    os.utime(path, (t, t))


def test_editing_the_number_format_changes_exactly_the_figures_that_print_numbers(tmp_path):
    changed = _changed(tmp_path, lambda root: _append(root / "generator/render/filters.py", "\n# edited\n"))
    assert not any(k.startswith(("task:", "group:", "training-stage")) for k in changed)
    figures = {k.removeprefix("figure:") for k in changed}
    # heatmap cells, the training figures' learning rates and the seed-case panels' "σ = …" labels (module
    # figures/seed_cases.py, which also draws seed_compare) go through figures/numbers.py; curves, theory
    # lines and the page figures print catalog text only; the regularization dot plot (figures/training_reg.py)
    # writes its gap labels and percent axis in its own fixed-point form, not through figures/numbers.py
    # the phase figures (figures/phase.py) print cell values through figures/numbers.py and grid ticks
    # "as configured" through render.wording
    from generator.figures.registry import PHASE_FIGURES, TRAINING_FIGURES

    assert figures == {
        "heatmap_std",
        "heatmap_gradratio",
        "seed_case",
        "seed_compare",
        *(set(TRAINING_FIGURES) - {"training_reg"}),
        *PHASE_FIGURES,
    }


def test_editing_a_template_or_an_unrelated_module_changes_no_task_or_figure_key(tmp_path):
    def edit(root):
        for p in sorted((root / "templates" / "pages").glob("*.j2"))[:3]:
            _append(p, "\nedited\n")

    assert _changed(tmp_path, edit) == set()


def test_training_stage_key_names_the_registered_training_task():
    import inspect

    from generator.pipeline import runner, stages, training_stage

    assert runner.task_module(training_stage.KIND) in inspect.getsource(stages.training_stage_key)


def test_editing_the_engine_changes_tasks_not_figures(tmp_path):
    changed = _changed(tmp_path / "e", lambda root: _append(root / "generator/engine/network.py", "\n# edited\n"))
    assert {"task:propagation", "group:grid"} <= changed
    assert "task:seed_code" not in changed and "task:training" not in changed
    assert not {k for k in changed if k.startswith("figure:")}


# --- the store ---------------------------------------------------------------------------------


def _frames():
    return {"result": pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]})}


def test_corrupted_payload_is_a_miss_and_is_deleted(tmp_path):
    cache = Cache(tmp_path)
    cache.put("k", "ab" + "0" * 62, {"p": 1}, _frames())
    key = "ab" + "0" * 62
    npz = tmp_path / "k" / "ab" / f"{key}.npz"
    raw = bytearray(npz.read_bytes())
    raw[-10] ^= 0xFF
    npz.write_bytes(bytes(raw))
    assert cache.get("k", key) is None
    assert not npz.exists() and not (tmp_path / "k" / "ab" / f"{key}.json").exists()
    assert cache.corrupt == [key]


def test_sidecar_is_written_last_and_an_interrupted_write_is_a_miss(tmp_path, monkeypatch):
    from generator.common import hashing

    order = []
    real = hashing.atomic.write_text

    def spy(path, text):
        order.append(Path(path).suffix)
        return real(path, text)

    cache = Cache(tmp_path)
    key = "cd" + "1" * 62
    monkeypatch.setattr(hashing.atomic, "write_text", spy)
    cache.put("k", key, {"p": 1}, _frames())
    assert order == [".json"]  # the npz came first (open_atomic), the sidecar last
    meta = json.loads((tmp_path / "k" / "cd" / f"{key}.json").read_text())
    assert set(meta["files"]) == {f"{key}.npz"} and meta["inputs"] == {"p": 1}

    def interrupted(path, text):
        raise KeyboardInterrupt

    monkeypatch.setattr(hashing.atomic, "write_text", interrupted)
    key2 = "cd" + "2" * 62
    with pytest.raises(KeyboardInterrupt):
        cache.put("k", key2, {"p": 2}, _frames())
    assert (tmp_path / "k" / "cd" / f"{key2}.npz").exists()  # payload complete, sidecar never written
    assert cache.get("k", key2) is None and cache.corrupt == []


def test_file_set_entries_verify_every_file(tmp_path):
    store = Store(tmp_path / "cache")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    key = "ef" + "0" * 62
    names = [f"{key}/a.en.svg", f"{key}/a.ko.svg"]
    for n in names:
        (scratch / Path(n).name).write_text(f"<svg>{Path(n).name}</svg>")
    store.put_files("figures", key, {n: scratch / Path(n).name for n in names}, {"x": 1})
    found = store.lookup("figures", key, names)
    assert found is not None and found[names[0]].read_text() == "<svg>a.en.svg</svg>"
    folder = tmp_path / "cache" / "figures" / "ef"
    (folder / key / "a.ko.svg").write_text("<svg><script/></svg>")  # one file of the set edited
    assert store.lookup("figures", key, names) is None
    assert not (folder / f"{key}.json").exists() and not (folder / key).exists()
    assert store.corrupt == [key]


def test_stage_manifest_is_the_same_sidecar(tmp_path):
    from generator.pipeline.store import manifest_is_current, write_manifest

    (tmp_path / "x.csv").write_text("a\n1\n")
    write_manifest(tmp_path, "KEY", ["x.csv"], ".m.json")
    assert manifest_is_current(tmp_path, "KEY", ".m.json")
    assert not manifest_is_current(tmp_path, "OTHER", ".m.json")
    (tmp_path / "x.csv").write_text("a\n2\n")
    assert not manifest_is_current(tmp_path, "KEY", ".m.json")
    assert json.loads((tmp_path / ".m.json").read_text())["files"].keys() == {"x.csv"}


def test_every_module_of_the_package_is_reachable_by_name():
    for mod in _modules():
        assert imports.module_file(mod) is not None, mod
        ast.parse(imports.module_file(mod).read_bytes())
