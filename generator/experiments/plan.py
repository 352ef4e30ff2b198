"""The one place that turns a config into tasks and grid facts.

* :func:`grid_tasks` -- the propagation grid (init × activation × norm × seed), optionally narrowed by
  ``--only`` (:func:`parse_only`), and :func:`compute_order`, the order the workers compute it in;
* :func:`symmetry_tasks` -- the zeros / constant-init symmetry experiment, one task per init;
* :func:`placement_tasks` -- the batch-norm placement runs (``bn_post`` for PLACEMENT_ACTS ×
  PLACEMENT_INITS at the first seed) when the grid itself has no ``bn_post``;
* :func:`grid_facts` -- the content of ``data/grid.json`` (generator/contract/grid.py): everything a
  figure or a page states about the grid, so neither ever reads the config.
"""

from __future__ import annotations

import dataclasses
import inspect
import itertools

from generator.common.errors import ConfigError
from generator.common.paths import DEFAULT_CONFIG, ROOT
from generator.contract.grid import GRID_FORMAT
from generator.engine import inits as inits_mod
from generator.experiments import seed_code

GRID_AXES = ("init", "activation", "norm", "seed")
PLACEMENT_ACTS = ("tanh", "relu")
PLACEMENT_INITS = ("small", "large", "xavier", "he")


def parse_only(spec: str | None) -> dict[str, set[str]]:
    """``"init=he,xavier;activation=relu"`` or ``"init=he,activation=relu"`` -> {axis: values}."""
    if not spec:
        return {}
    out: dict[str, set[str]] = {}
    axis = None
    for part in spec.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if "=" in part:
            axis, value = (s.strip() for s in part.split("=", 1))
            if axis not in GRID_AXES:
                raise ConfigError("--only", f"unknown axis {axis!r}; valid: {', '.join(GRID_AXES)}")
        elif axis is None:
            raise ConfigError("--only", f"expected axis=value, got {part!r}")
        else:
            value = part
        out.setdefault(axis, set()).add(value)
    return out


def _sizes(p) -> dict:
    """The per-task sizes and thresholds of the ``[propagation]`` section ``p``."""
    return dict(
        samples=p.samples, width=p.width, depth=p.depth, dtype=p.dtype, hist_bins=p.hist_bins, diverge_rms=p.diverge_rms
    )


def grid_tasks(cfg, only: dict[str, set[str]] | None = None) -> list[dict]:
    p = cfg.propagation
    only = only or {}
    axes = {"init": p.inits, "activation": p.activations, "norm": p.norms, "seed": p.seeds}
    for axis, wanted in only.items():
        valid = {str(v) for v in axes[axis]}
        bad = sorted(wanted - valid)
        if bad:
            raise ConfigError(
                "--only", f"{axis}={bad[0]} is not in the config's grid; valid: {', '.join(sorted(valid))}"
            )
    tasks = []
    for init, act, norm, seed in itertools.product(*axes.values()):
        key = {"init": init, "activation": act, "norm": norm, "seed": seed}
        if any(str(key[a]) not in vals for a, vals in only.items()):
            continue
        tasks.append(dict(key, **_sizes(p)))
    return tasks


def compute_order(tasks: list[dict], inits) -> list[int]:
    """Indices of ``tasks`` in the order to compute them (results are still reported in grid order).

    (seed, init)-major, so one weight draw (and the shared X W_1) serves the 16 tasks of a group, which
    an executor hands to one worker as a chunk; groups whose weights are all zero (no GEMM at all, so
    a fraction of the cost) go last, so they fill the tail while the other worker finishes its last
    full group (longest-processing-time-first, from the one cost difference known in advance).
    """
    zero = {init: inits_mod.weight_variance(init, 1, 1) == 0.0 for init in inits}
    return sorted(
        range(len(tasks)), key=lambda i: (zero[tasks[i]["init"]], tasks[i]["seed"], inits.index(tasks[i]["init"]), i)
    )


def symmetry_tasks(cfg) -> list[dict]:
    """The symmetry experiment's tasks: one per init of ``[symmetry]``."""
    s = cfg.symmetry
    return [
        dict(
            init=init,
            activation=s.activation,
            samples=s.samples,
            width=s.width,
            depth=s.depth,
            learning_rate=s.learning_rate,
            seed=s.seed,
            constant=s.constant,
        )
        for init in s.inits
    ]


def placement(cfg) -> dict:
    """The batch-norm page's placement comparison for ``cfg``: activations, inits and seeds compared,
    and ``from_grid`` (the grid has ``bn_post`` itself: all its seeds, no extra runs)."""
    p = cfg.propagation
    acts = [a for a in PLACEMENT_ACTS if a in p.activations]
    inits = [i for i in PLACEMENT_INITS if i in p.inits]
    from_grid = "bn_post" in p.norms
    return {
        "activations": acts,
        "inits": inits,
        "seeds": list(p.seeds if from_grid else p.seeds[:1]),
        "from_grid": from_grid,
    }


def placement_tasks(cfg) -> list[dict]:
    """The extra ``bn_post`` propagation tasks of the placement comparison (:func:`placement`): none
    when the grid has ``bn_post`` itself, or lacks ``bn`` or every placement activation / init."""
    pl = placement(cfg)
    if pl["from_grid"] or "bn" not in cfg.propagation.norms or not pl["activations"] or not pl["inits"]:
        return []
    return [
        dict(init=i, activation=a, norm="bn_post", seed=s, **_sizes(cfg.propagation))
        for a in pl["activations"]
        for i in pl["inits"]
        for s in pl["seeds"]
    ]


def seed_code_sizes() -> dict:
    """The note's sizes, as :func:`generator.experiments.seed_code.run_seed_code` uses them."""
    params = inspect.signature(seed_code.run_seed_code).parameters
    return {k: params[k].default for k in ("samples", "width", "depth")}


def _config_path(path) -> str:
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return path.name


def grid_facts(cfg) -> dict:
    """The content of ``data/grid.json`` for the config ``cfg`` (layout: generator/contract/grid.py)."""
    sections = {
        name: dataclasses.asdict(s)
        for name, s in cfg.sections.items()
        if name != "output" and dataclasses.is_dataclass(s)
    }
    return {
        "format": GRID_FORMAT,
        "config_file": cfg.path.name,
        "config_path": _config_path(cfg.path),
        "default_config": cfg.path.resolve() == DEFAULT_CONFIG.resolve(),
        "sections": list(sections),
        **{
            name: sections.get(name, {})
            for name in ("propagation", "symmetry", "theory", "training", "phase", "trainability")
        },
        "seed_code": seed_code_sizes(),
        "placement": placement(cfg),
    }
