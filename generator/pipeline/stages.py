"""The stages behind the CLI, in order: experiments → figures → render → build.

Each stage reads what the previous one wrote under ``<docs_dir>`` (``data/*.csv``, ``figures/``),
so any stage can be re-run alone. ``site`` runs them all through one executor (:func:`_site`): every
stage's work is queued behind the previous stage's, and this process writes tables and renders pages
while the workers compute, so the two cores stay busy from the first task to the MkDocs build. The
last good ``site/public`` is replaced only when ``build`` succeeds (generator/pipeline/build.py).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from generator.config.load import Config, ConfigError, resolve


def docs_dir(cfg: Config) -> Path:
    return resolve(cfg.output.docs_dir)


def _executor(args):
    from generator.pipeline.runner import ProcessExecutor, SerialExecutor

    name = getattr(args, "executor", "auto") or "auto"
    if name == "auto":
        # Measured on the 2-core machine (`make bench`, README "Speed"): two single-threaded BLAS
        # processes run the grid faster than one process with two BLAS threads, because the
        # elementwise statistics between GEMMs are single-threaded.
        name = os.environ.get("INITLAB_EXECUTOR", "process" if (os.cpu_count() or 1) > 1 else "serial")
    if name == "process":
        return ProcessExecutor(getattr(args, "workers", None))
    if name == "dask":
        from generator.pipeline.dask_executor import DaskExecutor, require_distributed

        require_distributed()  # without the extra: exit 2 with the install line, before any work
        return DaskExecutor(getattr(args, "scheduler", None), getattr(args, "workers", None))
    return SerialExecutor()


def stage_experiments(cfg: Config, args, only=None):
    from generator.pipeline.experiments_stage import run_experiments

    quiet = getattr(args, "quiet", False)
    if only:
        result = run_experiments(cfg, only=only, executor=_executor(args), quiet=quiet, write=False)
        _print_subset(result.frames["propagation.csv"], cfg.propagation.depth)
        return result
    executor = _executor(args)
    with executor:
        result = run_experiments(cfg, executor=executor, quiet=quiet)
        # all queued before any is waited for: the phase and trainability tasks run while the training
        # tables are written
        finishers = [
            _start_training(cfg, args, quiet, executor),
            _start_phase(cfg, quiet, executor),
            _start_trainability(cfg, quiet, executor),
        ]
        later = [st for finish in finishers for st in _finish(finish)]
    _print_stats(result.stats + later, quiet)
    return result


def _start_trainability(cfg: Config, quiet: bool, executor):
    from generator.pipeline.trainability_stage import start_trainability

    return start_trainability(cfg, quiet, executor)


def _finish(finish) -> list:
    """Run a queued stage's ``finish`` (None: the stage was current) and return its RunStats list."""
    return (finish() or []) if finish is not None else []


def _print_stats(stats, quiet: bool) -> None:
    if not quiet:
        for st in stats:
            print(
                f"{st.kind}: {st.total} tasks, {st.hits} cached, {st.computed} computed, "
                f"{st.corrupt} damaged cache entries, {st.seconds:.1f} s from queued to done",
                file=sys.stderr,
            )


def _training(cfg: Config, args, quiet: bool, executor=None):
    finish = _start_training(cfg, args, quiet, executor or _executor(args))
    return finish() if finish is not None else None


def _start_training(cfg: Config, args, quiet: bool, executor):
    """Queue the training stage on ``executor``; return a function that waits for it, writes its files
    and returns its RunStats -- or None when the stage is current. Every config has ``[training]``
    (config/load.py SECTIONS: a config without it runs the training experiments with the defaults)."""
    from generator.pipeline.experiments_stage import start_guarded
    from generator.pipeline.store import Cache

    def submit():
        # only when the stage is not current: not even the run plan (which loads the data) otherwise
        from generator.pipeline.training_stage import finish_training, submit_training

        pending = submit_training(cfg, Cache(resolve(cfg.output.cache_dir)), executor)

        def collect():
            out = finish_training(pending, quiet=quiet)
            return [n for n in out if not n.startswith("__")], out.get("__stats__")

        return collect

    key = training_stage_key(cfg, executor)
    return start_guarded("training", docs_dir(cfg) / "data", key, TRAINING_MANIFEST, submit, quiet)


