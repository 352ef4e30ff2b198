"""Command line: ``python -m generator <stage> [--config PATH] ...``.

Stages: ``experiments`` → ``figures`` → ``render`` (tables + pages) → ``build`` (mkdocs), and ``site``
runs them all. Every stage validates the whole config first: an invalid config prints one line,
``config error: <field>: <problem>``, and exits 2 before anything is written.
"""

from __future__ import annotations

import argparse
import sys
import time

from .build import BuildError
from .config import ConfigError, load_config
from .render import RenderError

StageError = (BuildError, RenderError)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", default=None, metavar="PATH", help="experiment config (default: experiments.toml)")
    p.add_argument("--quiet", action="store_true", help="no progress output")


def _exec(p: argparse.ArgumentParser) -> None:
    p.add_argument("--only", action="append", default=None, metavar="AXIS=V[,V]...",
                   help="run (and cache) only a subset of the grid, e.g. 'init=he,activation=relu'; prints a "
                        "summary and leaves the site's data files untouched")
    p.add_argument("--executor", default="auto", choices=("auto", "serial", "process"),
                   help="where tasks run (default: auto = measured best for this machine)")
    p.add_argument("--workers", type=int, default=None, help="process count for --executor process")


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
    p = sub.add_parser("site", help="all stages: experiments, figures, render, build")
    _common(p)
    _exec(p)
    p.add_argument("--site-url", default=None, help="override site_url")
    p = sub.add_parser("bench", help="benchmark the build against this machine's limits (bench/results.json)")
    _common(p)
    p.add_argument("--quick", action="store_true", help="skip the cold/warm site builds")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        cfg = load_config(args.config)
        from . import pipeline

        only = None
        if getattr(args, "only", None):
            from .experiments import parse_only

            only = parse_only(";".join(args.only))
            from .experiments import grid_tasks

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
    except KeyboardInterrupt:
        print("interrupted: the previous site is unchanged", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
