"""Load and validate ``experiments.toml``.

Contract: ``load_config(path)`` returns a frozen :class:`Config` or raises :class:`ConfigError`
whose ``str`` is exactly one line of at most 300 characters, ``config error: <field>: <problem>``,
listing the valid choices where there are any. The CLI prints that line and exits 2, before anything
under ``site/`` is touched.

Each section is a frozen dataclass; a field's ``metadata`` declares what is valid:
``choices`` (a registry or tuple), ``min``/``max`` (inclusive bounds), ``gt`` (exclusive lower bound),
``unique`` and ``nonempty`` (for lists), ``max_items`` (longest list; a unique list of choices is bounded
by its choices). Every float must be finite. ``SECTIONS`` lists every section; ``[training]`` is
declared in training.py, next to the rules that guard it. An unknown key is always an error. Only
``[propagation]`` is required; every other section may be left out and then takes its defaults (``[training]`` included: the training experiments run with its defaults).

Hostile input is bounded before it costs anything: the file is read only if it is a regular file of at
most 1 MiB (so ``/dev/zero`` or a FIFO can never hang the reader), list lengths are checked before their
items, every value shown in a message is shortened, and :func:`load_config` checks the estimated memory
of the propagation grid and of one training run against the memory available (memory.py).
"""

from __future__ import annotations

import codecs
import dataclasses
import math
import os
import stat
import tempfile
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path

from generator.common.errors import MAX_LINE, ConfigError, _short, _short_path  # noqa: F401 (re-exported)
from generator.common.paths import DEFAULT_CONFIG, ROOT
from generator.config.memory import check_memory_fits
from generator.config.phase import PhaseConfig
from generator.config.trainability import TrainabilityConfig
from generator.config.training import MAX_SEED, MAX_SEEDS, TrainingConfig
from generator.engine.activations import ACTIVATIONS
from generator.engine.inits import INITS
from generator.engine.network import NORMS

DTYPES = ("float64", "float32")
REQUIRED_SECTIONS = ("propagation",)

MAX_CONFIG_BYTES = 1 << 20  # experiments.toml is ~3 KB; 1 MiB leaves room for any real grid
NAME_MAX, PATH_MAX = 255, 4096  # Linux limits on one path component / a whole path, in bytes


def _choices(*names) -> dict:
    return {"choices": tuple(names)}


def _seeds() -> dict:
    return {"min": 0, "max": MAX_SEED, "unique": True, "nonempty": True, "max_items": MAX_SEEDS}


@dataclass(frozen=True)
class OutputConfig:
    docs_dir: str = "site/docs"
    public_dir: str = "site/public"
    cache_dir: str = ".cache"


# Maxima: generous for exploring (the defaults are 1000 x 500 x 10), small enough that the memory
# estimate below is what decides whether a grid fits. width and depth bound the weights
# (depth x width^2 per set), samples x width x depth the activations kept for backward, hist_bins the
# histogram rows (tasks x depth x (hist_bins + 2)) that the main process collects.
@dataclass(frozen=True)
class PropagationConfig:
    samples: int = field(default=1000, metadata={"min": 1, "max": 100_000})
    width: int = field(default=500, metadata={"min": 1, "max": 20_000})
    depth: int = field(default=10, metadata={"min": 1, "max": 10_000})
    dtype: str = field(default="float64", metadata=_choices(*DTYPES))
    inits: tuple[str, ...] = field(
        default=tuple(INITS), metadata={**_choices(*INITS), "unique": True, "nonempty": True}
    )
    activations: tuple[str, ...] = field(
        default=tuple(ACTIVATIONS), metadata={**_choices(*ACTIVATIONS), "unique": True, "nonempty": True}
    )
    norms: tuple[str, ...] = field(
        default=("none", "bn"), metadata={**_choices(*NORMS), "unique": True, "nonempty": True}
    )
    seeds: tuple[int, ...] = field(default=(0, 1, 2), metadata=_seeds())
    hist_bins: int = field(default=40, metadata={"min": 2, "max": 10_000})
    # Any finite threshold works (statistics rescale before squaring); below 1 a unit-scale signal
    # would count as diverged at once.
    diverge_rms: float = field(default=1e8, metadata={"min": 1.0})

    def __post_init__(self):
        # Batch statistics need at least two samples: with one, every normalized value is 0.
        if self.samples < 2 and any(n != "none" for n in self.norms):
            raise ConfigError("propagation.samples", f"batch norm needs at least 2 samples, got {self.samples}")


