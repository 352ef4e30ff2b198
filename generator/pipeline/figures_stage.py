"""The ``figures`` stage: every figure job × language -> ``<docs_dir>/figures/<stem>.<lang>.svg``.

Each file is cached by a hash of its inputs: the job (name + params), the language, the contract
tables it reads (their bytes on disk), the source of the figures package, the strings catalog and
the library versions (cache.environment). A warm run copies cached files and renders nothing.
Misses render in a process pool (matplotlib is single-threaded; measured in ``make bench``).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from generator.common import atomic
from generator.common.hashing import sha256_file
from generator.pipeline.store import cache_key, environment, source_hash
from generator.config.load import Config, resolve
from generator.pipeline.outputs import Manifest, scratch_dir
from generator.pipeline.runner import Progress

# Table key (as in FigureSpec.tables) -> contract file. "hist" keeps the figures package's name.
TABLE_FILES = {"propagation": "propagation.csv", "hist": "histograms.csv", "theory": "theory.csv",
               "theory_fixed": "theory_fixed.csv", "symmetry": "symmetry.csv",
               "seed_code": "seed_code.csv", "seed_printed": "seed_printed.csv"}


def figure_modules() -> tuple[str, ...]:
    """Every module of the figures package (new page_* modules included) + fonts + strings."""
    import pkgutil

    from generator import figures

    names = [f"generator.figures.{m.name}" for m in pkgutil.iter_modules(figures.__path__)]
    return ("generator.figures", *sorted(names), "generator.render.fonts", "generator.render.strings",
            "generator.engine.activations")


@dataclass
class FigureStats:
    total: int = 0
    rendered: int = 0
    cached: int = 0


def _strings_digest() -> str:
    from generator.common.languages import LANGUAGES
    from generator.render.strings import catalog_files

    h = hashlib.sha256()
    for lang in LANGUAGES:
        for p in catalog_files(lang):
            if p.exists():
                h.update(p.read_bytes())
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
        self.cache_dir = resolve(cfg.output.cache_dir) / "figures"
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self.env = environment()
        self.stats = FigureStats()
        self.wanted: set[str] = set()
        self.futures: list = []  # (cached path, sidecar path, final name, Future)
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
        from generator.figures import FIGURES, figure_jobs
        from generator.common.languages import LANGUAGES

        code = source_hash(figure_modules()) + _strings_digest()
        table_digest = {k: sha256_file(self.data_dir / v) for k, v in TABLE_FILES.items()
                        if (self.data_dir / v).exists()}
        digest = hashlib.sha256(repr(sorted(table_digest.items())).encode()).hexdigest()
        from generator.contract.grid import read_grid

        for job in figure_jobs(read_grid(self.data_dir).propagation):  # the data's axes, not the config's
            tables = FIGURES[job.name].tables
            for lang in LANGUAGES:
                fname = job.filename(lang)
                self.wanted.add(fname)
                params = {"job": job.name, "params": [[k, list(v) if isinstance(v, tuple) else v] for k, v in job.params],
                          "lang": lang, "tables": {t: table_digest[t] for t in tables}}
                key, _ = cache_key("figure", params, code, self.env)
                self.stats.total += 1
                cached = self.cache_dir / key[:2] / f"{key}.svg"
                sidecar = cached.with_suffix(".sha256")
                if cached.exists() and sidecar.exists() and sidecar.read_text() == sha256_file(cached):
                    atomic.copy_file(cached, self.fig_dir / fname)
                    self.stats.cached += 1
                else:
                    fut = executor.submit(_render_one, job.name, job.kwargs, lang, str(self.tmp / fname),
                                          str(self.data_dir), digest)
                    self.futures.append((cached, sidecar, fname, fut))

    def submit_training(self, executor) -> None:
        if "training" not in self.cfg.sections:
            return
        from generator.figures.training import FIGURES as TRAINING_FIGURES

        self.training = t = _training_plan(self.cfg, self.data_dir, self.cache_dir, self.env, self.stats)
        self.wanted |= t.names
        if t.hit:
            for n in t.names:
                atomic.copy_file(t.entry / n, self.fig_dir / n)
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
            for cached, sidecar, fname, fut in self.futures:
                out = Path(fut.result())
                cached.parent.mkdir(parents=True, exist_ok=True)
                os.replace(out, cached)  # scratch and cache share a file system
                atomic.write_text(sidecar, sha256_file(cached))  # written only after the file is complete
                atomic.copy_file(cached, self.fig_dir / fname)
                stats.rendered += 1
                progress.update()
            if self.training_futures:
                paths = []
                for fut in self.training_futures:
                    paths += [Path(p) for p in fut.result()]
                    progress.update()
                entry = self.training.entry
                entry.mkdir(parents=True, exist_ok=True)
                for p in paths:
                    os.replace(p, entry / p.name)
                    atomic.copy_file(entry / p.name, self.fig_dir / p.name)
                # the checksums are written last: an entry without them, or with a file that no longer
                # matches (edited or damaged in the cache), is a miss, never published
                atomic.write_text(entry / TRAINING_SUMS, json.dumps(
                    {p.name: sha256_file(entry / p.name) for p in paths}, indent=1, sort_keys=True))
                stats.rendered += len(self.training.names)
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


TRAINING_MODULES = ("generator.figures.training", "generator.analysis.training_claims", "generator.render.fonts",
                    "generator.render.strings", "generator.figures.io", "generator.figures.style")


@dataclass
class _TrainingPlan:
    names: set
    entry: Path
    hit: bool
    target: float | None
    langs: tuple
    digest: str


def _training_plan(cfg, data_dir: Path, cache_dir: Path, env: dict, stats: FigureStats) -> _TrainingPlan:
    """The training page's figures, cached as one set keyed by the training CSVs + plotting code."""
    from generator.common.languages import LANGUAGES
    from generator.pipeline.training_stage import FILES
    from generator.figures.training import FIGURES as TRAINING_FIGURES

    names = {f"{name}.{lang}.svg" for name in TRAINING_FIGURES for lang in LANGUAGES}
    digests = {f.name: sha256_file(data_dir / f.name) for f in FILES}
    target = cfg.training.target_accuracy if hasattr(cfg.training, "target_accuracy") else None
    key, _ = cache_key("training-figures", {"tables": digests, "target": target},
                       source_hash(TRAINING_MODULES) + _strings_digest(), env)
    entry = cache_dir / key[:2] / key
    stats.total += len(names)
    hit = _training_entry_intact(entry, names)
    if hit:
        stats.cached += len(names)
    return _TrainingPlan(names, entry, hit, target, tuple(LANGUAGES), key)


TRAINING_SUMS = "checksums.json"


def _training_entry_intact(entry: Path, names: set) -> bool:
    """True when the cached set has its checksums (written last) and every file still matches them."""
    try:
        sums = json.loads((entry / TRAINING_SUMS).read_text())
        return set(sums) == names and all(sha256_file(entry / n) == h for n, h in sums.items())
    except (OSError, ValueError, AttributeError):
        return False


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
