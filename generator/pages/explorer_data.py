"""The explorer's JSON documents, built from a Dataset: a derived view of the contract CSVs.

Contract (the interface is fixed in issue 16's explorer spec, section 2)
-----------------------------------------------------------------------
:func:`documents` returns ``{file name: bytes}`` for ``<docs_dir>/data/explorer/``; the pipeline writes
exactly these bytes (generator/pipeline/explorer_stage.py) and the explorer page reports their sizes
(:func:`sizes`), so the page and the files cannot disagree. Built once per Dataset.

* ``index.json``: axes (grid.json's order, plus ``seed`` and ``layer`` 1..depth), ``stats`` (the float
  columns of propagation.csv in contract order, :func:`stat_columns`), ``bins`` (per activation the
  B+1 finite edges, read from histograms.csv: the ``hi`` edge of bins 0..B), ``theory`` (theory_fixed.csv
  and theory.csv's per-layer ``q`` and ``theory_std``, layers 1..depth; no normalization only),
  ``phase`` (:func:`phase_index`: each pair's place on the phase diagram at sigma_b2 = 0, from
  phase_theory.csv; ``{}`` when the phase stage did not run), ``health`` (health.csv's records, analysis/health.py ``health_frame``) and ``examples``
  (generator/analysis/explorer_examples.py).
* ``<init>.<activation>.<norm>.all.json`` (not ``<key>.json``: mkdocs-static-i18n reads a two-letter last
  suffix as a language, so ``he.relu.bn.json`` would be dropped from the site as Bengali): the seed aggregate of generator/analysis/seeds.py (mean/lo/hi over
  contributing seeds, its ``n_ok``/``diverged``/``all_diverged`` flags) and the histogram counts summed
  over every seed (as the site's histogram figures pool them, generator/analysis/hist.py).
* ``<init>.<activation>.<norm>.s<seed>.json``: one run's raw propagation.csv values (``diverged`` is the
  CSV's column) and its histograms.csv counts.

Encoding (:func:`encode`): floats at 6 significant digits, NaN -> null, ±inf -> "inf"/"-inf", compact
separators, sorted keys, ``\\n`` at the end: the bytes depend only on the data.
"""

from __future__ import annotations

import gzip
import json
import math
import weakref

import numpy as np
import pandas as pd

from generator.analysis.explorer_examples import examples
from generator.analysis.health import health_frame
from generator.analysis.seeds import CONFIG, seed_means
from generator.contract.schema import PROPAGATION

FORMAT = 1
DIR = "explorer"  # under <docs_dir>/data/
INDEX = "index.json"
GZIP_LEVEL = 9
HIST_COLUMNS = [*CONFIG, "seed", "layer", "bin", "lo", "hi", "count"]


def stat_columns() -> list[str]:
    """The float columns of propagation.csv, in contract order."""
    return [c.name for c in PROPAGATION.columns if c.dtype == "float"]


def config_key(init: str, activation: str, norm: str) -> str:
    return f"{init}.{activation}.{norm}"


def seed_file(key: str, seed) -> str:
    """``<key>.all.json`` (every seed) or ``<key>.s<seed>.json``. Never ``<key>.json``: the i18n plugin
    reads a last suffix of two letters as a language (``he.relu.bn.json`` -> Bengali) and drops the file."""
    return f"{key}.all.json" if seed == "all" else f"{key}.s{int(seed)}.json"


def num(x):
    """One JSON number: 6 significant digits, NaN -> None, ±inf -> "inf"/"-inf"; ints and bools kept."""
    if x is None or isinstance(x, (bool, np.bool_)):
        return None if x is None else bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    x = float(x)
    if math.isnan(x):
        return None
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return float(f"{x:.6g}")


def nums(values) -> list:
    return [num(v) for v in np.asarray(values, dtype=float)]


def encode(doc: dict) -> bytes:
    """The file's bytes (compact, keys sorted, no NaN literal, newline at the end)."""
    return (json.dumps(doc, separators=(",", ":"), sort_keys=True, allow_nan=False, ensure_ascii=False) + "\n").encode()


def gz_size(blob: bytes) -> int:
    """Bytes fetched over a gzip-compressed connection (level 9, no name, mtime 0)."""
    return len(gzip.compress(blob, compresslevel=GZIP_LEVEL, mtime=0))


def sizes(docs: dict[str, bytes]) -> dict:
    """``files``, ``raw_bytes`` (sum), ``max_fetch_gz`` (largest single file gzipped) of :func:`documents`."""
    return {
        "files": len(docs),
        "raw_bytes": sum(len(b) for b in docs.values()),
        "max_fetch_gz": max((gz_size(b) for b in docs.values()), default=0),
    }


