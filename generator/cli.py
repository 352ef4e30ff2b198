"""Command line: ``python -m generator <stage> [--config PATH] ...``.

Stages: ``experiments`` → ``figures`` → ``render`` (tables + pages) → ``build`` (mkdocs), and ``site``
runs them all. Every stage validates the whole config first: an invalid config prints one line,
``config error: <field>: <problem>``, and exits 2 before anything is written.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from generator.config.load import ConfigError, load_config
from generator.pipeline.build import BuildError
from generator.pipeline.signals import Terminated, install_handlers
from generator.render.env import RenderError

StageError = (BuildError, RenderError)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", default=None, metavar="PATH", help="experiment config (default: experiments.toml)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument(
        "--no-wait",
        action="store_true",
        help="if another build holds the lock, exit 2 saying who, instead of waiting for it",
    )


def _exec(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--only",
        action="append",
        default=None,
        metavar="AXIS=V[,V]...",
        help="run (and cache) only a subset of the grid, e.g. 'init=he,activation=relu'; prints a "
        "summary and leaves the site's data files untouched",
    )
    p.add_argument(
        "--executor",
        default="auto",
        choices=("auto", "serial", "process", "dask"),
        help="where tasks run (default: auto = measured best for this machine); dask needs the 'cluster' extra",
    )
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="for --executor dask: an existing Dask scheduler (default: $DASK_SCHEDULER_ADDRESS, else a "
        "LocalCluster with --workers processes)",
    )
    # Parsed by _check_args, not argparse, so a bad value is one "config error" line like the config's.
    p.add_argument(
        "--workers",
        default=None,
        metavar="N",
        help="process count for --executor process or a dask LocalCluster: 1 to this machine's CPU count "
        "(default: all CPUs)",
    )
    p.add_argument(
        "--allow-oversubscribe",
        action="store_true",
        help="allow --workers above the CPU count (processes then share cores; memory is still checked)",
    )


def _repo(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--repo-url",
        default=None,
        metavar="URL",
        help="repository the pages link to (default: $INITLAB_REPO_URL, else a GitHub 'origin' "
        "remote, else no repository links); an empty value builds without them",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m generator", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("experiments", help="run the experiment grid and write the data CSVs")
    _common(p)
    _exec(p)
    p = sub.add_parser("figures", help="render every figure (ko and en) from the data CSVs")
    _common(p)
    p = sub.add_parser("render", help="render tables and pages (templates/ -> site/docs/)")
    _common(p)
    p = sub.add_parser("build", help="mkdocs build --strict into site/public (atomic)")
    _common(p)
    p.add_argument("--site-url", default=None, help="override site_url (e.g. a GitHub project Pages URL)")
    _repo(p)
    p = sub.add_parser("site", help="all stages: experiments, figures, render, build")
    _common(p)
    _exec(p)
    p.add_argument("--site-url", default=None, help="override site_url")
    _repo(p)
    p = sub.add_parser("bench", help="benchmark the build against this machine's limits (bench/results.json)")
    _common(p)
    p.add_argument("--quick", action="store_true", help="skip the cold/warm site builds")
    p.add_argument(
        "--compare",
        default=None,
        metavar="REV",
        help="instead: cold/warm/one-edit site times of commit REV and of this tree, side by side",
    )
    p.add_argument(
        "--rounds",
        type=int,
        default=1,
        choices=range(1, 6),
        metavar="N",
        help="with --compare: interleaved rounds per side (1-5; the median is reported)",
    )
    p.add_argument(
        "--stages",
        action="store_true",
        help="with --compare: also a cold build stage by stage, wall and CPU seconds per stage",
    )
    return parser


def _check_urls(args: argparse.Namespace) -> None:
    from generator.pages.references import SOURCE_NOTE_URL_ENV, references
    from generator.pipeline.links import repo_link

    field = "--repo-url" if getattr(args, "repo_url", None) else "INITLAB_REPO_URL"
    for name, check, valid in (
        (field, lambda: repo_link(getattr(args, "repo_url", None)), "http(s)://"),
        (SOURCE_NOTE_URL_ENV, references, "https://"),
    ):
        try:
            check()
        except ValueError as exc:
            raise ConfigError(name, f"{exc}; valid: an {valid} address, or empty for none") from None


def _check_args(args: argparse.Namespace) -> None:
    """Validate arguments argparse cannot (ConfigError): ``--workers`` becomes an int in 1..CPU count
    (more with ``--allow-oversubscribe``); the link addresses the site build reads (``--repo-url`` /
    $INITLAB_REPO_URL, $INITLAB_SOURCE_NOTE_URL) are checked by the functions that use them. Runs before
    anything is read or written."""
    _check_urls(args)
    if getattr(args, "scheduler", None) and args.executor != "dask":
        raise ConfigError("--scheduler", "is an address for --executor dask; add --executor dask or drop it")
    workers = getattr(args, "workers", None)
    if workers is None:
        return
    cpus = os.cpu_count() or 1
    try:
        n = int(workers, 10)
    except ValueError:
        raise ConfigError("--workers", f"must be an integer, got {workers[:40]!r}") from None
    if n < 1:
        raise ConfigError("--workers", f"must be >= 1, got {n}")
    if n > cpus and not args.allow_oversubscribe:
        raise ConfigError(
            "--workers",
            f"must be <= {cpus} (this machine's CPU count), got {n}; "
            "pass --allow-oversubscribe to run more processes than CPUs",
        )
    args.workers = n


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    install_handlers()  # SIGTERM stops the build like Ctrl-C
    try:
        _check_args(args)
        cfg = load_config(args.config, workers=getattr(args, "workers", None))
        from generator.pipeline import stages as pipeline

        only = None
        if getattr(args, "only", None):
            from generator.experiments.plan import grid_tasks, parse_only

            only = parse_only(";".join(args.only))

            grid_tasks(cfg, only)  # validate --only before anything runs
        start = time.perf_counter()
        pipeline.run_command(args.command, cfg, args, only)
        if not args.quiet:
            print(f"{args.command}: done in {time.perf_counter() - start:.1f} s", file=sys.stderr)
        return 0
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except StageError as exc:
        # A failed stage (a template error, a strict-build warning) is reported, not a traceback;
        # the build stage has already left the previous site/public in place.
        print(f"{args.command} failed: {exc}", file=sys.stderr)
        return 1
    except FileNotFoundError as exc:
        # a stage run alone before the stage it reads from (e.g. render before experiments)
        print(
            f"{args.command} failed: {exc.filename or exc} is missing; run the earlier stages first "
            "(python -m generator site)"[:300],
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt as exc:
        # Ctrl-C or SIGTERM: the pool's workers are killed and temporary folders removed on the way out
        how = "terminated" if isinstance(exc, Terminated) else "interrupted"
        print(f"{how}: the previous site is unchanged", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
