"""The ``figures`` stage: every figure job × language -> ``<docs_dir>/figures/<stem>.<lang>.svg``.

Each file is cached by a hash of its inputs: the job (name + params), the language, the contract
tables it reads (their bytes on disk), the source of the figures package, the strings catalog and
the library versions (cache.environment). A warm run copies cached files and renders nothing.
Misses render in a process pool (matplotlib is single-threaded; measured in ``make bench``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .cache import cache_key, environment, source_hash
from .config import Config, resolve

# Table key (as in FigureSpec.tables) -> contract file. "hist" keeps the figures package's name.
TABLE_FILES = {"propagation": "propagation.csv", "hist": "histograms.csv", "theory": "theory.csv",
               "theory_fixed": "theory_fixed.csv", "symmetry": "symmetry.csv",
               "seed_code": "seed_code.csv", "seed_printed": "seed_printed.csv"}


def figure_modules() -> tuple[str, ...]:
    """Every module of the figures package (new page_* modules included) + fonts + strings."""
    import pkgutil

    from . import figures

    names = [f"generator.figures.{m.name}" for m in pkgutil.iter_modules(figures.__path__)]
    return ("generator.figures", *sorted(names), "generator.fonts", "generator.strings",
            "generator.activations")


@dataclass
class FigureStats:
    total: int = 0
    rendered: int = 0
    cached: int = 0


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _strings_digest() -> str:
    from .strings import LANGUAGES, catalog_files

    h = hashlib.sha256()
    for lang in LANGUAGES:
        for p in catalog_files(lang):
            if p.exists():
                h.update(p.read_bytes())
    return h.hexdigest()


_DATA = None


def _load_tables(data_dir: str) -> None:
    global _DATA
    from . import contract
    from .fonts import setup_matplotlib

    setup_matplotlib()
    _DATA = {k: contract.read_csv(v, data_dir) for k, v in TABLE_FILES.items() if (Path(data_dir) / v).exists()}


def _render_one(name: str, params: dict, lang: str, out_path: str) -> str:
    from .figures import render_figure

    out = Path(out_path)
    render_figure(name, _DATA, lang, out.parent, **params)
    return out_path


def render_all_figures(cfg: Config, quiet: bool = False, workers: int | None = None) -> FigureStats:
    from .figures import figure_jobs
    from .runner import Progress

    docs = resolve(cfg.output.docs_dir)
    data_dir = docs / "data"
    fig_dir = docs / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    cache_dir = resolve(cfg.output.cache_dir) / "figures"
    cache_dir.mkdir(parents=True, exist_ok=True)

    code = source_hash(figure_modules()) + _strings_digest()
    env = environment()
    table_digest = {k: _file_digest(data_dir / v) for k, v in TABLE_FILES.items() if (data_dir / v).exists()}
    from .figures import FIGURES
    from .strings import LANGUAGES

    stats = FigureStats()
    todo = []
    wanted: set[str] = set()
    for job in figure_jobs(cfg):
        tables = FIGURES[job.name].tables
        for lang in LANGUAGES:
            fname = job.filename(lang)
            wanted.add(fname)
            params = {"job": job.name, "params": [[k, list(v) if isinstance(v, tuple) else v] for k, v in job.params],
                      "lang": lang, "tables": {t: table_digest[t] for t in tables}}
            key, _ = cache_key("figure", params, code, env)
            stats.total += 1
            cached = cache_dir / key[:2] / f"{key}.svg"
            sidecar = cached.with_suffix(".sha256")
            if cached.exists() and sidecar.exists() and sidecar.read_text() == _file_digest(cached):
                shutil.copyfile(cached, fig_dir / fname)
                stats.cached += 1
            else:
                todo.append((job, lang, fname, cached, sidecar))

    training = _training_plan(cfg, data_dir, cache_dir, env, stats) if "training" in cfg.sections else None
    if training is not None:
        wanted |= training.names
        if training.hit:
            for n in training.names:
                shutil.copyfile(training.entry / n, fig_dir / n)

    progress = Progress("figures", len(todo), quiet)
    if todo or (training is not None and not training.hit):
        with tempfile.TemporaryDirectory(dir=docs, prefix=".figures-") as tmp:
            n = workers or min(len(todo) + 2, os.cpu_count() or 1)
            with ProcessPoolExecutor(n, initializer=_load_tables, initargs=(str(data_dir),)) as pool:
                # The training figures are submitted first, one job per language, so they run beside
                # the grid's figures instead of after them (they were a 2.7 s serial tail).
                tfuts = []
                if training is not None and not training.hit:
                    tfuts = [pool.submit(_render_training, str(data_dir), training.target, tmp, lang)
                             for lang in training.langs]
                futures = [
                    (item, pool.submit(_render_one, item[0].name, item[0].kwargs, item[1], str(Path(tmp) / item[2])))
                    for item in todo
                ]
                for (job, lang, fname, cached, sidecar), fut in futures:
                    out = Path(fut.result())
                    cached.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(out, cached)
                    sidecar.write_text(_file_digest(cached))  # written only after the file is complete
                    os.replace(out, fig_dir / fname)
                    stats.rendered += 1
                    progress.update()
                if tfuts:
                    paths = [Path(p) for f in tfuts for p in f.result()]
                    training.entry.mkdir(parents=True, exist_ok=True)
                    for p in paths:
                        shutil.copyfile(p, training.entry / p.name)
                        os.replace(p, fig_dir / p.name)
                    (training.entry / "complete").write_text("")  # marker written only after every file
                    stats.rendered += len(training.names)
    progress.close()

    # Figures no job produces any more (a config axis removed) are stale: drop them.
    for old in fig_dir.glob("*.svg"):
        if old.name not in wanted:
            old.unlink()

    if not quiet:
        print(f"figures: {stats.total} files, {stats.cached} cached, {stats.rendered} rendered", file=sys.stderr)
    return stats


TRAINING_MODULES = ("generator.training.figures", "generator.training.claims", "generator.fonts",
                    "generator.strings", "generator.figures.io", "generator.figures.style")


@dataclass
class _TrainingPlan:
    names: set
    entry: Path
    hit: bool
    target: float | None
    langs: tuple


def _training_plan(cfg, data_dir: Path, cache_dir: Path, env: dict, stats: FigureStats) -> _TrainingPlan:
    """The training page's figures, cached as one set keyed by the training CSVs + plotting code."""
    from .strings import LANGUAGES
    from .training.experiments import FILES
    from .training.figures import FIGURES as TRAINING_FIGURES

    names = {f"{name}.{lang}.svg" for name in TRAINING_FIGURES for lang in LANGUAGES}
    digests = {f.name: _file_digest(data_dir / f.name) for f in FILES}
    target = cfg.training.target_accuracy if hasattr(cfg.training, "target_accuracy") else None
    key, _ = cache_key("training-figures", {"tables": digests, "target": target},
                       source_hash(TRAINING_MODULES) + _strings_digest(), env)
    entry = cache_dir / key[:2] / key
    stats.total += len(names)
    hit = all((entry / n).exists() for n in names) and (entry / "complete").exists()
    if hit:
        stats.cached += len(names)
    return _TrainingPlan(names, entry, hit, target, tuple(LANGUAGES))


def _render_training(data_dir: str, target, out_dir: str, lang: str) -> list[str]:
    """Pool job: every training figure in one language (matplotlib is set up by _load_tables)."""
    from .training.figures import load_frames, render_training_figures

    return [str(p) for p in render_training_figures(load_frames(Path(data_dir), target), Path(out_dir),
                                                    langs=(lang,), target_accuracy=target)]
