"""The ``figures`` stage: every figure job × language -> ``<docs_dir>/figures/<stem>.<lang>.svg``.

The jobs come from the one figure registry (generator/figures/registry.py): the grid's and pages'
figures, and the training figures (their target line is ``cfg.training.target_accuracy``, passed as a
job param). Each file is cached in the store (generator/pipeline/store.py) by a hash of its inputs
(:func:`figure_key`): the job (name + params), the language, the contract tables it reads (their bytes
on disk), the code that draws it (:func:`drawing_code`: the import closure of the drawing function's
module and of the loader and writer every job runs), the strings catalog when that code prints text,
and the library versions. Editing the number formatter therefore re-renders only the figures whose
drawing code imports it; editing a page template re-renders none. A warm run copies cached files and
renders nothing. Misses render in a process pool (matplotlib is single-threaded; ``make bench``).
"""

from __future__ import annotations

import functools
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from generator.common import atomic
from generator.common.hashing import sha256_file, sha256_parts
from generator.common.imports import closure_of_all, digest_modules
from generator.config.load import Config, resolve
from generator.contract.grid import read_grid
from generator.pipeline.outputs import Manifest, scratch_dir
from generator.pipeline.runner import Progress
from generator.pipeline.store import Store, cache_key, environment


@dataclass
class FigureStats:
    total: int = 0
    rendered: int = 0
    cached: int = 0


def _strings_digest() -> str:
    from generator.common.languages import LANGUAGES
    from generator.render.strings import catalog_files

    paths = tuple(p for lang in LANGUAGES for p in catalog_files(lang))
    return _catalog_digest(tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in paths if p.exists()))


@functools.lru_cache(maxsize=64)
def _catalog_digest(files: tuple) -> str:
    """SHA-256 of the catalog files' bytes (memoised per (path, mtime, size) in this process only)."""
    return sha256_parts(Path(path).read_bytes() for path, _, _ in files)


_DATA: dict = {}  # table key -> DataFrame loaded in this worker
_LOADED: dict = {}  # table key -> (data_dir, digest) of the loaded file
_FONTS: list = []  # [True] once this worker has set matplotlib up


def _load_table(key: str, data_dir: str) -> None:
    from generator.contract import schema as contract
    from generator.figures.registry import TABLE_FILES

    _DATA[key] = contract.read_csv(TABLE_FILES[key], data_dir)


def _ensure_tables(data_dir: str, tables: dict) -> None:
    """Load the job's tables in this worker unless the same files (same digest) are loaded already: a
    shared pool's workers load a table on the first figure that reads it, not per figure. A table
    whose file is missing (digest None) is left out of ``data``."""
    from generator.render.fonts import setup_matplotlib

    if not _FONTS:
        setup_matplotlib()
        _FONTS.append(True)
    for key, digest in tables.items():
        if digest is None:
            _DATA.pop(key, None)
            _LOADED.pop(key, None)
        elif _LOADED.get(key) != (data_dir, digest):
            _load_table(key, data_dir)
            _LOADED[key] = (data_dir, digest)


def _render_one(name: str, params: dict, lang: str, out_path: str, data_dir: str, tables: dict) -> str:
    from generator.figures.draw import render_figure

    _ensure_tables(data_dir, tables)
    out = Path(out_path)
    render_figure(name, {k: _DATA[k] for k in tables if k in _DATA}, lang, out.parent, **params)
    return out_path


FIGURE_KIND = "figures"  # the store folder of figure files


def job_runtime_modules() -> tuple[str, ...]:
    """Modules every figure job runs around its drawing function: the table reader, the font setup
    and the drawing/writing wrapper (:func:`_load_table`, :func:`generator.figures.draw.render_figure`)."""
    return ("generator.contract.schema", "generator.figures.draw", "generator.render.fonts")


def drawing_code(module: str) -> str:
    """Code part of a figure key: the import closure of ``module`` (the one that draws the figure) and
    of the job's runtime, plus the strings catalog when that closure reads it (the figure prints text)."""
    modules = closure_of_all((module, *job_runtime_modules()))
    code = digest_modules(modules)
    if "generator.render.strings" in modules:
        code += _strings_digest()
    return code


def figure_code(job, memo: dict | None = None) -> str:
    """:func:`drawing_code` of the module that defines ``job``'s drawing function (``memo``: module ->
    code, shared by the jobs of one stage run)."""
    from generator.figures.registry import FIGURES

    module = FIGURES[job.name].draw.split(":")[0]
    if memo is None:
        return drawing_code(module)
    if module not in memo:
        memo[module] = drawing_code(module)
    return memo[module]


def figure_key(job, lang: str, tables: dict, code: str, env: dict) -> tuple[str, dict]:
    """The store key (and its inputs) of one figure file: job, language, digests of the tables it
    reads, code, env."""
    params = {
        "job": job.name,
        "params": [[k, list(v) if isinstance(v, tuple) else v] for k, v in job.params],
        "lang": lang,
        "tables": tables,
    }
    return cache_key("figure", params, code, env)


