"""The ``figures`` stage: every figure job × language -> ``<docs_dir>/figures/<stem>.<lang>.svg``.

Each file is cached in the store (generator/pipeline/store.py) by a hash of its inputs: the job (name +
params), the language, the contract tables it reads (their bytes on disk), the code that draws it
(:func:`figure_code`: the import closure of the figure function's module and of the loader and writer
every job runs), the strings catalog when that code prints text, and the library versions. Editing the
number formatter therefore re-renders only the figures whose drawing code imports it; editing a page
template re-renders none. A warm run copies cached files and renders nothing.
Misses render in a process pool (matplotlib is single-threaded; measured in ``make bench``).
"""

from __future__ import annotations

import functools
import hashlib
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from generator.common import atomic
from generator.common.hashing import sha256_file
from generator.common.imports import closure_of_all, digest_modules
from generator.pipeline.store import Store, cache_key, environment
from generator.config.load import Config, resolve
from generator.pipeline.outputs import Manifest, scratch_dir
from generator.pipeline.runner import Progress

# Table key (as in FigureSpec.tables) -> contract file. "hist" keeps the figures package's name.
TABLE_FILES = {"propagation": "propagation.csv", "hist": "histograms.csv", "theory": "theory.csv",
               "theory_fixed": "theory_fixed.csv", "symmetry": "symmetry.csv",
               "seed_code": "seed_code.csv", "seed_printed": "seed_printed.csv"}


def job_runtime_modules() -> tuple[str, ...]:
    """Modules every figure job runs around its drawing function: the table reader, the font setup
    and the deterministic writer (:func:`_load_tables`, :func:`generator.figures.render_figure`)."""
    from generator.contract import schema
    from generator.figures.io import save_figure
    from generator.render.fonts import setup_matplotlib

    return (schema.__name__, save_figure.__module__, setup_matplotlib.__module__)


def drawing_code(module: str) -> str:
    """Code part of a figure key: the import closure of ``module`` (the one that draws the figure) and
    of the job's runtime, plus the strings catalog when that closure reads it (the figure prints text)."""
    modules = closure_of_all((module, *job_runtime_modules()))
    code = digest_modules(modules)
    if "generator.render.strings" in modules:
        code += _strings_digest()
    return code


def figure_code(job, memo: dict | None = None) -> str:
    """:func:`drawing_code` of the module defining ``job``'s figure function (``memo``: module -> code,
    shared by the jobs of one stage run)."""
    from generator.figures import FIGURES

    module = FIGURES[job.name].func.__module__
    if memo is None:
        return drawing_code(module)
    if module not in memo:
        memo[module] = drawing_code(module)
    return memo[module]


def training_figures_code() -> str:
    """:func:`drawing_code` of the training page's figures (one cached set)."""
    from generator.figures.training import render_training_figures

    return drawing_code(render_training_figures.__module__)


def figure_key(job, lang: str, table_digest: dict, env: dict, memo: dict | None = None) -> tuple[str, dict]:
    """The store key (and its inputs) of one grid figure file."""
    from generator.figures import FIGURES

    params = {"job": job.name, "params": [[k, list(v) if isinstance(v, tuple) else v] for k, v in job.params],
              "lang": lang, "tables": {t: table_digest[t] for t in FIGURES[job.name].tables}}
    return cache_key("figure", params, figure_code(job, memo), env)


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
    h = hashlib.sha256()
    for path, _, _ in files:
        h.update(Path(path).read_bytes())
    return h.hexdigest()


_DATA = None
_DATA_KEY = None


def _load_tables(data_dir: str) -> None:
    global _DATA
    from generator.contract import schema as contract
    from generator.render.fonts import setup_matplotlib

    setup_matplotlib()
    _DATA = {k: contract.read_csv(v, data_dir) for k, v in TABLE_FILES.items() if (Path(data_dir) / v).exists()}


def _ensure_tables(data_dir: str, digest: str) -> None:
    """Load the tables in this worker unless the same files (same digest) are loaded already: a shared
    pool's workers load them on their first figure, not per figure."""
    global _DATA_KEY
    if _DATA_KEY != (data_dir, digest):
        _load_tables(data_dir)
        _DATA_KEY = (data_dir, digest)


def _render_one(name: str, params: dict, lang: str, out_path: str, data_dir: str, digest: str) -> str:
    from generator.figures import render_figure

    _ensure_tables(data_dir, digest)
    out = Path(out_path)
    render_figure(name, _DATA, lang, out.parent, **params)
    return out_path


