"""The explorer's JSON documents (generator/pages/explorer_data.py) against the data they come from.

* The reduced site (``site_build``, configs/small.toml): every configuration has ``<key>.all.json`` and
  one ``<key>.s<seed>.json`` per seed and nothing else but ``index.json``; every file is published; every
  run's seed file holds its propagation.csv / histograms.csv values; bins, theory and health equal
  hist_edges, theory_fixed.csv / theory.csv and health.csv; a second ``render`` rewrites nothing.
* A synthetic data set written through the contract (CSV files, read back by a Dataset), with a seed that
  diverges mid-network and a configuration whose seeds all diverge: the all-seeds file equals
  generator/analysis/seeds.py's aggregate, recomputed here from the rule, with null where no seed
  contributes.
* The default grid's shape (9 inits x 8 activations x 2 norms x 10 seeds x 10 layers, 40 bins) with
  realistic magnitudes: every file is at most 5 KB gzipped.
* The writer: byte-identical rewrites touch nothing; it deletes only files its manifest listed.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from generator.analysis.explorer_examples import examples
from generator.analysis.health import health_of
from generator.analysis.seeds import SeedMeans
from generator.contract import schema
from generator.contract.dataset import Dataset
from generator.contract.grid import Facts, write_grid
from generator.experiments.propagation import hist_edges
from generator.pages import explorer, explorer_data
from generator.pages.explorer_data import config_key, documents, gz_size
from generator.pipeline.explorer_stage import explorer_dir, write_explorer
from generator.pipeline.outputs import Manifest

REPO = Path(__file__).resolve().parent.parent
BUDGET_GZ = 5 * 1024
STATS = [c.name for c in schema.PROPAGATION.columns if c.dtype == "float"]


def r6(x):
    """The expected JSON value of one number (written independently of explorer_data.num)."""
    x = float(x)
    if math.isnan(x):
        return None
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return float(f"{x:.6g}")


def load(folder: Path, name: str) -> dict:
    return json.loads((folder / name).read_text("utf-8"))


# ------------------------------------------------------------------------------------------------
# a synthetic data set (contract frames; values with realistic magnitudes)


def synthetic(inits, activations, norms, seeds, depth, bins, *, samples=1000, width=500, diverge=True, rng=0):
    """``{file name: frame}`` and the grid facts. With ``diverge``: seed index 1 of (inits[-1],
    activations[0], none) diverges at layer 3 (std inf there, then NaN), and every seed of (inits[-1],
    activations[-1], none) diverges at layer 2."""
    g = np.random.default_rng(rng)
    prop, hist = [], []
    for init in inits:
        for act in activations:
            for norm in norms:
                growth = 1.0 if norm == "bn" else float(np.exp(g.normal(0, 0.6)))
                for si, seed in enumerate(seeds):
                    first_div = None
                    if diverge and norm == "none" and init == inits[-1]:
                        if act == activations[0] and si == 1:
                            first_div = 3
                        if act == activations[-1] and act != activations[0]:
                            first_div = 2
                    edges = hist_edges(act, bins)
                    for layer in range(1, depth + 1):
                        std = growth**layer * float(np.exp(g.normal(0, 0.05)))
                        div = first_div is not None and layer >= first_div
                        vals = {c: std * float(np.exp(g.normal(0, 1))) for c in STATS}
                        vals.update(
                            mean=std * g.normal(0, 0.3),
                            std=std,
                            min=-3 * std,
                            saturated_frac=g.uniform(),
                            zero_frac=0.0 if act != "relu" else g.uniform(0.4, 0.6),
                            theory_std=growth**layer if norm == "none" else math.nan,
                        )
                        if act == "relu":
                            vals["min"] = 0.0
                        if div:
                            vals.update(
                                {c: (math.inf if layer == first_div else math.nan) for c in STATS if c != "theory_std"}
                            )
                        prop.append(
                            {
                                "init": init,
                                "activation": act,
                                "norm": norm,
                                "seed": seed,
                                "layer": layer,
                                **vals,
                                "diverged": div,
                            }
                        )
                        if div:
                            counts = np.zeros(bins + 2, dtype=np.int64)
                        else:
                            p = np.clip(
                                np.diff(np.concatenate([[0.0], _ncdf(edges / max(std, 1e-12)), [1.0]])), 0, None
                            )
                            counts = g.multinomial(samples * width, p / p.sum())
                        hist.append((np.concatenate([[-np.inf], edges]), np.concatenate([edges, [np.inf]]), counts))
    prop = pd.DataFrame(prop)
    k = bins + 2  # one histogram per propagation row, bins 0..B+1
    keys = prop[["init", "activation", "norm", "seed", "layer"]].loc[prop.index.repeat(k)].reset_index(drop=True)
    hist = keys.assign(
        bin=np.tile(np.arange(k), len(prop)),
        lo=np.concatenate([h[0] for h in hist]),
        hi=np.concatenate([h[1] for h in hist]),
        count=np.concatenate([h[2] for h in hist]),
    )
    theory, fixed = _theory(inits, activations, width, depth)
    frames = {
        "propagation.csv": prop,
        "histograms.csv": hist,
        "theory.csv": pd.DataFrame(theory),
        "theory_fixed.csv": pd.DataFrame(fixed),
        "health.csv": health_of(prop, depth),
    }
    facts = {
        "format": 1,
        "config_file": "synthetic",
        "config_path": "synthetic",
        "default_config": False,
        "sections": ["propagation"],
        "propagation": {
            "samples": samples,
            "width": width,
            "depth": depth,
            "dtype": "float64",
            "inits": list(inits),
            "activations": list(activations),
            "norms": list(norms),
            "seeds": list(seeds),
            "hist_bins": bins,
            "diverge_rms": 1e8,
        },
        "symmetry": {
            "inits": ["zeros"],
            "constant": 0.1,
            "activation": "tanh",
            "samples": 2,
            "width": 2,
            "depth": 1,
            "learning_rate": 0.1,
            "seed": 0,
        },
        "theory": {"quadrature_points": 64},
        "training": {},
        "trainability": {},
        "seed_code": {"samples": 10, "width": 10, "depth": 2},
        "placement": {"activations": [], "inits": [], "seeds": [0], "from_grid": False},
    }
    return frames, facts


def _theory(inits, activations, width: int, depth: int):
    """theory.csv / theory_fixed.csv as the experiments stage computes them (the mean-field recursion of
    generator/engine/theory.py), to ``depth + 5`` layers: the index's curves carry real values."""
    from generator.engine import theory as mf

    curves, fixed = [], []
    for init in inits:
        for act in activations:
            s2 = mf.sigma_w2(init, act, width, width)
            if s2 is None:
                continue
            curves.append(
                pd.DataFrame(mf.mean_field(act, s2, depth + 5, q0=1.0, points=64)).assign(init=init, activation=act)
            )
            fixed.append(
                {"init": init, "activation": act, "sigma_w2": s2, **mf.fixed_point(act, s2, q0=1.0, points=64)}
            )
    return pd.concat(curves, ignore_index=True), pd.DataFrame(fixed)