# The symmetry products are formed elementwise (symmetry._matmul: a (samples, width, width) float64
# temporary, for exact equality), so width is bounded tighter: 1000 x 128 x 128 x 8 B = 131 MB.
@dataclass(frozen=True)
class SymmetryConfig:
    inits: tuple[str, ...] = field(
        default=("zeros", "constant", "xavier"),
        metadata={**_choices("constant", *INITS), "unique": True, "nonempty": True},
    )
    constant: float = 0.1  # any finite value, either sign
    activation: str = field(default="tanh", metadata=_choices(*ACTIVATIONS))
    samples: int = field(default=64, metadata={"min": 1, "max": 1000})
    width: int = field(default=16, metadata={"min": 1, "max": 128})
    depth: int = field(default=3, metadata={"min": 1, "max": 100})
    learning_rate: float = field(default=0.1, metadata={"gt": 0.0, "max": 100.0})
    seed: int = field(default=0, metadata={"min": 0, "max": MAX_SEED})


@dataclass(frozen=True)
class TheoryConfig:
    quadrature_points: int = field(default=96, metadata={"min": 8, "max": 400})
    # Layers of the mean-field curves in theory.csv (at least the grid's depth is always computed): deep
    # enough that the asymptotics (q -> 0, q*, or geometric growth) show; the recursion costs microseconds.
    depth: int = field(default=100, metadata={"min": 1, "max": 10_000})


SECTIONS: dict[str, type] = {
    "output": OutputConfig,
    "propagation": PropagationConfig,
    "symmetry": SymmetryConfig,
    "theory": TheoryConfig,
    "training": TrainingConfig,  # config/training.py: the training experiments' grid
    "phase": PhaseConfig,  # config/phase.py: the phase diagram (theory grid and finite-width measurements)
    "trainability": TrainabilityConfig,  # config/trainability.py: sigma_w^2 x depth on digits (issue 17)
}


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
        if ok:
            # TOML has nan, inf and -inf literals, and NaN passes every < / > bound check below.
            try:
                number = float(value)
            except OverflowError:  # an integer beyond the float range
                number = math.inf
            if not math.isfinite(number):
                raise ConfigError(name, f"must be a finite number, got {_short(value)}")
            value = number
    else:
        ok = isinstance(value, tp)
    if not ok:
        raise ConfigError(name, f"must be {_type_name(tp)}, got {_short(value)}")
    if "choices" in meta and value not in meta["choices"]:
        raise ConfigError(name, f"unknown value {_short(value)}; valid: {', '.join(map(str, meta['choices']))}")
    if "min" in meta and value < meta["min"]:
        raise ConfigError(name, f"must be >= {meta['min']}, got {_short(value)}")
    if "gt" in meta and not value > meta["gt"]:
        raise ConfigError(name, f"must be > {meta['gt']}, got {_short(value)}")
    if "max" in meta and value > meta["max"]:
        raise ConfigError(name, f"must be <= {meta['max']}, got {_short(value)}")
    return value


def max_items(meta: dict) -> int | None:
    """The most items a list field may have: ``max_items``, or for a unique list of choices, their number."""
    if "max_items" in meta:
        return meta["max_items"]
    if meta.get("unique") and "choices" in meta:
        return len(meta["choices"])
    return None


def _check_value(name: str, value, tp, meta: dict):
    origin = typing.get_origin(tp)
    if origin is tuple:
        (item_tp, _ellipsis) = typing.get_args(tp)
        if not isinstance(value, list):
            raise ConfigError(name, f"must be a list of {_type_name(item_tp)} values, got {_short(value)}")
        if meta.get("nonempty") and not value:
            choices = meta.get("choices")
            hint = f"; valid: {', '.join(map(str, choices))}" if choices else ""
            raise ConfigError(name, f"is empty: the grid needs at least one value{hint}")
        # The length first: checking millions of items one by one would take seconds before failing.
        limit = max_items(meta)
        if limit is not None and len(value) > limit:
            raise ConfigError(name, f"has {len(value)} items; at most {limit} allowed")
        items = tuple(_check_scalar(f"{name}[{i}]", v, item_tp, meta) for i, v in enumerate(value))
        if meta.get("unique"):
            seen = set()
            for v in items:
                if v in seen:
                    raise ConfigError(name, f"duplicate value {_short(v)}")
                seen.add(v)
        return items
    return _check_scalar(name, value, tp, meta)


