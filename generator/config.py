"""Load and validate ``experiments.toml``.

Contract: ``load_config(path)`` returns a frozen :class:`Config` or raises :class:`ConfigError`
whose ``str`` is exactly one line, ``config error: <field>: <problem>``, listing the valid choices
where there are any. The CLI prints that line and exits 2, before anything under ``site/`` is touched.

Each section is a frozen dataclass; a field's ``metadata`` declares what is valid:
``choices`` (a registry or tuple), ``min``/``max`` (inclusive bounds), ``unique`` (for lists).
Other modules add sections with :func:`register_section` (the training stage does), so the
validation rules live next to the dataclass they guard, and an unknown key is always an error.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path

from .activations import ACTIVATIONS
from .inits import INITS
from .network import NORMS

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "experiments.toml"
DTYPES = ("float64", "float32")


class ConfigError(ValueError):
    """A config problem, reported as one line: ``config error: <field>: <problem>``."""

    def __init__(self, field_name: str, problem: str):
        self.field = field_name
        self.problem = problem
        super().__init__(f"config error: {field_name}: {problem}")


def _choices(*names) -> dict:
    return {"choices": tuple(names)}


@dataclass(frozen=True)
class OutputConfig:
    docs_dir: str = "site/docs"
    public_dir: str = "site/public"
    cache_dir: str = ".cache"


@dataclass(frozen=True)
class PropagationConfig:
    samples: int = field(default=1000, metadata={"min": 1})
    width: int = field(default=500, metadata={"min": 1})
    depth: int = field(default=10, metadata={"min": 1})
    dtype: str = field(default="float64", metadata=_choices(*DTYPES))
    inits: tuple[str, ...] = field(default=tuple(INITS), metadata={**_choices(*INITS), "unique": True, "nonempty": True})
    activations: tuple[str, ...] = field(
        default=tuple(ACTIVATIONS), metadata={**_choices(*ACTIVATIONS), "unique": True, "nonempty": True}
    )
    norms: tuple[str, ...] = field(default=("none", "bn"), metadata={**_choices(*NORMS), "unique": True, "nonempty": True})
    seeds: tuple[int, ...] = field(default=(0, 1, 2), metadata={"min": 0, "unique": True, "nonempty": True})
    hist_bins: int = field(default=40, metadata={"min": 2})
    diverge_rms: float = field(default=1e8, metadata={"min": 1.0})

    def __post_init__(self):
        # Batch statistics need at least two samples: with one, every normalized value is 0.
        if self.samples < 2 and any(n != "none" for n in self.norms):
            raise ConfigError("propagation.samples", f"batch norm needs at least 2 samples, got {self.samples}")


@dataclass(frozen=True)
class SymmetryConfig:
    inits: tuple[str, ...] = field(
        default=("zeros", "constant", "xavier"),
        metadata={**_choices("constant", *INITS), "unique": True, "nonempty": True},
    )
    constant: float = 0.1
    activation: str = field(default="tanh", metadata=_choices(*ACTIVATIONS))
    samples: int = field(default=64, metadata={"min": 1})
    width: int = field(default=16, metadata={"min": 1})
    depth: int = field(default=3, metadata={"min": 1})
    learning_rate: float = field(default=0.1, metadata={"min": 0.0})
    seed: int = field(default=0, metadata={"min": 0})


@dataclass(frozen=True)
class TheoryConfig:
    quadrature_points: int = field(default=96, metadata={"min": 8, "max": 400})


SECTIONS: dict[str, type] = {
    "output": OutputConfig,
    "propagation": PropagationConfig,
    "symmetry": SymmetryConfig,
    "theory": TheoryConfig,
}


def register_section(name: str, cls: type) -> None:
    """Add a config section (a frozen dataclass validated by the same rules)."""
    SECTIONS[name] = cls


@dataclass(frozen=True)
class Config:
    sections: dict
    path: Path

    def __getattr__(self, name):
        try:
            return self.__dict__["sections"][name]
        except KeyError:
            raise AttributeError(name) from None


def _type_name(tp) -> str:
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false"}.get(tp, str(tp))


def _check_scalar(name: str, value, tp, meta: dict):
    if tp is bool:
        ok = isinstance(value, bool)
    elif tp is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif tp is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    else:
        ok = isinstance(value, tp)
    if not ok:
        raise ConfigError(name, f"must be {_type_name(tp)}, got {value!r}")
    if "choices" in meta and value not in meta["choices"]:
        raise ConfigError(name, f"unknown value {value!r}; valid: {', '.join(map(str, meta['choices']))}")
    if "min" in meta and value < meta["min"]:
        raise ConfigError(name, f"must be >= {meta['min']}, got {value!r}")
    if "max" in meta and value > meta["max"]:
        raise ConfigError(name, f"must be <= {meta['max']}, got {value!r}")
    return value


def _check_value(name: str, value, tp, meta: dict):
    origin = typing.get_origin(tp)
    if origin is tuple:
        (item_tp, _ellipsis) = typing.get_args(tp)
        if not isinstance(value, list):
            raise ConfigError(name, f"must be a list of {_type_name(item_tp)} values, got {value!r}")
        if meta.get("nonempty") and not value:
            choices = meta.get("choices")
            hint = f"; valid: {', '.join(map(str, choices))}" if choices else ""
            raise ConfigError(name, f"is empty: the grid needs at least one value{hint}")
        items = tuple(_check_scalar(f"{name}[{i}]", v, item_tp, meta) for i, v in enumerate(value))
        if meta.get("unique"):
            seen = set()
            for v in items:
                if v in seen:
                    raise ConfigError(name, f"duplicate value {v!r}")
                seen.add(v)
        return items
    return _check_scalar(name, value, tp, meta)


def build_section(section: str, raw: dict):
    """Validate one TOML table into its dataclass (unknown keys and bad values raise ConfigError)."""
    cls = SECTIONS[section]
    if not isinstance(raw, dict):
        raise ConfigError(section, "must be a table")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in raw:
        if key not in fields:
            raise ConfigError(f"{section}.{key}", f"unknown key; valid: {', '.join(fields)}")
    values = {key: _check_value(f"{section}.{key}", raw[key], hints[key], dict(fields[key].metadata)) for key in raw}
    return cls(**values)


def parse_config(raw: dict, path: Path = DEFAULT_CONFIG) -> Config:
    for key in raw:
        if key not in SECTIONS:
            raise ConfigError(key, f"unknown section; valid: {', '.join(SECTIONS)}")
    sections = {name: build_section(name, raw.get(name, {})) for name in SECTIONS}
    return Config(sections=sections, path=Path(path))


def load_config(path: str | os.PathLike | None = None, *, check_writable: bool = True) -> Config:
    """Read, validate and return the config at ``path`` (default: ``experiments.toml``)."""
    path = Path(path) if path is not None else DEFAULT_CONFIG
    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError("--config", f"no such file: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("toml", f"malformed TOML in {path}: {exc}") from None
    cfg = parse_config(raw, path)
    if check_writable:
        for key in ("docs_dir", "public_dir", "cache_dir"):
            _check_writable(f"output.{key}", resolve(getattr(cfg.output, key)))
    return cfg


def resolve(p: str | os.PathLike) -> Path:
    """Paths in the config are relative to the project root, not the working directory."""
    p = Path(p)
    return p if p.is_absolute() else ROOT / p


def _check_writable(name: str, target: Path) -> None:
    # Walk up to the first existing ancestor: that is where the directory would be created.
    probe = target
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise ConfigError(name, f"{target} is not writable: {probe} is a file")
    # os.access() says yes to root for any mode bits, so try a real write (a file removed at once).
    try:
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError as exc:
        raise ConfigError(name, f"{target} is not writable ({exc.strerror})") from None


# The training stage keeps its section next to its code; registered here (at the end, because
# generator.training.config imports ConfigError from this module) so every config has it.
from .training.config import TrainingConfig  # noqa: E402

register_section("training", TrainingConfig)