def _ncdf(z):
    return np.array([0.5 * (1 + math.erf(v / math.sqrt(2))) for v in z])


class MemoryDataset(Dataset):
    """A Dataset whose contract frames are held in memory (the default grid's histograms are 600k rows:
    writing and parsing them would only test pandas)."""

    def __init__(self, frames: dict, facts: dict):
        super().__init__("/nonexistent")
        self._frames = {name: schema.check_frame(name, f) for name, f in frames.items()}
        self.__dict__["grid"] = Facts(facts)

    def has(self, name: str) -> bool:
        return name in self._frames


def write_dataset(folder: Path, frames: dict, facts: dict) -> Dataset:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        schema.write_csv(name, frame, folder)
    write_grid(folder, facts)
    return Dataset(folder)


SMALL = (("small", "xavier", "large"), ("tanh", "relu"), ("none", "bn"), (0, 1, 2), 5, 8)


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> Dataset:
    frames, facts = synthetic(*SMALL, samples=20, width=10)
    return write_dataset(tmp_path_factory.mktemp("synth") / "data", frames, facts)


# ------------------------------------------------------------------------------------------------
# encoding


def test_numbers_are_encoded_as_the_spec_says():
    assert explorer_data.num(1 / 3) == 0.333333 and explorer_data.num(123456789.0) == 123457000.0
    assert explorer_data.num(math.nan) is None and explorer_data.num(-math.inf) == "-inf"
    assert explorer_data.num(np.int64(7)) == 7 and explorer_data.num(np.True_) is True
    blob = explorer_data.encode({"b": explorer_data.nums([math.nan, math.inf, 2.5e-7]), "a": 1.0, "c": "한"})
    assert blob == '{"a":1.0,"b":[null,"inf",2.5e-07],"c":"한"}\n'.encode()
    with pytest.raises(ValueError):  # a NaN that escaped num() never reaches a file as a NaN literal
        explorer_data.encode({"a": math.nan})


