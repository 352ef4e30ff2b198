"""``data/grid.json``: the grid facts the data were computed with, written by the experiments stage.

The CSVs say what was measured; this file says on what grid: the ``[propagation]`` sizes, axes and
thresholds, the symmetry, theory and training settings, the sizes of the source note's code re-runs, the
batch-norm placement runs, and which config file produced it. The figures and render stages read grid
facts only from here, never from ``--config``, and refuse a config that disagrees with it
(generator/pipeline/stages.py ``check_grid``), so a page can never label data with another grid's depth.

Layout (JSON, keys in this order, written by :func:`write_grid`)::

    format          GRID_FORMAT
    config_file     the config's file name ("experiments.toml")
    config_path     its path relative to the repository (the file name when outside it)
    default_config  whether it is the repository's experiments.toml
    sections        the config sections below, in the config's order
    propagation     samples, width, depth, dtype, inits, activations, norms, seeds, hist_bins, diverge_rms
    symmetry        inits, constant, activation, samples, width, depth, learning_rate, seed
    theory          quadrature_points
    training        every [training] field (the training page prints them)
    trainability    every [trainability] field (the recipe of trainability.csv, issue 17)
    seed_code       samples, width, depth of the source note's code re-runs
    placement       activations, inits, seeds of the batch-norm placement comparison, and from_grid
                    (true: the grid's own bn_post rows; false: placement.csv's extra runs)

The config-file fields (:data:`PROVENANCE`) say where the facts came from; they are not facts about
the grid, and :func:`first_difference` ignores them when asked to.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from generator.common import atomic

GRID_FILE = "grid.json"
GRID_FORMAT = 1
PROVENANCE = ("config_file", "config_path", "default_config")
# Required keys of each section (a section may hold more: every field of its config section).
REQUIRED = {
    "propagation": (
        "samples",
        "width",
        "depth",
        "dtype",
        "inits",
        "activations",
        "norms",
        "seeds",
        "hist_bins",
        "diverge_rms",
    ),
    "symmetry": ("inits", "constant", "activation", "samples", "width", "depth", "learning_rate", "seed"),
    "theory": ("quadrature_points",),
    "training": (),
    "trainability": (),
    "seed_code": ("samples", "width", "depth"),
    "placement": ("activations", "inits", "seeds", "from_grid"),
}
# Config sections added after grid.json's format was fixed: a file that does not list one in ``sections``
# (written before it existed, or the golden pages' data) may leave it out; a listed one must be there.
OPTIONAL = ("phase",)
TOP = ("format", *PROVENANCE, "sections", *REQUIRED, *OPTIONAL)


class GridError(ValueError):
    """grid.json is missing, unreadable or not of this layout (the message names the field)."""


class Facts:
    """Read-only attribute view of a JSON object: ``grid.propagation.depth``; lists become tuples."""

    __slots__ = ("_d",)

    def __init__(self, d: dict):
        object.__setattr__(self, "_d", d)

    def __getattr__(self, name: str):
        try:
            return _view(self._d[name])
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        raise AttributeError("grid facts are read-only")

    def __getitem__(self, name: str):
        return _view(self._d[name])

    def __contains__(self, name) -> bool:
        return name in self._d

    def __iter__(self):
        return iter(self._d)

    def get(self, name: str, default=None):
        return _view(self._d[name]) if name in self._d else default

    def keys(self):
        return self._d.keys()

    def items(self):
        return [(k, _view(v)) for k, v in self._d.items()]

    def to_dict(self) -> dict:
        return json.loads(json.dumps(self._d))

    def __eq__(self, other) -> bool:
        return isinstance(other, Facts) and self._d == other._d

    def __repr__(self) -> str:
        return f"Facts({self._d!r})"


def _view(v):
    if isinstance(v, dict):
        return Facts(v)
    if isinstance(v, list):
        return tuple(_view(x) for x in v)
    return v


def _plain(v):
    """Tuples to lists, dicts kept in order: the value as JSON will hold it."""
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, float) and not math.isfinite(v):
        raise GridError(f"grid.json: non-finite number {v!r}")
    return v


def check_facts(facts: dict) -> dict:
    """``facts`` as plain JSON data, or GridError naming the first missing or surplus field."""
    facts = _plain(facts)
    if not isinstance(facts, dict):
        raise GridError("grid.json: not a JSON object")
    for key in TOP:
        if key not in facts and not (key in OPTIONAL and key not in facts.get("sections", ())):
            raise GridError(f"grid.json: field {key} is missing")
    extra = [k for k in facts if k not in TOP]
    if extra:
        raise GridError(f"grid.json: unknown field {extra[0]}")
    if facts["format"] != GRID_FORMAT:
        raise GridError(f"grid.json: format {facts['format']!r}, this code reads format {GRID_FORMAT}")
    for section, keys in REQUIRED.items():
        if not isinstance(facts[section], dict):
            raise GridError(f"grid.json: {section} is not an object")
        for key in keys:
            if key not in facts[section]:
                raise GridError(f"grid.json: field {section}.{key} is missing")
    return facts


def encode(facts: dict) -> bytes:
    """The bytes of grid.json for ``facts`` (keys in the given order, UTF-8, final newline)."""
    return (json.dumps(check_facts(facts), indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def write_grid(data_dir: str | Path, facts: dict) -> Path:
    """Write ``<data_dir>/grid.json`` atomically (left untouched when the bytes are the same)."""
    path = Path(data_dir) / GRID_FILE
    raw = encode(facts)
    try:
        if path.read_bytes() == raw:
            return path
    except OSError:
        pass
    atomic.write_bytes(path, raw)
    return path


def read_grid(data_dir: str | Path) -> Facts:
    """The grid facts of ``<data_dir>/grid.json``; GridError when missing, unreadable or malformed."""
    path = Path(data_dir) / GRID_FILE
    try:
        raw = path.read_text("utf-8")
    except FileNotFoundError:
        raise GridError(f"{path.parent.name}/{GRID_FILE} is missing; run experiments first") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GridError(f"{path.parent.name}/{GRID_FILE} cannot be read ({exc}); run experiments again") from None
    try:
        facts = json.loads(raw)
    except ValueError as exc:
        raise GridError(f"{path.parent.name}/{GRID_FILE} is not JSON ({exc}); run experiments again") from None
    return Facts(check_facts(facts))


def _leaves(v, prefix: str = ""):
    if isinstance(v, dict):
        for k, x in v.items():
            yield from _leaves(x, f"{prefix}.{k}" if prefix else k)
    else:
        yield prefix, v


# Checked first by first_difference: the facts every page labels its numbers with.
KEY_FIELDS = (
    "propagation.depth",
    "propagation.width",
    "propagation.samples",
    "propagation.inits",
    "propagation.activations",
    "propagation.norms",
    "propagation.seeds",
)


def first_difference(a, b, ignore=(), first=KEY_FIELDS) -> tuple[str, object, object] | None:
    """The first field (dotted path: those in ``first``, then ``a``'s order, then ``b``'s extra fields)
    whose values differ between the facts ``a`` and ``b`` (dicts or :class:`Facts`), as
    ``(field, value in a, value in b)``; None when they agree. A field missing on one side has the
    value None there. Top-level keys in ``ignore`` are skipped (e.g. :data:`PROVENANCE`)."""
    a = _plain(a.to_dict() if isinstance(a, Facts) else a)
    b = _plain(b.to_dict() if isinstance(b, Facts) else b)
    a = {k: v for k, v in a.items() if k not in ignore}
    b = {k: v for k, v in b.items() if k not in ignore}
    fa, fb = dict(_leaves(a)), dict(_leaves(b))
    keys = [k for k in first if k in fa or k in fb]
    for key in dict.fromkeys([*keys, *fa, *fb]):
        va, vb = fa.get(key), fb.get(key)
        if va != vb or type(va) is not type(vb):
            return key, va, vb
    return None
