"""The ``experiments`` stage: config -> tasks -> cached results -> the contract CSVs.

``plan.grid_tasks(cfg, only)`` expands the propagation grid (init × activation × norm × seed) into task
params; ``run_experiments`` runs them through the runner (cache + executor seam), adds the mean-field
predictions, and writes ``propagation.csv``, ``histograms.csv``, ``symmetry.csv``, ``theory.csv``,
``theory_fixed.csv``, ``health.csv``, ``seed_printed.csv``, ``seed_code.csv`` and ``placement.csv`` under ``<docs_dir>/data``. The key
columns are added here, not by the workers, so a worker's result depends only on its params. The files
come in four groups (grid + theory, symmetry, seed reference, the batch-norm placement runs of
``placement.csv``), each with its own manifest, so a group whose inputs did not change is not even read
back from the cache. The tasks come from generator/experiments/plan.py. ``data/grid.json`` (the grid
facts every later stage reads instead of the config; generator/contract/grid.py) is written last, then
``data/datapackage.json`` (generator/contract/datapackage.py; :func:`record_data_files` refreshes it).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from generator.analysis.health import health_of
from generator.common.hashing import sha256_bytes, sha256_file
from generator.common.imports import code_digest
from generator.config.load import Config, resolve
from generator.contract import schema as contract
from generator.contract.grid import GRID_FILE, write_grid
from generator.engine import theory
from generator.experiments import seed_code as seed_reference
from generator.experiments.plan import GRID_AXES, compute_order, grid_facts, grid_tasks, placement_tasks, symmetry_tasks
from generator.pipeline import store
from generator.pipeline.runner import Executor, RunStats, run_tasks, submit_tasks, task_module, task_threads
from generator.pipeline.store import Cache, environment


def _with_keys(df: pd.DataFrame, params: dict, keys: tuple[str, ...]) -> pd.DataFrame:
    df = df.copy()
    for i, k in enumerate(keys):
        df.insert(i, k, params[k])
    return df


def theory_frames(cfg: Config) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mean-field predictions for every (random init, activation) of the grid: theory.csv runs to the
    larger of the grid depth (its theory_std is merged into propagation.csv) and ``[theory] depth`` (so the
    curves show the asymptotics); theory_fixed.csv holds the limit of the recursion and its regime."""
    p = cfg.propagation
    depth = max(p.depth, cfg.theory.depth)
    rows, fixed = [], []
    for init, act in itertools.product(p.inits, p.activations):
        s2 = theory.sigma_w2(init, act, p.width, p.width)
        if s2 is None:
            continue
        mf = pd.DataFrame(theory.mean_field(act, s2, depth, q0=1.0, points=cfg.theory.quadrature_points))
        rows.append(_with_keys(mf, {"init": init, "activation": act}, ("init", "activation")))
        fp = theory.fixed_point(act, s2, q0=1.0, points=cfg.theory.quadrature_points)
        fixed.append({"init": init, "activation": act, "sigma_w2": s2, **fp})
    th = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=contract.THEORY.column_names)
    return th, pd.DataFrame(fixed, columns=contract.THEORY_FIXED.column_names)


@dataclass
class ExperimentResult:
    frames: dict[str, pd.DataFrame]
    stats: list[RunStats]