# ------------------------------------------------------------------------------------------------
# the synthetic data set: aggregate, divergence, bins, theory, health


def test_all_seeds_file_is_the_seed_aggregate_with_null_where_no_seed_contributes(synth):
    docs = documents(synth)
    prop = synth.prop
    sm = SeedMeans(prop)
    inits, acts, norms, seeds, depth, _ = SMALL
    for init in inits:
        for act in acts:
            for norm in norms:
                doc = json.loads(docs[f"{config_key(init, act, norm)}.all.json"])
                assert doc["seed"] == "all" and doc["n_seeds"] == len(seeds)
                for c in STATS:
                    s = sm.stats(c, init=init, activation=act, norm=norm, depth=depth)
                    assert doc["stats"][c] == {
                        "mean": [r6(v) for v in s.mean],
                        "lo": [r6(v) for v in s.lo],
                        "hi": [r6(v) for v in s.hi],
                    }, (init, act, norm, c)
    # the rule, recomputed here: seed 1 of (large, tanh, none) is out from layer 3 on
    part = json.loads(docs["large.tanh.none.all.json"])
    assert part["n_ok"] == [3, 3, 2, 2, 2] and part["diverged"] == [False, False, True, True, True]
    assert part["all_diverged"] == [False] * 5
    run = prop[(prop["init"] == "large") & (prop["activation"] == "tanh") & (prop["norm"] == "none")]
    for layer in (2, 4):
        ok = run[(run["layer"] == layer) & ((run["seed"] != 1) | (layer < 3))]["std"]
        assert part["stats"]["std"]["mean"][layer - 1] == r6(ok.mean())
        assert part["stats"]["std"]["hi"][layer - 1] == r6(ok.max())
    # every seed of (large, relu, none) diverged from layer 2: nothing measured contributes there
    gone = json.loads(docs["large.relu.none.all.json"])
    assert gone["n_ok"] == [3, 0, 0, 0, 0] and gone["all_diverged"] == [False, True, True, True, True]
    for c in STATS:
        if c != "theory_std":  # a prediction, not measured in the run: it still contributes
            assert gone["stats"][c]["mean"][1:] == [None] * 4 and gone["stats"][c]["lo"][1:] == [None] * 4
    assert all(v is not None for v in gone["stats"]["theory_std"]["mean"])
    assert b"NaN" not in b"".join(docs.values()) and b"Infinity" not in b"".join(docs.values())


def test_all_seeds_histograms_are_the_counts_summed_over_seeds(synth):
    docs = documents(synth)
    hist = synth.frame("histograms.csv")
    for key in ("large.tanh.none", "xavier.relu.bn"):
        init, act, norm = key.split(".")
        sub = hist[(hist["init"] == init) & (hist["activation"] == act) & (hist["norm"] == norm)]
        want = sub.groupby(["layer", "bin"])["count"].sum().unstack("bin").sort_index()
        got = json.loads(docs[f"{key}.all.json"])["hist"]
        assert got == want.to_numpy().tolist()
        assert len(got) == SMALL[4] and all(len(row) == SMALL[5] + 2 for row in got)


def test_seed_file_of_a_diverged_run_keeps_its_raw_values(synth):
    doc = json.loads(documents(synth)["large.tanh.none.s1.json"])
    assert doc["diverged"] == [False, False, True, True, True]
    assert doc["stats"]["std"][2] == "inf" and doc["stats"]["std"][3] is None
    assert doc["hist"][3] == [0] * (SMALL[5] + 2)


def test_index_bins_theory_health_and_examples_equal_their_sources(synth):
    check_index(synth, json.loads(documents(synth)["index.json"]))


