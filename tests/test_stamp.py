"""The whole-site stamp (generator/pipeline/stamp.py): a warm `site` with nothing changed runs no stage, and any
changed input or damaged output makes it rebuild."""

from __future__ import annotations

import argparse
import dataclasses
import shutil

import pytest

from generator.common.paths import ROOT
from generator.config.load import OutputConfig, load_config
from generator.pipeline import stages as pipeline
from generator.pipeline.outputs import write_marker
from generator.pipeline.stamp import SiteStamp, tree_digest


def _cfg(tmp_path):
    cfg = load_config(ROOT / "configs" / "small.toml")
    cfg.sections["output"] = OutputConfig(
        docs_dir=str(tmp_path / "docs"), public_dir=str(tmp_path / "public"), cache_dir=str(tmp_path / "cache")
    )
    for d in ("docs", "public"):  # as an earlier build left them (marked as the build's own)
        (tmp_path / d).mkdir()
        (tmp_path / d / "index.html").write_text(f"<p>{d}</p>")
        write_marker(tmp_path / d, f"{d}_dir")
    return cfg


def _fake_root(tmp_path):
    root = tmp_path / "repo"
    for tree in ("generator", "templates", "reference", "site", "notebooks"):
        (root / tree).mkdir(parents=True)
        (root / tree / "a.txt").write_text(tree)
    (root / "pyproject.toml").write_text("[project]\n")
    return root


def test_tree_digest_sees_content_and_names_not_mtimes(tmp_path):
    (tmp_path / "d").mkdir()
    f = tmp_path / "d" / "x.txt"
    f.write_text("one")
    first = tree_digest(tmp_path / "d")
    f.touch()
    assert tree_digest(tmp_path / "d") == first  # mtime alone changes nothing
    f.write_text("two")
    assert tree_digest(tmp_path / "d") != first
    f.rename(tmp_path / "d" / "y.txt")
    assert tree_digest(tmp_path / "d") not in (first, None)
    assert tree_digest(tmp_path / "missing") is None


def test_stamp_is_current_only_for_same_inputs_and_intact_outputs(tmp_path):
    cfg = _cfg(tmp_path)
    root = _fake_root(tmp_path)
    stamp = SiteStamp.for_build(cfg, root=root)
    assert not stamp.is_current()  # never built
    stamp.record()
    assert SiteStamp.for_build(cfg, root=root).is_current()

    (tmp_path / "public" / "index.html").write_text("edited by hand")
    assert not SiteStamp.for_build(cfg, root=root).is_current()  # damaged output: rebuild
    stamp.record()
    shutil.rmtree(tmp_path / "docs")
    assert not SiteStamp.for_build(cfg, root=root).is_current()  # deleted output: rebuild
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.html").write_text("<p>docs</p>")
    stamp.record()
    assert SiteStamp.for_build(cfg, root=root).is_current()

    (root / "templates" / "a.txt").write_text("a paragraph edited")
    assert SiteStamp.for_build(cfg, root=root).key != stamp.key  # any source tree
    (root / "templates" / "a.txt").write_text("templates")
    assert SiteStamp.for_build(cfg, root=root).key == stamp.key
    (root / "notebooks" / "a.txt").write_text("a notebook edited")  # the render stage converts notebooks/
    assert SiteStamp.for_build(cfg, root=root).key != stamp.key
    (root / "notebooks" / "a.txt").write_text("notebooks")
    assert SiteStamp.for_build(cfg, site_url="https://example.org/x/", root=root).key != stamp.key
    changed = dataclasses.replace(cfg.symmetry, learning_rate=cfg.symmetry.learning_rate * 2)
    cfg.sections["symmetry"] = changed
    assert SiteStamp.for_build(cfg, root=root).key != stamp.key  # one config value