def run_experiments(
    cfg: Config,
    only: dict[str, set[str]] | None = None,
    executor: Executor | None = None,
    quiet: bool = False,
    write: bool = True,
    after_submit: Callable[[], None] | None = None,
) -> ExperimentResult:
    """Run (or read back) the grid, symmetry, seed-reference and placement groups, write their CSVs, then grid.json.

    ``after_submit`` is called once the grid's tasks are queued on ``executor`` (or at once when the
    grid group is skipped), before this function waits for them: ``site`` queues the training runs
    there, so they compute while this process assembles and writes the grid's tables.
    """
    p = cfg.propagation
    cache = Cache(resolve(cfg.output.cache_dir))
    tasks = grid_tasks(cfg, only)
    data_dir = resolve(cfg.output.docs_dir) / "data"
    sym_tasks = symmetry_tasks(cfg)
    frames: dict[str, pd.DataFrame] = {}
    stats: list[RunStats] = []

    def current(group: str, inputs: dict, runs_on: Executor | None = executor) -> tuple[str, bool]:
        key = group_key(group, inputs, runs_on)
        return key, write and not only and manifest_is_current(data_dir, key, MANIFESTS[group])

    def save(group: str, key: str, new: dict[str, pd.DataFrame]) -> None:
        new = {name: contract.check_frame(name, df) for name, df in new.items()}
        frames.update(new)
        if write:
            for name, df in new.items():
                contract.write_csv(name, df, data_dir)
            write_manifest(data_dir, key, list(new), MANIFESTS[group])

    # Three independent groups of files, each skipped as a whole when its inputs are unchanged and its
    # files intact (no cache lookups, no rewrite): editing the symmetry section does not reload the grid.
    # Every group's tasks are queued before any is waited for, so the executor's workers run the seed
    # re-runs while this process assembles the grid.
    grid_key, grid_skip = current("grid", {"tasks": tasks, "theory": dataclasses.asdict(cfg.theory), "depth": p.depth})
    sym_key, sym_skip = current("symmetry", {"tasks": sym_tasks, "width": cfg.symmetry.width}, None)  # in-process
    printouts = sha256_file(seed_reference.PRINTOUTS_CSV)
    seed_key, seed_skip = current("seed", {"printouts": printouts, "seeds": list(p.seeds)})
    seed_tasks = seed_reference.seed_code_tasks(seeds=p.seeds)
    place_tasks = placement_tasks(cfg)
    place_key, place_skip = current("placement", {"tasks": place_tasks})
    place_skip = place_skip or bool(only)  # a subset of the grid is explored, not the batch-norm page

    order = compute_order(tasks, p.inits)
    grid_pending = None if grid_skip else submit_tasks("propagation", [tasks[i] for i in order], cache, executor)
    seed_pending = None if seed_skip else submit_tasks("seed_code", seed_tasks, cache, executor)
    place_pending = None if place_skip or not place_tasks else submit_tasks("propagation", place_tasks, cache, executor)
    if after_submit is not None:
        after_submit()

    if grid_pending is None:
        stats.append(RunStats("propagation", total=len(tasks), hits=len(tasks)))
    else:
        computed, prop_stats = grid_pending.collect(quiet)
        stats.append(prop_stats)
        results = [None] * len(tasks)
        for pos, i in enumerate(order):
            results[i] = computed[pos]
        save("grid", grid_key, grid_frames(cfg, tasks, results))

    if sym_skip:
        stats.append(RunStats("symmetry", total=len(sym_tasks), hits=len(sym_tasks)))
    else:
        sym_results, sym_stats = run_tasks("symmetry", sym_tasks, cache, None, quiet)  # tiny: in this process
        stats.append(sym_stats)
        save("symmetry", sym_key, {"symmetry.csv": symmetry_frame(cfg, sym_tasks, sym_results)})

    if seed_pending is not None:
        seed_results, seed_stats = seed_pending.collect(quiet=True)
        stats.append(seed_stats)
        save(
            "seed",
            seed_key,
            {
                "seed_printed.csv": seed_reference.load_printouts(),
                "seed_code.csv": seed_reference.seed_code_assemble(seed_tasks, [r["result"] for r in seed_results]),
            },
        )

    if not place_skip:
        place_results, place_stats = place_pending.collect(quiet=True) if place_pending else ([], None)
        stats += [dataclasses.replace(place_stats, kind="placement")] if place_stats else []
        save("placement", place_key, {"placement.csv": placement_frame(place_tasks, place_results)})
    if write and not only:
        # last: grid.json says the files beside it are complete for this config (the render stage checks it)
        write_grid(data_dir, grid_facts(cfg))
        record_data_files(data_dir, "experiments", MANIFESTS.values(), extra=[GRID_FILE])
    return ExperimentResult(frames, stats)


def grid_frames(cfg: Config, tasks: list[dict], results: list) -> dict[str, pd.DataFrame]:
    """The grid group's files from the grid's task results (in ``tasks`` order): propagation.csv with the
    mean-field prediction merged in, histograms.csv, theory.csv, theory_fixed.csv and health.csv."""
    layers = pd.concat([_with_keys(r["layers"], t, GRID_AXES) for r, t in zip(results, tasks)], ignore_index=True)
    hist = pd.concat([_with_keys(r["hist"], t, GRID_AXES) for r, t in zip(results, tasks)], ignore_index=True)
    th, th_fixed = theory_frames(cfg)
    # theory_std applies to norm = none only: BN re-normalizes every layer, outside the recursion.
    pred = th[["init", "activation", "layer", "theory_std"]]
    layers = layers.merge(pred, on=["init", "activation", "layer"], how="left")
    layers.loc[layers["norm"] != "none", "theory_std"] = np.nan
    return {
        "propagation.csv": layers,
        "histograms.csv": hist,
        "theory.csv": th,
        "theory_fixed.csv": th_fixed,
        "health.csv": health_of(layers, cfg.propagation.depth),
    }