def _site(cfg: Config, args) -> object:
    """Every stage through ONE executor, queued so the workers never wait on this process.

    Queue order (first in, first out): the propagation grid, the seed note's code re-runs, the
    batch-norm placement runs (all three by run_experiments), the training runs, the phase diagram's
    theory and measurement tasks (phase_stage.py), the trainability runs (trainability_stage.py), the
    grid's figures, the training and phase figures. While the workers compute,
    this process assembles and writes the grid's tables (during training), the training tables and
    the pages (during the figures); only the MkDocs build runs after the last worker job.
    """
    from generator.pipeline.experiments_stage import run_experiments
    from generator.pipeline.figures_stage import FigureRun

    quiet = getattr(args, "quiet", False)
    executor = _executor(args)
    queued: dict = {}

    def queue_behind_grid():
        queued["training"] = _start_training(cfg, args, quiet, executor)
        queued["phase"] = _start_phase(cfg, quiet, executor)
        queued["trainability"] = _start_trainability(cfg, quiet, executor)

    # the pool shuts down (running figure jobs finish) before the figures' temporary folder is removed
    with FigureRun(cfg, quiet) as figures, executor:
        result = run_experiments(cfg, executor=executor, quiet=quiet, after_submit=queue_behind_grid)
        figures.submit_grid(executor)  # reads the grid's tables, just written
        training = queued["training"]() if queued["training"] is not None else None
        later = _finish(queued["phase"]) + _finish(queued["trainability"])
        _print_stats(result.stats + (training or []) + later, quiet)
        figures.submit_training(executor)
        figures.submit_phase(executor)  # after the phase/trainability CSVs are written (issue 17)
        stage_render(cfg, args)
        figures.finish()
    return stage_build(cfg, args)


def _start_phase(cfg: Config, quiet: bool, executor):
    """Queue the phase stage (generator/pipeline/phase_stage.py); None when it is current."""
    from generator.pipeline.phase_stage import start_phase

    return start_phase(cfg, executor, quiet)


TRAINING_MANIFEST = ".training-manifest.json"


def training_stage_key(cfg: Config, executor=None) -> str:
    """Hash of everything the training stage's files depend on: the ``[training]`` section, the import
    closure of the code that assembles it (generator.pipeline.training_stage) and of its task function's
    module (generator.experiments.training_run; tests/test_store_keys.py checks it is the registered
    one), generator/common/imports.py, the library versions and the BLAS threads its tasks run with on
    ``executor`` (as in their task keys). The digits data enter through the code:
    generator/engine/digits.py pins the shipped file's sha256."""
    import dataclasses
    import json

    from generator.common.hashing import sha256_bytes
    from generator.common.imports import code_digest
    from generator.pipeline.runner import task_environment
    from generator.pipeline.training_stage import KIND

    code = code_digest(("generator.pipeline.training_stage", "generator.experiments.training_run"))
    inputs = {"training": dataclasses.asdict(cfg.training), "code": code, "env": task_environment(KIND, executor)}
    return sha256_bytes(json.dumps(inputs, sort_keys=True, default=str).encode())


def _print_subset(df, depth: int) -> None:
    last = df[df["layer"] == depth]
    cols = ["init", "activation", "norm", "seed", "mean", "std", "grad_h_std", "diverged"]
    print(last[cols].to_string(index=False))