def test_site_with_current_stamp_runs_no_stage(tmp_path, monkeypatch):
    cfg = _cfg(tmp_path)
    args = argparse.Namespace(quiet=True, site_url=None, executor="serial")
    calls = []

    # _site runs every stage (experiments, figures, render, build) through one executor
    monkeypatch.setattr(pipeline, "_site", lambda *a, **k: calls.append("site"))
    pipeline.run_command("site", cfg, args)  # no stamp yet: the stages run, then the stamp is written
    assert calls == ["site"]
    calls.clear()
    pipeline.run_command("site", cfg, args)
    assert calls == []  # nothing changed: no experiment, no figure, no mkdocs
    (tmp_path / "docs" / "index.html").write_text("changed")
    pipeline.run_command("site", cfg, args)
    assert calls == ["site"]


def test_failed_build_writes_no_stamp(tmp_path, monkeypatch):
    cfg = _cfg(tmp_path)
    args = argparse.Namespace(quiet=True, site_url=None, executor="serial")

    def boom(*a, **k):
        raise RuntimeError("mkdocs failed")

    monkeypatch.setattr(pipeline, "_site", boom)
    with pytest.raises(RuntimeError):
        pipeline.run_command("site", cfg, args)
    assert not SiteStamp.for_build(cfg).path.exists()


def test_training_stage_manifest_skips_unchanged(tmp_path, monkeypatch):
    """The training stage is skipped as a whole (not even its run plan, which loads the data set) when
    its config section, code and libraries are unchanged and its files are intact."""
    import generator.pipeline.training_stage as tex

    cfg = _cfg(tmp_path)
    data = tmp_path / "docs" / "data"
    calls = []

    def fake_submit_training(cfg, cache, executor=None):
        calls.append(1)
        return "pending"

    def fake_finish_training(pending, quiet=False):
        assert pending == "pending"
        data.mkdir(parents=True, exist_ok=True)
        (data / "training_fake.csv").write_text("a\n1\n")
        return {"training_fake.csv": None, "__stats__": []}

    monkeypatch.setattr(tex, "submit_training", fake_submit_training)
    monkeypatch.setattr(tex, "finish_training", fake_finish_training)
    args = argparse.Namespace(executor="serial")
    pipeline._training(cfg, args, True)
    pipeline._training(cfg, args, True)
    assert len(calls) == 1
    (data / "training_fake.csv").write_text("a\n2\n")  # damaged by hand: recomputed
    pipeline._training(cfg, args, True)
    assert len(calls) == 2
    cfg.sections["training"] = dataclasses.replace(cfg.training, steps=cfg.training.steps + 1)
    pipeline._training(cfg, args, True)
    assert len(calls) == 3


def test_keep_freed_memory_applies_once():
    from generator.pipeline.alloc import keep_freed_memory

    assert keep_freed_memory() is True  # glibc (Linux CI and this machine)
    assert keep_freed_memory() is True


def test_config_path_is_part_of_the_stamp(tmp_path):
    """The pages name the config file: a renamed config must rebuild, not report 'up to date'."""
    cfg = _cfg(tmp_path)
    root = _fake_root(tmp_path)
    renamed = dataclasses.replace(cfg, path=tmp_path / "renamed.toml")
    assert SiteStamp.for_build(renamed, root=root).key != SiteStamp.for_build(cfg, root=root).key


def test_stamp_ignores_the_lock_file_that_says_who_builds(tmp_path):
    """The stamp is recorded while the build holds the lock (its file names the pid and time) and read
    by the next build while it holds it: the lock file's content must not make every build stale."""
    cfg = _cfg(tmp_path)
    root = _fake_root(tmp_path)
    lock = tmp_path / "docs" / ".initlab.lock"
    lock.write_text("pid 1, since 2026-01-01 00:00:00\n")
    SiteStamp.for_build(cfg, root=root).record()
    lock.write_text("pid 2, since 2026-01-01 00:00:07\n")
    assert SiteStamp.for_build(cfg, root=root).is_current()