def configs(grid) -> list[tuple[str, str, str]]:
    """Every (init, activation, norm) of the grid, in grid order."""
    p = grid.propagation
    return [(i, a, n) for i in p.inits for a in p.activations for n in p.norms]


# ------------------------------------------------------------------------------------------------
# dense arrays of the two per-run tables


def _positions(frame: pd.DataFrame, cfgs, seeds, depth: int):
    """Row -> (config, seed, layer - 1) positions; rows outside the grid are dropped (mask)."""
    ci = pd.MultiIndex.from_tuples(cfgs, names=CONFIG).get_indexer(pd.MultiIndex.from_frame(frame[CONFIG]))
    si = pd.Index(list(seeds)).get_indexer(frame["seed"])
    li = frame["layer"].to_numpy(dtype=int) - 1
    ok = (ci >= 0) & (si >= 0) & (li >= 0) & (li < depth)
    return ci[ok], si[ok], li[ok], ok


def run_arrays(prop: pd.DataFrame, cfgs, seeds, depth: int, cols: list[str]):
    """(values [C, S, L, len(cols)] float, NaN where absent; diverged [C, S, L] bool) of propagation.csv."""
    ci, si, li, ok = _positions(prop, cfgs, seeds, depth)
    vals = np.full((len(cfgs), len(seeds), depth, len(cols)), np.nan)
    vals[ci, si, li] = prop[cols].to_numpy(dtype=float)[ok]
    div = np.zeros((len(cfgs), len(seeds), depth), dtype=bool)
    div[ci, si, li] = prop["diverged"].to_numpy(dtype=bool)[ok]
    return vals, div


def hist_arrays(hist: pd.DataFrame, cfgs, seeds, depth: int) -> np.ndarray:
    """Counts [C, S, L, B + 2] (int) of histograms.csv; bin 0 is (-inf, e_0), bin B + 1 is (e_B, inf)."""
    ci, si, li, ok = _positions(hist, cfgs, seeds, depth)
    bins = hist["bin"].to_numpy(dtype=int)[ok]
    out = np.zeros((len(cfgs), len(seeds), depth, int(bins.max()) + 1 if len(bins) else 0), dtype=np.int64)
    out[ci, si, li, bins] = hist["count"].to_numpy(dtype=np.int64)[ok]
    return out


def bin_edges(hist: pd.DataFrame, activations) -> dict[str, list]:
    """Per activation the B+1 finite edges: the ``hi`` of bins 0..B of its first histogram."""
    out = {}
    for act in activations:
        sub = hist[hist["activation"] == act]
        if not len(sub):
            continue
        first = sub.iloc[0]
        one = sub[(sub[CONFIG + ["seed", "layer"]] == first[CONFIG + ["seed", "layer"]]).all(axis=1)]
        hi = one.sort_values("bin")["hi"].to_numpy(dtype=float)
        out[act] = nums(hi[np.isfinite(hi)])
    return out


# ------------------------------------------------------------------------------------------------
# the three kinds of document


def _head(init: str, act: str, norm: str, seed) -> dict:
    return {"format": FORMAT, "init": init, "activation": act, "norm": norm, "seed": seed}


def seed_doc(cfg: tuple, seed: int, cols: list[str], vals: np.ndarray, div: np.ndarray, hist: np.ndarray) -> dict:
    """One run: ``vals`` [L, cols], ``div`` [L], ``hist`` [L, B + 2]."""
    return {
        **_head(*cfg, int(seed)),
        "diverged": [bool(d) for d in div],
        "stats": {c: nums(vals[:, j]) for j, c in enumerate(cols)},
        "hist": hist.tolist(),
    }


def all_doc(sm, cfg: tuple, depth: int, cols: list[str], hist: np.ndarray) -> dict:
    """Every seed of one configuration: seeds.py's aggregate and ``hist`` [L, B + 2] summed over seeds."""
    init, act, norm = cfg
    case = sm.case(init, act, norm).set_index("layer").reindex(range(1, depth + 1))
    stats = {}
    for c in cols:
        s = sm.stats(c, init=init, activation=act, norm=norm, depth=depth)
        stats[c] = {"mean": nums(s.mean), "lo": nums(s.lo), "hi": nums(s.hi)}
    n_ok = case["n_ok"].fillna(0).astype(int)
    return {
        **_head(*cfg, "all"),
        "n_seeds": int(case["n_seeds"].fillna(0).max()) if len(case) else 0,
        "n_ok": [int(v) for v in n_ok],
        "diverged": [bool(v) for v in case["diverged"].fillna(False).astype(bool)],
        "all_diverged": [bool(v) for v in (n_ok == 0)],
        "stats": stats,
        "hist": hist.tolist(),
    }