def check_grid(cfg: Config, data_dir: Path) -> None:
    """ConfigError unless ``data_dir/grid.json`` exists and holds the grid facts of ``cfg`` (the config
    file's name and path aside): the figures and pages describe the data, so they must not be drawn
    with one grid's data and another config's labels."""
    from generator.contract.grid import GRID_FILE, PROVENANCE, GridError, first_difference, read_grid
    from generator.experiments.plan import grid_facts

    where = f"{data_dir.name}/{GRID_FILE}"
    if not (data_dir / GRID_FILE).is_file():
        raise ConfigError(where, f"not found in {data_dir.parent}; run experiments first")
    try:
        grid = read_grid(data_dir)
    except GridError as exc:
        raise ConfigError(where, str(exc)) from None
    diff = first_difference(grid, grid_facts(cfg), ignore=PROVENANCE)
    if diff is not None:
        field, was, now = diff
        raise ConfigError(
            field,
            f"{where} has {field} = {_text(was)} (from {grid.config_file}) but --config gives "
            f"{_text(now)}; run experiments with this config first",
        )


def _text(value) -> str:
    import json

    return json.dumps(value, ensure_ascii=False) if isinstance(value, (list, dict, str)) else str(value)


def stage_figures(cfg: Config, args):
    from generator.pipeline.figures_stage import render_all_figures

    check_grid(cfg, docs_dir(cfg) / "data")
    return render_all_figures(cfg, quiet=getattr(args, "quiet", False))


def stage_render(cfg: Config, args):
    from generator.contract.dataset import Dataset
    from generator.pages.registry import build_context
    from generator.pipeline.explorer_stage import write_explorer
    from generator.pipeline.render_stage import render_pages

    data_dir = docs_dir(cfg) / "data"
    check_grid(cfg, data_dir)
    data = Dataset(data_dir)
    pages = render_pages(build_context(data), docs_dir(cfg), bytecode_dir=resolve(cfg.output.cache_dir) / "jinja")
    # the explorer's JSON documents: built once with its page's context (same Dataset), written after the pages
    write_explorer(data, docs_dir(cfg), quiet=getattr(args, "quiet", False))
    return pages


def stage_build(cfg: Config, args):
    from generator.pipeline.build import build_site
    from generator.pipeline.nav import site_nav

    site_url = getattr(args, "site_url", None)
    return build_site(
        public_dir=resolve(cfg.output.public_dir),
        docs_dir=docs_dir(cfg),
        site_url=site_url,
        nav=site_nav(),
        repo_url=getattr(args, "repo_url", None),
    )


def run_command(command: str, cfg: Config, args, only=None):
    """Run ``command`` holding the pipeline lock, with its output directories checked and claimed
    (generator/pipeline/outputs.py); ``bench`` runs whole builds in subprocesses, each taking its own lock."""
    if command == "bench" and getattr(args, "compare", None):
        from generator.pipeline import bench_compare

        res = bench_compare.compare(
            args.compare,
            str(cfg.path),
            rounds=args.rounds,
            stages=args.stages,
            log=(lambda *a: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr)),
        )
        print(bench_compare.table(res))
        return res
    if command == "bench":
        from generator.pipeline.bench import run_bench

        return run_bench(cfg, args)
    from generator.pipeline.outputs import build_lock

    with build_lock(cfg, wait=not getattr(args, "no_wait", False), quiet=getattr(args, "quiet", False)):
        return _run_locked(command, cfg, args, only)


def _run_locked(command: str, cfg: Config, args, only=None):
    if command == "experiments":
        return stage_experiments(cfg, args, only)
    if command == "figures":
        return stage_figures(cfg, args)
    if command == "render":
        return stage_render(cfg, args)
    if command == "build":
        return stage_build(cfg, args)
    if command == "site":
        if only:
            raise ConfigError("--only", "a site is built from the whole grid; use --only with 'experiments'")
        from generator.pipeline.stamp import SiteStamp

        stamp = SiteStamp.for_build(cfg, getattr(args, "site_url", None), repo_url=getattr(args, "repo_url", None))
        if stamp.is_current():
            if not getattr(args, "quiet", False):
                print(
                    f"site: up to date (no input changed since the last build; stamp {stamp.key[:12]})", file=sys.stderr
                )
            return None
        result = _site(cfg, args)
        stamp.record()
        return result
    raise ValueError(f"unknown command {command!r}")