def symmetry_frame(cfg: Config, tasks: list[dict], results: list[dict]) -> pd.DataFrame:
    """symmetry.csv: the symmetry runs' rows keyed by (init, activation, seed), with the configured width."""
    sym = pd.concat(
        [_with_keys(r["result"], t, ("init", "activation", "seed")) for r, t in zip(results, tasks)],
        ignore_index=True,
    )
    sym["width"] = cfg.symmetry.width
    return sym


def placement_frame(tasks: list[dict], results: list[dict]) -> pd.DataFrame:
    """placement.csv: the per-layer rows of the placement runs, keyed like propagation.csv."""
    spec = contract.DATA_FILES["placement.csv"]
    parts = [_with_keys(r["layers"], t, GRID_AXES) for r, t in zip(results, tasks)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=spec.column_names)


def record_data_files(data_dir: Path, stage: str, manifests, extra=()) -> None:
    """List ``stage``'s files in the docs manifest: the group manifests, the files they name and ``extra``;
    then refresh ``data/datapackage.json`` over every data file now present (each data-writing stage ends
    here, so the package always describes the files beside it) and list it too."""
    from generator.contract.datapackage import write_package
    from generator.pipeline.outputs import Manifest

    names = list(extra)
    for man in manifests:
        try:
            names += [man, *json.loads((data_dir / man).read_text())["files"]]
        except (OSError, ValueError, KeyError, TypeError):
            continue
    manifest = Manifest(data_dir.parent)
    manifest.record(stage, [data_dir / n for n in names])
    manifest.record("datapackage", [write_package(data_dir)])


# Stage manifests, one per group of files: a warm rebuild with nothing changed skips the group. Its key
# hashes every input of the files it writes (the config values, the stage's code, library versions);
# the file hashes catch a data file edited or damaged by hand.
MANIFEST = ".experiments-manifest.json"
MANIFESTS = {
    "grid": MANIFEST,
    "symmetry": ".symmetry-manifest.json",
    "seed": ".seed-manifest.json",
    "placement": ".placement-manifest.json",
}
# The task kinds each group's files are computed from; a group's key names their code and this
# module's (which assembles the files) through the import closure (generator/common/imports.py).
GROUP_TASKS = {
    "grid": ("propagation",),
    "symmetry": ("symmetry",),
    "seed": ("seed_code",),
    "placement": ("propagation",),
}


def group_code(group: str) -> str:
    """Digest of the import closure of this module and of the group's task functions."""
    return code_digest((__name__, *(task_module(kind) for kind in GROUP_TASKS[group])))


def group_key(group: str, inputs: dict, executor: Executor | None = None) -> str:
    """Hash of one file group's config inputs + the code that computes and assembles it + library versions
    + the BLAS threads its tasks run with on ``executor`` (None: in this process), as in their task keys."""
    threads = {kind: task_threads(kind, executor) for kind in GROUP_TASKS[group]}
    full = {"group": group, **inputs, "code": group_code(group), "env": {**environment(), "blas_threads": threads}}
    return sha256_bytes(json.dumps(full, sort_keys=True).encode())


def manifest_is_current(data_dir: Path, key: str, manifest: str = MANIFEST) -> bool:
    """True when ``manifest`` in ``data_dir`` records ``key`` and every file it lists is unchanged."""
    return store.manifest_is_current(data_dir, key, manifest)


def write_manifest(data_dir: Path, key: str, names: list[str], manifest: str = MANIFEST) -> None:
    """Record ``key`` and the SHA-256 of each written file (call only after every file is written)."""
    store.write_manifest(data_dir, key, names, manifest)


def start_guarded(stage: str, data_dir: Path, key: str, manifest: str, submit: Callable, quiet: bool = False):
    """The queued stage behind a manifest (training, phase, trainability): None when ``manifest`` records
    ``key`` and its files are intact (the stage's files stay listed in the docs manifest); else
    ``submit()`` queues the tasks and returns ``collect() -> (file names written, RunStats list)``, and
    this returns ``finish()``, which collects, writes the manifest last, lists the files and returns
    the RunStats."""
    if manifest_is_current(data_dir, key, manifest):
        if not quiet:
            print(f"{stage}: inputs unchanged, stage skipped", file=sys.stderr)
        record_data_files(data_dir, stage, [manifest])
        return None
    collect = submit()

    def finish():
        names, stats = collect()
        write_manifest(data_dir, key, names, manifest)
        record_data_files(data_dir, stage, [manifest])
        return stats

    return finish