def check_index(data: Dataset, index: dict) -> None:
    p = data.grid.propagation
    assert index["format"] == 1 and index["stats"] == STATS
    assert index["axes"] == {
        "init": list(p.inits),
        "activation": list(p.activations),
        "norm": list(p.norms),
        "seed": list(p.seeds),
        "layer": list(range(1, p.depth + 1)),
    }
    assert index["bins"] == {a: [r6(e) for e in hist_edges(a, p.hist_bins)] for a in p.activations}
    fixed = data.frame("theory_fixed.csv")
    curves = data.frame("theory.csv")
    assert sum(len(v) for v in index["theory"].values()) == len(fixed)
    for r in fixed.itertuples():
        t = index["theory"][r.init][r.activation]
        assert (t["sigma_w2"], t["q_star"], t["chi1"], t["regime"]) == (
            r6(r.sigma_w2),
            r6(r.q_star),
            r6(r.chi1),
            r.regime,
        )
        c = curves[(curves["init"] == r.init) & (curves["activation"] == r.activation)].sort_values("layer")
        c = c[c["layer"] <= p.depth]
        assert t["q"] == [r6(v) for v in c["q"]] and t["theory_std"] == [r6(v) for v in c["theory_std"]]
        assert len(t["q"]) == p.depth
    health = data.frame("health.csv")
    assert len(index["health"]) == len(health)
    for r in health.itertuples():
        h = index["health"][config_key(r.init, r.activation, r.norm)]
        fd = None if math.isnan(r.first_diverged) else int(r.first_diverged)
        assert h == {
            "forward": r.forward,
            "backward": r.backward,
            "healthy": bool(r.healthy),
            "n_seeds": int(r.n_seeds),
            "n_ok": int(r.n_ok),
            "first_diverged": fd,
        }
    assert index["examples"] == examples(health)


def test_page_context_reports_the_documents_it_ships(synth):
    ctx = explorer.context(synth)
    docs = documents(synth)
    assert ctx["axes"] == {"init": ["small", "xavier", "large"], "activation": ["tanh", "relu"], "norm": ["none", "bn"]}
    # no "he" in this grid: the first init; relu and none are there
    assert ctx["default"] == {"init": "small", "activation": "relu", "norm": "none", "seed": "all"}
    assert ctx["seeds"] == [0, 1, 2] and ctx["layers"] == [1, 2, 3, 4, 5] and ctx["stats"] == STATS
    assert ctx["n_configs"] == 12 and ctx["files"] == len(docs) == 1 + 12 * 4
    assert ctx["raw_bytes"] == sum(len(b) for b in docs.values())
    assert ctx["max_fetch_gz"] == max(gz_size(b) for b in docs.values())
    assert ctx["index_path"] == "data/explorer/index.json"
    assert ctx["examples"] == json.loads(docs["index.json"])["examples"]


# ------------------------------------------------------------------------------------------------
# examples, by rule


def _health(rows):
    cols = ["init", "activation", "norm", "forward", "backward", "healthy", "last_std", "first_diverged"]
    return pd.DataFrame([dict(zip(cols, r)) for r in rows])


def test_examples_follow_the_health_labels():
    nan = math.nan
    h = _health(
        [
            ("zeros", "tanh", "none", "vanishes", "vanishes", False, 0.0, nan),
            ("small", "tanh", "none", "vanishes", "vanishes", False, 1e-4, nan),
            ("small", "tanh", "bn", "ok", "ok", True, 1.0, nan),
            ("large", "relu", "none", "explodes", "explodes", False, math.inf, 4.0),
            ("he", "relu", "none", "ok", "ok", True, 1.0, nan),
            ("he", "relu", "bn", "ok", "ok", True, 1.0, nan),
        ]
    )
    assert examples(h) == [
        {"init": "he", "activation": "relu", "norm": "none", "label_key": "healthy"},
        {"init": "small", "activation": "tanh", "norm": "none", "label_key": "vanishes"},  # not the all-zero init
        {"init": "large", "activation": "relu", "norm": "none", "label_key": "diverged"},
        {"init": "small", "activation": "tanh", "norm": "bn", "label_key": "bn_rescues"},
    ]
    # nothing diverged: the first forward "explodes" instead; the zero init is the only vanishing one
    h2 = h[h["init"] != "small"].assign(first_diverged=nan)
    picks = {e["label_key"]: (e["init"], e["activation"], e["norm"]) for e in examples(h2)}
    assert picks == {
        "healthy": ("he", "relu", "none"),
        "vanishes": ("zeros", "tanh", "none"),
        "explodes": ("large", "relu", "none"),
    }
    # the picks prefer activations not shown yet: the second vanishing one, not the first
    h3 = _health(
        [
            ("xavier", "linear", "none", "ok", "ok", True, 1.0, nan),
            ("small", "linear", "none", "vanishes", "vanishes", False, 1e-3, nan),
            ("small", "tanh", "none", "vanishes", "vanishes", False, 1e-3, nan),
        ]
    )
    assert [(e["label_key"], e["activation"]) for e in examples(h3)] == [("healthy", "linear"), ("vanishes", "tanh")]


# ------------------------------------------------------------------------------------------------
# budgets on the default grid's shape


