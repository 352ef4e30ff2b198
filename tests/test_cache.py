"""The input-hash cache: hits, exact recomputation counts, and damaged entries never trusted."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from generator.common.paths import ROOT
from generator.config.load import load_config
from generator.experiments.plan import grid_tasks
from generator.pipeline.runner import run_tasks
from generator.pipeline.store import Cache, arrays_to_frames, cache_key, frames_to_arrays


def tiny(**over):
    p = dict(
        init="xavier",
        activation="tanh",
        norm="none",
        seed=0,
        samples=16,
        width=8,
        depth=2,
        dtype="float64",
        hist_bins=4,
        diverge_rms=1e8,
    )
    p.update(over)
    return p


def test_frames_round_trip_exactly():
    df = pd.DataFrame(
        {
            "a": [1.0, np.nan, np.inf, -0.0, 1 / 3],
            "b": [True, False, True, True, False],
            "c": ["x", "y", "z", "w", "v"],
            "n": np.arange(5),
        }
    )
    back = arrays_to_frames(frames_to_arrays({"f": df}))["f"]
    pd.testing.assert_frame_equal(back, df)


def test_key_is_canonical_and_sensitive():
    k1, _ = cache_key("k", {"a": 1, "b": 2}, "code", {"numpy": "1"})
    k2, _ = cache_key("k", {"b": 2, "a": 1}, "code", {"numpy": "1"})
    assert k1 == k2
    assert cache_key("k", {"a": 1, "b": 3}, "code", {"numpy": "1"})[0] != k1
    assert cache_key("k", {"a": 1, "b": 2}, "code2", {"numpy": "1"})[0] != k1
    assert cache_key("k", {"a": 1, "b": 2}, "code", {"numpy": "2"})[0] != k1


def test_second_run_hits_and_matches(tmp_path):
    cache = Cache(tmp_path)
    params = [tiny(seed=0), tiny(seed=1)]
    first, s1 = run_tasks("propagation", params, cache, quiet=True)
    second, s2 = run_tasks("propagation", params, cache, quiet=True)
    assert (s1.computed, s1.hits) == (2, 0)
    assert (s2.computed, s2.hits) == (0, 2)
    for a, b in zip(first, second):
        pd.testing.assert_frame_equal(a["layers"], b["layers"])
        pd.testing.assert_frame_equal(a["hist"], b["hist"])


def test_changing_one_entry_recomputes_exactly_that_entry(tmp_path):
    cfg = load_config(ROOT / "configs" / "small.toml")
    prop = dataclasses.replace(cfg.propagation, samples=16, width=8, depth=2)
    cfg.sections["propagation"] = prop
    cache = Cache(tmp_path)
    tasks = grid_tasks(cfg)
    _, s1 = run_tasks("propagation", tasks, cache, quiet=True)
    assert s1.computed == len(tasks)
    changed = [dict(t) for t in tasks]
    changed[3]["seed"] = 99  # one grid entry edited
    _, s2 = run_tasks("propagation", changed, cache, quiet=True)
    assert s2.computed == 1 and s2.computed_params == [changed[3]]
    assert s2.hits == len(tasks) - 1


@pytest.mark.parametrize("damage", ["flip", "truncate", "sidecar-garbage", "missing-sidecar"])
def test_damaged_entry_is_recomputed(tmp_path, damage):
    cache = Cache(tmp_path)
    (good,), _ = run_tasks("propagation", [tiny()], cache, quiet=True)
    [npz] = list(tmp_path.rglob("*.npz"))
    sidecar = npz.with_suffix(".json")
    if damage == "flip":
        raw = bytearray(npz.read_bytes())
        raw[len(raw) // 2] ^= 0xFF
        npz.write_bytes(bytes(raw))
    elif damage == "truncate":
        npz.write_bytes(npz.read_bytes()[:100])
    elif damage == "sidecar-garbage":
        sidecar.write_text("{not json")
    else:
        sidecar.unlink()
    (again,), stats = run_tasks("propagation", [tiny()], cache, quiet=True)
    assert stats.computed == 1 and stats.hits == 0
    if damage != "missing-sidecar":
        assert stats.corrupt == 1
    pd.testing.assert_frame_equal(again["layers"], good["layers"])
    meta = json.loads(npz.with_suffix(".json").read_text())
    assert meta["inputs"]["params"] == tiny()


def test_failed_task_leaves_no_entry(tmp_path, monkeypatch):
    import generator.experiments.propagation as prop

    def boom(**kw):
        raise RuntimeError("injected")

    monkeypatch.setattr(prop, "run_propagation", boom)
    with pytest.raises(RuntimeError):
        run_tasks("propagation", [tiny()], Cache(tmp_path), quiet=True)
    assert not list(tmp_path.rglob("*.json")) and not list(tmp_path.rglob("*.npz"))


def _tiny_cfg(tmp_path):
    from generator.config.load import OutputConfig

    cfg = load_config(ROOT / "configs" / "small.toml")
    cfg.sections["propagation"] = dataclasses.replace(
        cfg.propagation, samples=16, width=8, depth=2, inits=("xavier", "he"), activations=("tanh",)
    )
    cfg.sections["output"] = OutputConfig(
        docs_dir=str(tmp_path / "docs"), public_dir=str(tmp_path / "public"), cache_dir=str(tmp_path / "cache")
    )
    return cfg


def test_stage_manifest_skips_unchanged_and_catches_edits(tmp_path):
    from generator.pipeline.experiments_stage import run_experiments

    cfg = _tiny_cfg(tmp_path)
    first = run_experiments(cfg, quiet=True)
    assert first.frames  # computed and written
    data = tmp_path / "docs" / "data" / "propagation.csv"
    before = data.read_bytes()
    warm = run_experiments(cfg, quiet=True)
    assert warm.frames == {} and warm.stats[0].computed == 0  # skipped as a whole
    data.write_bytes(before.replace(b"xavier", b"XAVIER", 1))  # a hand edit is not trusted
    again = run_experiments(cfg, quiet=True)
    assert again.frames and again.stats[0].computed == 0  # rebuilt from the result cache
    assert data.read_bytes() == before
    cfg.sections["propagation"] = dataclasses.replace(cfg.propagation, seeds=(0, 5))
    changed = run_experiments(cfg, quiet=True)
    assert changed.stats[0].computed == 4  # (2 inits x 1 activation x 2 norms) for the new seed


def test_tampered_jinja_bytecode_is_never_run(tmp_path):
    """A compiled template edited in the cache (valid header, another template's code) is ignored by
    the checked cache; Jinja's own file cache would run it."""
    import io
    import pickle

    import jinja2

    from generator.render.jinja_cache import CheckedBytecodeCache

    templates = {"a": "hi {{ x }}", "b": "evil {{ x }}"}

    def env(cache_cls):
        return jinja2.Environment(loader=jinja2.DictLoader(templates), bytecode_cache=cache_cls(str(tmp_path)))

    first = env(CheckedBytecodeCache)
    assert first.get_template("a").render(x=1) == "hi 1"
    plain = env(jinja2.FileSystemBytecodeCache)
    plain.get_template("b").render(x=1)
    files = {p.read_bytes(): p for p in tmp_path.glob("*.cache")}
    magic = jinja2.bccache.bc_magic

    def split(data):
        f = io.BytesIO(data)
        assert f.read(len(magic)) == magic
        return pickle.load(f), f.read()

    a_path = next(p for p in tmp_path.glob("*.cache") if (tmp_path / (p.name + ".json")).exists())
    b_path = next(p for p in files.values() if p != a_path)
    checksum_a, _ = split(a_path.read_bytes())
    _, code_b = split(b_path.read_bytes())
    a_path.write_bytes(magic + pickle.dumps(checksum_a, 2) + code_b)
    assert env(jinja2.FileSystemBytecodeCache).get_template("a").render(x=1) == "evil 1"  # the danger
    assert env(CheckedBytecodeCache).get_template("a").render(x=1) == "hi 1"