class FigureRun:
    """The figures stage in three steps, so a build can overlap it with other work on one pool:
    :meth:`submit_grid` (cache look-ups; misses queued on the executor), :meth:`submit_training`
    (the training page's figures; needs the training CSVs), :meth:`submit_phase` (the phase page's; needs
    the phase/trainability CSVs, skipped for those absent) and :meth:`finish` (waits, fills the cache,
    moves files into place, drops stale ones). ``executor`` needs ``submit(fn, *args) -> Future``
    (runner.ProcessExecutor inside its ``with`` block, or SerialExecutor)."""

    def __init__(self, cfg: Config, quiet: bool = False):
        self.cfg, self.quiet = cfg, quiet
        self.docs = resolve(cfg.output.docs_dir)
        self.data_dir = self.docs / "data"
        self.fig_dir = self.docs / "figures"
        self.fig_dir.mkdir(parents=True, exist_ok=True)
        self.store = Store(resolve(cfg.output.cache_dir))
        self.env = environment()
        self.stats = FigureStats()
        self.wanted: set[str] = set()
        self.futures: list = []  # (store key, key inputs, final name, Future)
        # rendered files wait in the build's scratch folder (inside the cache, swept at every start),
        # never in docs_dir, so a crash leaves nothing there to publish
        scratch = scratch_dir(cfg)
        scratch.mkdir(parents=True, exist_ok=True)
        self._tmp = tempfile.TemporaryDirectory(dir=scratch, prefix="figures-")
        self.tmp = Path(self._tmp.name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._tmp.cleanup()  # after finish() or an error: no half-rendered files left in docs/
        return False

    def submit_grid(self, executor) -> None:
        """The grid's and pages' figures (every registered figure but the training ones)."""
        from generator.figures.registry import TRAINING_FIGURES, figure_jobs

        axes = read_grid(self.data_dir).propagation  # the data's axes, not the config's
        self._submit([j for j in figure_jobs(axes) if j.name not in TRAINING_FIGURES], executor)

    def submit_training(self, executor) -> None:
        """The training page's figures, once the training CSVs are written."""
        from generator.figures.registry import TRAINING_FIGURES, figure_jobs

        grid = read_grid(self.data_dir)  # the axes and the target the data were computed with
        jobs = figure_jobs(grid.propagation, target_accuracy=grid.training.target_accuracy)
        self._submit([j for j in jobs if j.name in TRAINING_FIGURES], executor)

    def submit_phase(self, executor) -> None:
        """The phase page's figures, for the phase/trainability CSVs the stages wrote (none when absent)."""
        from generator.figures.registry import PHASE_FIGURES, PHASE_TABLES, figure_jobs

        present = [k for k, f in PHASE_TABLES.items() if (self.data_dir / f).exists()]
        grid = read_grid(self.data_dir)
        # the measured files' settings (grid.json lists [phase] whenever the phase stage wrote them)
        phase = None
        if "phase" in grid.sections:
            phase = {"q0": grid.phase.q0, "c0": grid.phase.c0, "points": grid.phase.quadrature_points}
        elif "phase_measured" in present:
            present.remove("phase_measured")  # measurements without their settings: not drawn
        jobs = figure_jobs(grid.propagation, tables=present, phase=phase)
        self._submit([j for j in jobs if j.name in PHASE_FIGURES], executor)

    def _submit(self, jobs, executor) -> None:
        """Copy each (job, language) from the cache when its entry is intact; queue the misses."""
        from generator.common.languages import LANGUAGES
        from generator.figures.registry import FIGURES, TABLE_FILES

        codes: dict = {}  # drawing module -> code digest, for this run's jobs
        digests: dict = {}
        for job in jobs:
            tables = {}
            for t in FIGURES[job.name].tables:
                if t not in digests:
                    path = self.data_dir / TABLE_FILES[t]
                    digests[t] = sha256_file(path) if path.exists() else None
                tables[t] = digests[t]
            for lang in LANGUAGES:
                fname = job.filename(lang)
                self.wanted.add(fname)
                key, inputs = figure_key(job, lang, tables, figure_code(job, codes), self.env)
                self.stats.total += 1
                found = self.store.lookup(FIGURE_KIND, key, [f"{key}.svg"])
                if found is not None:
                    atomic.copy_file(found[f"{key}.svg"], self.fig_dir / fname)
                    self.stats.cached += 1
                else:
                    fut = executor.submit(
                        _render_one, job.name, job.kwargs, lang, str(self.tmp / fname), str(self.data_dir), tables
                    )
                    self.futures.append((key, inputs, fname, fut))

    def finish(self) -> FigureStats:
        stats = self.stats
        progress = Progress("figures", len(self.futures), self.quiet)
        try:
            for key, inputs, fname, fut in self.futures:
                out = Path(fut.result())  # scratch and cache share a file system: moved, not copied
                placed = self.store.put_files(FIGURE_KIND, key, {f"{key}.svg": out}, inputs)
                atomic.copy_file(placed[f"{key}.svg"], self.fig_dir / fname)
                stats.rendered += 1
                progress.update()
        finally:
            progress.close()
            self._tmp.cleanup()
        # Figures no job produces any more (a config axis removed) are stale: drop them, but only those
        # an earlier run of this stage made (the manifest lists them); anything else is left alone.
        manifest = Manifest(self.docs)
        keep = [self.fig_dir / n for n in self.wanted]
        manifest.remove_stale("figures", keep)
        manifest.record("figures", keep)
        if not self.quiet:
            print(f"figures: {stats.total} files, {stats.cached} cached, {stats.rendered} rendered", file=sys.stderr)
        return stats


def render_all_figures(cfg: Config, quiet: bool = False, workers: int | None = None) -> FigureStats:
    """The whole figures stage on its own pool of ``workers`` processes (default: one per core)."""
    from generator.pipeline.runner import ProcessExecutor, SerialExecutor

    n = workers or os.cpu_count() or 1
    with FigureRun(cfg, quiet) as run, ProcessExecutor(n) if n > 1 or workers else SerialExecutor() as ex:
        run.submit_grid(ex)
        run.submit_training(ex)
        run.submit_phase(ex)
        return run.finish()