def test_every_file_fits_5kb_gzipped_on_the_default_grid_shape():
    inits = ("zeros", "small", "large", "xavier", "glorot_normal", "glorot_uniform", "he", "he_uniform", "orthogonal")
    acts = ("linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "gelu")
    data = MemoryDataset(*synthetic(inits, acts, ("none", "bn"), tuple(range(10)), 10, 40))
    docs = documents(data)
    assert len(docs) == 1 + 9 * 8 * 2 * 11
    worst = max(docs, key=lambda n: gz_size(docs[n]))
    assert gz_size(docs[worst]) <= BUDGET_GZ, (worst, gz_size(docs[worst]))
    assert gz_size(docs["index.json"]) <= BUDGET_GZ


# ------------------------------------------------------------------------------------------------
# the writer


def test_writer_rewrites_nothing_and_deletes_only_what_it_listed(tmp_path):
    frames, facts = synthetic(*SMALL, samples=20, width=10)
    docs_dir = tmp_path / "docs"
    first = write_explorer(write_dataset(docs_dir / "data", frames, facts), docs_dir, quiet=True)
    out = explorer_dir(docs_dir)
    assert first.written == first.total == 49 and first.unchanged == 0
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_ino) for p in out.iterdir()}
    stray = out / "mine.json"
    stray.write_text("{}")
    again = write_explorer(Dataset(docs_dir / "data"), docs_dir, quiet=True)  # a new Dataset: built again
    assert (again.written, again.unchanged, again.removed) == (0, 49, 0)
    assert {
        p.name: (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_ino) for p in out.iterdir() if p != stray
    } == before
    assert sorted(Manifest(docs_dir).listed("explorer")) == sorted(f"data/explorer/{n}" for n in before)
    # one seed fewer: that seed's files go (the manifest listed them), the stray file stays
    frames2, facts2 = synthetic(*SMALL[:3], (0, 1), *SMALL[4:], samples=20, width=10)
    shrunk = write_explorer(write_dataset(docs_dir / "data", frames2, facts2), docs_dir, quiet=True)
    assert shrunk.removed == 12 and not list(out.glob("*.s2.json")) and stray.read_text() == "{}"


# ------------------------------------------------------------------------------------------------
# the reduced site (configs/small.toml), end to end


@pytest.fixture(scope="module")
def small(site_build):
    data = Dataset(site_build.docs_dir / "data")
    return site_build, data, explorer_dir(site_build.docs_dir)


def test_small_site_has_one_file_per_config_and_seed_and_publishes_them(small):
    sb, data, folder = small
    p = data.grid.propagation
    want = {"index.json"}
    for init in p.inits:
        for act in p.activations:
            for norm in p.norms:
                key = config_key(init, act, norm)
                want |= {f"{key}.all.json", *(f"{key}.s{s}.json" for s in p.seeds)}
    assert {f.name for f in folder.iterdir()} == want
    published = sb.public_dir / "data" / "explorer"
    assert {f.name for f in published.iterdir()} == want  # none dropped by the i18n plugin
    for name in want:
        assert (published / name).read_bytes() == (folder / name).read_bytes()
    assert "explorer: " in sb.stage_logs["render"]


def test_small_site_seed_files_equal_the_csvs(small):
    _, data, folder = small
    prop, hist = data.prop, data.frame("histograms.csv")
    n = 0
    for (init, act, norm, seed), run in prop.groupby(["init", "activation", "norm", "seed"], sort=False):
        doc = load(folder, f"{config_key(init, act, norm)}.s{seed}.json")
        run = run.sort_values("layer")
        assert (doc["init"], doc["activation"], doc["norm"], doc["seed"]) == (init, act, norm, seed)
        assert doc["diverged"] == [bool(v) for v in run["diverged"]]
        assert doc["stats"] == {c: [r6(v) for v in run[c]] for c in STATS}
        h = hist[(hist["init"] == init) & (hist["activation"] == act) & (hist["norm"] == norm) & (hist["seed"] == seed)]
        assert doc["hist"] == h.pivot(index="layer", columns="bin", values="count").sort_index().to_numpy().tolist()
        n += 1
    assert n == len(data.grid.propagation.seeds) * len(list(explorer_data.configs(data.grid)))


def test_small_site_index_equals_its_sources(small):
    _, data, folder = small
    check_index(data, load(folder, "index.json"))


def test_a_second_render_rewrites_no_explorer_file(small):
    sb, _, folder = small
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "generator", "render", "--config", str(sb.config)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    total = len(before)
    assert f"explorer: {total} files, {total} unchanged, 0 written, 0 removed" in out.stderr
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before
