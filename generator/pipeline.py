"""The stages behind the CLI, in order: experiments → figures → render → build.

Each stage reads what the previous one wrote under ``<docs_dir>`` (``data/*.csv``, ``figures/``),
so any stage can be re-run alone. ``site`` runs them all; the last good ``site/public`` is replaced
only when ``build`` succeeds (generator/build.py).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .config import Config, resolve


def docs_dir(cfg: Config) -> Path:
    return resolve(cfg.output.docs_dir)


def _executor(args):
    from .runner import ProcessExecutor, SerialExecutor

    name = getattr(args, "executor", "auto") or "auto"
    if name == "auto":
        # Measured on the 2-core machine (`make bench`, README "Speed"): two single-threaded BLAS
        # processes run the grid faster than one process with two BLAS threads, because the
        # elementwise statistics between GEMMs are single-threaded.
        name = os.environ.get("INITLAB_EXECUTOR", "process" if (os.cpu_count() or 1) > 1 else "serial")
    if name == "process":
        return ProcessExecutor(getattr(args, "workers", None))
    return SerialExecutor()


def stage_experiments(cfg: Config, args, only=None):
    from .experiments import run_experiments

    quiet = getattr(args, "quiet", False)
    if only:
        result = run_experiments(cfg, only=only, executor=_executor(args), quiet=quiet, write=False)
        _print_subset(result.frames["propagation.csv"], cfg.propagation.depth)
        return result
    result = run_experiments(cfg, executor=_executor(args), quiet=quiet)
    training = _training(cfg, args, quiet)
    if not quiet:
        for st in result.stats + (training or []):
            print(f"{st.kind}: {st.total} tasks, {st.hits} cached, {st.computed} computed, "
                  f"{st.corrupt} damaged cache entries, {st.seconds:.1f} s", file=sys.stderr)
    return result


def _training(cfg: Config, args, quiet: bool):
    if "training" not in cfg.sections:
        return None
    from .cache import Cache
    from .experiments import manifest_is_current, write_manifest

    data_dir = docs_dir(cfg) / "data"
    key = training_stage_key(cfg)
    if manifest_is_current(data_dir, key, TRAINING_MANIFEST):
        # Same config, code and libraries, files intact: not even the run plan (which loads the data).
        if not quiet:
            print("training: inputs unchanged, stage skipped", file=sys.stderr)
        return None
    from .training.experiments import run_training

    out = run_training(cfg, Cache(resolve(cfg.output.cache_dir)), executor=_executor(args), quiet=quiet)
    write_manifest(data_dir, key, [n for n in out if not n.startswith("__")], TRAINING_MANIFEST)
    return out.get("__stats__")


TRAINING_MANIFEST = ".training-manifest.json"


def training_stage_key(cfg: Config) -> str:
    """Hash of everything the training stage's files depend on: the ``[training]`` section, the source
    of every module of generator.training plus the shared code it runs, and the library versions."""
    import dataclasses
    import hashlib
    import json
    import pkgutil
    from importlib.metadata import version

    from . import training
    from .cache import environment, source_hash

    modules = tuple(f"generator.training.{m.name}" for m in pkgutil.iter_modules(training.__path__))
    modules += ("generator.training", "generator.contract", "generator.cache", "generator.runner",
                "generator.layers", "generator.inits", "generator.activations")
    inputs = {"training": dataclasses.asdict(cfg.training), "code": source_hash(modules),
              "env": {**environment(), "scikit-learn": version("scikit-learn")}}
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()


def _print_subset(df, depth: int) -> None:
    last = df[df["layer"] == depth]
    cols = ["init", "activation", "norm", "seed", "mean", "std", "grad_h_std", "diverged"]
    print(last[cols].to_string(index=False))


def stage_figures(cfg: Config, args):
    from .figures_stage import render_all_figures

    return render_all_figures(cfg, quiet=getattr(args, "quiet", False))


def stage_render(cfg: Config, args):
    from .pages import build_context
    from .render import render_pages

    context = build_context(cfg)
    return render_pages(context, docs_dir(cfg), bytecode_dir=resolve(cfg.output.cache_dir) / "jinja")


def stage_build(cfg: Config, args):
    from .build import build_site

    site_url = getattr(args, "site_url", None)
    return build_site(public_dir=resolve(cfg.output.public_dir), docs_dir=docs_dir(cfg), site_url=site_url)


def run_command(command: str, cfg: Config, args, only=None):
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
            from .config import ConfigError

            raise ConfigError("--only", "a site is built from the whole grid; use --only with 'experiments'")
        from .stamp import SiteStamp

        stamp = SiteStamp.for_build(cfg, getattr(args, "site_url", None))
        if stamp.is_current():
            if not getattr(args, "quiet", False):
                print(f"site: up to date (no input changed since the last build; stamp {stamp.key[:12]})",
                      file=sys.stderr)
            return None
        stage_experiments(cfg, args)
        stage_figures(cfg, args)
        stage_render(cfg, args)
        result = stage_build(cfg, args)
        stamp.record()
        return result
    if command == "bench":
        from .bench import run_bench

        return run_bench(cfg, args)
    raise ValueError(f"unknown command {command!r}")