class FigureRun:
    """The figures stage in three steps, so a build can overlap it with other work on one pool:
    :meth:`submit_grid` (cache look-ups; misses queued on the executor), :meth:`submit_training`
    (the training page's figures; needs the training CSVs) and :meth:`finish` (waits, fills the cache,
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
        self.training_futures: list = []
        self.training = None
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
        from generator.figures import figure_jobs
        from generator.common.languages import LANGUAGES

        table_digest = {k: sha256_file(self.data_dir / v) for k, v in TABLE_FILES.items()
                        if (self.data_dir / v).exists()}
        digest = hashlib.sha256(repr(sorted(table_digest.items())).encode()).hexdigest()
        codes: dict = {}  # drawing module -> code digest, for this run's jobs
        for job in figure_jobs(self.cfg):
            for lang in LANGUAGES:
                fname = job.filename(lang)
                self.wanted.add(fname)
                key, inputs = figure_key(job, lang, table_digest, self.env, codes)
                self.stats.total += 1
                found = self.store.lookup(FIGURE_KIND, key, [f"{key}.svg"])
                if found is not None:
                    atomic.copy_file(found[f"{key}.svg"], self.fig_dir / fname)
                    self.stats.cached += 1
                else:
                    fut = executor.submit(_render_one, job.name, job.kwargs, lang, str(self.tmp / fname),
                                          str(self.data_dir), digest)
                    self.futures.append((key, inputs, fname, fut))

    def submit_training(self, executor) -> None:
        if "training" not in self.cfg.sections:
            return
        from generator.figures.training import FIGURES as TRAINING_FIGURES

        self.training = t = _training_plan(self.cfg, self.data_dir, self.store, self.env, self.stats)
        self.wanted |= t.names
        if t.hit is not None:
            for n in t.names:
                atomic.copy_file(t.hit[f"{t.digest}/{n}"], self.fig_dir / n)
            return
        # one job per (figure, language): they spread over the workers instead of one long job each
        for name in TRAINING_FIGURES:
            for lang in t.langs:
                self.training_futures.append(executor.submit(
                    _render_training, str(self.data_dir), t.digest, t.target, str(self.tmp), lang, name))

    def finish(self) -> FigureStats:
        stats = self.stats
        progress = Progress("figures", len(self.futures) + len(self.training_futures), self.quiet)
        try:
            for key, inputs, fname, fut in self.futures:
                out = Path(fut.result())  # scratch and cache share a file system: moved, not copied
                placed = self.store.put_files(FIGURE_KIND, key, {f"{key}.svg": out}, inputs)
                atomic.copy_file(placed[f"{key}.svg"], self.fig_dir / fname)
                stats.rendered += 1
                progress.update()
            if self.training_futures:
                paths = []
                for fut in self.training_futures:
                    paths += [Path(p) for p in fut.result()]
                    progress.update()
                t = self.training
                placed = self.store.put_files(FIGURE_KIND, t.digest, {f"{t.digest}/{p.name}": p for p in paths},
                                              t.inputs)
                for name, path in placed.items():
                    atomic.copy_file(path, self.fig_dir / path.name)
                stats.rendered += len(t.names)
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
    with FigureRun(cfg, quiet) as run, (ProcessExecutor(n) if n > 1 or workers else SerialExecutor()) as ex:
        run.submit_grid(ex)
        run.submit_training(ex)
        return run.finish()


FIGURE_KIND = "figures"  # the store folder of grid figure files and of the training figure set


@dataclass
class _TrainingPlan:
    names: set
    hit: dict | None  # {store name: path} of an intact cached set, else None
    target: float | None
    langs: tuple
    digest: str  # the set's store key
    inputs: dict


def _training_plan(cfg, data_dir: Path, store: Store, env: dict, stats: FigureStats) -> _TrainingPlan:
    """The training page's figures, cached as one set keyed by the training CSVs + drawing code."""
    from generator.common.languages import LANGUAGES
    from generator.pipeline.training_stage import FILES
    from generator.figures.training import FIGURES as TRAINING_FIGURES

    names = {f"{name}.{lang}.svg" for name in TRAINING_FIGURES for lang in LANGUAGES}
    digests = {f.name: sha256_file(data_dir / f.name) for f in FILES}
    target = cfg.training.target_accuracy if hasattr(cfg.training, "target_accuracy") else None
    key, inputs = cache_key("training-figures", {"tables": digests, "target": target}, training_figures_code(), env)
    stats.total += len(names)
    hit = store.lookup(FIGURE_KIND, key, [f"{key}/{n}" for n in sorted(names)])
    if hit is not None:
        stats.cached += len(names)
    return _TrainingPlan(names, hit, target, tuple(LANGUAGES), key, inputs)


_TRAINING_FRAMES: dict = {}


def _render_training(data_dir: str, digest: str, target, out_dir: str, lang: str, name: str) -> list[str]:
    """Pool job: one training figure in one language (the CSVs are read once per worker and digest)."""
    from generator.render.fonts import setup_matplotlib
    from generator.figures.training import load_frames, render_training_figures

    key = (data_dir, digest)
    if key not in _TRAINING_FRAMES:
        setup_matplotlib()
        _TRAINING_FRAMES.clear()
        _TRAINING_FRAMES[key] = load_frames(Path(data_dir), target)
    return [str(p) for p in render_training_figures(_TRAINING_FRAMES[key], Path(out_dir), langs=(lang,),
                                                    target_accuracy=target, names=(name,))]