def build_section(section: str, raw: dict):
    """Validate one TOML table into its dataclass (unknown keys and bad values raise ConfigError)."""
    cls = SECTIONS[section]
    if not isinstance(raw, dict):
        raise ConfigError(section, f"must be a table, got {_short(raw)}")
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
    missing = [name for name in REQUIRED_SECTIONS if name not in raw]
    if missing:
        raise ConfigError(
            "--config",
            f"missing section {', '.join(f'[{m}]' for m in missing)} in "
            f"{_short_path(path)} (required; every other section has defaults)",
        )
    sections = {name: build_section(name, raw.get(name, {})) for name in SECTIONS}
    return Config(sections=sections, path=Path(path))


def load_config(
    path: str | os.PathLike | None = None,
    *,
    check_writable: bool = True,
    check_memory: bool = True,
    workers: int | None = None,
) -> Config:
    """Read, validate and return the config at ``path`` (default: ``experiments.toml``).

    ``workers``: the worker processes the memory check assumes (default: ``os.cpu_count()``).
    """
    path = Path(path) if path is not None else DEFAULT_CONFIG
    cfg = parse_config(parse_toml(read_config_text(path), path), path)
    if check_memory:
        check_memory_fits(cfg, workers)
    if check_writable:
        for key in ("docs_dir", "public_dir", "cache_dir"):
            _check_writable(f"output.{key}", resolve(getattr(cfg.output, key)))
    return cfg


def _file_kind(mode: int) -> str:
    for test, kind in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return kind
    return "not a file"


def read_config_text(path: str | os.PathLike) -> str:
    """The text of the config file at ``path``, or ConfigError (field ``--config``).

    The path is checked before anything is opened (no NUL, no part over NAME_MAX bytes); only a regular
    file is read (stat first: opening a FIFO would block), at most MAX_CONFIG_BYTES + 1 bytes of it, so
    a device or a huge file costs nothing. The text must be UTF-8 without a BOM (TOML's own encoding).
    """
    text = os.fspath(path)
    name = _short_path(text)
    if "\0" in text:
        raise ConfigError("--config", f"path contains a NUL character: {_short(text)}")
    encoded = os.fsencode(text)
    if len(encoded) > PATH_MAX or any(len(part) > NAME_MAX for part in encoded.split(b"/")):
        raise ConfigError(
            "--config", f"path too long (a part over {NAME_MAX} bytes or the whole over {PATH_MAX}): {name}"
        )
    try:
        st = os.stat(text)
        if not stat.S_ISREG(st.st_mode):
            raise ConfigError("--config", f"{name} is not a regular file ({_file_kind(st.st_mode)})")
        fd = os.open(text, os.O_RDONLY | os.O_CLOEXEC | os.O_NOCTTY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise ConfigError("--config", f"no such file: {name}") from None
    except OSError as exc:
        raise ConfigError("--config", f"cannot open {name}: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)  # the file opened, in case the path was swapped after the stat above
        if not stat.S_ISREG(st.st_mode):
            raise ConfigError("--config", f"{name} is not a regular file ({_file_kind(st.st_mode)})")
        chunks, size = [], 0
        while size <= MAX_CONFIG_BYTES:
            chunk = os.read(fd, MAX_CONFIG_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise ConfigError("--config", f"cannot read {name}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError("--config", f"{name} is larger than {MAX_CONFIG_BYTES >> 20} MiB; a config is a few KB")
    if data.startswith(codecs.BOM_UTF8):
        raise ConfigError("--config", f"{name} starts with a UTF-8 BOM; TOML must be saved as UTF-8 without BOM")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(
            "--config", f"{name} is not UTF-8 text: byte 0x{data[exc.start]:02x} at line {line}, byte {column}"
        ) from None


def parse_toml(text: str, path: str | os.PathLike = "<config>") -> dict:
    """``tomllib.loads(text)``; every parse failure becomes ConfigError (field ``toml``)."""
    try:
        return tomllib.loads(text)
    except (ValueError, RecursionError) as exc:
        # ValueError: TOMLDecodeError, and also an integer of more than 4300 digits (Python's limit);
        # RecursionError: arrays or inline tables nested thousands deep.
        what = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise ConfigError("toml", f"malformed TOML in {_short_path(path)}: {what}") from None


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