def theory_index(data, depth: int) -> dict:
    """``{init: {activation: {sigma_w2, q_star, chi1, regime, q, theory_std}}}`` (no normalization)."""
    if not (data.has("theory_fixed.csv") and data.has("theory.csv")):
        return {}
    curves = data.frame("theory.csv")
    curves = curves[curves["layer"] <= depth]
    by = {k: g.sort_values("layer") for k, g in curves.groupby(["init", "activation"], sort=False)}
    out: dict = {}
    for r in data.frame("theory_fixed.csv").to_dict("records"):
        g = by.get((r["init"], r["activation"]))
        q = nums(g["q"]) if g is not None else []
        std = nums(g["theory_std"]) if g is not None else []
        out.setdefault(r["init"], {})[r["activation"]] = {
            "sigma_w2": num(r["sigma_w2"]),
            "q_star": num(r["q_star"]),
            "chi1": num(r["chi1"]),
            "regime": str(r["regime"]),
            "q": q,
            "theory_std": std,
        }
    return out


def phase_index(data) -> dict:
    """``{init: {activation: {sigma_w2, chi1, xi_c, regime}}}``: each (init, activation) of theory_fixed.csv
    placed on the phase diagram at sigma_b2 = 0 -- the phase_theory.csv row at sigma_b2 = 0 whose sigma_w2 is
    nearest the init's (``sigma_w2`` is that grid point's, so a reader sees how near it is); activations
    phase_theory.csv does not hold are left out, and the whole entry is ``{}`` without either file."""
    if not (data.has("phase_theory.csv") and data.has("theory_fixed.csv")):
        return {}
    th = data.frame("phase_theory.csv")
    at0 = {a: g.sort_values("sigma_w2") for a, g in th[th["sigma_b2"] == 0].groupby("activation", sort=False)}
    out: dict = {}
    for r in data.frame("theory_fixed.csv").to_dict("records"):
        g, s2 = at0.get(r["activation"]), float(r["sigma_w2"])
        if g is None or not math.isfinite(s2):
            continue
        row = g.iloc[int(np.argmin(np.abs(g["sigma_w2"].to_numpy(float) - s2)))]
        out.setdefault(r["init"], {})[r["activation"]] = {
            "sigma_w2": num(row["sigma_w2"]),
            "chi1": num(row["chi1"]),
            "xi_c": num(row["xi_c"]),
            "regime": str(row["regime"]),
        }
    return out


def health_index(health: pd.DataFrame) -> dict:
    out = {}
    for r in health.to_dict("records"):
        fd = r["first_diverged"]
        out[config_key(r["init"], r["activation"], r["norm"])] = {
            "forward": str(r["forward"]),
            "backward": str(r["backward"]),
            "healthy": bool(r["healthy"]),
            "n_seeds": int(r["n_seeds"]),
            "n_ok": int(r["n_ok"]),
            "first_diverged": None if fd is None or math.isnan(float(fd)) else int(fd),
        }
    return out


def index_doc(data, hist: pd.DataFrame) -> dict:
    p = data.grid.propagation
    health = health_frame(data)  # the records health.csv holds (the same function wrote it)
    return {
        "format": FORMAT,
        "axes": {
            "init": list(p.inits),
            "activation": list(p.activations),
            "norm": list(p.norms),
            "seed": [int(s) for s in p.seeds],
            "layer": list(range(1, int(p.depth) + 1)),
        },
        "stats": stat_columns(),
        "bins": bin_edges(hist, p.activations),
        "theory": theory_index(data, int(p.depth)),
        "phase": phase_index(data),
        "health": health_index(health),
        "examples": examples(health),
    }


def build(data) -> dict[str, bytes]:
    """Every document of the explorer (see the module docstring), keyed by file name, sorted."""
    p = data.grid.propagation
    depth, seeds, cfgs, cols = int(p.depth), [int(s) for s in p.seeds], configs(data.grid), stat_columns()
    hist = data.frame("histograms.csv") if data.has("histograms.csv") else pd.DataFrame(columns=HIST_COLUMNS)
    vals, div = run_arrays(data.prop, cfgs, seeds, depth, cols)
    counts = hist_arrays(hist, cfgs, seeds, depth)
    sm = seed_means(data)
    docs = {INDEX: encode(index_doc(data, hist))}
    for c, cfg in enumerate(cfgs):
        key = config_key(*cfg)
        docs[seed_file(key, "all")] = encode(all_doc(sm, cfg, depth, cols, counts[c].sum(axis=0)))
        for s, seed in enumerate(seeds):
            docs[seed_file(key, seed)] = encode(seed_doc(cfg, seed, cols, vals[c, s], div[c, s], counts[c, s]))
    return dict(sorted(docs.items()))


_MEMO: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def documents(data) -> dict[str, bytes]:
    """:func:`build` of ``data``, computed once per Dataset object (the page and the writer share it)."""
    if data not in _MEMO:
        _MEMO[data] = build(data)
    return _MEMO[data]
